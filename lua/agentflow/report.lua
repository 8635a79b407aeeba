--- Reports of a run: Markdown for people, JSON for programs, JUnit XML
-- for CI. Built from a run record and its journal's step records.
local cjson = require "cjson.safe"

local M = {}

M.FORMATS = { md = true, json = true, junit = true }

-- One row per step: what every format shows.
local function rows(steps)
  local out, totals = {}, { steps = 0, cached = 0, cost_usd = 0, duration = 0, failed = 0, skipped = 0 }
  for _, s in ipairs(steps) do
    local r = s.result or {}
    local row = {
      step = s.step, kind = s.kind or "agent", agent = s.agent or "?",
      status = s.cached and "success" or r.status or (s.state == "started" and "started") or "?",
      cached = s.cached or false, attempts = r.attempts or 0, duration = r.duration or 0,
      cost_usd = r.cost_usd or 0, error = r.error, patch = r.patch,
    }
    out[#out + 1] = row
    totals.steps = totals.steps + 1
    totals.cached = totals.cached + (row.cached and 1 or 0)
    totals.cost_usd = totals.cost_usd + row.cost_usd
    totals.duration = totals.duration + row.duration
    totals.failed = totals.failed + ((row.status == "failed" or row.status == "started") and 1 or 0)
    totals.skipped = totals.skipped + (row.status == "skipped" and 1 or 0)
  end
  return out, totals
end

local function markdown(run, list, totals)
  local lines = {
    string.format("# Run %s: %s", run.run_id, run.workflow or "?"), "",
    string.format("Status: **%s**. %d steps, %d from the cache, %d failed, %d skipped; cost $%.4f.",
      run.status or "?", totals.steps, totals.cached, totals.failed, totals.skipped, totals.cost_usd), "",
    "| step | agent | status | cached | attempts | duration (s) | cost ($) |",
    "|-----:|-------|--------|--------|---------:|-------------:|---------:|",
  }
  for _, r in ipairs(list) do
    lines[#lines + 1] = string.format("| %d | %s | %s | %s | %d | %.3f | %.4f |", r.step, r.agent,
      r.status, r.cached and "yes" or "no", r.attempts, r.duration, r.cost_usd)
  end
  local changes = {}
  for _, r in ipairs(list) do
    if r.patch then
      changes[#changes + 1] = string.format("- step %d (%s): %s — `agentflow diff %s %d`", r.step, r.agent,
        table.concat(r.patch.files or {}, ", "), run.run_id, r.step)
    end
  end
  if #changes > 0 then
    lines[#lines + 1] = ""
    lines[#lines + 1] = "## Changes"
    lines[#lines + 1] = ""
    for _, c in ipairs(changes) do
      lines[#lines + 1] = c
    end
  end
  local errors = {}
  for _, r in ipairs(list) do
    if r.error and r.status ~= "success" then
      errors[#errors + 1] = string.format("- step %d (%s): %s", r.step, r.agent,
        tostring(r.error):match("[^\n]*"))
    end
  end
  if #errors > 0 then
    lines[#lines + 1] = ""
    lines[#lines + 1] = "## Errors"
    lines[#lines + 1] = ""
    for _, e in ipairs(errors) do
      lines[#lines + 1] = e
    end
  end
  return table.concat(lines, "\n") .. "\n"
end

local function xml(s)
  return (tostring(s):gsub("[&<>\"']", { ["&"] = "&amp;", ["<"] = "&lt;", [">"] = "&gt;",
    ['"'] = "&quot;", ["'"] = "&apos;" }):gsub("[%z\1-\8\11\12\14-\31]", ""))
end

local function junit(run, list, totals)
  local suite = run.workflow or "workflow"
  local out = {
    '<?xml version="1.0" encoding="UTF-8"?>',
    string.format('<testsuites name="agentflow" tests="%d" failures="%d" skipped="%d" time="%.3f">',
      totals.steps, totals.failed, totals.skipped, totals.duration),
    string.format('  <testsuite name="%s" id="%s" tests="%d" failures="%d" skipped="%d" time="%.3f">',
      xml(suite), xml(run.run_id), totals.steps, totals.failed, totals.skipped, totals.duration),
  }
  for _, r in ipairs(list) do
    local name = string.format("step %d: %s%s", r.step, r.kind == "exec" and "exec " or "", r.agent)
    local open = string.format('    <testcase classname="%s" name="%s" time="%.3f"', xml(suite), xml(name),
      r.duration)
    if r.status == "failed" or r.status == "started" then
      local msg = r.error or (r.status == "started" and "did not finish" or "failed")
      out[#out + 1] = open .. ">"
      out[#out + 1] = string.format('      <failure message="%s">%s</failure>',
        xml(tostring(msg):match("[^\n]*")), xml(msg))
      out[#out + 1] = "    </testcase>"
    elseif r.status == "skipped" then
      out[#out + 1] = open .. ">"
      out[#out + 1] = string.format('      <skipped message="%s"/>', xml(r.error or "skipped (critical = false)"))
      out[#out + 1] = "    </testcase>"
    else
      out[#out + 1] = open .. "/>"
    end
  end
  out[#out + 1] = "  </testsuite>"
  out[#out + 1] = "</testsuites>"
  return table.concat(out, "\n") .. "\n"
end

--- The report of run record `run` with journal `steps` in `format`.
function M.render(format, run, steps)
  local list, totals = rows(steps)
  if format == "md" then
    return markdown(run, list, totals)
  elseif format == "junit" then
    return junit(run, list, totals)
  end
  return cjson.encode({ run_id = run.run_id, workflow = run.workflow, status = run.status,
    started_at = run.started_at, finished_at = run.finished_at, totals = totals,
    steps = #list > 0 and list or nil }) .. "\n"
end

return M
