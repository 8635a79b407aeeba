--- The lookup behind `agentflow resume RUN_ID` (core/cmd_resume.c).
local args = require "agentflow.cli._args"
local journal = require "agentflow._journal"
local runs = require "agentflow._runs"

local M = {}

local function checkpoint_step(id, label)
  local names = {}
  for _, cp in ipairs(journal.checkpoints(id)) do
    if cp.label == label then
      return cp.step
    end
    names[#names + 1] = cp.label
  end
  return nil, #names > 0 and table.concat(names, ", ") or "none"
end

--- exit code, {script, args...}, until: what to run to resume run `id`;
-- with checkpoint `from`, a fork replaying up to step `until`. A finished
-- run is said so (exit 0, nothing to run) unless forked.
function M.look_up(id, from)
  local rec, code = args.run_record(runs, id)
  if not rec then
    return code
  end
  local until_step
  if from then
    local known
    until_step, known = checkpoint_step(id, from)
    if not until_step then
      return args.error(66, "run %s has no checkpoint %q (it has: %s)", id, from, known)
    end
  end
  local why_not = runs.NOT_RESUMABLE[runs.kind(rec)]
  if why_not then
    return args.error(66, "run %s %s", id, why_not)
  end
  if rec.status == "running" then
    return args.error(69, "run %s is still running (pid %s)", id, tostring(rec.pid))
  end
  if not from and (rec.status == "done" or rec.status == "degraded") then
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
  return 0, argv, until_step
end

return M
