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
runs=${RUNS:-5}
rounds=${ROUNDS:-4}
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
# Rounds alternate the two commands, so that both see the same load on a
# shared machine: the medians are over every run of every round.
for round in $(seq "$rounds"); do
	AGENTFLOW_HOME="$work/home2" hyperfine -N --warmup 1 --runs "$runs" \
		--export-json "$work/r$round.json" "ninja -C $work" "$af $here/rerun.lua $n" >/dev/null 2>&1
done
"$af" - "$n" "$work"/r*.json <<'LUA'
local cjson = require "cjson"
local times, ratios = { {}, {} }, {}
local function median(xs)
  table.sort(xs)
  local n = #xs
  return n % 2 == 1 and xs[(n + 1) // 2] or (xs[n // 2] + xs[n // 2 + 1]) / 2
end
for i = 2, #arg do
  local f = assert(io.open(arg[i]))
  local r = cjson.decode(f:read("a")).results
  f:close()
  for c = 1, 2 do
    for _, t in ipairs(r[c].times) do
      table.insert(times[c], t)
    end
  end
  ratios[#ratios + 1] = r[2].median / r[1].median
end
local ninja, ours = median(times[1]), median(times[2])
table.sort(ratios)
print(string.format("all-hit rerun of %s steps, %d runs each in %d alternating rounds (hyperfine):",
  arg[1], #times[1], #ratios))
print(string.format("  ninja no-op build       %7.0f ms median", ninja * 1000))
print(string.format("  agentflow all hits      %7.0f ms median  (%.1f us/step, %.2fx ninja;"
  .. " rounds %.2fx to %.2fx)", ours * 1000, ours / tonumber(arg[1]) * 1e6, ours / ninja, ratios[1],
  ratios[#ratios]))
print(string.format("budget: <= 500 ms and <= 2x ninja: %s",
  (ours <= 0.5 and ours <= 2 * ninja) and "within budget" or "OVER BUDGET"))
LUA
