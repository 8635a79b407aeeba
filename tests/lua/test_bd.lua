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

t.test("fiscal years turn on 1 July", function()
  t.eq("2025-26", bd.fiscal_year("2025-07-01"))
  t.eq("2024-25", bd.fiscal_year("2025-06-30"))
  t.eq("2025-26", bd.fiscal_year("2026-01-15"))
  t.eq("2099-00", bd.fiscal_year("2099-12-31"))
  t.raises("bad date", bd.fiscal_year, "2025/07/01")
end)

t.test("Mushak 9.1 is due on the 15th of the next month, December into January", function()
  t.eq("2025-08-15", bd.return_due("2025-07"))
  t.eq("2026-01-15", bd.return_due("2025-12"))
  t.eq("2025-07-15", bd.return_due("2025-06"))
  t.raises("bad month", bd.return_due, "2025-7")
end)

t.test("BDT with lakh and crore grouping", function()
  t.eq("৳ 1,23,45,678.00", bd.format_bdt(12345678 * 100))
  t.eq("৳ 0.05", bd.format_bdt(5))
  t.eq("৳ 999.99", bd.format_bdt(99999))
  t.eq("৳ 1,000.00", bd.format_bdt(100000))
  t.eq("৳ 10,00,000.00", bd.format_bdt(100000000))
  t.eq("-৳ 1,500.50", bd.format_bdt(-150050))
end)

t.test("rates come from the table by effective date", function()
  t.eq({ 15, 0 }, { bd.rate_for("standard", "2025-07-01") })
  t.eq({ 5, 0 }, { bd.rate_for("restaurant", "2025-01-08") })
  t.eq({ 15, 0 }, { bd.rate_for("restaurant", "2025-01-09") })
  t.eq({ 5, 0 }, { bd.rate_for("it-services", "2025-06-30") })
  t.eq({ 7.5, 0 }, { bd.rate_for("it-services", "2025-07-01") })
  t.eq({ 15, 25 }, { bd.rate_for("soft-drinks", "2025-03-01") })
  t.eq(nil, (bd.rate_for("moon-rocks", "2025-03-01")))
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

t.test("Mushak 6.3: serials per fiscal year across a batch", function()
  local batch = bd.new_batch()
  local function numbered(n, at)
    local inv = invoice()
    inv.number, inv.issued_at = n, at
    return bd.check_mushak63(inv, batch)
  end
  t.eq({}, numbered("2024-25/000041", "2025-06-30 17:00"))
  t.eq({}, numbered("2024-25/000042", "2025-06-30 18:00"))
  t.eq({}, numbered("2025-26/000001", "2025-07-01 09:00")) -- restarts on 1 July
  t.eq("serial 1 of FY 2025-26 is used twice", numbered("2025-26/000001", "2025-07-01 10:00")[1].message)
  t.eq("serial 5 of FY 2025-26 follows 1: 3 missing", numbered("2025-26/000005", "2025-07-02 10:00")[1].message)
  t.contains(numbered("2024-25/000043", "2025-07-03 10:00")[1].message, "does not match the issue date")
end)

t.done()
