--- af.agent: one agent call. Concurrency limits and staggered starts,
-- attempts with exponential backoff, the fallback agent, and what a failure
-- means for the run (critical: the run fails; otherwise it goes on degraded).
local core = require "agentflow.core"
local agents = require "agentflow.agents"
local cache = require "agentflow._cache"
local edits = require "agentflow._edits"
local exec = require "agentflow._exec"
local executors = require "agentflow.executors"
local files = require "agentflow._files"
local log = require "agentflow.log"
local plan = require "agentflow._plan"
local replay = require "agentflow._replay"
local run = require "agentflow._run"
local step = require "agentflow._step"
local steps = require "agentflow._steps"
local sem = require "agentflow._sem"
local store = require "agentflow._store"
local util = require "agentflow._util"

local M = {}

--- Defaults when neither the agent nor the call says otherwise. The retry
-- policy is the seed's: 3 retries, backoff doubling from 1 s up to 30 s.
M.DEFAULTS = { retries = 3, backoff = 1, backoff_max = 30, critical = true, throttle_backoff = 5 }

local settings = { executors = {} } -- af.configure
local agent_sems, executor_sems = {}, {} -- name -> semaphore
local next_start = {}                  -- "agent:NAME" / "executor:NAME" -> earliest next start

-- Reasons a retry cannot help: the program is missing, the task cannot be
-- sent, or the program answers nonsense or more than max_output.
local HOPELESS = { not_found = true, invalid_input = true, invalid_output = true,
  output_truncated = true }

--- The default retry_on: retry failures that another attempt may cure.
function M.retryable(result)
  return result.status == "failed" and not HOPELESS[result.reason]
end

-- Failures from a provider that is busy: they get their own, longer backoff.
local THROTTLED = { rate_limited = true, overloaded = true }

--- The pause before attempt n+1 after result `r`: exponential from
-- `backoff` (from `throttle_backoff`, at least 60 s cap, when the provider
-- said 429 or 529), capped at `backoff_max`, with jitter (50-100 %) so
-- that parallel branches that failed together do not retry together.
function M.backoff_delay(def, n, r)
  local base = def.backoff or M.DEFAULTS.backoff
  local cap = def.backoff_max or M.DEFAULTS.backoff_max
  if r and THROTTLED[r.reason] then
    base = def.throttle_backoff or M.DEFAULTS.throttle_backoff
    cap = math.max(cap, 60)
  end
  return math.min(cap, base * 2 ^ (n - 1)) * (0.5 + math.random() * 0.5)
end

-- Spending: the run's and each agent's, against --budget-usd / af.configure
-- {budget_usd = X} and the agents' budget_usd.
local spent = run.state.spent

-- What `def` may still spend (nil: no budget applies).
local function remaining_budget(def)
  local left
  local run_budget = settings.budget_usd or tonumber(core.options.budget_usd)
  if run_budget then
    left = run_budget - spent.total
  end
  if def.budget_usd then
    local agent_left = def.budget_usd - (spent.agents[def.name] or 0)
    left = left and math.min(left, agent_left) or agent_left
  end
  return left
end

local function spend(def, r)
  local cost = tonumber(r.cost_usd) or 0
  spent.total = spent.total + cost
  spent.agents[def.name] = (spent.agents[def.name] or 0) + cost
end

-- A slot of the semaphore of `name` in `sems` (made on first use, resized
-- when the limit has changed); nil without a limit, which costs nothing.
local function slot(sems, name, limit)
  local s = sems[name]
  if not limit and not s then
    return nil
  end
  limit = limit or math.huge
  if not s then
    s = sem.new(limit)
    sems[name] = s
  elseif s.limit ~= limit then
    s:resize(limit)
  end
  return s:acquire()
end

-- Wait out the stagger of `key`: starts at least `gap` seconds apart. The
-- start time is reserved before sleeping, so waiters queue up in order.
local function stagger(key, gap)
  local now = core.monotonic()
  local at = math.max(now, next_start[key] or now)
  next_start[key] = at + gap
  if at > now then
    core.sleep(at - now)
  end
end

