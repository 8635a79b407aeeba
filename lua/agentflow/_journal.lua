--- The run journal (DESIGN.md, "Two stores, two jobs"): the Lua face of
-- core/journal.c (core.journal), which owns the records, their format and
-- the journal's databases. One record per step under "RUN_ID/s/SID", SID
-- being the step's stable identity (_ident.lua), so that a resumed run
-- whose branches start in another order finds each step's own record.
--
-- A step that runs writes `started` as it launches, with its process group
-- once spawned (a process step: in the same commit), then `completed` (or
-- `failed`) with its result; each is committed before the step goes on, so
-- a step the workflow has seen finish never runs again, and a resume can
-- end the processes a killed run left behind. In-process (lua executor)
-- steps are the exception: their records wait for the next commit, so a
-- crash may make the last of them run again (they reach the world only
-- through af.exec, whose steps are journaled on their own). A result is
-- kept packed (core.pack); results of 16 KiB or more go to the journal's
-- blob table. A step answered by the cache is kept as a line "STEP SID KEY
-- AGENT" in chunks under "RUN_ID/hits/ATTEMPT/FIRST_STEP" that wait for
-- the next commit: a rerun reproduces it, so it costs a line in a C buffer.
--
-- A finished record is never overwritten: a step that differs from it (the
-- workflow changed between attempts) is written under "SID~ATTEMPT", and
-- the record of the latest attempt counts.
--
-- The journal commits on its own, never in a transaction with the cache.
-- Under `agentflow plan` nothing is written.
local cjson = require "cjson.safe"
local core = require "agentflow.core"
local run = require "agentflow._run"
local store = require "agentflow._store"

local M = {}

local J = nil -- the journal over the store; false when there is no store

local function flush()
  J:flush()
end

local function journal()
  if J == nil then
    local s = store.get()
    J = s and core.journal(s) or false
    if J then
      run.on_finish(flush)
    end
  end
  return J or nil
end

-- The journal to write to: none under `agentflow plan`.
local function writer()
  return not core.options.plan and journal() or nil
end

-- The journal to read, without making a store where there is none.
local function reader()
  return store.exists() and journal() or nil
end

--- The key of the record of step identity `slot` (a SID, or "SID~ATTEMPT").
function M.step_key(run_id, slot)
  return run_id .. "/s/" .. slot
end

-- The fields of a step record that journal.c keeps itself; the others go
-- into its packed `extra`.
local STEP_FIELDS = { run_id = true, slot = true, sid = true, kind = true, agent = true, key = true,
  status = true, state = true, durable = true, step = true, attempt = true, pgid = true,
  pid_start = true, started_at = true, finished_at = true, result = true, extra = true,
  done_seq = true, cached = true }

local RUN_FIELDS = { run_id = true, status = true, host = true, pid = true, pid_start = true,
  started_at = true, finished_at = true }

-- The fields of `rec` not in `known`, packed (nil when there are none).
local function packed_extra(rec, known)
  local extra, any = {}, false
  for k, v in pairs(rec) do
    if not known[k] then
      extra[k], any = v, true
    end
  end
  return any and assert(core.pack(extra)) or nil
end

-- Merge the packed `extra` of a record read back into it.
local function merge_extra(rec)
  local extra = rec.extra and core.unpack(rec.extra)
  rec.extra = nil
  if type(extra) == "table" then
    for k, v in pairs(extra) do
      if rec[k] == nil then
        rec[k] = v
      end
    end
  end
  return rec
end

-- A step record as journal.c gives it, with its result and extra fields unpacked.
local function decoded(rec)
  local result = rec.result and core.unpack(rec.result)
  rec.result = type(result) == "table" and result or nil
  return merge_extra(rec)
end

--- Record that step `step` (identity `sid`, written under `slot`) of agent
-- `agent` (cache key `key`) is launching. `when` says when the record is
-- written: "now" (committed at once), "spawn" (committed with its process
-- group once spawned: a process step, whose spawn is its launch), or
-- "later" (with the next commit: an in-process step).
function M.started(run_id, step, sid, slot, agent, key, when, kind, attempt)
  local j = writer()
  if j then
    j:started({ run_id = run_id, step = step, sid = sid, slot = slot, kind = kind or "agent",
      agent = agent, key = key, attempt = attempt, started_at = core.now(), durable = when ~= "later" },
      when)
  end
end

