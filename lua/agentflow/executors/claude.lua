--- The `claude` executor: headless Claude Code, `claude -p --output-format
-- json`, the prompt on stdin, the agent file's body through
-- --append-system-prompt; model, tools, max turns, permission mode and the
-- remaining budget become flags. The JSON result is read as
-- coding-agent-clis.md describes it: success only when subtype is
-- "success" and is_error is false.
local cjson = require "cjson.safe"
local cli = require "agentflow.executors._cli"

local M = { name = "claude", version = "1" }

--- Variables the CLI needs, passed through from agentflow's environment.
M.ENV = { "ANTHROPIC_API_KEY", "ANTHROPIC_AUTH_TOKEN", "ANTHROPIC_BASE_URL", "ANTHROPIC_MODEL",
  "CLAUDE_CONFIG_DIR", "CLAUDE_CODE_USE_BEDROCK", "CLAUDE_CODE_USE_VERTEX", "AWS_REGION",
  "AWS_PROFILE", "CLOUD_ML_REGION", "ANTHROPIC_VERTEX_PROJECT_ID" }

local function tools_flag(tools)
  if type(tools) == "table" then
    return table.concat(tools, " ")
  end
  return (tostring(tools):gsub("%s*,%s*", " "))
end

--- The command line for `agent`; opts.budget_usd is what the run may still spend.
function M.argv(agent, opts)
  local argv = { agent.cli or "claude", "-p", "--output-format", "json" }
  local function add(...)
    for _, a in ipairs({ ... }) do
      argv[#argv + 1] = a
    end
  end
  if agent.system_prompt and agent.system_prompt ~= "" then
    add("--append-system-prompt", agent.system_prompt)
  end
  if agent.model and agent.model ~= "inherit" then
    add("--model", tostring(agent.model))
  end
  if agent.max_turns then
    add("--max-turns", string.format("%d", agent.max_turns))
  end
  if opts.budget_usd then
    add("--max-budget-usd", string.format("%.4f", opts.budget_usd))
  end
  if agent.tools then
    add("--allowedTools", tools_flag(agent.tools))
  end
  if agent.permission_mode then
    add("--permission-mode", tostring(agent.permission_mode))
  end
  return argv
end

local function number(v)
  return type(v) == "number" and v or 0
end

-- Tokens and the other figures of a result document.
local function accounting(doc)
  local u = type(doc.usage) == "table" and doc.usage or {}
  return {
    cost_usd = number(doc.total_cost_usd) > 0 and doc.total_cost_usd or number(doc.cost_usd),
    tokens = { input = number(u.input_tokens) + number(u.cache_read_input_tokens)
      + number(u.cache_creation_input_tokens), output = number(u.output_tokens) },
    metrics = { session_id = doc.session_id, num_turns = doc.num_turns, duration_ms = doc.duration_ms,
      duration_api_ms = doc.duration_api_ms, cache_read_tokens = u.cache_read_input_tokens },
  }
end

local REASONS = { error_max_turns = "max_turns", error_max_budget_usd = "max_budget",
  error_during_execution = "agent_error", error_max_structured_output_retries = "invalid_output" }

local function from_doc(doc)
  local r = accounting(doc)
  local text = type(doc.result) == "string" and doc.result or nil
  if doc.subtype == "success" and doc.is_error ~= true then
    r.status = "success"
    r.output = doc.structured_output ~= nil and doc.structured_output ~= cjson.null
      and doc.structured_output or text
    r.summary = text and text:match("^%s*([^\n]*)"):sub(1, 200)
    return r
  end
  r.status = "failed"
  r.reason = REASONS[doc.subtype] or cli.throttled(text) or "agent_error"
  local what = doc.subtype == "success" and "an error" or tostring(doc.subtype or "an error")
  r.error = string.format("claude reported %s%s", what,
    text and text ~= "" and ": " .. text:match("^%s*([^\n]*)") or "")
  return r
end

--- The result of a finished `claude` process.
function M.interpret(res, timeout)
  local failure = cli.process_failure(res, timeout)
  if failure then
    return failure
  end
  if res.stdout:match("^%s*$") then
    if res.code ~= 0 then
      return cli.exit_failure(res, { reason = cli.throttled(res.stderr) or "exit" })
    end
    return { status = "failed", reason = "empty_output", error = "claude printed nothing" }
  end
  local doc = cjson.decode(res.stdout)
  if type(doc) ~= "table" then
    local throttled = cli.throttled(res.stdout .. "\n" .. res.stderr)
    if res.code ~= 0 then
      return cli.exit_failure(res, { reason = throttled or "exit" })
    end
    return { status = "failed", reason = throttled or "invalid_output",
      error = "claude's output is not its JSON result: " .. res.stdout:sub(1, 120):match("^[^\n]*") }
  end
  return from_doc(doc)
end

function M.run(agent, task, opts)
  local res = cli.run(agent, M.argv(agent, opts), cli.render(task), opts, M.ENV)
  return M.interpret(res, opts.timeout)
end

return M
