-- The library's module graph (tools/lua-deps): no require inside a
-- function but the lazy loaders', no cycle of top-level requires, and a
-- start that runs no workflow loads only af itself.
local t = require "testing"

local source = os.getenv("AF_SOURCE_DIR")
local deps = assert(loadfile(source .. "/tools/lua-deps"))()
local modules = deps.scan(source .. "/lua")

t.test("the scan finds the library", function()
  t.eq(true, modules["agentflow"] ~= nil and modules["agentflow._run"] ~= nil
    and modules["agentflow.executors"] ~= nil and modules["agentflow.cli.cache"] ~= nil)
end)

t.test("no require inside a function, but the lazy loaders'", function()
  t.eq({}, deps.inside_functions(modules))
end)

t.test("no cycle of top-level requires", function()
  t.eq({}, deps.cycles(modules))
end)

t.test("the lexer tells a function's requires from the chunk's", function()
  local found = deps.requires([[
local a = require "a" -- require "comment"
local s = [==[ require("long string") ]==]
if x then local b = require('b') end
local function f() for i = 1, 2 do end return require("c." .. i) end
local g = function() repeat until true end
local d = require "d"
]])
  t.eq({ { module = "a", in_function = false }, { module = "b", in_function = false },
    { module = "c.*", in_function = true }, { module = "d", in_function = false } }, found)
end)

t.test("agentflow -e loads af, the value hooks and the pattern names only", function()
  local p = io.popen(os.getenv("AGENTFLOW") .. [[ -e 'local t = {}
    for k in pairs(package.loaded) do if k:find("^agentflow") then t[#t + 1] = k end end
    table.sort(t) print(table.concat(t, " "))']])
  local out = p:read("a")
  p:close()
  t.eq("agentflow agentflow._patterns agentflow._values agentflow.core\n", out)
end)

t.done()
