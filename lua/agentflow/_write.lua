--- af.write_file(path, text): a file the workflow produces (a report).
-- A run writes it; `agentflow plan`, which must leave no trace but its
-- output, only says it would (a WRITE line), so a workflow that writes its
-- files through this needs no test of its own for plans.
local core = require "agentflow.core"
local util = require "agentflow._util"

local M = {}

local function check(i, value)
  if type(value) ~= "string" then
    util.fail(2, "bad argument #%d to 'af.write_file' (string expected, got %s)", i, util.typename(value))
  end
end

--- true, or nil and a message. Missing directories are made, private
-- (0700) as the state directory is.
function M.write_file(path, text)
  check(1, path)
  check(2, text)
  if core.options.plan then
    io.stdout:write("WRITE  " .. path .. "  (not written)\n")
    return nil, "not written: this is a plan"
  end
  local dir = path:match("^(.+)/[^/]*$")
  if dir then
    local made, err = core.mkdir_p(dir)
    if not made then
      return nil, err
    end
  end
  local f, err = io.open(path, "w")
  if not f then
    return nil, err
  end
  local written, werr = f:write(text)
  local closed, cerr = f:close()
  if not (written and closed) then
    return nil, werr or cerr
  end
  return true
end

return M
