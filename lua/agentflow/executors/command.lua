--- The `command` executor: runs the agent's program (never through a shell)
-- with the task as one JSON object on stdin. A JSON object with a `status`
-- field on stdout is the result; any other stdout is the `output` of a
-- success (exit 0) or a failure.
local cjson = require "cjson.safe"
local cli = require "agentflow.executors._cli"

local M = { name = "command", version = "1" }

local STATUSES = { success = true, failed = true, skipped = true, degraded = true }

-- cjson.null and other non-Lua values read as absent.
local function field(t, k, want)
  local v = t[k]
  if type(v) == want then
    return v
  end
end

local function from_json(doc)
  if not STATUSES[doc.status] then
    return { status = "failed", reason = "invalid_output",
      error = string.format("the result's status %q is not one of success, failed, skipped, degraded",
        tostring(doc.status)) }
  end
  local tokens = field(doc, "tokens", "table")
  return {
    status = doc.status,
    summary = field(doc, "summary", "string"),
    output = doc.output ~= cjson.null and doc.output or nil,
    metrics = field(doc, "metrics", "table"),
    cost_usd = field(doc, "cost_usd", "number"),
    tokens = tokens and { input = field(tokens, "input", "number") or 0,
      output = field(tokens, "output", "number") or 0 },
    error = field(doc, "error", "string"),
    reason = field(doc, "reason", "string"),
  }
end

--- The result of a finished process `res` (from af.exec).
function M.interpret(res, timeout)
  local failure = cli.process_failure(res, timeout)
  if failure then
    return failure
  end
  if res.stdout:match("^%s*{") then
    local doc = cjson.decode(res.stdout)
    if type(doc) == "table" and doc.status ~= nil then
      return from_json(doc)
    end
  end
  if res.code == 0 then
    return { status = "success", output = res.stdout }
  end
  return cli.exit_failure(res)
end

--- The task as the one JSON object the program reads on stdin. Built by
-- hand so that `files` is an array even when empty (cjson writes an empty
-- table as an object).
function M.task_json(task)
  local files = {}
  for i, f in ipairs(task.files) do
    files[i] = cjson.encode(f)
  end
  local params, err = cjson.encode(task.params)
  if not params then
    return nil, "params cannot be sent as JSON: " .. err
  end
  return string.format(
    '{"agent":%s,"prompt":%s,"files":[%s],"params":%s,"run_id":%s,"step":%d,"idempotency_key":%s}',
    cjson.encode(task.agent), cjson.encode(task.prompt), table.concat(files, ","),
    params, cjson.encode(task.run_id), task.step,
    cjson.encode(task.idempotency_key))
end

--- Run `agent` on `task` ({agent, prompt, files, params, run_id, step,
-- idempotency_key}); `opts.timeout` in seconds.
function M.run(agent, task, opts)
  local input, err = M.task_json(task)
  if not input then
    return { status = "failed", reason = "invalid_input", error = err }
  end
  local res = cli.run(agent, agent.command, input, opts)
  return M.interpret(res, opts.timeout)
end

return M
