--- agentflow agents [ls] [--json] | show NAME [--json]
local args = require "agentflow.cli._args"
local agents = require "agentflow.agents"
local cjson = require "cjson.safe"

local M = {}

local function ls(opts)
  local list = agents.list()
  local broken = 0
  if opts.json then
    local rows = {}
    for i, a in ipairs(list) do
      rows[i] = { name = a.name, description = a.description, executor = a.executor, source = a.source,
        error = a.error }
    end
    io.stdout:write(#rows == 0 and "[]" or cjson.encode(rows), "\n")
  else
    print(string.format("%-28s %-8s %-40s %s", "name", "executor", "source", "description"))
    for _, a in ipairs(list) do
      print(string.format("%-28s %-8s %-40s %s", a.name, a.executor, a.source,
        a.error and ("ERROR: " .. a.error) or (a.description:match("^[^\n]*") or "")))
    end
  end
  for _, a in ipairs(list) do
    if a.error then
      broken = broken + 1
      io.stderr:write("agentflow: ", a.error, "\n")
    end
  end
  return broken > 0 and 65 or 0
end

local function show(opts, name)
  if not name then
    return args.usage_error("agents", "agents show needs a NAME")
  end
  local ok, d, err = pcall(agents.get, name)
  if not ok then
    return args.error(65, "%s", tostring(d))
  end
  if not d then
    return args.error(66, "%s", err)
  end
  local doc = {}
  for k, v in pairs(d) do
    if type(v) ~= "function" and k ~= "source_text" then
      doc[k] = v
    end
  end
  -- Agent files may carry other tools' keys; agentflow ignores them, and
  -- says which, so a misspelt key of its own is seen.
  local unknown = agents.unknown_keys(d)
  if opts.json then
    -- lua-cjson 2.1.0 encodes an empty table as {}: leave the list out then.
    doc.unknown_keys = #unknown > 0 and unknown or nil
    io.stdout:write(cjson.encode(doc), "\n")
  else
    print(af.inspect(doc, { width = 100 }))
    if #unknown > 0 then
      print("unknown keys (ignored): " .. table.concat(unknown, ", "))
    end
  end
  return 0
end

function M.main(argv)
  local sub, first = argv[1], 2
  if sub == nil or sub:match("^%-") then
    sub, first = "ls", 1
  end
  local commands = { ls = ls, show = show }
  if not commands[sub] then
    return args.usage_error("agents", "unknown agents command '%s'", sub)
  end
  local opts, operands = args.parse(argv, first, { json = "flag" })
  if not opts then
    return args.usage_error("agents", "%s", operands)
  end
  return commands[sub](opts, operands[1])
end

return M
