--- The result cache: content keys, entries with a TTL, manifests that say
-- what went into a key, and the reasons a key changed (DESIGN.md, "Two
-- stores, two jobs").
--
-- How keys are made and why they changed is here; what a key names (the
-- entries, their TTL, lineage, blobs, file index, counts) is core/cache.h's,
-- reached through M.handle(). Lineage prefixes: "p:" hash(agent, prompt)
-- and "a:" hash(agent).
local canon = require "agentflow._canon"
local core = require "agentflow.core"
local executors = require "agentflow.executors"
local files = require "agentflow._files"
local log = require "agentflow.log"
local run = require "agentflow._run"
local store = require "agentflow._store"
local util = require "agentflow._util"

local M = {}

--- Bumped when the encoding of a key or an entry changes: old entries
-- then miss (and `cache prune` removes them). 4: files named relative to
-- the project root from the current directory, and the agent's working
-- directory in the key. 5: entries in core/cache.h's format.
M.VERSION = core.CACHE_VERSION

--- TTLs in seconds by agent name (the seed's), and for every other agent.
M.DEFAULT_TTLS = { ["business-logic-validator"] = 168 * 3600, ["api-integration-tester"] = 48 * 3600 }
M.DEFAULT_TTL = 24 * 3600

-- Definition keys that set policy rather than what the agent does: they
-- stay out of the definition's hash, so raising `retries` keeps the cache.
local POLICY = {
  name = true, retries = true, backoff = true, backoff_max = true, retry_on = true,
  timeout = true, grace = true, fallback = true, critical = true, cache = true,
  invalidate_on = true, max_concurrency = true, stagger = true, ttl = true,
  description = true, prompt = true, params = true, files = true, configs = true,
  salt = true, source = true, source_text = true, max_output = true, apply = true,
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

-- The cache object (core.cache_open: core/cache.h) over the project's
-- store, or nil without one.
local handle = nil

local function flush_counts()
  if handle and not core.options.plan then
    handle:flush_counts(core.now())
  end
end

--- The cache (core/cache.h's operations: lookup, store, entries, stats,
-- invalidate, prune, ...), or nil when there is no store.
function M.handle()
  if handle == nil then
    local s = store.get()
    handle = s and core.cache_open(s) or false
    if handle then
      run.on_finish(flush_counts)
    end
  end
  return handle or nil
end

--- The entry under `key` ({key, agent, created, expires_at, commit, branch,
-- size, bytes, output_blob, result, output}) and whether it is still
-- fresh; nil when there is none of this version.
function M.entry(key)
  local h = M.handle()
  local e = h and h:entry(key)
  if not e then
    return nil
  end
  return e, not e.expires_at or e.expires_at > core.now()
end

--- The output of entry `e` (from M.entry), read from its blob if it is one.
function M.output_of(e)
  if e.output_blob then
    return M.handle():blob(e.output_blob)
  end
  return e.output
end

--- The fresh entry under `key` as its stored result record (status,
-- summary, metrics, tokens, duration, output, ...), or nil and why not:
-- "ttl" (expired) or "miss". `room`: keys the caller will add.
function M.lookup(key, room)
  local h = M.handle()
  if not h then
    return nil, "miss"
  end
  return h:lookup(key, core.now(), room)
end

-- Keys a hit's record gets beyond those stored (cached, attempts, cost_usd,
-- key, then agent, run_id, step, ...: see _agent.lua's record).
local ROOM = 12

--- The result record of a cache hit of `agent` on `key`: the fresh
-- entry's stored record with cached = true, no attempts and no cost,
-- counting the hit; or nil and "ttl" (expired) or "miss", counted and
-- logged.
function M.hit(agent, key)
  local r, why = M.lookup(key, ROOM)
  if not r then
    M.count_miss(agent, key, why)
    return nil, why
  end
  M.count_hit(agent, key)
  r.cached, r.attempts, r.cost_usd, r.key = true, 0, 0, key
  return r
end

--- Count a hit of `agent` on entry `key` (not in a plan, which writes nothing).
function M.count_hit(agent, key)
  local h = M.handle()
  if h and not core.options.plan then
    h:count_hit(agent, key)
  end
end

--- Count and log a miss of `agent` ("ttl" or "miss").
function M.count_miss(agent, key, why)
  local h = M.handle()
  if h and not core.options.plan then
    h:count_miss(agent)
  end
  log.write("INFO", "cache", "cache miss", { agent = agent, key = key,
    reason = why == "ttl" and "ttl" or "no entry" })
end

-- The paths a key covers (files, then configs): the cache's file index.
local function covered(c)
  local list = {}
  for _, p in ipairs(c.paths) do
    list[#list + 1] = p
  end
  for _, p in ipairs(c.config_paths) do
    list[#list + 1] = p
  end
  return list
end

--- Store result record `r` of call `c`. Returns true, or false and why it
-- cannot be stored (an output holding a function, say). The entry's
-- format is core/cache.h's.
function M.put(c, r)
  local h = M.handle()
  if not h then
    return true
  end
  local out, err = core.pack(r.output)
  if not out then
    return false, "its output cannot be stored: " .. err
  end
  local result, perr = core.pack({ status = r.status, summary = r.summary, metrics = r.metrics,
    cost_usd = r.cost_usd, tokens = r.tokens, attempts = r.attempts, duration = r.duration,
    fallback = r.fallback, patch = r.patch })
  if not result then
    return false, "its result cannot be stored: " .. perr
  end
  local commit, branch = core.git_head(files.root())
  h:store({ key = c.key, agent = c.agent, created = core.now(),
    ttl = c.ttl ~= math.huge and c.ttl or nil, commit = commit, branch = branch, result = result,
    output = out, manifest = core.pack({ parts = c.parts, inputs = c.inputs }), files = covered(c),
    lineage = { c.lineage_p, c.lineage_a } })
  return true
end

--- The manifest ({parts, inputs}) stored for `key`, or nil.
function M.manifest(key)
  local h = M.handle()
  return h and h:manifest(key) or nil
end

--- Record the manifest of a call that ran and was not stored (so that
-- `why` can explain the next one).
function M.remember(c)
  local h = M.handle()
  if h and not core.options.plan then
    h:remember(c.key, core.pack({ parts = c.parts, inputs = c.inputs }))
  end
end

--- The newest earlier key for the same agent and prompt (else the same
-- agent) other than `c.key`, created before `before` (seconds; nil: any).
function M.previous(c, before)
  local h = M.handle()
  if not h then
    return nil
  end
  return h:previous(c.lineage_p, c.key, false, before) or h:previous(c.lineage_a, c.key, false, before)
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
