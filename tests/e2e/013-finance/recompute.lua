-- An independent recomputation of the finance report, written from the
-- rules in the README ("Bangladesh tax rules") without workflows/lib/bd.lua:
-- it reads DATA_DIR and the rate and holiday tables (data, not code) and
-- prints what the report must say — its summary lines, the Mushak 9.1 table
-- rows and one "document|field" line per violation (sorted) — for run.sh to
-- compare with the report.
--
--   agentflow recompute.lua DATA_DIR RATES HOLIDAYS
local cjson = require "cjson"
local data, rates, holidays = arg[1], dofile(arg[2]), dofile(arg[3])

local function load(name)
  local f = assert(io.open(data .. "/" .. name))
  local v = cjson.decode(f:read("a"))
  f:close()
  return v
end

-- Amounts: whole numbers of poisha within +-(2^53 - 1).
local LIMIT = 9007199254740991
local function whole(v)
  if type(v) == "number" and v == math.floor(v) and math.abs(v) <= LIMIT then
    return math.tointeger(v)
  end
end

-- amount x percent / 100, half away from zero (percent with <= 2 decimals).
local function pct(amount, percent)
  local bp = math.tointeger(math.floor(percent * 100 + 0.5))
  local neg = amount < 0
  amount = math.abs(amount)
  local whole_part = (amount // 10000) * bp
  local rest = (amount % 10000) * bp
  local q = whole_part + rest // 10000
  if (rest % 10000) * 2 >= 10000 then
    q = q + 1
  end
  return neg and -q or q
end

-- Dates: day numbers counted from 2000-01-01 by month lengths.
local MONTH_DAYS = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 }
local function dim(y, m)
  if m == 2 and (y % 400 == 0 or (y % 4 == 0 and y % 100 ~= 0)) then
    return 29
  end
  return MONTH_DAYS[m]
end
local function daynum(y, m, d)
  local n = 0
  for yy = 2000, y - 1 do
    n = n + ((yy % 400 == 0 or (yy % 4 == 0 and yy % 100 ~= 0)) and 366 or 365)
  end
  for mm = 1, m - 1 do
    n = n + dim(y, mm)
  end
  return n + d - 1
end
local function from_daynum(n)
  local y, m = 2000, 1
  while n >= daynum(y + 1, 1, 1) do
    y = y + 1
  end
  n = n - daynum(y, 1, 1)
  while n >= dim(y, m) do
    n, m = n - dim(y, m), m + 1
  end
  return string.format("%04d-%02d-%02d", y, m, n + 1)
end

-- A timestamp read in Dhaka (UTC+6): date string, has-time flag, day number.
local function when(s)
  if type(s) ~= "string" then
    return nil
  end
  local y, m, d = s:match("^(%d%d%d%d)%-(%d%d)%-(%d%d)")
  if not y then
    return nil
  end
  y, m, d = tonumber(y), tonumber(m), tonumber(d)
  if m < 1 or m > 12 or d < 1 or d > dim(y, m) then
    return nil
  end
  local rest = s:sub(11)
  if rest == "" then
    local n = daynum(y, m, d)
    return { date = from_daynum(n), day = n }
  end
  local hh, mi, tail = rest:match("^[ T](%d%d):(%d%d)(.*)$")
  if not hh or tonumber(hh) > 23 or tonumber(mi) > 59 then
    return nil
  end
  local sec, zone = tail:match("^:(%d%d)[%.%d]*(.*)$")
  if sec then
    if tonumber(sec) > 59 then
      return nil
    end
  else
    zone = tail
  end
  local off = 6 * 60
  if zone == "Z" then
    off = 0
  elseif zone ~= "" then
    local sg, oh, om = zone:match("^([+-])(%d%d):?(%d%d)$")
    if not sg or tonumber(oh) > 14 or tonumber(om) > 59 then
      return nil
    end
    off = (tonumber(oh) * 60 + tonumber(om)) * (sg == "+" and 1 or -1)
  end
  local minutes = daynum(y, m, d) * 1440 + tonumber(hh) * 60 + tonumber(mi) + (6 * 60 - off)
  local n = minutes // 1440
  return { date = from_daynum(n), day = n, time = true }
end

local function fy_of(date)
  local y, m = tonumber(date:sub(1, 4)), tonumber(date:sub(6, 7))
  if m < 7 then
    y = y - 1
  end
  return string.format("%d-%02d", y, (y + 1) % 100)
end

-- Identifiers: Bangla digits folded, spaces dropped.
local function fold(s)
  s = tostring(s)
  for i = 0, 9 do
    s = s:gsub("\xE0\xA7" .. string.char(0xA6 + i), tostring(i))
  end
  return (s:gsub("%s", ""))
