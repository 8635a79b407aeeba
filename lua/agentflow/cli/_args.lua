--- Argument parsing for the subcommands written in Lua.
local M = {}

--- opts, operands = parse(args, from, spec) where spec maps a long option
-- name to "flag" or "value". Returns nil and a message on a bad option.
-- "--name=value" and "--name value" both work; "--" ends options.
function M.parse(args, from, spec)
  local opts, operands, i = {}, {}, from
  while args[i] do
    local a = args[i]
    if a == "--" then
      for j = i + 1, #args do
        operands[#operands + 1] = args[j]
      end
      break
    end
    local name, value = a:match("^%-%-([%w-]+)=(.*)$")
    name = name or a:match("^%-%-([%w-]+)$")
    if name then
      local kind = spec[name]
      if not kind then
        return nil, string.format("unknown option '--%s'", name)
      end
      if kind == "value" and not value then
        i = i + 1
        value = args[i]
        if not value then
          return nil, string.format("option '--%s' needs a value", name)
        end
      elseif kind == "flag" and value then
        return nil, string.format("option '--%s' takes no value", name)
      end
      opts[name] = kind == "flag" or value
    elseif a:match("^%-.") then
      return nil, string.format("unknown option '%s'", a)
    else
      operands[#operands + 1] = a
    end
    i = i + 1
  end
  return opts, operands
end

--- Print a usage error pointing at the command's help; returns 64.
function M.usage_error(command, fmt, ...)
  io.stderr:write("agentflow: ", string.format(fmt, ...), "\n",
    string.format("Try 'agentflow %s --help'.\n", command))
  return 64
end

--- Print an error; returns `code`.
function M.error(code, fmt, ...)
  io.stderr:write("agentflow: ", string.format(fmt, ...), "\n")
  return code
end

--- The record of run `id` from the command line, read through `runs`
-- (_runs.lua, which the commands that name runs load): the record, or nil
-- and the exit code after saying what is wrong (64 a malformed id, 66 none).
function M.run_record(runs, id)
  if not runs.valid_id(id) then
    return nil, M.error(64, "bad run id %q (letters, digits, '.', '_' and '-' only)", id)
  end
  local rec = runs.get(id)
  if not rec then
    return nil, M.error(66, "no run %s (see agentflow runs)", id)
  end
  if rec.damaged then
    return nil, M.error(65, "run %s cannot be read: %s (runs prune removes it)", id, rec.damaged)
  end
  return rec
end

--- Bytes in a size: a number, or with K, M, G (powers of 1024).
function M.size(s)
  local n, unit = tostring(s):match("^(%d+%.?%d*)([KMG]?)i?B?$")
  if not n then
    return nil
  end
  local scale = ({ [""] = 1, K = 1024, M = 1024 ^ 2, G = 1024 ^ 3 })[unit]
  return math.floor(tonumber(n) * scale)
end

--- "3m", "2h", "5d": a coarse age.
function M.age(seconds)
  seconds = math.max(0, seconds)
  if seconds < 60 then
    return string.format("%ds", math.floor(seconds))
  elseif seconds < 3600 then
    return string.format("%dm", seconds // 60)
  elseif seconds < 86400 then
    return string.format("%dh", seconds // 3600)
  end
  return string.format("%dd", seconds // 86400)
end

return M
