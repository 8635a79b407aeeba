--- The agent registry: named definitions that af.agent runs.
-- A definition holds the same keys as an agent file (DESIGN.md): executor,
-- command, run, ttl, retries, backoff, backoff_max, retry_on, timeout,
-- grace, fallback, critical, cache, invalidate_on, max_concurrency, stagger, env,
-- description, model. An unknown key in a workflow's definition or call is
-- an error (a typo would be ignored in silence); agent files may hold other
-- tools' keys, kept and listed by `agentflow agents show`.
local agentfiles = require "agentflow._agentfiles"
local core = require "agentflow.core"
local executors = require "agentflow.executors"
local files = require "agentflow._files"
local run = require "agentflow._run"
local util = require "agentflow._util"

local M = {}

local defs = {}

--- Lua's type name for each known key; durations are checked separately.
local TYPES = {
  executor = "string", command = "table", run = "function", retries = "number",
  retry_on = "function", fallback = "string", critical = "boolean", cache = "boolean",
  invalidate_on = "table", max_concurrency = "number", env = "table",
  description = "string", model = "string", prompt = "string", params = "table",
  files = "table", configs = "table", salt = "string", budget_usd = "number",
  system_prompt = "string", max_turns = "number", max_output = "number", cwd = "string",
  edits = "boolean",
}
local DURATIONS = { ttl = true, backoff = true, backoff_max = true, timeout = true,
  grace = true, stagger = true, throttle_backoff = true }

-- Keys read without a type check: the name (agent files), the CLI program
-- and Claude Code's own keys (executors/claude.lua).
local UNTYPED = { name = true, cli = true, tools = true, permission_mode = true, apply = true }

-- Keys agentflow puts on a file's definition itself.
local INTERNAL = { source = true, source_text = true }

-- The keys a project's executor reads besides agentflow's: its `keys` list.
local function executor_keys(executor)
  local e = executor and executors.exists(executor) and executors.get(executor)
  return e and e.keys or {}
end