end
local function bin_ok(s)
  if type(s) ~= "string" and type(s) ~= "number" then
    return false
  end
  s = fold(s)
  if #s == 14 and s:sub(10, 10) == "-" then
    s = s:sub(1, 9) .. s:sub(11)
  end
  return #s == 13 and not s:find("%D") and s or false
end
local function tin_ok(s)
  s = fold(s)
  return #s == 12 and not s:find("%D")
end
local function nid_ok(s)
  s = fold(s)
  if s:find("%D") then
    return false
  end
  if #s == 17 then
    local year = tonumber(s:sub(1, 4))
    return year >= 1900 and year <= tonumber(os.date("!%Y"))
  end
  return #s == 10 or #s == 13
end

local function rate(category, date)
  for _, r in ipairs(rates) do
    if r.category == category and date >= r.from and (r.to == nil or date <= r.to) then
      return r.vat_rate, r.sd_rate or 0
    end
  end
end

local function blank(v)
  return v == nil or v == ""
end

-- The findings of one invoice (fields, in any order).
local function invoice_fields(inv, ours)
  local out = {}
  local function flag(f)
    out[#out + 1] = f
  end
  if blank(inv.number) then
    flag("number")
  end
  local t = when(inv.issued_at)
  if not t or not t.time then
    flag("issued_at")
  end
  for _, side in ipairs({ "seller", "buyer" }) do
    local p = inv[side]
    if type(p) ~= "table" then
      flag(side)
    else
      for _, k in ipairs({ "name", "address" }) do
        if blank(p[k]) then
          flag(side .. "." .. k)
        end
      end
      local need = side == "seller" or ours
      if blank(p.bin) then
        if need then
          flag(side .. ".bin")
        end
      elseif not bin_ok(p.bin) or (side == "buyer" and ours and bin_ok(p.bin) ~= bin_ok(ours)) then
        flag(side .. ".bin")
      end
    end
  end
  if type(inv.lines) ~= "table" or #inv.lines == 0 then
    flag("lines")
  else
    for i, l in ipairs(inv.lines) do
      local p = "lines[" .. i .. "]."
      if l.category and t then
        local vr, sr = rate(l.category, t.date)
        if not vr then
          flag(p .. "category")
        elseif l.vat_rate ~= vr then
          flag(p .. "vat_rate")
        elseif (l.sd_rate or 0) ~= sr then
          flag(p .. "sd_rate")
        end
      end
      if blank(l.description) then
        flag(p .. "description")
      end
      local price = whole(l.unit_price_poisha)
      if type(l.quantity) ~= "number" or l.quantity <= 0 then
        flag(p .. "quantity")
      elseif not price or price < 0 then
        flag(p .. "unit_price_poisha")
      else
        local value = math.tointeger(math.floor(l.quantity * price + 0.5))
        local sd = pct(value, l.sd_rate or 0)
        if (sd ~= 0 or l.sd_poisha ~= nil) and l.sd_poisha ~= sd then
          flag(p .. "sd_poisha")
        end
        if type(l.vat_rate) ~= "number" then
          flag(p .. "vat_rate")
        elseif l.vat_poisha ~= pct(value + sd, l.vat_rate) then
          flag(p .. "vat_poisha")
        end
      end
    end
  end
  if type(inv.officer) ~= "table" then
    flag("officer")
  else
    for _, k in ipairs({ "name", "designation" }) do
      if blank(inv.officer[k]) then
        flag("officer." .. k)
      end
    end
  end
  return out
end

-- Serial numbers of our invoices: a sequence per seller (by valid BIN,
-- else by the name's valid BIN), series prefix and fiscal year (of the
-- issue date when readable, else of the number).
local function serial_findings(invoices, flag)
  local name_bin = {}
  for _, inv in ipairs(invoices) do
    local s = inv.seller or {}
    if bin_ok(s.bin) and s.name and not name_bin[s.name:lower()] then
      name_bin[s.name:lower()] = bin_ok(s.bin)
    end
  end
  local groups, keys = {}, {}
  for i, inv in ipairs(invoices) do
    if not blank(inv.number) then
      local series, fy, serial = tostring(inv.number):match("^(.-)(%d%d%d%d%-%d%d)/(%d+)$")
      if not series then
        flag(i, "number")
      else
        local t = when(inv.issued_at)
        if t and fy_of(t.date) ~= fy then
          flag(i, "number")
        end
        local s = inv.seller or {}
        local who = bin_ok(s.bin) or (s.name and name_bin[s.name:lower()]) or ("?" .. tostring(s.name))
        local years = { t and fy_of(t.date) or fy }
        if years[1] ~= fy then
          years[2] = fy -- either year's sequence may be the one it belongs to
        end
        for _, year in ipairs(years) do
          local key = who .. " " .. series .. " " .. year
          if not groups[key] then
            groups[key] = {}
            keys[#keys + 1] = key
          end
          table.insert(groups[key], { i = i, n = tonumber(serial), either = #years == 2 })
        end
      end
    end
  end
  for _, key in ipairs(keys) do
    local g = groups[key]
    local prev
    for k, e in ipairs(g) do
      local n = e.n
      if e.either and not (prev and n == prev + 1) then
        n = nil -- belongs to the other year's sequence
      elseif prev and n ~= prev + 1 then
        flag(e.i, "number")
        local after = g[k + 1]
        local neighbours_agree = after and after.n == prev + 2
        if neighbours_agree or (not after and n <= prev) then
          n = prev + 1
        elseif n <= prev then
          n = prev
        end
      end
      prev = n or prev
    end
  end
end

-- Everything the report must say.
local company = load("company.json")
local invoices, purchases = load("invoices.json"), load("purchases.json")
local notes, vds = load("notes.json"), load("vds.json")
local found = {}
local function flag(kind, i, field)
  found[#found + 1] = kind .. " " .. i .. "|" .. field
end
local months = {}
local function mo(ts)
  local t = when(ts)
  local key = t and t.date:sub(1, 7) or "unreadable"
  months[key] = months[key] or { output = 0, written = 0, credit = 0, debit = 0, input = 0, vds = 0 }
  return months[key]
end

local lines, vat_of = 0, {}
serial_findings(invoices, function(i, f) flag("invoice", i, f) end)
for i, inv in ipairs(invoices) do
  for _, f in ipairs(invoice_fields(inv)) do
    flag("invoice", i, f)
  end
  local t, m, vat = when(inv.issued_at), mo(inv.issued_at), 0
  for _, l in ipairs(type(inv.lines) == "table" and inv.lines or {}) do
    lines = lines + 1
    local w = whole(l.vat_poisha) or 0
    vat = vat + w
    m.written = m.written + w
    local vr, sr = nil, nil
    if t then
      vr, sr = rate(l.category, t.date)
    end
    local price = whole(l.unit_price_poisha)
    if vr and type(l.quantity) == "number" and l.quantity > 0 and price and price >= 0 then
      local value = math.tointeger(math.floor(l.quantity * price + 0.5))
      local sd = pct(value, sr)
      m.output = m.output + pct(value + sd, vr)
    else
      m.output = m.output + w
    end
  end
  local key = tostring(inv.number)
  if not vat_of[key] then
    vat_of[key] = { vat = vat, t = t }
  end
end

local formats = {}
for _, s in ipairs(load("suppliers.json")) do
  if s.number_format and bin_ok(s.bin) then
    formats[bin_ok(s.bin)] = s.number_format
  end
end
for i, p in ipairs(purchases) do
  local fields = invoice_fields(p, company.bin or "")
  local fmt = formats[bin_ok((p.seller or {}).bin) or ""] or "^(.-)(%d%d%d%d%-%d%d)/(%d+)$"
  local _, fy = tostring(p.number):match(fmt)
  local t = when(p.issued_at)
  if not fy then
    fields[#fields + 1] = "number"
  elseif t and fy_of(t.date) ~= fy then
    fields[#fields + 1] = "number"
  end
  for _, f in ipairs(fields) do
    flag("purchase", i, f)
  end
  if #fields == 0 then
    for _, l in ipairs(p.lines) do
      mo(p.issued_at).input = mo(p.issued_at).input + whole(l.vat_poisha)
    end
  end
end

for i, n in ipairs(notes) do
  local bad = {}
  local function f(x) bad[#bad + 1] = x end
  if blank(n.number) then f("number") end
  if n.kind ~= "credit" and n.kind ~= "debit" then f("kind") end
  local t = when(n.issued_at)
  if not t then f("issued_at") end
  local orig = vat_of[tostring(n.invoice)]
  if not orig then f("invoice") end
  if blank(n.reason) then f("reason") end
  local value = whole(n.value_poisha)
  if not value or value <= 0 then f("value_poisha") end
  if type(n.vat_rate) ~= "number" then
    f("vat_rate")
  elseif value and value > 0 and n.vat_poisha ~= pct(value, n.vat_rate) then
    f("vat_poisha")
  end
  local vat = whole(n.vat_poisha)
  local bin = (n.buyer or {}).bin
  if not blank(bin) then
    if not bin_ok(bin) then f("buyer.bin") end
  elseif vat and vat > 500000 then
    f("buyer.bin")
  end
  if orig and t and orig.t and t.day < orig.t.day then f("issued_at") end
  if orig and t and n.kind == "credit" and vat and vat > orig.vat then f("vat_poisha") end
  for _, x in ipairs(bad) do
    flag("note", i, x)
  end
  if #bad == 0 then
    local m = mo(n.issued_at)
    m[n.kind] = m[n.kind] + vat
  end
end

for i, c in ipairs(vds) do
  local bad = {}
  local function f(x) bad[#bad + 1] = x end
  if blank(c.certificate) then f("certificate") end
  if not when(c.issued_at) then f("issued_at") end
  local w = c.withholder
  if type(w) ~= "table" then
    f("withholder")
  else
    if blank(w.name) then f("withholder.name") end
    if blank(w.address) then f("withholder.address") end
    if blank(w.bin) or not bin_ok(w.bin) then f("withholder.bin") end
  end
  local orig, amount = vat_of[tostring(c.invoice)], whole(c.vat_deducted_poisha)
  if not orig then f("invoice") end
  if not amount or amount <= 0 or (orig and amount > orig.vat) then f("vat_deducted_poisha") end
  for _, x in ipairs(bad) do
    flag("vds", i, x)
  end
  if #bad == 0 then
    mo(c.issued_at).vds = mo(c.issued_at).vds + amount
  end
end

local function master(kind, list, field, ok)
  for _, r in ipairs(list) do
    if r[field] ~= nil and not ok(r[field]) then
      found[#found + 1] = kind .. " " .. r.id .. "|" .. field
    end
  end
end
local customers, suppliers = load("customers.json"), load("suppliers.json")
master("customer", customers, "tin", tin_ok)
master("customer", customers, "bin", bin_ok)
master("supplier", suppliers, "tin", tin_ok)
master("supplier", suppliers, "bin", bin_ok)
master("employee", load("employees.json"), "nid", nid_ok)

-- Money as the report writes it: ৳ with lakh/crore groups.
local function taka(p)
  local s = tostring(math.abs(p) // 100)
  local out = s:sub(-3)
  s = s:sub(1, -4)
  while #s > 0 do
    out = s:sub(-2) .. "," .. out
    s = s:sub(1, -3)
  end
  return string.format("%s৳ %s.%02d", p < 0 and "-" or "", out, math.abs(p) % 100)
end

-- The due date: the 15th of the next month, moved past Fridays, Saturdays
-- and the listed holidays.
local off = {}
for _, h in ipairs(holidays) do
  off[h.date] = h.name
end
local WEEK = { [0] = "Saturday", "Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday" }
local function day_off(n)
  local wd = WEEK[n % 7] -- 2000-01-01 (day 0) was a Saturday
  if wd == "Friday" or wd == "Saturday" then
    return wd
  end
  return off[from_daynum(n)]
end
local function due(month)
  local y, m = tonumber(month:sub(1, 4)), tonumber(month:sub(6, 7)) + 1
  if m > 12 then
    y, m = y + 1, 1
  end
  local n = daynum(y, m, 15)
  local why = day_off(n)
  while day_off(n) do
    n = n + 1
  end
  return why and string.format("%s (15th: %s)", from_daynum(n), why) or from_daynum(n)
end

local keys, total = {}, { output = 0, written = 0, credit = 0, debit = 0, input = 0, vds = 0, net = 0 }
for k in pairs(months) do
  if k ~= "unreadable" then
    keys[#keys + 1] = k
  end
end
table.sort(keys)
if months.unreadable then
  keys[#keys + 1] = "unreadable"
end
local rows = {}
for _, k in ipairs(keys) do
  local r = months[k]
  r.net = r.output - r.credit + r.debit - r.input - r.vds
  for f in pairs(total) do
    total[f] = total[f] + r[f]
  end
  local label, fy, d = k, k ~= "unreadable" and fy_of(k .. "-01") or "-", k ~= "unreadable" and due(k) or "-"
  if k == "unreadable" then
    label = "issue date unreadable"
  end
  rows[#rows + 1] = { label, fy, r, d }
end
rows[#rows + 1] = { "**total**", "", total, "" }

print(string.format("- Invoices: %d (%d lines); purchase invoices: %d; credit and debit notes: %d; VDS certificates: %d",
  #invoices, lines, #purchases, #notes, #vds))
print("- Output VAT as written on the invoices: " .. taka(total.written))
print("- Output VAT at the rate table's rates: " .. taka(total.output))
print("- Net VAT payable over all months (Mushak 9.1): " .. taka(total.net))
print("- Violations: " .. #found)
for _, row in ipairs(rows) do
  local r = row[3]
  print(string.format("| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |", row[1], row[2], taka(r.output),
    r.written == r.output and "=" or taka(r.written), taka(r.credit), taka(r.debit), taka(r.input), taka(r.vds),
    taka(r.net), row[4]))
end
table.sort(found)
for _, f in ipairs(found) do
  print(f)
end
