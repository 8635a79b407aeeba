--- Counting semaphores for branches: `local slot <close> = sem:acquire()`.
-- Waiters are served first come, first served; a branch cancelled while it
-- waits leaves the queue without taking a slot.
local core = require "agentflow.core"

local M = {}

local Sem = {}
Sem.__index = Sem

--- A semaphore with `limit` slots (math.huge: never waits).
function M.new(limit)
  return setmetatable({ limit = limit, used = 0, queue = {}, head = 1, tail = 0 }, Sem)
end

--- Take a slot, waiting for one when all are used. Returns the semaphore,
-- whose __close gives the slot back.
function Sem:acquire()
  if self.used < self.limit and self.head > self.tail then
    self.used = self.used + 1
    return self
  end
  local ev, at = core.event(), self.tail + 1
  self.tail, self.queue[at] = at, ev
  local ok, err = pcall(ev.wait, ev)
  if not ok then
    if ev:is_set() then -- the slot was handed over as the wait ended
      self:release()
    else
      self.queue[at] = false
    end
    error(err, 0)
  end
  return self
end

--- Give a slot back: to the first waiter, if any.
function Sem:release()
  while self.head <= self.tail do
    local ev = self.queue[self.head]
    self.queue[self.head] = nil
    self.head = self.head + 1
    if ev then
      ev:set()
      return
    end
  end
  self.used = self.used - 1
end

Sem.__close = Sem.release

--- Change the number of slots; waiters get the new ones at once.
function Sem:resize(limit)
  self.limit = limit
  while self.used < self.limit and self.head <= self.tail do
    self.used = self.used + 1
    self:release()
  end
end

return M
