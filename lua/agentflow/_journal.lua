--- The run journal (DESIGN.md, "Two stores, two jobs"): one record per
-- step under "RUN_ID/s/SID" in the journal database, SID being the step's
-- stable identity (_ident.lua), so that a resumed run whose branches start
-- in another order finds each step's own record.
--
-- A step that runs writes `started` as it launches, with its process group
-- once spawned (a process step: in the same commit), then `completed` (or
-- `failed`) with its result; each is committed before the step goes on, so
-- a step the workflow has seen finish never runs again, and a resume can
-- end the processes a killed run left behind. In-process (lua executor)
-- steps are the exception: their records wait for the next commit, so a
-- crash may make the last of them run again (they reach the world only
-- through af.exec, whose steps are journaled on their own). Results
-- larger than 16 KiB go to the blob table. A step answered by the cache is
-- kept as a line "STEP SID KEY AGENT" in chunks under
-- "RUN_ID/hits/ATTEMPT/FIRST_STEP" that wait for the next commit: a rerun
-- reproduces it, so it costs a table insert.
--
-- A finished record is never overwritten: a step that differs from it (the
-- workflow changed between attempts) is written under "SID~ATTEMPT", and
-- the record of the latest attempt counts.
local cjson = require "cjson.safe"
local core = require "agentflow.core"
local run = require "agentflow._run"
local store = require "agentflow._store"
local util = require "agentflow._util"

local M = {}

local BLOB_MIN = 16 * 1024

--- The key of the record of step identity `slot` (a SID, or "SID~ATTEMPT").
function M.step_key(run_id, slot)
  return run_id .. "/s/" .. slot
end

-- Started records of this process, by slot, until their step ends: the
-- process group is added to them once spawned.
local open = {}

--- Record that step `step` (identity `sid`, written under `slot`) of agent
-- `agent` (cache key `key`) is launching. `when` says when the record is
-- written: "now" (committed at once), "spawn" (committed with its process
-- group once spawned: a process step, whose spawn is its launch), or
-- "later" (with the next commit: an in-process step).
function M.started(run_id, step, sid, slot, agent, key, when, kind, attempt)
  local rec = { state = "started", step = step, sid = sid, kind = kind or "agent", agent = agent,
    key = key, attempt = attempt, started_at = core.now(), durable = when ~= "later" or nil }
  open[run_id .. "\0" .. slot] = rec
  if when == "spawn" then
    return
  end
  local op = { "journal", M.step_key(run_id, slot), cjson.encode(rec) }
  if when == "now" then
    store.commit({ op })
  else
    store.later(op)
  end
end

