--- Pattern selection: which of the five patterns fits a task description.
--
--   local pattern, scores, reasons = require("agentflow.patterns").select(text)
--
-- The heuristic is the rules table below: phrases that are cues for a
-- pattern, with weights. The text and every phrase are normalised the same
-- way (lower case, punctuation dropped, simple word forms: "checks" and
-- "checking" both read "check"), a rule fires at most once, and the
-- pattern with the highest total wins; ties go to the more specific
-- pattern, and no cue at all means sequential.
--
-- It is meant to be edited. A project adds or replaces rules in
-- .agentflow/patterns.lua (see the README), and measures a change with
-- `agentflow patterns test tests/patterns/tune.tsv`.
local core = require "agentflow.core"
local registry = require "agentflow._patterns"

local M = {}

--- The patterns chosen among (_patterns.lua).
M.PATTERNS = registry.NAMES

--- The answer when no rule fires: doing things in order is the safe reading.
M.DEFAULT = "sequential"

--- Ties go to the more specific pattern: a condition or a loop changes what
-- runs; a pipeline or a fan-out changes only how.
M.PRIORITY = { conditional = 5, iterative = 4, pipeline = 3, parallel = 2, sequential = 1 }

--- When the top two scores are closer than this, --explain says so.
M.CLOSE = 1.5

