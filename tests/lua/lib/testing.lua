--- testing: assertions for the Lua tests, run by agentflow itself.
--
--   local t = require "testing"
--   t.test("adds", function() t.eq(4, 2 + 2) end)
--   t.done()      -- prints "N passed, M failed"; exits 1 on any failure
--
-- A failed check names the test's line and shows what was expected and
-- what came, both through af.inspect.
local M = {}

local passed, failed = 0, 0

local function show(v)
  return af.inspect(v, { width = 100 })
end

local function deep_equal(a, b, seen)
  if a == b then
    return true
  end
  if type(a) ~= "table" or type(b) ~= "table" then
    return false
  end
  seen = seen or {}
  if seen[a] == b then
    return true
  end
  seen[a] = b
  for k, v in pairs(a) do
    if not deep_equal(v, b[k], seen) then
      return false
    end
  end
  for k in pairs(b) do
    if a[k] == nil then
      return false
    end
  end
  return true
end

--- Fail unless `got` equals `expected` (tables compared deeply).
function M.eq(expected, got, what)
  if not deep_equal(expected, got) then
    error(string.format("%sexpected %s\n     got %s", what and (what .. ": ") or "",
      show(expected), show(got)), 2)
  end
end

--- Fail unless `s` (a string) contains `part` (plain text).
function M.contains(s, part)
  if type(s) ~= "string" or not s:find(part, 1, true) then
    error(string.format("expected a string containing %s\n     got %s", show(part), show(s)), 2)
  end
end

--- Fail unless `fn(...)` raises an error whose message contains `part`.
function M.raises(part, fn, ...)
  local ok, err = pcall(fn, ...)
  if ok then
    error("expected an error containing " .. show(part) .. ", but the call succeeded", 2)
  end
  if not tostring(err):find(part, 1, true) then
    error(string.format("expected an error containing %s\n     got %s", show(part), show(err)), 2)
  end
end

function M.test(name, fn)
  local ok, err = xpcall(fn, debug.traceback)
  if ok then
    passed = passed + 1
    print("ok - " .. name)
  else
    failed = failed + 1
    print("not ok - " .. name)
    io.stderr:write(name, ": ", tostring(err), "\n")
  end
end

function M.done()
  print(string.format("%d passed, %d failed", passed, failed))
  os.exit(failed == 0 and 0 or 1)
end

return M
