--- The run journal: one record per step under "RUN_ID/NNNNNN" in the
-- journal database (DESIGN.md, "Two stores, two jobs").
--
-- A step that runs writes `started` before it launches (committed at
-- once) and `completed` (or `failed`) with its result after, committed at
-- the end of the loop turn with the turn's other completions; results
-- larger than 16 KiB go to the blob table. A step answered by the cache is
-- kept as a line "STEP KEY AGENT" in chunks under "RUN_ID/hits/FIRST_STEP"
-- that wait for the next commit: a rerun reproduces it, so it costs a
-- table insert. In-process (lua executor) steps also wait for the next
-- commit: a replay can simply run them again.
local cjson = require "cjson.safe"
local core = require "agentflow.core"
local store = require "agentflow._store"
local util = require "agentflow._util"

local M = {}

local BLOB_MIN = 16 * 1024

local function step_key(run_id, step)
  return string.format("%s/%06d", run_id, step)
end

--- Record that step `step` of agent `agent` (identity `key`) is launching.
function M.started(run_id, step, agent, key, durable, kind)
  local op = { "journal", step_key(run_id, step), cjson.encode({ state = "started", step = step,
    kind = kind or "agent", agent = agent, key = key, started_at = core.now() }) }
  if durable then
    store.commit({ op })
  else
    store.later(op)
  end
end

