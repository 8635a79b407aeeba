--- af.exec: run a program without a shell, in its own process group, with
-- an allow-listed environment, under the run's `--jobs` limit.
local canon = require "agentflow._canon"
local core = require "agentflow.core"
local journal = require "agentflow._journal"
local log = require "agentflow.log"
local plan = require "agentflow._plan"
local run = require "agentflow._run"
local sem = require "agentflow._sem"
local step = require "agentflow._step"
local store = require "agentflow._store"
local util = require "agentflow._util"

local M = {}

--- Variables every child gets when agentflow has them (plus LC_*).
M.ALLOWED = { "PATH", "HOME", "USER", "LOGNAME", "LANG", "TERM", "TMPDIR", "TZ" }

local base_env -- {"NAME=value", ...} of the allowed variables, built once
local jobs     -- the semaphore behind --jobs

local function allowed_env()
  if not base_env then
    local all, names = core.environ(), {}
    for _, name in ipairs(M.ALLOWED) do
      names[name] = true
    end
    base_env = {}
    for name, value in pairs(all) do
      if names[name] or name:match("^LC_") then
        base_env[#base_env + 1] = name .. "=" .. value
      end
    end
    table.sort(base_env)
  end
  return base_env
end

--- The number of processes that may run at once: `--jobs`, else twice the
-- CPUs, at least 8 (agents mostly wait on the network, not the CPU).
function M.jobs()
  if not jobs then
    local n = core.options.jobs
    if not n or n < 1 then
      n = math.max(8, 2 * core.cpus())
    end
    jobs = sem.new(n)
  end
  return jobs
end

--- af.configure{jobs = n}: the limit, unless the command line gave --jobs
-- (the person running the workflow knows the machine best).
function M.set_jobs(n)
  if core.options.jobs then
    return
  end
  local s = M.jobs()
  s:resize(n)
end

--- The child's environment: the allow-list, then `env`, whose entries are
-- names to pass through from agentflow's environment (list part) or
-- NAME = value pairs (hash part; false removes a variable). Raises at the
-- API caller (`level` as in util.fail).
function M.environment(level, env, fname)
  local base = allowed_env()
  if env == nil or next(env) == nil then
    return base
  end
  local list, extra, all = {}, {}, nil
  for k, v in pairs(env) do
    if math.type(k) == "integer" then
      all = all or core.environ()
      util.check(level + 1, fname, "env[" .. k .. "]", v, "string")
      extra[v] = all[v] or false
    elseif type(k) ~= "string" or (type(v) ~= "string" and v ~= false) then
      util.fail(level + 1, "%s: env entries are NAME = \"value\" or a NAME to pass through", fname)
    else
      extra[k] = v
    end
  end
  for _, kv in ipairs(base) do
    if extra[kv:match("^[^=]*")] == nil then
      list[#list + 1] = kv
    end
  end
  for k, v in pairs(extra) do
    if v then
      list[#list + 1] = k .. "=" .. v
    end
  end
  return list
end

local function check_argv(level, argv, fname)
  if type(argv) ~= "table" then
    util.fail(level + 1, "bad argument #1 to '%s' (table expected, got %s)", fname, util.typename(argv))
  end
  if #argv == 0 then
    util.fail(level + 1, "bad argument #1 to '%s' (the program to run is missing: argv is empty)", fname)
  end
  for i = 1, #argv do
    if type(argv[i]) ~= "string" then
      util.fail(level + 1, "bad argument #1 to '%s' (argv[%d] must be a string, not %s)",
        fname, i, util.typename(argv[i]))
    end
  end
end

local function core_options(level, opts, fname)
  local c = {
    stdin = util.check(level + 1, fname, "stdin", opts.stdin, "string", true),
    cwd = util.check(level + 1, fname, "cwd", opts.cwd, "string", true),
    timeout = util.duration(level + 1, fname, "timeout", opts.timeout),
    grace = util.duration(level + 1, fname, "grace", opts.grace),
    max_output = util.check(level + 1, fname, "max_output", opts.max_output, "number", true),
  }
  util.check(level + 1, fname, "env", opts.env, "table", true)
  c.env = M.environment(level + 1, opts.env, fname)
  return c
end

-- The checked request of an af.exec call (raising at the API caller:
-- `level` as in util.fail).
local function request(level, argv, opts)
  local fname = "af.exec"
  check_argv(level + 1, argv, fname)
  if opts ~= nil and type(opts) ~= "table" then
    util.fail(level + 1, "bad argument #2 to '%s' (table expected, got %s)", fname, type(opts))
  end
  local c = core_options(level + 1, opts or {}, fname) -- not a tail call: levels count frames
  return c
end

-- The journal slot of the step each coroutine runs now ({run_id, slot}):
-- a process it spawns is recorded there (journal.spawned).
local stepping = setmetatable({}, { __mode = "k" })

--- Record the process groups that the current coroutine spawns until the
-- returned value is closed as those of step slot `slot` of run `run_id`.
function M.journal_spawns(run_id, slot)
  local co = coroutine.running()
  local saved = stepping[co]
  stepping[co] = { run_id = run_id, slot = slot }
  return setmetatable({}, { __close = function() stepping[co] = saved end })
end

-- The environment `env` with the variables that name a journaled step:
-- AGENTFLOW_RUN_ID and AGENTFLOW_STEP_ID. They also mark its processes, so
-- that a resume finds those a crash left running even when the journal
-- could not record their group (see journal.end_orphans).
local function marked(env, at)
  local out = table.move(env, 1, #env, 1, {})
  out[#out + 1] = "AGENTFLOW_RUN_ID=" .. at.run_id
  out[#out + 1] = "AGENTFLOW_STEP_ID=" .. at.slot
  return out
end

-- Run a checked request under the --jobs limit; with `at` ({run_id,
-- slot}: the step's own, else the one M.journal_spawns set for this
-- coroutine) the process group goes to the journal as soon as it exists.
local function spawn(argv, c, at)
  local _ <close> = M.jobs():acquire()
  at = at or stepping[coroutine.running()]
  if not at then
    return core.exec(argv, c)
  end
  c.env = marked(c.env, at)
  local ok, err = true, nil
  c.on_spawn = function(pid)
    ok, err = pcall(journal.spawned, at.run_id, at.slot, pid, core.pid_start(pid))
  end
  local r = core.exec(argv, c)
  if not ok then
    error(err, 0)
  end
  return r
end

--- result = exec(argv, opts): af.exec without the journal, for executors
-- (their process is part of an agent step). Same checks and result.
function M.exec(argv, opts)
  local c = request(1, argv, opts)
  if core.options.plan then
    return plan.exec(argv)
  end
  local r = spawn(argv, c)
  return r
end

-- The identity of a request: a resumed run replays an exec step only when
-- it asks for the same thing (environment values enter hashed).
local function exec_key(argv, c)
  return canon.hash({ argv, c.stdin or "", c.cwd or "", c.env })
end

-- The result record of a process step whose af.exec result is `res`.
local function exec_result(res)
  return { status = res.code == 0 and "success" or "failed", duration = res.duration or 0,
    error = res.error or (res.code ~= 0 and (res.code and "exited with code " .. res.code
      or res.signal and "killed by signal " .. res.signal)) or nil, output = res, attempts = 1 }
end

-- Say that exec step `step` (program `name`) kept only part of what it
-- wrote: the workflow gets stdout_truncated or stderr_truncated, and a
-- reader of the log or stderr should not take the output for all of it.
local function truncated(step, name, res)
  local streams = (res.stdout_truncated and "stdout" or "")
    .. (res.stdout_truncated and res.stderr_truncated and " and " or "")
    .. (res.stderr_truncated and "stderr" or "")
  log.write("WARN", "step", "output truncated", { step = step, program = name,
    streams = streams })
  run.warn("step %d (%s): its %s was cut at max_output", step, name, streams)
end

-- A journaled process step of the workflow (see af_exec), as _step.lua
-- runs it: its start with its process group as soon as it is spawned, and
-- its end before the workflow sees it, each committed, so a finished one
-- never runs again and a resume can end one a crash left running (one
-- spawned an instant before the crash it finds by AGENTFLOW_RUN_ID).
local function exec_step(argv, c)
  local name = argv[1]:match("[^/]*$")
  return step.run({
    name = name, kind = "exec", executor = "exec", when = "spawn", durable = true,
    key = function()
      return exec_key(argv, c)
    end,
    run = function(slot, _)
      local res = spawn(argv, c, { run_id = run.id(), slot = slot })
      return exec_result(res)
    end,
    finish = function(r, n)
      if not r.replayed and (r.output.stdout_truncated or r.output.stderr_truncated) then
        truncated(n, name, r.output)
      end
    end,
  }).output
end

--- result = af.exec(argv, opts); see DESIGN.md. A program that cannot be
-- started gives {error = message, reason = "not_found"|"spawn"}. In a
-- workflow run each call is a journaled step: a resumed run returns the
-- recorded result of a finished one.
function M.af_exec(argv, opts)
  local c = request(1, argv, opts)
  if core.options.plan then
    return plan.exec(argv)
  end
  if not core.options.workflow or not store.get() then
    local r = spawn(argv, c)
    return r
  end
  local r = exec_step(argv, c)
  return r
end

return M
