--- bd: Bangladesh tax rules for the ERP workflows — identifiers, amounts
-- in integer poisha, dates in Asia/Dhaka, the fiscal and working-day
-- calendars, money formatting, the rate table, Mushak 6.3 invoices and
-- their serial numbers, credit and debit notes (6.7, 6.8) and VAT deducted
-- at source (6.6). Facts: ../shared/reference/bangladesh-erp.md and the
-- README's "Bangladesh tax rules"; rates and holidays are data with dates
-- (workflows/data/rates.lua, holidays.lua), never logic.
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

--- A BIN as an identity: its 13 ASCII digits, or nil when it is not a
-- valid BIN ("০০২৮৭১৮২১-০১০১" and "0028718210101" are the same seller).
function M.bin_key(s)
  if not M.valid_bin(s) then
    return nil
  end
  return (M.ascii_digits(tostring(s)):gsub("%D", ""))
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

-- ---- amounts -------------------------------------------------------------

--- Amounts are integer poisha below 2^53 in magnitude: past it a JSON
-- number (a double) no longer holds every poisha.
M.SAFE_POISHA = (1 << 53) - 1

--- An amount in poisha as an integer: integers and integral floats from
-- JSON (12345.0) are accepted; fractions, non-numbers and amounts past
-- the safe range give nil and the reason.
function M.poisha(v)
  if type(v) ~= "number" or v ~= v then
    return nil, "must be a whole number of poisha"
  end
  if v > M.SAFE_POISHA or v < -M.SAFE_POISHA then -- exact: Lua compares integers and floats mathematically
    return nil, "is past the safe range (2^53 poisha)"
  end
  local n = math.tointeger(v)
  if not n then
    return nil, "must be a whole number of poisha"
  end
  return n
end

local function safe(n, what)
  local ok, why = M.poisha(n)
  if not ok then
    error(string.format("%s %s", what or "amount", why), 3)
  end
  return ok
end

--- a + b in poisha; an error past the safe range rather than a wrong sum.
function M.add(a, b)
  return safe(safe(a, "amount") + safe(b, "amount"), "sum")
end

--- value * rate / 100 in integer poisha, rounded half away from zero.
-- Rates may have two decimals (7.5, 2.25): the product is done in
-- integers, split so that it cannot overflow within the safe range.
function M.vat(value_poisha, rate_percent)
  local value = safe(value_poisha, "value")
  local bp = math.floor(rate_percent * 100 + 0.5) -- basis points: exact for 2 decimals
  local a = math.abs(value)
  local hi, lo = a // 10000, a % 10000
  local q, r = hi * bp + (lo * bp) // 10000, (lo * bp) % 10000
  if 2 * r >= 10000 then
    q = q + 1
  end
  return value < 0 and -q or q
end

-- ---- dates: one parser, Asia/Dhaka -----------------------------------------

--- Asia/Dhaka is UTC+06:00 all year (no daylight saving since 2009).
M.DHAKA_OFFSET_MIN = 360

local function leap(y)
  return y % 4 == 0 and (y % 100 ~= 0 or y % 400 == 0)
end

local function month_days(y, m)
  return m == 2 and (leap(y) and 29 or 28) or ((m == 4 or m == 6 or m == 9 or m == 11) and 30 or 31)
end

-- Days since 1970-01-01 of a civil date, and back (proleptic Gregorian).
local function days_from_civil(y, m, d)
  y = m <= 2 and y - 1 or y
  local era = y // 400
  local yoe = y - era * 400
  local doy = (153 * (m > 2 and m - 3 or m + 9) + 2) // 5 + d - 1
  return era * 146097 + yoe * 365 + yoe // 4 - yoe // 100 + doy - 719468
end

