--- agentflow serve --addr HOST:PORT: /metrics from the log, /health.
local args = require "agentflow.cli._args"
local cjson = require "cjson.safe"
local core = require "agentflow.core"
local logs = require "agentflow.cli.logs"
local metrics = require "agentflow.metrics"

local M = {}

local function handler(method, path)
  if path == "/metrics" then
    local analysis = logs.analyze_records()
    return 200, "text/plain; version=0.0.4", metrics.from_analysis(analysis)
  elseif path == "/health" then
    return 200, "application/json", cjson.encode({ status = "ok", state_dir = core.state_dir() }) .. "\n"
  end
  return 404, "text/plain", "not found: " .. path .. " (try /metrics or /health)\n"
end

function M.main(argv)
  local opts, operands = args.parse(argv, 1, { addr = "value" })
  if not opts then
    return args.usage_error("serve", "%s", operands)
  end
  if not opts.addr or #operands > 0 then
    return args.usage_error("serve", "serve needs --addr HOST:PORT")
  end
  local server, err = core.http_serve(opts.addr, handler)
  if not server then
    if err:find("bad address", 1, true) then
      return args.usage_error("serve", "%s", err)
    end
    return args.error(69, "%s", err)
  end
  io.stderr:write(string.format("agentflow: serving /metrics and /health on port %d\n", server:port()))
  while true do
    core.sleep(3600)
  end
end

return M
