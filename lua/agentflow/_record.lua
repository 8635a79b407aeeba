--- The recording of values a workflow run reads (_values.lua says which
-- and why): each is kept under "RUN_ID/values/ID" and committed with the
-- next step; while a resume replays, the recorded value is returned.
local ident = require "agentflow._ident"
local replay = require "agentflow._replay"
local run = require "agentflow._run"
local store = require "agentflow._store"

local M = {}

--- The next value of `kind`: recorded on replay, else live(...) —
-- recorded for a later replay.
function M.read(kind, live, ...)
  local s = store.get()
  local id = ident.next_value()
  local v
  if s and replay.active() then
    local raw = s:get("journal", replay.source() .. "/values/" .. id)
    local k, x = (raw or ""):match("^(%a+) (.+)$")
    if k == kind then
      v = math.tointeger(tonumber(x)) or tonumber(x)
    end
  end
  if v == nil then
    v = live(...)
  end
  if s then
    store.later({ "journal", run.id() .. "/values/" .. id,
      string.format(math.type(v) == "integer" and "%s %d" or "%s %.17g", kind, v) })
  end
  return v
end

return M
