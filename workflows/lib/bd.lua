--- bd: Bangladesh tax rules for the ERP workflows — identifiers, VAT
-- arithmetic in poisha, the fiscal calendar, money formatting, the rate
-- table and Mushak 6.3 invoice checks. Facts: ../shared/reference/
-- bangladesh-erp.md (rates are data with effective dates, never logic).
--
--   package.path = "workflows/lib/?.lua;" .. package.path
--   local bd = require "bd"
local M = {}

-- ---- identifiers ---------------------------------------------------------

--- ASCII digits for Bangla ones (০-৯, U+09E6-U+09EF).
function M.ascii_digits(s)
  return (s:gsub("\xE0\xA7([\xA6-\xAF])", function(c)
    return string.char(c:byte() - 0xA6 + 48)
  end))
end

local function digits(s, what)
  if type(s) ~= "string" and type(s) ~= "number" then
    return nil, what .. " is missing"
  end
  return M.ascii_digits(tostring(s)):gsub("%s", "")
end

--- e-TIN: 12 digits. true, or false and the reason.
function M.valid_tin(s)
  local d, err = digits(s, "TIN")
  if not d then
    return false, err
  end
  if not d:match("^%d+$") then
    return false, "a TIN has digits only"
  end
  if #d ~= 12 then
    return false, string.format("an e-TIN has 12 digits, not %d", #d)
  end
  return true
end

--- BIN: 13 digits, printed with or without a hyphen after the 9th
-- (002871821-0101). The older 9- and 11-digit BINs are no longer valid.
function M.valid_bin(s)
  local d, err = digits(s, "BIN")
  if not d then
    return false, err
  end
  if d:match("^%d%d%d%d%d%d%d%d%d%-%d%d%d%d$") then
    d = d:gsub("%-", "")
  end
  if not d:match("^%d+$") then
    return false, "a BIN has 13 digits, optionally as 9-4 with a hyphen"
  end
  if #d == 9 or #d == 11 then
    return false, string.format("a %d-digit BIN is an old one, no longer valid (13 digits since 2019)", #d)
  end
  if #d ~= 13 then
    return false, string.format("a BIN has 13 digits, not %d", #d)
  end
  return true
end

--- NID: 10 digits (smart card), 13 (old card) or 17 (birth year + 13),
-- the birth year plausible. `today` ("YYYY-MM-DD") defaults to now.
function M.valid_nid(s, today)
  local d, err = digits(s, "NID")
  if not d then
    return false, err
  end
  if not d:match("^%d+$") then
    return false, "an NID has digits only"
  end
  if #d == 17 then
    local year = tonumber(d:sub(1, 4))
    local now = tonumber((today or os.date("!%Y-%m-%d")):sub(1, 4))
    if year < 1900 or year > now then
      return false, string.format("a 17-digit NID starts with the birth year; %d is not plausible", year)
    end
    return true
  end
  if #d ~= 10 and #d ~= 13 then
    return false, string.format("an NID has 10, 13 or 17 digits, not %d", #d)
  end
  return true
end

-- ---- arithmetic ------------------------------------------------------------

--- value * rate / 100 in integer poisha, rounded half away from zero.
-- Rates may have two decimals (7.5, 2.25): the sum is done in integers.
function M.vat(value_poisha, rate_percent)
  local bp = math.floor(rate_percent * 100 + 0.5) -- basis points: exact for 2 decimals
  local n = value_poisha * bp
  local q, r = math.abs(n) // 10000, math.abs(n) % 10000
  if 2 * r >= 10000 then
    q = q + 1
  end
  q = math.tointeger(q) or q
  return n < 0 and -q or q
end

-- ---- calendar ----------------------------------------------------------------

local function ymd(date)
  local y, m, d = tostring(date):match("^(%d%d%d%d)%-(%d%d)%-(%d%d)")
  if not y then
    error(string.format("bad date %q (YYYY-MM-DD expected)", tostring(date)), 3)
  end
  return tonumber(y), tonumber(m), tonumber(d)
end

--- The fiscal year (1 July - 30 June) of a date: "2025-26".
function M.fiscal_year(date)
  local y, m = ymd(date)
  local first = m >= 7 and y or y - 1
  return string.format("%d-%02d", first, (first + 1) % 100)
end

--- The Mushak 9.1 return of month "YYYY-MM" is due on the 15th of the next.
function M.return_due(month)
  local y, m = tostring(month):match("^(%d%d%d%d)%-(%d%d)$")
  if not y then
    error(string.format("bad month %q (YYYY-MM expected)", tostring(month)), 2)
  end
  y, m = tonumber(y), tonumber(m) + 1
  if m == 13 then
    y, m = y + 1, 1
  end
  return string.format("%04d-%02d-15", y, m)
end

-- ---- money --------------------------------------------------------------------

--- "৳ 1,23,45,678.00": lakh/crore grouping (the last three digits, then
-- groups of two).
function M.format_bdt(poisha)
  local sign = poisha < 0 and "-" or ""
  poisha = math.abs(poisha)
  local taka, rest = tostring(poisha // 100), poisha % 100
  local head, tail = taka:sub(1, -4), taka:sub(-3)
  local groups = {}
  while #head > 2 do
    table.insert(groups, 1, head:sub(-2))
    head = head:sub(1, -3)
  end
  if head ~= "" then
    table.insert(groups, 1, head)
  end
  groups[#groups + 1] = tail
  return string.format("%s\xE0\xA7\xB3 %s.%02d", sign, table.concat(groups, ","), rest)
end

-- ---- rates ----------------------------------------------------------------------

--- The rate table: {category, vat_rate, sd_rate, from, to} with dates as
-- "YYYY-MM-DD" (to: nil while in force). Loaded from data/rates.lua next
-- to this library unless set with bd.set_rates.
local rates

function M.set_rates(list)
  rates = list
end

local function load_rates()
  if not rates then
    local dir = (debug.getinfo(1, "S").source:match("^@(.*)/lib/[^/]*$")) or "workflows"
    rates = dofile(dir .. "/data/rates.lua")
  end
  return rates
end

--- The VAT and SD rates (percent) of `category` on `date`, or nil and why.
function M.rate_for(category, date)
  ymd(date)
  for _, r in ipairs(load_rates()) do
    if r.category == category and r.from <= date and (not r.to or date <= r.to) then
      return r.vat_rate, r.sd_rate or 0
    end
  end
  return nil, string.format("no rate for %q on %s", tostring(category), date)
end

-- ---- Mushak 6.3 -----------------------------------------------------------------

-- A number as people write it: 570100, 7.5 (JSON decoding gives 570100.0).
local function num(v)
  if type(v) ~= "number" then
    return tostring(v)
  end
  return tostring(math.tointeger(v) or string.format("%g", v))
end

local function problem(list, field, fmt, ...)
  list[#list + 1] = { field = field, message = string.format(fmt, ...) }
end

local function present(list, t, path, field)
  local v = t and t[field]
  if v == nil or v == "" then
    problem(list, path .. field, "missing")
    return nil
  end
  return v
end

local function check_party(list, party, name, bin_required)
  if type(party) ~= "table" then
    problem(list, name, "missing")
    return
  end
  present(list, party, name .. ".", "name")
  present(list, party, name .. ".", "address")
  if party.bin ~= nil and party.bin ~= "" then
    local ok, why = M.valid_bin(party.bin)
    if not ok then
      problem(list, name .. ".bin", "%s", why)
    end
  elseif bin_required then
    problem(list, name .. ".bin", "missing")
  end
end

local function check_rate(list, p, line, date)
  if not (line.category and date) then
    return
  end
  local vat_rate, sd_rate = M.rate_for(line.category, date)
  if not vat_rate then
    problem(list, p .. "category", "%s", sd_rate)
  elseif line.vat_rate ~= vat_rate then
    problem(list, p .. "vat_rate", "is %s%%; %s on %s is %s%%", num(line.vat_rate), line.category, date, num(vat_rate))
  elseif (line.sd_rate or 0) ~= sd_rate then
    problem(list, p .. "sd_rate", "is %s%%; %s on %s is %s%%", num(line.sd_rate or 0), line.category, date, num(sd_rate))
  end
end

local function check_line(list, i, line, date)
  local p = string.format("lines[%d].", i)
  check_rate(list, p, line, date)
  present(list, line, p, "description")
  local qty, price = line.quantity, math.tointeger(line.unit_price_poisha) -- JSON gives 12.0
  if type(qty) ~= "number" or qty <= 0 then
    problem(list, p .. "quantity", "must be a positive number")
    return
  end
  if not price or price < 0 then
    problem(list, p .. "unit_price_poisha", "must be a whole number of poisha >= 0")
    return
  end
  local value = math.floor(qty * price + 0.5) -- poisha: a whole number
  local sd = M.vat(value, line.sd_rate or 0)
  if line.sd_poisha ~= nil and line.sd_poisha ~= sd then
    problem(list, p .. "sd_poisha", "is %s; %s%% SD of %d is %d", num(line.sd_poisha), num(line.sd_rate or 0), value, sd)
  end
  if type(line.vat_rate) ~= "number" then
    problem(list, p .. "vat_rate", "missing")
    return
  end
  local vat = M.vat(value + sd, line.vat_rate)
  if line.vat_poisha ~= vat then
    problem(list, p .. "vat_poisha", "is %s; %s%% VAT of %d (value with SD) is %d", num(line.vat_poisha),
      num(line.vat_rate), value + sd, vat)
  end
end

--- A batch of invoices checked together, in issue order, for serial
-- numbers: per seller and fiscal year they start anywhere, then count up
-- by one.
function M.new_batch()
  return { seen = {}, last = {} }
end

-- "2025-26/000123": the fiscal year and serial of an invoice number.
local function check_serial(list, inv, batch)
  local fy, serial = tostring(inv.number):match("^(%d%d%d%d%-%d%d)/(%d+)$")
  if not fy then
    problem(list, "number", "%q is not FY/SERIAL (like 2025-26/000123)", tostring(inv.number))
    return
  end
  local date = tostring(inv.issued_at):sub(1, 10)
  if M.fiscal_year(date) ~= fy then
    problem(list, "number", "fiscal year %s does not match the issue date %s (FY %s)", fy, date,
      M.fiscal_year(date))
  end
  if not batch then
    return
  end
  local seller = inv.seller and inv.seller.bin or "?"
  local key = seller .. "|" .. fy
  serial = tonumber(serial)
  local last = batch.last[key]
  if batch.seen[key .. "|" .. serial] then
    problem(list, "number", "serial %d of FY %s is used twice", serial, fy)
  elseif last and serial > last + 1 then
    problem(list, "number", "serial %d of FY %s follows %d: %d missing", serial, fy, last, serial - last - 1)
  elseif last and serial < last then
    problem(list, "number", "serial %d of FY %s comes after %d", serial, fy, last)
  end
  batch.seen[key .. "|" .. serial] = true
  batch.last[key] = math.max(last or 0, serial)
end

--- The problems of a Mushak 6.3 invoice: a list of {field, message}, empty
-- when valid. With `batch` (bd.new_batch()), serial numbers are also
-- checked across the invoices of the batch, per seller and fiscal year.
function M.check_mushak63(inv, batch)
  local list = {}
  local number = present(list, inv, "", "number")
  local issued = tostring(present(list, inv, "", "issued_at") or "")
  local date = issued:match("^(%d%d%d%d%-%d%d%-%d%d)")
  if issued ~= "" and not issued:match("^%d%d%d%d%-%d%d%-%d%d[ T]%d%d:%d%d") then
    problem(list, "issued_at", "needs the date and the time of issue (YYYY-MM-DD HH:MM), not %q", issued)
  end
  if number and date then
    check_serial(list, inv, batch)
  end
  check_party(list, inv.seller, "seller", true)
  check_party(list, inv.buyer, "buyer", false)
  if type(inv.lines) ~= "table" or #inv.lines == 0 then
    problem(list, "lines", "an invoice needs at least one line")
  else
    for i, line in ipairs(inv.lines) do
      check_line(list, i, line, date)
    end
  end
  if type(inv.officer) ~= "table" then
    problem(list, "officer", "missing")
  else
    present(list, inv.officer, "officer.", "name")
    present(list, inv.officer, "officer.", "designation")
  end
  return list
end

return M
