#!/usr/bin/env bash
# tools/bench/cache.sh [AGENTFLOW] - the cache's speed, beside baselines
# measured in the same run:
#   1. one hit (lookup, 5 dependency files through the stat cache, a 3 KB
#      result decoded) vs reading and decoding one JSON file per entry, the
#      seed's design. Budget: <= 20 us median.
#   2. an all-hit rerun of 10,000 steps vs a no-op `ninja` build of 10,000
#      targets. Budget: <= 0.5 s and at most 2x ninja.
set -euo pipefail
af=$(realpath "${1:-build/agentflow}")
n=${STEPS:-10000}
runs=${RUNS:-10}
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export AGENTFLOW_PROGRESS=off

for i in 1 2 3 4 5; do head -c 2000 /dev/urandom | base64 >"$work/f$i.txt"; done
"$af" -e "io.open('$work/entry.json', 'w'):write(require('cjson').encode({output = string.rep('0123456789abcdef', 192), status = 'success'}))"
touch -d '-1 minute' "$work"/f*.txt
AGENTFLOW_HOME="$work/home1" "$af" "$here/cache_hit.lua" "$work" 20000

{
	printf 'rule touch\n  command = touch $out\n'
	for i in $(seq "$n"); do printf 'build out/t%d: touch\n' "$i"; done
} >"$work/build.ninja"
ninja -C "$work" >/dev/null
AGENTFLOW_HOME="$work/home2" "$af" "$here/rerun.lua" "$n"
AGENTFLOW_HOME="$work/home2" hyperfine -N --warmup 1 --runs "$runs" --export-json "$work/r.json" \
	"ninja -C $work" "$af $here/rerun.lua $n" >/dev/null 2>&1
"$af" - "$work/r.json" "$n" <<'LUA'
local f = assert(io.open(arg[1]))
local r = require("cjson").decode(f:read("a")).results
f:close()
local ninja, ours = r[1].median, r[2].median
print(string.format("all-hit rerun of %s steps, %d runs each (hyperfine median):", arg[2], #r[1].times))
print(string.format("  ninja no-op build       %7.0f ms", ninja * 1000))
print(string.format("  agentflow all hits      %7.0f ms  (%.1f us/step, %.2fx ninja)", ours * 1000,
  ours / tonumber(arg[2]) * 1e6, ours / ninja))
print(string.format("budget: <= 500 ms and <= 2x ninja: %s",
  (ours <= 0.5 and ours <= 2 * ninja) and "within budget" or "OVER BUDGET"))
LUA
