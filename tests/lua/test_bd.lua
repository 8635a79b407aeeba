-- The bd library's contract (workflows/lib/bd.lua).
local t = require "testing"
package.path = os.getenv("AF_SOURCE_DIR") .. "/workflows/lib/?.lua;" .. package.path
local bd = require "bd"

t.test("TIN: 12 digits, Bangla digits accepted", function()
  t.eq(true, bd.valid_tin("123456789012"))
  t.eq(true, bd.valid_tin("১২৩৪৫৬৭৮৯০১২"))
  t.eq({ false, "an e-TIN has 12 digits, not 10" }, { bd.valid_tin("1234567890") })
  t.eq(false, (bd.valid_tin("12345678901a")))
  t.eq({ false, "TIN is missing" }, { bd.valid_tin(nil) })
end)

t.test("BIN: 13 digits, with or without the hyphen after 9; old forms rejected", function()
  t.eq(true, bd.valid_bin("002871821-0101"))
  t.eq(true, bd.valid_bin("0028718210101"))
  t.eq(true, bd.valid_bin("০০২৮৭১৮২১-০১০১"))
  t.eq(false, (bd.valid_bin("00287182-10101")))
  t.eq({ false, "a 9-digit BIN is an old one, no longer valid (13 digits since 2019)" }, { bd.valid_bin("002871821") })
  t.eq(false, (bd.valid_bin("00287182101")))
  t.eq({ false, "a BIN has 13 digits, not 12" }, { bd.valid_bin("002871821010") })
end)

t.test("NID: 10, 13 or 17 digits, the 17-digit form with a plausible birth year", function()
  t.eq(true, bd.valid_nid("1234567890"))
  t.eq(true, bd.valid_nid("1234567890123"))
  t.eq(true, bd.valid_nid("19881234567890123", "2026-01-01"))
  t.eq(true, bd.valid_nid("১৯৮৮১২৩৪৫৬৭৮৯০১২৩", "2026-01-01"))
  t.eq(false, (bd.valid_nid("20311234567890123", "2026-01-01")))
  t.eq(false, (bd.valid_nid("18501234567890123", "2026-01-01")))
  t.eq({ false, "an NID has 10, 13 or 17 digits, not 12" }, { bd.valid_nid("123456789012") })
end)

t.test("VAT in integer poisha, rounded half away from zero", function()
  t.eq(15000, bd.vat(100000, 15))
  t.eq(8, bd.vat(100, 7.5))   -- 7.5 poisha rounds up
  t.eq(-8, bd.vat(-100, 7.5)) -- and away from zero below it
  t.eq(6563, bd.vat(43750, 15))
  t.eq(0, bd.vat(12345, 0))
  t.eq("integer", math.type(bd.vat(333, 10)))
  t.eq(33, bd.vat(333, 10))
end)

t.test("fiscal years turn on 1 July, read in Asia/Dhaka", function()
  t.eq("2025-26", bd.fiscal_year("2025-07-01"))
  t.eq("2024-25", bd.fiscal_year("2025-06-30"))
  t.eq("2025-26", bd.fiscal_year("2026-01-15"))
  t.eq("2099-00", bd.fiscal_year("2099-12-31"))
  t.eq("2024-25", bd.fiscal_year("2025-06-30 23:59"))
  t.eq("2025-26", bd.fiscal_year("2025-06-30T18:30:00Z")) -- 00:30 on 1 July in Dhaka
  t.eq("2024-25", bd.fiscal_year("2025-06-30T23:59:00+06:00"))
  t.raises("bad date", bd.fiscal_year, "2025/07/01")
  t.raises("not a day of the calendar", bd.fiscal_year, "2025-02-29")
end)

local function dhaka(s)
  local x = bd.parse_time(s)
  return x.date .. " " .. x.time
end

