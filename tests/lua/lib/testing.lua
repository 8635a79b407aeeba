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

-- The helpers' own processes are not steps of the test's run.
local exec = require("agentflow._exec").exec

-- Each run starts from an empty store, so that results cached by an earlier
-- run of the same test do not change what this one sees. (At the first
-- test, not at require: a module's main chunk cannot wait for a process.)
local fresh = false
local function start_fresh()
  if not fresh then
    fresh = true
    local home = assert(os.getenv("AGENTFLOW_HOME"), "AGENTFLOW_HOME must be set for tests")
    exec({ "rm", "-rf", home .. "/store" })
  end
end

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

--- Fail unless `fn(...)` raises an error naming this test file at `line`.
function M.raises_at(line, part, fn, ...)
  local ok, err = pcall(fn, ...)
  local where = string.format("%s:%d:", arg[0]:match("[^/]*$"), line)
  if ok or not tostring(err):find(where, 1, true) or not tostring(err):find(part, 1, true) then
    error(string.format("expected an error at %s containing %s\n     got %s", where, show(part),
      ok and "success" or show(err)), 2)
  end
end

--- A fresh directory under AF_TEST_TMP.
function M.tmpdir()
  local base = os.getenv("AF_TEST_TMP")
  assert(exec({ "mkdir", "-p", base }).code == 0)
  local r = exec({ "mktemp", "-d", base .. "/t.XXXXXX" })
  assert(r.code == 0, r.stderr)
  return (r.stdout:gsub("\n$", ""))
end

--- The path of a test program in tests/bin.
function M.bin(name)
  return os.getenv("AF_TEST_BIN") .. "/" .. name
end

--- The contents of a file, or nil.
function M.read(path)
  local f = io.open(path, "rb")
  if not f then
    return nil
  end
  local s = f:read("a")
  f:close()
  return s
end

--- Write `s` to the file `path`.
function M.write(path, s)
  local f = assert(io.open(path, "wb"))
  f:write(s)
  f:close()
end

--- Whether process `pid` is running (a zombie has ended: only its parent,
-- perhaps init, has yet to reap it).
function M.alive(pid)
  local stat = M.read("/proc/" .. pid .. "/stat")
  return stat ~= nil and not stat:match("^%d+ %b() ([ZX])")
end

--- Wait (yielding to other branches) until `path` exists; returns its contents.
function M.wait_file(path)
  for _ = 1, 1000 do
    local s = M.read(path)
    if s then
      return s
    end
    af.sleep(0.01)
  end
  error("timed out waiting for " .. path, 2)
end

function M.test(name, fn)
  start_fresh()
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
