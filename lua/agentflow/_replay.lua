--- Replay during `agentflow resume`: a step whose position, agent and key
-- match a completed journal record returns the recorded result without
-- running. A step recorded as `started` runs again (at least once: the
-- executor gets the same idempotency key), and so does one that failed. The first step that differs
-- from the record ends replay, with a warning naming both; after that the
-- run goes on as a fresh one (the cache still answers unchanged steps).
--
-- `agentflow resume RUN --from CHECKPOINT` forks: a new run replays RUN's
-- journal up to the checkpoint's step and executes from there.
local core = require "agentflow.core"
local journal = require "agentflow._journal"

local M = {}

local ended = false

--- Whether this process is replaying a run.
--- The run whose journal is replayed, and the last step replayed (nil: all).
function M.source()
  return core.options.resume or core.options.parent, tonumber(core.options.replay_until)
end

--- Whether replay is going on (it ends at the first step that differs).
function M.active()
  return M.source() ~= nil and not ended
end

local function stop(fmt, ...)
  ended = true
  if fmt then
    require("agentflow._run").warn(fmt, ...)
  end
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
  local rec = journal.get(run_id, step)
  if not rec then
    stop()
    return nil
  end
  if rec.agent ~= agent or rec.key ~= key then
    stop("step %d: the workflow differs from the journal (recorded %s, now %s%s); replay ends here",
      step, tostring(rec.agent), agent, rec.agent == agent and " with other inputs" or "")
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