t.test("one parser for dates and timestamps: calendar checked, offsets converted to Dhaka", function()
  t.eq({ date = "2024-02-29", day = 19782 }, bd.parse_time("2024-02-29"))
  t.eq("2025-07-01 00:30:00", dhaka("2025-06-30T18:30:00Z"))
  t.eq("2025-07-01 02:15:00", dhaka("2025-06-30T16:15-0400"))
  t.eq("2025-03-01 10:05:09", dhaka("2025-03-01 10:05:09.250"))
  t.eq("2025-03-01 10:05:00", dhaka("2025-03-01 10:05"))
  t.eq("12:00:00", bd.parse_time("2025-03-01T12:00+06:00").time)
  for _, bad in ipairs({ "2025-02-29", "2025-13-01", "2025-00-10", "2025-04-31", "2025-01-01 24:00",
      "2025-01-01 10:60", "2025-01-01T10:00+25:00", "2025-01-01T10:00 GMT", "2025-01-01 10", "01/02/2025",
      "2025-01-01 10:0509", "2025-01-01 10:05:9", "2025-01-01 10:05:09." }) do
    t.eq(nil, (bd.parse_time(bad)), bad)
  end
  t.contains(select(2, bd.parse_time("2025-04-31")), "not a day of the calendar")
  t.eq({ nil, "missing" }, { bd.parse_time(nil) })
end)

t.test("Mushak 9.1 is due on the 15th of the next month, or the next working day", function()
  t.eq({ "2025-08-17", "Friday" }, { bd.return_due("2025-07") }) -- 15 Aug 2025 is a Friday
  t.eq({ "2024-08-15" }, { bd.return_due("2024-07") })          -- a Thursday
  t.eq({ "2026-01-15" }, { bd.return_due("2025-12") })          -- December into January
  t.eq({ "2025-02-16", "Saturday" }, { bd.return_due("2025-01") })
  t.eq("Friday", bd.day_off("2025-11-14"))
  t.eq(nil, bd.day_off("2025-11-16"))
  t.eq("Victory Day", bd.day_off("2025-12-16"))
  bd.set_holidays({ { date = "2025-09-15", name = "A declared holiday" },
    { date = "2025-09-16", name = "Its second day" } })
  t.eq({ "2025-09-17", "A declared holiday" }, { bd.return_due("2025-08") })
  bd.set_holidays(dofile(os.getenv("AF_SOURCE_DIR") .. "/workflows/data/holidays.lua"))
  t.eq({ "2025-09-15" }, { bd.return_due("2025-08") })
  t.raises("bad month", bd.return_due, "2025-7")
  t.raises("bad month", bd.return_due, "2025-13")
  t.raises("bad month", bd.return_due, "2025-00")
end)

t.test("the holiday table names its source and has real dates", function()
  local text = t.read(os.getenv("AF_SOURCE_DIR") .. "/workflows/data/holidays.lua")
  t.contains(text, "Source:")
  for _, h in ipairs(dofile(os.getenv("AF_SOURCE_DIR") .. "/workflows/data/holidays.lua")) do
    t.eq(h.date, bd.parse_time(h.date).date)
    t.eq("string", type(h.name))
  end
end)

t.test("amounts: integral floats from JSON accepted, fractions and the unsafe range refused", function()
  t.eq(12345, bd.poisha(12345.0))
  t.eq("integer", math.type(bd.poisha(12345.0)))
  t.eq({ nil, "must be a whole number of poisha" }, { bd.poisha(1250.5) })
  t.eq({ nil, "must be a whole number of poisha" }, { bd.poisha("12") })
  t.eq({ nil, "is past the safe range (2^53 poisha)" }, { bd.poisha(1 << 53) })
  t.eq({ nil, "is past the safe range (2^53 poisha)" }, { bd.poisha(2.0 ^ 60) })
  t.eq(bd.SAFE_POISHA, bd.poisha(bd.SAFE_POISHA))
  t.eq("৳ 123.45", bd.format_bdt(12345.0))
  t.raises("must be a whole number", bd.format_bdt, 1.5)
  t.raises("past the safe range", bd.format_bdt, 1 << 60)
  t.raises("past the safe range", bd.add, bd.SAFE_POISHA, 1)
  t.eq(bd.SAFE_POISHA, bd.add(bd.SAFE_POISHA - 1, 1))
end)