--- The step written under `slot` started process group `pgid` (started at
-- `pid_start`, core.pid_start's ticks): committed at once, so that a
-- resume can end the group if this process dies with it running.
function M.spawned(run_id, slot, pgid, pid_start)
  local rec = open[run_id .. "\0" .. slot]
  if rec then
    rec.pgid, rec.pid_start = pgid, pid_start
    store.commit({ { "journal", M.step_key(run_id, slot), cjson.encode(rec) } })
  end
end

-- The result as the journal keeps it; a large output goes to the blobs.
local function stored_result(r, ops)
  local out = cjson.encode(r.output == nil and cjson.null or r.output)
  local res = { status = r.status, summary = r.summary, metrics = r.metrics, cost_usd = r.cost_usd,
    tokens = r.tokens, attempts = r.attempts, duration = r.duration, error = r.error,
    reason = r.reason, fallback = r.fallback, patch = r.patch }
  if out and #out >= BLOB_MIN then
    res.output_blob = core.hash(out)
    ops[#ops + 1] = { "blobs", res.output_blob, out }
  elseif out then
    res.output = r.output
  end
  return res
end

local completions = 0

--- Record the end of a step that ran: `rec` holds run_id, step, sid, slot,
-- kind ("agent", "exec"), agent, status, key, attempt, lineage (for
-- `why`), error, started_at, finished_at; `r` is its result. The record
-- also gets the step's place in completion order (done_seq). With
-- `durable` (the step can have effects outside agentflow) it is committed
-- before this returns, so before the workflow sees the result; otherwise
-- it waits for the next commit.
function M.step(rec, r, durable)
  local ops = {}
  completions = completions + 1
  rec.done_seq = completions -- the order steps finished in (parallel ones differ from start order)
  rec.kind = rec.kind or "agent"
  rec.state = r.status == "failed" and "failed" or "completed"
  rec.result = stored_result(r, ops)
  local slot = rec.slot
  rec.slot = nil
  open[rec.run_id .. "\0" .. slot] = nil
  local raw = cjson.encode(rec)
  if not raw then -- an output JSON cannot hold: keep the record without it
    rec.result.output = nil
    raw = cjson.encode(rec)
  end
  ops[#ops + 1] = { "journal", M.step_key(rec.run_id, slot), raw }
  if durable then
    store.commit(ops)
  else
    for _, op in ipairs(ops) do
      store.later(op)
    end
  end
end

--- Copy record `rec` of another run (a fork's source) into run `run_id`,
-- with the next commit: the fork then holds every step it replayed.
function M.copy(run_id, rec)
  local copy = util.copy(rec)
  copy.run_id = nil
  copy.attempt = nil
  store.later({ "journal", M.step_key(run_id, rec.sid), cjson.encode(copy) })
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

-- Steps answered by the cache, kept as lines "STEP SID KEY AGENT" in a C
-- buffer and written in chunks named after the attempt and their first step.
local hits, hits_run, hits_attempt = core.lines(), nil, 0

--- Hit lines per chunk.
M.HIT_CHUNK = 4096

--- Write the hit lines gathered so far as one chunk.
function M.write_hits()
  if hits:count() > 0 then
    local text = hits:take()
    store.later({ "journal", string.format("%s/hits/%d/%06d", hits_run, hits_attempt,
      tonumber(text:match("^%d+"))), text })
  end
end

--- The buffer of hit lines of attempt `attempt` (0 for the first, then
-- one per resume) of run `run_id`, for a caller that adds them itself
-- (core.hit_recorder) and calls M.write_hits when it holds M.HIT_CHUNK
-- lines; the rest is written when the run finishes.
function M.hit_lines(run_id, attempt)
  if not hits_run then
    run.on_finish(function()
      M.write_hits()
      store.flush()
    end)
  end
  hits_run, hits_attempt = run_id, attempt or 0
  return hits
end

--- Record step `step` (identity `sid`) answered by the cache entry `key`.
function M.hit(run_id, attempt, step, sid, agent, key)
  if M.hit_lines(run_id, attempt):add(step, sid, key, agent) >= M.HIT_CHUNK then
    M.write_hits()
  end
end

-- Keep `rec` as its step's record unless one of a later attempt is there.
local function keep(by_sid, rec)
  local had = by_sid[rec.sid]
  if not had or (rec.attempt or 0) >= (had.attempt or 0) then
    by_sid[rec.sid] = rec
  end
end

local function add_hits(by_sid, run_id, attempt, chunk)
  for step, sid, key, agent in chunk:gmatch("(%d+) (%S+) (%x+) ([^\n]*)") do
    keep(by_sid, { run_id = run_id, step = tonumber(step), sid = sid, agent = agent, key = key,
      cached = true, state = "completed", status = "success", attempt = attempt })
  end
end

--- The record of each step identity of run `run_id` (the latest attempt's).
function M.by_sid(run_id)
  local s = store.exists() and store.get()
  local by_sid = {}
  if not s then
    return by_sid
  end
  local keys, values = s:scan("journal", run_id .. "/hits/")
  for i, k in ipairs(keys) do
    add_hits(by_sid, run_id, tonumber(k:match("/hits/(%d+)/")), values[i])
  end
  _, values = s:scan("journal", run_id .. "/s/")
  for _, raw in ipairs(values) do
    local rec = cjson.decode(raw)
    if type(rec) == "table" and rec.sid then
      rec.run_id = run_id
      keep(by_sid, rec)
    end
  end
  return by_sid
end

--- Every step record of run `run_id` (the latest of each step), in step order.
function M.steps(run_id)
  local out = {}
  for _, rec in pairs(M.by_sid(run_id)) do
    out[#out + 1] = rec
  end
  table.sort(out, function(a, b) return a.step < b.step end)
  return out
end

--- The record of step number `step` of run `run_id`, or nil.
function M.get(run_id, step)
  for _, rec in pairs(M.by_sid(run_id)) do
    if rec.step == step then
      return rec
    end
  end
end

-- The live process groups that steps of run `run_id` started: those its
-- started records name (recognised by their leader's start time, so that a
-- group id reused by another process is left alone), and those of the
-- processes that carry its AGENTFLOW_RUN_ID (spawned but not yet recorded
-- when the run died, or moved to a group of their own).
local function live_groups(run_id)
  local groups, seen = {}, {}
  for _, rec in pairs(M.by_sid(run_id)) do
    local pgid, start = math.tointeger(rec.pgid), math.tointeger(rec.pid_start)
    if rec.state == "started" and pgid and start and core.group_alive(pgid, start) then
      seen[pgid] = true
      groups[#groups + 1] = pgid
    end
  end
  for _, pgid in ipairs(core.marked_groups("AGENTFLOW_RUN_ID=" .. run_id)) do
    if not seen[pgid] then
      groups[#groups + 1] = pgid
    end
  end
  return groups
end

--- End the process groups that an earlier attempt of run `run_id` left
-- running (its process died with theirs going): SIGTERM, then SIGKILL
-- after `grace` seconds. Returns how many groups were ended.
function M.end_orphans(run_id, grace)
  local groups = live_groups(run_id)
  for _, pgid in ipairs(groups) do
    core.killpg(pgid, "TERM")
  end
  local deadline = core.monotonic() + (grace or 2)
  for _, pgid in ipairs(groups) do
    while core.group_alive(pgid) and core.monotonic() < deadline do
      core.sleep(0.01)
    end
    if core.group_alive(pgid) then
      core.killpg(pgid, "KILL")
    end
  end
  return #groups
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