--- The step written under `slot` started process group `pgid` (started at
-- `pid_start`, core.pid_start's ticks): committed at once, so that a
-- resume can end the group if this process dies with it running.
function M.spawned(run_id, slot, pgid, pid_start)
  local j = writer()
  if j then
    j:spawned(run_id, slot, pgid, pid_start)
  end
end

-- The result `r` as the journal keeps it, packed: without its output when
-- that cannot be packed.
local function packed_result(r)
  local res = { status = r.status, summary = r.summary, metrics = r.metrics, cost_usd = r.cost_usd,
    tokens = r.tokens, attempts = r.attempts, duration = r.duration, error = r.error,
    reason = r.reason, fallback = r.fallback, output = r.output, patch = r.patch }
  local packed = core.pack(res)
  if not packed then
    res.output = nil
    packed = assert(core.pack(res))
  end
  return packed
end

--- Record the end of a step that ran: `rec` holds run_id, step, sid, slot,
-- kind ("agent", "exec"), agent, status, key, attempt, lineage (for
-- `why`), error, started_at, finished_at; `r` is its result. The record
-- also gets the step's place in completion order (done_seq). With
-- `durable` (the step can have effects outside agentflow) it is committed
-- before this returns, so before the workflow sees the result; otherwise
-- it waits for the next commit.
function M.step(rec, r, durable)
  local j = writer()
  if not j then
    return
  end
  rec.kind = rec.kind or "agent"
  rec.state = r.status == "failed" and "failed" or "completed"
  rec.extra = packed_extra(rec, STEP_FIELDS)
  rec.result = packed_result(r)
  j:finished(rec, durable and "now" or "later")
end

--- Copy record `rec` of another run (a fork's source) into run `run_id`,
-- with the next commit: the fork then holds every step it replayed.
function M.copy(run_id, rec)
  local j = writer()
  if j then
    local copy = {}
    for k, v in pairs(rec) do
      copy[k] = v
    end
    copy.extra = packed_extra(rec, STEP_FIELDS)
    copy.result = rec.result and packed_result(rec.result)
    j:copy(run_id, copy)
  end
end

--- The result record kept in journal record `rec`.
function M.result_of(rec)
  local r = rec.result or {}
  if r.output == cjson.null then
    r.output = nil
  end
  return r
end

--- Hit lines per chunk.
M.HIT_CHUNK = 4096

--- Write the hit lines gathered so far as one chunk (with the next commit).
function M.write_hits()
  local j = journal()
  if j then
    j:write_hits()
  end
end

--- Commit the hit lines and every record waiting, now (done when the run finishes).
function M.flush()
  if writer() then
    flush()
  end
end

--- Record step `step` (identity `sid`) answered by the cache entry `key`:
-- one call into the journal's buffer, at every hit.
function M.hit(run_id, attempt, step, sid, agent, key)
  local j = J or journal()
  if j then
    j:hit(run_id, attempt, step, sid, agent, key)
  end
end

-- Report records that cannot be read (another version's, or damaged) once each.
local reported = {}

local function report_unreadable(err)
  if err and not reported[err] then
    reported[err] = true
    run.warn("%s", err)
  end
end

--- Every step record of run `run_id` (the latest of each step identity),
-- in step order; and, when some records cannot be read, why.
function M.steps(run_id)
  local j = reader()
  if not j then
    return {}
  end
  local list, err = j:steps(run_id)
  for _, rec in ipairs(list) do
    decoded(rec)
  end
  return list, err
end

--- The record of each step identity of run `run_id` (the latest attempt's).
function M.by_sid(run_id)
  local list, err = M.steps(run_id)
  report_unreadable(err)
  local out = {}
  for _, rec in ipairs(list) do
    out[rec.sid] = rec
  end
  return out
end

--- The record of step number `step` of run `run_id`, or nil.
function M.get(run_id, step)
  local list, err = M.steps(run_id)
  report_unreadable(err)
  for _, rec in ipairs(list) do
    if rec.step == step then
      return rec
    end
  end
end

--- The records of run `run_id` up to step `until_step` (nil: all), to
-- claim the steps of a run that continues it (see M.claim); nil without
-- a store.
function M.replay(run_id, until_step)
  local j = reader()
  if not j then
    return nil
  end
  local rp, err = j:replay(run_id, until_step)
  report_unreadable(err)
  return rp
end

--- What replay `rp` (M.replay) says of step `sid` of `agent` with `key`:
-- "none" (no record), "replay" (a completed record of the same agent and
-- key), "run" (started, failed or a cache hit: it runs again) or "differs";
-- and the record.
function M.claim(rp, sid, agent, key)
  local claim, rec = rp:claim(sid, agent, key)
  return claim, rec and decoded(rec)
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
function M.checkpoint(run_id, label, step)
  local j = writer()
  if j then
    j:checkpoint(run_id, label, step, core.now())
  end
end

--- The checkpoints of run `run_id`, in step order: {label, step, seq, at}.
function M.checkpoints(run_id)
  local j = reader()
  if not j then
    return {}
  end
  local list, err = j:checkpoints(run_id)
  report_unreadable(err)
  return list
end

--- The value `id` that run `run_id` recorded (_record.lua): its kind and
-- text, or nil.
function M.value(run_id, id)
  local j = reader()
  if j then
    local kind, text = j:value(run_id, id)
    if kind == nil then
      report_unreadable(text)
    end
    return kind, text
  end
end

--- Record value `id` of run `run_id` (kind and text), with the next commit.
function M.record_value(run_id, id, kind, text)
  local j = writer()
  if j then
    j:put_value(run_id, id, kind, text)
  end
end

--- Write run record `rec` (a table of plain values; run_id and status
-- required), committed at once with everything pending.
function M.put_run(rec)
  local j = writer()
  if j then
    local fields = {}
    for k in pairs(RUN_FIELDS) do
      fields[k] = rec[k]
    end
    fields.extra = packed_extra(rec, RUN_FIELDS)
    j:put_run(fields)
  end
end

-- A run record as journal.c gives it: its extra fields merged, or with
-- `damaged` saying why it cannot be read.
local function run_record(rec)
  return rec and merge_extra(rec)
end

--- The record of run `id`, or nil.
function M.run(id)
  local j = reader()
  return j and run_record(j:run(id))
end

--- Every run record, in run id order.
function M.runs()
  local j = reader()
  local list = j and j:runs() or {}
  for _, rec in ipairs(list) do
    run_record(rec)
  end
  return list
end

--- Delete the runs that ended before time `before` (but run `keep`), with
-- their journals, then the journal blobs nothing uses. Returns how many.
function M.prune(before, keep)
  local j = not core.options.plan and reader()
  return j and j:prune(before, keep) or 0
end

--- M.prune(now - age) at most once a day (in any process).
function M.maybe_prune(age, keep)
  local j = writer()
  return j and j:maybe_prune(core.now(), age, keep) or 0
end

return M
