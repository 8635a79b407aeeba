--- The result cache: content keys, entries with a TTL, manifests that say
-- what went into a key, and the reasons a key changed (DESIGN.md, "Two
-- stores, two jobs").
--
-- Databases: entries (key -> entry JSON), manifests (key -> {parts,
-- inputs}), lineage ("p:" hash(agent, prompt) or "a:" hash(agent), then
-- the creation time, then the key: earlier entries of the same call),
-- blobs (hash -> large outputs), counters (hits/AGENT, misses/AGENT,
-- access/KEY, last/KEY).
local cjson = require "cjson.safe"
local canon = require "agentflow._canon"
local core = require "agentflow.core"
local files = require "agentflow._files"
local store = require "agentflow._store"

local M = {}

--- Bumped when the encoding of a key changes: old entries then miss.
M.VERSION = 1

--- TTLs in seconds by agent name (the seed's), and for every other agent.
M.DEFAULT_TTLS = { ["business-logic-validator"] = 168 * 3600, ["api-integration-tester"] = 48 * 3600 }
M.DEFAULT_TTL = 24 * 3600

-- Outputs larger than this (as JSON) go to the blob table.
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
-- canonical encoding of its non-policy keys.
local function definition_hash(def)
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

--- The TTL of `def` in seconds (math.huge: never expires).
function M.ttl(def)
  return def.ttl or M.DEFAULT_TTLS[def.name] or M.DEFAULT_TTL
end

local function policy_of(def)
  local p = {}
  for _, what in ipairs(def.invalidate_on or { "files" }) do
    p[what] = true
  end
  return p
end

-- {path = content hash | "missing" | "-"} for the declared patterns.
local function file_part(patterns, with_content)
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

--- The cache identity of a call: {key, parts, inputs, lineage_p,
-- lineage_a, ttl}. `task` is the task the executor would get.
function M.prepare(def, task)
  local p = policy_of(def)
  local file_hashes, paths = file_part(task.files, p.files)
  local configs = {}
  if p.configs then
    local list = {}
    for _, c in ipairs(def.configs or {}) do
      list[#list + 1] = c
    end
    for _, c in ipairs(project_configs) do
      list[#list + 1] = c
    end
    configs = file_part(list, true)
  end
  local commit, branch = git_part(p)
  local executor = require("agentflow.executors." .. def.executor)
  local parts = {
    v = M.VERSION,
    agent = def.name,
    definition = definition_hash(def),
    executor = def.executor .. "/" .. (executor.version or "?"),
    model = def.model or "",
    prompt = core.hash(task.prompt),
    params = canon.hash(task.params),
    salt = def.salt or "",
    files = file_hashes,
    configs = configs,
    env = env_part(def.env),
    commit = commit,
    branch = branch,
  }
  return {
    key = canon.hash(parts),
    parts = parts,
    inputs = { prompt = task.prompt, params = task.params, files = paths },
    lineage_p = "p:" .. canon.hash({ def.name, task.prompt }) .. "/",
    lineage_a = "a:" .. core.hash(def.name) .. "/",
    ttl = M.ttl(def),
    agent = def.name,
  }
end

local function decode_entry(raw)
  local e = raw and cjson.decode(raw)
  if type(e) ~= "table" or e.v ~= M.VERSION then
    return nil
  end
  return e
end

--- The entry under `key` (decoded) and whether it is still fresh, or nil.
function M.entry(key)
  local s = store.get()
  local e = s and decode_entry(s:get("entries", key))
  if not e then
    return nil
  end
  return e, not e.expires_at or e.expires_at > core.now()
end

-- The output of an entry: inline, or from the blob table.
local function output_of(e)
  if e.output_blob then
    local raw = store.get():get("blobs", e.output_blob)
    local v = raw and cjson.decode(raw)
    return v ~= cjson.null and v or nil
  end
  return e.output ~= cjson.null and e.output or nil
end

--- A fresh entry for `c` as a result record (cached = true), counting the
-- hit; or nil and "ttl" (expired) or "miss".
function M.hit(c)
  local e, fresh = M.entry(c.key)
  if not e or not fresh then
    store.later({ "counters", "misses/" .. c.agent, false, 1 })
    return nil, e and "ttl" or "miss"
  end
  local r = e.result
  r.output = output_of(e)
  r.cached = true
  r.attempts = 0
  r.cost_usd = 0
  r.key = c.key
  store.later({ "counters", "hits/" .. c.agent, false, 1 })
  store.later({ "counters", "access/" .. c.key, false, 1 })
  store.later({ "counters", "last/" .. c.key, string.format("%.3f", core.now()) })
  return r
end

local function created_ns(t)
  return string.format("%016x", math.floor(t * 1e9))
end

--- Store result record `r` of call `c`. Returns true, or false and why it
-- cannot be stored (an output JSON cannot hold).
function M.put(c, r)
  local out, err = cjson.encode(r.output == nil and cjson.null or r.output)
  if not out then
    return false, "its output cannot be stored as JSON: " .. err
  end
  local now = core.now()
  local commit, branch = core.git_head(files.root())
  local entry = {
    v = M.VERSION, key = c.key, agent = c.agent, created = now,
    expires_at = c.ttl ~= math.huge and now + c.ttl or nil,
    commit = commit, branch = branch,
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
  entry.size = #out
  local raw, eerr = cjson.encode(entry)
  if not raw then
    return false, "its result cannot be stored as JSON: " .. eerr
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

local function sorted_keys(t)
  local keys = {}
  for k in pairs(t or {}) do
    keys[#keys + 1] = k
  end
  table.sort(keys)
  return keys
end

-- Paths whose hash differs between two file parts, and the missing ones.
local function changed_paths(old, new)
  local changed, missing = {}, {}
  for _, path in ipairs(sorted_keys(new)) do
    if new[path] == "missing" and old[path] ~= "missing" then
      missing[#missing + 1] = path
    elseif old[path] == nil then
      changed[#changed + 1] = path .. " (new)"
    elseif old[path] ~= new[path] then
      changed[#changed + 1] = path
    end
  end
  for _, path in ipairs(sorted_keys(old)) do
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
  for _, name in ipairs(sorted_keys(new.env)) do
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