t.test("VAT near the safe limit does not overflow", function()
  t.eq(1351079888211149, bd.vat(bd.SAFE_POISHA, 15)) -- (2^53 - 1) * 0.15, rounded
  t.eq(-1351079888211149, bd.vat(-bd.SAFE_POISHA, 15))
  t.eq(675539944105574, bd.vat(bd.SAFE_POISHA, 7.5))
  t.raises("past the safe range", bd.vat, 1 << 53, 15)
  t.eq(15000, bd.vat(100000.0, 15))
end)

t.test("BDT with lakh and crore grouping", function()
  t.eq("৳ 1,23,45,678.00", bd.format_bdt(12345678 * 100))
  t.eq("৳ 0.05", bd.format_bdt(5))
  t.eq("৳ 999.99", bd.format_bdt(99999))
  t.eq("৳ 1,000.00", bd.format_bdt(100000))
  t.eq("৳ 10,00,000.00", bd.format_bdt(100000000))
  t.eq("-৳ 1,500.50", bd.format_bdt(-150050))
end)

t.test("rates come from the table by effective date, a timestamp read in Dhaka", function()
  t.eq({ 15, 0 }, { bd.rate_for("standard", "2025-07-01") })
  t.eq({ 5, 0 }, { bd.rate_for("restaurant", "2025-01-08") })
  t.eq({ 15, 0 }, { bd.rate_for("restaurant", "2025-01-09") })
  t.eq({ 5, 0 }, { bd.rate_for("restaurant", "2025-01-22") }) -- rolled back
  t.eq({ 7.5, 0 }, { bd.rate_for("hotel-non-ac", "2024-12-31") })
  t.eq({ 10, 0 }, { bd.rate_for("hotel-non-ac", "2025-01-22") })
  t.eq({ 5, 0 }, { bd.rate_for("it-services", "2025-06-30") })
  t.eq({ 7.5, 0 }, { bd.rate_for("it-services", "2025-07-01") })
  t.eq({ 5, 0 }, { bd.rate_for("it-services", "2025-06-30 23:59") })
  t.eq({ 7.5, 0 }, { bd.rate_for("it-services", "2025-06-30T18:00:00Z") })
  t.eq({ 15, 25 }, { bd.rate_for("soft-drinks", "2025-03-01") })
  t.eq(nil, (bd.rate_for("moon-rocks", "2025-03-01")))
  t.raises("bad date", bd.rate_for, "standard", "2025-02-30")
end)

t.test("every category has one rate on every day from FY 2019-20 to 2025-26", function()
  local rows = dofile(os.getenv("AF_SOURCE_DIR") .. "/workflows/data/rates.lua")
  local categories = {}
  for _, r in ipairs(rows) do
    categories[r.category] = true
  end
  for category in pairs(categories) do
    for _, day in ipairs({ "2019-07-01", "2020-07-01", "2021-07-01", "2022-07-01", "2023-07-01", "2024-07-01",
        "2025-01-08", "2025-01-09", "2025-01-21", "2025-01-22", "2025-06-30", "2025-07-01", "2026-06-30" }) do
      local n = 0
      for _, r in ipairs(rows) do
        if r.category == category and r.from <= day and (not r.to or day <= r.to) then
          n = n + 1
        end
      end
      t.eq(1, n, category .. " on " .. day)
    end
  end
end)

t.test("every rate row has its source, and says when it is not confirmed", function()
  local covered = {}
  for _, r in ipairs(dofile(os.getenv("AF_SOURCE_DIR") .. "/workflows/data/rates.lua")) do
    t.eq("string", type(r.source), r.category)
    t.eq("boolean", type(r.verified), r.category)
    t.eq(r.from, bd.parse_time(r.from).date)
    covered[r.category] = true
  end
  t.eq(true, covered.standard and covered.export)
end)

