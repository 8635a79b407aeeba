-- The pattern heuristic: normalisation, negation, contrast, ties, defaults.
local t = require "testing"
local patterns = require "agentflow.patterns"

t.test("one list of patterns: the heuristic's, af's functions, af.orchestrate's", function()
  local registry = require "agentflow._patterns"
  t.eq(registry.NAMES, patterns.PATTERNS)
  t.eq(registry.NAMES, require("agentflow.flow").PATTERN_NAMES)
  for _, name in ipairs(registry.NAMES) do
    t.eq("function", type(af[name]), "af." .. name)
    t.eq(patterns.PRIORITY[name] ~= nil, true, name .. " has a priority")
  end
  t.eq(#registry.NAMES, #patterns.PATTERNS)
  local _, chosen = af.orchestrate({ pattern = "sequential", steps = { function() return 1 end } })
  t.eq("sequential", chosen)
  t.raises('unknown pattern "paralel" (did you mean "parallel"?)', af.orchestrate,
    { pattern = "paralel", steps = {} })
end)

t.test("normalisation folds case, punctuation and word forms", function()
  t.eq("check the gateway", patterns.normalize("Checking, the GATEWAYS!"))
  t.eq("optimise it", patterns.normalize("optimize it"))
  t.eq(patterns.normalize("optimising"), patterns.normalize("optimizing"))
  t.eq("dont run", patterns.normalize("don't run"))
end)

t.test("each pattern's typical phrasing", function()
  t.eq("parallel", (patterns.select("Ping the three servers simultaneously")))
  t.eq("sequential", (patterns.select("Build it, then test it, then ship it")))
  t.eq("conditional", (patterns.select("Notify the team unless the build is green")))
  t.eq("iterative", (patterns.select("Keep tuning the query until it takes under 1 s")))
  t.eq("pipeline", (patterns.select("Each record flows from the parser to the validator to the writer")))
end)

t.test("no cue is the default; ties go to the more specific pattern", function()
  local p, scores, reasons = patterns.select("Close the books")
  t.eq(patterns.DEFAULT, p)
  t.eq({}, reasons)
  t.eq(0, scores.parallel)
  local saved = patterns.rules
  patterns.rules = {
    { pattern = "parallel", weight = 2, name = "a", phrases = { "alpha" } },
    { pattern = "conditional", weight = 2, name = "b", phrases = { "beta" } },
  }
  t.eq("conditional", (patterns.select("alpha beta")))
  patterns.rules = saved
end)

t.test("a negated cue counts for the pattern the rule names", function()
  t.eq("parallel", (patterns.select("Run the two imports at the same time")))
  local p, _, reasons = patterns.select("Do not run the two imports at the same time")
  t.eq("sequential", p)
  t.eq(true, reasons[1].negated)
end)

t.test("after a contrast word the cue weighs more", function()
  local _, scores = patterns.select("Review them together, but one at a time")
  t.eq(true, scores.sequential > scores.parallel)
end)

t.test("reasons name the rule and the cue", function()
  local _, _, reasons = patterns.select("Retry until the portal accepts it")
  t.eq("iterative", reasons[1].pattern)
  t.eq("until", reasons[1].cue)
  t.raises("string expected", patterns.select, 42)
end)

t.done()
