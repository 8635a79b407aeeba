-- Pattern selection: tokens, the rules that read structure, the learned
-- part, training.
local t = require "testing"
local patterns = require "agentflow.patterns"
local ptext = require "agentflow._patterns_text"
local train = require "agentflow._patterns_train"

-- The rules alone: a model that knows no word.
local NO_MODEL = { rule_scale = 1, bias = {}, weights = {} }

local function rules_only(fn)
  local saved = patterns.model
  patterns.model = NO_MODEL
  local ok, err = pcall(fn)
  patterns.model = saved
  if not ok then
    error(err, 0)
  end
end

local function reason(reasons, rule)
  for _, r in ipairs(reasons) do
    if r.rule == rule then
      return r
    end
  end
end

t.test("one list of patterns: the selection's, af's functions, af.orchestrate's", function()
  local registry = require "agentflow._patterns"
  t.eq(registry.NAMES, patterns.PATTERNS)
  t.eq(registry.NAMES, require("agentflow.flow").PATTERN_NAMES)
  for _, name in ipairs(registry.NAMES) do
    t.eq("function", type(af[name]), "af." .. name)
    t.eq("number", type(patterns.PRIORITY[name]), name .. " has a priority")
  end
  local _, chosen = af.orchestrate({ pattern = "sequential", steps = { function() return 1 end } })
  t.eq("sequential", chosen)
  t.raises('unknown pattern "paralel" (did you mean "parallel"?)', af.orchestrate,
    { pattern = "paralel", steps = {} })
end)

t.test("tokens fold case and word forms and keep breaks, arrows and sentence ends", function()
  t.eq("check the gateway", patterns.normalize("Checking, the GATEWAYS!"))
  t.eq("optimise it", patterns.normalize("optimize it"))
  t.eq("dont run", patterns.normalize("don't run"))
  t.eq({ "decode", ">", "resise", ">", "upload" }, ptext.tokens("decode ▸ resize -> upload"))
  t.eq({ "read", ",", "then", "load", ".", "done" }, ptext.tokens("Read; then load. Done."))
  t.eq({ "disk", "gt", "90", "percent" }, ptext.tokens("disk > 90%"))
  t.eq({ "over", "taka", "10000" }, ptext.tokens("over ৳10,000"))
  t.eq({ "1", ",", "stop", "2", ",", "start" }, ptext.tokens("1. stop 2. start"))
  t.eq({ "run", "the", "run the", "test", "the test", "then" }, ptext.features(ptext.tokens("run the tests, then")))
end)

t.test("each pattern's typical phrasing, by the rules alone and with the model", function()
  local cases = {
    { "parallel", "Ping the three servers simultaneously" },
    { "sequential", "Build it, then test it, then ship it" },
    { "conditional", "Notify the team unless the build is green" },
    { "iterative", "Keep tuning the query until it takes under 1 s" },
    { "pipeline", "Each record flows from the parser to the validator to the writer" },
  }
  for _, c in ipairs(cases) do
    t.eq(c[1], (patterns.select(c[2])), c[2])
  end
  rules_only(function()
    for _, c in ipairs(cases) do
      t.eq(c[1], (patterns.select(c[2])), c[2])
    end
  end)
end)

t.test("nothing known is the default, uncertain; ties go to the more specific pattern", function()
  rules_only(function()
    local p, scores, reasons, d = patterns.select("Close the books")
    t.eq(patterns.DEFAULT, p)
    t.eq({}, reasons)
    t.eq(0, d.margin)
    t.eq(true, d.uncertain)
    t.eq(0.2, scores.parallel)
    local saved = patterns.rules
    patterns.rules = {
      { pattern = "parallel", weight = 2, name = "a", phrases = { "alpha" } },
      { pattern = "conditional", weight = 2, name = "b", phrases = { "beta" } },
    }
    local ok, err = pcall(function() t.eq("conditional", (patterns.select("alpha beta"))) end)
    patterns.rules = saved
    assert(ok, err)
  end)
end)

t.test("a negated cue counts for the pattern the rule names, within its clause only", function()
  rules_only(function()
    t.eq("parallel", (patterns.select("Run the two imports at the same time")))
    local p, _, reasons = patterns.select("Do not run the two imports at the same time")
    t.eq("sequential", p)
    t.eq(true, reasons[1].negated)
    p, _, reasons = patterns.select("It is not urgent, so run them simultaneously")
    t.eq("parallel", p)
    t.eq(nil, reason(reasons, "at the same time").negated)
    t.eq("parallel", (patterns.select("None of the reports depend on each other")))
  end)
end)

t.test("contrast: what comes after rather than / instead of is rejected", function()
  rules_only(function()
    local p, _, reasons = patterns.select("Run the checks together rather than one after another")
    t.eq("parallel", p)
    local r = reason(reasons, "in order")
    t.eq("parallel", r.pattern)
    t.eq(true, r.negated)
    t.eq("sequential", (patterns.select("Instead of all at once, migrate the tables one at a time")))
    local _, scores = patterns.select("Review them together, but one at a time")
    t.eq(true, scores.sequential > scores.parallel)
  end)
end)

