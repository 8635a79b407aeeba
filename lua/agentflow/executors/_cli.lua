--- What the executors share: the prompt a coding-agent CLI receives,
-- running a program with the agent's environment, and reading how a
-- process ended.
local cjson = require "cjson.safe"
local exec = require "agentflow._exec"

local M = {}

--- The prompt: the agent's system prompt (for CLIs without a flag for it),
-- the task's prompt, then the declared input files and the params, so the
-- agent knows what to read.
function M.render(task, system_prompt)
  local parts = { task.prompt or "" }
  if system_prompt and system_prompt ~= "" then
    table.insert(parts, 1, system_prompt)
  end
  if task.files and #task.files > 0 then
    local list = {}
    for i, f in ipairs(task.files) do
      list[i] = "- " .. f
    end
    parts[#parts + 1] = "Input files:\n" .. table.concat(list, "\n")
  end
  if task.params and next(task.params) ~= nil then
    parts[#parts + 1] = "Parameters (JSON): " .. (cjson.encode(task.params) or "{}")
  end
  return table.concat(parts, "\n\n")
end

--- The last non-empty line of `s`, at most 500 bytes.
function M.last_line(s)
  return ((s or ""):match("([^\n]+)\n*$") or ""):sub(1, 500)
end

--- The result of a process that did not get to answer (not started, timed
-- out, killed), or whose answer was cut at max_output; nil when it ran to
-- the end and everything it wrote was kept. A cut answer is a failure:
-- read as a success, it would be cached as the agent's result.
function M.process_failure(res, timeout)
  if res.error then
    return { status = "failed", reason = res.reason, error = res.error }
  elseif res.timed_out then
    return { status = "failed", reason = "timeout", output = res.stdout,
      error = string.format("timed out after %gs", timeout) }
  elseif res.signal then
    return { status = "failed", reason = "signal", output = res.stdout,
      error = string.format("killed by signal %d", res.signal) }
  elseif res.stdout_truncated then
    return { status = "failed", reason = "output_truncated",
      error = string.format("its output was cut at max_output (%d bytes kept, more written): "
        .. "the agent's max_output can raise the limit", #res.stdout) }
  end
end

--- A failure for a non-zero exit: "exited with code N: <last stderr line>",
-- with what the program printed as the output; `extra` fields override.
function M.exit_failure(res, extra)
  local err = M.last_line(res.stderr)
  local r = { status = "failed", reason = "exit", output = res.stdout,
    error = string.format("exited with code %d%s", res.code, err ~= "" and ": " .. err or "") }
  for k, v in pairs(extra or {}) do
    r[k] = v
  end
  return r
end

--- Whether a CLI's words say it was rate limited (429) or overloaded (529):
-- reasons the scheduler retries with a longer backoff.
function M.throttled(text)
  text = (text or ""):lower()
  if text:find("529", 1, true) or text:find("overloaded", 1, true) then
    return "overloaded"
  elseif text:find("429", 1, true) or text:find("rate limit", 1, true) or text:find("rate_limit", 1, true) then
    return "rate_limited"
  end
end

--- The agent's environment for a CLI: the variables `names` passed
-- through, then the agent's own `env` (as af.exec takes it).
function M.environment(agent, names)
  local env = {}
  for _, n in ipairs(names) do
    env[#env + 1] = n
  end
  for k, v in pairs(agent.env or {}) do
    if math.type(k) == "integer" then
      env[#env + 1] = v
    else
      env[k] = v
    end
  end
  return env
end

--- Run `argv` for `agent` (stdin may be nil), with its grace, cwd and
-- environment plus `names`; opts.timeout in seconds.
function M.run(agent, argv, stdin, opts, names)
  local res = exec.exec(argv, { stdin = stdin, timeout = opts.timeout, grace = agent.grace,
    env = M.environment(agent, names or {}), cwd = agent.cwd, max_output = agent.max_output })
  return res
end

return M
