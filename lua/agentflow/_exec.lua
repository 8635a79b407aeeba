--- af.exec: run a program without a shell, in its own process group, with
-- an allow-listed environment, under the run's `--jobs` limit.
local core = require "agentflow.core"
local sem = require "agentflow._sem"
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
-- NAME = value pairs (hash part; false removes a variable).
function M.environment(env, fname)
  local base = allowed_env()
  if env == nil or next(env) == nil then
    return base
  end
  local list, extra, all = {}, {}, nil
  for k, v in pairs(env) do
    if math.type(k) == "integer" then
      all = all or core.environ()
      util.check(3, fname, "env[" .. k .. "]", v, "string")
      extra[v] = all[v] or false
    elseif type(k) ~= "string" or (type(v) ~= "string" and v ~= false) then
      util.fail(3, "%s: env entries are NAME = \"value\" or a NAME to pass through", fname)
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

local function check_argv(argv, fname)
  if type(argv) ~= "table" then
    util.fail(2, "bad argument #1 to '%s' (table expected, got %s)", fname, util.typename(argv))
  end
  if #argv == 0 then
    util.fail(2, "bad argument #1 to '%s' (the program to run is missing: argv is empty)", fname)
  end
  for i = 1, #argv do
    if type(argv[i]) ~= "string" then
      util.fail(2, "bad argument #1 to '%s' (argv[%d] must be a string, not %s)",
        fname, i, util.typename(argv[i]))
    end
  end
end

local function core_options(opts, fname)
  local c = {
    stdin = util.check(2, fname, "stdin", opts.stdin, "string", true),
    cwd = util.check(2, fname, "cwd", opts.cwd, "string", true),
    timeout = util.duration(2, fname, "timeout", opts.timeout),
    grace = util.duration(2, fname, "grace", opts.grace),
    max_output = util.check(2, fname, "max_output", opts.max_output, "number", true),
  }
  util.check(2, fname, "env", opts.env, "table", true)
  c.env = M.environment(opts.env, fname)
  return c
end

--- result = af.exec(argv, opts); see DESIGN.md. A program that cannot be
-- started gives {error = message, reason = "not_found"|"spawn"}.
function M.exec(argv, opts)
  local fname = "af.exec"
  check_argv(argv, fname)
  if opts ~= nil and type(opts) ~= "table" then
    util.fail(1, "bad argument #2 to '%s' (table expected, got %s)", fname, type(opts))
  end
  local c = core_options(opts or {}, fname)
  if core.options.plan then
    return require("agentflow._plan").exec(argv)
  end
  local _ <close> = M.jobs():acquire()
  return core.exec(argv, c)
end

return M