local function civil_from_days(z)
  z = z + 719468
  local era = z // 146097
  local doe = z - era * 146097
  local yoe = (doe - doe // 1460 + doe // 36524 - doe // 146096) // 365
  local doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
  local mp = (5 * doy + 2) // 153
  local m = mp < 10 and mp + 3 or mp - 9
  return yoe + era * 400 + (m <= 2 and 1 or 0), m, doy - (153 * mp + 2) // 5 + 1
end

local function date_string(z)
  return string.format("%04d-%02d-%02d", civil_from_days(z))
end

--- A date or a timestamp in Asia/Dhaka: "2025-06-30", "2025-06-30 17:05",
-- "2025-06-30T17:05:09", with an optional offset ("Z", "+06:00", "-0400")
-- converted to Dhaka time. Returns {date = "YYYY-MM-DD", time = "HH:MM:SS"
-- or nil for a bare date, day = days since 1970-01-01}, or nil and why.
function M.parse_time(s)
  if type(s) ~= "string" then
    return nil, "missing"
  end
  local y, mo, d, rest = s:match("^(%d%d%d%d)%-(%d%d)%-(%d%d)(.*)$")
  if not y then
    return nil, string.format("%q is not a date (YYYY-MM-DD[ HH:MM[:SS]][offset] expected)", s)
  end
  y, mo, d = tonumber(y), tonumber(mo), tonumber(d)
  if mo < 1 or mo > 12 or d < 1 or d > month_days(y, mo) then
    return nil, string.format("%q is not a day of the calendar", s)
  end
  local day = days_from_civil(y, mo, d)
  if rest == "" then
    return { date = date_string(day), day = day }
  end
  local h, mi, zone = rest:match("^[ T](%d%d):(%d%d)(.*)$")
  if not h then
    return nil, string.format("%q has no readable time (HH:MM[:SS] expected)", s)
  end
  local sec, after = zone:match("^:(%d%d)(.*)$")
  zone = after and (after:match("^%.%d+(.*)$") or after) or zone
  h, mi, sec = tonumber(h), tonumber(mi), tonumber(sec) or 0
  if h > 23 or mi > 59 or sec > 59 then
    return nil, string.format("%q is not a time of day", s)
  end
  local offset = M.DHAKA_OFFSET_MIN
  if zone == "Z" then
    offset = 0
  elseif zone ~= "" then
    local sign, oh, om = zone:match("^([+-])(%d%d):?(%d%d)$")
    if not sign or tonumber(oh) > 14 or tonumber(om) > 59 then
      return nil, string.format("%q has a bad UTC offset (Z, +06:00 or +0600 expected)", s)
    end
    offset = (sign == "-" and -1 or 1) * (tonumber(oh) * 60 + tonumber(om))
  end
  local minutes = day * 1440 + h * 60 + mi - offset + M.DHAKA_OFFSET_MIN
  day = minutes // 1440
  return { date = date_string(day), day = day,
    time = string.format("%02d:%02d:%02d", (minutes % 1440) // 60, minutes % 60, sec) }
end

local function parsed(when)
  local t, why = M.parse_time(when)
  if not t then
    error("bad date: " .. why, 3)
  end
  return t
end

--- The fiscal year (1 July - 30 June) of a date or timestamp: "2025-26".
function M.fiscal_year(when)
  local y, m = parsed(when).date:match("^(%d+)%-(%d+)")
  y, m = tonumber(y), tonumber(m)
  local first = m >= 7 and y or y - 1
  return string.format("%d-%02d", first, (first + 1) % 100)
end

-- ---- working days ------------------------------------------------------------

--- Public holidays: {date = "YYYY-MM-DD", name = ...}, loaded from
-- data/holidays.lua next to this library unless set with bd.set_holidays.
local holidays

local function data_dir()
  return (debug.getinfo(1, "S").source:match("^@(.*)/lib/[^/]*$")) or "workflows"
end

function M.set_holidays(list)
  holidays = {}
  for _, h in ipairs(list) do
    holidays[parsed(h.date).date] = h.name
  end
end

local function holiday(date)
  if not holidays then
    M.set_holidays(dofile(data_dir() .. "/data/holidays.lua"))
  end
  return holidays[date]
end

local WEEKDAYS = { [0] = "Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday" }

--- Why `date` is not a working day ("Friday", a holiday's name), or nil
-- when it is one. The weekend is Friday and Saturday.
function M.day_off(date)
  local t = parsed(date)
  local wd = (t.day + 4) % 7 -- 1970-01-01 was a Thursday
  if wd == 5 or wd == 6 then
    return WEEKDAYS[wd]
  end
  return holiday(t.date)
end

--- The Mushak 9.1 return of month "YYYY-MM" is due on the 15th of the
-- next month, or the next working day when the 15th is a day off: the
-- due date, and why the 15th is a day off ("Friday", a holiday's name;
-- nil when it is not).
function M.return_due(month)
  local y, m = tostring(month):match("^(%d%d%d%d)%-(%d%d)$")
  if not y or tonumber(m) < 1 or tonumber(m) > 12 then
    error(string.format("bad month %q (YYYY-MM expected)", tostring(month)), 2)
  end
  y, m = tonumber(y), tonumber(m) + 1
  if m == 13 then
    y, m = y + 1, 1
  end
  local day = days_from_civil(y, m, 15)
  local moved = M.day_off(date_string(day))
  while M.day_off(date_string(day)) do
    day = day + 1
  end
  return date_string(day), moved
end

-- ---- money --------------------------------------------------------------------

--- "৳ 1,23,45,678.00": lakh/crore grouping (the last three digits, then
-- groups of two). Integral floats (12345.0) are fine; fractions of a
-- poisha and amounts past the safe range are errors.
function M.format_bdt(poisha)
  poisha = safe(poisha, "amount")
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

--- The rate table: {category, vat_rate, sd_rate, from, to, source} with
-- dates as "YYYY-MM-DD" (to: nil while in force). Loaded from
-- data/rates.lua next to this library unless set with bd.set_rates.
local rates

function M.set_rates(list)
  rates = list
end

local function load_rates()
  if not rates then
    rates = dofile(data_dir() .. "/data/rates.lua")
  end
  return rates
end

--- The VAT and SD rates (percent) of `category` on a date or timestamp
-- (read in Asia/Dhaka), or nil and why.
function M.rate_for(category, when)
  local date = parsed(when).date
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
  local vat_rate, sd_rate = M.rate_for(line.category, date)
  if not vat_rate then
    problem(list, p .. "category", "%s", sd_rate)
  elseif line.vat_rate ~= vat_rate then
    problem(list, p .. "vat_rate", "is %s%%; %s on %s is %s%%", num(line.vat_rate), line.category, date, num(vat_rate))
  elseif (line.sd_rate or 0) ~= sd_rate then
    problem(list, p .. "sd_rate", "is %s%%; %s on %s is %s%%", num(line.sd_rate or 0), line.category, date, num(sd_rate))
  end
end

--- A line's value (quantity x unit price, to the nearest poisha), or nil
-- after adding the problem that prevents it.
local function line_value(list, p, line)
  local qty = line.quantity
  if type(qty) ~= "number" or qty <= 0 then
    problem(list, p .. "quantity", "must be a positive number")
    return nil
  end
  local price, why = M.poisha(line.unit_price_poisha)
  if not price or price < 0 then
    problem(list, p .. "unit_price_poisha", "%s", price and "must be >= 0" or why)
    return nil
  end
  local value = math.floor(qty * price + 0.5)
  if not M.poisha(value) then
    problem(list, p .. "quantity", "quantity x unit price is past the safe range (2^53 poisha)")
    return nil
  end
  return math.tointeger(value)
end

local function check_amount(list, field, written, due, fmt, ...)
  if written == nil then
    problem(list, field, "missing; " .. fmt, ...)
  elseif written ~= due then
    local _, why = M.poisha(written)
    problem(list, field, "is %s; " .. fmt, why and (num(written) .. " (" .. why .. ")") or num(written), ...)
  end
end

local function check_line(list, i, line, date)
  local p = string.format("lines[%d].", i)
  if line.category and date then
    check_rate(list, p, line, date)
  end
  present(list, line, p, "description")
  local value = line_value(list, p, line)
  if not value then
    return
  end
  local sd_rate = line.sd_rate or 0
  local sd = M.vat(value, sd_rate)
  if sd ~= 0 or line.sd_poisha ~= nil then -- a line without SD need not write 0
    check_amount(list, p .. "sd_poisha", line.sd_poisha, sd, "%s%% SD of %d is %d", num(sd_rate), value, sd)
  end
  if type(line.vat_rate) ~= "number" then
    problem(list, p .. "vat_rate", "missing")
    return
  end
  local vat = M.vat(value + sd, line.vat_rate)
  check_amount(list, p .. "vat_poisha", line.vat_poisha, vat, "%s%% VAT of %d (value with SD) is %d",
    num(line.vat_rate), value + sd, vat)
end

--- The problems of one Mushak 6.3 invoice, serial numbers aside: a list of
-- {field, message}, empty when valid. opts.buyer_bin: the BIN the buyer
-- must have (ours, on a purchase invoice).
function M.check_mushak63(inv, opts)
  local list = {}
  present(list, inv, "", "number")
  local t, why = M.parse_time(inv.issued_at)
  if inv.issued_at ~= nil and inv.issued_at ~= "" then
    if not t then
      problem(list, "issued_at", "%s", why)
    elseif not t.time then
      problem(list, "issued_at", "needs the date and the time of issue (YYYY-MM-DD HH:MM), not %q", inv.issued_at)
    end
  else
    problem(list, "issued_at", "missing")
  end
  check_party(list, inv.seller, "seller", true)
  check_party(list, inv.buyer, "buyer", opts and opts.buyer_bin)
  if opts and opts.buyer_bin and type(inv.buyer) == "table" and M.bin_key(inv.buyer.bin)
      and M.bin_key(inv.buyer.bin) ~= M.bin_key(opts.buyer_bin) then
    problem(list, "buyer.bin", "is %s, not ours (%s)", inv.buyer.bin, opts.buyer_bin)
  end
  if type(inv.lines) ~= "table" or #inv.lines == 0 then
    problem(list, "lines", "an invoice needs at least one line")
  else
    for i, line in ipairs(inv.lines) do
      check_line(list, i, line, t and t.date)
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

-- ---- invoice numbers and serials ---------------------------------------------------

--- The default number format: any prefix, the fiscal year, a slash, the
-- serial ("2025-26/000123", "INV-2025-26/000123"). A format is a Lua
-- pattern with three captures (series prefix, fiscal year, serial) or a
-- function returning them.
M.NUMBER_FORMAT = "^(.-)(%d%d%d%d%-%d%d)/(%d+)$"

local function read_number(number, format)
  local series, fy, serial
  if type(format) == "function" then
    series, fy, serial = format(number)
  else
    series, fy, serial = tostring(number):match(format)
  end
  return series, fy, tonumber(serial)
end

-- The seller's identity: the BIN's digits when valid; otherwise the BIN of
-- the seller of the same name elsewhere in the batch (a typo in a BIN is
-- not a new seller), else the name itself.
local function identities(invoices)
  local by_name = {}
  for _, inv in ipairs(invoices) do
    local s = type(inv.seller) == "table" and inv.seller or {}
    local key = M.bin_key(s.bin)
    if key and s.name then
      by_name[s.name:lower()] = by_name[s.name:lower()] or key
    end
  end
  return function(inv)
    local s = type(inv.seller) == "table" and inv.seller or {}
    return M.bin_key(s.bin) or (s.name and by_name[s.name:lower()]) or ("name:" .. tostring(s.name))
  end
end

-- Numbers read, grouped into sequences: per seller identity, series and
-- fiscal year (the issue date's when it reads, else the number's). An
-- invoice whose number's fiscal year is not its date's (reported as such)
-- is doubtful: it goes into both years' sequences and counts only where
-- its serial fits.
local function sequences(invoices, opts, out)
  local identity, seqs, order = identities(invoices), {}, {}
  local formats = opts.formats or {}
  for i, inv in ipairs(invoices) do
    if inv.number ~= nil and inv.number ~= "" then
      local id = identity(inv)
      local series, fy, serial = read_number(inv.number, formats[id] or M.NUMBER_FORMAT)
      local t = M.parse_time(inv.issued_at)
      if not serial then
        out[#out + 1] = { index = i, field = "number",
          message = string.format("%q is not in the seller's number format (like 2025-26/000123)",
            tostring(inv.number)) }
      else
        if t and M.fiscal_year(t.date) ~= fy then
          out[#out + 1] = { index = i, field = "number", message = string.format(
            "fiscal year %s does not match the issue date %s (FY %s)", fy, t.date, M.fiscal_year(t.date)) }
        end
        local date_fy = t and M.fiscal_year(t.date) or fy
        for _, year in ipairs(date_fy == fy and { fy } or { date_fy, fy }) do
          local key = table.concat({ id, series, year }, "|")
          if not seqs[key] then
            seqs[key], order[#order + 1] = {}, key
          end
          table.insert(seqs[key], { index = i, serial = serial, doubtful = date_fy ~= fy })
        end
      end
    end
  end
  return seqs, order
end

-- An invoice `e` whose serial is not `cur` + 1: the finding, and the serial
-- the sequence goes on from. When its neighbours agree on the serial it
-- should have, it is misnumbered (one finding, and the sequence goes on as
-- if it had that serial); otherwise a jump up is a gap and a step back a
-- repeat or out of order. `prev`: the invoice before; `used`: serial ->
-- the first invoice with it.
local function serial_problem(e, nxt, cur, prev, used)
  local expected, first = cur + 1, used[e.serial]
  if (nxt and nxt.serial == expected + 1) or (not nxt and e.serial < expected) then
    if first then
      return string.format("serial %d is already used by invoice #%d; the sequence expects %d here", e.serial,
        first, expected), expected
    end
    return string.format("serial %d breaks the sequence; it should be %d (after #%d)", e.serial, expected, prev),
      expected
  elseif e.serial > expected then
    return string.format("serial %d follows %d: %d missing", e.serial, cur, e.serial - expected), e.serial
  elseif first then
    return string.format("serial %d is used twice (first by invoice #%d)", e.serial, first), cur
  end
  return string.format("serial %d comes after %d (out of order)", e.serial, cur), cur
end

-- One sequence, in issue order: it starts anywhere and counts up by one.
local function check_sequence(seq, out)
  local used, cur, prev = {}, nil, nil
  for k, e in ipairs(seq) do
    local serial = e.serial
    if not (e.doubtful and serial ~= (cur and cur + 1)) then -- a doubtful one that does not fit is skipped
      if cur and serial ~= cur + 1 then
        local msg
        msg, serial = serial_problem(e, seq[k + 1], cur, prev, used)
        out[#out + 1] = { index = e.index, field = "number", message = msg }
      end
      used[serial] = used[serial] or e.index
      cur, prev = serial, e.index
    end
  end
end

--- The problems of a batch of Mushak 6.3 invoices in issue order: every
-- invoice's (check_mushak63) and the serial numbers', as a list of
-- {index, field, message} in invoice order. opts: buyer_bin (see
-- check_mushak63), formats = {[BIN digits] = number format}, serials =
-- false for invoices from others (we hold only some of their serials:
-- their numbers are read and their fiscal years checked, no more).
function M.check_invoices(invoices, opts)
  opts = opts or {}
  local out, serials = {}, {}
  local seqs, order = sequences(invoices, opts, serials)
  for _, key in ipairs(opts.serials ~= false and order or {}) do
    check_sequence(seqs[key], serials)
  end
  local by_index = {}
  for _, p in ipairs(serials) do
    by_index[p.index] = by_index[p.index] or {}
    table.insert(by_index[p.index], p)
  end
  for i, inv in ipairs(invoices) do
    for _, p in ipairs(by_index[i] or {}) do
      out[#out + 1] = p
    end
    for _, p in ipairs(M.check_mushak63(inv, opts)) do
      out[#out + 1] = { index = i, field = p.field, message = p.message }
    end
  end
  return out
end

-- ---- corrected VAT --------------------------------------------------------------

--- The VAT a line should carry (poisha): at the table's rates for its
-- category on the issue date, on its value plus SD. nil when it cannot be
-- known (no readable date, unknown category, no value).
function M.line_vat_due(line, date)
  local vat_rate, sd_rate = nil, nil
  if date then
    vat_rate, sd_rate = M.rate_for(line.category, date)
  end
  local qty, price = line.quantity, M.poisha(line.unit_price_poisha)
  if not vat_rate or type(qty) ~= "number" or qty <= 0 or not price or price < 0 then
    return nil
  end
  local value = math.tointeger(math.floor(qty * price + 0.5))
  if not value or not M.poisha(value) then
    return nil
  end
  local sd = M.vat(value, sd_rate)
  return M.vat(value + sd, vat_rate)
end

-- ---- credit and debit notes (Mushak 6.7, 6.8) --------------------------------------

--- Above this VAT effect a note needs the buyer's BIN (Tk 5,000).
M.NOTE_BIN_THRESHOLD = 500000

local NOTE_KINDS = { credit = "6.7", debit = "6.8" }

local function check_note(list, note, invoices)
  present(list, note, "", "number")
  if not NOTE_KINDS[note.kind] then
    problem(list, "kind", "is %s; credit (Mushak 6.7) or debit (Mushak 6.8)", tostring(note.kind))
  end
  local t, why = M.parse_time(note.issued_at)
  if not t then
    problem(list, "issued_at", "%s", why)
  end
  local orig = invoices[tostring(note.invoice)]
  if not orig then
    problem(list, "invoice", "%s is not one of our invoices", tostring(note.invoice))
  end
  present(list, note, "", "reason")
  local value, vwhy = M.poisha(note.value_poisha)
  if not value or value <= 0 then
    problem(list, "value_poisha", "%s", value and "must be > 0" or vwhy)
  end
  if type(note.vat_rate) ~= "number" then
    problem(list, "vat_rate", "missing")
  elseif value and value > 0 then
    local vat = M.vat(value, note.vat_rate)
    check_amount(list, "vat_poisha", note.vat_poisha, vat, "%s%% VAT of %d is %d", num(note.vat_rate), value, vat)
  end
  local vat = M.poisha(note.vat_poisha)
  local bin = type(note.buyer) == "table" and note.buyer.bin or nil
  if bin ~= nil and bin ~= "" then
    local ok, bwhy = M.valid_bin(bin)
    if not ok then
      problem(list, "buyer.bin", "%s", bwhy)
    end
  elseif vat and vat > M.NOTE_BIN_THRESHOLD then
    problem(list, "buyer.bin", "missing; a note whose VAT is above Tk 5,000 names the buyer's BIN")
  end
  if orig and t then
    local ot = M.parse_time(orig.issued_at)
    if ot and t.day < ot.day then
      problem(list, "issued_at", "%s is before invoice %s (%s)", t.date, tostring(note.invoice), ot.date)
    end
    if note.kind == "credit" and vat and vat > orig.vat then
      problem(list, "vat_poisha", "credits %d, more than invoice %s's VAT (%d)", vat, tostring(note.invoice), orig.vat)
    end
  end
end

--- The problems of credit and debit notes, as {index, field, message}.
-- `invoices`: number -> {issued_at, vat = the invoice's VAT in poisha}.
function M.check_notes(notes, invoices)
  local out = {}
  for i, note in ipairs(notes) do
    local list = {}
    check_note(list, note, invoices)
    for _, p in ipairs(list) do
      out[#out + 1] = { index = i, field = p.field, message = p.message }
    end
  end
  return out
end

-- ---- VAT deducted at source (Mushak 6.6) ---------------------------------------------

--- The problems of VDS certificates received (a withholding buyer deducted
-- VAT from its payment of one of our invoices), as {index, field, message}.
-- `invoices`: as for check_notes.
function M.check_vds(certs, invoices)
  local out = {}
  for i, c in ipairs(certs) do
    local list = {}
    present(list, c, "", "certificate")
    local t, why = M.parse_time(c.issued_at)
    if not t then
      problem(list, "issued_at", "%s", why)
    end
    check_party(list, c.withholder, "withholder", true)
    local orig = invoices[tostring(c.invoice)]
    local amount, awhy = M.poisha(c.vat_deducted_poisha)
    if not orig then
      problem(list, "invoice", "%s is not one of our invoices", tostring(c.invoice))
    end
    if not amount or amount <= 0 then
      problem(list, "vat_deducted_poisha", "%s", amount and "must be > 0" or awhy)
    elseif orig and amount > orig.vat then
      problem(list, "vat_deducted_poisha", "deducts %d, more than invoice %s's VAT (%d)", amount,
        tostring(c.invoice), orig.vat)
    end
    for _, p in ipairs(list) do
      out[#out + 1] = { index = i, field = p.field, message = p.message }
    end
  end
  return out
end

return M
