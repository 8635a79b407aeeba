--- Stable step identities: the same step gets the same identity in every
-- attempt of a run, whatever order parallel branches start in.
--
-- A workflow branch is sequential code, so within it the Nth step is the
-- same step in every attempt. Branches are not: a pool's workers take
-- items in the order they free up. So identity follows the work, not the
-- coroutine: each pattern call takes the next ordinal of the scope it is
-- called in, and every item it runs (a parallel step, a pipeline stage of
-- an item) gets a scope of its own named after the call and the item.
-- Step 3 of the root is "3"; the first step of item 2 of a parallel call
-- made as ordinal 4 is "4.2/1"; stage 2 of pipeline item 5, that pipeline
-- being ordinal 6, is "6.2.5/1". Values the workflow reads (clock,
-- randomness) are numbered per scope the same way ("2.1/v1").
local M = {}

local root = { path = "", n = 0, values = 0 }
local scopes = setmetatable({}, { __mode = "k" }) -- coroutine -> its current scope

local function current()
  local co = coroutine.running()
  return scopes[co] or root
end

--- The identity of the next step of the current scope, without taking it.
function M.peek()
  local s = current()
  return s.path .. (s.n + 1)
end

--- Take the next ordinal of the current scope: a step's identity, or the
-- prefix of the items of a pattern call (see M.within).
function M.next()
  local s = current()
  s.n = s.n + 1
  return s.path .. s.n
end

--- The identity of the next value the current scope reads.
function M.next_value()
  local s = current()
  s.values = s.values + 1
  return s.path .. "v" .. s.values
end

--- fn(...) in the scope named `name` (M.next() of the pattern call, then
-- the item: "4.2"), in this coroutine; the previous scope is back when
-- fn returns or raises.
function M.within(name, fn, ...)
  local co = coroutine.running()
  local saved = scopes[co]
  scopes[co] = { path = name .. "/", n = 0, values = 0 }
  local _ <close> = setmetatable({}, { __close = function() scopes[co] = saved end })
  return fn(...)
end

return M
