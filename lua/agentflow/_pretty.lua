--- agentflow._pretty: readable text for Lua values (the REPL's printer, `af.inspect`).
-- Tables print nested with their keys sorted; a table met again on the way
-- down is a cycle and prints as <cycle>; deeper than `depth` prints as {...};
-- a table that fits in `width` columns stays on one line.
local M = {}

local DEFAULTS = { depth = 6, width = 78, max_items = 200, indent = "  " }

-- numbers before strings before the rest, each group in its natural order
local TYPE_ORDER = { number = 1, string = 2, boolean = 3 }

local function key_less(a, b)
  local ta, tb = type(a), type(b)
  if ta ~= tb then
    local oa, ob = TYPE_ORDER[ta] or 4, TYPE_ORDER[tb] or 4
    if oa ~= ob then
      return oa < ob
    end
    return ta < tb
  end
  if ta == "number" or ta == "string" then
    return a < b
  end
  if ta == "boolean" then
    return not a and b
  end
  return tostring(a) < tostring(b)
end

local function quote(s)
  return (string.format("%q", s):gsub("\\\n", "\\n"))
end

local KEYWORDS = {}
for word in ([[and break do else elseif end false for function goto if in
    local nil not or repeat return then true until while]]):gmatch("%a+") do
  KEYWORDS[word] = true
end

local function key_text(k, fmt)
  if type(k) == "string" and k:match("^[%a_][%w_]*$") and not KEYWORDS[k] then
    return k
  end
  return "[" .. fmt(k) .. "]"
end

local format_value

-- The entries of table t as text items: the sequence 1..#t first, unkeyed,
-- then the other keys sorted.
local function items_of(t, ctx, level)
  local items, n = {}, rawlen(t)
  local function fmt(v)
    return format_value(v, ctx, level + 1)
  end
  for i = 1, math.min(n, ctx.max_items) do
    items[#items + 1] = fmt(rawget(t, i))
  end
  local keys = {}
  for k in next, t do
    if not (math.type(k) == "integer" and k >= 1 and k <= n) then
      keys[#keys + 1] = k
    end
  end
  table.sort(keys, key_less)
  for i = 1, math.min(#keys, ctx.max_items - #items) do
    local k = keys[i]
    items[#items + 1] = key_text(k, fmt) .. " = " .. fmt(rawget(t, k))
  end
  local shown, total = #items, math.min(n, ctx.max_items) + #keys
  if n > ctx.max_items or total > shown then
    items[#items + 1] = string.format("... (%d more)", n + #keys - shown)
  end
  return items
end

local function format_table(t, ctx, level)
  local mt = getmetatable(t)
  if mt and mt.__tostring then
    return tostring(t)
  end
  if ctx.path[t] then
    return "<cycle>"
  end
  if level >= ctx.depth then
    return next(t) == nil and "{}" or "{...}"
  end
  ctx.path[t] = true
  local items = items_of(t, ctx, level)
  ctx.path[t] = nil
  if #items == 0 then
    return "{}"
  end
  local line = "{ " .. table.concat(items, ", ") .. " }"
  if #line + #ctx.indent * level <= ctx.width and not line:find("\n", 1, true) then
    return line
  end
  local pad = ctx.indent:rep(level + 1)
  return "{\n" .. pad .. table.concat(items, ",\n" .. pad) .. "\n" .. ctx.indent:rep(level) .. "}"
end

function format_value(v, ctx, level)
  local t = type(v)
  if t == "string" then
    return quote(v)
  elseif t == "table" then
    return format_table(v, ctx, level)
  end
  return tostring(v)
end

--- Text for `v`. opts: depth (6), width (78), max_items per table (200).
function M.format(v, opts)
  local ctx = { path = {} }
  for k, default in pairs(DEFAULTS) do
    ctx[k] = opts and opts[k] or default
  end
  return format_value(v, ctx, 0)
end

--- Print values as the REPL does: tab-separated, strings as they are,
-- everything else through M.format.
function M.print(...)
  local out = {}
  for i = 1, select("#", ...) do
    local v = select(i, ...)
    out[i] = type(v) == "string" and v or M.format(v)
  end
  io.stdout:write(table.concat(out, "\t"), "\n")
end

return M
