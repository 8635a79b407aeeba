--- The orchestration patterns, in one table: flow.lua applies them (its
-- functions are named after them), patterns.lua chooses among them, af
-- has a field for each, and `agentflow patterns list` prints them. A
-- pattern's automatic checkpoints are named "NAME#N" (_steps.checkpoint).
-- Data only: af reads it at every start.
local M = {}

--- In order of the README; `orchestrate` says how af.orchestrate{...}
-- hands its fields to the pattern, `checkpoints` when "NAME#N" is marked
-- (nil: never), `priority` which pattern pattern selection prefers on a
-- tie (the higher; a condition or a loop changes what runs, a pipeline or
-- a fan-out only how; missing: 0).
M.LIST = {
  { name = "sequential", priority = 1, description = "each step in turn, a function gets (previous, i)",
    orchestrate = "steps in turn", checkpoints = "every 3 steps" },
  { name = "parallel", priority = 2,
    description = "the steps at once, at most max at a time; results in input order",
    orchestrate = "steps, max", checkpoints = "after each batch" },
  { name = "conditional", priority = 5, description = "a predicate decides between two steps",
    orchestrate = "condition decides between steps[1] and steps[2]; without it steps[1] decides "
      .. "between steps[2] and steps[3]" },
  { name = "iterative", priority = 4, description = "a step again and again until stop says so, at most max times",
    orchestrate = "the steps in sequence each round until the last succeeds or stop, at most max (3) rounds",
    checkpoints = "after each iteration" },
  { name = "pipeline", priority = 3, description = "each item of the input through the stages, stages overlapping",
    orchestrate = "steps are the stages, input the items, max items per stage at once",
    checkpoints = "after each stage" },
}

--- The names, in the order of M.LIST.
M.NAMES = {}
for i, p in ipairs(M.LIST) do
  M.NAMES[i] = p.name
end

return M
