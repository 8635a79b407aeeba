-- tools/bench/steps.lua N MAX KIND: N steps under af.parallel{max = MAX}.
-- KIND: exec (af.exec of /bin/true), agent (a command agent running
-- /bin/true), lua (a Lua agent), sleep (af.sleep(0)). Prints peak RSS.
local n, max, kind = tonumber(arg[1]), tonumber(arg[2]), arg[3] or "exec"
af.define_agent("true", { command = { "/bin/true" }, retries = 0, cache = false })
af.define_agent("noop", { run = function() return true end, retries = 0, cache = false })
local step = ({
  exec = function() return af.exec({ "/bin/true" }) end,
  agent = function() return af.agent("true") end,
  lua = function() return af.agent("noop") end,
  sleep = function() af.sleep(0) end,
})[kind]
local steps = {}
for i = 1, n do
  steps[i] = step
end
af.parallel(steps, { max = max })
for line in io.lines("/proc/self/status") do
  local kb = line:match("^VmHWM:%s*(%d+)")
  if kb then
    io.stderr:write(string.format("peak RSS %.1f MiB\n", kb / 1024))
  end
end
