--- Agent files: Claude Code subagent files (NAME.md: YAML front matter,
-- the body is the system prompt) and Lua agents (NAME.lua returning a
-- definition), found in these directories, first match winning:
--
--   1. $AGENTFLOW_AGENTS (directories separated by ':')
--   2. <project root>/agents
--   3. <project root>/.claude/agents
--   4. ~/.claude/agents
--
-- Agents defined in the workflow with af.define_agent win over all files.
-- The front matter's Claude Code keys (name, description, tools, model,
-- maxTurns, permissionMode, ...) and agentflow's own (executor, command,
-- ttl, retries, backoff, timeout, fallback, critical, cache, invalidate_on,
-- budget_usd, max_concurrency) are read; unknown keys are kept.
local core = require "agentflow.core"
local files = require "agentflow._files"
local util = require "agentflow._util"

local M = {}

--- The directories searched, highest precedence first, each {dir, origin}.
function M.dirs()
  local env = core.environ()
  local out = {}
  for dir in (env.AGENTFLOW_AGENTS or ""):gmatch("[^:]+") do
    out[#out + 1] = { dir, "AGENTFLOW_AGENTS" }
  end
  local root = files.root()
  out[#out + 1] = { root .. "/agents", "project" }
  out[#out + 1] = { root .. "/.claude/agents", "project .claude" }
  if env.HOME then
    out[#out + 1] = { env.HOME .. "/.claude/agents", "user .claude" }
  end
  return out
end

local read = util.read_file

-- Claude Code's camelCase keys, as agentflow names them.
local RENAMED = { maxTurns = "max_turns", permissionMode = "permission_mode",
  disallowedTools = "disallowed_tools" }

--- A definition from the text of a NAME.md file, or nil and
-- "PATH:LINE: problem".
function M.parse_md(path, text)
  local front, body = text:match("^%-%-%-\r?\n(.-\r?\n?)%-%-%-[ \t]*\r?\n?(.*)$")
  if not front then
    return nil, string.format("%s:1: no front matter (the file must start with a line '---' and the "
      .. "YAML ends at the next '---')", path)
  end
  local fm, err = core.yaml_decode(front)
  if not fm then
    local line, rest = err:match("^line (%d+): (.*)$")
    return nil, string.format("%s:%d: %s", path, (tonumber(line) or 0) + 1, rest or err)
  end
  if type(fm) ~= "table" then
    return nil, string.format("%s:2: the front matter must be a mapping of keys to values", path)
  end
  local def = {}
  for k, v in pairs(fm) do
    def[RENAMED[k] or k] = v
  end
  local base = path:match("([^/]+)%.md$")
  if def.name ~= nil and type(def.name) ~= "string" then
    return nil, string.format("%s:2: name must be a string", path)
  end
  def.name = def.name or base
  def.system_prompt = body:match("^%s*(.-)%s*$")
  return def
end

--- A definition from a NAME.lua file (a chunk returning a table), or nil
-- and a message naming the file.
function M.parse_lua(path)
  local chunk, err = loadfile(path, "t")
  if not chunk then
    return nil, err
  end
  local ok, def = pcall(chunk)
  if not ok then
    return nil, tostring(def)
  end
  if type(def) ~= "table" then
    return nil, string.format("%s: must return a definition table, not %s", path, type(def))
  end
  def.name = def.name or path:match("([^/]+)%.lua$")
  return def
end

local function list_dir(dir)
  local paths = core.glob(dir, "*.md") or {}
  for _, p in ipairs(core.glob(dir, "*.lua") or {}) do
    paths[#paths + 1] = p
  end
  table.sort(paths)
  return paths
end

--- Every agent file found: {name = {def | error, path, origin}}, first
-- match winning. Files that cannot be parsed are kept with their error,
-- raised only when the agent is used.
function M.load()
  local found = {}
  for _, d in ipairs(M.dirs()) do
    for _, rel in ipairs(list_dir(d[1])) do
      local path = d[1] .. "/" .. rel
      local text = read(path)
      local def, err
      if rel:match("%.md$") then
        def, err = M.parse_md(path, text or "")
        if def then
          def.source_text = text
        end
      else
        def, err = M.parse_lua(path)
        if def then
          def.source_text = text
        end
      end
      local name = def and def.name or rel:match("^(.-)%.[^.]+$")
      if not found[name] then
        found[name] = { def = def, error = err, path = path, origin = d[2] }
      end
    end
  end
  return found
end

return M