local function known_names(executor)
  local names = {}
  for _, set in ipairs({ TYPES, DURATIONS, UNTYPED }) do
    for key in pairs(set) do
      names[#names + 1] = key
    end
  end
  for _, key in ipairs(executor_keys(executor)) do
    names[#names + 1] = key
  end
  table.sort(names)
  return names
end

local function is_known(key, executor)
  if TYPES[key] or DURATIONS[key] or UNTYPED[key] or INTERNAL[key] then
    return true
  end
  for _, k in ipairs(executor_keys(executor)) do
    if k == key then
      return true
    end
  end
  return false
end

--- The keys of `def` agentflow does not read (sorted): other tools' keys in
-- an agent file, or typos. `executor` defaults to the definition's.
function M.unknown_keys(def, executor)
  executor = executor or def.executor
  local out = {}
  for key in pairs(def) do
    if type(key) ~= "string" or not is_known(key, executor) then
      out[#out + 1] = tostring(key)
    end
  end
  table.sort(out)
  return out
end

--- Raise at the API caller for the first unknown key of `def`, naming the
-- closest known key: `retires = 2` must not run with the default retries.
function M.check_keys(level, where, def, executor)
  local key = M.unknown_keys(def, executor)[1]
  if not key then
    return
  end
  local near = util.closest(key, known_names(executor))
  util.fail(level + 1, "%s: unknown key %q%s", where, key,
    near and string.format(" (did you mean %q?)", near) or "")
end

local function check_command(level, where, command)
  if #command == 0 then
    util.fail(level + 1, "%s: command is empty (it needs the program to run)", where)
  end
  for i, a in ipairs(command) do
    if type(a) ~= "string" then
      util.fail(level + 1, "%s: command[%d] must be a string, not %s", where, i, type(a))
    end
  end
end

local INVALIDATE_ON = { files = true, configs = true, commit = true, branch = true }

local function check_invalidate_on(level, where, list)
  for i, what in ipairs(list or {}) do
    if not INVALIDATE_ON[what] then
      util.fail(level + 1, "%s: invalidate_on[%d]: %q is not one of files, configs, commit, branch",
        where, i, tostring(what))
    end
  end
end

local function check_counts(level, where, def)
  if def.retries and (def.retries < 0 or def.retries % 1 ~= 0) then
    util.fail(level + 1, "%s: retries must be a whole number >= 0", where)
  end
  if def.max_concurrency and def.max_concurrency < 1 then
    util.fail(level + 1, "%s: max_concurrency must be at least 1", where)
  end
end

--- Check the keys of `def` (a call's options or a definition) and return a
-- copy with durations in seconds. Raises at the API caller (`level` as in
-- util.fail); `where` names the thing checked in messages.
function M.normalize(level, where, def)
  local out = {}
  for key, value in pairs(def) do
    if TYPES[key] then
      util.check(level + 1, where, key, value, TYPES[key])
    elseif key == "ttl" and value == "never" then
      value = math.huge
    elseif DURATIONS[key] then
      value = util.duration(level + 1, where, key, value)
    end
    out[key] = value
  end
  if def.command then
    check_command(level + 1, where, def.command)
  end
  for _, what in ipairs({ "files", "configs" }) do
    local bad = def[what] and files.check(def[what], what)
    if bad then
      util.fail(level + 1, "%s: %s", where, bad)
    end
  end
  check_counts(level + 1, where, def)
  check_invalidate_on(level + 1, where, def.invalidate_on)
  return out
end

local default_executor

--- The executor of an agent that names none (and has no command or run):
-- claude when the CLI is on PATH, else plan, with one warning.
function M.default_executor()
  if not default_executor then
    if core.which("claude") then
      default_executor = "claude"
    else
      default_executor = "plan"
      run.warn("claude is not on PATH: agents without an executor run through "
        .. "the plan executor (install Claude Code, or give the agent executor = ... or command = {...})")
    end
  end
  return default_executor
end

local function executor_of(level, name, def)
  local executor = def.executor or (def.command and "command") or (def.run and "lua")
    or M.default_executor()
  if not executors.exists(executor) then
    util.fail(level + 1, "agent %q: %s", name, executors.unknown(executor))
  end
  if executor == "command" and not def.command then
    util.fail(level + 1, "agent %q: the command executor needs command = {program, args...}", name)
  end
  if executor == "lua" and not def.run then
    util.fail(level + 1, "agent %q: the lua executor needs run = function(task) ... end", name)
  end
  return executor
end

--- af.define_agent(name, def): add or replace the agent `name`.
function M.define(name, def)
  if type(name) ~= "string" or name == "" then
    util.fail(1, "bad argument #1 to 'af.define_agent' (agent name expected, got %s)",
      util.typename(name))
  end
  if type(def) ~= "table" then
    util.fail(1, "bad argument #2 to 'af.define_agent' (table expected, got %s)", util.typename(def))
  end
  local where = string.format("agent %q", name)
  M.check_keys(1, where, def, def.executor)
  local d = M.normalize(1, where, def)
  d.name = name
  d.executor = executor_of(1, name, def)
  defs[name] = d
  return d
end

--- Definition `def` with the (normalized) call options `overrides` laid
-- over it: a copy, or `def` itself when there are none (never modify it).
function M.merge(def, overrides)
  if next(overrides) == nil then
    return def
  end
  local d = core.copy(def, overrides)
  d.name, d.executor = def.name, def.executor
  return d
end

local file_agents -- name -> {def | error, path, origin}, loaded on first need
local loaded = {}  -- name -> normalized definition from a file

local function agent_files()
  file_agents = file_agents or agentfiles.load()
  return file_agents
end

-- The definition of file agent `name`, normalized; raises naming the file.
local function from_file(name)
  if loaded[name] then
    return loaded[name]
  end
  local f = agent_files()[name]
  if not f then
    return nil
  end
  if not f.def then
    error(f.error, 0)
  end
  local ok, d = pcall(function()
    local n = M.normalize(1, f.path, f.def)
    n.name = name
    n.executor = executor_of(1, name, f.def)
    return n
  end)
  if not ok then -- name the file, not the Lua line that checked it
    error((tostring(d):gsub("^[^:]*:%d+: ", "")), 0)
  end
  d.source = f.path
  loaded[name] = d
  return d
end

--- The names of every agent (defined in the workflow or in a file), sorted.
function M.names()
  local seen, names = {}, {}
  for name in pairs(defs) do
    seen[name] = true
  end
  for name in pairs(agent_files()) do
    seen[name] = true
  end
  for name in pairs(seen) do
    names[#names + 1] = name
  end
  table.sort(names)
  return names
end

--- The definition of `name`, or nil and a message naming the closest name.
-- A file agent that cannot be read raises its error (naming file and line).
function M.get(name)
  local d = defs[name] or from_file(name)
  if d then
    return d
  end
  local near = util.closest(name, M.names())
  return nil, string.format("unknown agent %q%s", name,
    near and string.format(" (did you mean %q?)", near) or "")
end

--- Every agent for `agentflow agents`: {name, description, executor,
-- source, error} sorted by name; files that cannot be read included.
function M.list()
  local out = {}
  for _, name in ipairs(M.names()) do
    local ok, d = pcall(M.get, name)
    local f = agent_files()[name]
    if ok and d then
      out[#out + 1] = { name = name, description = d.description or "", executor = d.executor,
        source = defs[name] and "workflow" or d.source, definition = d }
    else
      out[#out + 1] = { name = name, description = "", executor = "?", source = f and f.path or "?",
        error = tostring(d) }
    end
  end
  return out
end

return M
