-- workflows/health-check.lua [--bkash URL] [--nagad URL] [--nbr URL]
--                            [--timeout 5s] [--slow 2s] [--data DIR]
--                            [--critical bkash,nagad,nbr] [--strict]
--
-- The ERP's integration health check (parallel, as in the seed): the
-- api-integration-tester checks the bKash tokenized sandbox, the Nagad
-- sandbox and the NBR VAT portal (IVAS) at the same time, and the
-- performance-profiler times the ERP database (the sample invoices loaded
-- into SQLite, queried with the sqlite3 CLI). An endpoint that refuses,
-- answers with an error (HTTP 4xx/5xx), or is slower than --slow fails its
-- step, with its latency and reason: a check named in --critical fails the
-- run (exit 1, after the table), any other is skipped and the run is
-- degraded (exit 0; --strict exits 1). curl's own failures (a URL it
-- cannot use, curl missing) are told apart from the endpoint's: the table
-- says whose failure it is. af.parallel checkpoints after the batch.
local here = arg[0]:match("^(.*)/[^/]*$") or "."
local cjson = require "cjson"

local opts = {
  bkash = "https://tokenized.sandbox.bka.sh/v1.2.0-beta/tokenized/checkout/token/grant",
  nagad = "http://sandbox.mynagad.com:10080/remote-payment-gateway-1.0/api/dfs/check-out/initialize",
  nbr = "https://vat.gov.bd",
  timeout = "5s", slow = "2s", data = here .. "/data", critical = "",
}
local i = 1
while arg[i] do
  local name = arg[i]:match("^%-%-(%w+)$")
  if name == "strict" then
    opts.strict = true
  elseif name and opts[name] ~= nil and arg[i + 1] then
    opts[name] = arg[i + 1]
    i = i + 1
  else
    error(string.format("health-check.lua: unknown argument %q (see the comment at the top)", arg[i]), 0)
  end
  i = i + 1
end

local function seconds(d)
  local n, unit = tostring(d):match("^(%d+%.?%d*)(m?s)$")
  if not n then
    error(string.format("health-check.lua: bad duration %q (like 5s or 800ms)", tostring(d)), 0)
  end
  return tonumber(n) / (unit == "ms" and 1000 or 1)
end
local timeout, slow = seconds(opts.timeout), seconds(opts.slow)

-- One endpoint: curl (never through a shell), latency, HTTP status. The
-- exit codes that say the endpoint (or the network to it) failed; any
-- other is curl's own failure (man curl, EXIT CODES).
local ENDPOINT_REASONS = { [5] = "proxy not found", [6] = "unknown host", [7] = "connection refused",
  [28] = "timed out", [35] = "TLS handshake failed", [47] = "too many redirects", [52] = "empty reply",
  [55] = "send failed", [56] = "connection reset", [60] = "TLS certificate not trusted" }
local CURL_REASONS = { [1] = "unsupported protocol", [2] = "curl failed to start", [3] = "malformed URL",
  [27] = "out of memory", [43] = "bad curl arguments" }

-- Whose failure, and why: "endpoint" or "curl", or nil when healthy.
local function verdict(r, check)
  if r.error then -- curl did not run (not installed) or was killed
    return "curl", r.error
  elseif r.code ~= 0 then
    if ENDPOINT_REASONS[r.code] then
      return "endpoint", string.format("%s (curl exit %d)", ENDPOINT_REASONS[r.code], r.code)
    end
    return "curl", string.format("%s (curl exit %d): %s", CURL_REASONS[r.code] or "curl failed", r.code,
      (r.stderr or ""):match("^curl: %(%d+%) ([^\n]*)") or "")
  elseif not check.http_status or check.http_status >= 400 then
    return "endpoint", "HTTP " .. tostring(check.http_status)
  elseif check.latency_ms > slow * 1000 then
    return "endpoint", string.format("slow: %d ms (limit %d ms)", check.latency_ms, slow * 1000)
  end
end

af.define_agent("api-integration-tester", {
  description = "Checks that a payment gateway or tax portal answers, and how fast",
  cache = false, retries = 0,
  run = function(task)
    local p = task.params
    local r = af.exec({ "curl", "-sS", "-o", "/dev/null", "-w", "%{http_code} %{time_total}",
      "--max-time", string.format("%g", timeout), p.url }, { timeout = timeout + 2 })
    local code, total = (r.stdout or ""):match("^(%d+) ([%d.]+)")
    local check = { name = p.name, url = p.url, http_status = tonumber(code),
      latency_ms = math.floor((tonumber(total) or r.duration or 0) * 1000 + 0.5), critical = p.critical }
    check.side, check.reason = verdict(r, check)
    check.healthy = check.reason == nil
    if not check.healthy then
      return { status = "failed", output = check, reason = check.side,
        error = string.format("%s: %s's failure: %s", p.name, check.side, check.reason) }
    end
    return { status = "success", output = check,
      summary = string.format("%s: healthy in %d ms", p.name, check.latency_ms) }
  end,
})