-- One attempt: take the agent's and the executor's slots, then run.
local function attempt(call, def)
  local es = settings.executors[def.executor]
  local _ <close> = slot(agent_sems, def.name, def.max_concurrency)
  local _ <close> = slot(executor_sems, def.executor, es and es.max_concurrency)
  if def.stagger then
    stagger("agent:" .. def.name, def.stagger)
  end
  if es and es.stagger then
    stagger("executor:" .. def.executor, es.stagger)
  end
  local budget = remaining_budget(def)
  if budget and budget <= 0 then
    return { status = "skipped", reason = "budget",
      error = string.format("the budget is spent ($%.4f)", spent.total) }
  end
  local r = executors.get(def.executor).run(def, call.task, { timeout = def.timeout, budget_usd = budget })
  if type(r) ~= "table" or type(r.status) ~= "string" then
    return { status = "failed", reason = "invalid_output",
      error = "the executor returned no result record" }
  end
  if type(r.tokens) == "table" then
    -- Executors decode JSON, which gives floats: 125 tokens would be 125.0
    -- in the record, the cache entry, reports and metrics made from it.
    util.integers(r.tokens, { "input", "output" })
  end
  spend(def, r)
  return r
end

-- Attempts of one agent until success or the retry policy says stop.
local function attempts(call, def)
  local retries = def.retries or M.DEFAULTS.retries
  local retry_on = def.retry_on or M.retryable
  local n, r = 0, nil
  repeat
    if n > 0 then
      local delay = M.backoff_delay(def, n, r)
      steps.retrying(def.name, n, delay, r)
      core.sleep(delay)
    end
    n = n + 1
    r = attempt(call, def)
  until r.status ~= "failed" or n > retries or not retry_on(r, n)
  r.attempts = n
  return r
end

-- The result's summary, else the first line of its output (at most 200
-- bytes; found with plain searches: outputs run to megabytes).
local function summary_of(r)
  if type(r.summary) == "string" then
    return r.summary
  end
  local out = r.output
  if type(out) == "string" then
    local start = out:find("%S") or #out + 1
    local stop = out:find("\n", start, true) or #out + 1
    return out:sub(start, math.min(stop - 1, start + 199))
  end
end

-- Fill the fields of DESIGN.md's result record.
local function record(name, run_id, step, r, started)
  r.agent = name
  if type(r.summary) ~= "string" then -- a hit's is stored with it
    r.summary = summary_of(r)
  end
  r.metrics = r.metrics or {}
  r.cached = r.cached or false
  r.duration = core.monotonic() - started
  r.cost_usd = r.cost_usd or 0
  r.tokens = r.tokens or { input = 0, output = 0 }
  r.run_id = run_id
  r.step = step
  return r
end

local labels = {} -- agent name -> 'af.agent "name"', for messages

local NO_OPTIONS = setmetatable({}, { __newindex = function() error("read-only", 2) end })

-- "file:line: " of the line that made the call, for messages.
local function where_of(call)
  if call.line and call.line > 0 then
    return string.format("%s:%d: ", call.src, call.line)
  end
  return ""
end

-- The primary agent, then its fallback chain while they fail.
local function run_chain(call)
  local r = attempts(call, call.def)
  local total, seen, def = r.attempts, { [call.name] = true }, call.def
  while r.status == "failed" and def.fallback and not seen[def.fallback] do
    local failed = r
    seen[def.fallback] = true
    def = agents.merge(assert(agents.get(def.fallback)), call.overrides)
    call.task.agent = def.name
    r = attempts(call, def)
    total = total + r.attempts
    log.write("WARN", "step", "fallback", { agent = call.name, fallback = def.name,
      error = failed.error })
    if r.status == "success" then
      r.status = "degraded"
      r.fallback = def.name
      steps.degrade(string.format("step %d: %s failed (%s); its fallback %s answered",
        call.task.step, call.name, failed.error or failed.reason or "failed", def.name))
    end
  end
  r.attempts = total
  return r
end

-- What a failure after every attempt and fallback means: a non-critical
-- step is skipped and the run degraded; a critical one returns the error
-- that fails the run.
local function settle(call, r)
  if r.status == "skipped" and r.reason == "budget" then
    steps.degrade(string.format("step %d: %s skipped: %s", r.step, call.name, r.error))
  end
  if r.status ~= "failed" then
    return nil
  end
  local critical = call.def.critical
  if critical == nil then
    critical = M.DEFAULTS.critical
  end
  if not critical then
    r.status = "skipped"
    steps.degrade(string.format("step %d: %s failed and was skipped (critical = false): %s",
      r.step, call.name, r.error or r.reason or "failed"))
    return nil
  end
  local message = string.format("%sstep %d (%s) failed: %s", where_of(call), r.step, call.name,
    r.error or r.reason or "failed")
  log.write("ERROR", "step", "critical step failed", { step = r.step, agent = call.name,
    reason = r.reason, error = r.error })
  return util.exit_error(1, message, { result = r })
