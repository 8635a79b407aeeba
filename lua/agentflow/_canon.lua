--- A canonical encoding of Lua values: equal values give equal strings,
-- whatever the order their tables were built in. Cache keys hash it.
local core = require "agentflow.core"

local M = {}

local encode

local function is_list(t)
  local n = #t
  for k in pairs(t) do
    if math.type(k) ~= "integer" or k < 1 or k > n then
      return false
    end
  end
  return true
end

local function encode_table(t, out, seen)
  if seen[t] then
    error("cannot encode a table that contains itself", 0)
  end
  seen[t] = true
  if is_list(t) then
    out[#out + 1] = "["
    for i = 1, #t do
      encode(t[i], out, seen)
      out[#out + 1] = ","
    end
    out[#out + 1] = "]"
  else
    local keys = {}
    for k in pairs(t) do
      keys[#keys + 1] = k
    end
    table.sort(keys, function(a, b)
      local ta, tb = type(a), type(b)
      if ta ~= tb then
        return ta < tb
      end
      return a < b
    end)
    out[#out + 1] = "{"
    for _, k in ipairs(keys) do
      encode(k, out, seen)
      out[#out + 1] = "="
      encode(t[k], out, seen)
      out[#out + 1] = ";"
    end
    out[#out + 1] = "}"
  end
  seen[t] = nil
end

encode = function(v, out, seen)
  local t = type(v)
  if t == "string" then
    out[#out + 1] = string.format("s%d:", #v)
    out[#out + 1] = v
  elseif t == "number" then
    out[#out + 1] = math.type(v) == "integer" and string.format("i%d", v) or string.format("f%.17g", v)
  elseif t == "boolean" or t == "nil" then
    out[#out + 1] = tostring(v)
  elseif t == "table" then
    encode_table(v, out, seen)
  elseif t == "function" then
    -- The function's code, not its upvalues; C functions by name only.
    local ok, code = pcall(string.dump, v, true)
    out[#out + 1] = "fn:" .. (ok and core.hash(code) or "C")
  else
    out[#out + 1] = t
  end
end

--- The canonical encoding of `v`. Raises for a table containing itself.
function M.encode(v)
  local out = {}
  encode(v, out, {})
  return table.concat(out)
end

--- core.hash of the canonical encoding.
function M.hash(v)
  return core.hash(M.encode(v))
end

return M
