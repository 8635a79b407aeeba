--- The project's LMDB store (.agentflow/store), opened once per process,
-- and the writes waiting for the next commit.
--
-- Writes that must survive a crash (a paid-for result, a journal record of
-- a step that ran) are committed at once with whatever is pending; cheap
-- ones (stat-cache records, hit counters, journal records of cache hits,
-- which a rerun reproduces) wait and share that commit, or the one at the
-- end of the run. A store that cannot be opened because the state
-- directory is read-only turns caching off with one warning; a damaged one
-- is an error (exit 74) that says how to reset it.
local core = require "agentflow.core"
local run = require "agentflow._run"
local util = require "agentflow._util"

local M = {}

local opened, store = false, nil
local pending = {}
local MAX_PENDING = 2000

--- The directory of the store: <state dir>/store.
function M.dir()
  local state = core.state_dir()
  return state and state .. "/store"
end

--- Whether a store exists (without creating one).
function M.exists()
  local dir = M.dir()
  local f = dir and io.open(dir .. "/data.mdb", "rb")
  if f then
    f:close()
  end
  return f ~= nil
end

local function warn(msg)
  run.warn("%s", msg)
end

--- The store, or nil when it cannot be used (after one warning). Under
-- `agentflow plan` a store that does not exist yet is not made: nothing
-- is cached, and a plan leaves no trace.
function M.get()
  if opened then
    return store
  end
  opened = true
  if core.options.plan and not M.exists() then
    return nil
  end
  local dir, err = core.state_dir(true)
  if dir then
    store, err = core.store_open(dir .. "/store", tonumber(core.environ().AGENTFLOW_MAP_SIZE))
  end
  if not store then
    if err and err:find("is damaged", 1, true) then
      error(util.exit_error(74, err), 0)
    end
    warn("the cache and the journal are off: " .. tostring(err))
    return nil
  end
  run.on_finish(M.flush)
  return store
end

--- Queue `op` ({db, key, value | false [, add]}) for the next commit.
-- `agentflow plan` writes nothing: there, writes are dropped.
function M.later(op)
  if core.options.plan then
    return
  end
  pending[#pending + 1] = op
  if #pending >= MAX_PENDING then
    M.flush()
  end
end

--- Commit `ops` (may be nil) together with everything pending, durably.
function M.commit(ops)
  local s = M.get()
  if not s or core.options.plan then
    return
  end
  local all = pending
  pending = {}
  for _, op in ipairs(ops or {}) do
    all[#all + 1] = op
  end
  if #all > 0 then
    s:write(all)
  end
end

--- Commit what is pending.
function M.flush()
  if #pending > 0 then
    M.commit()
  end
end

return M
