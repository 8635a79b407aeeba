-- tools/bench/journal.lua N: the journal's per-step costs.
--   1. committing one step record (~300 bytes, its own transaction)
--      through the journal, as agentflow commits it (to the kernel at
--      once, to disk at most every 50 ms) and with a flush to disk (fsync)
--      after every commit, for comparison;
--   2. recording a cache hit (journal.hit: a line in the journal's C
--      buffer, a chunk written every 4,096), beside the same line added to
--      a core.lines buffer (what core/lua_hit.c does) and an empty Lua
--      call with the same arguments (budget: well under 1 us).
local core = require "agentflow.core"
local journal = require "agentflow._journal"
local store = require "agentflow._store"
local n = tonumber(arg[1])
local s = store.get()

local function median(xs)
  table.sort(xs)
  return xs[#xs // 2 + 1]
end

local output = string.rep("x", 200)
local function measure(sync)
  local times = {}
  for i = 1, n do
    local t0 = core.monotonic()
    journal.step({ run_id = "bench", step = i, sid = "main/" .. i, slot = "main/" .. i, agent = "code-reviewer",
      key = string.rep("a", 32), status = "success", started_at = 0, finished_at = 0 },
      { status = "success", output = output }, true)
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

-- Per hit of a rerun of `calls` all-hit steps, the lines written to the
-- store by its end, best of 5 runs (each under a run id of its own).
local calls = 10000
local sids, key = {}, string.rep("b", 32)
for i = 1, calls do
  sids[i] = "main/" .. i
end
local function per_hit(record, finish)
  local best = math.huge
  for round = 1, 5 do
    local run_id = "bench-" .. round .. "-" .. tostring(finish):sub(-6)
    local t0 = core.monotonic()
    for i = 1, calls do
      record(run_id, i, sids[i], key)
    end
    finish(run_id)
    best = math.min(best, core.monotonic() - t0)
  end
  return best / calls
end
-- The previous journal's way: lua_hit.c's core.lines buffer, each chunk a store write.
local lines = core.lines()
local function write_chunk(run_id)
  if lines:count() > 0 then
    local text = lines:take()
    s:write({ { "journal", run_id .. "/hits/0/" .. text:match("^%d+"), text } })
  end
end
local function empty() end
print(string.format("cache hit recorded, per hit of a %d-step all-hit run, written by its end, best of 5:", calls))
print(string.format("  journal.hit, then the journal's flush     %8.3f us", per_hit(function(run_id, i, sid, k)
  journal.hit(run_id, 0, i, sid, "code-reviewer", k)
end, journal.flush) * 1e6))
print(string.format("  core.lines add, a store write per chunk   %8.3f us", per_hit(function(run_id, i, sid, k)
  if lines:add(i, sid, k, "code-reviewer") >= 4096 then
    write_chunk(run_id)
  end
end, write_chunk) * 1e6))
print(string.format("  an empty Lua call with those arguments    %8.3f us", per_hit(function(run_id, i, sid, k)
  empty(run_id, 0, i, sid, "code-reviewer", k)
end, empty) * 1e6))
