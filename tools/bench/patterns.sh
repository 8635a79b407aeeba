#!/usr/bin/env bash
# tools/bench/patterns.sh [AGENTFLOW] - the cost of one pattern selection,
# over every description of tests/patterns/*.tsv, beside the Lua
# interpreter's own cost of normalising the same texts (lower + gsub).
# Budget: <= 50 us per selection.
set -euo pipefail
af=$(realpath "${1:-build/agentflow}")
here=$(cd "$(dirname "$0")/../.." && pwd)
"$af" - "$here"/tests/patterns/*.tsv <<'LUA'
local core = require "agentflow.core"
local patterns = require "agentflow.patterns"
local texts = {}
for i = 1, #arg do
  for line in io.lines(arg[i]) do
    local text = line:match("^[^#\t]+\t(.+)$")
    if text then texts[#texts + 1] = text end
  end
end
local rounds = 50
local function per_call(fn)
  local t0 = core.monotonic()
  for _ = 1, rounds do
    for _, text in ipairs(texts) do fn(text) end
  end
  return (core.monotonic() - t0) / (rounds * #texts) * 1e6
end
local base = per_call(function(s) return (s:lower():gsub("[^%w ]", "")) end)
local ours = per_call(patterns.select)
print(string.format("%d descriptions x %d rounds:", #texts, rounds))
print(string.format("  lower + gsub (baseline)   %6.2f us", base))
print(string.format("  patterns.select            %6.2f us", ours))
print(string.format("budget: <= 50 us per selection: %s", ours <= 50 and "within budget" or "OVER BUDGET"))
LUA
