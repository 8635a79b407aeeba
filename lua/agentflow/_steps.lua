--- The run's steps as they begin and end: their numbers and identities,
-- what is running, the counts, the log records and progress lines,
-- retries, checkpoints and degradation; and what closing a run takes (its
-- record, the CI reports, the summary line). The state it keeps is in
-- _run.lua.
local ci = require "agentflow._ci"
local core = require "agentflow.core"
local ident = require "agentflow._ident"
local journal = require "agentflow._journal"
local live = require "agentflow._live"
local log = require "agentflow.log"
local plan = require "agentflow._plan"
local progress = require "agentflow._progress"
local replay = require "agentflow._replay"
local run = require "agentflow._run"
local runs = require "agentflow._runs"
local store = require "agentflow._store"
local util = require "agentflow._util"

local M = {}

local state = run.state

local function snapshot()
  return {
    done = state.done,
    total = state.steps,
    elapsed = core.monotonic() - state.started,
    running = state.running,
  }
end

-- Before the run's first step: its record, and in a resumed run the end of
-- the processes the last attempt left running.
local function first_step()
  runs.begin(run.id())
  if core.options.resume and not core.options.plan then
    local n = journal.end_orphans(run.id())
    if n > 0 then
      log.write("WARN", "journal", "ended leftover processes", { groups = n })
      run.warn("ended %d process group%s left running by the interrupted attempt", n, n == 1 and "" or "s")
    end
  end
end

-- The number of a new step `sid`: the one it had in the journal being
-- resumed, else the next free one.
local function number(sid)
  local n, recorded = replay.number(sid)
  if not n then
    state.last = math.max(state.last, recorded) + 1
    n = state.last
  end
  return n
end

