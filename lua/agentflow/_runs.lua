--- Run records: one per run of a workflow, in the runs database, keyed by
-- run id. Made at the run's first step, updated when it ends; a record
-- still "running" whose process is gone reads as "interrupted".
local cjson = require "cjson.safe"
local core = require "agentflow.core"
local store = require "agentflow._store"

local M = {}

--- Run ids are made of [A-Za-z0-9._-]: checked wherever one comes from outside.
function M.valid_id(id)
  return type(id) == "string" and id ~= "" and #id <= 128 and not id:find("[^%w._-]")
end

local current -- the record of this process's run, once written

local function write(rec)
  store.commit({ { "runs", rec.run_id, cjson.encode(rec) } })
end

local function script_hash(path)
  return path and core.hash_file(path) or nil
end

--- Write the record of run `id` as it starts (or resumes): the workflow,
-- its arguments, this process.
function M.begin(id)
  if current or core.options.plan or not store.get() then
    return
  end
  local script = core.script_path()
  local args = {}
  for i = 1, #(arg or {}) do
    args[i] = arg[i]
  end
  local previous = M.get(id)
  current = {
    run_id = id,
    workflow = script and (script:match("[^/]*$")) or "(chunk)",
    script = script and core.realpath(script) or nil,
    script_hash = script and script_hash(script),
    args = args,
    pid = core.pid(),
    host = core.hostname(),
    status = "running",
    started_at = previous and previous.started_at or core.now(),
    resumed_at = previous and core.now() or nil,
    resumes = previous and (previous.resumes or 0) + 1 or nil,
    parent = core.options.parent,
  }
  write(current)
end

--- Close this process's run record with `status` and the step counts.
function M.finish(status, counts, duration)
  if not current then
    return
  end
  current.status = status
  current.finished_at = core.now()
  current.steps = counts
  current.duration = duration
  write(current)
end

--- The record of run `id`, with status "interrupted" when it says
-- running but its process is gone. Nil when there is none.
function M.get(id)
  local s = store.exists() and store.get()
  local raw = s and s:get("runs", id)
  local rec = raw and cjson.decode(raw)
  if type(rec) ~= "table" then
    return nil
  end
  if rec.status == "running" and rec.pid ~= core.pid()
      and (rec.host ~= core.hostname() or not core.pid_alive(rec.pid)) then
    rec.status = "interrupted"
  end
  return rec
end

--- Every run record, newest first.
function M.list()
  local s = store.exists() and store.get()
  if not s then
    return {}
  end
  local keys = s:scan("runs")
  local out = {}
  for _, id in ipairs(keys) do
    out[#out + 1] = M.get(id)
  end
  table.sort(out, function(a, b) return (a.started_at or 0) > (b.started_at or 0) end)
  return out
end

return M
