-- tools/bench/inproc.lua N KIND: N in-process steps in one branch.
-- KIND: sleep (af.sleep(0): a full trip through the event loop), agent (a
-- Lua agent: step numbering, limits, result record, progress bookkeeping),
-- yield (the baseline, run by lua5.4 too: a coroutine resume/yield pair).
local n, kind = tonumber(arg[1]), arg[2]
if kind == "yield" then
  local co = coroutine.wrap(function()
    while true do
      coroutine.yield()
    end
  end)
  for _ = 1, n do
    co()
  end
  return
end
if kind == "sleep" then
  for _ = 1, n do
    af.sleep(0)
  end
  return
end
af.define_agent("noop", { run = function() return true end, retries = 0, cache = false })
for _ = 1, n do
  af.agent("noop")
end
