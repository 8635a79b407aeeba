--- The orchestration patterns (_patterns.lua lists them) and
-- af.orchestrate, which applies one by name.
--
-- A step is a function or an agent spec: a table with `agent` and the
-- options of af.agent ({agent = "linter", prompt = "..."}). Specs are
-- checked when the pattern is called, so a misspelt agent fails at the
-- caller's line before anything runs.
local agent = require "agentflow._agent"
local core = require "agentflow.core"
local group = require "agentflow._group"
local ident = require "agentflow._ident"
local log = require "agentflow.log"
local patterns = require "agentflow.patterns"
local plan = require "agentflow._plan"
local progress = require "agentflow._progress"
local registry = require "agentflow._patterns"
local run = require "agentflow._run"
local runsteps = require "agentflow._steps"
local util = require "agentflow._util"

local M = {}

--- Automatic checkpoints (as the seed had them): a sequence every this
-- many steps; a parallel batch when it is done; an iteration; a stage.
M.CHECKPOINT_EVERY = 3

-- A function that runs step `s`; `input_key` names the param that carries
-- a value handed to an agent spec (the pipeline's input).
local function runner(level, fname, s, where)
  if type(s) == "function" then
    return s
  end
  if type(s) ~= "table" or type(s.agent) ~= "string" then
    util.fail(level + 1, "%s: %s must be a function or an agent spec {agent = \"name\", ...}, not %s",
      fname, where, type(s) == "table" and "a table without agent" or util.typename(s))
  end
  local opts = util.copy(s)
  opts.agent = nil
  local call = agent.prepare(level + 1, s.agent, opts)
  return function(input)
    local c = call
    if input ~= nil then
      c = agent.with_input(call, input)
    end
    local r = agent.run(c)
    return r
  end
end

local function runners(level, fname, steps)
  if type(steps) ~= "table" then
    util.fail(level + 1, "bad argument #1 to '%s' (table of steps expected, got %s)",
      fname, util.typename(steps))
  end
  local rs = {}
  for i = 1, #steps do
    rs[i] = runner(level + 1, fname, steps[i], "step " .. i)
  end
  return rs
end

local function options(level, fname, opts, argn)
  if opts ~= nil and type(opts) ~= "table" then
    util.fail(level + 1, "bad argument #%d to '%s' (table expected, got %s)", argn, fname, type(opts))
  end
  return opts or {}
end

local function positive(level, fname, field, v, optional)
  if v == nil and optional then
    return nil
  end
  if math.type(v) ~= "integer" or v < 1 then
    util.fail(level + 1, "%s: %s must be a whole number >= 1, not %s", fname, field, tostring(v))
  end
  return v
end

local function is_result(v)
  return type(v) == "table" and type(v.status) == "string" and v.agent ~= nil
end

--- results = af.sequential(steps, opts): each step in turn; a function step
-- is called as step(previous_result, i).
function M.sequential(steps, opts)
  local rs = runners(1, "af.sequential", steps)
  run.note_pattern("sequential")
  options(1, "af.sequential", opts, 2)
  local results, prev = {}, nil
  for i, step in ipairs(rs) do
    if type(steps[i]) == "function" then
      prev = step(prev, i)
    else
      prev = step()
    end
    results[i] = prev
    if i % M.CHECKPOINT_EVERY == 0 then
      runsteps.checkpoint(nil, "sequential")
    end
  end
  return results
end

-- Run body(i) for i = 1..count on at most `max` branches at once; item i
-- in the identity scope "CALL.i" (see _ident.lua), whichever worker runs it.
local function pool(count, max, body)
  local g, next_i, call = group.new(), 0, ident.next()
  local function worker()
    while not g:stopping() do
      next_i = next_i + 1
      local i = next_i
      if i > count then
        return
      end
      ident.within(call .. "." .. i, body, i)
    end
  end
  for _ = 1, math.min(max, count) do
    g:spawn(worker)
  end
  g:wait()
end

--- results = af.parallel(steps, {max = N}): the steps at once, at most
-- `max` at a time; a function step is called as step(i). Results are in
-- input order. The first error cancels the other steps and is raised.
function M.parallel(steps, opts)
  local fname = "af.parallel"
  local rs = runners(1, fname, steps)
  opts = options(1, fname, opts, 2)
  local max = positive(1, fname, "max", opts.max, true) or #rs
  run.note_pattern("parallel")
  local results = {}
  pool(#rs, max, function(i)
    if type(steps[i]) == "function" then
      results[i] = rs[i](i)
    else
      results[i] = rs[i]()
    end
  end)
  runsteps.checkpoint(nil, "parallel")
  return results
end

-- Whether a condition holds: a result record holds when it succeeded.
local function holds(v)
  if is_result(v) then
    return v.status == "success"
  end
  return v and true or false
end

--- result = af.conditional(predicate, then_step, else_step): predicate is a
-- function (called), an agent spec (run), a result record (success holds)
-- or any other value (its truth).
function M.conditional(predicate, then_step, else_step)
  local fname = "af.conditional"
  run.note_pattern("conditional")
  local yes = then_step ~= nil and runner(1, fname, then_step, "then_step")
  local no = else_step ~= nil and runner(1, fname, else_step, "else_step")
  if type(predicate) == "table" and type(predicate.agent) == "string" and predicate.status == nil then
    predicate = runner(1, fname, predicate, "predicate")
  end
  if type(predicate) == "function" then
    predicate = predicate()
  end
  if is_result(predicate) and predicate.status == "planned" then
    plan.unknown_branch("af.conditional", predicate)
    return predicate
  end
  local chosen = no
  if holds(predicate) then
    chosen = yes
  end
  if chosen then
    local r = chosen()
    return r
  end
end

--- last, iterations = af.iterative({max = N, stop = fn(result, i)}, step):
-- step(i, previous) until stop says so or max iterations have run.
function M.iterative(opts, step)
  local fname = "af.iterative"
  if type(opts) ~= "table" then
    util.fail(1, "bad argument #1 to '%s' (table {max = N, stop = fn} expected, got %s)",
      fname, util.typename(opts))
  end
  local max = positive(1, fname, "max", opts.max)
  util.check(1, fname, "stop", opts.stop, "function", true)
  local body = runner(1, fname, step, "step")
  run.note_pattern("iterative")
  local last, i = nil, 0
  while i < max do
    i = i + 1
    if type(step) == "function" then
      last = body(i, last)
    else
      last = body()
    end
    runsteps.checkpoint(nil, "iterative")
    if opts.stop and opts.stop(last, i) then
      break
    end
  end
  return last, i
end

-- A queue of item numbers between two pipeline stages.
local function channel()
  return { items = {}, head = 1, closed = false, waiters = {} }
end

local function wake(ch)
  local waiters = ch.waiters
  ch.waiters = {}
  for _, ev in ipairs(waiters) do
    ev:set()
  end
end

local function push(ch, i)
  ch.items[#ch.items + 1] = i
  wake(ch)
end

local function close(ch)
  ch.closed = true
  wake(ch)
end

-- The next item number, waiting for one; nil once the channel is closed
-- and empty.
local function pop(ch)
  while ch.head > #ch.items do
    if ch.closed then
      return nil
    end
    local ev = core.event()
    ch.waiters[#ch.waiters + 1] = ev
    ev:wait()
  end
  local i = ch.items[ch.head]
  ch.head = ch.head + 1
  return i
end

-- A pipeline stage: a function, an agent spec, or {fn | agent spec, max = k}.
local function stage_of(level, fname, s, k, default_max)
  local where = "stage " .. k
  if type(s) == "table" and s.agent == nil and (s[1] ~= nil or s.max ~= nil) then
    local max = positive(level + 1, fname, where .. ".max", s.max, true)
    return { run = runner(level + 1, fname, s[1], where), max = max or default_max }
  end
  return { run = runner(level + 1, fname, s, where), max = default_max }
end

-- Whether an item ends early: a stage's failed or skipped agent result.
local function stops_item(v)
  return is_result(v) and (v.status == "failed" or v.status == "skipped")
end

--- outputs = af.pipeline(stages, input, {max = k}): every item of `input`
-- (a list; any other value is one item) flows through the stages in order,
-- each stage receiving the previous stage's output (an agent stage gets it
-- as params.input, a result record as its output). Items move
-- independently: item 2 can be in stage 1 while item 1 is in stage 2. Each
-- stage runs at most `max` items at once (default 1; per stage with
-- {fn, max = k}). Outputs are in input order.
function M.pipeline(stages, input, opts)
  local fname = "af.pipeline"
  if type(stages) ~= "table" or #stages == 0 then
    util.fail(1, "bad argument #1 to '%s' (a non-empty list of stages expected, got %s)",
      fname, util.typename(stages))
  end
  opts = options(1, fname, opts, 3)
  local default_max = positive(1, fname, "max", opts.max, true) or 1
  run.note_pattern("pipeline")
  local ss = {}
  for k, s in ipairs(stages) do
    ss[k] = stage_of(1, fname, s, k, default_max)
  end
  local single = type(input) ~= "table" or is_result(input)
  local values = single and { input } or util.copy(input)
  local n = single and 1 or #values
  local chans = {}
  for k = 1, #ss + 1 do
    chans[k] = channel()
  end
  for i = 1, n do
    push(chans[1], i)
  end
  close(chans[1])
  local g, call = group.new(), ident.next()
  for k, s in ipairs(ss) do
    local live = s.max
    local function worker()
      for i in pop, chans[k] do
        if g:stopping() then
          break
        end
        values[i] = ident.within(call .. "." .. k .. "." .. i, s.run, values[i], i)
        if not stops_item(values[i]) then
          push(chans[k + 1], i)
        end
      end
      live = live - 1
      if live == 0 then
        close(chans[k + 1])
        if not g:stopping() then
          runsteps.checkpoint(nil, "pipeline")
        end
      end
    end
    for _ = 1, s.max do
      g:spawn(worker)
    end
  end
  g:wait()
  return single and values[1] or values
end

-- How af.orchestrate applies each pattern of _patterns.lua to its fields.
local PATTERNS = {
  sequential = function(o)
    return M.sequential(o.steps)
  end,
  parallel = function(o)
    return M.parallel(o.steps, { max = o.max })
  end,
  conditional = function(o)
    if o.condition ~= nil then
      return M.conditional(o.condition, o.steps[1], o.steps[2])
    end
    return M.conditional(o.steps[1], o.steps[2], o.steps[3])
  end,
  iterative = function(o)
    local stop = o.stop or function(results)
      return holds(results[#results])
    end
    return M.iterative({ max = o.max or 3, stop = stop }, function()
      return M.sequential(o.steps)
    end)
  end,
  pipeline = function(o)
    return M.pipeline(o.steps, o.input, { max = o.max })
  end,
}

M.PATTERN_NAMES = registry.NAMES

--- results, pattern = af.orchestrate{description, steps, pattern, max,
-- stop, condition, input, if_uncertain}: the named pattern applied to the
-- steps; without a pattern, pattern selection (agentflow.patterns) picks
-- one from the description, and when its margin is below
-- patterns.UNCERTAIN says so, or fails if if_uncertain (default
-- patterns.IF_UNCERTAIN) is "fail". See the README for how each pattern
-- uses the fields.
function M.orchestrate(o)
  local fname = "af.orchestrate"
  if type(o) ~= "table" then
    util.fail(1, "bad argument #1 to '%s' (table expected, got %s)", fname, util.typename(o))
  end
  util.check(1, fname, "steps", o.steps, "table")
  util.check(1, fname, "description", o.description, "string", true)
  local pattern = util.check(1, fname, "pattern", o.pattern, "string", true)
  if not pattern then
    if not o.description then
      util.fail(1, "%s: give a pattern or a description to choose one from", fname)
    end
    local if_uncertain = util.check(1, fname, "if_uncertain", o.if_uncertain, "string", true)
      or patterns.IF_UNCERTAIN
    if if_uncertain ~= "guess" and if_uncertain ~= "fail" then
      util.fail(1, "%s: if_uncertain must be \"guess\" or \"fail\", not %q", fname, if_uncertain)
    end
    local chosen, scores, reasons, d = patterns.select(o.description)
    pattern = chosen
    local cues = {}
    for i = 1, math.min(3, #reasons) do
      cues[i] = string.format("%s \"%s\" +%.1f", reasons[i].pattern, reasons[i].cue, reasons[i].weight)
    end
    local why = #cues > 0 and table.concat(cues, ", ") or "no rule fired"
    local doubt = d.uncertain and string.format("uncertain: %s %.2f against %s %.2f, margin %.2f below %.2f",
      pattern, scores[pattern], d.runner_up, scores[d.runner_up], d.margin, patterns.UNCERTAIN)
    if doubt and if_uncertain == "fail" then
      util.fail(1, "%s: the pattern for %q is %s; name one with pattern = \"...\"", fname, o.description, doubt)
    end
    progress.message(string.format("af.orchestrate: pattern %s for %q (%s)%s",
      pattern, o.description, why, doubt and "; " .. doubt .. ", guessing" or ""))
    log.write(doubt and "WARN" or "INFO", "patterns", "pattern chosen", { pattern = pattern,
      description = o.description, reasons = why, margin = d.margin, uncertain = d.uncertain })
  end
  local apply = PATTERNS[pattern]
  if not apply then
    local near = util.closest(pattern, M.PATTERN_NAMES)
    util.fail(1, "%s: unknown pattern %q%s", fname, pattern,
      near and string.format(" (did you mean %q?)", near) or "")
  end
  for i, s in ipairs(o.steps) do
    runner(1, fname, s, "step " .. i)
  end
  run.note_pattern(pattern)
  local results = apply(o)
  return results, pattern
end

return M
