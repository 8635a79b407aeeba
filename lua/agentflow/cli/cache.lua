--- agentflow cache stats|ls|show|invalidate|prune|reset (see `agentflow cache --help`).
local args = require "agentflow.cli._args"
local cache = require "agentflow._cache"
local cjson = require "cjson.safe"
local core = require "agentflow.core"
local files = require "agentflow._files"
local store = require "agentflow._store"

local M = {}

local function print_json(v)
  io.stdout:write(cjson.encode(v), "\n")
end

-- Every entry, decoded, with its stored size and use counters; and the
-- set of keys whose entries another version of agentflow wrote.
local function entries(s)
  local keys, values = s:scan("entries")
  local list, outdated = {}, {}
  for i, key in ipairs(keys) do
    local e = cache.decode_entry(values[i])
    if e then
      e.key = key
      e.bytes = #values[i] + (e.output_blob and e.size or 0)
      local n, last = (s:get("counters", "access/" .. key) or ""):match("^(%d+) ?(.*)$")
      e.hits = tonumber(n) or 0
      e.last_access = tonumber(last)
      list[#list + 1] = e
    else
      outdated[key] = true
    end
  end
  return list, outdated
end

local function counter_map(s, prefix)
  local keys, values = s:scan("counters", prefix)
  local map = {}
  for i, k in ipairs(keys) do
    map[k:sub(#prefix + 1)] = tonumber(values[i]) or 0
  end
  return map
end

local function ratio(hits, misses)
  local n = hits + misses
  return n > 0 and hits / n or 0
end

local function stats(s, opts)
  local hits, misses = counter_map(s, "hits/"), counter_map(s, "misses/")
  local total = { entries = 0, bytes = 0, hits = 0, misses = 0 }
  local agents = {}
  local function agent(name)
    agents[name] = agents[name] or { entries = 0, bytes = 0, hits = hits[name] or 0,
      misses = misses[name] or 0 }
    return agents[name]
  end
  for _, e in ipairs(entries(s)) do
    local a = agent(e.agent)
    a.entries, a.bytes = a.entries + 1, a.bytes + e.bytes
  end
  for name in pairs(hits) do agent(name) end
  for name in pairs(misses) do agent(name) end
  local names = {}
  for name, a in pairs(agents) do
    names[#names + 1] = name
    a.hit_ratio = ratio(a.hits, a.misses)
    for k in pairs(total) do
      total[k] = total[k] + a[k]
    end
  end
  table.sort(names)
  total.hit_ratio = ratio(total.hits, total.misses)
  total.readers = s.readers and s:readers() or 0
  if opts.json then
    total.agents = agents
    print_json(total)
    return 0
  end
  print(string.format("%-32s %8s %10s %8s %8s %6s", "agent", "entries", "bytes", "hits", "misses", "ratio"))
  for _, name in ipairs(names) do
    local a = agents[name]
    print(string.format("%-32s %8d %10d %8d %8d %5.0f%%", name, a.entries, a.bytes, a.hits, a.misses,
      a.hit_ratio * 100))
  end
  print(string.format("%-32s %8d %10d %8d %8d %5.0f%%", "total", total.entries, total.bytes, total.hits,
    total.misses, total.hit_ratio * 100))
  return 0
end

local function ls(s, opts)
  local list, now = entries(s), core.now()
  table.sort(list, function(a, b) return a.created > b.created end)
  local out = {}
  for _, e in ipairs(list) do
    if not opts.agent or e.agent == opts.agent then
      out[#out + 1] = e
    end
  end
  if opts.json then
    local rows = {}
    for i, e in ipairs(out) do
      rows[i] = { key = e.key, agent = e.agent, created = e.created, expires_at = e.expires_at,
        bytes = e.bytes, hits = e.hits, status = e.result and e.result.status }
    end
    io.stdout:write(#rows == 0 and "[]" or cjson.encode(rows), "\n")
    return 0
  end
  print(string.format("%-16s %-28s %6s %8s %9s %6s", "key", "agent", "age", "expires", "bytes", "hits"))
  for _, e in ipairs(out) do
    local left = e.expires_at and (e.expires_at > now and args.age(e.expires_at - now) or "expired") or "never"
    print(string.format("%-16s %-28s %6s %8s %9d %6d", e.key:sub(1, 16), e.agent, args.age(now - e.created),
      left, e.bytes, e.hits))
  end
  return 0
end

-- The key that `prefix` names, or nil and a message.
local function find_key(s, prefix)
  local keys = s:scan("entries", prefix)
  if #keys == 1 then
    return keys[1]
  end
  return nil, #keys == 0 and string.format("no cache entry %s", prefix)
    or string.format("%s names %d entries; give more of the key", prefix, #keys)
end

local function iso(t)
  return t and os.date("!%Y-%m-%dT%H:%M:%SZ", math.floor(t)) or nil
end

local function show(s, opts, key_prefix)
  if not key_prefix then
    return args.usage_error("cache", "cache show needs a KEY")
  end
  local key, err = find_key(s, key_prefix)
  if not key then
    return args.error(66, "%s", err)
  end
  local e = cache.decode_entry(s:get("entries", key))
  if not e then
    return args.error(65, "cache entry %s was written by another version of agentflow; " ..
      "'agentflow cache prune' removes such entries", key)
  end
  local m = cjson.decode(s:get("manifests", key) or "{}") or {}
  local output = cache.output_of(e)
  local parts, inputs = m.parts or {}, m.inputs or {}
  local n, last = (s:get("counters", "access/" .. key) or ""):match("^(%d+) ?(.*)$")
  local access
  access, last = tonumber(n) or 0, tonumber(last)
  local configs = {}
  for path in pairs(parts.configs or {}) do
    configs[#configs + 1] = path
  end
  table.sort(configs)
  local doc = {
    cacheKey = key,
    agentName = e.agent,
    inputs = { prompt = inputs.prompt, params = inputs.params, files = inputs.files },
    output = output,
    result = e.result,
    metadata = {
      created = iso(e.created), expiresAt = iso(e.expires_at), gitCommit = e.commit,
      accessCount = access, lastAccess = iso(last), size = e.size,
    },
    dependencies = { files = parts.files or {}, configs = configs, gitBranch = e.branch },
    manifest = parts,
  }
  if opts.json then
    print_json(doc)
    return 0
  end
  print(af.inspect(doc, { width = 100 }))
  return 0
end

-- Ops deleting the entries `keys` (a set) and everything that hangs off them.
local function deletions(s, keys)
  local ops = {}
  for key in pairs(keys) do
    for _, db in ipairs({ "entries", "manifests" }) do
      ops[#ops + 1] = { db, key, false }
    end
    ops[#ops + 1] = { "counters", "access/" .. key, false }
  end
  for _, row in ipairs((s:scan("lineage"))) do
    if keys[row:match("([^/]*)$")] then
      ops[#ops + 1] = { "lineage", row, false }
    end
  end
  return ops
end

-- Ops deleting the blobs no cache entry uses (the journal keeps its own).
local function orphan_blobs(s)
  local used, ops = {}, {}
  local _, values = s:scan("entries")
  for _, raw in ipairs(values) do
    local e = cache.decode_entry(raw)
    if e and e.output_blob then
      used[e.output_blob] = true
    end
  end
  for _, b in ipairs((s:scan("blobs"))) do
    if not used[b] then
      ops[#ops + 1] = { "blobs", b, false }
    end
  end
  return ops
end

-- Remove the entries `keys` (a set), then the blobs no entry uses any more.
local function remove(s, keys)
  s:write(deletions(s, keys))
  s:write(orphan_blobs(s))
  local n = 0
  for _ in pairs(keys) do
    n = n + 1
  end
  return n
end

local function depends_on(s, key, path)
  local m = cjson.decode(s:get("manifests", key) or "{}") or {}
  local parts = m.parts or {}
  return (parts.files or {})[path] ~= nil or (parts.configs or {})[path] ~= nil
end


local function invalidate(s, opts)
  local chosen = (opts.agent and 1 or 0) + (opts.file and 1 or 0) + (opts.all and 1 or 0)
  if chosen ~= 1 then
    return args.usage_error("cache", "cache invalidate needs one of --agent A, --file PATH, --all")
  end
  local list, outdated = entries(s)
  local keys, path = opts.all and outdated or {}, opts.file and files.key_path(opts.file)
  for _, e in ipairs(list) do
    if opts.all or e.agent == opts.agent or (path and depends_on(s, e.key, path)) then
      keys[e.key] = true
    end
  end
  local n = remove(s, keys)
  if opts.json then
    print_json({ removed = n })
  else
    print(string.format("removed %d entr%s", n, n == 1 and "y" or "ies"))
  end
  return 0
end

local function prune(s, opts)
  local max = opts["max-size"] and args.size(opts["max-size"])
  if opts["max-size"] and not max then
    return args.usage_error("cache", "--max-size wants bytes or a size like 64M, not '%s'", opts["max-size"])
  end
  local list, outdated = entries(s)
  local now, keys, expired, evicted = core.now(), outdated, 0, 0
  local live, total = {}, 0
  for _ in pairs(outdated) do
    expired = expired + 1
  end
  for _, e in ipairs(list) do
    if e.expires_at and e.expires_at <= now then
      keys[e.key], expired = true, expired + 1
    else
      live[#live + 1] = e
      total = total + e.bytes
    end
  end
  if max then
    table.sort(live, function(a, b) return (a.last_access or a.created) < (b.last_access or b.created) end)
    for _, e in ipairs(live) do
      if total <= max then
        break
      end
      keys[e.key], total, evicted = true, total - e.bytes, evicted + 1
    end
  end
  remove(s, keys)
  if opts.json then
    print_json({ expired = expired, evicted = evicted, bytes = total })
  else
    print(string.format("removed %d expired and %d least recently used entries; %d bytes remain",
      expired, evicted, total))
  end
  return 0
end

local function reset()
  local dir = store.dir()
  for _, name in ipairs({ "data.mdb", "lock.mdb" }) do
    local ok, err = os.remove(dir .. "/" .. name)
    if not ok and not err:find("No such file", 1, true) then
      return args.error(74, "cannot remove %s", err)
    end
  end
  print("removed " .. dir)
  return 0
end

-- What the commands see where no store was ever made: nothing, and they
-- do not create one.
local EMPTY = {
  scan = function() return {}, {} end,
  get = function() return nil end,
  write = function() end,
  fold_counts = function() end,
}

local SPEC = { json = "flag", agent = "value", file = "value", all = "flag", ["max-size"] = "value" }
local COMMANDS = { stats = stats, ls = ls, show = show, invalidate = invalidate, prune = prune }

function M.main(argv)
  local sub = argv[1]
  if sub == "reset" then
    return reset()
  end
  local command = COMMANDS[sub]
  if not command then
    return args.usage_error("cache", sub and "unknown cache command '%s'" or "cache needs a command%s",
      sub or "")
  end
  local opts, operands = args.parse(argv, 2, SPEC)
  if not opts then
    return args.usage_error("cache", "%s", operands)
  end
  local s = store.exists() and store.get() or EMPTY
  if not s then
    return args.error(74, "the cache cannot be opened")
  end
  s:fold_counts() -- the counts runs deferred
  return command(s, opts, operands[1])
end

return M
