--- Time and randomness a workflow reads are journaled, so that a resumed
-- run sees the values the first run saw and takes the same path: af.now(),
-- os.time() without arguments, math.random. Each value read is kept under
-- "RUN_ID/values/ID", ID naming it after the branch that read it
-- (_ident.lua: parallel branches read in another order when resumed), and
-- committed with the next step; while a resume replays, reads return the
-- recorded values. Outside a workflow run (the REPL, -e) they are the live
-- values, unrecorded.
local core = require "agentflow.core"

local M = {}

-- The recording read (_record.lua), reached through the context install()
-- was given: it needs the store and the journal, which a start that runs
-- no workflow (-e, the REPL) never loads.
local context

local function recording()
  return core.options.workflow ~= nil and core.options.plan == nil
end

--- The next value of `kind` ("now", "time", "random"): in a workflow run
-- recorded (or replayed), else live(...).
function M.read(kind, live, ...)
  if not recording() then
    return live(...)
  end
  return context._record_value(kind, live, ...)
end

local live_time, live_random = os.time, math.random

--- Route os.time() and math.random through the journal (once per state);
-- `ctx` is af, whose lazy field _record_value loads the recording read.
function M.install(ctx)
  context = ctx
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
