-- tools/bench/cache_hit.lua DIR N: the median cost of a cache hit (lookup,
-- 5 dependency files validated through the stat cache, a 3 KB result
-- decoded) beside the seed's design, one JSON file read and decoded per
-- lookup. DIR holds f1..f5.txt and entry.json (made by cache.sh).
local cjson = require "cjson"
local core = require "agentflow.core"
local dir, n = arg[1], tonumber(arg[2])

local function median(xs)
  table.sort(xs)
  return xs[#xs // 2 + 1]
end

af.define_agent("bench", {
  run = function() return string.rep("0123456789abcdef", 192) end, -- 3 KB
  files = { dir .. "/f1.txt", dir .. "/f2.txt", dir .. "/f3.txt", dir .. "/f4.txt", dir .. "/f5.txt" },
})
assert(af.agent("bench").status == "success")
require("agentflow._store").flush()

local ours = {}
for i = 1, n do
  local t0 = core.monotonic()
  local r = af.agent("bench")
  ours[i] = core.monotonic() - t0
  assert(r.cached and #r.output == 3072)
end

local seed = {}
for i = 1, n do
  local t0 = core.monotonic()
  local f = io.open(dir .. "/entry.json")
  local e = cjson.decode(f:read("a"))
  f:close()
  seed[i] = core.monotonic() - t0
  assert(#e.output == 3072)
end

print(string.format("cache hit, median of %d:", n))
print(string.format("  agentflow (LMDB, 5 files via the stat cache)  %7.1f us", median(ours) * 1e6))
print(string.format("  seed design (read + decode one JSON file)      %7.1f us", median(seed) * 1e6))
print(string.format("budget: <= 20 us: %s", median(ours) * 1e6 <= 20 and "within budget" or "OVER BUDGET"))
