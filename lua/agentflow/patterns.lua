--- Pattern selection: which of the patterns (_patterns.lua) fits a task
-- description.
--
--   local pattern, scores, reasons, detail = require("agentflow.patterns").select(text)
--
-- Two parts add up. The rules below read the text's structure as well as
-- its words: cue phrases with weights, negation scoped to its clause,
-- contrast ("rather than X": X is what the author does not want), idioms
-- that look like cues but are not ("cycle back to the vendor"), amounts
-- compared with a threshold, lists of stages between arrows, and chains
-- of per-item transforms. The learned part (_patterns_model.lua, written by
-- `agentflow patterns train`) is a table of weights per word and word pair
-- fitted on labelled descriptions on top of the rules, with one factor
-- for how far to trust the rules. The pattern with the highest total wins;
-- `scores` are the totals as probabilities, and the gap between the best
-- two is the margin: below M.UNCERTAIN the choice is uncertain.
--
-- It is meant to be edited. A project adds or replaces rules, or the
-- weights, in .agentflow/patterns.lua (see the README), retrains with
-- `agentflow patterns train`, and measures with `agentflow patterns test`.
local core = require "agentflow.core"
local registry = require "agentflow._patterns"
local ptext = require "agentflow._patterns_text"
local shipped_model = require "agentflow._patterns_model"

local M = {}

--- The patterns chosen among (_patterns.lua).
M.PATTERNS = registry.NAMES

--- The answer when nothing in the text is evidence: doing things in order
-- is the safe reading.
M.DEFAULT = "sequential"

