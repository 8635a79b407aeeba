-- af.inspect / agentflow._pretty: the REPL's table printer.
local t = require "testing"
local inspect = af.inspect

t.test("scalars", function()
  t.eq("42", inspect(42))
  t.eq("1.5", inspect(1.5))
  t.eq("nil", inspect(nil))
  t.eq("true", inspect(true))
  t.eq('"a\\nb"', inspect("a\nb"))
end)

t.test("sequences print without keys", function()
  t.eq("{ 1, 2, 3 }", inspect({ 1, 2, 3 }))
  t.eq("{}", inspect({}))
end)

t.test("keys are sorted: numbers, then strings, then the rest", function()
  t.eq('{ 1, [5] = "e", a = 1, b = 2, z = 3, [true] = 0 }',
    inspect({ z = 3, a = 1, b = 2, [5] = "e", [true] = 0, 1 }))
end)

t.test("keys that are not identifiers, keywords included, are bracketed", function()
  t.eq('{ ["end"] = 2, ["two words"] = 1 }', inspect({ ["two words"] = 1, ["end"] = 2 }))
  t.eq('{ [1.5] = "x" }', inspect({ [1.5] = "x" }))
end)

t.test("nested tables", function()
  t.eq('{ a = { b = { c = "d" } } }', inspect({ a = { b = { c = "d" } } }))
end)

t.test("cycles are marked, shared tables are not cycles", function()
  local c = {}
  c.self = c
  t.eq("{ self = <cycle> }", inspect(c))
  local shared = { 1 }
  t.eq("{ a = { 1 }, b = { 1 } }", inspect({ a = shared, b = shared }))
end)

t.test("depth is limited", function()
  local deep = { a = { b = { c = { d = 1 } } } }
  t.eq("{ a = { b = {...} } }", inspect(deep, { depth = 2 }))
end)

t.test("long tables break into indented lines", function()
  local s = inspect({ alpha = string.rep("x", 40), beta = string.rep("y", 40) }, { width = 60 })
  t.eq('{\n  alpha = "' .. string.rep("x", 40) .. '",\n  beta = "' .. string.rep("y", 40) .. '"\n}', s)
end)

t.test("huge tables are cut with a count", function()
  local big = {}
  for i = 1, 10 do big[i] = i end
  t.eq("{ 1, 2, 3, ... (7 more) }", inspect(big, { max_items = 3 }))
end)

t.test("__tostring is honoured", function()
  local v = setmetatable({}, { __tostring = function() return "<thing>" end })
  t.eq("{ x = <thing> }", inspect({ x = v }))
end)

t.done()
