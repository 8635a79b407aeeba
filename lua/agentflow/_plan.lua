--- `agentflow plan`: each agent step is looked up, never run, and printed
-- on stdout as HIT, STALE (reasons) or MISS, with the files its key holds.
-- A hit returns its cached result, so the workflow goes on as it would;
-- anything else returns a result with status "planned", and what depends
-- on one is shown as a step the plan cannot see past. With --json, each
-- line is a JSON object instead.
local cache = require "agentflow._cache"
local cjson = require "cjson.safe"
local core = require "agentflow.core"
local util = require "agentflow._util"

local M = {}

local counts = { HIT = 0, STALE = 0, MISS = 0, ["?"] = 0 }

--- Whether this process is planning.
function M.active()
  return core.options.plan ~= nil
end

-- "       files: a, b" lines: what the key of `c` holds.
local function held(c)
  local out = ""
  for _, what in ipairs({ { "files", c.paths }, { "configs", c.config_paths } }) do
    if #what[2] > 0 then
      out = out .. string.format("%-7s%s: %s\n", "", what[1], table.concat(what[2], ", "))
    end
  end
  return out
end

-- One step of the plan: a line (with the files its key `c` holds), or
-- with --json an object {state, step, agent, detail, reasons, key, files, configs}.
local function line(tag, step, agent, detail, c, reasons)
  counts[tag] = counts[tag] + 1
  if core.options.json then
    io.stdout:write(util.json_with_arrays({ state = tag, step = step, agent = agent, detail = detail,
      key = c and c.key }, { reasons = reasons or {}, files = c and c.paths or {},
      configs = c and c.config_paths or {} }), "\n")
    return
  end
  local text = string.format("%-6s step %-3d %s", tag, step, agent)
  if detail then
    text = string.format("%-40s %s", text, detail)
  end
  io.stdout:write(text, "\n", c and held(c) or "")
end

--- The planned result of a step: `cacheable` is false for cache = false
-- agents, `c` is its cache identity (nil when there is no store yet),
-- `unknown` names what it depends on that is planned.
function M.step(name, step, cacheable, c, unknown)
  local planned = { status = "planned", agent = name, step = step, metrics = {}, cached = false,
    attempts = 0, duration = 0, cost_usd = 0, tokens = { input = 0, output = 0 } }
  if unknown then
    line("?", step, name, "cannot see past: its input comes from " .. unknown)
    return planned
  end
  if not cacheable then
    line("MISS", step, name, "(cache = false: always runs)")
    return planned
  end
  if not c then
    line("MISS", step, name)
    return planned
  end
  local state, reasons = cache.explain(c)
  if state == "hit" then
    local r = cache.hit(c.agent, c.key)
    r.agent, r.step = name, step
    line("HIT", step, name, nil, c)
    return r
  end
  planned.key = c.key
  if state == "stale" then
    line("STALE", step, name, "(" .. table.concat(reasons, "; ") .. ")", c, reasons)
  else
    line("MISS", step, name, nil, c)
  end
  return planned
end

--- A branch the plan cannot see past: the condition is a planned result.
function M.unknown_branch(what, r)
  local detail = string.format("%s depends on step %d (%s), which is not known before it runs",
    what, r.step or 0, r.agent or "?")
  if core.options.json then
    io.stdout:write(cjson.encode({ state = "?", detail = detail }), "\n")
  else
    io.stdout:write("?      ", detail, "\n")
  end
  counts["?"] = counts["?"] + 1
end

--- af.exec during a plan: not run.
function M.exec(argv)
  if core.options.json then
    io.stdout:write(cjson.encode({ state = "EXEC", argv = argv }), "\n")
  else
    io.stdout:write("EXEC   " .. table.concat(argv, " ") .. "  (not run)\n")
  end
  return { planned = true, stdout = "", stderr = "", error = "not run: this is a plan",
    reason = "planned" }
end

--- The closing line.
function M.summary()
  if core.options.json then
    io.stdout:write(cjson.encode({ plan = { hit = counts.HIT, stale = counts.STALE, miss = counts.MISS,
      unknown = counts["?"] } }), "\n")
    return
  end
  io.stdout:write(string.format("plan: %d hit, %d stale, %d miss%s\n", counts.HIT, counts.STALE,
    counts.MISS, counts["?"] > 0 and string.format(", %d unknown", counts["?"]) or ""))
end

return M
