--- What a run leaves for CI when it ends: `run --junit FILE` writes the
-- JUnit report; under GitHub Actions (GITHUB_ACTIONS=true) failed steps
-- become error annotations, warnings become warning annotations, and the
-- Markdown report is appended to $GITHUB_STEP_SUMMARY.
local core = require "agentflow.core"
local journal = require "agentflow._journal"
local report = require "agentflow.report"
local runs = require "agentflow._runs"

local M = {}

-- GitHub's workflow-command escaping of a message.
local function escape(s)
  return (tostring(s):gsub("%%", "%%25"):gsub("\r", "%%0D"):gsub("\n", "%%0A"))
end

local function escape_property(s)
  return (escape(s):gsub(":", "%%3A"):gsub(",", "%%2C"))
end

-- Write `text` to `path`; false after saying why on stderr. A report CI
-- was asked for and did not get must fail the job, not pass it in silence.
local function write_file(path, text, mode)
  local f, err = io.open(path, mode)
  local ok = f and f:write(text) and f:close()
  if not ok then
    -- io.open's message already names the path ("PATH: No such file ...")
    io.stderr:write("agentflow: cannot write ", err or (path .. ": write failed"), "\n")
  end
  return ok and true or false
end

local function annotate(steps, warnings)
  for _, s in ipairs(steps) do
    local r = s.result or {}
    if r.status == "failed" then
      io.stdout:write(string.format("::error title=%s::%s\n",
        escape_property(string.format("step %d (%s) failed", s.step, s.agent)), escape(r.error or "failed")))
    end
  end
  for _, w in ipairs(warnings) do
    io.stdout:write("::warning title=agentflow::", escape(w), "\n")
  end
end

--- Called when run `id` has ended with `outcome`; `warnings` are the
-- reasons the run is degraded. Returns 74 (I/O error) when the JUnit report
-- or the step summary could not be written, else nil.
function M.finish(id, outcome, warnings)
  local junit_path = core.options.junit
  local github = core.environ().GITHUB_ACTIONS == "true"
  if not junit_path and not github then
    return nil
  end
  local rec = runs.get(id) or { run_id = id, workflow = core.script_path() or "(chunk)" }
  rec.status = outcome
  local steps = journal.steps(id)
  local ok = true
  if junit_path then
    ok = write_file(junit_path, report.render("junit", rec, steps), "w")
  end
  if github then
    annotate(steps, warnings)
    local summary = core.environ().GITHUB_STEP_SUMMARY
    if summary and summary ~= "" then
      ok = write_file(summary, report.render("md", rec, steps), "a") and ok
    end
  end
  return not ok and 74 or nil
end

return M