--- Ties go to the more specific pattern (_patterns.lua's `priority`): a
-- condition or a loop changes what runs; a pipeline or a fan-out only how.
M.PRIORITY = {}
for _, p in ipairs(registry.LIST) do
  M.PRIORITY[p.name] = p.priority or 0
end

--- Below this margin (best probability minus the runner-up's) the choice
-- is uncertain: --explain and --json say so, and af.orchestrate warns, or
-- fails when M.IF_UNCERTAIN (or its `if_uncertain` field) is "fail".
M.UNCERTAIN = 0.2
M.IF_UNCERTAIN = "guess"

--- The learned weights (see _patterns_model.lua for the format).
M.model = shipped_model

--- The words of a text as the rules read them: lower case, simple word
-- forms, no punctuation ("Checking, the GATEWAYS!" -> "check the gateway").
M.normalize = ptext.normalize

-- Words that turn a cue around when they come shortly before it in the
-- same clause ("do not run them at the same time").
M.NEGATORS = { ["not"] = true, ["no"] = true, ["never"] = true, ["dont"] = true, ["doesnt"] = true,
  ["cannot"] = true, ["nor"] = true, ["none"] = true, ["nothing"] = true, ["nobody"] = true }
M.NEGATION_WINDOW = 6

-- Tokens a negation does not reach past: "the reports are not dependent
-- on each other, so generate them simultaneously".
M.CLAUSE_ENDS = { [ptext.BREAK] = true, [ptext.ARROW] = true, [ptext.STOP] = true, ["so"] = true, ["but"] = true,
  ["because"] = true, ["since"] = true, ["hence"] = true, ["therefore"] = true, ["yet"] = true,
  ["instead"] = true, ["rather"] = true }

-- Words after which the rest says what the author means ("review them
-- together, but one at a time"): cues after them count 1.5x, before 0.75x.
M.CONTRAST = { ["but"] = true, ["however"] = true }

-- What follows these two-word phrases, up to the end of its clause, is what
-- the author does not want ("together rather than in turn"): its cues
-- count as negated.
M.REJECT = { "instead of", "rather than" }

-- Verbs that transform an item and hand it on: a list of three or more
-- clauses starting with them is a chain of stages.
M.TRANSFORMS = { "parse", "validate", "clean", "dedupe", "deduplicate", "dedup", "enrich", "normalise",
  "transform", "convert", "resize", "compress", "encrypt", "decompress", "decrypt", "decode", "encode",
  "transcode", "tokenise", "embed", "index", "classify", "categorise", "tag", "score", "match", "geocode",
  "ocr", "extract", "translate", "transcribe", "summarise", "aggregate", "filter", "mask", "redact",
  "anonymise", "sign", "watermark", "crop", "thumbnail", "split", "load", "insert", "upsert", "store",
  "upload", "push", "post", "ship", "forward", "route", "deliver", "save", "append", "read", "fetch",
  "ingest", "consume", "scrape", "download", "detect", "annotate", "symbolicate", "group", "digitise",
  "tally", "pack", "dispatch", "map", "grade", "sessionise", "downsample", "smooth", "demux", "resample",
  "denoise", "unpack", "unzip", "checksum", "chunk", "render", "minify", "localise", "correlate", "strip",
  "stem", "lemmatise", "rank", "emit" }

-- Words that say a list of stages applies to many items, one after another.
M.ITEM_WORDS = { "each", "every", "them", "they", "per", "item", "row", "record", "file", "message",
  "event", "line", "page", "batch", "as", "all", "one" }

--- The rules. Each has a name (for explanations) and one or more of:
--  phrases  plain text, matched on whole words (longest first; a matched
--           phrase is used up, so "dont depend on each other" does not also
--           fire "depend on");
--  patterns Lua patterns over the tokens joined by spaces and padded with
--           spaces (clause breaks read " , ", sentence ends " . ", arrows
--           " > ");
--  test     a function(view, rule, weight) -> position, cue[, weight[,
--           pattern]], or the name of one of this module's structure tests;
--           view.tokens is the token list (idioms hidden), view.text the
--           padded text.
-- A rule adds `weight` to `pattern` once, at its first match; `negated`
-- names the pattern a negated or rejected cue counts for (nil: none), and
-- a test may return another pattern (the threshold test returns `target`
-- for a loop's target). An `idiom` rule scores nothing: its phrases are
-- used up and hidden from the rules after it ("cycle back to" is no loop).
M.rules = {
  { idiom = true, name = "idioms", phrases = { "cycle back", "circle back", "loop in", "loop back in",
    "last round", "final round", "round trip", "round robin", "round up", "round down", "round the",
    "round figure", "alongside", "cash flow", "flow rate", "work flow", "supply chain", "keep a copy",
    "keep in mind", "keep track", "keep an eye", "put together", "put it together",
    "together with", "get together", "even if", "as if", "if so", "first time", "at first",
    "first thing", "in the first place", "parallel port", "parallel corpus", "parallel text",
    "once a", "once more", "next page", "next salary", "next month", "next week", "next year",
    "next release", "at least once", "sales pipeline", "pipeline dashboard", "pipeline report",
    "pipeline config", "pipeline test", "data pipeline repository", "iteration board", "rss feed",
    "news feed", "feed parser", "feed spec", "condition report", "stage 1", "stage 2", "stage 3" } },

  -- Parallel: the parts run at the same time, or do not depend on each other.
  { pattern = "parallel", weight = 4, name = "at the same time", negated = "sequential",
    phrases = { "at the same time", "same time", "simultaneously", "simultaneous", "in parallel",
      "concurrently", "at once", "all at once", "side by side", "fan out", "in one go", "all together",
      "parallel job", "parallel session", "parallel process", "parallel worker" } },
  { pattern = "parallel", weight = 4, name = "independent parts",
    phrases = { "independently", "independent", "no dependency", "no dependencies", "unrelated",
      "no ordering", "nobody has to wait", "no need to wait", "without waiting", "without wait",
      "dont share", "do not share", "doesnt share", "on its own", "on their own", "own worker",
      "own machine", "own runner", "own gpu", "own core", "own connection", "own goroutine",
      "own thread", "own job", "separate runner", "separate machine", "separate core",
      "separate worker", "separate container", "separate process", "separate job", "separate server",
      "separate host", "one per", "nothing depend", "no one wait", "nobody wait" } },
  { pattern = "sequential", weight = 4, name = "depend on each other", negated = "parallel",
    phrases = { "depend on each other", "depend on one another", "dependent on each other",
      "dependent on one another", "need each other", "wait on each other", "wait for each other",
      "depend on the other" } },
  { pattern = "parallel", weight = 3, name = "workers and matrices",
    phrases = { "worker pool", "pool of", "matrix", "shard", "several agent", "several worker",
      "many worker", "multiple worker", "several printer", "spread them", "split across", "across the",
      "concurrent worker", "parallel ssh" },
    patterns = { " %d+ worker ", " %d+ concurrent ", " %d+ parallel ", " across %d+ ", " over %d+ runner ",
      " %d+ runner ", " %d+ container ", " %d+ machine ", " %d+ process ", " %d+ thread " } },
  { pattern = "parallel", weight = 2, name = "parallel words", negated = "sequential",
    phrases = { "parallel", "concurrent", "together" } },
  { pattern = "parallel", weight = 1.5, name = "many targets",
    phrases = { "each of the", "all the", "every one of", "all of", "both", "each of our", "all our",
      "all two", "all three", "all four", "all five", "all six", "all seven", "all eight", "all nine",
      "all ten", "all twelve", "all twenty" },
    patterns = { " all %d+ ", " %d+ %a+ at once" } },

  -- Sequential: order words.
  { pattern = "sequential", weight = 2.5, name = "then / after",
    phrases = { "then", "after that", "afterwards", "afterward", "followed by", "subsequently", "next",
      "finally", "and only then", "only then", "after which", "at the end", "only at the end",
      "only afterwards", "and after" } },
  { pattern = "sequential", weight = 3, name = "in order", negated = "parallel",
    phrases = { "in order", "in that order", "one after another", "one after the other", "sequentially",
      "in sequence", "one at a time", "in turn", "one by one", "serially", "serial", "step by step",
      "each waiting on", "wait on the previous", "waiting on the previous", "after the other" } },
  { pattern = "sequential", weight = 2.5, name = "first / before",
    phrases = { "first", "second", "third", "before", "once it has finished", "once they are", "wait for",
      "only after", "after the", "run after", "runs after" },
    patterns = { " need , " } },
  { pattern = "sequential", weight = 1.5, name = "after / once",
    phrases = { "after", "once", "when done", "when it is", "followed", "later", "afterward" } },
  { pattern = "sequential", weight = 3, name = "numbered steps",
    patterns = { " 1 , .- 2 , ", " step 1 ", " a , .- b , " } },

  -- Conditional: a choice between paths.
  { pattern = "conditional", weight = 5, name = "if / unless",
    phrases = { "if", "unless", "otherwise", "else", "whether", "in case", "in the event", "provided that",
      "only if", "only when", "should the", "if not", "or else" } },
  { pattern = "conditional", weight = 4, name = "depending on",
    phrases = { "depend on", "depending on", "based on", "according to", "whichever", "dependent on" } },
  { pattern = "conditional", weight = 3, name = "when a condition holds",
    phrases = { "where the", "where a", "where it", "where there", "in which case" }, test = "when_state" },
  { pattern = "conditional", weight = 3, name = "choose a path",
    phrases = { "decide", "choose", "choose between", "pick the", "route the", "route it", "route by",
      "route to", "differently", "reject", "skip", "block the", "only for", "only on", "only to",
      "not on", "require", "fall back", "fallback", "flag", "on hold", "on failure", "on success",
      "on error", "for the rest", "everything else", "the rest", "the others", "anything else",
      "anything lower", "for other", "for the other" },
    patterns = { " for [%w ]- , [%w ]- for " } },
  { pattern = "conditional", weight = 2, name = "only", phrases = { "only" } },

  -- Iterative: repeat until a goal or a limit.
  { pattern = "iterative", weight = 6, name = "until",
    phrases = { "until", "till", "untill", "as long as", "while it", "while there", "while all", "while its" } },
  { pattern = "iterative", weight = 4, name = "repeat", negated = "sequential",
    phrases = { "repeat", "repeatedly", "again", "iterate", "iteratively", "iteration", "loop", "in a loop",
      "in round", "round after round", "each round", "few round", "several round", "round of",
      "retry", "reattempt", "re run", "rerun", "resubmit", "resend", "re send", "re apply", "reapply",
      "keep", "continue", "redo", "back and forth", "again and again", "successive", "poll",
      "each time", "every time", "converge", "after each", "after every", "backoff", "back off",
      "bisect", "attempt", "try", "tries", "give up", "in pass", "pass after pass", "go back",
      "one at a time until", "step by step until", "bit by bit", "batch by batch", "chase" } },
  { pattern = "iterative", weight = 5, name = "a number of times",
    phrases = { "twice", "thrice", "in a row" }, patterns = { " max %d+" }, test = "times" },
  { pattern = "iterative", weight = 2, name = "improve toward a target",
    phrases = { "optimise", "improve", "tune", "refine", "reduce", "tighten", "shorten", "trim", "polish",
      "revise", "adjust", "tweak", "narrow", "shrink", "cut it down", "bring down", "get it under",
      "get it below" } },
  { pattern = "iterative", weight = 2, name = "at intervals",
    phrases = { "every minute", "every hour", "every day", "each morning", "each minute", "each hour",
      "daily", "weekly", "hourly", "every week", "each week", "month after month", "each second" },
    patterns = { " every %d+ " } },

  -- Pipeline: items flow through stages, each stage's output feeding the next.
  { pattern = "pipeline", weight = 5, name = "pipeline words",
    phrases = { "pipeline of", "in a pipeline", "as a pipeline", "stream in", "stream the", "streaming", "etl",
      "flow into",
      "flow through", "flow from", "flow to", "feed into", "fed into", "feed the", "feed it",
      "feed them", "fed to", "feed to", "downstream", "stage after stage", "chain", "hand off",
      "handoff", "hand them to", "hand the", "pass it on", "pass them on", "pass to",
      "passed to", "pass from", "forward them", "forward to", "one stage", "record by record",
      "row by row", "page after page", "voucher by voucher", "claim by claim", "line after line",
      "one after the other overlapping", "overlap", "meanwhile", "while the next", "as the next",
      "the next one", "moving along", "move on to", "moving on", "as they come", "stage one",
      "stage two", "first stage", "next stage", "each stage", "every stage", "stage by stage" } },
  { pattern = "pipeline", weight = 2, name = "flow words", phrases = { "flow", "stream" } },
  { pattern = "pipeline", weight = 5, name = "as each arrives",
    patterns = { " as each ", " as they arriv", " as it arriv", " as they come", " as it come",
      " as soon as ", " as %w+ arriv", " as %w+ come in", " as they finish", " as it is produc",
      " as it download", " as they download" } },
  { pattern = "pipeline", weight = 4, name = "output into the next step",
    patterns = { " output[%w ]- into ", " output[%w ]- to ", " output goe to", " output is ", " its output",
      " input of ", " into the %w+ whose ", " from the %w+ to the %w+ to ", " goe through ",
      " go through ", " pass through ", " through [%w ]- into ", " and then into ", " then into ",
      " results? into ", " each [%w ,]- then ", " every [%w ,]- then ", " each %w+ goe ",
      " each %w+ is ", " every %w+ is ", " every %w+ get ",
      " each %w+ get ", " extract [%w ]- transform ", " %w+ to %w+ to ", " from [%w ]- to [%w ]- to ",
      " goe? to [%w ]- , [%w ]- goe? to ", " into [%w ]- , [%w ]- into ", " every [%w ]- through ",
      " each [%w ]- through ", " through [%w ]- , [%w ]- and " } },
  { pattern = "pipeline", weight = 4, name = "stage list", test = "stage_list" },
  { pattern = "pipeline", weight = 4, name = "chain of per-item transforms", test = "transform_chain" },
  { pattern = "conditional", weight = 4, name = "amount against a threshold", test = "threshold",
    target = "iterative" },
}

-- ---- structure ------------------------------------------------------------

local function set_of(words)
  local s = {}
  for _, w in ipairs(words) do
    s[ptext.tokens(w)[1]] = true
  end
  return s
end

-- The tokens of every form of a verb: "validate", "validates", "validated",
-- "validating", and "mapped" for "map".
local function verb_set(verbs)
  local s = {}
  for _, v in ipairs(verbs) do
    local base = v:gsub("e$", "")
    local last = v:sub(-1)
    for _, form in ipairs({ v, v .. "s", base .. "ed", base .. "ing", v .. last .. "ed", v .. last .. "ing" }) do
      s[ptext.tokens(form)[1]] = true
    end
  end
  return s
end

local COMPARATORS = { "over", "above", "exceed", "exceeding", "more than", "greater than",
  "larger than", "bigger than", "higher than", "below", "under", "less than", "lower than",
  "gt", "lt", "at least", "at most", "older than", "within", "up to", "beyond" }
local TARGETS = set_of({ "until", "till", "reach", "reaches", "fit", "fits", "down", "back",
  "get", "bring", "below", "stop", "stops" })
local AMOUNT_WORDS = set_of({ "lakh", "crore", "taka", "tk", "bdt", "dollar", "usd", "eur", "percent",
  "k", "day", "hour", "minute", "second", "mb", "gb", "core", "user", "year", "one", "two", "three",
  "five", "ten", "zero", "limit", "threshold", "budget", "quota", "ceiling", "credit" })
local DETERMINERS = set_of({ "the", "a", "an", "its", "their", "his", "her", "our", "your" })

local NUMBER_WORDS = set_of({ "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
  "twelve", "fifteen", "twenty", "thirty", "forty", "fifty", "hundred", "thousand", "few", "many",
  "several", "dozen" })
local REPEAT_UNITS = set_of({ "time", "times", "attempt", "attempts", "try", "tries", "round", "rounds",
  "iteration", "iterations", "pass", "passes", "cycle", "cycles" })
-- Where a transform verb starts a stage: after a break, an arrow, "then",
-- "and", or as a participle ("rows are read, mapped and inserted").
local STAGE_STARTS = set_of({ "then", "and", "or", "is", "are", "get", "gets", "be", "been",
  "finally", "also", "just", "please", "pls", "first", "to", "them", "each", "every", "need", "should", "that",
  "which" })
for mark in pairs(ptext.MARKS) do
  STAGE_STARTS[mark] = true
end

local STRUCTURE = {}

-- Words that, after "when" in the same clause, make it a state to test
-- ("when the build fails", "when the file is empty").
local STATE_WORDS = set_of({ "fail", "break", "exceed", "above", "below", "missing", "not", "empty", "is",
  "has", "change", "over", "under", "down", "up", "new", "late", "red", "green" })

-- "when X is / fails / exceeds ...", "when the ...": a condition, not a time.
function STRUCTURE.when_state(v, rule, weight)
  local toks = v.tokens
  for i, t in ipairs(toks) do
    if t == "when" then
      local n = toks[i + 1]
      if n == "a" or n == "the" then
        return i, "when " .. n, weight
      end
      for j = i + 1, math.min(#toks, i + 8) do
        if ptext.MARKS[toks[j]] then
          break
        end
        if STATE_WORDS[toks[j]] then
          return i, table.concat(toks, " ", i, j), weight
        end
      end
    end
  end
end

-- "fifty times", "20 iterations", "up to 3 attempts": a count of repeats.
-- The rules' phrases cover "twice"; this reads numbers.
function STRUCTURE.times(v, rule, weight)
  local toks = v.tokens
  for i = 2, #toks do
    local n = toks[i - 1]
    if REPEAT_UNITS[toks[i]] and (n:match("^%d+$") or NUMBER_WORDS[n]) then
      return i - 1, n .. " " .. toks[i], weight
    end
  end
end

-- "decode > resize > watermark > upload": three or more stages between
-- arrows. An arrow list of one-off jobs ("checkout -> build -> package")
-- reads the same, so it counts for less without transform verbs.
function STRUCTURE.stage_list(v, rule, weight)
  local arrows, first = 0, nil
  for i, t in ipairs(v.tokens) do
    if t == ptext.ARROW then
      arrows = arrows + 1
      first = first or i
    end
  end
  if arrows < 2 then
    return
  end
  local verbs = 0
  for i, t in ipairs(v.tokens) do
    if (i == 1 or v.tokens[i - 1] == ptext.ARROW) and v.transforms[t] then
      verbs = verbs + 1
    end
  end
  return first, string.format("%d stages between arrows", arrows + 1), verbs >= 2 and weight or weight / 2
end

-- "read the rows, normalise the numbers, geocode the addresses, load them",
-- "rows are read, mapped and inserted": three or more different verbs in
-- one sentence that transform an item and hand it on, each starting a
-- clause, with a word saying there are many items, are a chain of stages.
function STRUCTURE.transform_chain(v, rule, weight)
  local best, verbs, seen, first, items = nil, {}, {}, nil, false
  local toks = v.tokens
  for i = 1, #toks + 1 do
    local t = toks[i]
    if t == nil or t == ptext.STOP then
      if #verbs >= 3 and (not best or #verbs > #best.verbs) then
        best = { verbs = verbs, first = first, items = items }
      end
      verbs, seen, first, items = {}, {}, nil, false
    else
      if v.transforms[t] and not seen[t] and (i == 1 or STAGE_STARTS[toks[i - 1]]) then
        seen[t] = true
        verbs[#verbs + 1] = t
        first = first or i
      end
      items = items or v.items[t] or false
    end
  end
  if best then
    return best.first, table.concat(best.verbs, ", "), (best.items or #best.verbs >= 4) and weight or weight / 2
  end
end

-- An amount compared with a threshold ("over 5 lakh taka", "> 90%") is a
-- condition, unless it is the target of a loop in the same clause ("until
-- p95 is under 300 ms", "get it below 2 s") or a count of repeats ("up to
-- five times"): then it counts for `target`.
function STRUCTURE.threshold(v, rule, weight)
  local toks = v.tokens
  for i = 1, #toks do
    local c = v.comparators[toks[i]]
    if c then
      local len = 0
      for _, words in ipairs(c) do
        local ok = true
        for k = 1, #words do
          if toks[i + k - 1] ~= words[k] then
            ok = false
            break
          end
        end
        if ok then
          len = #words
          break
        end
      end
      if len > 0 and DETERMINERS[toks[i + len]] then
        len = len + 1
      end
      local n = toks[i + len]
      if len > 0 and n and (n:match("^%d") or AMOUNT_WORDS[n] or NUMBER_WORDS[n]) then
        if REPEAT_UNITS[toks[i + len + 1]] then
          return i, table.concat(toks, " ", i, i + len + 1), weight, rule.target
        end
        for j = i - 1, math.max(1, i - 8), -1 do
          if ptext.MARKS[toks[j]] then
            break
          end
          if TARGETS[toks[j]] and toks[j] ~= toks[i] then
            return i, table.concat(toks, " ", i, i + len), weight, rule.target
          end
        end
        return i, table.concat(toks, " ", i, i + len), weight
      end
    end
  end
end

-- ---- compiled rules -------------------------------------------------------

local compiled = setmetatable({}, { __mode = "k" })

-- What a Lua pattern cannot match without: whole words in its literal runs
-- (" from [%w ]- to " needs "from" and "to"; "#digit" for one that starts
-- with a number), and the runs themselves (" output" in " output[%w ]- to ").
-- When a text lacks one, the pattern is not tried: a table lookup per word
-- instead of the matcher over the whole text.
local function needed_words(p)
  local runs, cur, i = {}, {}, 1
  local function cut()
    runs[#runs + 1] = table.concat(cur)
    cur = {}
  end
  while i <= #p do
    local c = p:sub(i, i)
    if c == "%" then
      cut()
      i = i + 2
    elseif c == "[" then
      cut()
      i = (p:find("]", i + 2, true) or #p) + 1
    elseif c:match("[%?%*%-]") then
      cur[#cur] = nil
      cut()
      i = i + 1
    elseif c:match("[%+%(%)%.%^%$]") then
      if c == "+" then
        cur[#cur] = nil
      end
      cut()
      i = i + 1
    else
      cur[#cur + 1] = c
      i = i + 1
    end
  end
  cut()
  local words, literals = {}, {}
  if p:find("^ ?%%d") then
    words[1] = "#digit"
  end
  for _, r in ipairs(runs) do
    for w in r:gmatch(" (%w+) ") do
      words[#words + 1] = w
    end
    if #r >= 3 and not r:match("^ %w+ $") then
      literals[#literals + 1] = r
    end
  end
  return words, literals
end

local function compile(rules)
  local index, pats, tests = {}, {}, {}
  for i, r in ipairs(rules) do
    for _, p in ipairs(r.phrases or {}) do
      local toks = ptext.tokens(p)
      local list = index[toks[1]] or {}
      index[toks[1]] = list
      list[#list + 1] = { rule = i, toks = toks, cue = table.concat(toks, " ") }
    end
    for _, p in ipairs(r.patterns or {}) do
      local words, literals = needed_words(p)
      pats[#pats + 1] = { rule = i, pat = p, needs = words, literals = literals }
    end
    if r.test then
      local fn = type(r.test) == "function" and r.test or STRUCTURE[r.test]
      if not fn then
        error(string.format("pattern rule %q: no structure test %q", r.name or i, tostring(r.test)), 0)
      end
      tests[#tests + 1] = { rule = i, fn = fn }
    end
  end
  for _, list in pairs(index) do
    table.sort(list, function(a, b)
      if #a.toks ~= #b.toks then
        return #a.toks > #b.toks
      end
      return a.rule < b.rule
    end)
  end
  local reject = {}
  for _, r in ipairs(M.REJECT) do
    local toks = ptext.tokens(r)
    reject[toks[1]] = toks[2]
  end
  local comparators = {}
  for _, c in ipairs(COMPARATORS) do
    local toks = ptext.tokens(c)
    local list = comparators[toks[1]] or {}
    comparators[toks[1]] = list
    list[#list + 1] = toks
  end
  return { index = index, patterns = pats, tests = tests, transforms = verb_set(M.TRANSFORMS),
    items = set_of(M.ITEM_WORDS), comparators = comparators, reject = reject }
end

-- ---- matching -------------------------------------------------------------

local function negated_at(toks, pos)
  for j = pos - 1, math.max(1, pos - M.NEGATION_WINDOW), -1 do
    local t = toks[j]
    if M.CLAUSE_ENDS[t] then
      return false
    end
    if M.NEGATORS[t] then
      return true
    end
  end
  return false
end

-- Spans the author rejects: after "instead of" / "rather than" to the end
-- of the clause. Returns a list of {from, to}.
local function rejected_spans(toks, reject)
  local spans
  for i = 1, #toks - 1 do
    if reject[toks[i]] and reject[toks[i]] == toks[i + 1] then
      local j = i + 2
      while toks[j] and not ptext.MARKS[toks[j]] and toks[j] ~= "but" do
        j = j + 1
      end
      spans = spans or {}
      spans[#spans + 1] = { i + 2, j - 1 }
    end
  end
  return spans
end

local function in_spans(spans, pos)
  for _, s in ipairs(spans or {}) do
    if pos >= s[1] and pos <= s[2] then
      return true
    end
  end
  return false
end

-- Phrases: left to right, the longest phrase at each position; a match
-- uses its words up. Returns rule index -> {pos, cue}; idioms hide their
-- words (as "~") in `visible`.
local function match_phrases(cs, rules, toks)
  local hits, visible = {}, nil
  local i, n = 1, #toks
  while i <= n do
    local list = cs.index[toks[i]]
    local step = 1
    if list then
      for _, e in ipairs(list) do
        local et, ok = e.toks, true
        for k = 2, #et do
          if toks[i + k - 1] ~= et[k] then
            ok = false
            break
          end
        end
        if ok then
          step = #et
          if rules[e.rule].idiom then
            visible = visible or table.move(toks, 1, n, 1, {})
            for k = i, i + step - 1 do
              visible[k] = "~"
            end
          end
          if not hits[e.rule] then
            hits[e.rule] = { i, e.cue }
          end
          break
        end
      end
    end
    i = i + step
  end
  return hits, visible or toks
end

-- The token position of byte offset `at` in the padded text.
local function token_at(text, at)
  local _, spaces = text:sub(1, at):gsub(" ", "")
  return spaces
end

--- The rules' verdict: scores per pattern (missing: 0) and the reasons,
-- {pattern, weight, rule, cue, negated}, strongest first.
function M.apply_rules(text)
  local rules = M.rules
  local cs = compiled[rules]
  if not cs then
    cs = compile(rules)
    compiled[rules] = cs
  end
  local toks = ptext.tokens(text)
  local hits, visible = match_phrases(cs, rules, toks)
  local padded = " " .. table.concat(visible, " ") .. " "
  local present = {}
  for _, t in ipairs(visible) do
    present[t] = true
    if not present["#digit"] and t:find("^%d") then
      present["#digit"] = true
    end
  end
  for _, p in ipairs(cs.patterns) do
    local try = not hits[p.rule]
    for k = 1, try and #p.needs or 0 do
      if not present[p.needs[k]] then
        try = false
        break
      end
    end
    for k = 1, try and #p.literals or 0 do
      if not padded:find(p.literals[k], 1, true) then
        try = false
        break
      end
    end
    if try then
      local s, e = padded:find(p.pat)
      if s then
        hits[p.rule] = { token_at(padded, s), padded:sub(s, e):match("^%s*(.-)%s*$") }
      end
    end
  end
  local view = { tokens = visible, text = padded, transforms = cs.transforms, items = cs.items,
    comparators = cs.comparators }
  for _, t in ipairs(cs.tests) do
    local r = rules[t.rule]
    local pos, cue, weight, target = t.fn(view, r, r.weight)
    if pos then
      hits[t.rule] = { pos, cue, weight, target }
    end
  end
  local spans = rejected_spans(toks, cs.reject)
  local contrast_at
  for i, t in ipairs(toks) do
    if M.CONTRAST[t] then
      contrast_at = i
    end
  end
  local scores, reasons = {}, {}
  for i, r in ipairs(rules) do
    local h = hits[i]
    if h and not r.idiom then
      local pos = h[1]
      local target = h[4] or r.pattern
      local turned = negated_at(toks, pos) or in_spans(spans, pos)
      if turned then
        target = r.negated
      end
      if target then
        local w = (h[3] or r.weight) * (contrast_at and (pos > contrast_at and 1.5 or 0.75) or 1)
        scores[target] = (scores[target] or 0) + w
        reasons[#reasons + 1] = { pattern = target, weight = w, rule = r.name, cue = h[2],
          negated = turned or nil }
      end
    end
  end
  table.sort(reasons, function(a, b)
    if a.weight ~= b.weight then
      return a.weight > b.weight
    end
    return a.rule < b.rule
  end)
  return scores, reasons, toks
end

-- ---- combining with the learned weights ------------------------------------

--- The learned part's totals per pattern for tokens `toks`, and how many
-- of the text's features the model knows; with `list`, those features are
-- appended to it as {feature, weights}.
function M.learned(toks, model, list)
  model = model or M.model
  local totals, known = {}, 0
  local weights, bias = model.weights or {}, model.bias or {}
  for _, p in ipairs(M.PATTERNS) do
    totals[p] = bias[p] or 0
  end
  for _, f in ipairs(ptext.features(toks)) do
    local w = weights[f]
    if w then
      known = known + 1
      if list then
        list[#list + 1] = { feature = f, weights = w }
      end
      for p, x in pairs(w) do
        if totals[p] then
          totals[p] = totals[p] + x
        end
      end
    end
  end
  return totals, known
end

--- The features of `text` the learned weights know, as {feature, weights}.
function M.known_features(text)
  local list = {}
  M.learned(ptext.tokens(text), M.model, list)
  return list
end

--- pattern, scores, reasons, detail = select(text): the pattern for a task
-- description. scores maps each pattern to its probability; reasons lists
-- the rules that fired as {pattern, weight, rule, cue, negated}, strongest
-- first; detail has margin (best minus runner-up), runner_up, uncertain,
-- rules and learned (each part's totals per pattern) and known (how many
-- of the text's features have learned weights; known_features(text) lists
-- them). Nothing known in the text: the default, uncertain.
function M.select(text)
  if type(text) ~= "string" then
    error(string.format("bad argument #1 to 'select' (string expected, got %s)", type(text)), 2)
  end
  local rule_scores, reasons, toks = M.apply_rules(text)
  local model = M.model
  local learned, known = M.learned(toks, model)
  local scale = model.rule_scale or 1
  local totals, best, top = {}, nil, -math.huge
  for _, p in ipairs(M.PATTERNS) do
    local s = scale * (rule_scores[p] or 0) + learned[p]
    totals[p] = s
    if s > top or (s == top and M.PRIORITY[p] > M.PRIORITY[best]) then
      best, top = p, s
    end
  end
  local sum = 0
  local scores = {}
  for _, p in ipairs(M.PATTERNS) do
    scores[p] = math.exp(totals[p] - top)
    sum = sum + scores[p]
  end
  local second, p2 = nil, -1
  for _, p in ipairs(M.PATTERNS) do
    scores[p] = scores[p] / sum
    if p ~= best and scores[p] > p2 then
      second, p2 = p, scores[p]
    end
  end
  local margin = scores[best] - p2
  if #reasons == 0 and known == 0 then
    best, margin = M.DEFAULT, 0
  end
  for _, p in ipairs(M.PATTERNS) do
    rule_scores[p] = rule_scores[p] or 0
  end
  return best, scores, reasons, { margin = margin, runner_up = second, uncertain = margin < M.UNCERTAIN,
    rules = rule_scores, learned = learned, known = known }
end

-- The project's own rules: .agentflow/patterns.lua in the state directory,
-- a chunk called with this module; it may change M.rules (add, remove,
-- reweigh), M.model or the thresholds, or return a new rules table. A
-- model trained for the project, .agentflow/patterns_model.lua, replaces
-- the shipped one.
local function load_project()
  local dir = core.state_dir()
  if not dir then
    return
  end
  local mpath = dir .. "/patterns_model.lua"
  local f = io.open(mpath, "r")
  if f then
    f:close()
    local chunk, err = loadfile(mpath, "t", {})
    if not chunk then
      error(err, 0)
    end
    M.model = chunk()
    M.project_model = mpath
  end
  local path = dir .. "/patterns.lua"
  f = io.open(path, "r")
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

load_project()

return M
