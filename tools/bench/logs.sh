#!/usr/bin/env bash
# tools/bench/logs.sh [AGENTFLOW] - the structured log's speed, with
# baselines measured in the same run:
#   1. records/s from the C writer and from af.log.info, beside raw write(2)
#      of records of the same size (budgets: 300,000/s and 200,000/s);
#   2. `logs query` over a log of SIZE_MB (default 1024) MB, beside `grep -c`
#      and `jq` on the same file (budget: >= 300 MB/s).
set -euo pipefail
af=$(realpath "${1:-build/agentflow}")
root=$(cd "$(dirname "$0")/../.." && pwd)
size_mb=${SIZE_MB:-1024}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

cc -O2 -D_GNU_SOURCE -I"$root/core" -o "$work/log_write" "$root/tools/bench/log_write.c" "$root/core/log.c" "$root/core/error.c"
"$work/log_write" 1000000 "$work/w"
AGENTFLOW_HOME="$work/home" AGENTFLOW_LOG_MAX_BYTES=$((1 << 40)) "$af" "$root/tools/bench/log_lua.lua" 500000

# A big log: the records just written, repeated; some of them errors.
mkdir -p "$work/q/logs"
big="$work/q/logs/agentflow.jsonl"
head -n 20000 "$work/w.log.jsonl" >"$work/chunk"
sed -n '1,200p' "$work/chunk" | sed 's/"level":"INFO"/"level":"ERROR"/' >>"$work/chunk"
while [ "$(stat -c %s "$big" 2>/dev/null || echo 0)" -lt $((size_mb * 1024 * 1024)) ]; do
	cat "$work/chunk" "$work/chunk" "$work/chunk" "$work/chunk" >>"$big"
done
bytes=$(stat -c %s "$big")
cat "$big" >/dev/null # the page cache holds it for every contender
mbps() { awk -v b="$bytes" -v t="$1" 'BEGIN { printf "%8.0f MB/s", b / 1048576 / t }'; }
timeit() {
	local t0 t1
	t0=$(date +%s.%N)
	"$@" >"$work/out" # not /dev/null: GNU grep stops at the first match there
	t1=$(date +%s.%N)
	awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }'
}
echo "logs query over $((bytes / 1048576)) MB:"
t=$(timeit grep -c '"level":"ERROR"' "$big")
echo "  grep -c ERROR                     $(mbps "$t")"
t=$(timeit jq -c 'select(.level == "ERROR")' "$big")
echo "  jq select(.level == ERROR)        $(mbps "$t")"
t=$(timeit env AGENTFLOW_HOME="$work/q" "$af" logs query --level error --json)
q=$(mbps "$t")
echo "  agentflow logs query --level error $q"
t=$(timeit env AGENTFLOW_HOME="$work/q" "$af" logs query --json)
echo "  agentflow logs query (everything) $(mbps "$t")"
awk -v b="$bytes" -v t="$t" 'BEGIN { exit !(b / 1048576 / t >= 300) }' && v="within budget" || v="OVER BUDGET"
echo "budget: >= 300 MB/s: $v"
