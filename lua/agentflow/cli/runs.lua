--- agentflow runs [ls | show RUN_ID | prune --older-than AGE] [--json]
local args = require "agentflow.cli._args"
local edits = require "agentflow._edits"
local cjson = require "cjson.safe"
local journal = require "agentflow._journal"
local runs = require "agentflow._runs"
local util = require "agentflow._util"

local M = {}

local function iso(t)
  return t and os.date("!%Y-%m-%dT%H:%M:%SZ", math.floor(t)) or nil
end

local function row(rec)
  return { run_id = rec.run_id, kind = runs.kind(rec), workflow = rec.workflow, status = rec.status,
    parent = rec.parent, started_at = iso(rec.started_at), finished_at = iso(rec.finished_at),
    script = rec.script, args = rec.args, steps = rec.steps, duration = rec.duration, pattern = rec.pattern,
    resumes = rec.resumes, pid = rec.pid }
end

-- The number of steps in a record's counts by status, and those counts
-- as text ("1 failed, 2 success").
local function step_counts(rec)
  local n, parts = 0, {}
  for _, status in ipairs(util.sorted_keys(rec.steps)) do
    n = n + rec.steps[status]
    parts[#parts + 1] = string.format("%d %s", rec.steps[status], status)
  end
  return n, table.concat(parts, ", ")
end

local function ls(opts)
  local list = runs.list()
  if opts.json then
    local rows = {}
    for i, rec in ipairs(list) do
      rows[i] = row(rec)
    end
    io.stdout:write(#rows == 0 and "[]" or cjson.encode(rows), "\n")
    return 0
  end
  print(string.format("%-27s %-24s %-11s %-20s %8s %6s", "run", "workflow", "status", "started",
    "duration", "steps"))
  for _, rec in ipairs(list) do
    local n = step_counts(rec)
    print(string.format("%-27s %-24s %-11s %-20s %8s %6d", rec.run_id, rec.workflow, rec.status,
      iso(rec.started_at) or "", rec.duration and util.format_seconds(rec.duration) or "-", n))
  end
  return 0
end

-- What `runs show` says of a run that was not a workflow script, in place
-- of its script.
local ORIGIN = {
  repl = "REPL session (REPL sessions cannot be resumed)",
  chunk = "-e chunks (cannot be resumed)",
  stdin = "script read from standard input (cannot be resumed)",
}

-- A step of `runs show`: its number, agent, status and error. A step left
-- `started` was in flight when the run stopped; an in-process one's record
-- is not committed as it goes, so it may have run further (see _journal.lua).
local function step_line(s)
  local r = s.result or {}
  local status = s.cached and "cached" or (r.status or s.state)
  if s.state == "started" and not s.durable then
    status = status .. " (re-runnable)"
  end
  return string.format("  %4d %-28s %-10s%s", s.step, s.agent or "?", status,
    r.error and ("  " .. tostring(r.error):match("[^\n]*")) or "")
end

local function show(opts, id)
  if not id then
    return args.usage_error("runs", "runs show needs a RUN_ID")
  end
  local rec, code = args.run_record(runs, id)
  if not rec then
    return code
  end
  local steps, unreadable = journal.steps(id)
  if unreadable then
    io.stderr:write("agentflow: warning: ", unreadable, "\n")
  end
  local checkpoints = journal.checkpoints(id)
  if opts.json then
    local doc = row(rec)
    doc.step_records = #steps > 0 and steps or nil
    doc.checkpoints = #checkpoints > 0 and checkpoints or nil
    io.stdout:write(cjson.encode(doc), "\n")
    return 0
  end
  print(string.format("run %s: %s, %s", id, rec.workflow, rec.status))
  local argv = table.concat(rec.args or {}, " ")
  local what = ORIGIN[runs.kind(rec)] or "script " .. tostring(rec.script)
  print("  " .. what .. (argv ~= "" and " " .. argv or ""))
  print(string.format("  started %s, %s %s", iso(rec.started_at) or "-",
    rec.status == "interrupted" and "stopped" or "finished", iso(rec.finished_at) or "-"))
  if rec.steps then
    local n, text = step_counts(rec)
    print(string.format("  %d step%s%s in %s", n, n == 1 and "" or "s", n > 0 and " (" .. text .. ")" or "",
      util.format_seconds(rec.duration or 0)))
  end
  for _, cp in ipairs(checkpoints) do
    print(string.format("  checkpoint %-16s after step %d", cp.label, cp.step))
  end
  for _, s in ipairs(steps) do
    print(step_line(s))
  end
  return 0
end

local function prune(opts)
  local age = opts["older-than"] and util.seconds(opts["older-than"])
  if not age then
    return args.usage_error("runs", "runs prune needs --older-than AGE (like 30d or 12h)")
  end
  local n = runs.prune(age)
  -- and the workspaces of editing steps that no running run holds
  edits.prune(function(id)
    local rec = runs.get(id)
    return rec and rec.status == "running"
  end)
  edits.collect()
  if opts.json then
    io.stdout:write(cjson.encode({ removed = n }), "\n")
  else
    print(string.format("removed %d run%s", n, n == 1 and "" or "s"))
  end
  return 0
end

function M.main(argv)
  local sub = argv[1]
  local first = 2
  if sub == nil or sub:match("^%-") then
    sub, first = "ls", 1
  end
  local commands = { ls = ls, show = show, prune = prune }
  if not commands[sub] then
    return args.usage_error("runs", "unknown runs command '%s'", sub)
  end
  local opts, operands = args.parse(argv, first, { json = "flag", ["older-than"] = "value" })
  if not opts then
    return args.usage_error("runs", "%s", operands)
  end
  return commands[sub](opts, operands[1])
end

return M
