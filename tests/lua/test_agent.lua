-- af.define_agent and af.agent: the command and lua executors, the result
-- record, retries, fallbacks, critical and non-critical failures, limits.
local t = require "testing"
local cjson = require "cjson"

local here = function() return debug.getinfo(2, "l").currentline end

af.define_agent("cat", { command = { "cat" }, retries = 0 })
af.define_agent("fails", { command = { "sh", "-c", "echo partial; echo 'it broke' >&2; exit 4" },
  retries = 1, backoff = "1ms" })

t.test("the command executor sends the task as JSON on stdin", function()
  local r = af.agent("cat", { prompt = "review this", files = { { "a.lua", optional = true } },
    params = { n = 1 } })
  t.eq("success", r.status)
  local task = cjson.decode(r.output)
  t.eq("cat", task.agent)
  t.eq("review this", task.prompt)
  t.eq({ "a.lua" }, task.files)
  t.eq({ n = 1 }, task.params)
  t.eq(af.run_id(), task.run_id)
  t.eq(r.step, task.step)
  t.eq(af.run_id() .. ":" .. r.step, task.idempotency_key)
  t.contains(r.output, '"files":["a.lua"]')
  t.contains(af.agent("cat").output, '"files":[]')
end)

t.test("the result record has every field", function()
  local r = af.agent("cat", { prompt = "x" })
  for _, k in ipairs({ "status", "agent", "summary", "output", "metrics", "cached", "attempts",
    "duration", "cost_usd", "tokens", "run_id", "step" }) do
    t.eq(true, r[k] ~= nil, k)
  end
  t.eq(false, r.cached)
  t.eq(1, r.attempts)
  t.eq({ input = 0, output = 0 }, r.tokens)
  t.eq(r.output:sub(1, 200), r.summary)
end)

t.test("a JSON object with a status on stdout is the result", function()
  af.define_agent("json", { command = { "printf", "%s",
    '{"status":"success","summary":"3 issues","output":{"issues":3},"metrics":{"loc":10},'
    .. '"cost_usd":0.25,"tokens":{"input":100,"output":20}}' } })
  local r = af.agent("json")
  t.eq("3 issues", r.summary)
  t.eq({ issues = 3 }, r.output)
  t.eq({ loc = 10 }, r.metrics)
  t.eq(0.25, r.cost_usd)
  t.eq({ input = 100, output = 20 }, r.tokens)
  af.define_agent("badjson", { command = { "echo", '{"status":"great"}' }, retries = 3 })
  local ok, e = pcall(af.agent, "badjson")
  t.eq(false, ok)
  t.eq("invalid_output", e.result.reason)
  t.eq(1, e.result.attempts) -- nonsense is not retried
end)

t.test("exits, signals and timeouts are told apart", function()
  local ok, e = pcall(af.agent, "fails")
  t.eq(false, ok)
  t.eq(1, e.exit_code)
  t.eq("exit", e.result.reason)
  t.eq("exited with code 4: it broke", e.result.error)
  t.eq("partial\n", e.result.output)
  t.eq(2, e.result.attempts)
  af.define_agent("killed", { command = { "sh", "-c", "kill -KILL $$" }, retries = 0, critical = false })
  t.eq("signal", af.agent("killed").reason)
  af.define_agent("slow", { command = { "sleep", "10" }, timeout = "100ms", retries = 0, critical = false })
  local r = af.agent("slow")
  t.eq("timeout", r.reason)
  t.eq("skipped", r.status)
  af.define_agent("missing", { command = { "no-such-agent-program" }, critical = false })
  r = af.agent("missing")
  t.eq("not_found", r.reason)
  t.eq(1, r.attempts)
end)

