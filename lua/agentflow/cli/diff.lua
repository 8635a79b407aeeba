--- agentflow diff RUN_ID STEP [--stat] [--json]: the patch of an editing step.
local args = require "agentflow.cli._args"
local cache = require "agentflow._cache"
local cjson = require "cjson.safe"
local edits = require "agentflow._edits"
local exec = require "agentflow._exec"
local files = require "agentflow._files"
local journal = require "agentflow._journal"
local runs = require "agentflow._runs"

local M = {}

-- The patch ({hash, files}) of journal record `rec`: its own, or for a
-- step the cache answered, its entry's.
local function patch_of(rec)
  if rec.result and rec.result.patch then
    return rec.result.patch
  end
  local e = rec.cached and rec.key and cache.entry(rec.key)
  return e and e.result and e.result.patch
end

function M.main(argv)
  local opts, operands = args.parse(argv, 1, { stat = "flag", json = "flag" })
  if not opts then
    return args.usage_error("diff", "%s", operands)
  end
  local run_id, step = operands[1], math.tointeger(tonumber(operands[2] or ""))
  if not run_id or not step or #operands > 2 then
    return args.usage_error("diff", "diff needs RUN_ID and a STEP number")
  end
  local _, code = args.run_record(runs, run_id)
  if code then
    return code
  end
  local rec = journal.get(run_id, step)
  if not rec then
    return args.error(66, "no step %d in run %s", step, run_id)
  end
  local patch = patch_of(rec)
  if not patch then
    io.stderr:write(string.format("agentflow: step %d (%s) made no changes\n", step, rec.agent or "?"))
    return 1
  end
  local text = edits.load(patch.hash)
  if not text then
    return args.error(66, "the patch of step %d (%s) is no longer stored", step, patch.hash)
  end
  if opts.json then
    io.stdout:write(cjson.encode({ run_id = run_id, step = step, agent = rec.agent, patch = patch.hash,
      files = patch.files }):gsub("\\/", "/"), "\n")
  elseif opts.stat then
    local r = exec.exec({ "git", "-C", files.root(), "apply", "--stat" }, { stdin = text })
    io.stdout:write(r.stdout or "")
  else
    io.stdout:write(text)
  end
  return 0
end

return M
