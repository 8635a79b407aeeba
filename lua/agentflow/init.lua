--- agentflow: the Lua API that workflows use as the global `af`.
-- The contract is in DESIGN.md ("Lua API"). This file stays small because
-- it is parsed at every start; the rest of the library is loaded on first
-- use through `lazy` below.
local core = require "agentflow.core"

local M = {
  version = core.version,
}

--- The project's state directory (`.agentflow/` at the git work tree root of
-- the script, else of the current directory; `AGENTFLOW_HOME` overrides).
-- With `create`, it is created with mode 0700 first.
-- @return path, or nil and a message when it cannot be created
function M.state_dir(create)
  return core.state_dir(create)
end

--- The path of the running workflow script, or nil (REPL, -e).
function M.script_path()
  return core.script_path()
end

-- os.time() and math.random go through the journal during workflow runs.
require("agentflow._values").install(M)

-- Fields that live in other modules: af.NAME loads the module on first use.
local lazy = {
  inspect = { "agentflow._pretty", "format" },
  exec = { "agentflow._exec", "af_exec" },
  now = { "agentflow._clock", "now" },
  sleep = { "agentflow._clock", "sleep" },
  agent = { "agentflow._agent", "agent" },
  configure = { "agentflow._agent", "configure" },
  define_agent = { "agentflow.agents", "define" },
  run_id = { "agentflow._run", "id" },
  checkpoint = { "agentflow._steps", "user_checkpoint" },
  orchestrate = { "agentflow.flow", "orchestrate" },
  select_pattern = { "agentflow.patterns", "select" },
  log = { "agentflow.log" },
  planning = { "agentflow._plan", "active" },
  write_file = { "agentflow._write", "write_file" },
  -- Not for workflows: where a module low in the library calls one above
  -- it, it goes through these, so that no module requires one above it
  -- and a start loads only what it uses (tools/lua-deps).
  _record_value = { "agentflow._record", "read" },
  _close_run = { "agentflow._steps", "finish" },
}
-- af.sequential, af.parallel, ...: flow.lua has a function per pattern.
for _, name in ipairs(require("agentflow._patterns").NAMES) do
  lazy[name] = { "agentflow.flow", name }
end

return setmetatable(M, {
  __index = function(t, key)
    local where = lazy[key]
    if not where then
      return nil
    end
    local module = require(where[1])
    local value = where[2] and module[where[2]] or module
    rawset(t, key, value)
    return value
  end,
})