local function invoice()
  return {
    number = "2025-26/000001", issued_at = "2025-07-01 10:30",
    seller = { name = "Padma Digital Ltd.", bin = "002871821-0101", address = "Dhanmondi, Dhaka" },
    buyer = { name = "Meghna Traders", bin = "0012345670101", address = "Gulshan, Dhaka" },
    lines = { { description = "Soft drinks", category = "soft-drinks", quantity = 2, unit_price_poisha = 17500,
      sd_rate = 25, sd_poisha = 8750, vat_rate = 15, vat_poisha = 6563 } },
    officer = { name = "Nusrat Jahan", designation = "VAT Officer" },
  }
end

local function fields(problems)
  local out = {}
  for i, p in ipairs(problems) do
    out[i] = p.field
  end
  return out
end

t.test("a valid Mushak 6.3 invoice has no problems", function()
  t.eq({}, bd.check_mushak63(invoice()))
end)

t.test("Mushak 6.3: presence, identifiers, arithmetic, field paths", function()
  local inv = invoice()
  inv.buyer.bin = "00123456701"
  inv.issued_at = "2025-07-01"
  inv.lines[1].vat_poisha = 6500
  inv.lines[2] = { description = "Licence", quantity = 1, unit_price_poisha = 100000, vat_rate = 15 }
  inv.officer.designation = nil
  t.eq({ "issued_at", "buyer.bin", "lines[1].vat_poisha", "lines[2].vat_poisha", "officer.designation" },
    fields(bd.check_mushak63(inv)))
  local bad = invoice()
  bad.lines[1].sd_poisha = 0
  local p = bd.check_mushak63(bad)
  t.eq("lines[1].sd_poisha", p[1].field)
  t.eq("is 0; 25% SD of 35000 is 8750", p[1].message)
  local wrong_rate = invoice()
  wrong_rate.lines[1].category = "export"
  t.eq("lines[1].vat_rate", bd.check_mushak63(wrong_rate)[1].field)
  t.eq({ "number", "issued_at", "seller", "buyer", "lines", "officer" }, fields(bd.check_mushak63({})))
end)

t.test("Mushak 6.3: SD owed but not written is a finding", function()
  local inv = invoice()
  inv.lines[1].sd_poisha = nil
  t.eq({ { field = "lines[1].sd_poisha", message = "missing; 25% SD of 35000 is 8750" } }, bd.check_mushak63(inv))
  local no_sd = invoice()
  no_sd.lines[1] = { description = "Licence", category = "standard", quantity = 1, unit_price_poisha = 100000,
    vat_rate = 15, vat_poisha = 15000.0 } -- a line without SD need not write it; JSON floats are fine
  t.eq({}, bd.check_mushak63(no_sd))
end)

t.test("Mushak 6.3: a timestamp with an offset, and amounts past the safe range", function()
  local inv = invoice()
  inv.issued_at = "2025-06-30T19:00:00Z" -- 1 July in Dhaka: FY 2025-26, the rate of 1 July
  t.eq({}, bd.check_mushak63(inv))
  inv.lines[1].unit_price_poisha = 2.0 ^ 60
  t.eq({ { field = "lines[1].unit_price_poisha", message = "is past the safe range (2^53 poisha)" } },
    bd.check_mushak63(inv))
end)

