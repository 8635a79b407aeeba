--- The executor registry: an executor is the module agentflow.executors.NAME,
-- found by the ordinary module search (README "Lua modules and overrides"),
-- so a project adds one by writing .agentflow/lua/agentflow/executors/NAME.lua.
--
-- The contract of an executor module:
--
--   local M = { name = "NAME", version = "1", keys = { ... } }
--   function M.run(def, task, opts) ... return result end
--   return M
--
-- `version` goes into every cache key of its agents: change it when the same
-- task would give another result. `keys` (optional) lists the definition
-- keys it reads besides agentflow's (agents.lua): any other key in a
-- workflow's definition or call is an error, to catch typos. `run` is called once per attempt, inside
-- the workflow branch's coroutine (it may yield through af.exec, af.sleep):
--
--   def   the agent's definition, normalized (agents.lua): name, executor,
--         prompt, files, params, env, cwd, model, max_output, timeout, and
--         the executor's own keys (command, run, cli, system_prompt, ...);
--   task  what the step asks: {agent, prompt, files (the declared paths
--         and globs, as given), params, run_id, step, idempotency_key}.
--         idempotency_key is "RUN_ID:STEP_IDENTITY", the same in every
--         attempt and every resume of the step: a step left started when a
--         run was killed runs again (at least once), and an executor that
--         changes the world uses the key to do it once;
--   opts  {timeout (seconds or nil), budget_usd (dollars left or nil)}.
--
-- It returns the result record: {status = "success"|"failed"|"skipped"|
-- "degraded"|"planned", output, summary, error, reason, metrics, cost_usd,
-- tokens = {input, output}}; a failure's `reason` ("timeout", "signal",
-- "exit", "rate_limited", "not_found", "invalid_input", "invalid_output", ...)
-- decides whether it is retried (the agent's retry_on). Retries, backoff,
-- fallbacks, caching, the journal and the fields agent, attempts, duration,
-- cached, key, run_id, step are added by the caller (_agent.lua): an executor
-- runs one attempt and never retries itself. Anything but a table with a
-- string `status` is a failure with reason "invalid_output". An error it
-- raises is not a failure record: it ends the step and is raised at the
-- af.agent call, without retry or fallback, so expected failures are
-- returned as records (the lua executor turns its agent's errors into one).
local core = require "agentflow.core"
local util = require "agentflow._util"

local M = {}

--- The executors that come with agentflow (the embedded library cannot be
-- listed from Lua); a project's own are found on the override path.
M.BUILTIN = { "claude", "codex", "command", "gemini", "lua", "plan" }

local PREFIX = "agentflow.executors."

-- Whether the module search finds `module`, without running it: a
-- searcher returns a loader when it has the module.
local function found(module)
  if package.loaded[module] then
    return true
  end
  for _, searcher in ipairs(package.searchers) do
    if type(searcher(module)) == "function" then
      return true
    end
  end
  return false
end

-- The Lua path templates searched before the embedded library, as the
-- host builds them: $AGENTFLOW_LUA_PATH, then <state dir>/lua.
local function override_templates()
  local out = {}
  for entry in (core.environ().AGENTFLOW_LUA_PATH or ""):gmatch("[^;]+") do
    out[#out + 1] = entry:find("?", 1, true) and entry or entry .. "/?.lua"
  end
  local state = core.state_dir()
  if state then
    out[#out + 1] = state .. "/lua/?.lua"
  end
  return out
end

-- Executors a project adds: executors/NAME.lua on the override path
-- (names starting with "_" are helpers, as elsewhere in the library).
local function project_names(seen, names)
  for _, template in ipairs(override_templates()) do
    local dir, rest = template:match("^(.-)/?%?(.*)$")
    for _, path in ipairs(core.glob(dir == "" and "." or dir, "agentflow/executors/*" .. rest) or {}) do
      local name = path:match("agentflow/executors/([%w][%w_%-]*)" .. rest:gsub("%p", "%%%0") .. "$")
      if name and not seen[name] then
        seen[name] = true
        names[#names + 1] = name
      end
    end
  end
end

--- Every executor name known: the built-in ones and the project's, sorted.
-- A project file that is not an executor (no `run`, like prices.lua) is
-- left out.
function M.names()
  local seen, names = {}, {}
  for _, name in ipairs(M.BUILTIN) do
    seen[name] = true
    names[#names + 1] = name
  end
  local extra = {}
  project_names(seen, extra)
  for _, name in ipairs(extra) do
    local ok, e = pcall(require, PREFIX .. name)
    if ok and type(e) == "table" and type(e.run) == "function" then
      names[#names + 1] = name
    end
  end
  table.sort(names)
  return names
end

--- Whether an executor called `name` exists (loads nothing).
function M.exists(name)
  return type(name) == "string" and name:match("^[%w][%w_%-]*$") ~= nil and found(PREFIX .. name)
end

--- The message for an executor `name` that does not exist: naming it, the
-- closest known name and every known one.
function M.unknown(name)
  local names = M.names()
  local near = util.closest(tostring(name), names)
  return string.format("unknown executor %q%s (known: %s)", tostring(name),
    near and string.format(": did you mean %q?", near) or "", table.concat(names, ", "))
end

--- The executor module `name`, loaded on first use. Raises when there is
-- none, or when it is not an executor.
function M.get(name)
  local e = package.loaded[PREFIX .. name]
  if e then
    return e
  end
  if not M.exists(name) then
    error(M.unknown(name), 2)
  end
  e = require(PREFIX .. name)
  if type(e) ~= "table" or type(e.run) ~= "function" then
    error(string.format("executor %q: module %s%s returns no run function", name, PREFIX, name), 2)
  end
  return e
end

return M
