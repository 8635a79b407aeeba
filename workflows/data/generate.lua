-- workflows/data/generate.lua: writes the sample data next to it —
-- invoices.json (Mushak 6.3 invoices over FY 2024-25 and 2025-26),
-- customers.json and suppliers.json (masters with TIN and BIN) and
-- employees.json (with NIDs) — with a realistic share of mistakes for the
-- checks to find. Deterministic: the same files every time.
--
--   agentflow workflows/data/generate.lua
local cjson = require "cjson"
local dir = arg[0]:match("^(.*)/[^/]*$") or "."
package.path = dir .. "/../lib/?.lua;" .. package.path
local bd = require "bd"
bd.set_rates(dofile(dir .. "/rates.lua"))

-- A fixed linear congruential generator: the data must not change.
local state = 20250701
local function rnd(n)
  state = (state * 1103515245 + 12345) % 2147483648
  return state % n + 1
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
local OFFICERS = { { name = "Nusrat Jahan", designation = "VAT Officer" },
  { name = "Tanvir Ahmed", designation = "Finance Manager" } }

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
customers[9].tin = digits(10)        -- an old 10-digit TIN
customers[13].bin = "০০২৮৭১৮২১০১০১"   -- Bangla digits: valid
local suppliers = {}
for i = 1, 12 do
  suppliers[i] = { id = "S" .. string.format("%03d", i), name = pick(COMPANIES) .. " Supply",
    tin = digits(12), bin = digits(13) }
end
suppliers[5].bin = digits(12)
suppliers[10].tin = "1234-5678-9012"
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
employees[18].nid = digits(12)            -- wrong length
employees[25].nid = "১৯৮৮" .. digits(13)  -- Bangla digits: valid

-- Invoices over two fiscal years, in issue order, serials per fiscal year.
local function date_of(day)
  return os.date("!%Y-%m-%d", os.time({ year = 2024, month = 7, day = 1, hour = 12 }) + day * 86400)
end
local invoices, serial = {}, {}
local day = 0
for _ = 1, 320 do
  day = day + rnd(3)
  local date = date_of(day)
  local fy = bd.fiscal_year(date)
  serial[fy] = (serial[fy] or 0) + 1
  local buyer = pick(customers)
  local lines = {}
  for li = 1, rnd(4) do
    local item = pick(ITEMS)
    local vat_rate, sd_rate = bd.rate_for(item[2], date)
    local qty = rnd(5)
    local value = qty * item[3]
    local sd = bd.vat(value, sd_rate)
    lines[li] = { description = item[1], category = item[2], quantity = qty, unit_price_poisha = item[3],
      sd_rate = sd_rate, sd_poisha = sd, vat_rate = vat_rate, vat_poisha = bd.vat(value + sd, vat_rate) }
  end
  invoices[#invoices + 1] = {
    number = string.format("%s/%06d", fy, serial[fy]),
    issued_at = string.format("%s %02d:%02d", date, 9 + rnd(9), rnd(60) - 1),
    seller = { name = SELLER.name, bin = SELLER.bin, address = SELLER.address },
    buyer = { name = buyer.name, bin = buyer.bin, address = buyer.address },
    lines = lines,
    officer = pick(OFFICERS),
  }
end

-- The mistakes a real ledger has, at fixed places.
local function inv(i) return invoices[i] end
inv(7).lines[1].vat_poisha = inv(7).lines[1].vat_poisha + 100          -- VAT off by one taka
inv(23).buyer.address = nil                                              -- missing address
inv(41).issued_at = inv(41).issued_at:sub(1, 10)                         -- no time of issue
inv(58).lines[1].vat_rate = 15                                           -- VAT at 15% instead of the reduced rate
inv(58).lines[1].vat_poisha = bd.vat(inv(58).lines[1].quantity * inv(58).lines[1].unit_price_poisha, 15)
inv(77).number = inv(76).number                                          -- duplicate serial
inv(90).seller.bin = "002871821"                                         -- 9-digit BIN
inv(104).officer = { name = "Tanvir Ahmed" }                             -- no designation
inv(131).lines[1].unit_price_poisha = 1250.5                             -- fractional poisha
inv(160).number = inv(160).number:gsub("/(%d+)$", function(s) return string.format("/%06d", tonumber(s) + 5) end)
inv(188).number = "2023-24/" .. inv(188).number:match("/(%d+)$")         -- wrong fiscal year
inv(205).lines[2] = nil
inv(205).lines[1].vat_poisha = nil                                       -- VAT amount missing
inv(233).buyer.bin = "00287182101"                                       -- old 11-digit BIN
inv(251).lines[1].sd_poisha = 0                                          -- SD left out
if inv(251).lines[1].sd_rate == 0 then
  inv(251).lines[1].sd_rate, inv(251).lines[1].category = 25, "soft-drinks"
end
inv(277).lines = {}                                                      -- no lines
inv(300).issued_at = inv(300).issued_at:gsub("^(%d+)%-", "%1/")          -- malformed date

local function write(name, value)
  local f = assert(io.open(dir .. "/" .. name, "w"))
  f:write(cjson.encode(value), "\n")
  f:close()
end
write("invoices.json", invoices)
write("customers.json", customers)
write("suppliers.json", suppliers)
write("employees.json", employees)
print(string.format("wrote %d invoices, %d customers, %d suppliers, %d employees to %s", #invoices,
  #customers, #suppliers, #employees, dir))
