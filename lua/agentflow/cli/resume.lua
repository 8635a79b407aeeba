--- The lookup behind `agentflow resume RUN_ID` (core/cmd_resume.c).
local args = require "agentflow.cli._args"
local runs = require "agentflow._runs"

local M = {}

--- exit code, {script, args...}: what to run to resume run `id`. A
-- finished run is said so (exit 0, nothing to run).
function M.look_up(id)
  if not runs.valid_id(id) then
    return args.error(64, "bad run id %q (letters, digits, '.', '_' and '-' only)", id)
  end
  local rec = runs.get(id)
  if not rec then
    return args.error(66, "no run %s (see agentflow runs)", id)
  end
  if rec.status == "running" then
    return args.error(69, "run %s is still running (pid %s)", id, tostring(rec.pid))
  end
  if rec.status == "done" or rec.status == "degraded" then
    print(string.format("run %s finished (%s): nothing to resume", id, rec.status))
    return 0
  end
  local f = rec.script and io.open(rec.script)
  if f then
    f:close()
  else
    return args.error(66, "run %s: its script %s is gone", id, tostring(rec.script))
  end
  local argv = { rec.script }
  for _, a in ipairs(rec.args or {}) do
    argv[#argv + 1] = a
  end
  return 0, argv
end

return M