t.test("an output cut at max_output is a failure that says so, never cached", function()
  local log = require "agentflow.log"
  local counter = t.tmpdir() .. "/runs"
  af.define_agent("chatty", { command = { "sh", "-c", "cat >/dev/null; echo run >>'" .. counter
    .. "'; head -c 5000 /dev/zero" }, max_output = 1000, critical = false, backoff = "1ms" })
  local r = af.agent("chatty")
  t.eq("skipped", r.status)
  t.eq("output_truncated", r.reason)
  t.eq("its output was cut at max_output (1000 bytes kept, more written): "
    .. "the agent's max_output can raise the limit", r.error)
  t.eq(1, r.attempts) -- another attempt writes as much
  r = af.agent("chatty")
  t.eq(false, r.cached)
  t.eq("output_truncated", r.reason)
  local n = 0
  for _ in io.lines(counter) do
    n = n + 1
  end
  t.eq(2, n)
  -- within the limit, the same agent succeeds and is cached
  t.eq("success", af.agent("chatty", { max_output = 10000 }).status)
  t.eq(true, af.agent("chatty", { max_output = 10000 }).cached)
  log.flush()
  local logged = 0
  for line in io.lines(log.path()) do
    if line:find('"agent":"chatty","status":"skipped"', 1, true) and line:find(af.run_id(), 1, true) then
      logged = logged + 1
    end
  end
  t.eq(2, logged)
end)

