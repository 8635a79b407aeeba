-- The claude, codex, gemini and plan executors against stand-ins that print
-- the real CLIs' recorded outputs (tests/bin/fake).
local t = require "testing"

local fake = os.getenv("AF_TEST_BIN") .. "/fake/"

local function agent(name, executor, extra)
  local def = { executor = executor, cli = fake .. executor, retries = 0, critical = false,
    cache = false, throttle_backoff = "1ms", system_prompt = "You check VAT." }
  for k, v in pairs(extra or {}) do
    def[k] = v
  end
  af.define_agent(name, def)
end

agent("claude-agent", "claude", { model = "sonnet", max_turns = 8, tools = "Read, Grep" })
agent("codex-agent", "codex")
agent("gemini-agent", "gemini")

local function call(name, mode, opts)
  local o = { prompt = "Check it. MODE:" .. mode }
  for k, v in pairs(opts or {}) do
    o[k] = v
  end
  return af.agent(name, o)
end

t.test("claude success: output, cost, tokens, session", function()
  local r = call("claude-agent", "success")
  t.eq("success", r.status)
  t.eq("All VAT rules hold.\nTwo warnings.", r.output)
  t.eq("All VAT rules hold.", r.summary)
  t.eq(0.0123, r.cost_usd)
  t.eq({ input = 125, output = 50 }, r.tokens)
  t.eq("5f6c0e4a-1", r.metrics.session_id)
  t.eq(6, r.metrics.num_turns)
  t.eq(800, r.metrics.duration_api_ms)
end)

t.test("claude gets the prompt on stdin and the agent's settings as flags", function()
  local dir = t.tmpdir()
  af.define_agent("claude-flags", { executor = "claude", cli = fake .. "claude", cache = false,
    system_prompt = "You check VAT.", model = "opus", max_turns = 3, tools = "Read, Grep",
    env = { FAKE_ARGS = dir .. "/args" } })
  t.eq("success", af.agent("claude-flags", { prompt = "MODE:success" }).status)
  t.eq("-p\n--output-format\njson\n--append-system-prompt\nYou check VAT.\n--model\nopus\n"
    .. "--max-turns\n3\n--allowedTools\nRead Grep\n", t.read(dir .. "/args"))
end)

t.test("claude: is_error with subtype success is a failure", function()
  local r = call("claude-agent", "is_error")
  t.eq("skipped", r.status) -- failed, and critical = false
  t.eq("agent_error", r.reason)
  t.contains(r.error, "API Error: 500")
  t.eq(0.001, r.cost_usd)
end)

t.test("claude: error_max_turns is its own reason", function()
  local r = call("claude-agent", "max_turns")
  t.eq("max_turns", r.reason)
  t.eq(0.2, r.cost_usd)
end)

t.test("claude: 529 overload is retried with its own backoff", function()
  local r = call("claude-agent", "overload", { retries = 2 })
  t.eq("overloaded", r.reason)
  t.eq(3, r.attempts)
end)

t.test("claude: the older cost_usd field is read", function()
  t.eq(0.05, call("claude-agent", "old_cost").cost_usd)
end)

t.test("claude: malformed, empty and huge outputs, exits and hangs", function()
  t.eq("invalid_output", call("claude-agent", "malformed").reason)
  t.eq("empty_output", call("claude-agent", "empty").reason)
  local huge = call("claude-agent", "huge")
  t.eq("output_truncated", huge.reason)
  t.contains(huge.error, "cut at max_output (16777216 bytes kept, more written)")
  local exit = call("claude-agent", "exit")
  t.eq("exit", exit.reason)
  t.eq("exited with code 1: Error: Invalid API key · Please run /login", exit.error)
  t.eq("timeout", call("claude-agent", "hang", { timeout = "200ms", grace = "50ms" }).reason)
end)

t.test("codex: the last agent message, tokens, cost from the price table", function()
  local r = call("codex-agent", "success")
  t.eq("success", r.status)
  t.eq("The VAT module rounds per line. No issues.", r.output)
  t.eq({ input = 24763, output = 122 }, r.tokens)
  local prices = require "agentflow.executors.prices"
  t.eq(prices.cost("gpt-5-codex", { input = 24763, cached_input = 24448, output = 122 }), r.cost_usd)
  t.eq(true, r.cost_usd > 0)
  t.eq("0199a213-81c0-7800-8aa1-bbab2a035a53", r.metrics.session_id)
  local failed = call("codex-agent", "failed")
  t.eq("agent_error", failed.reason)
  t.contains(failed.error, "stream disconnected")
  t.eq("invalid_output", call("codex-agent", "malformed").reason)
  t.eq("empty_output", call("codex-agent", "empty").reason)
  t.eq("exit", call("codex-agent", "exit").reason)
end)

t.test("gemini: response, tokens, cost; errors and the turn limit", function()
  local r = call("gemini-agent", "success")
  t.eq("success", r.status)
  t.eq("Nagad sandbox reachable in 180 ms.", r.output)
  t.eq({ input = 4000, output = 300 }, r.tokens)
  t.eq(true, r.cost_usd > 0)
  local e = call("gemini-agent", "error")
  t.eq("exit", e.reason)
  t.contains(e.error, "Quota exceeded")
  t.eq("max_turns", call("gemini-agent", "turn_limit").reason)
  t.eq("invalid_output", call("gemini-agent", "malformed").reason)
end)

t.test("plan writes the seed's execution plan with the Task invocation", function()
  af.define_agent("business-logic-validator", { executor = "plan", cache = false })
  local r = af.agent("business-logic-validator",
    { prompt = "Validate Bangladesh VAT and tax compliance requirements for new feature" })
  t.eq("planned", r.status)
  t.contains(r.output, "AGENT EXECUTION PLAN\n====================\n\nAgent: business-logic-validator\n")
  t.contains(r.output, 'Task(\n    description="business-logic-validator: Validate Bangladesh VAT and tax '
    .. 'compliance require...",\n    prompt="""Validate Bangladesh VAT and tax compliance requirements for '
    .. 'new feature""",\n    subagent_type="business-logic-validator"\n)')
  t.contains(r.output, "/agent:business-logic-validator Validate Bangladesh VAT")
  t.contains(r.output, "Input Files (0):\n  (none)")
end)

t.test("budgets: an agent's budget_usd is passed on, then skips it once spent", function()
  local dir = t.tmpdir()
  agent("thrifty", "claude", { budget_usd = 0.02, env = { FAKE_ARGS = dir .. "/args" } })
  t.eq("success", call("thrifty", "success").status)
  t.contains(t.read(dir .. "/args"), "--max-budget-usd\n0.0200\n")
  t.eq("success", call("thrifty", "success").status) -- 0.0123 spent, 0.0077 left
  t.contains(t.read(dir .. "/args"), "--max-budget-usd\n0.0077\n")
  local r = call("thrifty", "success")
  t.eq("skipped", r.status)
  t.eq("budget", r.reason)
end)

t.done()
