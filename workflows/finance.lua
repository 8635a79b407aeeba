-- workflows/finance.lua [DATA_DIR] [--strict]: the finance feature workflow
-- (sequential, as in the seed) for a Bangladesh ERP.
--
-- The compliance checks are real: two Lua agents run the `bd` library over
-- the Mushak 6.3 invoices and the master data in DATA_DIR (default:
-- workflows/data). Then the seed's agents — business-logic-validator,
-- context-gathering, code-reviewer, performance-profiler — run through
-- `claude` when it is installed, and through the `plan` executor (which
-- writes how to run them) otherwise. The workflow ends with a compliance
-- report: totals, VAT due per month in BDT, and every violation with its
-- invoice and field; it is printed and saved in the state directory
-- (.agentflow/finance-report-RUN_ID.md).
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

local DATA = { data_dir .. "/invoices.json", data_dir .. "/customers.json", data_dir .. "/suppliers.json",
  data_dir .. "/employees.json", here .. "/data/rates.lua" }
for _, path in ipairs(DATA) do -- bad input fails before any agent runs
  local f = io.open(path, "r")
  if not f then
    error(string.format("%s: no such file (give the data directory as the first argument)", path), 0)
  end
  f:close()
end

-- Mushak 6.3: every invoice, in issue order, serials checked per fiscal year.
af.define_agent("mushak-6.3-checks", {
  description = "Checks every Mushak 6.3 invoice: fields, BINs, VAT and SD arithmetic, serials",
  files = DATA,
  retries = 0, -- a computation over local files: another attempt finds the same
  run = function()
    local invoices = load_json("invoices.json")
    local batch, findings, months = bd.new_batch(), {}, {}
    local vat_total, lines = 0, 0
    for _, inv in ipairs(invoices) do
      for _, p in ipairs(bd.check_mushak63(inv, batch)) do
        findings[#findings + 1] = { invoice = inv.number, field = p.field, message = p.message }
      end
      local month = tostring(inv.issued_at):match("^(%d%d%d%d%-%d%d)")
      for _, line in ipairs(inv.lines or {}) do
        lines = lines + 1
        local vat = math.tointeger(line.vat_poisha) or 0
        vat_total = vat_total + vat
        if month then
          months[month] = (months[month] or 0) + vat
        end
      end
    end
    return { status = "success", output = { invoices = #invoices, lines = lines, vat_poisha = vat_total,
      months = months, findings = findings },
      summary = string.format("%d invoices, %d violations", #invoices, #findings) }
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
            findings[#findings + 1] = { invoice = kind .. " " .. rec.id, field = field, message = why }
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
local invoices, masters = checks[1].output, checks[2].output
if af.planning() and not (invoices and masters) then
  -- The checks will run (the plan has no results of theirs): the reviews'
  -- prompts and the report are made from what they find.
  print("?      the reviews and the report depend on steps 1-2, which are not known before they run")
  return
end
local findings = {}
for _, list in ipairs({ invoices.findings, masters.findings }) do
  for _, f in ipairs(list) do
    findings[#findings + 1] = f
  end
end

local summary = string.format("%d invoices checked; %d violations", invoices.invoices, #findings)
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
add("- Invoices: %d (%d lines)", invoices.invoices, invoices.lines)
add("- VAT on the invoices: %s", bd.format_bdt(invoices.vat_poisha))
add("- Violations: %d", #findings)
add("")
add("## VAT due per month (Mushak 9.1)")
add("")
add("| month | fiscal year | VAT | return due |")
add("|-------|-------------|----:|------------|")
local months = {}
for m in pairs(invoices.months) do
  months[#months + 1] = m
end
table.sort(months)
for _, m in ipairs(months) do
  add("| %s | %s | %s | %s |", m, bd.fiscal_year(m .. "-01"), bd.format_bdt(math.tointeger(invoices.months[m])),
    bd.return_due(m))
end
add("")
add("## Violations")
add("")
if #findings == 0 then
  add("None.")
else
  add("| invoice | field | problem |")
  add("|---------|-------|---------|")
  for _, f in ipairs(findings) do
    add("| %s | %s | %s |", f.invoice, f.field, (f.message:gsub("|", "\\|")))
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