-- A batch: numbers and dates, everything else valid.
local function batch(list, opts)
  local invoices = {}
  for i, x in ipairs(list) do
    local inv = invoice()
    inv.number, inv.issued_at = x[1], x[2] or string.format("2025-07-%02d 10:00", i)
    if x[3] then
      inv.seller.bin = x[3]
    end
    invoices[i] = inv
  end
  local out = {}
  for _, p in ipairs(bd.check_invoices(invoices, opts)) do
    out[#out + 1] = string.format("#%d %s: %s", p.index, p.field, p.message)
  end
  return out
end

t.test("serials: per seller and fiscal year, starting anywhere, restarting on 1 July", function()
  t.eq({}, batch({ { "2024-25/000041", "2025-06-30 17:00" }, { "2024-25/000042", "2025-06-30 18:00" },
    { "2025-26/000001", "2025-07-01 09:00" }, { "2025-26/000002", "2025-07-01 10:00" } }))
  t.eq({}, batch({ { "INV-2025-26/000123" }, { "INV-2025-26/000124" }, { "2025-26/000001" } }))
  t.eq({ "#3 number: serial 9 follows 2: 6 missing" }, batch({ { "2025-26/000001" }, { "2025-26/000002" },
    { "2025-26/000009" }, { "2025-26/000010" } }))
end)

t.test("serials: one finding per real mistake", function()
  t.eq({ "#3 number: serial 2 is already used by invoice #2; the sequence expects 3 here" },
    batch({ { "2025-26/000001" }, { "2025-26/000002" }, { "2025-26/000002" }, { "2025-26/000004" } }))
  t.eq({ "#2 number: serial 7 breaks the sequence; it should be 2 (after #1)" },
    batch({ { "2025-26/000001" }, { "2025-26/000007" }, { "2025-26/000003" }, { "2025-26/000004" },
      { "2025-26/000005" }, { "2025-26/000006" } }))
  t.eq({ "#3 number: serial 2 is already used by invoice #2; the sequence expects 3 here" },
    batch({ { "2025-26/000001" }, { "2025-26/000002" }, { "2025-26/000002" } }))
  t.eq({ "#3 number: serial 2 is used twice (first by invoice #2)", "#4 number: serial 5 follows 2: 2 missing" },
    batch({ { "2025-26/000001" }, { "2025-26/000002" }, { "2025-26/000002" }, { "2025-26/000005" } }))
end)

t.test("serials: a BIN typo, Bangla digits or a bad date start no new sequence", function()
  t.eq({ "#2 seller.bin: a 9-digit BIN is an old one, no longer valid (13 digits since 2019)" },
    batch({ { "2025-26/000001" }, { "2025-26/000002", nil, "002871821" }, { "2025-26/000003" } }))
  t.eq({}, batch({ { "2025-26/000001" }, { "2025-26/000002", nil, "০০২৮৭১৮২১-০১০১" },
    { "2025-26/000003", nil, "0028718210101" } }))
  t.eq({ "#2 issued_at: \"2025/07/02 10:00\" is not a date (YYYY-MM-DD[ HH:MM[:SS]][offset] expected)" },
    batch({ { "2025-26/000001" }, { "2025-26/000002", "2025/07/02 10:00" }, { "2025-26/000003" } }))
end)

t.test("serials: a number in the wrong fiscal year is one finding, in either direction", function()
  t.eq({ "#2 number: fiscal year 2023-24 does not match the issue date 2025-07-02 (FY 2025-26)" },
    batch({ { "2025-26/000001" }, { "2023-24/000002" }, { "2025-26/000003" } }))
  t.eq({ "#2 number: fiscal year 2024-25 does not match the issue date 2025-07-01 (FY 2025-26)" },
    batch({ { "2024-25/000041", "2025-06-30 10:00" }, { "2024-25/000042", "2025-06-30T19:00:00Z" },
      { "2024-25/000043", "2025-06-30 12:00" }, { "2025-26/000001", "2025-07-01 09:00" } }))
end)

t.test("invoice numbers: a configurable format per seller", function()
  t.eq({ "#1 number: \"S-0001\" is not in the seller's number format (like 2025-26/000123)" },
    batch({ { "S-0001" } }))
  local function by_year(n) -- "2025-26-000045"
    local fy, serial = n:match("^(%d%d%d%d%-%d%d)%-(%d+)$")
    return "", fy, serial
  end
  t.eq({}, batch({ { "2025-26-000045" }, { "2025-26-000046" } }, { formats = { ["0028718210101"] = by_year } }))
  t.eq({}, batch({ { "B1:2025-26:7" }, { "B1:2025-26:8" } },
    { formats = { ["0028718210101"] = "^(%w+):(%d%d%d%d%-%d%d):(%d+)$" } }))
end)

t.test("purchase invoices: our BIN as the buyer's, no serial checks", function()
  local ours = "002871821-0101"
  local p = invoice()
  p.seller.bin, p.buyer.bin = "0012345670101", "0028718210101"
  t.eq({}, bd.check_invoices({ p }, { buyer_bin = ours, serials = false }))
  p.buyer.bin = "0028718230101"
  t.eq("is 0028718230101, not ours (002871821-0101)",
    bd.check_invoices({ p }, { buyer_bin = ours, serials = false })[1].message)
  p.buyer.bin = nil
  t.eq("buyer.bin", bd.check_invoices({ p }, { buyer_bin = ours, serials = false })[1].field)
end)

t.test("credit and debit notes (Mushak 6.7, 6.8)", function()
  local invoices = { ["2025-26/000001"] = { issued_at = "2025-07-01 10:00", vat = 100000 } }
  local function note(changes)
    local n = { number = "CN-1", kind = "credit", issued_at = "2025-07-05 10:00", invoice = "2025-26/000001",
      reason = "returned", value_poisha = 200000, vat_rate = 15, vat_poisha = 30000,
      buyer = { name = "Meghna Traders", bin = "0012345670101" } }
    for k, v in pairs(changes) do
      n[k] = v
    end
    local out = {}
    for _, p in ipairs(bd.check_notes({ n }, invoices)) do
      out[#out + 1] = p.field .. ": " .. p.message
    end
    return out
  end
  t.eq({}, note({}))
  t.eq({}, note({ kind = "debit", value_poisha = 2000000.0, vat_poisha = 300000.0 }))
  t.eq({ "kind: is refund; credit (Mushak 6.7) or debit (Mushak 6.8)" }, note({ kind = "refund" }))
  t.eq({ "invoice: 2025-26/000404 is not one of our invoices" }, note({ invoice = "2025-26/000404" }))
  t.eq({ "vat_poisha: is 30100; 15% VAT of 200000 is 30000" }, note({ vat_poisha = 30100 }))
  t.eq({ "issued_at: 2025-06-30 is before invoice 2025-26/000001 (2025-07-01)" },
    note({ issued_at = "2025-06-30 10:00" }))
  t.eq({ "vat_poisha: credits 150000, more than invoice 2025-26/000001's VAT (100000)" },
    note({ value_poisha = 1000000, vat_poisha = 150000 }))
  t.eq({}, note({ buyer = { name = "Walk-in" } })) -- Tk 300 of VAT: no BIN needed
  t.eq({ "buyer.bin: missing; a note whose VAT is above Tk 5,000 names the buyer's BIN" },
    note({ kind = "debit", buyer = { name = "Walk-in" }, value_poisha = 4000000, vat_poisha = 600000 }))
end)

t.test("VAT deducted at source (Mushak 6.6)", function()
  local invoices = { ["2025-26/000001"] = { issued_at = "2025-07-01 10:00", vat = 100000 } }
  local function cert(changes)
    local c = { certificate = "VDS-1", issued_at = "2025-07-20", invoice = "2025-26/000001",
      vat_deducted_poisha = 100000, withholder = { name = "Rupsha Pharma", bin = "0012345670101", address = "Dhaka" } }
    for k, v in pairs(changes) do
      c[k] = v
    end
    local out = {}
    for _, p in ipairs(bd.check_vds({ c }, invoices)) do
      out[#out + 1] = p.field .. ": " .. p.message
    end
    return out
  end
  t.eq({}, cert({}))
  t.eq({ "vat_deducted_poisha: deducts 100001, more than invoice 2025-26/000001's VAT (100000)" },
    cert({ vat_deducted_poisha = 100001 }))
  t.eq({ "withholder.bin: a BIN has 13 digits, not 10" },
    cert({ withholder = { name = "X", bin = "0012345670", address = "Dhaka" } }))
  t.eq({ "invoice: 2025-26/000404 is not one of our invoices" }, cert({ invoice = "2025-26/000404" }))
end)

t.done()
