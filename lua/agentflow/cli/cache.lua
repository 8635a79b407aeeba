--- agentflow cache stats|ls|show|invalidate|prune|reset (see `agentflow cache --help`).
local args = require "agentflow.cli._args"
local cache = require "agentflow._cache"
local cjson = require "cjson.safe"
local core = require "agentflow.core"
local edits = require "agentflow._edits"
local files = require "agentflow._files"
local store = require "agentflow._store"

local M = {}

local function print_json(v)
  io.stdout:write(cjson.encode(v), "\n")
end

-- Every entry, decoded, with its use counts; and the keys of the entries
-- another version of agentflow wrote.
local function entries(h)
  local list, outdated = h:entries()
  for _, e in ipairs(list) do
    e.hits, e.last_access = h:access(e.key)
  end
  return list, outdated
end

local function ratio(hits, misses)
  local n = hits + misses
  return n > 0 and hits / n or 0
end

local function stats(h, opts)
  local total = { entries = 0, bytes = 0, hits = 0, misses = 0 }
  local agents, names = {}, {}
  for _, a in ipairs(h:stats()) do
    names[#names + 1] = a.agent
    agents[a.agent] = a
    a.agent = nil
    a.hit_ratio = ratio(a.hits, a.misses)
    for k in pairs(total) do
      total[k] = total[k] + a[k]
    end
  end
  table.sort(names)
  total.hit_ratio = ratio(total.hits, total.misses)
  local s = store.exists() and store.get()
  total.readers = s and s:readers() or 0
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

local function ls(h, opts)
  local list, now = entries(h), core.now()
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
local function find_key(h, prefix)
  local found = {}
  local list, outdated = h:entries()
  for _, e in ipairs(list) do
    if e.key:sub(1, #prefix) == prefix then
      found[#found + 1] = e.key
    end
  end
  for _, key in ipairs(outdated) do
    if key:sub(1, #prefix) == prefix then
      found[#found + 1] = key
    end
  end
  if #found == 1 then
    return found[1]
  end
  return nil, #found == 0 and string.format("no cache entry %s", prefix)
    or string.format("%s names %d entries; give more of the key", prefix, #found)
end

local function iso(t)
  return t and os.date("!%Y-%m-%dT%H:%M:%SZ", math.floor(t)) or nil
end

local function show(h, opts, key_prefix)
  if not key_prefix then
    return args.usage_error("cache", "cache show needs a KEY")
  end
  local key, err = find_key(h, key_prefix)
  if not key then
    return args.error(66, "%s", err)
  end
  local e = h:entry(key)
  if not e then
    return args.error(65, "cache entry %s was written by another version of agentflow; " ..
      "'agentflow cache prune' removes such entries", key)
  end
  local m = h:manifest(key) or {}
  local output = cache.output_of(e)
  local parts, inputs = m.parts or {}, m.inputs or {}
  local access, last = h:access(key)
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

local function invalidate(h, opts)
  local chosen = (opts.agent and 1 or 0) + (opts.file and 1 or 0) + (opts.all and 1 or 0)
  if chosen ~= 1 then
    return args.usage_error("cache", "cache invalidate needs one of --agent A, --file PATH, --all")
  end
  local n
  if opts.file then
    n = h:invalidate_file(files.key_path(opts.file))
  else
    n = h:invalidate_agent(opts.agent)
  end
  if opts.json then
    print_json({ removed = n })
  else
    print(string.format("removed %d entr%s", n, n == 1 and "y" or "ies"))
  end
  return 0
end

local function prune(h, opts)
  local max = opts["max-size"] and args.size(opts["max-size"])
  if opts["max-size"] and not max then
    return args.usage_error("cache", "--max-size wants bytes or a size like 64M, not '%s'", opts["max-size"])
  end
  local expired, evicted, total = h:prune(core.now(), max)
  edits.collect()
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
  entries = function() return {}, {} end,
  stats = function() return {} end,
  invalidate_file = function() return 0 end,
  invalidate_agent = function() return 0 end,
  prune = function() return 0, 0, 0 end,
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
  local h = EMPTY
  if store.exists() then
    h = cache.handle()
    if not h then
      return args.error(74, "the cache cannot be opened")
    end
  end
  return command(h, opts, operands[1])
end

return M
