-- Store and log handles close at the end of a <close> variable's scope,
-- once, and a closed store's directory opens again.
local t = require "testing"
local core = require "agentflow.core"

t.test("a store in a <close> variable is closed at the end of its scope", function()
  local dir = t.tmpdir() .. "/store"
  local kept
  do
    local s <close> = assert(core.store_open(dir))
    s:write({ { "counters", "k", "v" } })
    t.eq("v", s:get("counters", "k"))
    kept = s
  end
  t.raises("the store is closed", kept.get, kept, "counters", "k")
  getmetatable(kept).__close(kept) -- closing again does nothing
  local again <close> = assert(core.store_open(dir))
  t.eq(false, rawequal(again, kept))
  t.eq("v", again:get("counters", "k"))
end)

t.test("a store closed by an error leaves its directory to open again", function()
  local dir = t.tmpdir() .. "/store"
  t.raises("boom", function()
    local s <close> = assert(core.store_open(dir))
    error("boom")
  end)
  local s <close> = assert(core.store_open(dir))
  t.eq(nil, s:get("counters", "k"))
end)

t.test("a log in a <close> variable writes what it holds and closes", function()
  local path = t.tmpdir() .. "/agentflow.jsonl"
  local kept
  do
    local log <close> = assert(core.log_open(path))
    assert(log:write("INFO", "test", "closing", { n = 1 }))
    kept = log
  end
  t.contains(t.read(path), '"message":"closing","context":{"n":1}}')
  t.raises("the log is closed", kept.write, kept, "INFO", "test", "after")
  getmetatable(kept).__close(kept)
end)

t.done()
