-- workflows/data/generate.lua: writes the sample data next to it —
-- invoices.json (our Mushak 6.3 sales invoices over FY 2024-25 and
-- 2025-26), purchases.json (suppliers' invoices to us), notes.json (credit
-- and debit notes, Mushak 6.7 and 6.8), vds.json (VAT deducted at source,
-- Mushak 6.6 certificates received), customers.json and suppliers.json
-- (masters with TIN and BIN), employees.json (with NIDs), company.json (us:
-- name, BIN, address) — with a realistic share of mistakes, each listed in
-- planted.json ({ref, field, what}: the findings the finance report must
-- give, and no others).
-- Deterministic: the same files every time.
--
--   agentflow workflows/data/generate.lua
local cjson = require "cjson"
local dir = arg[0]:match("^(.*)/[^/]*$") or "."
package.path = dir .. "/../lib/?.lua;" .. package.path
local bd = require "bd"
bd.set_rates(dofile(dir .. "/rates.lua"))

-- A 64-bit linear congruential generator (Knuth's MMIX constants; Lua's
-- integers wrap modulo 2^64) read from its high bits: the low bits of an
-- LCG repeat with short periods, so `state % n` would reach only some
-- values. Fixed seed: the data must not change.
local state = 20250701
local function rnd(n)
  state = state * 6364136223846793005 + 1442695040888963407
  return (state >> 33) % n + 1
