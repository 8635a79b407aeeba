--- The current run: its id, step numbers, what is running, warnings, and
-- the summary printed when the workflow ends.
local core = require "agentflow.core"
local ident = require "agentflow._ident"
local log = require "agentflow.log"
local progress = require "agentflow._progress"
local replay = require "agentflow._replay"
local util = require "agentflow._util"

local M = {}

local state = {
  id = nil,
  steps = 0,          -- steps begun
  last = 0,           -- the highest step number handed out
  done = 0,
  running = {},       -- names of the agents running, in start order
  by_status = {},     -- status -> count
  degraded = {},      -- reasons the run is degraded
  started = core.monotonic(),
}

-- A new run id: UTC time and 4 random bytes, "20261124T101500Z-3fa2c01b".
local function new_id()
  local f = io.open("/dev/urandom", "rb")
  local bytes = f and f:read(4) or string.pack("<I4", math.random(0, 0xffffffff))
  if f then
    f:close()
  end
  return os.date("!%Y%m%dT%H%M%SZ") .. "-" .. (bytes:gsub(".", function(c)
    return string.format("%02x", c:byte())
  end))
end

--- The run id (the resumed run's, else a new one made on first use).
-- Stable for the process.
function M.id()
  if not state.id then
    state.id = core.options.resume or new_id()
  end
  return state.id
end

local function snapshot()
  return {
    done = state.done,
    total = state.steps,
    elapsed = core.monotonic() - state.started,
    running = state.running,
  }
end

--- How many steps have begun.
function M.steps()
  return state.steps
end

--- The attempt of the run this process makes: 0, then one more per resume.
function M.attempt()
  return require("agentflow._runs").attempt()
end

-- Before the run's first step: its record, and in a resumed run the end of
-- the processes the last attempt left running.
local function first_step()
  require("agentflow._runs").begin(M.id())
  if core.options.resume and not core.options.plan then
    local n = require("agentflow._journal").end_orphans(M.id())
    if n > 0 then
      log.write("WARN", "journal", "ended leftover processes", { groups = n })
      M.warn("ended %d process group%s left running by the interrupted attempt", n, n == 1 and "" or "s")
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
    require("agentflow._live").step_started(name)
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
    require("agentflow._live").step_ended(name, r)
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
-- and identity are M.next_step()'s, which the caller gave the record; its
-- log record is written unless `logged`.
function M.step_at_once(name, r, logged)
  state.steps = state.steps + 1
  state.last = state.last + 1
  ident.next()
  if core.options.metrics_addr then
    require("agentflow._live").step_started(name)
  end
  count_end(name, r)
  if not logged then
    log_end(name, r)
  end
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

--- Note that the workflow used pattern `name`; the run record keeps the
-- first (the workflow's outermost pattern).
function M.note_pattern(name)
  state.pattern = state.pattern or name
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
  if state.steps == 0 or core.options.plan or not require("agentflow._store").get() then
    return
  end
  require("agentflow._journal").checkpoint(M.id(), label, state.last)
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

--- Print a warning on stderr.
function M.warn(fmt, ...)
  progress.message("warning: " .. string.format(fmt, ...))
end

--- Mark the run degraded, with a warning that says why.
function M.degrade(reason)
  table.insert(state.degraded, reason)
  log.write("WARN", "run", "degraded", { reason = reason })
  M.warn("%s; the run continues degraded", reason)
end

--- Whether the run is degraded, and the reasons.
function M.degraded()
  return #state.degraded > 0, state.degraded
end

local ORDER = { "success", "degraded", "skipped", "failed", "planned", "canceled" }

local finish_hooks = {}

--- Call fn() when the run ends (before the summary): flushing stores.
function M.on_finish(fn)
  finish_hooks[#finish_hooks + 1] = fn
end

--- Called by the host when the workflow has ended (ok: it did not raise;
-- interrupted: by SIGINT/SIGTERM): clears the status line and prints the
-- run's summary when it ran steps.
function M.finish(ok, interrupted)
  progress.clear()
  for _, fn in ipairs(finish_hooks) do
    fn()
  end
  if core.options.plan then
    require("agentflow._plan").summary()
    return
  end
  local outcome = interrupted and "interrupted" or not ok and "failed"
    or (#state.degraded > 0 and "degraded" or "done")
  require("agentflow._runs").finish(outcome, state.by_status, core.monotonic() - state.started,
    state.pattern)
  require("agentflow._ci").finish(M.id(), outcome, state.degraded)
  if state.steps > 0 and progress.enabled() then
    local parts = {}
    for _, status in ipairs(ORDER) do
      if state.by_status[status] then
        parts[#parts + 1] = string.format("%d %s", state.by_status[status], status)
      end
    end
    local total = require("agentflow._agent").spent()
    io.stderr:write(string.format("agentflow: run %s %s: %d steps (%s) in %s%s\n", M.id(), outcome,
      state.done, table.concat(parts, ", "), util.format_seconds(core.monotonic() - state.started),
      total > 0 and string.format(", $%.4f spent", total) or ""))
  end
  if interrupted and state.steps > 0 then
    io.stderr:write(string.format("agentflow: resume with: agentflow resume %s\n", M.id()))
  end
end

return M
