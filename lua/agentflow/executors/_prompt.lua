--- The prompt a coding-agent CLI receives: the task's prompt, then the
-- declared input files and the params, so the agent knows what to read.
local cjson = require "cjson.safe"

local M = {}

function M.render(task)
  local parts = { task.prompt or "" }
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
-- out, killed), or nil when it ran to the end.
function M.process_failure(res, timeout)
  if res.error then
    return { status = "failed", reason = res.reason, error = res.error }
  elseif res.timed_out then
    return { status = "failed", reason = "timeout", error = string.format("timed out after %gs", timeout) }
  elseif res.signal then
    return { status = "failed", reason = "signal", error = string.format("killed by signal %d", res.signal) }
  end
end

--- A failure for a non-zero exit: "exited with code N: <last stderr line>".
function M.exit_failure(res, extra)
  local err = M.last_line(res.stderr)
  local r = { status = "failed", reason = "exit",
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

return M