-- The ERP database: the sample invoices in SQLite, a few typical queries
-- timed through the sqlite3 CLI (p95 over repeated runs).
af.define_agent("performance-profiler", {
  description = "Loads the invoices into SQLite and times the ERP's typical queries",
  cache = false, retries = 0,
  run = function(task)
    local f = assert(io.open(task.params.data .. "/invoices.json"))
    local invoices = cjson.decode(f:read("a"))
    f:close()
    local sql = { "CREATE TABLE invoice(number TEXT, issued_at TEXT, buyer_bin TEXT);",
      "CREATE TABLE line(invoice TEXT, category TEXT, vat_poisha INTEGER);", "BEGIN;" }
    local function q(s)
      return "'" .. tostring(s or ""):gsub("'", "''") .. "'"
    end
    for _, inv in ipairs(invoices) do
      sql[#sql + 1] = string.format("INSERT INTO invoice VALUES(%s,%s,%s);", q(inv.number), q(inv.issued_at),
        q(inv.buyer and inv.buyer.bin))
      for _, l in ipairs(inv.lines or {}) do
        sql[#sql + 1] = string.format("INSERT INTO line VALUES(%s,%s,%d);", q(inv.number), q(l.category),
          math.tointeger(l.vat_poisha) or 0)
      end
    end
    sql[#sql + 1] = "COMMIT;"
    local db = task.params.db
    os.remove(db)
    local load = af.exec({ "sqlite3", db }, { stdin = table.concat(sql, "\n") })
    if load.error or load.code ~= 0 then
      return { status = "failed", reason = "sqlite", error = load.error or load.stderr }
    end
    local query = "SELECT substr(issued_at,1,7) AS month, SUM(vat_poisha) FROM invoice JOIN line "
      .. "ON line.invoice = invoice.number GROUP BY month;"
    local times = {}
    for n = 1, 10 do
      local r = af.exec({ "sqlite3", db, query })
      times[n] = r.duration * 1000
    end
    table.sort(times)
    local p95 = times[math.ceil(#times * 0.95)]
    return { status = "success", output = { invoices = #invoices, p95_ms = p95, runs = #times },
      summary = string.format("VAT-by-month query p95 %.1f ms over %d runs", p95, #times) }
  end,
})

local state = af.state_dir(true) or "."
local targets = {
  { key = "bkash", name = "bKash tokenized sandbox", url = opts.bkash },
  { key = "nagad", name = "Nagad sandbox", url = opts.nagad },
  { key = "nbr", name = "NBR IVAS", url = opts.nbr },
}
local critical = {}
for name in opts.critical:gmatch("[^,]+") do
  critical[name] = true
end
for _, t in ipairs(targets) do
  t.critical = critical[t.key] or false
  critical[t.key] = nil
end
if next(critical) then
  error(string.format("health-check.lua: --critical names %q, not one of bkash, nagad, nbr", next(critical)), 0)
end

-- Non-critical checks and the database first, in parallel: a failure there
-- skips its step and degrades the run. Then the critical ones: a failure
-- fails the run, after the table is printed.
local steps, critical_steps = {}, {}
for _, t in ipairs(targets) do
  local step = { agent = "api-integration-tester", prompt = "Check " .. t.name, params = t, critical = t.critical }
  table.insert(t.critical and critical_steps or steps, step)
end
steps[#steps + 1] = { agent = "performance-profiler", prompt = "Time the ERP database",
  params = { data = opts.data, db = state .. "/erp-sample.sqlite" } }
local results, failure = af.parallel(steps, { max = 4 }), nil
if #critical_steps > 0 then
  local ok, got = pcall(af.parallel, critical_steps, { max = 3 })
  if ok then
    table.move(got, 1, #got, #results + 1, results)
  else
    failure = got
    local r = type(got) == "table" and got.result
    results[#results + 1] = r
  end
end

if af.planning() then
  print("?      the health table depends on the checks, which are not known before they run")
  return
end
print("# Integration health")
print("")
print("| check | critical | step | status | latency | detail |")
print("|-------|----------|------|--------|--------:|--------|")
local unhealthy, perf = 0, nil
for _, r in ipairs(results) do
  local c = r.output
  if r.agent == "performance-profiler" then
    perf = r
  elseif c then
    if not c.healthy then
      unhealthy = unhealthy + 1
    end
    print(string.format("| %s | %s | %s | %s | %d ms | %s |", c.name, c.critical and "yes" or "no", r.status,
      c.healthy and "healthy" or "FAILED", c.latency_ms,
      c.healthy and ("HTTP " .. tostring(c.http_status)) or (c.side .. "'s failure: " .. c.reason)))
  end
end
print(string.format("| ERP database (%s invoices) | yes | %s | %s | %.1f ms p95 | %s |",
  perf.output and perf.output.invoices or "?", perf.status, perf.status == "success" and "healthy" or "FAILED",
  perf.output and perf.output.p95_ms or 0, perf.summary or perf.error or ""))
print("")
print(string.format("%d of %d integrations healthy", #targets - unhealthy, #targets))

if failure then
  error(failure, 0)
end
if opts.strict and unhealthy > 0 then
  error(setmetatable({ exit_code = 1, message = string.format("%d integrations unhealthy (--strict)", unhealthy) },
    { __tostring = function(e) return e.message end }), 0)
end
