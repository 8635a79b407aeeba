--- The `plan` executor: writes the seed's execution plan for the agent —
-- how to run it with Claude Code's Task tool or a slash command — and runs
-- nothing. Status "planned". The default executor when `claude` is not on
-- PATH.
local cjson = require "cjson.safe"

local M = { name = "plan", version = "1" }

local function files_section(files)
  if #files == 0 then
    return "  (none)"
  end
  local out = {}
  for i, f in ipairs(files) do
    out[i] = "  - " .. f
  end
  return table.concat(out, "\n")
end

local function params_section(params)
  if next(params) == nil then
    return "  (none)"
  end
  local keys = {}
  for k in pairs(params) do
    keys[#keys + 1] = tostring(k)
  end
  table.sort(keys)
  local out = {}
  for i, k in ipairs(keys) do
    local v = params[k]
    out[i] = string.format("  %s: %s", k, type(v) == "table" and (cjson.encode(v) or "?") or tostring(v))
  end
  return table.concat(out, "\n")
end

--- The plan text for `name` and `task`, in the seed's shape.
function M.text(name, task)
  local prompt = task.prompt or ""
  local short = #prompt > 50 and prompt:sub(1, 50) .. "..." or prompt
  return table.concat({
    "AGENT EXECUTION PLAN",
    "====================",
    "",
    "Agent: " .. name,
    "Prompt: " .. prompt,
    "",
    string.format("Input Files (%d):", #task.files),
    files_section(task.files),
    "",
    "Parameters:",
    params_section(task.params),
    "",
    "EXECUTION INSTRUCTIONS:",
    "-----------------------",
    "To execute this agent, use the Task tool:",
    "",
    "Task(",
    string.format('    description="%s: %s",', name, short),
    string.format('    prompt="""%s""",', prompt),
    string.format('    subagent_type="%s"', name),
    ")",
    "",
    "Or execute manually via slash command:",
    string.format("/agent:%s %s", name, prompt),
    "",
    "Expected Output:",
    "- Summary of actions taken",
    "- Artifacts created (files, reports, etc.)",
    "- Metrics (tool calls, files read, lines generated, errors)",
    "- Context tokens used",
    "",
  }, "\n")
end

function M.run(agent, task)
  local text = M.text(agent.name, task)
  return { status = "planned", output = text,
    summary = string.format("planned: %s (run it with the Task tool or /agent:%s)", agent.name, agent.name) }
end

return M
