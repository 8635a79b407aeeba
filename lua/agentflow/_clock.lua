--- af.now and af.sleep.
local core = require "agentflow.core"
local util = require "agentflow._util"
local values = require "agentflow._values"

local M = {}

--- Wall-clock time in seconds since the epoch, with sub-second precision
-- (journaled: a resumed run reads what the first run read).
function M.now()
  return values.read("now", core.now)
end

--- Let the other branches run for `d` (seconds or "300ms"); 0 yields one
-- loop turn.
function M.sleep(d)
  if d == nil then
    util.fail(1, "bad argument #1 to 'af.sleep' (duration expected, got no value)")
  end
  local s, err = util.seconds(d)
  if not s then
    util.fail(1, "bad argument #1 to 'af.sleep' (%s)", err)
  end
  core.sleep(s)
end

return M
