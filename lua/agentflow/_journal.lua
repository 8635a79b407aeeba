--- The run journal: one record per step, under "RUN_ID/NNNNNN" in the
-- journal database. A step that ran is committed at once (it cost time or
-- money); a cache hit waits for the next commit, since a rerun reproduces it.
local cjson = require "cjson.safe"
local store = require "agentflow._store"

local M = {}

local function step_key(run_id, step)
  return string.format("%s/%06d", run_id, step)
end

--- Record the end of a step that ran: `rec` holds run_id, step, agent,
-- status, cached, key, lineage (for `why`), error, finished_at. With
-- `durable`, committed at once (the step had effects outside agentflow);
-- otherwise it waits for the next commit (an in-process step that a
-- replay can simply run again).
function M.step(rec, durable)
  local op = { "journal", step_key(rec.run_id, rec.step), cjson.encode(rec) }
  if durable then
    store.commit({ op })
  else
    store.later(op)
  end
end

-- Steps answered by the cache, kept as lines "STEP KEY AGENT" and written
-- in chunks under "RUN_ID/hits/FIRST_STEP": a hit costs a table insert.
local hits, hits_run, first_hit = {}, nil, nil
local CHUNK = 4096

local function write_hits()
  if #hits > 0 then
    store.later({ "journal", string.format("%s/hits/%06d", hits_run, first_hit),
      table.concat(hits, "\n") })
    hits, first_hit = {}, nil
  end
end

--- Record a step answered by the cache entry `key`.
function M.hit(run_id, step, agent, key)
  if not hits_run then
    require("agentflow._run").on_finish(function()
      write_hits()
      store.flush()
    end)
  end
  hits_run, first_hit = run_id, first_hit or step
  hits[#hits + 1] = step .. " " .. key .. " " .. agent
  if #hits >= CHUNK then
    write_hits()
  end
end

local function find_hit(s, run_id, step)
  local _, chunks = s:scan("journal", run_id .. "/hits/")
  for _, chunk in ipairs(chunks) do
    local key, agent = chunk:match("%f[^\n%z]" .. step .. " (%x+) ([^\n]*)")
    if key then
      return { run_id = run_id, step = step, agent = agent, key = key, cached = true,
        status = "success" }
    end
  end
end

--- The record of step `step` of run `run_id`, or nil.
function M.get(run_id, step)
  local s = store.get()
  if not s then
    return nil
  end
  local raw = s:get("journal", step_key(run_id, step))
  if raw then
    return cjson.decode(raw)
  end
  return find_hit(s, run_id, step)
end

return M