end

--- Check an agent call and return what `run` needs. Raises at the API
-- caller (`level` as in util.fail) for an unknown agent, an unknown
-- fallback, or options of the wrong type.
function M.prepare(level, name, opts)
  if type(name) ~= "string" then
    util.fail(level + 1, "bad argument #1 to 'af.agent' (agent name expected, got %s)",
      util.typename(name))
  end
  if opts ~= nil and type(opts) ~= "table" then
    util.fail(level + 1, "bad argument #2 to 'af.agent' (table expected, got %s)", type(opts))
  end
  local base, err = agents.get(name)
  if not base then
    util.fail(level + 1, "%s", err)
  end
  local def = base
  local overrides = NO_OPTIONS
  if opts ~= nil and next(opts) ~= nil then
    local label = labels[name]
    if not label then
      label = string.format("af.agent %q", name)
      labels[name] = label
    end
    agents.check_keys(level + 1, label, opts, base.executor)
    overrides = agents.normalize(level + 1, label, opts)
  end
  def = agents.merge(def, overrides)
  if def.fallback and not agents.get(def.fallback) then
    local _, ferr = agents.get(def.fallback)
    util.fail(level + 1, "agent %q: fallback: %s", name, ferr)
  end
  local src, line = core.caller(level + 2)
  return {
    name = name,
    def = def,
    base = base,
    overrides = overrides,
    src = src,
    line = line or -1,
  }
end

--- A prepared call whose agent gets `input` as params.input (a result
-- record gives its output): how a pipeline stage hands work on. During a
-- plan, an input from a planned step cannot be known.
function M.with_input(call, input)
  local c, def = util.copy(call), util.copy(call.def)
  if type(input) == "table" and input.status ~= nil and input.agent ~= nil then
    if input.status == "planned" then
      c.unknown = string.format("step %d (%s)", input.step or 0, input.agent)
    end
    input = input.output
  end
  def.params = util.copy(def.params or {})
  def.params.input = input
  c.def = def
  return c
end

local function new_task(call, step)
  local def, id = call.def, run.id()
  return {
    agent = call.name,
    prompt = def.prompt or "",
    files = def.files and files.paths(def.files) or {},
    params = def.params or {},
    run_id = id,
    step = step,
  }
end

-- The identity of a call (its cache key and the parts of it), or nil
-- without a store. The journal keys every step by it, cached or not. An
-- unreadable input is an error at the call.
local function identity(call)
  if not store.get() then
    return nil
  end
  call.def_hash = call.def_hash or cache.definition_hash(call.base, call.overrides)
  local ok, c = pcall(cache.prepare, call.def, call.task, call.def_hash)
  if not ok then
    error(string.format("%sagent %s: %s", where_of(call), call.name, tostring(c)), 0)
  end
  return c
end

local inflight = {} -- cache key -> {done = event, result} of a call running now

-- A result from the cache, or from an identical call running now. `known`
-- is what the quick path (quick_hit) found for the same key, if it looked.
local function cached_result(c, known)
  local running = inflight[c.key]
  if running then
    running.done:wait()
    if running.result then
      local r = util.copy(running.result)
      r.cached, r.attempts, r.cost_usd = true, 0, 0
      return r
    end
  end
  if core.options.no_cache or (known and known.key == c.key and not running) then
    return nil
  end
  return (cache.hit(c.agent, c.key))
end

-- Run the agent (and its fallbacks) with `c`, the cache identity, marking
-- the call in flight so that an identical one waits for it.
local function run_and_store(call, c, ws)
  local running
  if c then
    running = { done = core.event() }
    inflight[c.key] = running
  end
  call.task.idempotency_key = call.task.run_id .. ":" .. call.sid
  local ok, r = pcall(function()
    local _ <close> = call.slot and exec.journal_spawns(call.task.run_id, call.slot)
    local r = run_chain(call)
    if ws and r.status == "success" then
      r.patch = edits.capture(ws)
    end
    return r
  end)
  if running then
    inflight[c.key] = nil
    running.result = ok and r.status == "success" and r or nil
    running.done:set()
  end
  if not ok then
    error(r, 0)
  end
  if c and r.status == "success" then
    r.summary = summary_of(r) -- stored with the entry, so that a hit need not find it
    local stored, why = cache.put(c, r)
    if not stored then
      run.warn("step %d: %s: not cached: %s", call.task.step, call.name, why)
    end
  elseif c then
    cache.remember(c)
  end
  return r
