--- What `run --metrics-addr HOST:PORT` serves while the run goes on:
-- GET /metrics (Prometheus text 0.0.4, the names `logs export` uses plus
-- gauges of the run) and GET /health (JSON, 200 while the run is healthy).
local cjson = require "cjson.safe"
local core = require "agentflow.core"
local metrics = require "agentflow.metrics"
local run = require "agentflow._run"

local M = {}

local a = metrics.new_analysis()
local running, started = 0, core.now()
local server

--- A step of `name` began.
function M.step_started()
  running = running + 1
end

--- A step of `name` ended with result `r` (nil: cancelled).
function M.step_ended(name, r)
  running = math.max(0, running - 1)
  if not r then
    return
  end
  metrics.add_step(a, name, { status = r.status, cached = r.cached, duration = r.duration,
    cost_usd = r.cost_usd, tokens_in = r.tokens and r.tokens.input, tokens_out = r.tokens and r.tokens.output })
end

local function render_metrics()
  local d = metrics.from_analysis(a)
  local extra = metrics.new()
  extra:family("agentflow_running_steps", "gauge", "Agent steps running now.")
  extra:sample("agentflow_running_steps", nil, running)
  extra:family("agentflow_run_start_time_seconds", "gauge", "When the current run started (Unix time).")
  extra:sample("agentflow_run_start_time_seconds", nil, started)
  extra:family("agentflow_run_info", "gauge", "The current run (always 1).")
  extra:sample("agentflow_run_info", { run_id = run.id(),
    workflow = (core.script_path() or "(chunk)"):match("[^/]*$") }, 1)
  return d .. extra:text()
end

local function handler(method, path)
  if path == "/metrics" then
    return 200, "text/plain; version=0.0.4", render_metrics()
  elseif path == "/health" then
    return 200, "application/json", cjson.encode({ status = "ok", run_id = run.id(),
      running = running, uptime_seconds = core.now() - started }) .. "\n"
  end
  return 404, "text/plain", "not found: " .. path .. " (try /metrics or /health)\n"
end

--- Start serving on `addr`; nil and a message when it cannot listen.
function M.start(addr)
  local err
  server, err = core.http_serve(addr, handler)
  if not server then
    return nil, err
  end
  run.on_finish(function()
    server:close()
  end)
  local host = addr:match("^(.*):%d+$")
  io.stderr:write(string.format("agentflow: serving /metrics and /health on http://%s:%d\n",
    host == "" and "0.0.0.0" or host, server:port()))
  return server:port()
end

return M
