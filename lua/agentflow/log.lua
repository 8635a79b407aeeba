--- The structured log: af.log.debug/info/warn/error/fatal(message, context)
-- and the engine's own events, as JSON lines in <state dir>/logs/
-- agentflow.jsonl (written by the C core: records written in batches, rotation,
-- secrets redacted). Records below the threshold (AGENTFLOW_LOG_LEVEL or
-- `run --log-level`, default INFO) are dropped. A workflow's own WARN and
-- above also go to stderr as readable lines (INFO too with `run -v`).
local core = require "agentflow.core"
local progress = require "agentflow._progress"
local run = require "agentflow._run"
local util = require "agentflow._util"

local M = {}

local RANK = { DEBUG = 0, INFO = 1, WARN = 2, ERROR = 3, FATAL = 4 }

local threshold, stderr_threshold
local patterns = {} -- af.configure{redact = {...}}: Lua patterns hidden in every record
local logger, opened = nil, false

local function thresholds()
  if not threshold then
    local name = (core.options.log_level or core.environ().AGENTFLOW_LOG_LEVEL or "INFO"):upper()
    threshold = RANK[name == "WARNING" and "WARN" or name] or RANK.INFO
    stderr_threshold = core.options.verbose and RANK.INFO or RANK.WARN
  end
  return threshold
end

-- The log, opened (and its directory made) on first use; nil under
-- `agentflow plan`, which must leave no trace but its output: no record,
-- so no step in `logs analyze` or the metrics either.
local function open()
  if not opened then
    opened = true
    local state = not core.options.plan and core.state_dir(true)
    if state then
      core.mkdir_p(state .. "/logs")
      logger = core.log_open(state .. "/logs/agentflow.jsonl",
        tonumber(core.environ().AGENTFLOW_LOG_MAX_BYTES))
    end
  end
  return logger
end

--- The path of the log file (whether or not it exists yet).
function M.path()
  local state = core.state_dir()
  return state and state .. "/logs/agentflow.jsonl"
end

local function hide(text)
  for _, p in ipairs(patterns) do
    text = text:gsub(p, "[REDACTED]")
  end
  return text
end

-- The id of the workflow's run (stable for the process, so kept).
local the_run_id
local function run_id()
  the_run_id = the_run_id or run.id()
  return the_run_id
end

--- Whether records of `level` are kept (so callers can skip building them).
function M.enabled(level)
  return RANK[level] >= (threshold or thresholds())
end

--- Write a record of `level` ("INFO", ...) from `component`; `context` is a
-- table (encoded as JSON by the C logger; values JSON cannot hold are
-- written as text). Returns at once when the level is below the threshold.
function M.write(level, component, message, context)
  if RANK[level] < (threshold or thresholds()) then
    return
  end
  local l = open()
  if not l then
    return
  end
  local ctx = context or {}
  if ctx.run_id == nil and core.options.workflow then
    ctx.run_id = run_id()
  end
  if #patterns > 0 then
    l:write(level, component, hide(message), hide(core.log_json(ctx)))
  else
    l:write(level, component, message, ctx)
  end
end

--- The "step ended" record of agent `name` with result record `r`: the
-- run id and the step's step, agent, status, duration, cached, attempts,
-- cost_usd, key, tokens_in, tokens_out, reason, error and summary (its
-- first 200 bytes), written by the C logger straight from `r`.
function M.step(level, name, r)
  if RANK[level] < (threshold or thresholds()) then
    return
  end
  local l = logger or open()
  if not l then
    return
  end
  local id = core.options.workflow and (the_run_id or run_id()) or nil
  if #patterns > 0 then
    l:write(level, "step", "step ended", hide(core.log_step_json(id, name, r)))
  else
    l:write_step(level, id, name, r)
  end
end

--- Write the records the log holds now (records are batched: log.h).
function M.flush()
  if logger then
    logger:flush()
  end
end

--- Hide what the Lua patterns in `list` match, in every record from now on
-- (af.configure{redact = {"acct%-%d+"}}); secrets and bearer tokens are
-- hidden anyway.
function M.redact(list)
  for _, p in ipairs(list) do
    patterns[#patterns + 1] = p
  end
end

local function api(level)
  local name = "af.log." .. level:lower()
  return function(message, context)
    if type(message) ~= "string" then
      util.fail(1, "bad argument #1 to '%s' (string expected, got %s)", name, util.typename(message))
    end
    if context ~= nil and type(context) ~= "table" then
      util.fail(1, "bad argument #2 to '%s' (table expected, got %s)", name, util.typename(context))
    end
    M.write(level, "workflow", message, context and util.copy(context) or nil)
    thresholds()
    if RANK[level] >= stderr_threshold then
      progress.message(level:lower() .. ": " .. message)
    end
  end
end

M.debug, M.info, M.warn, M.error, M.fatal = api("DEBUG"), api("INFO"), api("WARN"), api("ERROR"),
  api("FATAL")

return M