end

-- Whether a step of `def` is committed as it goes (see _journal.lua): all
-- but in-process ones.
local function durable(def)
  return def.executor ~= "lua"
end

-- The apply mode of `def` (edits = true): "auto" (the default), "manual"
-- or false. Raises for another value.
local function apply_mode(def)
  local mode = def.apply
  if mode == nil then
    return "auto"
  end
  if mode ~= "auto" and mode ~= "manual" and mode ~= false then
    error(util.exit_error(65, string.format(
      "agent %s: apply must be \"auto\", \"manual\" or false, not %s", def.name, tostring(mode))), 0)
  end
  return mode
end

-- Run call `call` of an editing agent (edits = true) in a workspace of
-- its own, its changes captured as the result's patch (_edits.lua).
local function run_in_workspace(call, cacheable)
  local ws = edits.workspace(call.task.run_id, call.sid)
  local def, inside = call.def, {}
  for k, v in pairs(def) do
    inside[k] = v
  end
  -- the agent's directory, in the workspace
  inside.cwd = type(def.cwd) == "string" and def.cwd:sub(1, 1) ~= "/" and ws.cwd .. "/" .. def.cwd or ws.cwd
  call.def = inside
  call.task.cwd = inside.cwd -- where an in-process agent must write: it shares the process's directory
  local ok, r = pcall(run_and_store, call, cacheable, ws)
  call.def = def
  edits.remove(ws)
  if not ok then
    error(r, 0)
  end
  return r
end

-- Apply the patch of result `r` of step `step` in step order; a patch that
-- does not apply fails the step, naming the paths.
local function apply_patch(call, r, step)
  if not (r.patch and r.status == "success" and not r.replayed and apply_mode(call.def) == "auto") then
    return
  end
  local ok, err = edits.in_order(step, function() return edits.apply(r.patch) end)
  if not ok then
    r.status, r.reason, r.error = "failed", "patch_conflict", err
  end
end

-- The step of prepared call `call` (which this modifies), as _step.lua
-- runs it.
local function agent_step(call)
  local id, cacheable -- the cache identity; it again when the cache may answer and keep the result
  return {
    name = call.name, kind = "agent", executor = call.def.executor, prompt = call.def.prompt or "",
    when = durable(call.def) and "now" or "later", durable = durable(call.def),
    key = function(step, sid)
      call.sid = sid
      call.task = new_task(call, step)
      if call.def.edits and not plan.active() then
        apply_mode(call.def)
        edits.expect(step)
      end
      id = identity(call)
      cacheable = id and call.def.cache ~= false and id or nil
      return id and id.key, id
    end,
    plan = function(step, c)
      return plan.step(call.name, step, call.def.cache ~= false, c, call.unknown)
    end,
    lookup = function()
      return cacheable and cached_result(cacheable, call.known)
    end,
    run = function(slot)
      call.slot = slot
      if call.def.edits then
        return run_in_workspace(call, cacheable)
      end
      return run_and_store(call, cacheable)
    end,
    finish = function(r, step, started)
      record(call.name, call.task.run_id, step, r, started)
      r.key = id and id.key
      if call.def.edits then
        apply_patch(call, r, step)
      end
      return settle(call, r)
    end,
    ended = function(step)
      if call.def.edits then
        edits.done(step)
      end
    end,
    record = function(rec, r, c)
      rec.lineage_p, rec.lineage_a = c.lineage_p, c.lineage_a
      rec.stored = call.def.cache ~= false and r.status == "success"
    end,
  }
end

--- Run a prepared call and return its result record (see DESIGN.md). The
-- call can be run again: each run is a new step.
function M.run(call)
  return step.run(agent_step(util.copy(call)))
end

-- Call options a cache hit can be answered with at once: the task's
-- inputs, which change the key but not the definition.
local INPUTS = { prompt = "string", params = "table", files = "table" }

-- Whether the cache may answer calls before they are prepared: it is on,
-- nothing is planned and the run continues no other (a resumed run's
-- steps take their numbers from the journal): fixed for the process.
local early = nil

