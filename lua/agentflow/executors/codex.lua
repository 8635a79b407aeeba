--- The `codex` executor: `codex exec --json PROMPT`, whose standard output
-- is JSON lines of events (thread.started, turn.completed with usage,
-- turn.failed, item.completed with agent_message items, error). The last
-- agent message is the output; the cost comes from tokens and the price
-- table (executors/prices.lua), since codex reports none.
local cjson = require "cjson.safe"
local prices = require "agentflow.executors.prices"
local cli = require "agentflow.executors._cli"

local M = { name = "codex", version = "1" }

M.ENV = { "OPENAI_API_KEY", "OPENAI_BASE_URL", "CODEX_HOME" }
M.DEFAULT_MODEL = "gpt-5-codex"

function M.argv(agent, task)
  local text = cli.render(task, agent.system_prompt)
  local argv = { agent.cli or "codex", "exec", "--json" }
  if agent.model then
    argv[#argv + 1] = "--model"
    argv[#argv + 1] = tostring(agent.model)
  end
  argv[#argv + 1] = text
  return argv
end

-- Fold the event stream into {message, tokens, failed, thread}.
local function read_events(stdout)
  local s = { tokens = { input = 0, cached_input = 0, output = 0 }, events = 0 }
  for line in stdout:gmatch("[^\n]+") do
    local ev = cjson.decode(line)
    if type(ev) == "table" then
      s.events = s.events + 1
      local item = type(ev.item) == "table" and ev.item or {}
      if ev.type == "thread.started" then
        s.thread = ev.thread_id
      elseif ev.type == "turn.completed" and type(ev.usage) == "table" then
        s.completed = true
        s.tokens.input = s.tokens.input + (tonumber(ev.usage.input_tokens) or 0)
        s.tokens.cached_input = s.tokens.cached_input + (tonumber(ev.usage.cached_input_tokens) or 0)
        s.tokens.output = s.tokens.output + (tonumber(ev.usage.output_tokens) or 0)
      elseif ev.type == "turn.failed" or ev.type == "error" then
        local e = ev.error or ev.message
        s.failed = type(e) == "table" and (e.message or cjson.encode(e)) or tostring(e)
      elseif ev.type == "item.completed" and item.type == "agent_message" then
        s.message = item.text
      end
    end
  end
  return s
end

function M.interpret(res, timeout, model)
  local failure = cli.process_failure(res, timeout)
  if failure then
    return failure
  end
  local s = read_events(res.stdout)
  local r = {
    tokens = { input = s.tokens.input, output = s.tokens.output },
    cost_usd = prices.cost(model or M.DEFAULT_MODEL, s.tokens),
    metrics = { session_id = s.thread, cached_input_tokens = s.tokens.cached_input },
  }
  if s.failed then
    r.status, r.reason = "failed", cli.throttled(s.failed) or "agent_error"
    r.error = "codex: " .. s.failed
  elseif res.code ~= 0 then
    return cli.exit_failure(res, { reason = cli.throttled(res.stderr) or "exit",
      tokens = r.tokens, cost_usd = r.cost_usd })
  elseif s.events == 0 then
    r.status, r.reason = "failed", res.stdout:match("%S") and "invalid_output" or "empty_output"
    r.error = "codex printed no JSON events"
  else
    r.status, r.output = "success", s.message
  end
  return r
end

function M.run(agent, task, opts)
  local res = cli.run(agent, M.argv(agent, task), nil, opts, M.ENV)
  return M.interpret(res, opts.timeout, agent.model)
end

return M
