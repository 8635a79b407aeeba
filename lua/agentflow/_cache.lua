--- The result cache: content keys, entries with a TTL, manifests that say
-- what went into a key, and the reasons a key changed (DESIGN.md, "Two
-- stores, two jobs").
--
-- Databases: entries (key -> entry: see M.put), manifests (key -> {parts,
-- inputs}), lineage ("p:" hash(agent, prompt) or "a:" hash(agent), then
-- the creation time, then the key: earlier entries of the same call),
-- blobs (hash -> large outputs), counters (hits/AGENT, misses/AGENT,
-- access/KEY = "COUNT LAST_ACCESS_TIME", and pending/... records of runs'
-- counts not folded in yet: see store:defer).
local cjson = require "cjson.safe"
local canon = require "agentflow._canon"
local core = require "agentflow.core"
local executors = require "agentflow.executors"
local files = require "agentflow._files"
local journal = require "agentflow._journal"
local log = require "agentflow.log"
local run = require "agentflow._run"
local store = require "agentflow._store"
local util = require "agentflow._util"

local M = {}

--- Bumped when the encoding of a key or an entry changes: old entries
-- then miss (and `cache prune` removes them). 4: files named relative to
-- the project root from the current directory, and the agent's working
-- directory in the key.
M.VERSION = 4

--- TTLs in seconds by agent name (the seed's), and for every other agent.
M.DEFAULT_TTLS = { ["business-logic-validator"] = 168 * 3600, ["api-integration-tester"] = 48 * 3600 }
M.DEFAULT_TTL = 24 * 3600

-- Outputs larger than this (packed) go to the blob table.
local BLOB_MIN = 16 * 1024

-- Definition keys that set policy rather than what the agent does: they
-- stay out of the definition's hash, so raising `retries` keeps the cache.
local POLICY = {
  name = true, retries = true, backoff = true, backoff_max = true, retry_on = true,
  timeout = true, grace = true, fallback = true, critical = true, cache = true,
  invalidate_on = true, max_concurrency = true, stagger = true, ttl = true,
  description = true, prompt = true, params = true, files = true, configs = true,
  salt = true, source = true, source_text = true, max_output = true,
}

local project_configs = {} -- af.configure{configs = {...}}

--- Config files every agent with invalidate_on "configs" depends on.
function M.set_configs(list)
  project_configs = list
end

local def_hashes = setmetatable({}, { __mode = "k" })

-- The hash of what a definition does: an agent file's bytes, or the
-- canonical encoding of its non-policy keys. Memoized per definition.
local function base_hash(def)
  local h = def_hashes[def]
  if not h then
    if def.source_text then
      h = core.hash(def.source_text)
    else
      local t = {}
      for k, v in pairs(def) do
        if not POLICY[k] then
          t[k] = v
        end
      end
      h = canon.hash(t)
    end
    def_hashes[def] = h
  end
  return h
end

--- The definition part of a key: the registered definition `base`, and
-- any call option in `overrides` that changes what the agent does.
function M.definition_hash(base, overrides)
  local h, extra = base_hash(base), nil
  for k, v in pairs(overrides or {}) do
    if not POLICY[k] then
      extra = extra or {}
      extra[k] = v
    end
  end
  return extra and core.hash(h .. canon.encode(extra)) or h
end

--- The TTL of `def` in seconds (math.huge: never expires).
function M.ttl(def)
  return def.ttl or M.DEFAULT_TTLS[def.name] or M.DEFAULT_TTL
end

local DEFAULT_POLICY = { files = true }

local function policy_of(def)
  if not def.invalidate_on then
    return DEFAULT_POLICY
  end
  local p = {}
  for _, what in ipairs(def.invalidate_on) do
    p[what] = true
  end
  return p
end

-- An empty env part, shared (read-only).
local EMPTY = setmetatable({}, { __newindex = function() error("read-only", 2) end })

-- The key's encoding of the files the declared list names (see
-- files.part): "path\0hash\0...". Raises when it cannot be made, naming
-- the list (`what`: "files" or "configs") and the file.
local function file_part(list, with_content, what)
  if #list == 0 then
    return ""
  end
  local enc, err, kind = files.part(list, with_content)
  if not enc then
    if kind == "missing" then
      err = err .. " (declare it as { path, optional = true } if it may be absent)"
    end
    error(what .. ": " .. err, 0)
  end
  return enc
end

-- The directory an agent of `def` runs in, named as keys name files: a
-- command agent works there (relative paths, `git` and the like mean what
-- they mean there), and so does an in-process agent's io.open.
local workdirs = setmetatable({}, { __mode = "k" })

local function workdir(def)
  local w = workdirs[def]
  if not w then
    w = files.key_path(type(def.cwd) == "string" and def.cwd or ".")
    workdirs[def] = w
  end
  return w
end

-- {path = hash} of a file part's encoding, as manifests keep it.
local function decode_part(enc)
  local part = {}
  for path, h in enc:gmatch("([^\0]+)\0([^\0]+)") do
    part[path] = h
  end
  return part
end

-- The paths of a file part's encoding, in order.
local function part_paths(enc)
  local paths = {}
  for path in enc:gmatch("([^\0]+)\0[^\0]+") do
    paths[#paths + 1] = path
  end
  return paths
end

-- {NAME = hash(value)}: values are hashed so secrets never reach the store.
local function env_part(env)
  local part, all = {}, nil
  for k, v in pairs(env or {}) do
    if math.type(k) == "integer" then
      all = all or core.environ()
      part[v] = core.hash(all[v] or "")
    elseif v then
      part[k] = core.hash(v)
    end
  end
  return part
end

local function git_part(p)
  if not (p.commit or p.branch) then
    return nil, nil
  end
  local commit, branch = core.git_head(files.root())
  return p.commit and (commit or "(no repository)") or nil,
    p.branch and (branch or "(no repository)") or nil
end

local EMPTY_PARAMS = canon.hash({})
local executor_versions = {}
local agent_lineage = {}

local function executor_version(name)
  local v = executor_versions[name]
  if not v then
    v = name .. "/" .. (executors.get(name).version or "?")
    executor_versions[name] = v
  end
  return v
end

-- "NAME\0hash\0..." of an env part, in name order.
local function encode_env(part)
  if next(part) == nil then
    return ""
  end
  local keys = {}
  for k in pairs(part) do
    keys[#keys + 1] = k
  end
  table.sort(keys)
  local out = {}
  for i, k in ipairs(keys) do
    out[i] = k .. "\0" .. part[k]
  end
  return table.concat(out, "\0")
end

-- The parts of a key that come from the definition, hashed once per
-- definition hash (which covers executor and model), agent, salt and
-- working directory.
local statics = {}

local function static_hash(agent, definition, executor, model, salt, wd)
  local by_agent = statics[definition]
  if not by_agent then
    by_agent = {}
    statics[definition] = by_agent
  end
  local by_salt = by_agent[agent]
  if not by_salt then
    by_salt = {}
    by_agent[agent] = by_salt
  end
  local key = salt .. "\0" .. wd
  local h = by_salt[key]
  if not h then
    h = core.hash_parts("agentflow-cache-" .. M.VERSION, agent, definition, executor, model, salt, wd)
    by_salt[key] = h
  end
  return h
end

-- The key: a hash over the parts, each length-prefixed, in a fixed order.
-- The prompt goes in as it is (hashing its hash first would cost a string
-- per call); manifests keep its hash.
local function key_of(agent, definition, executor, model, salt, wd, prompt, params_h, files_enc,
                      configs_enc, env, commit, branch)
  return core.hash_parts(static_hash(agent, definition, executor, model, salt, wd), prompt,
    params_h, files_enc, configs_enc, encode_env(env), commit or "", branch or "")
end

local function params_hash(params)
  return next(params) == nil and EMPTY_PARAMS or canon.hash(params)
end

local function config_part(def)
  local list = {}
  for _, c in ipairs(def.configs or {}) do
    list[#list + 1] = c
  end
  for _, c in ipairs(project_configs) do
    list[#list + 1] = c
  end
  return file_part(list, true, "configs")
end

-- What a cache hit does not need is made on first use: the lineage of
-- the agent and prompt, the prompt's hash, the file parts as tables and
-- the parts of the key as manifests keep them, and the inputs shown by
-- `cache show`.
local Identity = {
  __index = function(c, k)
    local v
    if k == "lineage_p" then
      v = "p:" .. core.hash(string.pack("s4s4", c.agent, c.prompt)) .. "/"
    elseif k == "prompt_hash" then
      v = core.hash(c.prompt)
    elseif k == "files" or k == "configs" then
      v = decode_part(c[k .. "_enc"])
    elseif k == "paths" then
      v = part_paths(c.files_enc)
    elseif k == "config_paths" then
      v = part_paths(c.configs_enc)
    elseif k == "parts" then
      v = { v = M.VERSION, agent = c.agent, definition = c.definition, executor = c.executor,
        model = c.model, prompt = c.prompt_hash, params = c.params_hash, salt = c.salt,
        cwd = c.workdir, files = c.files, configs = c.configs, env = c.env, commit = c.commit,
        branch = c.branch }
    elseif k == "inputs" then
      v = { prompt = c.prompt, params = c.params, files = c.paths }
    else
      return nil
    end
    rawset(c, k, v)
    return v
  end,
}

--- The cache identity of a call: {key, agent, ttl, parts, inputs,
-- lineage_p, lineage_a, ...}. `task` is the task the executor would get;
-- `def_hash` comes from M.definition_hash.
function M.prepare(def, task, def_hash)
  local p = policy_of(def)
  local files_enc = file_part(def.files or {}, p.files, "files")
  local commit, branch = git_part(p)
  local la = agent_lineage[def.name]
  if not la then
    la = "a:" .. core.hash(def.name) .. "/"
    agent_lineage[def.name] = la
  end
  local c = setmetatable({
    agent = def.name,
    definition = def_hash or M.definition_hash(def),
    executor = executor_version(def.executor),
    model = def.model or "",
    salt = def.salt or "",
    workdir = workdir(def),
    prompt = task.prompt,
    params = task.params,
    params_hash = params_hash(task.params),
    files_enc = files_enc,
    configs_enc = p.configs and config_part(def) or "",
    env = def.env and env_part(def.env) or EMPTY,
    commit = commit,
    branch = branch,
    lineage_a = la,
    ttl = M.ttl(def),
  }, Identity)
  c.key = key_of(c.agent, c.definition, c.executor, c.model, c.salt, c.workdir, c.prompt,
    c.params_hash, c.files_enc, c.configs_enc, c.env, c.commit, c.branch)
  return c
end

--- The key M.prepare gives a call of `def` (definition hash `def_hash`)
-- with these task inputs, without the rest of the identity: all that a
-- cache hit needs.
function M.key(def, def_hash, prompt, params, file_patterns)
  local p = policy_of(def)
  local commit, branch = git_part(p)
  return key_of(def.name, def_hash, executor_version(def.executor), def.model or "", def.salt or "",
    workdir(def), prompt, params_hash(params), file_part(file_patterns, p.files, "files"),
    p.configs and config_part(def) or "", def.env and env_part(def.env) or EMPTY, commit, branch)
end

-- Per definition: the static hash of its quick keys, and whether its file
-- part holds content hashes; static = false when its policy needs more than
-- files (configs, env, commit, branch), whose keys come from M.key.
local quick = setmetatable({}, { __mode = "k" })

local function quick_of(def)
  local p = policy_of(def)
  local q = { static = false, content = p.files }
  if not (p.configs or p.commit or p.branch or def.env) then
    q.static = static_hash(def.name, base_hash(def), executor_version(def.executor), def.model or "",
      def.salt or "", workdir(def))
  end
  quick[def] = q
  return q
end

--- The key M.key gives a call of `def` under its own definition hash (a
-- call whose options are only task inputs), made from what every such key
-- of `def` shares; nil when its policy needs more than files (use M.key).
-- Raises as M.key does.
function M.quick_key(def, prompt, params, file_patterns)
  local q = quick[def] or quick_of(def)
  if not q.static then
    return nil
  end
  return core.hash_parts(q.static, prompt, next(params) == nil and EMPTY_PARAMS or canon.hash(params),
    file_part(file_patterns, q.content, "files"), "", "", "", "")
end

-- A stored output: `output` itself, or the packed value in the blob table
-- under hash `blob`.
local function stored_output(output, blob)
  if blob then
    local raw = store.get():get("blobs", blob)
    return raw and core.unpack(raw)
  end
  return output
end

--- The entry stored as `raw`, decoded ({key, agent, created, expires_at,
-- commit, branch, size, result, output}), or nil when it is not one of
-- this version's.
function M.decode_entry(raw)
  if not raw then
    return nil
  end
  local v, expires_at, result, e = core.unpack(raw, 4)
  if v ~= M.VERSION or type(result) ~= "table" or type(e) ~= "table" then
    return nil
  end
  e.v, e.expires_at, e.result = v, expires_at, result
  e.output_blob, e.output = result.output_blob, result.output
  result.output_blob, result.output = nil, nil
  return e
end

--- The entry under `key` (decoded) and whether it is still fresh, or nil.
function M.entry(key)
  local s = store.get()
  local e = s and M.decode_entry(s:get("entries", key))
  if not e then
    return nil
  end
  return e, not e.expires_at or e.expires_at > core.now()
end

--- The output of entry `e` (from M.decode_entry).
function M.output_of(e)
  return stored_output(e.output, e.output_blob)
end

--- The fresh entry under `key` as a result record (cached = true), or nil
-- and why not: "ttl" (expired) or "miss". Reads the entry's first values
-- only (not its metadata): this is a cache hit's whole lookup.
function M.lookup(key)
  local s = store.get()
  if not s then
    return nil, "miss"
  end
  -- room for the fields a hit's record adds (cached, key, agent, run_id, ...)
  local v, expires_at, r = s:unpack("entries", key, 3, 12)
  if v ~= M.VERSION or type(r) ~= "table" then
    return nil, "miss"
  end
  if expires_at and expires_at <= core.now() then
    return nil, "ttl"
  end
  if r.output_blob then
    r.output, r.output_blob = stored_output(r.output, r.output_blob), nil
  end
  r.cached, r.attempts, r.cost_usd, r.key = true, 0, 0, key
  return r
end

-- Use counts, kept in memory and written at the end of the run as one
-- deferred record (store.defer), folded into the counters with those of
-- other runs: hits and misses per agent, accesses per key with the last
-- one's time.
local counts = nil
local recorder = nil -- over the journal's hit lines and these counts (M.recorder)

local function write_counts()
  local now = string.format("%.3f", core.now())
  store.flush()
  store.defer({ { "counters", "hits/", false, counts.hits }, { "counters", "misses/", false, counts.misses },
    { "counters", "access/", now, counts.access } })
  counts, recorder = nil, nil
  store.fold_counts(true)
end

local function start_counting()
  counts = { hits = core.tally(), misses = core.tally(), access = core.tally() }
  run.on_finish(write_counts)
  return counts
end

--- The recorder of run `run_id`'s cache hits (core.hit_recorder): it reads
-- a fresh entry, makes the hit's result record, adds its journal line and
-- counts it. nil without a store.
function M.recorder(run_id)
  if not recorder and store.get() then
    local c = counts or start_counting()
    recorder = core.hit_recorder(store.get(), M.VERSION, journal.hit_lines(run_id),
      c.hits, c.access)
  end
  return recorder
end

--- A fresh entry for `c` as a result record (cached = true), counting the
-- hit; or nil and "ttl" (expired) or "miss", logged.
function M.hit(c)
  local r, why = M.lookup(c.key)
  if not r then
    M.count_miss(c.agent, c.key, why)
    return nil, why
  end
  M.count_hit(c.agent, c.key)
  -- a hit is logged by its "step ended" record (cached = true, key)
  return r
end

--- Count a hit of `agent` on entry `key`.
function M.count_hit(agent, key)
  local c = counts or start_counting()
  c.hits:add(agent)
  c.access:add(key)
end

--- Count and log a miss of `agent` ("ttl" or "miss").
function M.count_miss(agent, key, why)
  (counts or start_counting()).misses:add(agent)
  log.write("INFO", "cache", "cache miss", { agent = agent, key = key,
    reason = why == "ttl" and "ttl" or "no entry" })
end

local function created_ns(t)
  return string.format("%016x", math.floor(t * 1e9))
end

--- Store result record `r` of call `c`. Returns true, or false and why it
-- cannot be stored (an output holding a function, say).
--
-- An entry is four values packed one after another (core.pack): the
-- version, expires_at (nil: never), the result record with its output
-- (or output_blob, the hash of the packed output in the blob table) and
-- the metadata {key, agent, created, commit, branch, size}; a hit reads
-- the first three.
function M.put(c, r)
  local out, err = core.pack(r.output)
  if not out then
    return false, "its output cannot be stored: " .. err
  end
  local now = core.now()
  local commit, branch = core.git_head(files.root())
  local result = { status = r.status, summary = r.summary, metrics = r.metrics, cost_usd = r.cost_usd,
    tokens = r.tokens, attempts = r.attempts, duration = r.duration, fallback = r.fallback }
  local ops = {}
  if #out >= BLOB_MIN then
    result.output_blob = core.hash(out)
    ops[#ops + 1] = { "blobs", result.output_blob, out }
  else
    result.output = r.output
  end
  local packed, perr = core.pack(result)
  if not packed then
    return false, "its result cannot be stored: " .. perr
  end
  local meta = { key = c.key, agent = c.agent, created = now, commit = commit, branch = branch,
    size = #out }
  local raw = core.pack(M.VERSION) .. core.pack(c.ttl ~= math.huge and now + c.ttl or nil) ..
    packed .. assert(core.pack(meta))
  local stamp = created_ns(now)
  ops[#ops + 1] = { "entries", c.key, raw }
  ops[#ops + 1] = { "manifests", c.key, cjson.encode({ parts = c.parts, inputs = c.inputs }) }
  ops[#ops + 1] = { "lineage", c.lineage_p .. stamp .. "/" .. c.key, c.agent }
  ops[#ops + 1] = { "lineage", c.lineage_a .. stamp .. "/" .. c.key, c.agent }
  store.commit(ops)
  return true
end

--- The manifest ({parts, inputs}) stored for `key`, or nil.
function M.manifest(key)
  local s = store.get()
  local raw = s and s:get("manifests", key)
  return raw and cjson.decode(raw) or nil
end

--- Record the manifest of a call that ran and was not stored (so that
-- `why` can explain the next one).
function M.remember(c)
  store.later({ "manifests", c.key, cjson.encode({ parts = c.parts, inputs = c.inputs }) })
end

--- The newest earlier key for the same agent and prompt (else the same
-- agent) other than `c.key`, created before `before` (seconds; nil: any).
function M.previous(c, before)
  local s = store.get()
  if not s then
    return nil
  end
  local limit = before and created_ns(before)
  for _, prefix in ipairs({ c.lineage_p, c.lineage_a }) do
    local keys = s:scan("lineage", prefix)
    for i = #keys, 1, -1 do
      local stamp, key = keys[i]:sub(#prefix + 1):match("^(%x+)/(%x+)$")
      if key ~= c.key and (not limit or stamp < limit) then
        return key
      end
    end
  end
end

-- Paths whose hash differs between two file parts, and the missing ones.
local function changed_paths(old, new)
  local changed, missing = {}, {}
  for _, path in ipairs(util.sorted_keys(new)) do
    if new[path] == "missing" and old[path] ~= "missing" then
      missing[#missing + 1] = path
    elseif old[path] == nil then
      changed[#changed + 1] = path .. " (new)"
    elseif old[path] ~= new[path] then
      changed[#changed + 1] = path
    end
  end
  for _, path in ipairs(util.sorted_keys(old)) do
    if new[path] == nil then
      changed[#changed + 1] = path .. " (gone)"
    end
  end
  return changed, missing
end

local LABELS = {
  { "definition", "agent definition" }, { "executor", "executor" }, { "model", "model" },
  { "prompt", "prompt" }, { "params", "params" }, { "salt", "salt" },
  { "cwd", "working directory" }, { "commit", "commit" }, { "branch", "branch" },
  { "v", "cache format" },
}

--- What differs between two sets of key parts, as reasons: "files: a.lua",
-- "missing: b.lua", "config: c.toml", "commit", "prompt", ...
function M.diff(old, new)
  local reasons = {}
  for _, l in ipairs(LABELS) do
    if old[l[1]] ~= new[l[1]] then
      reasons[#reasons + 1] = l[2]
    end
  end
  local changed, missing = changed_paths(old.files or {}, new.files or {})
  if #changed > 0 then
    reasons[#reasons + 1] = "files: " .. table.concat(changed, ", ")
  end
  if #missing > 0 then
    reasons[#reasons + 1] = "missing: " .. table.concat(missing, ", ")
  end
  local cchanged, cmissing = changed_paths(old.configs or {}, new.configs or {})
  for _, path in ipairs(cchanged) do
    reasons[#reasons + 1] = "config: " .. path
  end
  for _, path in ipairs(cmissing) do
    reasons[#reasons + 1] = "missing: " .. path
  end
  for _, name in ipairs(util.sorted_keys(new.env)) do
    if (old.env or {})[name] ~= new.env[name] then
      reasons[#reasons + 1] = "env: " .. name
    end
  end
  return reasons
end

--- Why call `c` has no fresh entry: "stale" and the reasons, or "miss".
function M.explain(c)
  local e, fresh = M.entry(c.key)
  if e and fresh then
    return "hit"
  elseif e then
    return "stale", { "ttl" }
  end
  local prev = M.previous(c)
  local m = prev and M.manifest(prev)
  if not m then
    return "miss"
  end
  local reasons = M.diff(m.parts, c.parts)
  if #reasons == 0 then
    reasons = { "ttl" }
  end
  return "stale", reasons
end

return M
