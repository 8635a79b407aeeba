--- One step's path, from its beginning to its end. Every step of a run
-- takes it, whatever answers it: an agent call, a process (af.exec), the
-- cache, the journal of the run being resumed.
--
--   begin → key (once) → replay → lookup (once) → journal `started`
--         → run → store → journal end → end
--
-- A kind of step gives the parts that differ, as a table `k`:
--   name, executor, prompt   what the "step started" record names
--   kind                     "agent" or "exec", as the journal keeps it
--   key(step, sid)           the step's key and its cache identity (nil
--                            without a store); may raise
--   plan(step, id)           under `agentflow plan`: the planned result (no
--                            journal, nothing runs)
--   lookup(id)               the cache's answer: a result record or nil
--   when                     when `started` is committed: "now", "spawn"
--                            (with the process group) or "later" (_journal.lua)
--   durable                  whether the end is committed before the
--                            workflow sees it
--   run(slot, id)            run the step; `slot` is where the journal keeps
--                            it (a process it spawns is recorded there)
--   finish(r, step, started) fill the result record; may return the error
--                            that fails the workflow
--   record(rec, r, id)       (optional) add fields to the journal record
--   ended(step)              (optional) called once the step has ended, however
local core = require "agentflow.core"
local journal = require "agentflow._journal"
local log = require "agentflow.log"
local plan = require "agentflow._plan"
local replay = require "agentflow._replay"
local run = require "agentflow._run"
local steps = require "agentflow._steps"

local M = {}

-- The "step started" record (DEBUG).
local function log_started(k, step)
  if log.enabled("DEBUG") then
    log.write("DEBUG", "step", "step started", { step = step, agent = k.name, executor = k.executor,
      prompt = (k.prompt or ""):sub(1, 300) })
  end
end

-- A step answered by the cache: its record filled, and its journal line.
local function answered(k, r, key, step, sid, started)
  local failure = k.finish(r, step, started)
  journal.hit(run.id(), run.attempt(), step, sid, k.name, key)
  return r, failure
end

-- The journal record of the end of step `step` that ran with result `r`.
local function end_record(k, r, key, id, step, sid, slot)
  local now = core.now()
  local rec = { run_id = run.id(), step = step, sid = sid, slot = slot, attempt = run.attempt(),
    kind = k.kind, agent = k.name, key = key, status = r.status, error = r.error, reason = r.reason,
    started_at = now - (r.duration or 0), finished_at = now }
  if k.record then
    k.record(rec, r, id)
  end
  return rec
end

-- The path after the key: the result record and the error that fails the
-- workflow, if any.
local function path(k, key, id, step, sid, started)
  if k.plan and plan.active() then
    return k.plan(step, id)
  end
  local r = key and replay.result(step, sid, k.name, key)
  if r then
    return r, k.finish(r, step, started)
  end
  r = k.lookup and k.lookup(id)
  if r then
    return answered(k, r, key, step, sid, started)
  end
  local slot
  if key then
    local attempt = run.attempt()
    slot = replay.slot(sid, k.name, key, attempt)
    journal.started(run.id(), step, sid, slot, k.name, key, k.when, k.kind, attempt)
  end
  r = k.run(slot, id)
  local failure = k.finish(r, step, started)
  if key then
    journal.step(end_record(k, r, key, id, step, sid, slot), r, k.durable)
  end
  return r, failure
end

--- Run a step of kind `k` (see above) and return its result record; a
-- failure that fails the workflow is raised once the step has ended.
function M.run(k)
  local started = core.monotonic()
  local step, sid = steps.begin_step(k.name)
  log_started(k, step)
  -- a key that cannot be made is an error at the call, before the step runs
  local key, id = k.key(step, sid)
  local ok, r, failure = pcall(path, k, key, id, step, sid, started)
  if k.ended then
    k.ended(step)
  end
  if not ok then
    steps.end_step(k.name, nil)
    error(r, 0)
  end
  steps.end_step(k.name, r)
  if failure then
    error(failure, 0)
  end
  return r
end

--- A step the cache answers before anything else is done for it: the
-- lookup and end of M.run's path, for a step whose key is known at once
-- (k.lookup gets `key`). It is begun and ended together, so a miss costs
-- no step: then nil and why ("ttl" or "miss"). Not the run's first step,
-- whose beginning records the run's start: nil for that one.
function M.at_once(k, key)
  local started = core.monotonic()
  local step, sid = steps.next_step()
  if step == 1 then
    return nil
  end
  local r, why = k.lookup(key)
  if not r then
    return nil, why
  end
  log_started(k, step)
  answered(k, r, key, step, sid, started)
  steps.step_at_once(k.name, r)
  return r
end

return M
