-- The five patterns and af.orchestrate.
local t = require "testing"

local here = function() return debug.getinfo(2, "l").currentline end

af.define_agent("echo", { run = function(task) return task.params.input or task.prompt end })
af.define_agent("bad", { command = { "false" }, retries = 0 })
af.define_agent("bad-ok", { command = { "false" }, retries = 0, critical = false })

t.test("sequential passes each result to the next step", function()
  local rs = af.sequential({
    function(prev, i) return { n = 1, i = i, prev = prev } end,
    function(prev, i) return { n = prev.n + 1, i = i } end,
    { agent = "echo", prompt = "third" },
  })
  t.eq(1, rs[1].n)
  t.eq(2, rs[2].n)
  t.eq(2, rs[2].i)
  t.eq("third", rs[3].output)
end)

t.test("parallel keeps input order and honours max", function()
  local now, peak = 0, 0
  local steps = {}
  for i = 1, 7 do
    steps[i] = function(k)
      now = now + 1
      peak = math.max(peak, now)
      af.sleep((8 - i) * 0.002) -- later steps finish first
      now = now - 1
      return k * 10
    end
  end
  t.eq({ 10, 20, 30, 40, 50, 60, 70 }, af.parallel(steps, { max = 3 }))
  t.eq(3, peak)
  t.eq({}, af.parallel({}))
end)

t.test("a critical failure cancels the siblings and kills their processes", function()
  local dir = t.tmpdir()
  local finished = false
  local ok, e = pcall(af.parallel, {
    function() return af.exec({ t.bin("spawn-tree"), dir .. "/pids" }, { grace = "100ms" }) end,
    function()
      t.wait_file(dir .. "/pids")
      return af.agent("bad")
    end,
    function() af.sleep(30) finished = true end,
  })
  t.eq(false, ok)
  t.eq(1, e.exit_code)
  t.contains(tostring(e), "(bad) failed")
  t.eq(false, finished)
  for pid in t.read(dir .. "/pids"):gmatch("%d+") do
    t.eq(false, t.alive(pid), "process " .. pid)
  end
end)

t.test("an error in a branch carries the traceback of where it was raised", function()
  local line = here() + 2
  local ok, e = pcall(af.parallel, {
    function() error("broken branch") end,
  })
  t.eq(false, ok)
  t.contains(e, "test_flow.lua:" .. line .. ": broken branch")
  t.contains(e, "stack traceback:")
end)

t.test("a non-critical failure lets the others finish", function()
  local rs = af.parallel({ { agent = "bad-ok" }, { agent = "echo", prompt = "fine" } })
  t.eq("skipped", rs[1].status)
  t.eq("fine", rs[2].output)
end)

t.test("conditional follows a predicate, a result or a value", function()
  t.eq("yes", af.conditional(function() return true end, function() return "yes" end,
    function() return "no" end))
  local failed = af.agent("bad-ok")
  t.eq("no", af.conditional(failed, function() return "yes" end, function() return "no" end))
  t.eq("then", af.conditional(af.agent("echo"), { agent = "echo", prompt = "then" }).output)
  t.eq(nil, af.conditional(false, function() return "yes" end))
end)

t.test("iterative stops when stop says so, or at max", function()
  local last, n = af.iterative({ max = 10, stop = function(r) return r >= 8 end },
    function(i, prev) return (prev or 1) * 2 end)
  t.eq(8, last)
  t.eq(3, n)
  last, n = af.iterative({ max = 4 }, function(i) return i end)
  t.eq(4, last)
  t.eq(4, n)
  t.raises("max must be a whole number", af.iterative, {}, function() end)
end)

t.test("pipeline items are in different stages at the same time", function()
  local log, inside = {}, {}
  local function stage(k)
    return function(v, i)
      log[#log + 1] = { "enter", k, i }
      inside[k] = i
      af.sleep(0.005)
      inside[k] = nil
      log[#log + 1] = { "leave", k, i }
      return v .. k
    end
  end
  local overlap = false
  local out = af.pipeline({ stage(1), stage(2), stage(3) }, { "a", "b", "c", "d" })
  t.eq({ "a123", "b123", "c123", "d123" }, out)
  -- Replay the log: was item 2 ever in stage 1 while item 1 was in stage 2?
  local where = {}
  for _, ev in ipairs(log) do
    where[ev[3]] = ev[1] == "enter" and ev[2] or nil
    if where[1] == 2 and where[2] == 1 then
      overlap = true
    end
  end
  t.eq(true, overlap)
end)

t.test("a pipeline stage's max bounds its concurrency", function()
  local now, peak = 0, 0
  local slow = function(v)
    now = now + 1
    peak = math.max(peak, now)
    af.sleep(0.005)
    now = now - 1
    return v
  end
  t.eq({ 1, 2, 3, 4, 5, 6 }, af.pipeline({ function(v) return v end, { slow, max = 2 } },
    { 1, 2, 3, 4, 5, 6 }))
  t.eq(2, peak)
end)

t.test("agent stages get the previous output as params.input; failures stop the item", function()
  local out = af.pipeline({ function(v) return v * 2 end, { agent = "echo" } }, { 1, 2 })
  t.eq(2, out[1].output)
  t.eq(4, out[2].output)
  local seen = 0
  out = af.pipeline({ { agent = "bad-ok" }, function(v) seen = seen + 1 return v end }, "x")
  t.eq("skipped", out.status)
  t.eq(0, seen)
end)

t.test("an error in a pipeline stage aborts it", function()
  local ok, e = pcall(af.pipeline, { function(v) if v == 2 then error("item two") end return v end },
    { 1, 2, 3 })
  t.eq(false, ok)
  t.contains(e, "item two")
end)

t.test("orchestrate applies a named pattern", function()
  local steps = { { agent = "echo", prompt = "a" }, { agent = "echo", prompt = "b" } }
  local rs, pattern = af.orchestrate({ pattern = "parallel", steps = steps })
  t.eq("parallel", pattern)
  t.eq("b", rs[2].output)
  rs = af.orchestrate({ pattern = "sequential", steps = steps })
  t.eq("a", rs[1].output)
  local r = af.orchestrate({ pattern = "conditional", steps = { { agent = "bad-ok" },
    function() return "then" end, function() return "else" end } })
  t.eq("else", r)
  local out = af.orchestrate({ pattern = "pipeline", steps = { function(v) return v + 1 end }, input = { 1, 2 } })
  t.eq({ 2, 3 }, out)
  local runs = 0
  local last, used = af.orchestrate({ pattern = "iterative", max = 2,
    steps = { function() runs = runs + 1 end, { agent = "bad-ok" } } })
  t.eq("iterative", used)
  t.eq(2, runs)
  t.eq("skipped", last[2].status)
end)

t.test("bad steps fail at the caller's line before anything runs", function()
  local ran = false
  t.raises_at(here(), 'unknown agent "ecko" (did you mean "echo"?)', function() af.sequential({ function() ran = true end, { agent = "ecko" } }) end)
  t.eq(false, ran)
  t.raises_at(here(), "step 2 must be a function or an agent spec", function() af.parallel({ function() end, 5 }) end)
  t.raises_at(here(), "max must be a whole number >= 1", function() af.parallel({}, { max = 0 }) end)
  t.raises_at(here(), 'unknown pattern "paralel" (did you mean "parallel"?)', function() af.orchestrate({ pattern = "paralel", steps = {} }) end)
  t.raises_at(here(), "a non-empty list of stages", function() af.pipeline({}, {}) end)
end)

t.done()
