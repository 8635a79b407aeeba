--- Run records: one per run of a workflow, kept by the journal
-- (_journal.lua, core/journal.c), keyed by run id. Made at the run's first
-- step, updated when it ends; a record still "running" whose process is
-- gone reads as "interrupted". A record the journal cannot read (written
-- by another version of agentflow) reads as "unreadable".
local core = require "agentflow.core"
local journal = require "agentflow._journal"
local log = require "agentflow.log"
local run = require "agentflow._run"
local store = require "agentflow._store"
local util = require "agentflow._util"

local M = {}

--- Run ids are made of [A-Za-z0-9._-]: checked wherever one comes from outside.
function M.valid_id(id)
  return type(id) == "string" and id ~= "" and #id <= 128 and not id:find("[^%w._-]")
end

local current -- the record of this process's run, once written

local function write(rec)
  journal.put_run(rec)
end

--- Why a run of each kind but "workflow" cannot be resumed: nothing keeps
-- the code it ran.
M.NOT_RESUMABLE = {
  repl = "is a REPL session: REPL sessions cannot be resumed",
  chunk = "ran -e chunks, which are not kept: only a script run on its own can be resumed",
  stdin = "ran a script read from standard input, which is not kept: it cannot be resumed",
}

--- The kind of run `rec` is: "workflow" (a script, resumable), "repl",
-- "chunk" (-e chunks, with or without a script) or "stdin". Records made
-- before kinds were kept are told by whether they have a script.
function M.kind(rec)
  return rec.kind or (rec.script and "workflow" or "chunk")
end

-- What this process runs: its kind, the name `runs` shows, and for a
-- workflow script its path and hash.
local function origin()
  local session, script = core.options.session, core.script_path()
  if session == "repl" then
    return "repl", "(repl)"
  elseif session or not script then
    return "chunk", script and script:match("[^/]*$") or "(-e)"
  elseif script == "-" then
    return "stdin", "(stdin)"
  end
  return "workflow", script:match("[^/]*$"), core.realpath(script), core.hash_file(script)
end

--- Write the record of run `id` as it starts (or resumes): the workflow,
-- its arguments, this process.
function M.begin(id)
  if current or core.options.plan or not store.get() then
    return
  end
  local args = {}
  for i = 1, #(arg or {}) do
    args[i] = arg[i]
  end
  local previous = M.get(id)
  local kind, workflow, script, hash = origin()
  current = {
    run_id = id,
    kind = kind,
    workflow = workflow,
    script = script,
    script_hash = hash,
    args = args,
    pid = core.pid(),
    pid_start = core.pid_start(),
    host = core.hostname(),
    status = "running",
    started_at = previous and previous.started_at or core.now(),
    resumed_at = previous and core.now() or nil,
    resumes = previous and (previous.resumes or 0) + 1 or nil,
    parent = core.options.parent,
  }
  run.state.attempt = current.resumes or 0
  write(current)
  log.write("INFO", "run", previous and "run resumed" or "run started",
    { workflow = current.workflow, args = current.args, parent = current.parent })
end

--- How long ended runs are kept (seconds): AGENTFLOW_RETENTION (a
-- duration like "30d"), else 30 days. Pruned at most once a day, when a
-- run ends, so that journals and blobs never grow without bound.
M.RETENTION = 30 * 86400

--- Delete the runs that ended more than `age` seconds ago, with their
-- journals, then the journal blobs nothing uses any more. Returns the runs
-- removed.
function M.prune(age)
  return journal.prune(core.now() - age, current and current.run_id)
end

local function retention()
  local env = core.environ().AGENTFLOW_RETENTION
  return env and util.seconds(env) or M.RETENTION
end

-- Prune once a day at most (the journal keeps the time of the last one).
local function maybe_prune()
  journal.maybe_prune(retention(), current.run_id)
end

--- Close this process's run record with `status`, the step counts and the
-- workflow's (outermost) pattern.
function M.finish(status, counts, duration, pattern)
  if not current then
    return
  end
  current.pattern = pattern
  current.status = status
  current.finished_at = core.now()
  current.steps = counts
  current.duration = duration
  write(current)
  log.write(status == "failed" and "ERROR" or status == "done" and "INFO" or "WARN",
    "run", "run ended", { workflow = current.workflow, status = status, duration = duration,
      steps = counts, cost_usd = run.spent(), pattern = pattern })
  maybe_prune()
end

-- Close, as its journal tells it, the record of a run whose process died
-- before it could: the steps that ended (by status, as M.finish counts
-- them), and the time of the last journal record as its end, so that it
-- reads like a run that ended. Steps still running when it died, and
-- records not yet committed, are not counted.
local function close_from_journal(rec)
  local began = rec.resumed_at or rec.started_at or 0
  local counts, last = {}, began
  for _, step in ipairs(journal.steps(rec.run_id)) do
    if step.state ~= "started" then
      local status = step.result and step.result.status or step.status or "success"
      counts[status] = (counts[status] or 0) + 1
    end
    last = math.max(last, step.finished_at or step.started_at or 0)
  end
  rec.steps = counts
  rec.finished_at = last
  rec.duration = last - began
end

-- Run record `rec` as M.get gives it: "interrupted" when it says running
-- but its process is gone (a process with the same id that started at
-- another time is another process): its steps, end and duration then come
-- from the journal. "unreadable" (with `damaged` saying why) when the
-- journal cannot read it.
local function settled(rec)
  if rec.damaged then
    rec.status, rec.workflow = "unreadable", "?"
    return rec
  end
  if rec.status == "running" and rec.pid ~= core.pid()
      and (rec.host ~= core.hostname() or not core.pid_alive(rec.pid, rec.pid_start)) then
    rec.status = "interrupted"
    close_from_journal(rec)
  end
  return rec
end

--- The record of run `id` (see settled), or nil when there is none.
function M.get(id)
  local rec = journal.run(id)
  return rec and settled(rec)
end

--- Every run record, newest first.
function M.list()
  local out = journal.runs()
  for _, rec in ipairs(out) do
    settled(rec)
  end
  table.sort(out, function(a, b) return (a.started_at or 0) > (b.started_at or 0) end)
  return out
end

return M