t.test("idioms that look like cues are not cues", function()
  rules_only(function()
    local _, _, reasons = patterns.select("Cycle back to the vendor and loop in the buyer")
    t.eq({}, reasons)
    _, _, reasons = patterns.select("Prepare the cash flow statement")
    t.eq({}, reasons)
  end)
end)

t.test("an amount against a threshold is a condition, unless it is a loop's target", function()
  rules_only(function()
    local p, _, reasons = patterns.select("Refunds over 10,000 taka need the manager")
    t.eq("conditional", p)
    t.eq("over 10000", reason(reasons, "amount against a threshold").cue)
    p, _, reasons = patterns.select("Cut the costs until the total is below 3 lakh")
    t.eq("iterative", p)
    t.eq("iterative", reason(reasons, "amount against a threshold").pattern)
    p = patterns.select("Retry the call up to five times")
    t.eq("iterative", p)
  end)
end)

t.test("stage lists and chains of per-item transforms are pipelines", function()
  rules_only(function()
    local p, _, reasons = patterns.select("decode ▸ resize ▸ watermark ▸ upload")
    t.eq("pipeline", p)
    t.eq("4 stages between arrows", reason(reasons, "stage list").cue)
    p, _, reasons = patterns.select("Read the CSV rows, normalise the phone numbers, geocode the addresses, "
      .. "load them into the warehouse")
    t.eq("pipeline", p)
    t.eq("read, normalise, geocode, load", reason(reasons, "chain of per-item transforms").cue)
    -- One-off steps with ordinary verbs are not a chain.
    p = patterns.select("Rotate the credentials, update the vault, restart the service")
    t.eq("sequential", p)
  end)
end)

t.test("a count of repeats is iterative", function()
  rules_only(function()
    local p, _, reasons = patterns.select("Run the concurrent suite 200 times")
    t.eq("iterative", p)
    t.eq("200 time", reason(reasons, "a number of times").cue)
  end)
end)

t.test("the learned weights add to the rules' scores", function()
  local saved = patterns.model
  patterns.model = { rule_scale = 1, bias = { sequential = 0.5 },
    weights = { ["lockstep"] = { parallel = 3 }, ["in lockstep"] = { parallel = 1 } } }
  local ok, err = pcall(function()
    local p, scores, reasons, d = patterns.select("Reconcile the ledgers in lockstep")
    t.eq("parallel", p)
    t.eq({}, reasons)
    t.eq(4, d.learned.parallel)
    t.eq(0.5, d.learned.sequential)
    t.eq(2, d.known)
    local known = patterns.known_features("Reconcile the ledgers in lockstep")
    t.eq({ "lockstep", "in lockstep" }, { known[1].feature, known[2].feature })
    t.eq(true, scores.parallel > 0.5 and d.margin > 0.5)
  end)
  patterns.model = saved
  assert(ok, err)
end)

t.test("training is deterministic and its model reproduces its labels", function()
  local rows = {
    { label = "parallel", text = "reconcile the ledgers in lockstep" },
    { label = "parallel", text = "audit the branches in lockstep" },
    { label = "sequential", text = "reconcile the ledgers and close them" },
    { label = "sequential", text = "audit the branches and close them" },
  }
  local a = train.write(train.fit(rows, { rounds = 50 }), { "x.tsv" })
  local b = train.write(train.fit(rows, { rounds = 50 }), { "x.tsv" })
  t.eq(a, b)
  t.contains(a, '["lockstep"] = { ')
  t.contains(a, "--   agentflow patterns train x.tsv")
  local model = load(a, "model", "t", {})()
  t.eq(4, model.examples)
  local saved = patterns.model
  patterns.model = model
  local ok, err = pcall(function()
    t.eq("parallel", (patterns.select("count the stock in lockstep")))
    t.eq("sequential", (patterns.select("count the stock and close them")))
  end)
  patterns.model = saved
  assert(ok, err)
  local cv = train.cross_validate({ { name = "a", rows = { rows[1], rows[3] } },
    { name = "b", rows = { rows[2], rows[4] } } }, { rounds = 50 })
  t.eq({ "a", 2 }, { cv[1].name, cv[1].total })
  t.eq("number", type(cv[2].correct))
end)

t.test("bad input", function()
  t.raises("string expected", patterns.select, 42)
  local saved = patterns.rules
  patterns.rules = { { pattern = "parallel", weight = 1, name = "odd", test = "no_such_test" } }
  local ok, err = pcall(patterns.select, "x")
  patterns.rules = saved
  t.eq(false, ok)
  t.contains(err, 'pattern rule "odd": no structure test "no_such_test"')
end)

t.done()
