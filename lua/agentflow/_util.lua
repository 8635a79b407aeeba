--- Small helpers shared by the library: durations, argument checks, names.
local cjson = require "cjson.safe"

local M = {}

local UNITS = { ms = 0.001, s = 1, m = 60, h = 3600, d = 86400 }

--- Seconds in a duration: a number of seconds or a string with a unit
-- ("300ms", "30s", "10m", "168h", "2d", "1.5h").
-- @return seconds, or nil and a message
function M.seconds(v)
  if type(v) == "number" then
    if v ~= v or v < 0 then
      return nil, "a duration must be a non-negative number of seconds"
    end
    return v
  end
  if type(v) ~= "string" then
    return nil, "a duration must be a number of seconds or a string like \"30s\", not a " .. type(v)
  end
  local n, unit = v:match("^%s*(%d+%.?%d*)%s*(%a+)%s*$")
  local scale = UNITS[unit]
  if not n or not scale then
    return nil, string.format("bad duration %q (use a number with ms, s, m, h or d)", v)
  end
  return tonumber(n) * scale
end

--- Raise an error at the caller of the API function, `level` frames up from
-- the function that calls `fail` (1 = the API function's caller).
function M.fail(level, fmt, ...)
  error(string.format(fmt, ...), level + 2)
end

--- Check an option field's type; raises at the API caller (`level` as in fail).
function M.check(level, fname, field, value, want, optional)
  local got = type(value)
  if got == want or (optional and value == nil) then
    return value
  end
  M.fail(level + 1, "%s: %s must be a %s, not %s", fname, field, want,
    value == nil and "nil" or got)
end

--- A duration option in seconds (nil stays nil); raises at the API caller.
function M.duration(level, fname, field, value)
  if value == nil then
    return nil
  end
  local s, err = M.seconds(value)
  if not s then
    M.fail(level + 1, "%s: %s: %s", fname, field, err)
  end
  return s
end

--- Human form of a duration in seconds: "850ms", "12.3s", "4m05s", "2h01m".
function M.format_seconds(s)
  if s < 1 then
    return string.format("%dms", math.floor(s * 1000 + 0.5))
  elseif s < 60 then
    return string.format("%.1fs", s)
  elseif s < 3600 then
    return string.format("%dm%02ds", s // 60, math.floor(s % 60))
  end
  return string.format("%dh%02dm", s // 3600, math.floor(s % 3600 / 60))
end

local function distance(a, b)
  local prev, cur = {}, {}
  for j = 0, #b do
    prev[j] = j
  end
  for i = 1, #a do
    cur[0] = i
    for j = 1, #b do
      local cost = a:byte(i) == b:byte(j) and 0 or 1
      cur[j] = math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost)
    end
    prev, cur = cur, prev
  end
  return prev[#b]
end

--- The name in `names` closest to `name` by edit distance, if it is close
-- enough to be a likely typo (at most a third of the name's length).
function M.closest(name, names)
  local best, best_d
  for _, candidate in ipairs(names) do
    local d = distance(name, candidate)
    if not best_d or d < best_d or (d == best_d and candidate < best) then
      best, best_d = candidate, d
    end
  end
  if best and best_d <= math.max(2, #name // 3) then
    return best
  end
end

--- The type of a value as Lua's own argument errors name it.
function M.typename(v)
  return v == nil and "no value" or type(v)
end

--- Turn the whole-number floats of `t[k]` for each k in `keys` back into
-- integers (JSON decoding gives floats: an exit code 0 would print "0.0").
function M.integers(t, keys)
  for _, k in ipairs(keys) do
    local v = t[k]
    if math.type(v) == "float" then
      t[k] = math.tointeger(v) or v
    end
  end
  return t
end

local ExitError = {
  __tostring = function(e)
    return e.message
  end,
}

--- An error value that ends the program with `code` after printing
-- `message` (the host reads its exit_code); `fields` are added to it.
function M.exit_error(code, message, fields)
  local e = fields or {}
  e.exit_code, e.message = code, message
  return setmetatable(e, ExitError)
end

--- The keys of `t` (nil: none), sorted.
function M.sorted_keys(t)
  local keys = {}
  for k in pairs(t or {}) do
    keys[#keys + 1] = k
  end
  table.sort(keys)
  return keys
end

--- cjson.encode(obj) with the lists of `arrays` ({name = list}) added as
-- JSON arrays, empty ones too: cjson 2.1.0 writes an empty table as {}.
function M.json_with_arrays(obj, arrays)
  local parts = {}
  for _, name in ipairs(M.sorted_keys(arrays)) do
    local list = arrays[name]
    parts[#parts + 1] = cjson.encode(name) .. ":" .. (#list == 0 and "[]" or cjson.encode(list))
  end
  local head = cjson.encode(obj):sub(1, -2)
  return head .. (head == "{" and "" or ",") .. table.concat(parts, ",") .. "}"
end

--- A shallow copy of a table (in C: made at its final size).
M.copy = require("agentflow.core").copy

--- The bytes of file `path`, or nil when it cannot be opened.
function M.read_file(path)
  local f = io.open(path, "rb")
  if not f then
    return nil
  end
  local text = f:read("a")
  f:close()
  return text
end

return M
