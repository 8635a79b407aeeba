--- The recording of values a workflow run reads (_values.lua says which
-- and why): each is kept under "RUN_ID/values/ID" and committed with the
-- next step; while a resume replays, the recorded value is returned.
local ident = require "agentflow._ident"
local journal = require "agentflow._journal"
local replay = require "agentflow._replay"
local run = require "agentflow._run"

local M = {}

--- The next value of `kind`: recorded on replay, else live(...) —
-- recorded for a later replay.
function M.read(kind, live, ...)
  local id = ident.next_value()
  local v
  if replay.active() then
    local k, x = journal.value(replay.source(), id)
    if k == kind then
      v = math.tointeger(tonumber(x)) or tonumber(x)
    end
  end
  if v == nil then
    v = live(...)
  end
  journal.record_value(run.id(), id, kind, string.format(math.type(v) == "integer" and "%d" or "%.17g", v))
  return v
end

return M
