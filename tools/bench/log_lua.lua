-- tools/bench/log_lua.lua N: records per second through af.log.info.
local core = require "agentflow.core"
local n = tonumber(arg[1])
local t0 = core.monotonic()
for i = 1, n do
  af.log.info("step ended", { agent = "code-reviewer", step = i, status = "success" })
end
local rate = n / (core.monotonic() - t0)
print(string.format("  af.log.info            %10.0f records/s  (budget 200000: %s)", rate,
  rate >= 200000 and "within budget" or "OVER BUDGET"))
