-- workflows/finance.lua [DATA_DIR] [--strict]: the finance feature workflow
-- (sequential, as in the seed) for a Bangladesh ERP.
--
-- The compliance checks are real: two Lua agents run the `bd` library over
-- DATA_DIR (default: workflows/data) — our Mushak 6.3 sales invoices, the
-- suppliers' purchase invoices, credit and debit notes (6.7, 6.8), VDS
-- certificates (6.6) and the master data. Then the seed's agents —
-- business-logic-validator, context-gathering, code-reviewer,
-- performance-profiler — run through `claude` when it is installed, and
-- through the `plan` executor (which writes how to run them) otherwise. The
-- workflow ends with a compliance report: totals, the Mushak 9.1 return per
-- month as filed (output VAT corrected and as written, notes, input VAT,
-- VDS, net payable, due date) and every violation with its document and
-- field; it is printed and saved in the state directory
-- (.agentflow/finance-report-RUN_ID.md). The rules: README, "Bangladesh
-- tax rules, with their sources".
-- Exit 0 when the run completed, whatever it found; --strict exits 1 when
-- there are violations (for CI).
local here = arg[0]:match("^(.*)/[^/]*$") or "."
package.path = here .. "/lib/?.lua;" .. package.path
local bd = require "bd"
local cjson = require "cjson"

local data_dir, strict = here .. "/data", false
for _, a in ipairs(arg) do
  if a == "--strict" then
    strict = true
  else
    data_dir = a
  end
end

local function load_json(name)
  local path = data_dir .. "/" .. name
  local f = io.open(path, "r")
  if not f then
    error(string.format("%s: no such file (give the data directory as the first argument)", path), 0)
  end
  local ok, value = pcall(cjson.decode, f:read("a"))
  f:close()
  if not ok then
    error(string.format("%s: not valid JSON: %s", path, value), 0)
  end
  return value
end

local NAMES = { "invoices.json", "purchases.json", "notes.json", "vds.json", "company.json", "customers.json",
  "suppliers.json", "employees.json" }