-- The result as the journal keeps it; a large output goes to the blobs.
local function stored_result(r, ops)
  local out = cjson.encode(r.output == nil and cjson.null or r.output)
  local res = { status = r.status, summary = r.summary, metrics = r.metrics, cost_usd = r.cost_usd,
    tokens = r.tokens, attempts = r.attempts, duration = r.duration, error = r.error,
    reason = r.reason, fallback = r.fallback }
  if out and #out >= BLOB_MIN then
    res.output_blob = core.hash(out)
    ops[#ops + 1] = { "blobs", res.output_blob, out }
  elseif out then
    res.output = r.output
  end
  return res
end

--- Record the end of a step that ran: `rec` holds run_id, step, kind
-- ("agent", "exec"), agent, status, key, lineage (for `why`), error,
-- started_at, finished_at; `r` is its result. The record also gets the
-- step's place in completion order (done_seq).
-- With `durable` (the step had effects outside agentflow), committed at
-- the end of this loop turn, together with the other completions of the
-- turn; otherwise it waits for the next commit.
local completions = 0
local flush_pending = false

-- Commit at the end of this loop turn: completions that land in the same
-- turn (parallel branches) share one commit.
local function commit_this_turn()
  if flush_pending then
    return
  end
  flush_pending = true
  core.spawn(function()
    core.sleep(0)
    flush_pending = false
    store.flush()
  end)
end

function M.step(rec, r, durable)
  local ops = {}
  completions = completions + 1
  rec.done_seq = completions -- the order steps finished in (parallel ones differ from start order)
  rec.kind = rec.kind or "agent"
  rec.state = r.status == "failed" and "failed" or "completed"
  rec.result = stored_result(r, ops)
  local raw = cjson.encode(rec)
  if not raw then -- an output JSON cannot hold: keep the record without it
    rec.result.output = nil
    raw = cjson.encode(rec)
  end
  ops[#ops + 1] = { "journal", step_key(rec.run_id, rec.step), raw }
  for _, op in ipairs(ops) do
    store.later(op)
  end
  if durable then
    commit_this_turn()
  end
end

--- The result record kept in journal record `rec` (output from the blobs).
function M.result_of(rec)
  local r = rec.result or {}
  if r.output_blob then
    local raw = store.get():get("blobs", r.output_blob)
    r.output = raw and cjson.decode(raw)
    r.output_blob = nil
  end
  if r.output == cjson.null then
    r.output = nil
  end
  util.integers(r, { "attempts" })
  if type(r.tokens) == "table" then
    util.integers(r.tokens, { "input", "output" })
  end
  if rec.kind == "exec" and type(r.output) == "table" then
    util.integers(r.output, { "code", "signal", "pid" })
  end
  return r
end

-- Steps answered by the cache, kept as lines "STEP KEY AGENT" in a C
-- buffer and written in chunks named after their first step.
local hits, hits_run = core.lines(), nil

--- Hit lines per chunk.
M.HIT_CHUNK = 4096

--- Write the hit lines gathered so far as one chunk.
function M.write_hits()
  if hits:count() > 0 then
    local text = hits:take()
    store.later({ "journal", string.format("%s/hits/%06d", hits_run, tonumber(text:match("^%d+"))),
      text })
  end
end

--- The buffer of run `run_id`'s hit lines, for a caller that adds them
-- itself (core.hit_recorder) and calls M.write_hits when it holds
-- M.HIT_CHUNK lines; the rest is written when the run finishes.
function M.hit_lines(run_id)
  if not hits_run then
    require("agentflow._run").on_finish(function()
      M.write_hits()
      store.flush()
    end)
  end
  hits_run = run_id
  return hits
end

--- Record a step answered by the cache entry `key`.
function M.hit(run_id, step, agent, key)
  if M.hit_lines(run_id):add(step, key, agent) >= M.HIT_CHUNK then
    M.write_hits()
  end
end

local function hit_record(run_id, step, key, agent)
  return { run_id = run_id, step = tonumber(step), agent = agent, key = key, cached = true,
    state = "completed", status = "success" }
end

--- Every step record of run `run_id`, in step order.
function M.steps(run_id)
  local s = store.exists() and store.get()
  if not s then
    return {}
  end
  local keys, values = s:scan("journal", run_id .. "/")
  local by_step = {}
  for i, k in ipairs(keys) do
    if k:find("/hits/", 1, true) then
      for step, key, agent in values[i]:gmatch("(%d+) (%x+) ([^\n]*)") do
        by_step[tonumber(step)] = hit_record(run_id, step, key, agent)
      end
    elseif not k:find("/checkpoint/", 1, true) then -- checkpoints: M.checkpoints
      local rec = cjson.decode(values[i])
      if type(rec) == "table" and rec.step then
        rec.run_id = run_id
        by_step[rec.step] = rec
      end
    end
  end
  local out = {}
  for _, rec in pairs(by_step) do
    out[#out + 1] = rec
  end
  table.sort(out, function(a, b) return a.step < b.step end)
  return out
end

local function find_hit(s, run_id, step)
  local _, chunks = s:scan("journal", run_id .. "/hits/")
  for _, chunk in ipairs(chunks) do
    local key, agent = chunk:match("%f[^\n%z]" .. step .. " (%x+) ([^\n]*)")
    if key then
      return hit_record(run_id, step, key, agent)
    end
  end
end

--- The record of step `step` of run `run_id`, or nil.
function M.get(run_id, step)
  local s = store.exists() and store.get()
  if not s then
    return nil
  end
  local raw = s:get("journal", step_key(run_id, step))
  if raw then
    local rec = cjson.decode(raw)
    if type(rec) == "table" then
      rec.run_id = run_id
    end
    return rec
  end
  return find_hit(s, run_id, step)
end

--- Record checkpoint `label` of run `run_id` at step `step` (the last
-- step begun), committed with the next write.
local checkpoint_seq = 0

function M.checkpoint(run_id, label, step)
  checkpoint_seq = checkpoint_seq + 1
  store.later({ "journal", run_id .. "/checkpoint/" .. label,
    cjson.encode({ label = label, step = step, seq = checkpoint_seq, at = core.now() }) })
end

--- The checkpoints of run `run_id`, in step order: {label, step, at}.
function M.checkpoints(run_id)
  local s = store.exists() and store.get()
  if not s then
    return {}
  end
  local _, values = s:scan("journal", run_id .. "/checkpoint/")
  local out = {}
  for _, v in ipairs(values) do
    out[#out + 1] = cjson.decode(v)
  end
  table.sort(out, function(a, b) return a.step < b.step or (a.step == b.step and a.seq < b.seq) end)
  return out
end

return M
