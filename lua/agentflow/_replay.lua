--- Replay during `agentflow resume`: a step whose agent and key (the cache
-- key, computed for every step) match a completed journal record returns
-- the recorded result without running. Records are matched at the step's
-- position first; parallel branches that make several calls may start them
-- in another order than the first run did, so a record of the same agent
-- and key elsewhere in the journal that no step has claimed yet matches
-- too. A step recorded as `started` runs again (at least once: the executor
-- gets the same idempotency key), and so does one that failed. A step that
-- matches no record, where the journal holds another one at its position,
-- ends replay with a warning naming both; from there the run goes on as a
-- fresh one (the cache still answers unchanged steps).
--
-- `agentflow resume RUN --from CHECKPOINT` forks: a new run replays RUN's
-- journal up to the checkpoint's step and executes from there.
local core = require "agentflow.core"
local journal = require "agentflow._journal"

local M = {}

local ended = false
local by_step, by_key -- the source run's records: by position; unclaimed ones by agent + key

--- The run whose journal is replayed, and the last step replayed (nil: all).
function M.source()
  return core.options.resume or core.options.parent, tonumber(core.options.replay_until)
end

--- Whether replay is going on (it ends at the first step that differs).
function M.active()
  return not ended and (core.options.resume or core.options.parent) ~= nil
end

local function stop(fmt, ...)
  ended = true
  if fmt then
    require("agentflow._run").warn(fmt, ...)
  end
end

local function load(run_id, until_step)
  by_step, by_key = {}, {}
  for _, rec in ipairs(journal.steps(run_id)) do
    if not until_step or rec.step <= until_step then
      by_step[rec.step] = rec
      local k = tostring(rec.agent) .. "\0" .. tostring(rec.key)
      by_key[k] = by_key[k] or {}
      table.insert(by_key[k], rec)
    end
  end
end

-- The first unclaimed record of `agent` and `key`, preferring the one at
-- `step`; claimed by taking it.
local function claim(step, agent, key)
  local list = by_key[agent .. "\0" .. tostring(key)]
  if not list or #list == 0 then
    return nil
  end
  local at = 1
  for i, rec in ipairs(list) do
    if rec.step == step then
      at = i
      break
    end
  end
  return table.remove(list, at)
end

--- The recorded result of step `step` (agent `agent`, key `key`), or nil
-- when it has to run (or be answered by the cache).
function M.result(step, agent, key)
  if not M.active() then
    return nil
  end
  local run_id, until_step = M.source()
  if until_step and step > until_step then
    stop()
    return nil
  end
  if not by_step then
    load(run_id, until_step)
  end
  local rec = claim(step, agent, key)
  if not rec then
    local there = by_step[step]
    if there then
      stop("step %d: the workflow differs from the journal (recorded %s, now %s%s); replay ends here",
        step, tostring(there.agent), agent, there.agent == agent and " with other inputs" or "")
    end
    return nil
  end
  if rec.state ~= "completed" or rec.cached then
    return nil -- started or failed: it runs again; a hit: the cache answers
  end
  local r = journal.result_of(rec)
  r.replayed = true
  return r
end

return M
