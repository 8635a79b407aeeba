#!/usr/bin/env bash
# tools/bench/steps.sh [AGENTFLOW] - engine overhead per process step.
#
# 1,000 runs of /bin/true at 1 and 4 at a time, side by side in one run:
#   raw      a C loop of posix_spawn + wait (tools/bench/raw_spawn.c)
#   ninja    ninja -jJ over 1,000 edges whose command is /bin/true
#   make     make -jJ over 1,000 phony targets (exec'd without a shell)
#   exec     agentflow: af.parallel of af.exec({"/bin/true"}), max = J
#   agent    agentflow: af.parallel of a command agent running /bin/true
#            (for reference: an agent step also commits its journal record)
# Budget (af.exec): at most 100 us per step above raw, and no slower than
# ninja at the same J.
set -euo pipefail
af=$(realpath "${1:-build/agentflow}")
n=${STEPS:-1000}
runs=${RUNS:-10}
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

cc -O2 -o "$work/raw_spawn" "$here/raw_spawn.c"
{
	printf 'rule run\n  command = /bin/true\n'
	for i in $(seq "$n"); do printf 'build t%d: run\n' "$i"; done
} >"$work/build.ninja"
{
	printf '.PHONY: all'
	for i in $(seq "$n"); do printf ' t%d' "$i"; done
	printf '\nall:'
	for i in $(seq "$n"); do printf ' t%d' "$i"; done
	printf '\n'
	for i in $(seq "$n"); do printf 't%d:\n\t@/bin/true\n' "$i"; done
} >"$work/Makefile"

cmds=()
for j in 1 4; do
	cmds+=("$work/raw_spawn $n $j /bin/true"
		"ninja -C $work -j$j"
		"make -s -C $work -j$j"
		"$af $here/steps.lua $n $j exec"
		"$af $here/steps.lua $n $j agent")
done
AGENTFLOW_PROGRESS=off hyperfine -N --warmup 1 --runs "$runs" --export-json "$work/r.json" \
	"${cmds[@]}" >/dev/null 2>&1

"$af" - "$work/r.json" "$n" <<'LUA'
local f = assert(io.open(arg[1]))
local results = require("cjson").decode(f:read("a")).results
f:close()
local n = tonumber(arg[2])
local function label(cmd)
  local j = cmd:match("raw_spawn %d+ (%d)") or cmd:match("%-j(%d)") or cmd:match("steps%.lua %d+ (%d)")
  local what = cmd:match("raw_spawn") and "raw posix_spawn" or cmd:match("^ninja") and "ninja"
    or cmd:match("^make") and "make" or "agentflow " .. cmd:match("(%a+)$")
  return what, tonumber(j)
end
print(string.format("%d x /bin/true, %d runs each (hyperfine median)", n, #results[1].times))
print(string.format("  %-22s %2s %10s %10s %14s", "", "J", "total", "per step", "above raw"))
local raw, ninja, verdict = {}, {}, true
for _, r in ipairs(results) do
  local what, j = label(r.command)
  local per = r.median / n * 1e6
  if what == "raw posix_spawn" then raw[j] = per end
  if what == "ninja" then ninja[j] = per end
  local over = per - raw[j]
  local note = ""
  if what == "agentflow exec" then
    local ok = over <= 100 and per <= ninja[j]
    verdict = verdict and ok
    note = ok and "  within budget" or "  OVER BUDGET"
  end
  print(string.format("  %-22s %2d %8.0f ms %7.0f us %+11.0f us%s", what, j, r.median * 1000, per, over, note))
end
print("budget: <= 100 us per step above raw, no slower than ninja: "
  .. (verdict and "within budget" or "OVER BUDGET"))
LUA
