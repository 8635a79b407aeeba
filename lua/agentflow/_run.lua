--- The current run's state: its id, the attempt, step counts, what is
-- running, why it is degraded, what it has spent, and the hooks called when
-- it ends. Nothing here acts on a step: _steps.lua begins and ends them and
-- closes the run. This module sits at the bottom of the library, so that
-- the store, the journal and the log can name the run without requiring
-- anything above them.
local af = require "agentflow"
local core = require "agentflow.core"
local progress = require "agentflow._progress"

local M = {}

--- The run's counts and lists; _steps.lua keeps them.
M.state = {
  id = nil,
  attempt = 0,        -- 0, then one more per resume (the run record's `resumes`)
  steps = 0,          -- steps begun
  last = 0,           -- the highest step number handed out
  done = 0,
  running = {},       -- names of the agents running, in start order
  by_status = {},     -- status -> count
  degraded = {},      -- reasons the run is degraded
  pattern = nil,      -- the workflow's outermost pattern
  spent = { total = 0, agents = {} }, -- dollars, in all and by agent
  started = core.monotonic(),
}
local state = M.state

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

--- How many steps have begun.
function M.steps()
  return state.steps
end

--- The attempt of the run this process makes: 0, then one more per resume.
function M.attempt()
  return state.attempt
end

--- Note that the workflow used pattern `name`; the run record keeps the
-- first (the workflow's outermost pattern).
function M.note_pattern(name)
  state.pattern = state.pattern or name
end

--- Whether the run is degraded, and the reasons.
function M.degraded()
  return #state.degraded > 0, state.degraded
end

--- Dollars spent so far: in all, and by agent.
function M.spent()
  return state.spent.total, state.spent.agents
end

--- Print a warning on stderr.
function M.warn(fmt, ...)
  progress.message("warning: " .. string.format(fmt, ...))
end

local finish_hooks = {}

--- Call fn() when the run ends (before the summary): flushing stores.
function M.on_finish(fn)
  finish_hooks[#finish_hooks + 1] = fn
end

--- Called by the host when the workflow has ended (ok: it did not raise;
-- interrupted: by SIGINT/SIGTERM): clears the status line, runs the
-- finish hooks, then closes the run (_steps.lua, loaded through af's lazy
-- fields because it lies above this module). Returns an exit code when
-- closing the run failed.
function M.finish(ok, interrupted)
  progress.clear()
  for _, fn in ipairs(finish_hooks) do
    fn()
  end
  return af._close_run(ok, interrupted)
end

return M
