--- agentflow why RUN_ID STEP: which parts of a step's cache key changed,
-- and which files and configs the key holds.
local args = require "agentflow.cli._args"
local cache = require "agentflow._cache"
local journal = require "agentflow._journal"
local runs = require "agentflow._runs"
local util = require "agentflow._util"

local M = {}

-- The entry the step is compared with: the newest of the same agent and
-- prompt (else agent) made before the step ended, passing over the step's
-- own entry when it stored one.
local function previous(rec)
  local h = cache.handle()
  if not h then
    return nil
  end
  for _, prefix in ipairs({ rec.lineage_p, rec.lineage_a }) do
    local key = h:previous(prefix, rec.key or "", rec.stored == true, rec.finished_at)
    if key then
      return key
    end
  end
end

local function explain(rec)
  if rec.cached then
    return "hit", {}
  end
  if not rec.key then
    return "uncached", { "the agent is not cached (cache = false)" }
  end
  local prev = previous(rec)
  if not prev then
    return "miss", { "no earlier entry for this agent" }
  end
  if prev == rec.key then
    return "stale", { "ttl" }
  end
  local old, new = cache.manifest(prev), cache.manifest(rec.key)
  if not old or not new then
    return "miss", { "the earlier manifest is gone (invalidated or pruned)" }
  end
  local reasons = cache.diff(old.parts, new.parts)
  return "stale", #reasons > 0 and reasons or { "ttl" }
end

-- The files and configs the key of step record `rec` holds (its
-- manifest's), sorted: two arrays, empty when the manifest is gone.
local function held(rec)
  local m = rec.key and cache.manifest(rec.key)
  local parts = m and m.parts or {}
  return util.sorted_keys(parts.files), util.sorted_keys(parts.configs)
end

local function print_held(what, list)
  if #list > 0 then
    print(string.format("its key holds %d %s: %s", #list, #list == 1 and what or what .. "s",
      table.concat(list, ", ")))
  end
end

function M.main(argv)
  local opts, operands = args.parse(argv, 1, { json = "flag" })
  if not opts then
    return args.usage_error("why", "%s", operands)
  end
  local run_id, step = operands[1], math.tointeger(tonumber(operands[2] or ""))
  if not run_id or not step or #operands > 2 then
    return args.usage_error("why", "why needs RUN_ID and a STEP number")
  end
  local run, code = args.run_record(runs, run_id)
  if not run then
    return code
  end
  local rec = journal.get(run_id, step)
  if not rec then
    return args.error(66, "no step %d in run %s", step, run_id)
  end
  local state, reasons = explain(rec)
  local held_files, held_configs = held(rec)
  if opts.json then
    io.stdout:write(util.json_with_arrays({ run_id = run_id, step = step, agent = rec.agent,
      key = rec.key, state = state }, { reasons = reasons, files = held_files, configs = held_configs }), "\n")
    return 0
  end
  if state == "hit" then
    print(string.format("step %d (%s) was a cache hit: nothing changed", step, rec.agent))
  else
    print(string.format("step %d (%s) %s:", step, rec.agent,
      state == "stale" and "missed because" or "ran:"))
    for _, r in ipairs(reasons) do
      print("  " .. r)
    end
  end
  print_held("file", held_files)
  print_held("config", held_configs)
  return 0
end

return M
