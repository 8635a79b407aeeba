-- The Lua host: preloaded modules, the af global, module search order.
local t = require "testing"

t.test("cjson and cjson.safe are preloaded", function()
  t.eq('{"a":1}', require("cjson").encode({ a = 1 }))
  local safe = require "cjson.safe"
  local v, err = safe.decode("{not json")
  t.eq(nil, v)
  t.contains(err, "Expected")
end)

t.test("af is a global and matches require", function()
  t.eq(require("agentflow"), af)
  t.eq("string", type(af.version))
  t.eq(af.version, require("agentflow.core").version)
end)

t.test("the script path and the arg table", function()
  t.contains(af.script_path(), "test_host.lua")
  t.eq(af.script_path(), arg[0])
end)

t.test("state_dir honours AGENTFLOW_HOME and creates it private", function()
  local home = os.getenv("AGENTFLOW_HOME")
  t.eq(home, af.state_dir())
  t.eq(home, af.state_dir(true))
  local p = io.popen("stat -c %a " .. home)
  t.eq("700", p:read("l"))
  p:close()
end)

t.test("searchers: preload, override path, embedded library, then package.path", function()
  t.eq(5 + 1, #package.searchers)
  local loader, file = package.searchers[2]("testing")
  t.eq("function", type(loader))
  t.contains(file, "tests/lua/lib/testing.lua")
  loader, file = package.searchers[3]("agentflow._pretty")
  t.eq("function", type(loader))
  t.eq("lua/agentflow/_pretty.lua", file)
  t.contains(package.searchers[2]("agentflow._pretty"), "no file")
end)

t.test("an unknown module lists every place searched", function()
  t.raises("no embedded module 'no.such.module'", require, "no.such.module")
  t.raises("no file", require, "no.such.module")
end)

t.test("embedded modules load lazily", function()
  t.eq(nil, package.loaded["agentflow._pretty_never"])
  t.eq("function", type(af.inspect))
end)

t.test("pid_start is the start time of /proc/PID/stat (field 22), which stays put", function()
  local core = require "agentflow.core"
  local f = assert(io.open("/proc/self/stat"))
  local stat = f:read("a")
  f:close()
  local fields = {}
  for w in stat:match("%) (.*)"):gmatch("%S+") do
    fields[#fields + 1] = w
  end
  t.eq(tonumber(fields[22 - 2]), core.pid_start())
  local before = core.pid_start()
  local grown = {}
  for i = 1, 200000 do
    grown[i] = { i }
  end
  t.eq(before, core.pid_start())
  t.eq(true, core.pid_alive(core.pid(), before))
end)

t.done()
