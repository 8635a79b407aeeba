--- Replay during `agentflow resume`: a step whose stable identity
-- (_ident.lua) holds a completed journal record of the same agent and key
-- (the cache key, computed for every step) returns the recorded result
-- without running, whatever order the branches start in this time. A step
-- recorded as `started` runs again (at least once: the executor gets the
-- same idempotency key, and the process group the record names is ended
-- first: see journal.end_orphans), and so does one that failed. A step
-- whose record is of another agent or key ends replay with a warning naming
-- both; from there the run goes on as a fresh one (the cache still answers
-- unchanged steps), writing beside finished records, never over them.
--
-- `agentflow resume RUN --from CHECKPOINT` forks: a new run replays RUN's
-- journal up to the checkpoint's step and executes from there; the records
-- it replays are copied into its own journal.
local core = require "agentflow.core"
local journal = require "agentflow._journal"
local run = require "agentflow._run"

local M = {}

local ended = false
local rp -- the source run's records (journal.replay), false without; nil until loaded

--- The run whose journal is replayed, and the last step replayed (nil: all).
function M.source()
  return core.options.resume or core.options.parent, tonumber(core.options.replay_until)
end

--- Whether this run continues another's journal (a resume or a fork).
function M.resuming()
  return (core.options.resume or core.options.parent) ~= nil
end

--- Whether replay is going on (it ends at the first step that differs).
function M.active()
  return not ended and M.resuming()
end

local function load()
  if rp == nil then
    rp = M.resuming() and journal.replay(M.source()) or false
  end
  return rp
end

--- The number step `sid` had in the source run's journal, or nil for a
-- step new to the run; and the highest number there.
function M.number(sid)
  local records = load()
  if not records then
    return nil, 0
  end
  local _, rec = records:claim(sid, "", "")
  return rec and rec.step, records:last()
end

--- Where the record of step `sid` (agent `agent`, key `key`) goes in this
-- run's journal: under its identity, unless a finished record of another
-- step is there (the workflow changed): then beside it, under
-- "SID~ATTEMPT". In a fork the journal is the fork's own: always `sid`.
function M.slot(sid, agent, key, attempt)
  local records = load()
  if core.options.parent or not records then
    return sid
  end
  return records:slot(sid, agent, key, attempt)
end

--- The recorded result of step `sid` (number `step`, agent `agent`, key
-- `key`), or nil when it has to run (or be answered by the cache).
function M.result(step, sid, agent, key)
  if not M.active() then
    return nil
  end
  local run_id, until_step = M.source()
  if until_step and step > until_step then
    ended = true
    return nil
  end
  local records = load()
  local claim, rec = "none", nil
  if records then
    claim, rec = journal.claim(records, sid, agent, key)
  end
  if claim == "differs" then
    ended = true
    run.warn(
      "step %d: the workflow differs from the journal (recorded %s, now %s%s); replay ends here",
      step, tostring(rec.agent), agent, rec.agent == agent and " with other inputs" or "")
    return nil
  end
  if claim ~= "replay" then
    return nil -- new, started or failed: it runs; a hit: the cache answers
  end
  if run_id ~= core.options.resume then
    journal.copy(run.id(), rec)
  end
  local r = journal.result_of(rec)
  r.replayed = true
  return r
end

return M
