#!/usr/bin/env bash
# tools/bench/patterns.sh [AGENTFLOW] - the cost of one pattern selection
# (rules + learned weights), over every description of tests/patterns/*/*.tsv,
# beside the Lua interpreter's own cost of normalising the same texts
# (lower + gsub), measured in the same run. Each text is timed over a batch
# of calls; the figures are the median and the 90th percentile over texts.
# Budget: <= 50 us median per selection.
set -euo pipefail
af=$(realpath "${1:-build/agentflow}")
here=$(cd "$(dirname "$0")/../.." && pwd)
"$af" - "$here"/tests/patterns/*/*.tsv <<'LUA'
local core = require "agentflow.core"
local patterns = require "agentflow.patterns"
local texts = {}
for i = 1, #arg do
  for line in io.lines(arg[i]) do
    local text = line:match("^[^#\t]+\t(.+)$")
    if text then texts[#texts + 1] = text end
  end
end
local batch = 20
-- Per text: microseconds per call over a batch; then the median and p90.
local function per_text(fn)
  local each = {}
  for i, text in ipairs(texts) do
    local t0 = core.monotonic()
    for _ = 1, batch do fn(text) end
    each[i] = (core.monotonic() - t0) / batch * 1e6
  end
  table.sort(each)
  return each[(#each + 1) // 2], each[math.ceil(#each * 0.9)]
end
patterns.select(texts[1])
local base, base90 = per_text(function(s) return (s:lower():gsub("[^%w ]", "")) end)
local ours, ours90 = per_text(patterns.select)
print(string.format("%d descriptions x %d calls each:      median      p90", #texts, batch))
print(string.format("  lower + gsub (baseline)          %6.2f us %6.2f us", base, base90))
print(string.format("  patterns.select                  %6.2f us %6.2f us", ours, ours90))
print(string.format("budget: <= 50 us median per selection: %s", ours <= 50 and "within budget" or "OVER BUDGET"))
LUA
