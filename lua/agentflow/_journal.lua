--- The run journal: one record per step, under "RUN_ID/NNNNNN" in the
-- journal database. A step that ran is committed at once (it cost time or
-- money); a cache hit waits for the next commit, since a rerun reproduces it.
local cjson = require "cjson.safe"
local store = require "agentflow._store"

local M = {}

local function step_key(run_id, step)
  return string.format("%s/%06d", run_id, step)
end

--- Record the end of a step: `rec` holds run_id, step, agent, status,
-- cached, key, lineage (for `why`), error, finished_at.
function M.step(rec)
  local op = { "journal", step_key(rec.run_id, rec.step), cjson.encode(rec) }
  if rec.cached then
    store.later(op)
  else
    store.commit({ op })
  end
end

--- The record of step `step` of run `run_id`, or nil.
function M.get(run_id, step)
  local s = store.get()
  local raw = s and s:get("journal", step_key(run_id, step))
  return raw and cjson.decode(raw) or nil
end

return M