end
local function pick(t)
  return t[rnd(#t)]
end
local function digits(n)
  local out = {}
  for i = 1, n do
    out[i] = tostring(rnd(10) - 1)
  end
  return table.concat(out)
end

local SELLER = { name = "Padma Digital Ltd.", bin = "002871821-0101",
  address = "House 12, Road 7, Dhanmondi, Dhaka 1205" }
local PLACES = { "Gulshan, Dhaka", "Agrabad, Chattogram", "Zindabazar, Sylhet", "Shaheb Bazar, Rajshahi",
  "KDA Avenue, Khulna", "Motijheel, Dhaka", "Uttara, Dhaka", "Nasirabad, Chattogram" }
local COMPANIES = { "Meghna Traders", "Karnaphuli Foods", "Surma Textiles", "Jamuna Electronics",
  "Buriganga Logistics", "Teesta Agro", "Rupsha Pharma", "Shitalakshya Steel", "Madhumati Books",
  "Kushiyara Tea Estates", "Dhaleshwari Ceramics", "Gorai Furniture", "Titas Gas Services",
  "Bhairab Hardware", "Sangu Fisheries", "Atrai Rice Mills", "Feni Garments", "Halda Paper" }
local ITEMS = {
  { "ERP licence, annual", "it-services", 4500000 }, { "Implementation support, per day", "it-services", 1800000 },
  { "Cloud hosting, monthly", "standard", 950000 }, { "Laptop, 14-inch", "standard", 8200000 },
  { "Staff lunch catering", "restaurant", 35000 }, { "Conference room, non-AC, per day", "hotel-non-ac", 600000 },
  { "Soft drinks, crate of 24", "soft-drinks", 72000 }, { "Software export to Singapore", "export", 12500000 },
  { "Printer toner", "standard", 450000 }, { "Training workshop seat", "it-services", 1200000 },
}
local SUPPLIES = {
  { "Office chairs", "standard", 1250000 }, { "Network switch", "standard", 3400000 },
  { "Data centre colocation, monthly", "standard", 6000000 }, { "Printer paper, ream", "standard", 55000 },
  { "Canteen service, monthly", "restaurant", 2500000 }, { "Bottled soft drinks, crate", "soft-drinks", 70000 },
}
local OFFICERS = { { name = "Nusrat Jahan", designation = "VAT Officer" },
  { name = "Tanvir Ahmed", designation = "Finance Manager" } }

local planted = {}
local function plant(ref, field, what)
  planted[#planted + 1] = { ref = ref, field = field, what = what }
end

-- Masters: customers (most VAT-registered), suppliers, employees.
local customers = {}
for i, name in ipairs(COMPANIES) do
  local c = { id = "C" .. string.format("%03d", i), name = name, address = pick(PLACES),
    tin = digits(12), bin = digits(9) .. "-" .. digits(4) }
  if i % 6 == 0 then
    c.bin = nil -- not registered
  end
  customers[i] = c
end
customers[4].bin = digits(11)        -- an old 11-digit BIN
plant("customer C004", "bin", "an old 11-digit BIN")
customers[9].tin = digits(10)        -- an old 10-digit TIN
plant("customer C009", "tin", "an old 10-digit TIN")
customers[13].bin = "০০২৮৭১৮২৩-০১০১"  -- Bangla digits: valid
local suppliers = {}
for i = 1, 12 do
  suppliers[i] = { id = "S" .. string.format("%03d", i), name = COMPANIES[19 - i] .. " Supply",
    tin = digits(12), bin = digits(13), address = pick(PLACES) }
end
suppliers[5].bin = digits(12)
plant("supplier S005", "bin", "a 12-digit BIN")
suppliers[10].tin = "1234-5678-9012"
plant("supplier S010", "tin", "a TIN written with hyphens")
suppliers[3].number_format = "^(.-)(%d%d%d%d%-%d%d)%-(%d+)$" -- numbers like 2024-25-000045
suppliers[7].number_format = "^(.-)(%d%d%d%d%-%d%d)/(%d+)$"  -- INV-2024-25/000045: the default, written out
local FIRST = { "Rahim", "Karim", "Ayesha", "Fatema", "Sabbir", "Nadia", "Imran", "Sharmin", "Jahid", "Ruma" }
local LAST = { "Hossain", "Rahman", "Akter", "Islam", "Chowdhury", "Begum", "Sarkar", "Talukder" }
local employees = {}
for i = 1, 40 do
  local kind = i % 3
  local nid = kind == 0 and digits(10) or kind == 1 and digits(13)
    or string.format("%d", 1965 + rnd(35)) .. digits(13)
  employees[i] = { id = "E" .. string.format("%03d", i), name = pick(FIRST) .. " " .. pick(LAST), nid = nid }
end
employees[7].nid = "2031" .. digits(13)   -- birth year in the future
plant("employee E007", "nid", "birth year in the future")
employees[18].nid = digits(12)            -- wrong length
plant("employee E018", "nid", "12 digits")
employees[25].nid = "১৯৮৮" .. digits(13)  -- Bangla digits: valid

-- Dates: days after 1 July 2024 (Dhaka), and a time of day.
local function date_of(day)
  return os.date("!%Y-%m-%d", os.time({ year = 2024, month = 7, day = 1, hour = 12 }) + day * 86400)
end
local function plus_days(date, n)
  local y, m, d = date:match("^(%d+)%-(%d+)%-(%d+)")
  return os.date("!%Y-%m-%d", os.time({ year = tonumber(y), month = tonumber(m), day = tonumber(d), hour = 12 })
    + n * 86400)
end
local function time_of(date)
  if rnd(8) == 1 then -- some systems write ISO 8601 with the offset
    return string.format("%sT%02d:%02d:%02d+06:00", date, 9 + rnd(9), rnd(60) - 1, rnd(60) - 1)
  end
  return string.format("%s %02d:%02d", date, 9 + rnd(9), rnd(60) - 1)
end

local function make_lines(items, date, n)
  local lines = {}
  for li = 1, n do
    local item = pick(items)
    local vat_rate, sd_rate = bd.rate_for(item[2], date)
    local qty = rnd(5)
    local value = qty * item[3]
    local sd = bd.vat(value, sd_rate)
    lines[li] = { description = item[1], category = item[2], quantity = qty, unit_price_poisha = item[3],
      sd_rate = sd_rate, vat_rate = vat_rate, vat_poisha = bd.vat(value + sd, vat_rate) }
    if sd_rate > 0 then
      lines[li].sd_poisha = sd
    end
  end
  return lines
end

-- Our sales invoices, in issue order, serials per fiscal year.
local invoices, buyers, serial, used = {}, {}, {}, {}
local day = 0
for k = 1, 320 do
  day = day + rnd(3)
  local date = date_of(day)
  local fy = bd.fiscal_year(date)
  serial[fy] = (serial[fy] or 0) + 1
  local buyer = pick(customers)
  buyers[k] = buyer
  invoices[k] = {
    number = string.format("%s/%06d", fy, serial[fy]),
    issued_at = time_of(date),
    seller = { name = SELLER.name, bin = SELLER.bin, address = SELLER.address },
    buyer = { name = buyer.name, bin = buyer.bin, address = buyer.address },
    lines = make_lines(ITEMS, date, rnd(4)),
    officer = pick(OFFICERS),
  }
  if serial[fy] == 1 and fy == "2025-26" then -- just after midnight in Dhaka, written in UTC
    invoices[k].issued_at = plus_days(date, -1) .. "T18:30:00Z"
    used[k] = true -- kept right: the report must read it in Dhaka time
  end
end
local seen = {}
local function cover(list)
  for _, inv in ipairs(list) do
    seen[inv.buyer.name] = true
    for _, l in ipairs(inv.lines) do
      seen[l.description] = true
      seen[l.category .. "@" .. tostring(l.vat_rate) .. "/" .. tostring(l.sd_rate)] = true
    end
  end
end
cover(invoices)
for k, b in ipairs(buyers) do
  if b.id == "C004" then
    plant("invoice " .. k, "buyer.bin", "the customer's old 11-digit BIN")
  end
end

-- The mistakes a real ledger has, each on the first suitable invoice from a
-- place, never twice on one invoice.
local function find(from, fits)
  for k = from, #invoices do
    if not used[k] and buyers[k].id ~= "C004" and (not fits or fits(invoices[k])) then
      used[k] = true
      return k, invoices[k]
    end
  end
  error("generate.lua: no invoice fits from " .. from)
end
local function has_line(cat_test)
  return function(inv)
    return cat_test(inv.lines[1])
  end
end
local function sales(from, field, what, change, fits)
  local k, inv = find(from, fits)
  change(inv, k)
  plant("invoice " .. k, field, what)
end

sales(7, "lines[1].vat_poisha", "VAT off by one taka", function(inv)
  inv.lines[1].vat_poisha = inv.lines[1].vat_poisha + 100
end)
sales(23, "buyer.address", "missing address", function(inv) inv.buyer.address = nil end)
sales(41, "issued_at", "no time of issue", function(inv) inv.issued_at = inv.issued_at:sub(1, 10) end)
sales(58, "lines[1].vat_rate", "15% instead of the reduced rate", function(inv)
  local l = inv.lines[1]
  l.vat_rate, l.vat_poisha = 15, bd.vat(l.quantity * l.unit_price_poisha + (l.sd_poisha or 0), 15)
end, has_line(function(l) return l.vat_rate < 15 end))
sales(77, "number", "the previous invoice's number again", function(inv, k)
  inv.number = invoices[k - 1].number
end, function(inv) return not inv.number:match("/00000[12]$") end)
sales(90, "seller.bin", "our BIN cut to 9 digits", function(inv) inv.seller.bin = "002871821" end)
sales(104, "officer.designation", "no designation", function(inv) inv.officer = { name = "Tanvir Ahmed" } end)
sales(131, "lines[1].unit_price_poisha", "a fraction of a poisha", function(inv)
  inv.lines[1].unit_price_poisha = 1250.5
end)
sales(160, "number", "serial 5 too high", function(inv)
  inv.number = inv.number:gsub("/(%d+)$", function(s) return string.format("/%06d", tonumber(s) + 5) end)
end)
sales(188, "number", "the wrong fiscal year", function(inv)
  inv.number = "2023-24/" .. inv.number:match("/(%d+)$")
end)
sales(205, "lines[1].vat_poisha", "VAT amount missing", function(inv) inv.lines[1].vat_poisha = nil end)
sales(233, "buyer.bin", "an old 11-digit BIN", function(inv) inv.buyer.bin = "00287182101" end)
sales(251, "lines[1].sd_poisha", "SD left out", function(inv) inv.lines[1].sd_poisha = nil end,
  has_line(function(l) return l.category == "soft-drinks" end))
sales(277, "lines", "no lines", function(inv) inv.lines = {} end)
sales(300, "issued_at", "a malformed date", function(inv)
  inv.issued_at = inv.issued_at:gsub("^(%d+)%-", "%1/")
end)
sales(310, "issued_at", "31 September", function(inv)
  inv.issued_at = inv.issued_at:gsub("^(%d+)%-%d+%-%d+", "%1-09-31")
end)

-- Purchase invoices from our suppliers, to us; their serials are theirs.
local OUR = { name = SELLER.name, bin = SELLER.bin, address = SELLER.address }
local purchases, pserial = {}, {}
day = 0
for k = 1, 60 do
  day = day + rnd(20)
  local date = date_of(day)
  local fy = bd.fiscal_year(date)
  local s = pick(suppliers)
  pserial[s.id] = (pserial[s.id] or 100 * rnd(9)) + rnd(30)
  local form = s.id == "S003" and "%s%s-%06d" or "%s%s/%06d"
  purchases[k] = {
    number = string.format(form, s.id == "S007" and "INV-" or "", fy, pserial[s.id]),
    issued_at = time_of(date),
    seller = { name = s.name, bin = s.bin, address = s.address },
    buyer = { name = OUR.name, bin = OUR.bin, address = OUR.address },
    lines = make_lines(SUPPLIES, date, rnd(2)),
    officer = { name = pick(FIRST) .. " " .. pick(LAST), designation = "Accounts Officer" },
  }
  if s.id == "S005" then
    plant("purchase " .. k, "seller.bin", "the supplier's 12-digit BIN")
  end
end
cover(purchases)
local function purchase(from, field, what, change)
  for k = from, #purchases do
    if bd.valid_bin(purchases[k].seller.bin) and not used["p" .. k] then
      used["p" .. k] = true
      change(purchases[k])
      plant("purchase " .. k, field, what)
      return
    end
  end
  error("generate.lua: no purchase fits from " .. from)
end
purchase(4, "lines[1].vat_poisha", "VAT written 10 taka high", function(p)
  p.lines[1].vat_poisha = p.lines[1].vat_poisha + 1000
end)
purchase(17, "buyer.bin", "another company's BIN", function(p) p.buyer.bin = "0028718230101" end)
purchase(29, "buyer.bin", "our BIN left out", function(p) p.buyer.bin = nil end)
purchase(44, "issued_at", "no time of issue", function(p) p.issued_at = p.issued_at:sub(1, 10) end)

-- Credit and debit notes on our invoices (Mushak 6.7, 6.8).
local function clean(k)
  local inv = invoices[k]
  return not used[k] and buyers[k].id ~= "C004" and inv.lines[1] and not inv.lines[1].sd_poisha
    and inv.lines[1].vat_rate > 0
end
local notes = {}
local function note(k, kind, share, reason)
  local inv, l = invoices[k], invoices[k].lines[1]
  local value = l.quantity * l.unit_price_poisha * share // 100
  used[k] = true
  notes[#notes + 1] = { number = string.format("%s-%03d", kind == "credit" and "CN" or "DN", #notes + 1),
    kind = kind, issued_at = time_of(plus_days(bd.parse_time(inv.issued_at).date, rnd(10))), invoice = inv.number,
    buyer = { name = inv.buyer.name, bin = inv.buyer.bin }, reason = reason,
    value_poisha = value, vat_rate = l.vat_rate, vat_poisha = bd.vat(value, l.vat_rate) }
  return notes[#notes]
end
local n = 0
for k = 20, #invoices, 29 do
  while not clean(k) do
    k = k + 1
  end
  n = n + 1
  note(k, n % 3 == 0 and "debit" or "credit", 10 + rnd(40), n % 3 == 0 and "price revised up" or "goods returned")
end
local function note_mistake(from, field, what, change, fits)
  local k = from
  while not (clean(k) and (not fits or fits(invoices[k]))) do
    k = k + 1
  end
  change(note(k, "credit", 50, "discount after sale"), invoices[k])
  plant("note " .. #notes, field, what)
end
note_mistake(66, "invoice", "an invoice we never issued", function(x) x.invoice = "2024-25/009999" end)
note_mistake(121, "vat_poisha", "more VAT than the invoice had", function(x, inv)
  x.value_poisha = inv.lines[1].quantity * inv.lines[1].unit_price_poisha * 3
  for _, l in ipairs(inv.lines) do
    x.value_poisha = x.value_poisha + l.quantity * l.unit_price_poisha
  end
  x.vat_poisha = bd.vat(x.value_poisha, x.vat_rate)
end)
note_mistake(150, "buyer.bin", "above Tk 5,000 without the buyer's BIN", function(x) x.buyer.bin = nil end,
  function(inv) return inv.lines[1].vat_poisha // 2 > bd.NOTE_BIN_THRESHOLD end)
note_mistake(222, "vat_poisha", "VAT on the note miscomputed", function(x) x.vat_poisha = x.vat_poisha + 500 end)

-- VDS certificates (Mushak 6.6) from withholding buyers on our invoices.
local vds = {}
local function cert(k, share)
  local inv, vat = invoices[k], 0
  for _, l in ipairs(inv.lines) do
    vat = vat + l.vat_poisha
  end
  used[k] = true
  vds[#vds + 1] = { certificate = string.format("VDS-%s-%04d", inv.number:sub(1, 7), #vds + 1),
    issued_at = time_of(plus_days(bd.parse_time(inv.issued_at).date, rnd(20))), invoice = inv.number,
    withholder = { name = inv.buyer.name, bin = inv.buyer.bin, address = inv.buyer.address },
    vat_deducted_poisha = vat * share // 100 }
  return vds[#vds], vat
end
local c = 0
for k = 12, #invoices, 37 do
  while not (clean(k) and invoices[k].buyer.bin) do
    k = k + 1
  end
  c = c + 1
  cert(k, c % 2 == 0 and 100 or 50)
end
local function vds_mistake(from, field, what, change)
  local k = from
  while not (clean(k) and invoices[k].buyer.bin) do
    k = k + 1
  end
  change(cert(k, 100))
  plant("vds " .. #vds, field, what)
end
vds_mistake(95, "withholder.bin", "a 10-digit BIN", function(x) x.withholder.bin = "0028718210" end)
vds_mistake(180, "vat_deducted_poisha", "more than the invoice's VAT", function(x, vat)
  x.vat_deducted_poisha = vat + 10000
end)
vds_mistake(260, "invoice", "an invoice we never issued", function(x) x.invoice = "2025-26/008888" end)

-- Every item, customer and rate row must appear (before any mistake is
-- planted), or the checks go untried.
for _, item in ipairs(ITEMS) do
  assert(seen[item[1]], "generate.lua: item never sold: " .. item[1])
end
for _, item in ipairs(SUPPLIES) do
  assert(seen[item[1]], "generate.lua: item never bought: " .. item[1])
end
for _, cu in ipairs(customers) do
  assert(seen[cu.name], "generate.lua: customer never invoiced: " .. cu.name)
end
for _, r in ipairs(dofile(dir .. "/rates.lua")) do
  assert(seen[r.category .. "@" .. r.vat_rate .. "/" .. r.sd_rate], "generate.lua: rate never used: "
    .. r.category .. " " .. r.vat_rate .. "% from " .. r.from)
end

-- JSON with the keys of objects sorted: Lua's table order changes from
-- run to run, the files must not. An empty table is an empty array.
local function encode(v)
  if type(v) ~= "table" then
    return cjson.encode(v)
  end
  local out = {}
  if v[1] ~= nil or next(v) == nil then
    for i, x in ipairs(v) do
      out[i] = encode(x)
    end
    return "[" .. table.concat(out, ",") .. "]"
  end
  local keys = {}
  for k in pairs(v) do
    keys[#keys + 1] = k
  end
  table.sort(keys)
  for i, k in ipairs(keys) do
    out[i] = cjson.encode(k) .. ":" .. encode(v[k])
  end
  return "{" .. table.concat(out, ",") .. "}"
end

local function write(name, value)
  local f = assert(io.open(dir .. "/" .. name, "w"))
  f:write(encode(value), "\n")
  f:close()
end
write("invoices.json", invoices)
write("purchases.json", purchases)
write("notes.json", notes)
write("vds.json", vds)
write("company.json", SELLER)
write("customers.json", customers)
write("suppliers.json", suppliers)
write("employees.json", employees)
write("planted.json", planted)
print(string.format("wrote %d invoices, %d purchases, %d notes, %d VDS certificates, %d customers, %d suppliers, "
  .. "%d employees and %d planted mistakes to %s", #invoices, #purchases, #notes, #vds, #customers, #suppliers,
  #employees, #planted, dir))