local function cache_answers_now()
  if early == nil then
    early = not core.options.no_cache and not plan.active() and not replay.resuming()
      and store.get() ~= nil
  end
  return early
end

-- The step of an af.agent call of `def` answered at once (see quick_hit),
-- one per definition: its prompt is set for each call.
local quick_steps = setmetatable({}, { __mode = "k" })

local function quick_step(def)
  local name = def.name
  local k = { name = name, executor = def.executor,
    lookup = function(key) return cache.hit(name, key) end,
    finish = function(r, step, started) record(name, run.id(), step, r, started) end }
  quick_steps[def] = k
  return k
end

-- af.agent answered by the cache without preparing the call: when the
-- agent is cacheable, the options are only task inputs, nothing is
-- replayed or planned, no identical call is in flight, and it is not the
-- run's first step (which records the run's start first). The hit is the
-- full path's (cache.hit, record, journal.hit, a step's end), without
-- copying the definition. Returns the result record; else nil and, when
-- it looked the key up, the key and why it missed (so that the full path
-- does not look again). Computing the key may fail: the full path then
-- reports why.
local function quick_hit(name, opts)
  local def = type(name) == "string" and agents.get(name)
  if not def or def.cache == false or def.edits or not cache_answers_now()
      or (def.fallback and not agents.get(def.fallback))
      or (opts ~= nil and (type(opts) ~= "table" or not core.has_only(opts, INPUTS))) then
    return nil
  end
  local o = opts or NO_OPTIONS
  local prompt = o.prompt or def.prompt or ""
  local params, patterns = o.params or def.params or NO_OPTIONS, o.files or def.files or NO_OPTIONS
  local ok, key = pcall(cache.quick_key, def, prompt, params, patterns)
  if ok and not key then
    ok, key = pcall(cache.key, def, cache.definition_hash(def, o), prompt, params, patterns)
  end
  if not ok or inflight[key] then
    return nil
  end
  local k = quick_steps[def] or quick_step(def)
  k.prompt = prompt -- read before anything yields
  local r, why = step.at_once(k, key)
  if not r then
    return nil, why and key, why
  end
  return r
end

--- af.agent(name, opts)
function M.agent(name, opts)
  local r, key, why = quick_hit(name, opts)
  if r then
    return r
  end
  local call = M.prepare(1, name, opts)
  call.known = key and { key = key, why = why }
  return step.run(agent_step(call))
end

--- af.configure{jobs = N, configs = {paths}, executors = {NAME = {max_concurrency = N, stagger = "1s"}}}
function M.configure(opts)
  local fname = "af.configure"
  if type(opts) ~= "table" then
    util.fail(1, "bad argument #1 to '%s' (table expected, got %s)", fname, util.typename(opts))
  end
  if opts.redact ~= nil then
    util.check(1, fname, "redact", opts.redact, "table")
    for i, p in ipairs(opts.redact) do
      if type(p) ~= "string" or not pcall(string.find, "", p) then
        util.fail(1, "%s: redact[%d] must be a Lua pattern", fname, i)
      end
    end
    log.redact(opts.redact)
  end
  if opts.budget_usd ~= nil then
    util.check(1, fname, "budget_usd", opts.budget_usd, "number")
    settings.budget_usd = opts.budget_usd
  end
  if opts.configs ~= nil then
    util.check(1, fname, "configs", opts.configs, "table")
    local bad = files.check(opts.configs, "configs")
    if bad then
      util.fail(1, "%s: %s", fname, bad)
    end
    cache.set_configs(opts.configs)
  end
  if opts.jobs ~= nil then
    if math.type(opts.jobs) ~= "integer" or opts.jobs < 1 then
      util.fail(1, "%s: jobs must be a whole number >= 1", fname)
    end
    exec.set_jobs(opts.jobs)
  end
  util.check(1, fname, "executors", opts.executors, "table", true)
  for name, e in pairs(opts.executors or {}) do
    local where = string.format("%s: executors.%s", fname, tostring(name))
    util.check(1, fname, "executors." .. tostring(name), e, "table")
    util.check(1, where, "max_concurrency", e.max_concurrency, "number", true)
    if e.max_concurrency and e.max_concurrency < 1 then
      util.fail(1, "%s: max_concurrency must be at least 1", where)
    end
    settings.executors[name] = {
      max_concurrency = e.max_concurrency,
      stagger = util.duration(1, where, "stagger", e.stagger),
    }
  end
end

return M
