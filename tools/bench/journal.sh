#!/usr/bin/env bash
# tools/bench/journal.sh [AGENTFLOW] - the journal's speed:
#   1. one durable step commit (budget: <= 1 ms median), as agentflow does
#      it and with an fsync per commit beside it; a cache hit's journal line
#      (budget: well under 1 us) beside lua_hit.c's buffer and an empty call;
#   2. resuming a 1,000-step run where every step replays (budget: <= 100
#      ms), beside the same workflow's first, executing run.
set -euo pipefail
af=$(realpath "${1:-build/agentflow}")
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export AGENTFLOW_PROGRESS=off AGENTFLOW_HOME="$work/home"
cd "$work"

"$af" "$here/journal.lua" 2000

cat >replay.lua <<'LUA'
af.define_agent("true", { command = { "/bin/true" }, cache = false })
af.define_agent("wait", { command = { "sh", "-c", "touch waiting; while [ ! -e go ]; do sleep 0.01; done" },
  cache = false })
for i = 1, 1000 do
  af.agent("true", { prompt = "step " .. i })
end
af.agent("wait")
LUA
best_first=999999 best_resume=999999
for round in 1 2 3; do
	rm -f waiting go
	t0=$(date +%s%N)
	"$af" replay.lua 2>/dev/null &
	pid=$!
	while [ ! -e waiting ]; do sleep 0.005; done
	t1=$(date +%s%N)
	kill -INT $pid
	wait $pid || true
	id=$("$af" runs --json | jq -r '.[0].run_id')
	touch go
	t2=$(date +%s%N)
	"$af" resume "$id" >/dev/null 2>&1
	t3=$(date +%s%N)
	first=$(((t1 - t0) / 1000000)) resume=$(((t3 - t2) / 1000000))
	[ $first -lt $best_first ] && best_first=$first
	[ $resume -lt $best_resume ] && best_resume=$resume
done
echo "1,000-step run, best of 3:"
echo "  first run, executing 1,000 x /bin/true   ${best_first} ms"
echo "  resume, replaying all 1,000 steps        ${best_resume} ms"
[ $best_resume -le 100 ] && verdict="within budget" || verdict="OVER BUDGET"
echo "budget: resume <= 100 ms: $verdict"
