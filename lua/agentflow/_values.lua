--- Time and randomness a workflow reads are journaled, so that a resumed
-- run sees the values the first run saw and takes the same path: af.now(),
-- os.time() without arguments, math.random. Each value read is kept under
-- "RUN_ID/values/ID", ID naming it after the branch that read it
-- (_ident.lua: parallel branches read in another order when resumed), and
-- committed with the next step; while a resume replays, reads return the
-- recorded values. Outside a workflow run (the REPL, -e) they are the live
-- values, unrecorded.
local core = require "agentflow.core"
local ident = require "agentflow._ident"

local M = {}

local function recording()
  return core.options.workflow ~= nil and core.options.plan == nil
end

--- The next value of `kind` ("now", "time", "random"): recorded on replay,
-- else live() — recorded for a later replay.
function M.read(kind, live, ...)
  if not recording() then
    return live(...)
  end
  local store = require("agentflow._store")
  local s = store.get()
  local id = ident.next_value()
  local v
  local replay = require("agentflow._replay")
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
    store.later({ "journal", require("agentflow._run").id() .. "/values/" .. id,
      string.format(math.type(v) == "integer" and "%s %d" or "%s %.17g", kind, v) })
  end
  return v
end

local live_time, live_random = os.time, math.random

--- Route os.time() and math.random through the journal (once per state).
function M.install()
  os.time = function(t)
    if t ~= nil then
      return live_time(t)
    end
    return M.read("time", live_time)
  end
  math.random = function(...)
    return M.read("random", live_random, ...)
  end
end

return M
