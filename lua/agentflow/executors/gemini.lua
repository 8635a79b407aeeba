--- The `gemini` executor: `gemini -p PROMPT --output-format json`, which
-- prints {response, stats, error}. Exit codes: 0 ok, 1 error, 42 bad input,
-- 53 turn limit. Tokens come from stats.models; the cost from the price
-- table (executors/prices.lua).
local cjson = require "cjson.safe"
local prices = require "agentflow.executors.prices"
local cli = require "agentflow.executors._cli"

local M = { name = "gemini", version = "1" }

M.ENV = { "GEMINI_API_KEY", "GOOGLE_API_KEY", "GOOGLE_CLOUD_PROJECT", "GOOGLE_CLOUD_LOCATION",
  "GOOGLE_GENAI_USE_VERTEXAI" }
M.DEFAULT_MODEL = "gemini-2.5-pro"
local EXIT_REASONS = { [42] = "bad_input", [53] = "max_turns" }

function M.argv(agent, task)
  local text = cli.render(task, agent.system_prompt)
  local argv = { agent.cli or "gemini", "-p", text, "--output-format", "json" }
  if agent.model then
    argv[#argv + 1] = "--model"
    argv[#argv + 1] = tostring(agent.model)
  end
  return argv
end

-- Tokens over every model in stats.models (prompt/candidates/cached).
local function tokens_of(stats)
  local t = { input = 0, cached_input = 0, output = 0 }
  local models = type(stats) == "table" and type(stats.models) == "table" and stats.models or {}
  for _, m in pairs(models) do
    local k = type(m) == "table" and type(m.tokens) == "table" and m.tokens or {}
    t.input = t.input + (tonumber(k.prompt or k.input) or 0)
    t.cached_input = t.cached_input + (tonumber(k.cached) or 0)
    t.output = t.output + (tonumber(k.candidates or k.output) or 0)
  end
  return t
end

function M.interpret(res, timeout, model)
  local failure = cli.process_failure(res, timeout)
  if failure then
    return failure
  end
  local doc = cjson.decode(res.stdout)
  if type(doc) ~= "table" then
    if res.code ~= 0 then
      return cli.exit_failure(res, { reason = EXIT_REASONS[res.code] or cli.throttled(res.stderr) or "exit" })
    end
    return { status = "failed", reason = res.stdout:match("%S") and "invalid_output" or "empty_output",
      error = "gemini's output is not its JSON result" }
  end
  local t = tokens_of(doc.stats)
  local r = { tokens = { input = t.input, output = t.output }, cost_usd = prices.cost(model or M.DEFAULT_MODEL, t),
    metrics = {} }
  local err = doc.error ~= nil and doc.error ~= cjson.null and doc.error or nil
  if err or res.code ~= 0 then
    local msg = type(err) == "table" and (err.message or cjson.encode(err)) or tostring(err or cli.last_line(res.stderr))
    r.status = "failed"
    r.reason = EXIT_REASONS[res.code] or cli.throttled(msg) or (res.code ~= 0 and "exit" or "agent_error")
    r.error = "gemini: " .. msg
    return r
  end
  r.status = "success"
  r.output = type(doc.response) == "string" and doc.response or nil
  return r
end

function M.run(agent, task, opts)
  local res = cli.run(agent, M.argv(agent, task), nil, opts, M.ENV)
  return M.interpret(res, opts.timeout, agent.model)
end

return M
