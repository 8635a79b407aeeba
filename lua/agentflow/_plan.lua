--- `agentflow plan`: each agent step is looked up, never run, and printed
-- on stdout as HIT, STALE (reasons) or MISS. A hit returns its cached
-- result, so the workflow goes on as it would; anything else returns a
-- result with status "planned", and what depends on one is shown as a step
-- the plan cannot see past.
local core = require "agentflow.core"

local M = {}

local counts = { HIT = 0, STALE = 0, MISS = 0, ["?"] = 0 }

--- Whether this process is planning.
function M.active()
  return core.options.plan ~= nil
end

local function line(tag, step, agent, detail)
  counts[tag] = counts[tag] + 1
  local text = string.format("%-6s step %-3d %s", tag, step, agent)
  if detail then
    text = string.format("%-40s %s", text, detail)
  end
  io.stdout:write(text, "\n")
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
  local state, reasons = require("agentflow._cache").explain(c)
  if state == "hit" then
    local r = require("agentflow._cache").hit(c)
    r.agent, r.step = name, step
    line("HIT", step, name)
    return r
  end
  planned.key = c.key
  if state == "stale" then
    line("STALE", step, name, "(" .. table.concat(reasons, "; ") .. ")")
  else
    line("MISS", step, name)
  end
  return planned
end

--- A branch the plan cannot see past: the condition is a planned result.
function M.unknown_branch(what, r)
  io.stdout:write(string.format("?      %s depends on step %d (%s), which is not known before it runs\n",
    what, r.step or 0, r.agent or "?"))
  counts["?"] = counts["?"] + 1
end

--- af.exec during a plan: not run.
function M.exec(argv)
  io.stdout:write("EXEC   " .. table.concat(argv, " ") .. "  (not run)\n")
  return { planned = true, stdout = "", stderr = "", error = "not run: this is a plan",
    reason = "planned" }
end

--- The closing line.
function M.summary()
  io.stdout:write(string.format("plan: %d hit, %d stale, %d miss%s\n", counts.HIT, counts.STALE,
    counts.MISS, counts["?"] > 0 and string.format(", %d unknown", counts["?"]) or ""))
end

return M
