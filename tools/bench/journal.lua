-- tools/bench/journal.lua N: the cost of committing one step record (a
-- journal write of ~300 bytes in its own transaction), as agentflow
-- commits it (to the kernel at once, to disk at most every 50 ms) and
-- with a flush to disk (fsync) after every commit, for comparison.
local cjson = require "cjson"
local core = require "agentflow.core"
local store = require "agentflow._store"
local n = tonumber(arg[1])
local s = store.get()

local function median(xs)
  table.sort(xs)
  return xs[#xs // 2 + 1]
end

local rec = cjson.encode({ state = "completed", step = 1, agent = "code-reviewer",
  key = string.rep("a", 32), result = { status = "success", output = string.rep("x", 200) } })
local function measure(sync)
  local times = {}
  for i = 1, n do
    local t0 = core.monotonic()
    s:write({ { "journal", string.format("bench/%06d", i), rec } })
    if sync then
      s:sync()
    end
    times[i] = core.monotonic() - t0
  end
  return median(times)
end
print(string.format("step commit, median of %d:", n))
print(string.format("  as agentflow commits (flush every 50 ms)  %8.1f us", measure(false) * 1e6))
print(string.format("  with fsync after each commit              %8.1f us", measure(true) * 1e6))
