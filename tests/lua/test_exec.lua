-- af.exec, af.sleep, af.now: processes without a shell, on the event loop.
local t = require "testing"

t.test("stdout, stderr and the exit code are captured", function()
  local r = af.exec({ "sh", "-c", "echo out; echo err >&2; exit 7" })
  t.eq(7, r.code)
  t.eq("out\n", r.stdout)
  t.eq("err\n", r.stderr)
  t.eq(nil, r.signal)
  t.eq(false, r.stdout_truncated)
  t.eq("number", type(r.duration))
end)

t.test("stdin reaches the program byte for byte, NULs included", function()
  local input = "a\0b\n$(touch x) `id`; 'q' \"d\"\r\n" .. string.rep("z", 200000)
  local r = af.exec({ "cat" }, { stdin = input })
  t.eq(0, r.code)
  t.eq(#input, #r.stdout)
  t.eq(true, r.stdout == input)
end)

t.test("shell syntax in argv is not interpreted", function()
  local dir = t.tmpdir()
  local nasty = "$(touch " .. dir .. "/marker) `touch " .. dir .. "/marker`; touch "
    .. dir .. "/marker\n'\"\\ * ?"
  local r = af.exec({ "printf", "%s", nasty })
  t.eq(nasty, r.stdout)
  t.eq(nil, t.read(dir .. "/marker"))
end)

t.test("a missing program is a result with an error, not a crash", function()
  local r = af.exec({ "no-such-program-anywhere" })
  t.eq("not_found", r.reason)
  t.contains(r.error, "no-such-program-anywhere")
  t.eq(nil, r.code)
end)

t.test("a signal is told apart from an exit code", function()
  local r = af.exec({ "sh", "-c", "kill -9 $$" })
  t.eq(9, r.signal)
  t.eq(nil, r.code)
end)

t.test("output beyond max_output is cut and the result says so", function()
  local r = af.exec({ "head", "-c", "100000", "/dev/zero" }, { max_output = 1000 })
  t.eq(1000, #r.stdout)
  t.eq(true, r.stdout_truncated)
  t.eq(0, r.code)
end)

t.test("the environment is an allow-list plus what the call names", function()
  local env = { "sh", "-c", "echo \"$AF_TEST_TMP|$HOME|$PATH|$EXTRA\"" }
  local r = af.exec(env)
  local tmp, home, path, extra = r.stdout:match("^(.-)|(.-)|(.-)|(.-)\n$")
  t.eq("", tmp)
  t.eq(os.getenv("HOME") or "", home)
  t.eq(os.getenv("PATH"), path)
  t.eq("", extra)
  r = af.exec(env, { env = { "AF_TEST_TMP", EXTRA = "x y" } })
  tmp, home, path, extra = r.stdout:match("^(.-)|(.-)|(.-)|(.-)\n$")
  t.eq(os.getenv("AF_TEST_TMP"), tmp)
  t.eq("x y", extra)
  r = af.exec(env, { env = { HOME = false } })
  t.eq("", r.stdout:match("^.-|(.-)|"))
end)

t.test("cwd sets the working directory", function()
  local dir = t.tmpdir()
  t.eq(dir .. "\n", af.exec({ "pwd", "-P" }, { cwd = dir }).stdout)
end)

t.test("a timeout kills the child and its grandchildren", function()
  local dir = t.tmpdir()
  local r = af.exec({ t.bin("spawn-tree"), dir .. "/pids" }, { timeout = "300ms", grace = "100ms" })
  t.eq(true, r.timed_out)
  t.eq("number", type(r.signal))
  for pid in t.read(dir .. "/pids"):gmatch("%d+") do
    t.eq(false, t.alive(pid), "process " .. pid)
  end
end)

t.test("processes run at once: eight overlap", function()
  local dir = t.tmpdir()
  local log = dir .. "/log"
  local steps = {}
  for i = 1, 8 do
    steps[i] = function()
      return af.exec({ t.bin("record"), log, "s" .. i, "1" })
    end
  end
  af.parallel(steps)
  local starts, first_end = {}, math.huge
  for kind, name, ns in t.read(log):gmatch("(%a+) (%w+) (%d+)\n") do
    if kind == "start" then
      starts[name] = tonumber(ns)
    else
      first_end = math.min(first_end, tonumber(ns))
    end
  end
  for i = 1, 8 do
    t.eq(true, starts["s" .. i] ~= nil and starts["s" .. i] < first_end, "s" .. i .. " started before any ended")
  end
end)

t.test("wrong argument types raise at the caller's line", function()
  local here = function() return debug.getinfo(2, "l").currentline end
  t.raises_at(here(), "table expected, got string", function() af.exec("ls") end)
  t.raises_at(here(), "argv is empty", function() af.exec({}) end)
  t.raises_at(here(), "argv[2] must be a string", function() af.exec({ "ls", 3 }) end)
  t.raises_at(here(), "timeout: bad duration", function() af.exec({ "ls" }, { timeout = "soon" }) end)
  t.raises_at(here(), "stdin must be a string", function() af.exec({ "ls" }, { stdin = 5 }) end)
  t.raises_at(here(), "env entries are NAME", function() af.exec({ "ls" }, { env = { X = 1 } }) end)
end)

t.test("af.sleep takes durations and lets other branches run", function()
  local order = {}
  af.parallel({
    function() af.sleep("50ms") order[#order + 1] = "slow" end,
    function() af.sleep(0) order[#order + 1] = "fast" end,
  })
  t.eq({ "fast", "slow" }, order)
  t.raises("bad duration", af.sleep, "later")
  t.raises("got no value", af.sleep)
end)

t.test("af.now is wall-clock time", function()
  t.eq(true, math.abs(af.now() - os.time()) < 2)
end)

t.done()
