--- agentflow logs query|analyze|export over <state dir>/logs/agentflow.jsonl
-- (and its rotated files). Lines that are not whole records are skipped
-- and counted, never fatal.
local args = require "agentflow.cli._args"
local cjson = require "cjson.safe"
local core = require "agentflow.core"
local log = require "agentflow.log"
local metrics = require "agentflow.metrics"
local util = require "agentflow._util"

local M = {}

local RANK = { DEBUG = 0, INFO = 1, WARN = 2, ERROR = 3, FATAL = 4 }

-- The log files, oldest first.
local function files(path)
  local out = {}
  for k = 9, 1, -1 do
    local f = io.open(path .. "." .. k)
    if f then
      f:close()
      out[#out + 1] = path .. "." .. k
    end
  end
  out[#out + 1] = path
  return out
end

--- Call fn(record) for every whole record; returns the count of skipped lines.
local function each_record(fn)
  local path = log.path()
  local skipped = 0
  for _, p in ipairs(path and files(path) or {}) do
    local f = io.open(p, "r")
    if f then
      for line in f:lines() do
        local rec = line:sub(1, 1) == "{" and cjson.decode(line)
        if type(rec) == "table" and rec.timestamp and rec.level then
          if type(rec.context) ~= "table" then
            rec.context = {}
          end
          fn(rec)
        elseif line ~= "" then
          skipped = skipped + 1
        end
      end
      f:close()
    end
  end
  return skipped
end

-- RFC 3339 timestamps compare as strings once normalised to UTC "Z".
local function parse_time(s)
  local ago, unit = s:match("^(%d+%.?%d*)(%a+)$")
  if ago then
    local secs = util.seconds(s)
    if not secs then
      return nil
    end
    return os.date("!%Y-%m-%dT%H:%M:%S", math.floor(core.now() - secs)) .. ".000Z"
  end
  if s:match("^%d%d%d%d%-%d%d%-%d%dT%d%d:%d%d:%d%d") then
    return s
  end
  if s:match("^%d%d%d%d%-%d%d%-%d%d$") then
    return s .. "T00:00:00.000Z"
  end
  return nil
end

local function level_rank(name)
  name = name:upper()
  return RANK[name == "WARNING" and "WARN" or name]
end

-- The scan filter of the options, or nil and a usage message.
local function filter(opts)
  local f = { contains = {} }
  if opts.level then
    f.min_level = level_rank(opts.level)
    if not f.min_level then
      return nil, string.format("--level wants debug, info, warn, error or fatal, not '%s'", opts.level)
    end
  end
  f.component = opts.component
  for _, k in ipairs({ "since", "until" }) do
    if opts[k] then
      f[k] = parse_time(opts[k])
      if not f[k] then
        return nil, string.format("--%s wants RFC 3339 (2026-11-24T10:00:00Z) or an age like 1h", k)
      end
    end
  end
  if opts.run then
    f.contains[#f.contains + 1] = '"run_id":' .. cjson.encode(opts.run)
  end
  if opts.grep then
    f.contains[#f.contains + 1] = opts.grep
  end
  if opts.where then
    local k, v = opts.where:match("^([^=]+)=(.*)$")
    if not k then
      return nil, "--where wants KEY=VALUE"
    end
    f.contains[#f.contains + 1] = cjson.encode(k) .. ":"
    f.where_key, f.where_value = k, v
  end
  return f
end

local function print_row(rec)
  local ctx = cjson.encode(rec.context) or "{}"
  io.stdout:write(string.format("%s %-5s %-9s %s %s\n", rec.timestamp, rec.level, rec.component,
    rec.message, ctx ~= "{}" and ctx or ""))
end

local function query(opts)
  local f, err = filter(opts)
  if not f then
    return args.usage_error("logs", "%s", err)
  end
  local path = log.path()
  local as_json = opts.json or not core.isatty(1)
  local skipped = 0
  for _, p in ipairs(path and files(path) or {}) do
    if as_json and not f.where_key then -- the fast path: matching lines as they are
      local n, s = core.log_scan(p, f, "write")
      skipped = skipped + (n and s or 0)
    else
      local lines, s = core.log_scan(p, f, "collect")
      skipped = skipped + (lines and s or 0)
      for _, line in ipairs(lines or {}) do
        local rec = cjson.decode(line)
        local ctx = type(rec) == "table" and type(rec.context) == "table" and rec.context or {}
        if rec and (not f.where_key or tostring(ctx[f.where_key]) == f.where_value) then
          if as_json then
            io.stdout:write(line, "\n")
          else
            rec.context = ctx
            print_row(rec)
          end
        end
      end
    end
  end
  io.stdout:flush()
  if skipped > 0 then
    io.stderr:write(string.format("agentflow: skipped %d lines that are not whole records\n", skipped))
  end
  return 0
end

local function percentile(xs, p)
  if #xs == 0 then
    return 0
  end
  table.sort(xs)
  return xs[math.max(1, math.ceil(#xs * p))]
end

--- The analysis of every record (what `analyze` prints and `export` turns
-- into metrics).
function M.analyze_records()
  local a = metrics.new_analysis()
  a.skipped = each_record(function(rec)
    a.levels[rec.level] = (a.levels[rec.level] or 0) + 1
    a.components[rec.component] = (a.components[rec.component] or 0) + 1
    local c = rec.context
    if rec.component == "run" and rec.message == "run ended" then
      a.runs.count = a.runs.count + 1
      a.runs.by_status[c.status or "?"] = (a.runs.by_status[c.status or "?"] or 0) + 1
      if c.status == "done" or c.status == "degraded" then
        a.runs.done = a.runs.done + 1
      end
      a.runs.durations[#a.runs.durations + 1] = tonumber(c.duration) or 0
    elseif rec.component == "step" and rec.message == "step ended" and c.agent then
      metrics.add_step(a, c.agent, c)
    end
  end)
  return a
end

local function summary(a)
  local out = { levels = a.levels, components = a.components, skipped_lines = a.skipped,
    runs = { count = a.runs.count, by_status = a.runs.by_status,
      success_rate = a.runs.count > 0 and a.runs.done / a.runs.count or 0,
      duration_p50 = percentile(a.runs.durations, 0.5), duration_p95 = percentile(a.runs.durations, 0.95) },
    agents = {} }
  for name, s in pairs(a.agents) do
    local max = 0
    for _, d in ipairs(s.durations) do
      max = math.max(max, d)
    end
    out.agents[name] = { executions = s.executions, failures = s.failures,
      cache_hit_ratio = s.cached / s.executions, duration_p50 = percentile(s.durations, 0.5),
      duration_p95 = percentile(s.durations, 0.95), duration_max = max, cost_usd = s.cost_usd,
      tokens_in = s.tokens_in, tokens_out = s.tokens_out }
  end
  return out
end

local function analyze(opts)
  local s = summary(M.analyze_records())
  if opts.json then
    io.stdout:write(cjson.encode(s), "\n")
    return 0
  end
  print("records by level:     " .. table.concat((function()
    local t = {}
    for _, k in ipairs(util.sorted_keys(s.levels)) do t[#t + 1] = k .. " " .. s.levels[k] end
    return t
  end)(), ", "))
  print("records by component: " .. table.concat((function()
    local t = {}
    for _, k in ipairs(util.sorted_keys(s.components)) do t[#t + 1] = k .. " " .. s.components[k] end
    return t
  end)(), ", "))
  print(string.format("runs: %d, success rate %.0f%%, duration p50 %s p95 %s", s.runs.count,
    s.runs.success_rate * 100, util.format_seconds(s.runs.duration_p50), util.format_seconds(s.runs.duration_p95)))
  print(string.format("\n%-28s %6s %6s %6s %9s %9s %9s %10s %10s", "agent", "runs", "fail", "hit%", "p50", "p95",
    "max", "cost $", "tokens"))
  for _, name in ipairs(util.sorted_keys(s.agents)) do
    local g = s.agents[name]
    print(string.format("%-28s %6d %6d %5.0f%% %9s %9s %9s %10.4f %10d", name, g.executions, g.failures,
      g.cache_hit_ratio * 100, util.format_seconds(g.duration_p50), util.format_seconds(g.duration_p95),
      util.format_seconds(g.duration_max), g.cost_usd, g.tokens_in + g.tokens_out))
  end
  if s.skipped_lines > 0 then
    print(string.format("\n%d lines skipped (not whole records)", s.skipped_lines))
  end
  return 0
end

local function export(opts)
  if opts.format ~= "prometheus" then
    return args.usage_error("logs", "logs export needs --format prometheus")
  end
  local text = metrics.from_analysis(M.analyze_records())
  if not opts.output then
    io.stdout:write(text)
    return 0
  end
  local tmp = opts.output .. ".tmp"
  local f, err = io.open(tmp, "w")
  if not f then
    return args.error(74, "cannot write %s", err)
  end
  f:write(text)
  f:close()
  local ok, rerr = os.rename(tmp, opts.output) -- atomic for the textfile collector
  if not ok then
    return args.error(74, "cannot write %s", rerr)
  end
  return 0
end

function M.main(argv)
  local sub = argv[1]
  local commands = { query = query, analyze = analyze, export = export }
  if not commands[sub] then
    return args.usage_error("logs", sub and "unknown logs command '%s'" or "logs needs a command%s", sub or "")
  end
  local opts, operands = args.parse(argv, 2, { level = "value", component = "value", since = "value",
    ["until"] = "value", run = "value", where = "value", grep = "value", json = "flag", format = "value",
    output = "value" })
  if not opts then
    return args.usage_error("logs", "%s", operands)
  end
  return commands[sub](opts)
end

return M
