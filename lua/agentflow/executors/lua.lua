--- The `lua` executor: the agent's `run(task)` runs in process, as a branch
-- of the workflow (it may call af.exec, af.sleep, other agents). It returns
-- a result table with a `status`, or any other value as the `output` of a
-- success; an error it raises is a failure carrying its traceback.
local core = require "agentflow.core"

local M = { name = "lua", version = "1" }

local function traceback(e)
  if e == core.canceled or type(e) ~= "string" then
    return e
  end
  return debug.traceback(e, 2)
end

function M.run(agent, task)
  local ok, v = xpcall(agent.run, traceback, task)
  if not ok then
    if v == core.canceled then
      error(v, 0)
    end
    return { status = "failed", reason = "error", error = tostring(v) }
  end
  if type(v) == "table" and v.status ~= nil then
    return v
  end
  return { status = "success", output = v }
end

return M
