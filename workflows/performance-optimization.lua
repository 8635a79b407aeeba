-- workflows/performance-optimization.lua [--target-ms 300] [--iterations 5]
--                                         [--invoices 100000]
--
-- The performance loop (iterative, as in the seed), on something real: the
-- ERP's invoice database in SQLite (built in the state directory with the
-- sqlite3 CLI: customers, --invoices invoices, about 1.8 lines each) and
-- its slow report, VAT per month and region for the first half of FY
-- 2025-26. Each iteration the performance-profiler profiles the report
-- (EXPLAIN QUERY PLAN, the median of three timed runs, a checksum of its
-- rows); when it is slower than the target the query-optimiser — a
-- deterministic local optimiser reading the plan: indexes for automatic
-- indexes and full scans, a sargable rewrite of a date filter, covering
-- indexes — proposes one change, which is applied before the next
-- iteration measures it; every iteration's rows must be the baseline's (a
-- change that altered them fails the run). The code-reviewer reviews each change (through `plan` without
-- a coding-agent CLI). The loop stops under the target, when nothing is
-- left to propose, or after the last iteration; af.iterative checkpoints
-- after each iteration (`agentflow resume RUN_ID`).
local opts = { ["target-ms"] = "300", iterations = "5", invoices = "100000" }
local i = 1
while arg[i] do
  local name = arg[i]:match("^%-%-([%w-]+)$")
  if not (name and opts[name] and arg[i + 1]) then
    error(string.format("performance-optimization.lua: unknown argument %q", arg[i]), 0)
  end
  opts[name] = arg[i + 1]
  i = i + 2
end
local target, max = tonumber(opts["target-ms"]), math.tointeger(tonumber(opts.iterations))
local invoices = math.tointeger(tonumber(opts.invoices))
if not target or not max or max < 1 or not invoices or invoices < 1 then
  error("performance-optimization.lua: --target-ms wants a number, --iterations and --invoices whole numbers >= 1", 0)
end

-- The database: generated inside SQLite (a recursive CTE), deterministic.
local BUILD = [[
PRAGMA journal_mode = OFF;
PRAGMA synchronous = OFF;
CREATE TABLE customer(id INTEGER PRIMARY KEY, bin TEXT, name TEXT, region TEXT);
CREATE TABLE invoice(id INTEGER PRIMARY KEY, number TEXT, issued_at TEXT, customer_bin TEXT);
CREATE TABLE line(id INTEGER PRIMARY KEY, invoice_number TEXT, category TEXT, value_poisha INTEGER,
  vat_poisha INTEGER);
WITH RECURSIVE n(k) AS (SELECT 1 UNION ALL SELECT k + 1 FROM n WHERE k < 2000)
INSERT INTO customer SELECT k, printf('%%09d-%%04d', k * 7919 %% 1000000000, k %% 10000), 'Customer ' || k,
  CASE k %% 8 WHEN 0 THEN 'Dhaka' WHEN 1 THEN 'Chattogram' WHEN 2 THEN 'Sylhet' WHEN 3 THEN 'Rajshahi'
  WHEN 4 THEN 'Khulna' WHEN 5 THEN 'Barishal' WHEN 6 THEN 'Rangpur' ELSE 'Mymensingh' END FROM n;
WITH RECURSIVE n(k) AS (SELECT 1 UNION ALL SELECT k + 1 FROM n WHERE k < %d)
INSERT INTO invoice SELECT k, printf('INV-%%07d', k * 48271 %% 2147483647),
  datetime('2024-07-01', '+' || (k * 730 / %d) || ' days', '+' || (k %% 600) || ' minutes'),
  printf('%%09d-%%04d', (k %% 2000 + 1) * 7919 %% 1000000000, (k %% 2000 + 1) %% 10000) FROM n;
INSERT INTO line(invoice_number, category, value_poisha, vat_poisha)
  SELECT number, 'standard', id * 37 %% 100000, id * 37 %% 100000 * 15 / 100 FROM invoice;
INSERT INTO line(invoice_number, category, value_poisha, vat_poisha)
  SELECT number, 'it-services', id * 53 %% 100000, id * 53 %% 100000 * 5 / 100 FROM invoice WHERE id %% 2 = 0;
INSERT INTO line(invoice_number, category, value_poisha, vat_poisha)
  SELECT number, 'restaurant', id * 71 %% 100000, id * 71 %% 100000 * 5 / 100 FROM invoice WHERE id %% 3 = 0;
]]

