--- Groups of branches that succeed or fail together: the first error
-- cancels every other branch of the group (their processes are killed),
-- waits for them to end, and is raised in the branch that waits on the group.
local core = require "agentflow.core"

local M = {}

local Group = {}
Group.__index = Group

-- Strings get a traceback where they were raised; other values (critical
-- failures, core.canceled) pass unchanged.
local function traceback(e)
  if type(e) ~= "string" or e:find("\nstack traceback:", 1, true) then
    return e
  end
  return debug.traceback(e, 2)
end

function M.new()
  return setmetatable({ tasks = {}, running = 0, done = core.event() }, Group)
end

--- Start fn(...) as a branch of the group.
function Group:spawn(fn, ...)
  self.running = self.running + 1
  local function body(...)
    local ok, err = xpcall(fn, traceback, ...)
    if not ok and not self.failed then
      self.failed, self.err = true, err
      self.done:set()
    end
    self.running = self.running - 1
    if self.running == 0 then
      self.done:set()
    end
  end
  self.tasks[#self.tasks + 1] = core.spawn(body, ...)
end

--- Whether a branch of the group has failed (the others should stop).
function Group:stopping()
  return self.failed == true
end

local function cancel_and_join(tasks)
  for _, t in ipairs(tasks) do
    core.cancel(t)
  end
  for _, t in ipairs(tasks) do
    pcall(core.join, t)
  end
end

--- Wait until every branch has ended or one has failed; re-raise the first
-- error after the others have been cancelled and have ended. When the
-- waiting branch is itself cancelled, the group is cancelled with it.
function Group:wait()
  if self.running == 0 and not self.failed then
    return
  end
  local ok, err = pcall(self.done.wait, self.done)
  if not ok then
    cancel_and_join(self.tasks)
    error(err, 0)
  end
  if self.failed then
    cancel_and_join(self.tasks)
    error(self.err, 0)
  end
end

return M