local DATA = { here .. "/data/rates.lua", here .. "/data/holidays.lua" }
for _, name in ipairs(NAMES) do
  DATA[#DATA + 1] = data_dir .. "/" .. name
end
for _, path in ipairs(DATA) do -- bad input fails before any agent runs
  local f = io.open(path, "r")
  if not f then
    error(string.format("%s: no such file (give the data directory as the first argument)", path), 0)
  end
  f:close()
end

-- The month of a date or timestamp in Asia/Dhaka, or "unreadable".
local function month_of(when)
  local t = bd.parse_time(when)
  return t and t.date:sub(1, 7) or "unreadable"
end

-- The Mushak 9.1 figures of a month, in poisha.
local FIGURES = { "written", "output", "credit", "debit", "input", "vds" }
local function month(months, m)
  if not months[m] then
    months[m] = {}
    for _, k in ipairs(FIGURES) do
      months[m][k] = 0
    end
  end
  return months[m]
end

local function written(v)
  return bd.poisha(v) or 0
end

-- Findings of one kind of document, with a reference that names each
-- unambiguously ("invoice 77": its position in the file) and its number.
local function collect(findings, problems, docs, kind, number_field)
  local bad = {}
  for _, p in ipairs(problems) do
    bad[p.index] = true
    findings[#findings + 1] = { ref = kind .. " " .. p.index, number = tostring(docs[p.index][number_field] or ""),
      field = p.field, message = p.message }
  end
  return bad
end

-- Output VAT: every sales line, corrected (at the table's rate on its
-- value) and as written; a line whose VAT cannot be recomputed counts as
-- written. Returns number -> {issued_at, vat as written} for the notes.
local function output_vat(invoices, months, totals)
  local by_number = {}
  for _, inv in ipairs(invoices) do
    local t = bd.parse_time(inv.issued_at)
    local mo, vat = month(months, month_of(inv.issued_at)), 0
    for _, line in ipairs(type(inv.lines) == "table" and inv.lines or {}) do
      totals.lines = totals.lines + 1
      local w = written(line.vat_poisha)
      vat = bd.add(vat, w)
      mo.written = bd.add(mo.written, w)
      mo.output = bd.add(mo.output, bd.line_vat_due(line, t and t.date) or w)
    end
    local key = tostring(inv.number)
    by_number[key] = by_number[key] or { issued_at = inv.issued_at, vat = vat }
  end
  return by_number
end

-- Mushak 9.1 as filed, per month: output VAT, credit and debit notes,
-- input VAT from purchase invoices, VDS; a document with findings is held
-- back (not counted) until it is corrected.
af.define_agent("mushak-6.3-checks", {
  description = "Checks Mushak 6.3 sales and purchase invoices, 6.7/6.8 notes and 6.6 certificates; "
    .. "the Mushak 9.1 figures per month",
  files = DATA,
  retries = 0, -- a computation over local files: another attempt finds the same
  run = function()
    local company, suppliers = load_json("company.json"), load_json("suppliers.json")
    local invoices, purchases = load_json("invoices.json"), load_json("purchases.json")
    local notes, vds = load_json("notes.json"), load_json("vds.json")
    local formats = {}
    for _, s in ipairs(suppliers) do
      if s.number_format and bd.bin_key(s.bin) then
        formats[bd.bin_key(s.bin)] = s.number_format
      end
    end
    local findings, months, totals = {}, {}, { lines = 0 }
    collect(findings, bd.check_invoices(invoices), invoices, "invoice", "number")
    local by_number = output_vat(invoices, months, totals)
    local held = collect(findings, bd.check_invoices(purchases, { buyer_bin = company.bin, formats = formats,
      serials = false }), purchases, "purchase", "number")
    for i, p in ipairs(purchases) do
      if not held[i] then
        local mo = month(months, month_of(p.issued_at))
        for _, line in ipairs(p.lines) do
          mo.input = bd.add(mo.input, written(line.vat_poisha))
        end
      end
    end
    held = collect(findings, bd.check_notes(notes, by_number), notes, "note", "number")
    for i, n in ipairs(notes) do
      if not held[i] then
        local mo = month(months, month_of(n.issued_at))
        mo[n.kind] = bd.add(mo[n.kind], n.vat_poisha)
      end
    end
    held = collect(findings, bd.check_vds(vds, by_number), vds, "vds", "certificate")
    for i, c in ipairs(vds) do
      if not held[i] then
        local mo = month(months, month_of(c.issued_at))
        mo.vds = bd.add(mo.vds, c.vat_deducted_poisha)
      end
    end
    return { status = "success", output = { invoices = #invoices, lines = totals.lines, purchases = #purchases,
      notes = #notes, vds = #vds, months = months, findings = findings },
      summary = string.format("%d invoices, %d purchases, %d notes, %d VDS certificates: %d violations", #invoices,
        #purchases, #notes, #vds, #findings) }
  end,
})

-- Master data: customers' and suppliers' TIN and BIN, employees' NIDs.
af.define_agent("master-data-checks", {
  description = "Checks TINs and BINs of customers and suppliers, and employees' NIDs",
  files = DATA,
  retries = 0,
  run = function()
    local findings = {}
    local function check(kind, list, field, valid)
      for _, rec in ipairs(list) do
        if rec[field] ~= nil then
          local ok, why = valid(rec[field])
          if not ok then
            findings[#findings + 1] = { ref = kind .. " " .. rec.id, number = "", field = field, message = why }
          end
        end
      end
    end
    local customers, suppliers = load_json("customers.json"), load_json("suppliers.json")
    check("customer", customers, "tin", bd.valid_tin)
    check("customer", customers, "bin", bd.valid_bin)
    check("supplier", suppliers, "tin", bd.valid_tin)
    check("supplier", suppliers, "bin", bd.valid_bin)
    check("employee", load_json("employees.json"), "nid", bd.valid_nid)
    return { status = "success", output = { findings = findings },
      summary = string.format("%d master-data violations", #findings) }
  end,
})

local checks = af.sequential({ { agent = "mushak-6.3-checks" }, { agent = "master-data-checks" } })
local vat, masters = checks[1].output, checks[2].output
if af.planning() and not (vat and masters) then
  -- The checks will run (the plan has no results of theirs): the reviews'
  -- prompts and the report are made from what they find.
  print("?      the reviews and the report depend on steps 1-2, which are not known before they run")
  return
end
local findings = {}
for _, list in ipairs({ vat.findings, masters.findings }) do
  for _, f in ipairs(list) do
    findings[#findings + 1] = f
  end
end

local summary = string.format("%d invoices checked; %d violations", vat.invoices, #findings)
local reviews = af.sequential({
  { agent = "business-logic-validator", critical = false,
    prompt = "Validate Bangladesh VAT and tax compliance requirements for the finance module. "
      .. "The automated Mushak 6.3 and master-data checks found: " .. summary .. ".",
    files = { here .. "/lib/bd.lua", here .. "/data/rates.lua" } },
  { agent = "context-gathering", critical = false,
    prompt = "Gather the finance module's structure, conventions and tests" },
  { agent = "code-reviewer", critical = false,
    prompt = "Review the finance module change for tax compliance and quality",
    files = { here .. "/lib/bd.lua", arg[0] } },
  { agent = "performance-profiler", critical = false,
    prompt = "Record baseline performance of invoice generation and validation over the sample data" },
})

-- The report.
local out = {}
local function add(fmt, ...)
  out[#out + 1] = string.format(fmt, ...)
end
add("# Finance compliance report")
add("")
add("Run %s, data %s.", af.run_id(), data_dir)
add("")
-- The months in order ("unreadable" sorts last), with their net payable.
local months, total = {}, {}
for m in pairs(vat.months) do
  months[#months + 1] = m
end
table.sort(months)
local COLUMNS = { "written", "output", "credit", "debit", "input", "vds", "net" }
for _, k in ipairs(COLUMNS) do
  total[k] = 0
end
for _, m in ipairs(months) do
  local r = vat.months[m]
  r.net = bd.add(bd.add(bd.add(bd.add(r.output, -r.credit), r.debit), -r.input), -r.vds)
  for _, k in ipairs(COLUMNS) do
    total[k] = bd.add(total[k], r[k])
  end
end

add("- Invoices: %d (%d lines); purchase invoices: %d; credit and debit notes: %d; VDS certificates: %d",
  vat.invoices, vat.lines, vat.purchases, vat.notes, vat.vds)
add("- Output VAT as written on the invoices: %s", bd.format_bdt(total.written))
add("- Output VAT at the rate table's rates: %s", bd.format_bdt(total.output))
add("- Net VAT payable over all months (Mushak 9.1): %s", bd.format_bdt(total.net))
add("- Violations: %d", #findings)
add("")
add("## Mushak 9.1 per month, as filed")
add("")
add("In BDT. Output VAT is recomputed at the rate table's rates on each line's value (a line whose VAT")
add("cannot be recomputed counts as written); the figure written on the invoices is beside it when it")
add("differs. Credit notes (Mushak 6.7) are subtracted and debit notes (6.8) added; input VAT is the VAT")
add("on purchase invoices; VDS is the VAT our buyers deducted at source (Mushak 6.6). A note, purchase")
add("invoice or certificate with a violation is held back until corrected. Net payable = output VAT -")
add("credit notes + debit notes - input VAT - VDS (negative: carried forward). The return is due on the")
add("15th of the next month, or the next working day.")
add("")
add("| month | fiscal year | output VAT | written on invoices | credit notes | debit notes | input VAT | VDS | net payable | return due |")
add("|-------|-------------|-----------:|--------------------:|-------------:|------------:|----------:|----:|------------:|------------|")
local function row(label, fy, r, due)
  add("| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |", label, fy, bd.format_bdt(r.output),
    r.written == r.output and "=" or bd.format_bdt(r.written), bd.format_bdt(r.credit), bd.format_bdt(r.debit),
    bd.format_bdt(r.input), bd.format_bdt(r.vds), bd.format_bdt(r.net), due)
end
for _, m in ipairs(months) do
  if m ~= "unreadable" then
    local due, moved = bd.return_due(m)
    row(m, bd.fiscal_year(m .. "-01"), vat.months[m], moved and string.format("%s (15th: %s)", due, moved) or due)
  end
end
if vat.months.unreadable then
  row("issue date unreadable", "-", vat.months.unreadable, "-")
end
row("**total**", "", total, "")
add("")
add("## Violations")
add("")
if #findings == 0 then
  add("None.")
else
  add("| document | number | field | problem |")
  add("|----------|--------|-------|---------|")
  for _, f in ipairs(findings) do
    add("| %s | %s | %s | %s |", f.ref, f.number, f.field, (f.message:gsub("|", "\\|")))
  end
end
add("")
add("## Agents")
add("")
for i, r in ipairs(reviews) do
  add("%d. %s: %s%s", i, r.agent, r.status, r.summary and (" — " .. r.summary) or "")
end
local report = table.concat(out, "\n") .. "\n"
io.write(report)

-- Through af.write_file, so that `agentflow plan` writes no report.
local state = af.state_dir()
if state then
  local path = string.format("%s/finance-report-%s.md", state, af.run_id())
  local saved, err = af.write_file(path, report)
  if saved then
    io.stderr:write("agentflow: finance report saved to ", path, "\n")
  elseif not af.planning() then
    io.stderr:write("agentflow: finance report not saved: ", err, "\n")
  end
end

if strict and #findings > 0 then
  error(setmetatable({ exit_code = 1, message = string.format("%d compliance violations (--strict)", #findings) },
    { __tostring = function(e) return e.message end }), 0)
end