--- A new step for agent `name`: returns its number and its stable
-- identity (_ident.lua), and marks it running.
function M.begin_step(name)
  if state.steps == 0 then
    first_step()
  end
  state.steps = state.steps + 1
  local sid = ident.next()
  local step = number(sid)
  local running = state.running
  running[#running + 1] = name
  if core.options.metrics_addr then
    live.step_started(name)
  end
  if progress.enabled() then
    progress.event(snapshot(), string.format("%s: started (step %d)", name, step))
  end
  return step, sid
end

-- The run's counts of a step that ended with `r` (nil: cancelled); returns
-- the result record it counted.
local function count_end(name, r)
  if core.options.metrics_addr then
    live.step_ended(name, r)
  end
  r = r or { status = "canceled" }
  state.done = state.done + 1
  state.by_status[r.status] = (state.by_status[r.status] or 0) + 1
  return r
end

-- The "step ended" record of a step that ended with `r`.
local function log_end(name, r)
  local bad = r.status == "failed" or r.status == "skipped" or r.status == "canceled"
  log.step(bad and "WARN" or "INFO", name, r)
end

-- The progress line of a step that ended with `r`.
local function end_text(name, r)
  local text = string.format("%s: %s in %s", name, r.status, util.format_seconds(r.duration or 0))
  if r.cached then
    text = text .. " (cached)"
  end
  if r.error and r.status ~= "success" then
    text = text .. ": " .. tostring(r.error):match("[^\n]*")
  end
  return text
end

--- The step of agent `name` ended with result `r` (nil: it was cancelled).
function M.end_step(name, r)
  local running = state.running
  for i = #running, 1, -1 do -- most often the last one started
    if running[i] == name then
      if i == #running then
        running[i] = nil
      else
        table.remove(running, i)
      end
      break
    end
  end
  r = count_end(name, r)
  log_end(name, r)
  if progress.enabled() then
    progress.event(snapshot(), end_text(name, r))
  end
end

--- The number and identity the next step takes when begun by
-- M.step_at_once: in a run that resumes none, the next of each.
function M.next_step()
  return state.last + 1, ident.peek()
end

--- A step of agent `name` that the cache answered at once with result `r`
-- (a hit found before the call was prepared, in a run that resumes none):
-- begin_step and end_step in one, without showing it running. Its number
-- and identity are M.next_step()'s, which the caller gave the record.
function M.step_at_once(name, r)
  state.steps = state.steps + 1
  state.last = state.last + 1
  ident.next()
  if core.options.metrics_addr then
    live.step_started(name)
  end
  count_end(name, r)
  log_end(name, r)
  if progress.enabled() then
    progress.event(snapshot(), string.format("%s: started (step %d)", name, state.last))
    progress.event(snapshot(), end_text(name, r))
  end
end

--- Attempt `attempt` of agent `name` failed with `r`; the next starts in
-- `delay` seconds.
function M.retrying(name, attempt, delay, r)
  log.write("WARN", "step", "retry", { agent = name, attempt = attempt,
    delay = delay, reason = r.reason, error = r.error })
  progress.event(snapshot(), string.format("%s: attempt %d failed (%s); retrying in %s", name,
    attempt, tostring(r.error or r.reason or "failed"):match("[^\n]*"), util.format_seconds(delay)))
end

local checkpoint_counts = {}

--- Mark a checkpoint in the journal at the current step: `label` as
-- given (af.checkpoint), or, with `pattern`, an automatic one named
-- "PATTERN#N". `agentflow resume RUN --from LABEL` forks from it.
function M.checkpoint(label, pattern)
  if pattern then
    checkpoint_counts[pattern] = (checkpoint_counts[pattern] or 0) + 1
    label = pattern .. "#" .. checkpoint_counts[pattern]
  end
  if state.steps == 0 or core.options.plan or not store.get() then
    return
  end
  journal.checkpoint(run.id(), label, state.last)
  log.write("INFO", "journal", "checkpoint", { label = label, step = state.last })
end

--- af.checkpoint(label)
function M.user_checkpoint(label)
  if type(label) ~= "string" or label == "" or label:find("[/%s]") then
    util.fail(1, "bad argument #1 to 'af.checkpoint' (a label without spaces or '/' expected, got %s)",
      type(label) == "string" and string.format("%q", label) or util.typename(label))
  end
  M.checkpoint(label)
end

--- Mark the run degraded, with a warning that says why.
function M.degrade(reason)
  table.insert(state.degraded, reason)
  log.write("WARN", "run", "degraded", { reason = reason })
  run.warn("%s; the run continues degraded", reason)
end

local ORDER = { "success", "degraded", "skipped", "failed", "planned", "canceled" }

-- The summary line of a run that ran steps, on stderr.
local function summary(outcome)
  local parts = {}
  for _, status in ipairs(ORDER) do
    if state.by_status[status] then
      parts[#parts + 1] = string.format("%d %s", state.by_status[status], status)
    end
  end
  local total = run.spent()
  io.stderr:write(string.format("agentflow: run %s %s: %d steps (%s) in %s%s\n", run.id(), outcome,
    state.done, table.concat(parts, ", "), util.format_seconds(core.monotonic() - state.started),
    total > 0 and string.format(", $%.4f spent", total) or ""))
end

--- Close the run when the workflow has ended (_run.finish, after its
-- hooks): the plan's summary under `agentflow plan`; else the run record,
-- the CI reports and the summary line when it ran steps. Returns an exit
-- code for the run when closing it failed (a CI report not written).
function M.finish(ok, interrupted)
  if core.options.plan then
    plan.summary()
    return
  end
  local outcome = interrupted and "interrupted" or not ok and "failed"
    or (#state.degraded > 0 and "degraded" or "done")
  runs.finish(outcome, state.by_status, core.monotonic() - state.started, state.pattern)
  local code = ci.finish(run.id(), outcome, state.degraded)
  if state.steps > 0 and progress.enabled() then
    summary(outcome)
  end
  if interrupted and state.steps > 0 then
    io.stderr:write(string.format("agentflow: resume with: agentflow resume %s\n", run.id()))
  end
  return code
end

return M