-- The report as first written: a date filter on substr() (no index can
-- serve it), joins on columns without indexes.
local QUERY = "SELECT substr(i.issued_at, 1, 7) AS month, c.region, COUNT(*) AS lines, SUM(l.vat_poisha) AS vat "
  .. "FROM line l JOIN invoice i ON i.number = l.invoice_number JOIN customer c ON c.bin = i.customer_bin "
  .. "WHERE substr(i.issued_at, 1, 10) BETWEEN '2025-07-01' AND '2025-12-31' "
  .. "GROUP BY month, c.region ORDER BY month, c.region;"

local function sqlite(db, stdin)
  local r = af.exec({ "sqlite3", "-batch", db }, { stdin = stdin })
  if r.error or r.code ~= 0 then
    error(string.format("sqlite3 %s: %s", db, r.error or r.stderr), 0)
  end
  return r.stdout
end

-- A small stable checksum of the report's rows (FNV-1a, 32 bits).
local function checksum(s)
  local h = 2166136261
  for k = 1, #s do
    h = ((h ~ s:byte(k)) * 16777619) & 0xffffffff
  end
  return string.format("%08x", h)
end

-- The database as the iteration wants it: built when missing (a fresh run,
-- or a resumed one: the workflow starts from no file), with the indexes
-- made so far (the replayed iterations' too).
local function prepare(p)
  local f = io.open(p.db, "r")
  if f then
    f:close()
  else
    sqlite(p.db, string.format(BUILD, p.invoices, p.invoices))
  end
  if #p.indexes > 0 then
    sqlite(p.db, table.concat(p.indexes, "\n"))
  end
end

af.define_agent("performance-profiler", {
  description = "Profiles the report query: EXPLAIN QUERY PLAN, the median of three timed runs, its rows' checksum",
  cache = false, retries = 0,
  run = function(task)
    prepare(task.params)
    local q = task.params.query
    local out = sqlite(task.params.db, "EXPLAIN QUERY PLAN " .. q .. "\n.print --rows--\n" .. q
      .. "\n.print --timed--\n.output /dev/null\n.timer on\n" .. q .. "\n" .. q .. "\n" .. q .. "\n")
    local plan, rows, times = {}, out:match("%-%-rows%-%-\n(.-)%-%-timed%-%-\n"), {}
    for line in out:match("^(.-)%-%-rows%-%-"):gmatch("[^\n]+") do
      if line ~= "QUERY PLAN" then
        plan[#plan + 1] = (line:gsub("^[|`%- ]+", ""))
      end
    end
    for real in out:gmatch("Run Time: real ([%d.]+)") do
      times[#times + 1] = tonumber(real) * 1000
    end
    table.sort(times)
    local ms = times[2] or times[1] or 0
    return { status = "success", output = { ms = ms, plan = plan, checksum = checksum(rows or ""),
      rows = select(2, (rows or ""):gsub("\n", "")) },
      summary = string.format("%.1f ms (median of %d runs); plan: %s", ms, #times, table.concat(plan, "; ")) }
  end,
})

-- ---- the optimiser: rules over the plan and the query, first match wins ----

-- alias -> table, from "FROM t a" and "JOIN t a".
local function aliases(q)
  local map = {}
  for t, a in q:gmatch("[FJ][RO][OI][MN] (%w+) (%w+)") do
    map[a] = t
  end
  return map
end

-- The columns of `alias` the query reads, `first` first, in query order.
local function columns(q, alias, first)
  local cols, seen = { first }, { [first] = true }
  for a, c in q:gmatch("(%w+)%.([%w_]+)") do
    if a == alias and not seen[c] then
      cols[#cols + 1], seen[c] = c, true
    end
  end
  return cols
end

local function index(t, cols, why)
  local name = t .. "_" .. table.concat(cols, "_")
  return { kind = "index", name = name, why = why,
    sql = string.format("CREATE INDEX IF NOT EXISTS %s ON %s(%s);", name, t, table.concat(cols, ", ")) }
end

local function next_day(date)
  local y, m, d = date:match("^(%d+)%-(%d+)%-(%d+)$")
  return os.date("!%Y-%m-%d", os.time({ year = tonumber(y), month = tonumber(m), day = tonumber(d), hour = 12 })
    + 86400)
end

local RULES = {
  -- SQLite builds an index for a join on every run: make it once.
  function(q, plan)
    for _, p in ipairs(plan) do
      local a, col = p:match("^SEARCH (%w+) USING AUTOMATIC [%w ]*INDEX %(([%w_]+)=%?%)")
      if a then
        return index(aliases(q)[a], { col }, p)
      end
    end
  end,
  -- A function of a column cannot use an index: add the range on the
  -- column it implies (substr(x, 1, 10) >= lo gives x >= lo; <= hi gives
  -- x < the next day), keeping the filter itself, so the rows stay exact.
  function(q)
    local expr, col, lo, hi = q:match("(substr%((%w+%.[%w_]+), 1, 10%) BETWEEN '([%d-]+)' AND '([%d-]+)')")
    if expr and not q:find(col .. " >= '", 1, true) then
      local range = string.format("%s >= '%s' AND %s < '%s'", col, lo, col, next_day(hi))
      return { kind = "rewrite", name = "sargable " .. col, why = expr .. " reads every row",
        query = q:gsub(expr:gsub("%p", "%%%0"), ((range .. " AND " .. expr):gsub("%%", "%%%%"))),
        sql = "adds " .. range }
    end
  end,
  -- A full scan of the outer table under a range filter: index the column.
  function(q, plan)
    for _, p in ipairs(plan) do
      local a = p:match("^SCAN (%w+)$")
      local col = a and q:match(a .. "%.([%w_]+) >= '")
      if col then
        return index(aliases(q)[a], { col }, p .. " under a range on " .. col)
      end
    end
  end,
  -- An index search that still reads the table: cover the columns read.
  function(q, plan)
    for _, p in ipairs(plan) do
      local a, col = p:match("^SEARCH (%w+) USING INDEX [%w_]+ %(([%w_]+)[=>]")
      if a then
        local cols = columns(q, a, col)
        if #cols > 1 then
          return index(aliases(q)[a], cols, p .. " reads the table for " .. table.concat(cols, ", ", 2))
        end
      end
    end
  end,
}

af.define_agent("query-optimiser", {
  description = "Proposes one index or rewrite for the report query from its plan (deterministic, local)",
  cache = false, retries = 0,
  run = function(task)
    local p = task.params
    for _, rule in ipairs(RULES) do
      local change = rule(p.query, p.plan)
      if change and not p.tried[change.name] then
        return { status = "success", output = change, summary = change.kind .. ": " .. change.sql }
      end
    end
    return { status = "success", output = { kind = "none" }, summary = "nothing left to propose" }
  end,
})

-- ---- the loop ----------------------------------------------------------------------

local db = (af.state_dir(true) or ".") .. "/perf-erp.sqlite"
if not af.planning() then -- the profiler builds it afresh
  os.remove(db)
end

local query, tried, indexes, baseline = QUERY, {}, {}, nil
local history = {}
local last, rounds = af.iterative({ max = max,
  stop = function(r) return r.ms < target or r.exhausted or r.planned end },
  function(n)
    local m = af.agent("performance-profiler", { params = { db = db, invoices = invoices, query = query,
      indexes = indexes, iteration = n } }).output
    if not m then -- `agentflow plan`: the profile is not known before it runs
      return { ms = 0, planned = true }
    end
    local before = history[n - 1]
    local entry = { ms = m.ms, plan = table.concat(m.plan, "; "), change = before and before.next,
      checksum = m.checksum, rows = m.rows }
    baseline = baseline or m.checksum
    if m.checksum ~= baseline then -- an optimisation must not change the report
      error(string.format("performance-optimization.lua: %s changed the report's rows (checksum %s, not %s)",
        entry.change, m.checksum, baseline), 0)
    end
    history[n] = entry
    if m.ms < target then
      return { ms = m.ms }
    end
    local c = af.agent("query-optimiser", { params = { query = query, plan = m.plan, tried = tried } }).output
    if c.kind == "none" then
      return { ms = m.ms, exhausted = true }
    end
    tried[c.name] = true
    if c.kind == "index" then
      indexes[#indexes + 1] = c.sql
    else
      query = c.query
    end
    entry.next = string.format("%s: %s (%s)", c.kind, c.sql, c.why)
    af.agent("code-reviewer", { critical = false,
      prompt = string.format("Review this change to the ERP's VAT report query (now %.1f ms, target %g ms): %s",
        m.ms, target, entry.next) })
    return { ms = m.ms }
  end)

if last.planned then
  print("?      the loop's iterations depend on the profile of step 1, which is not known before it runs")
  return
end
print("# Performance loop: the VAT-by-month-and-region report in SQLite")
print("")
print(string.format("%d invoices; target %g ms.", invoices, target))
print("")
print("| iteration | change measured | report (ms) | rows (checksum) | plan |")
print("|----------:|-----------------|------------:|-----------------|------|")
for k, e in ipairs(history) do
  print(string.format("| %d | %s | %.1f | %d (%s) | %s |", k, e.change or "none (baseline)", e.ms, e.rows,
    e.checksum, e.plan))
end
print("")
if last.ms < target then
  print(string.format("target met after %d iteration%s: %.1f ms < %g ms", rounds, rounds == 1 and "" or "s",
    last.ms, target))
elseif last.exhausted then
  print(string.format("target not met after %d iterations: %.1f ms >= %g ms, and nothing left to propose", rounds,
    last.ms, target))
else
  print(string.format("target not met after %d iterations: %.1f ms >= %g ms", rounds, last.ms, target))
end
print("final query: " .. query)
