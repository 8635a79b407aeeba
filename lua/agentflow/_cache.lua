--- The result cache: content keys, entries with a TTL, manifests that say
-- what went into a key, and the reasons a key changed (DESIGN.md, "Two
-- stores, two jobs").
--
-- Databases: entries (key -> entry, MessagePack: see core.pack), manifests (key -> {parts,
-- inputs}), lineage ("p:" hash(agent, prompt) or "a:" hash(agent), then
-- the creation time, then the key: earlier entries of the same call),
-- blobs (hash -> large outputs), counters (hits/AGENT, misses/AGENT,
-- access/KEY = "COUNT LAST_ACCESS_TIME").
local cjson = require "cjson.safe"
local canon = require "agentflow._canon"
local core = require "agentflow.core"
local files = require "agentflow._files"
local store = require "agentflow._store"
local util = require "agentflow._util"

local M = {}

--- Bumped when the encoding of a key or an entry changes: old entries
-- then miss (and `cache prune` removes them).
M.VERSION = 2

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
  salt = true, source = true, source_text = true,
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

-- {path = content hash | "missing" | "-"} for the declared patterns.
local EMPTY = setmetatable({}, { __newindex = function() error("read-only", 2) end })

local function file_part(patterns, with_content)
  if #patterns == 0 then
    return EMPTY, EMPTY
  end
  local paths, err = files.expand(patterns)
  if not paths then
    error(err, 0)
  end
  local part = {}
  for _, path in ipairs(paths) do
    if with_content then
      local h, why = files.hash(files.absolute(path))
      if not h and why ~= "missing" then
        error(why, 0)
      end
      part[path] = h or "missing"
    else
      part[path] = "-"
    end
  end
  return part, paths
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
    v = name .. "/" .. (require("agentflow.executors." .. name).version or "?")
    executor_versions[name] = v
  end
  return v
end

-- "path\0hash\0..." of a {path = hash} part, in path order.
local function encode_paths(part)
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
-- definition hash and salt.
local statics = {}

local function static_hash(c)
  local memo = c.definition .. "\0" .. c.salt
  local h = statics[memo]
  if not h then
    h = core.hash(string.pack("s4s4s4s4s4s4", "agentflow-cache-" .. M.VERSION, c.agent,
      c.definition, c.executor, c.model, c.salt))
    statics[memo] = h
  end
  return h
end

-- The key: a hash over the parts, each length-prefixed, in a fixed order.
local function key_of(c)
  return core.hash(string.pack("s4s4s4s4s4s4s4s4", static_hash(c), c.prompt_hash, c.params_hash,
    encode_paths(c.files), encode_paths(c.configs), encode_paths(c.env), c.commit or "",
    c.branch or ""))
end

local function config_part(def)
  local list = {}
  for _, c in ipairs(def.configs or {}) do
    list[#list + 1] = c
  end
  for _, c in ipairs(project_configs) do
    list[#list + 1] = c
  end
  return (file_part(list, true))
end

-- What a cache hit does not need is made on first use: the lineage of
-- the agent and prompt, the parts of the key as manifests keep them, and
-- the inputs shown by `cache show`.
local Identity = {
  __index = function(c, k)
    local v
    if k == "lineage_p" then
      v = "p:" .. core.hash(string.pack("s4s4", c.agent, c.prompt)) .. "/"
    elseif k == "parts" then
      v = { v = M.VERSION, agent = c.agent, definition = c.definition, executor = c.executor,
        model = c.model, prompt = c.prompt_hash, params = c.params_hash, salt = c.salt,
        files = c.files, configs = c.configs, env = c.env, commit = c.commit, branch = c.branch }
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
  local file_hashes, paths = file_part(task.files, p.files)
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
    prompt = task.prompt,
    prompt_hash = core.hash(task.prompt),
    params = task.params,
    params_hash = next(task.params) == nil and EMPTY_PARAMS or canon.hash(task.params),
    files = file_hashes,
    configs = p.configs and config_part(def) or EMPTY,
    env = def.env and env_part(def.env) or EMPTY,
    commit = commit,
    branch = branch,
    paths = paths,
    lineage_a = la,
    ttl = M.ttl(def),
  }, Identity)
  c.key = key_of(c)
  return c
end

--- The entry stored as `raw` (decoded), or nil when it is not one of this
-- version's.
function M.decode_entry(raw)
  local e = raw and core.unpack(raw)
  if type(e) ~= "table" or e.v ~= M.VERSION then
    return nil
  end
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

--- The output of entry `e`: inline, or from the blob table.
function M.output_of(e)
  if e.output_blob then
    local raw = store.get():get("blobs", e.output_blob)
    return raw and core.unpack(raw)
  end
  return e.output
end

-- Use counts, kept in memory and written once at the end of the run:
-- hits and misses per agent, accesses per key with the last one's time.
local counts = nil

local function write_counts()
  local now = string.format("%.3f", core.now())
  for agent, n in pairs(counts.hits) do
    store.later({ "counters", "hits/" .. agent, false, n })
  end
  for agent, n in pairs(counts.misses) do
    store.later({ "counters", "misses/" .. agent, false, n })
  end
  for key, n in pairs(counts.access) do
    store.later({ "counters", "access/" .. key, now, n })
  end
  counts = nil
  store.flush()
end

local function count(kind, name)
  if not counts then
    counts = { hits = {}, misses = {}, access = {} }
    require("agentflow._run").on_finish(write_counts)
  end
  local t = counts[kind]
  t[name] = (t[name] or 0) + 1
end

--- A fresh entry for `c` as a result record (cached = true), counting the
-- hit; or nil and "ttl" (expired) or "miss".
function M.hit(c)
  local e, fresh = M.entry(c.key)
  if not e or not fresh then
    count("misses", c.agent)
    require("agentflow.log").write("INFO", "cache", "cache miss", { agent = c.agent, key = c.key,
      reason = e and "ttl" or "no entry" })
    return nil, e and "ttl" or "miss"
  end
  local r = e.result
  r.output = M.output_of(e)
  r.cached = true
  r.attempts = 0
  r.cost_usd = 0
  r.key = c.key
  count("hits", c.agent)
  count("access", c.key)
  -- a hit is logged by its "step ended" record (cached = true, key)
  return r
end

local function created_ns(t)
  return string.format("%016x", math.floor(t * 1e9))
end

--- Store result record `r` of call `c`. Returns true, or false and why it
-- cannot be stored (an output JSON cannot hold).
function M.put(c, r)
  local out, err = core.pack(r.output)
  if not out then
    return false, "its output cannot be stored: " .. err
  end
  local now = core.now()
  local commit, branch = core.git_head(files.root())
  local entry = {
    v = M.VERSION, key = c.key, agent = c.agent, created = now,
    expires_at = c.ttl ~= math.huge and now + c.ttl or nil,
    commit = commit, branch = branch, size = #out,
    result = { status = r.status, summary = r.summary, metrics = r.metrics, cost_usd = r.cost_usd,
      tokens = r.tokens, attempts = r.attempts, duration = r.duration, fallback = r.fallback },
  }
  local ops = {}
  if #out >= BLOB_MIN then
    entry.output_blob = core.hash(out)
    ops[#ops + 1] = { "blobs", entry.output_blob, out }
  else
    entry.output = r.output
  end
  local raw, eerr = core.pack(entry)
  if not raw then
    return false, "its result cannot be stored: " .. eerr
  end
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
  { "commit", "commit" }, { "branch", "branch" }, { "v", "cache format" },
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
