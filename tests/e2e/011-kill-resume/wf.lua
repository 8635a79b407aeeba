-- The workflow the kill test kills: agent and process steps, sequential,
-- parallel (branches making several calls, so that a resume starts them in
-- another order), a pipeline and an iteration. Each step's process writes
-- "start NAME AGENTFLOW_PID PID" to the ledger as it begins and "done ..."
-- before it answers.
local function script(name, secs)
  local tag = name .. " $PPID $$ >> ledger"
  return "echo start " .. tag .. "; sleep " .. secs .. "; echo done " .. tag .. "; echo out-" .. name
end

local function agent(name, secs)
  af.define_agent(name, { command = { "sh", "-c", "cat >/dev/null; " .. script(name, secs or "0.05") },
    cache = false })
  return af.agent(name, { prompt = name }).output:gsub("\n", "")
end

local function exec(name, secs)
  local r = af.exec({ "sh", "-c", script(name, secs or "0.05") })
  assert(r.code == 0, name .. " failed")
  return (r.stdout:gsub("\n", ""))
end

local out = {}
local function keep(s) out[#out + 1] = s end

for i = 1, 3 do keep(agent("seq" .. i)) end
for i = 1, 3 do keep(exec("ex" .. i, i == 2 and "0.25" or "0.05")) end
local batch = {}
for i = 1, 8 do
  batch[i] = function() return i % 2 == 0 and agent("par" .. i) or exec("par" .. i) end
end
for _, s in ipairs(af.parallel(batch, { max = 4 })) do keep(s) end
local two = {}
af.parallel({
  function() two[1] = exec("pa1", "0.03") .. agent("pa2", "0.03") end,
  function() two[2] = agent("pb1", "0.08") .. exec("pb2", "0.08") end,
})
keep(two[1] .. two[2])
local items = af.pipeline({
  function(x) return exec("pl1-" .. x, "0.06") end,
  { function(_, i) return agent("pl2-" .. i, "0.04") end, max = 2 },
}, { "a", "b", "c", "d" }, { max = 2 })
for _, s in ipairs(items) do keep(s) end
af.iterative({ max = 3 }, function(i)
  keep(agent("it" .. i .. "a"))
  keep(exec("it" .. i .. "b"))
end)
print(table.concat(out, " "))