t.test("a process step keeps its cut output, flagged, and warns", function()
  local log = require "agentflow.log"
  local r = af.exec({ "head", "-c", "5000", "/dev/zero" }, { max_output = 100 })
  t.eq({ 0, 100, true }, { r.code, #r.stdout, r.stdout_truncated })
  log.flush()
  local found = false
  for line in io.lines(log.path()) do
    found = found or (line:find('"output truncated"', 1, true) and line:find('"program":"head"', 1, true)
      and line:find(af.run_id(), 1, true)) ~= nil
  end
  t.eq(true, found)
end)

t.test("a command failing twice then succeeding ends success after 3 attempts", function()
  local dir = t.tmpdir()
  af.define_agent("flaky", { command = { t.bin("flaky"), dir .. "/count", "2" }, retries = 3,
    backoff = "1ms" })
  local r = af.agent("flaky")
  t.eq("success", r.status)
  t.eq(3, r.attempts)
  t.eq("ok after 3 attempts\n", r.output)
end)

t.test("retry_on decides which failures are retried", function()
  local dir = t.tmpdir()
  local seen = {}
  af.define_agent("flaky-once", { command = { t.bin("flaky"), dir .. "/count", "5" }, retries = 5,
    backoff = "1ms", critical = false,
    retry_on = function(r, attempt) seen[#seen + 1] = attempt return attempt < 2 end })
  local r = af.agent("flaky-once")
  t.eq("skipped", r.status)
  t.eq(2, r.attempts)
  t.eq({ 1, 2 }, seen)
end)

t.test("backoff doubles up to the cap, with jitter", function()
  local agent = require "agentflow._agent"
  for n = 1, 8 do
    local d = agent.backoff_delay({ backoff = 1, backoff_max = 30 }, n)
    local full = math.min(30, 2 ^ (n - 1))
    t.eq(true, d >= full / 2 and d <= full, "attempt " .. n)
  end
end)

t.test("a fallback runs after exhausted retries; the result is degraded", function()
  af.define_agent("primary", { command = { "false" }, retries = 1, backoff = "1ms",
    fallback = "backup" })
  af.define_agent("backup", { command = { "echo", "backup answer" } })
  local r = af.agent("primary")
  t.eq("degraded", r.status)
  t.eq("backup", r.fallback)
  t.eq("primary", r.agent)
  t.eq("backup answer\n", r.output)
  t.eq(3, r.attempts)
end)

t.test("a non-critical failure is skipped and degrades the run", function()
  local r = af.agent("fails", { critical = false, retries = 0 })
  t.eq("skipped", r.status)
  t.eq(true, (require("agentflow._run").degraded()))
end)

t.test("a critical failure raises an error the run exits 1 with", function()
  local ok, e = pcall(function() af.agent("fails") end)
  t.eq(false, ok)
  t.eq(1, e.exit_code)
  t.contains(tostring(e), "(fails) failed: exited with code 4")
end)

t.test("the lua executor runs a function in process", function()
  af.define_agent("double", { run = function(task) return task.params.n * 2 end })
  t.eq(42, af.agent("double", { params = { n = 21 } }).output)
  af.define_agent("record", { run = function() return { status = "skipped", summary = "nothing" } end })
  t.eq("nothing", af.agent("record").summary)
  af.define_agent("raises", { run = function() error("boom") end, retries = 0, critical = false })
  local r = af.agent("raises")
  t.eq("error", r.reason)
  t.contains(r.error, "boom")
  t.contains(r.error, "stack traceback")
end)

t.test("max_concurrency caps an agent's parallel sessions", function()
  local now, peak = 0, 0
  af.define_agent("capped", { max_concurrency = 2, cache = false, run = function()
    now = now + 1
    peak = math.max(peak, now)
    af.sleep(0.01)
    now = now - 1
  end })
  local steps = {}
  for i = 1, 6 do
    steps[i] = { agent = "capped" }
  end
  af.parallel(steps)
  t.eq(2, peak)
end)

t.test("an executor's max_concurrency caps every agent using it", function()
  af.configure({ executors = { lua = { max_concurrency = 1 } } })
  local now, peak = 0, 0
  local body = function()
    now = now + 1
    peak = math.max(peak, now)
    af.sleep(0.01)
    now = now - 1
  end
  af.define_agent("l1", { run = body, cache = false })
  af.define_agent("l2", { run = body, cache = false })
  af.parallel({ { agent = "l1" }, { agent = "l2" }, { agent = "l1" } })
  t.eq(1, peak)
  af.configure({ executors = { lua = { max_concurrency = 100 } } })
end)

t.test("stagger spaces an agent's starts", function()
  local starts = {}
  af.define_agent("staggered", { stagger = "30ms", cache = false, run = function()
    starts[#starts + 1] = require("agentflow.core").monotonic()
  end })
  af.parallel({ { agent = "staggered" }, { agent = "staggered" }, { agent = "staggered" } })
  t.eq(3, #starts)
  t.eq(true, starts[3] - starts[1] >= 0.06 - 0.002)
end)

t.test("an unknown agent is named, with the closest known name", function()
  af.define_agent("reviewer", { command = { "true" } })
  t.raises_at(here(), 'unknown agent "revewer" (did you mean "reviewer"?)', function() af.agent("revewer") end)
  t.raises_at(here(), 'unknown agent "zzzzzzzz"', function() af.agent("zzzzzzzz") end)
  t.raises_at(here(), 'fallback: unknown agent "bakup"', function() af.agent("cat", { fallback = "bakup" }) end)
end)

t.test("wrong argument types raise at the caller's line", function()
  t.raises_at(here(), "bad argument #1 to 'af.agent'", function() af.agent(42) end)
  t.raises_at(here(), "bad argument #2 to 'af.agent'", function() af.agent("cat", "prompt") end)
  t.raises_at(here(), "prompt must be a string, not number", function() af.agent("cat", { prompt = 1 }) end)
  t.raises_at(here(), "timeout: bad duration", function() af.agent("cat", { timeout = "1 fortnight" }) end)
  t.raises_at(here(), "retries must be a whole number", function() af.agent("cat", { retries = -1 }) end)
  local default = require("agentflow.core").which("claude") and "claude" or "plan"
  t.eq(default, af.define_agent("x", {}).executor) -- no executor: the default one
  t.raises_at(here(), 'unknown executor "claud": did you mean "claude"?', function() af.define_agent("x", { executor = "claud", command = { "a" } }) end)
  t.raises_at(here(), "command[2] must be a string", function() af.define_agent("x", { command = { "a", {} } }) end)
end)

t.test("token counts are integers, run or served from the cache", function()
  af.define_agent("counts", { command = { "echo", '{"status":"success","output":"x","tokens":{"input":125,"output":7}}' } })
  for _, r in ipairs({ af.agent("counts"), af.agent("counts") }) do
    t.eq("integer", math.type(r.tokens.input))
    t.eq("integer", math.type(r.tokens.output))
    t.eq("125", tostring(r.tokens.input))
  end
end)

t.test("an unknown key in a definition or a call names the closest known key", function()
  local comand = 'agent "x": unknown key "comand" (did you mean "command"?)'
  t.raises_at(here(), comand, function() af.define_agent("x", { comand = { "a" } }) end)
  local retires = 'af.agent "cat": unknown key "retires" (did you mean "retries"?)'
  t.raises_at(here(), retires, function() af.agent("cat", { retires = 2 }) end)
end)

t.done()
