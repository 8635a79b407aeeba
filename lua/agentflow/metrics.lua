--- Prometheus text exposition (format 0.0.4) of what the log records:
-- counters end in _total, durations are _seconds histograms.
local util = require "agentflow._util"

local M = {}

M.BUCKETS = { 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300, 900, 3600 }

local function label_value(v)
  return (tostring(v):gsub("\\", "\\\\"):gsub("\n", "\\n"):gsub('"', '\\"'))
end

local function labels(t)
  local keys = {}
  for k in pairs(t or {}) do
    keys[#keys + 1] = k
  end
  if #keys == 0 then
    return ""
  end
  table.sort(keys)
  local out = {}
  for i, k in ipairs(keys) do
    out[i] = string.format('%s="%s"', k, label_value(t[k]))
  end
  return "{" .. table.concat(out, ",") .. "}"
end

local function number(v)
  if v == math.huge then
    return "+Inf"
  end
  return math.type(v) == "integer" and tostring(v) or string.format("%.17g", v)
end

--- A metrics document being built: family(name, type, help) then sample().
local Doc = {}
Doc.__index = Doc

function M.new()
  return setmetatable({ lines = {}, seen = {} }, Doc)
end

function Doc:family(name, kind, help)
  if not self.seen[name] then
    self.seen[name] = true
    self.lines[#self.lines + 1] = string.format("# HELP %s %s", name, help)
    self.lines[#self.lines + 1] = string.format("# TYPE %s %s", name, kind)
  end
end

function Doc:sample(name, lbls, value)
  self.lines[#self.lines + 1] = name .. labels(lbls) .. " " .. number(value)
end

--- A histogram of `values` (seconds) under `name` with labels `lbls`.
function Doc:histogram(name, lbls, values)
  local sum = 0
  for _, v in ipairs(values) do
    sum = sum + v
  end
  for _, le in ipairs(M.BUCKETS) do
    local n = 0
    for _, v in ipairs(values) do
      if v <= le then
        n = n + 1
      end
    end
    local l = {}
    for k, v in pairs(lbls) do
      l[k] = v
    end
    l.le = number(le)
    self:sample(name .. "_bucket", l, n)
  end
  local l = {}
  for k, v in pairs(lbls) do
    l[k] = v
  end
  l.le = "+Inf"
  self:sample(name .. "_bucket", l, #values)
  self:sample(name .. "_sum", lbls, sum)
  self:sample(name .. "_count", lbls, #values)
end

function Doc:text()
  return table.concat(self.lines, "\n") .. "\n"
end

--- An empty analysis: what `from_analysis` reads, filled from the log
-- (cli/logs.lua) or live during a run (_live.lua).
function M.new_analysis()
  return { levels = {}, components = {}, skipped = 0,
    runs = { count = 0, done = 0, durations = {}, by_status = {} }, agents = {} }
end

--- Count a step of `agent` that ended: `step` has status, cached,
-- duration, cost_usd, tokens_in, tokens_out (as the "step ended" record).
function M.add_step(a, agent, step)
  local s = a.agents[agent]
  if not s then
    s = { executions = 0, failures = 0, cached = 0, durations = {}, cost_usd = 0, tokens_in = 0,
      tokens_out = 0 }
    a.agents[agent] = s
  end
  s.executions = s.executions + 1
  if step.status == "failed" or step.status == "skipped" then
    s.failures = s.failures + 1
  end
  if step.cached then
    s.cached = s.cached + 1
  end
  s.durations[#s.durations + 1] = tonumber(step.duration) or 0
  s.cost_usd = s.cost_usd + (tonumber(step.cost_usd) or 0)
  s.tokens_in = s.tokens_in + (tonumber(step.tokens_in) or 0)
  s.tokens_out = s.tokens_out + (tonumber(step.tokens_out) or 0)
end

--- The metrics of an analysis (see new_analysis).
function M.from_analysis(a)
  local d = M.new()
  d:family("agentflow_log_records_total", "counter", "Log records written, by level.")
  for _, level in ipairs(util.sorted_keys(a.levels)) do
    d:sample("agentflow_log_records_total", { level = level }, a.levels[level])
  end
  d:family("agentflow_log_skipped_lines_total", "counter", "Log lines that were not whole records.")
  d:sample("agentflow_log_skipped_lines_total", nil, a.skipped)
  d:family("agentflow_runs_total", "counter", "Workflow runs ended, by status.")
  for _, status in ipairs(util.sorted_keys(a.runs.by_status)) do
    d:sample("agentflow_runs_total", { status = status }, a.runs.by_status[status])
  end
  d:family("agentflow_run_duration_seconds", "histogram", "Duration of workflow runs.")
  d:histogram("agentflow_run_duration_seconds", {}, a.runs.durations)
  local names = util.sorted_keys(a.agents)
  d:family("agentflow_steps_total", "counter", "Agent steps ended, by agent.")
  d:family("agentflow_step_failures_total", "counter", "Agent steps that failed or were skipped, by agent.")
  d:family("agentflow_cache_hits_total", "counter", "Agent steps answered by the cache, by agent.")
  d:family("agentflow_cost_usd_total", "counter", "Dollars spent on agents, by agent.")
  d:family("agentflow_tokens_total", "counter", "Tokens used by agents, by agent and direction.")
  d:family("agentflow_step_duration_seconds", "histogram", "Duration of agent steps, by agent.")
  for _, name in ipairs(names) do
    local s = a.agents[name]
    d:sample("agentflow_steps_total", { agent = name }, s.executions)
    d:sample("agentflow_step_failures_total", { agent = name }, s.failures)
    d:sample("agentflow_cache_hits_total", { agent = name }, s.cached)
    d:sample("agentflow_cost_usd_total", { agent = name }, s.cost_usd)
    d:sample("agentflow_tokens_total", { agent = name, direction = "input" }, s.tokens_in)
    d:sample("agentflow_tokens_total", { agent = name, direction = "output" }, s.tokens_out)
  end
  for _, name in ipairs(names) do
    d:histogram("agentflow_step_duration_seconds", { agent = name }, a.agents[name].durations)
  end
  return d:text()
end

return M
