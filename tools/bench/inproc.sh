#!/usr/bin/env bash
# tools/bench/inproc.sh [AGENTFLOW] - scheduler overhead of in-process steps.
#
# 100,000 steps, side by side in one run with the Lua interpreter:
#   lua5.4 yield        a coroutine resume/yield pair in plain Lua (baseline)
#   agentflow sleep     af.sleep(0) in a loop: a full trip through the loop
#   agentflow agent     af.agent on a Lua agent (cache = false) in a loop: for
#                       reference, it adds the result record and the journal
#   agentflow parallel  af.parallel{max = 4} of af.sleep(0) steps
# Budget: at most 5 us of scheduler overhead per step (af.sleep(0) and the
# parallel steps). Then peak memory of 10,000 command-agent
# steps under af.parallel{max = 4} (budget 64 MiB).
set -euo pipefail
af=$(realpath "${1:-build/agentflow}")
n=${STEPS:-100000}
runs=${RUNS:-10}
here=$(cd "$(dirname "$0")" && pwd)
json=$(mktemp)
trap 'rm -f "$json"' EXIT

AGENTFLOW_PROGRESS=off hyperfine -N --warmup 1 --runs "$runs" --export-json "$json" \
	"lua5.4 $here/inproc.lua $n yield" \
	"$af $here/inproc.lua $n yield" \
	"$af $here/inproc.lua $n sleep" \
	"$af $here/inproc.lua $n agent" \
	"$af $here/steps.lua $n 4 sleep" >/dev/null 2>&1

"$af" - "$json" "$n" <<'LUA'
local f = assert(io.open(arg[1]))
local results = require("cjson").decode(f:read("a")).results
f:close()
local n = tonumber(arg[2])
local names = { "lua5.4 yield (baseline)", "agentflow yield", "agentflow af.sleep(0)",
  "agentflow Lua agent (reference)", "agentflow parallel{max=4}" }
print(string.format("%d in-process steps, %d runs each (hyperfine median)", n, #results[1].times))
local verdict = true
for i, r in ipairs(results) do
  local per = r.median / n * 1e6
  local note = ""
  if i == 3 or i == 5 then
    verdict = verdict and per <= 5
    note = per <= 5 and "  within budget" or "  OVER BUDGET"
  end
  print(string.format("  %-28s %8.0f ms %7.2f us/step%s", names[i], r.median * 1000, per, note))
end
print("budget: <= 5 us per step: " .. (verdict and "within budget" or "OVER BUDGET"))
LUA

mem=$(AGENTFLOW_PROGRESS=off "$af" "$here/steps.lua" 10000 4 agent 2>&1 >/dev/null | grep "peak RSS")
mib=$(echo "$mem" | awk '/peak RSS/ {print $3}')
verdict=$(awk -v m="$mib" 'BEGIN { print (m <= 64) ? "within budget" : "OVER BUDGET" }')
echo "10000 command-agent steps under af.parallel{max=4}: $mem (budget 64 MiB): $verdict"
