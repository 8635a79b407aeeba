-- workflows/finance.lua: the finance feature workflow (sequential).
--
-- This first version walks the four steps of the seed's finance workflow
-- and says what each will do; the steps become real agent calls as the
-- scheduler, cache and agent executors land.
local steps = {
  { agent = "business-logic-validator", task = "Validate Bangladesh VAT and tax compliance" },
  { agent = "context-gathering", task = "Gather the finance module's patterns" },
  { agent = "code-reviewer", task = "Review the change for compliance and quality" },
  { agent = "performance-profiler", task = "Record baseline performance metrics" },
}

print("finance workflow (sequential), agentflow " .. af.version)
for i, step in ipairs(steps) do
  print(string.format("%d. %-26s %s", i, step.agent, step.task))
end