-- Words that turn a cue around when they come just before it ("not in
-- parallel", "without waiting").
M.NEGATORS = { ["not"] = true, ["no"] = true, ["never"] = true, ["dont"] = true,
  ["doesnt"] = true, ["cannot"] = true, ["without"] = false }

-- Words after which the rest of the sentence says what the author means
-- ("run them together, but one at a time"): cues after them count 1.5x,
-- cues before them 0.75x.
M.CONTRAST = { "but", "however", "instead", "rather" }

--- The rules. Each: pattern, weight, a name for explanations, and
-- `phrases` (plain text, matched on whole words) or `patterns` (Lua
-- patterns over the normalised text, padded with spaces). `negated` names
-- the pattern a negated cue counts for instead.
M.rules = {
  -- Parallel: the parts run at the same time, or do not depend on each other.
  { pattern = "parallel", weight = 4, name = "at the same time", negated = "sequential",
    phrases = { "at the same time", "simultaneously", "in parallel", "concurrently", "at once",
      "all at once", "side by side", "fan out", "parallel" } },
  { pattern = "parallel", weight = 3, name = "independent parts",
    phrases = { "independently", "independent", "without waiting", "dont depend on each other",
      "do not depend on each other", "on its own worker", "not depend on one another" } },
  { pattern = "parallel", weight = 1.5, name = "together", phrases = { "together", "several agents",
    "three different", "each run", "all of", "three independent" } },
  -- Counting cues: the task names many targets of one action.
  { pattern = "parallel", weight = 1.5, name = "many targets",
    patterns = { " each of the ", " all %d+ ", " all the ", " every ", " both ", " all of our ",
      " all (two) ", " all (three) ", " all (four) ", " all (five) ", " all (six) ", " all (seven) ",
      " all (eight) ", " all (ten) ", " all (twelve) ", " all (twenty) " } },

  -- Sequential: order words.
  { pattern = "sequential", weight = 2.5, name = "then / after", negated = nil,
    phrases = { "then", "after that", "afterwards", "followed by", "subsequently", "next",
      "finally", "and only then" } },
  { pattern = "sequential", weight = 3, name = "in order",
    phrases = { "step by step", "in order", "in that order", "one after another", "sequentially",
      "one at a time", "item by item", "first", "second", "before", "once it has finished",
      "once they are built", "wait for" } },
  { pattern = "sequential", weight = 1.5, name = "after / once",
    phrases = { "after", "once", "when it is", "followed" } },

  -- Conditional: a choice between paths.
  { pattern = "conditional", weight = 5, name = "if / unless",
    phrases = { "if", "unless", "otherwise", "else", "whether", "in case", "in the event",
      "provided", "depending on", "depend on", "based on", "only when", "only if", "only for",
      "fall back", "fallback", "either", "should the", "where the" } },
  { pattern = "conditional", weight = 3, name = "when a condition holds",
    patterns = { " when [%w ]- fail", " when [%w ]- break", " when [%w ]- exceed", " when [%w ]- above",
      " when [%w ]- below", " when [%w ]- missing", " when [%w ]- not ", " when [%w ]- is empty",
      " when [%w ]- is ", " when [%w ]- has ", " when [%w ]- change", " when a ", " when the " } },
  { pattern = "conditional", weight = 3, name = "choose a path",
    phrases = { "decide", "choose between", "pick the", "route the", "route it", "differently",
      "reject", "skip", "block the merge", "only escalate", "only rebuild", "only send", "only on",
      "not on", "require a", "need a senior", "ones need", "unless", "fail the build",
      "mark the invoice", "flag it" } },

  -- Iterative: repeat until a goal or a limit.
  { pattern = "iterative", weight = 6, name = "until",
    phrases = { "until", "till", "as long as", "while it", "while all", "while its" } },
  { pattern = "iterative", weight = 4, name = "repeat",
    phrases = { "repeat", "repeatedly", "again", "iterate", "iteratively", "iteration", "loop",
      "round", "rounds", "retry", "reattempt", "re run", "rerun", "keep", "continue", "redo",
      "back and forth", "again and again", "successive", "over several", "poll", "each time",
      "up to ten times", "converge", "re generate", "in small steps", "after each fix",
      "after each patch", "after each optimisation", "each quarter", "several runs", "one by one" } },
  { pattern = "iterative", weight = 2, name = "improve toward a target",
    phrases = { "optimise", "improve", "tune", "refine", "reduce", "tighten", "shorten", "trim",
      "polish", "revise", "adjust", "lower the", "shrink" },
    patterns = { " under %d", " below %d", " above %d", " at most %w+ ", " up to %w+ " } },

  -- Pipeline: items flow through stages, each stage's output feeding the next.
  { pattern = "pipeline", weight = 6, name = "pipeline words",
    phrases = { "pipeline", "stream", "streaming", "etl", "flow", "flows", "feed", "feeds",
      "fed into", "downstream", "stage", "stages", "chain", "in turn", "as they arrive",
      "as it arrives", "as they finish", "as it is produced", "as it comes out", "as it downloads",
      "continuous flow", "record by record", "row by row", "page after page", "handing off",
      "hand off", "handoff", "hand each", "hand it to", "hand the", "pass it on", "pass them on",
      "passes from", "pass on", "forward them", "into the ledger", "one stage" } },
  { pattern = "pipeline", weight = 4, name = "output into the next step",
    patterns = { " output[%w ]- into ", " output[%w ]- to the ", "output goes to", " into the %w+ whose ",
      " to the %w+ to the ", " from the %w+ to the %w+ to ", " through [%w ]- then ",
      " through [%w ]- and ", " goes through ", " passes? through ", " through [%w ]- into ",
      " and then into ", " the next ", " to the %w+ and the ", " its comments to ",
      " results? into ", " findings to ", " and the %w+ to the ", " into summaries",
      " into transcripts", " into bills", " each [%w ]- then ", " every [%w ]- then ",
      " each [%w ]-, then", " for every scan ", " for every ", " each %w+ goes ", " every %w+ is ",
      " each %w+ from ", " each %w+ is ", " every %w+ through ", " each %w+ through ",
      " extract [%w ]- transform ", " read [%w ]- rate ", " and store them", " and save them",
      " and write it", " and stores ", " and push ", " and upload the chunks" } },
}

-- ---- normalisation ---------------------------------------------------------

local function stem(w)
  if #w > 5 and w:sub(-3) == "ing" then
    return w:sub(1, -4)
  elseif #w > 4 and w:sub(-3) == "ies" then
    return w:sub(1, -4) .. "y"
  elseif #w > 4 and w:sub(-2) == "ed" then
    return w:sub(1, -3)
  elseif #w > 3 and w:sub(-1) == "s" and w:sub(-2) ~= "ss" then
    return w:sub(1, -2)
  end
  return w
end

--- The normalised form of a text: lower case, letters and digits only,
-- single spaces, simple word forms, "ize" spelt "ise".
function M.normalize(text)
  local words = {}
  for w in text:lower():gsub("'", ""):gmatch("[%w]+") do
    words[#words + 1] = stem((w:gsub("iz([aei])", "is%1")))
  end
  return table.concat(words, " ")
end

-- Rules with their phrases normalised, built once per rules table.
local compiled = setmetatable({}, { __mode = "k" })

-- A pattern's leading literal text ("\32when " of " when [%w ]- fail"): when
-- the text lacks it, the pattern cannot match, and a plain search says so
-- far faster than the pattern matcher.
local function anchor_of(p)
  return p:match("^[^%%%[%]%-%*%+%?%(%)%.%^%$]+") or ""
end

local function compile(rules)
  local out = {}
  for i, r in ipairs(rules) do
    local phrases, pats = {}, {}
    for j, p in ipairs(r.phrases or {}) do
      phrases[j] = " " .. M.normalize(p) .. " "
    end
    for j, p in ipairs(r.patterns or {}) do
      pats[j] = { p, anchor_of(p) }
    end
    out[i] = { rule = r, phrases = phrases, patterns = pats }
  end
  return out
end

-- Whether the cue at `pos` in padded text `t` has a negator among the
-- five words before it ("do not run the two jobs at the same time").
local NEGATION_WINDOW = 5

local function negated(t, pos)
  local words = {}
  for w in t:sub(1, pos):gmatch("%S+") do
    words[#words + 1] = w
  end
  for i = math.max(1, #words - NEGATION_WINDOW + 1), #words do
    if M.NEGATORS[words[i]] then
      return true
    end
  end
  return false
end

-- The weight factor at position `pos`: contrast makes the last clause count.
local function clause_factor(t, pos, contrast_at)
  if not contrast_at then
    return 1
  end
  return pos > contrast_at and 1.5 or 0.75
end

local function find_contrast(t)
  local at
  for _, w in ipairs(M.CONTRAST) do
    local p = t:find(" " .. w .. " ", 1, true)
    if p and (not at or p > at) then
      at = p
    end
  end
  return at
end

-- The first match of rule `c` in `t`: position and the matched text.
local function first_match(c, t)
  for _, p in ipairs(c.phrases) do
    local pos = t:find(p, 1, true)
    if pos then
      return pos, p:sub(2, -2)
    end
  end
  for _, p in ipairs(c.patterns) do
    if #p[2] < 3 or t:find(p[2], 1, true) then
      local s, e = t:find(p[1])
      if s then
        return s, t:sub(s, e):match("^%s*(.-)%s*$")
      end
    end
  end
end

--- pattern, scores, reasons = select(text): the pattern for a task
-- description; scores maps each pattern to its total; reasons lists the
-- rules that fired as {pattern, weight, rule, cue}, strongest first.
function M.select(text)
  if type(text) ~= "string" then
    error(string.format("bad argument #1 to 'select' (string expected, got %s)", type(text)), 2)
  end
  local rules = M.rules
  local cs = compiled[rules]
  if not cs then
    cs = compile(rules)
    compiled[rules] = cs
  end
  local t = " " .. M.normalize(text) .. " "
  local contrast_at = find_contrast(t)
  local scores, reasons = {}, {}
  for _, p in ipairs(M.PATTERNS) do
    scores[p] = 0
  end
  for _, c in ipairs(cs) do
    local pos, cue = first_match(c, t)
    if pos then
      local r = c.rule
      local target = r.pattern
      if negated(t, pos) then
        target = r.negated
      end
      if target then
        local w = r.weight * clause_factor(t, pos, contrast_at)
        scores[target] = (scores[target] or 0) + w
        reasons[#reasons + 1] = { pattern = target, weight = w, rule = r.name, cue = cue,
          negated = target ~= r.pattern or nil }
      end
    end
  end
  table.sort(reasons, function(a, b) return a.weight > b.weight end)
  local best, best_score = M.DEFAULT, 0
  for _, p in ipairs(M.PATTERNS) do
    local s = scores[p]
    if s > best_score or (s == best_score and s > 0 and M.PRIORITY[p] > M.PRIORITY[best]) then
      best, best_score = p, s
    end
  end
  return best, scores, reasons
end

--- The runner-up and whether it is close to the winner.
function M.runner_up(best, scores)
  local second, s2 = nil, -1
  for _, p in ipairs(M.PATTERNS) do
    if p ~= best and scores[p] > s2 then
      second, s2 = p, scores[p]
    end
  end
  return second, s2 > 0 and scores[best] - s2 < M.CLOSE
end

-- The project's own rules: .agentflow/patterns.lua in the state directory,
-- a chunk called with this module; it may change M.rules (add, remove,
-- reweigh) or return a new rules table.
local function load_project_rules()
  local dir = core.state_dir()
  local path = dir and dir .. "/patterns.lua"
  local f = path and io.open(path, "r")
  if not f then
    return
  end
  f:close()
  local chunk, err = loadfile(path, "t")
  if not chunk then
    error(err, 0)
  end
  local replaced = chunk(M)
  if type(replaced) == "table" then
    M.rules = replaced
  end
  M.project_rules = path
end

load_project_rules()

return M
