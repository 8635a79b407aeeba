#!/usr/bin/env bash
# tools/bench/cold-start.sh [AGENTFLOW] - start-up time of `agentflow -e ''`
# beside `lua5.4 -e ''`, measured in the same run with hyperfine.
# Budget: at most 2x lua5.4, and under 5 ms median.
set -euo pipefail
af=${1:-build/agentflow}
runs=${RUNS:-1000}
json=$(mktemp)
trap 'rm -f "$json"' EXIT

hyperfine -N --warmup 50 --runs "$runs" --export-json "$json" \
	"lua5.4 -e ''" "$af -e ''" >/dev/null 2>&1

"$af" - "$json" <<'LUA'
local f = assert(io.open(arg[1]))
local results = require("cjson").decode(f:read("a")).results
f:close()
local base, ours = results[1], results[2]
local function ms(s) return s * 1000 end
print(string.format("cold start, %d runs each (hyperfine)       median     mean      min", #ours.times))
for _, r in ipairs(results) do
  print(string.format("  %-36s %6.2f ms %6.2f ms %6.2f ms", r.command, ms(r.median), ms(r.mean), ms(r.min)))
end
local ratio = ours.median / base.median
print(string.format("ratio %.2fx lua5.4 (budget 2x); median %.2f ms (budget 5 ms): %s", ratio,
  ms(ours.median), (ratio <= 2 and ms(ours.median) < 5) and "within budget" or "OVER BUDGET"))
LUA
