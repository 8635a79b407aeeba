-- The cache's parts: canonical encoding, the stat cache and its racy rule,
-- and the reasons a key changed.
local t = require "testing"
local canon = require "agentflow._canon"
local files = require "agentflow._files"
local store = require "agentflow._store"
local cache = require "agentflow._cache"

af.define_agent("cat-files", { run = function(task) return task.files end })

t.test("the canonical encoding ignores construction order", function()
  local a, b = {}, {}
  a.x, a.y, a[1] = 1, { z = "s" }, true
  b[1], b.y, b.x = true, { z = "s" }, 1
  t.eq(canon.encode(a), canon.encode(b))
  t.eq(false, canon.encode({ 1 }) == canon.encode({ 1.0 }))
  t.eq(false, canon.encode({ "1" }) == canon.encode({ 1 }))
  t.eq(false, canon.encode({ a = "b" }) == canon.encode({ ab = "" }))
  local cyc = {}
  cyc.self = cyc
  t.raises("contains itself", canon.encode, cyc)
end)

-- The content hash that the file part of a key gives the file `entry`
-- declares (a path or {path, optional = true}).
local function hash_of(entry)
  local enc, err = files.part({ entry }, true)
  return enc and enc:match("\0(.*)$"), err
end

t.test("a file changed within its record's clock tick is hashed again", function()
  local dir = t.tmpdir()
  local path = dir .. "/f.txt"
  t.write(path, "aaaa")
  -- Pin the mtime in the future: the record made now is racy.
  assert(af.exec({ "touch", "-d", "@" .. (os.time() + 100) .. ".5", path }).code == 0)
  local h1 = hash_of(path)
  store.flush()
  t.write(path, "bbbb") -- same size; restore the same mtime
  assert(af.exec({ "touch", "-d", "@" .. (os.time() + 100) .. ".5", path }).code == 0)
  local h2 = hash_of(path)
  t.eq(false, h1 == h2)
end)

-- core.file_part of `list` in `dir` with the stat cache, its new records
-- written at once: the part, and whether a file was hashed.
local function part_in(dir, list)
  local core = require "agentflow.core"
  local s = store.get()
  local enc, records = core.file_part(s, dir, dir, list, true)
  local ops = {}
  for abs, rec in pairs(records or {}) do
    ops[#ops + 1] = { "stat", abs, rec }
  end
  s:write(ops)
  return enc, records ~= nil
end

t.test("a settled file is served from the stat cache; an edit in place is seen", function()
  local dir = t.tmpdir()
  local path = dir .. "/g.txt"
  t.write(path, "cccc")
  assert(af.exec({ "touch", "-d", "@1000000000", path }).code == 0)
  af.sleep(0.05) -- past the clock tick of the file's ctime, so its record is not racy
  local h1, hashed = part_in(dir, { "g.txt" })
  t.eq(true, hashed)
  t.eq({ h1, false }, { part_in(dir, { "g.txt" }) }) -- trusted: one stat(), no read
  -- Same size, inode and mtime (put back, as `touch -r` does), other bytes:
  -- the ctime moved, so the file is hashed again.
  local f = assert(io.open(path, "r+"))
  f:write("d")
  f:close()
  assert(af.exec({ "touch", "-d", "@1000000000", path }).code == 0)
  local h2, again = part_in(dir, { "g.txt" })
  t.eq(true, again)
  t.eq(false, h1 == h2)
  t.eq("missing", hash_of({ dir .. "/missing.txt", optional = true }))
  t.eq({ nil, dir .. ": not a regular file" }, { hash_of(dir) })
end)

t.test("a file part names each path once, in order, relative to the root, with its hash", function()
  local core = require "agentflow.core"
  local dir = t.tmpdir()
  t.write(dir .. "/a.txt", "a")
  t.write(dir .. "/b.txt", "b")
  local a, b = hash_of(dir .. "/a.txt"), hash_of(dir .. "/b.txt")
  t.eq(32, #a)
  t.eq(table.concat({ "a.txt", a, "b.txt", b, "c.txt", "missing" }, "\0"),
    core.file_part(nil, dir, dir, { { "c.txt", optional = true }, "b.txt", "./a.txt", dir .. "/b.txt" }, true))
  t.eq("a.txt\0-", core.file_part(nil, dir, dir, { "a.txt" }, false))
  -- from a subdirectory, a path means what io.open makes of it there
  t.eq("a.txt\0" .. a, core.file_part(nil, dir, dir .. "/sub", { "../a.txt" }, true))
  t.eq("sub/x\0missing", core.file_part(nil, dir, dir .. "/sub", { { "x", optional = true } }, true))
  -- outside the root, a path is named absolute
  t.eq(dir .. "/a.txt\0" .. a, core.file_part(nil, dir .. "/sub", dir .. "/sub", { "../a.txt" }, true))
end)

t.test("a required file that does not exist is an error naming it; an optional one is not", function()
  local core = require "agentflow.core"
  local dir = t.tmpdir()
  t.eq({ nil, "c.txt does not exist", "missing" }, { core.file_part(nil, dir, dir, { "c.txt" }, false) })
  t.eq({ nil, "./c.txt (sub/c.txt) does not exist", "missing" },
    { core.file_part(nil, dir, dir .. "/sub", { "./c.txt" }, true) })
  -- declared twice, once required: required
  t.eq({ nil, "c.txt does not exist", "missing" },
    { core.file_part(nil, dir, dir, { { "c.txt", optional = true }, "c.txt" }, true) })
  t.raises("files[2] must be a path or {path, optional = true}", core.file_part, nil, dir, dir,
    { "a", 7 }, true)
  local line = debug.getinfo(1, "l").currentline + 1
  local ok, err = pcall(function() af.agent("cat-files", { files = { dir .. "/nothing.txt" } }) end)
  t.eq(false, ok)
  t.contains(err, "test_cache.lua:" .. line .. ": agent cat-files: files: ")
  t.contains(err, "/nothing.txt) does not exist (declare it as { path, optional = true }")
  ok, err = pcall(af.define_agent, "bad-files", { run = print, files = { { optional = true } } })
  t.eq(false, ok)
  t.contains(err, "files[1] must be a path or { path, optional = true }")
  t.eq("success", af.agent("cat-files", { files = { { dir .. "/nothing.txt", optional = true } } }).status)
end)

t.test("globs: a glob may match nothing; outside the root, matches are named absolute", function()
  -- (the test directories lie in build/, which git ignores: globs there match nothing)
  local dir = t.tmpdir()
  t.write(dir .. "/m1.dat", "1")
  t.eq("", files.part({ dir .. "/*.dat" }, true))
  local out = af.exec({ "mktemp", "-d" }).stdout:match("[^\n]+")
  t.write(out .. "/m2.dat", "2")
  t.eq(out .. "/m2.dat\0" .. hash_of(out .. "/m2.dat"), files.part({ out .. "/*.dat", out .. "/*.none" }, true))
  af.exec({ "rm", "-r", out })
  t.eq("tests/lua/test_cache.lua", files.key_path(require("agentflow.core").script_path()))
end)

t.test("diff names what changed", function()
  local old = { definition = "d", prompt = "p", params = "x", files = { ["a.lua"] = "1", ["b.lua"] = "2" },
    configs = { ["c.toml"] = "3" }, env = { TOKEN = "h1" }, commit = "c1" }
  local new = { definition = "d2", prompt = "p", params = "y", files = { ["a.lua"] = "9", ["b.lua"] = "missing",
    ["n.lua"] = "5" }, configs = { ["c.toml"] = "4" }, env = { TOKEN = "h2" }, commit = "c2" }
  t.eq({ "agent definition", "params", "commit", "files: a.lua, n.lua (new)", "missing: b.lua",
    "config: c.toml", "env: TOKEN" }, cache.diff(old, new))
end)

t.test("TTLs: per agent, per call, never; the seed's defaults", function()
  t.eq(168 * 3600, cache.ttl({ name = "business-logic-validator" }))
  t.eq(48 * 3600, cache.ttl({ name = "api-integration-tester" }))
  t.eq(24 * 3600, cache.ttl({ name = "other" }))
  af.define_agent("forever", { run = function() return 1 end, ttl = "never" })
  local r = af.agent("forever")
  t.eq(false, r.cached)
  t.eq(true, af.agent("forever").cached)
  local e = cache.entry(r.key)
  t.eq(nil, e.expires_at)
  local r2 = af.agent("forever", { ttl = "2h", prompt = "x" })
  local e2 = cache.entry(r2.key)
  t.eq(true, math.abs(e2.expires_at - e2.created - 7200) < 1)
end)

t.test("secrets in env reach the key only as hashes", function()
  af.define_agent("secretive", { run = function() return 1 end, env = { API_TOKEN = "s3cr3t-value" } })
  local r = af.agent("secretive")
  local raw = require("agentflow._store").get():get("manifests", r.key)
  t.eq(nil, raw:find("s3cr3t", 1, true))
  t.eq("table", type(cache.manifest(r.key).parts.env))
end)

t.test("bad invalidate_on is an error at the caller's line", function()
  local line = debug.getinfo(1, "l").currentline + 1
  local ok, err = pcall(function() af.define_agent("x", { run = print, invalidate_on = { "files", "moon" } }) end)
  t.eq(false, ok)
  t.contains(err, "test_cache.lua:" .. line .. ":")
  t.contains(err, '"moon" is not one of files, configs, commit, branch')
end)

t.test("packed values round-trip: integers stay integers, JSON null stays", function()
  local core = require "agentflow.core"
  local null = require("cjson").null
  local v = { 1, 2.5, "a\0b", { x = null, y = false }, n = math.mininteger, f = 0.1, [7] = "sparse" }
  local back = core.unpack(assert(core.pack(v)))
  t.eq(v, back)
  t.eq("integer", math.type(back.n))
  t.eq("float", math.type(back[2]))
  t.eq(null, back[4].x)
  local holey = { [1] = "a", [3] = "c", x = "y" } -- its length may be 3: still not a sequence
  t.eq(holey, core.unpack(core.pack(holey)))
  t.eq({ ["1"] = "a", ["3"] = "c", x = "y" }, require("cjson").decode(core.log_json(holey)))
  local a, b, c = core.unpack(core.pack(1) .. core.pack(nil) .. core.pack("three"))
  t.eq({ 1, nil, "three" }, { a, b, c })
  t.eq(1, select("#", core.unpack(core.pack(1) .. core.pack(2), 1)))
  local cyc = {}
  cyc.self = cyc
  t.eq({ nil, "a table nested too deeply (or a cycle)" }, { core.pack(cyc) })
  t.eq({ nil, "a function cannot be stored" }, { core.pack({ print }) })
  t.eq({ nil, "truncated packed value" }, { core.unpack(core.pack("abcdef"):sub(1, 3)) })
  t.eq({ nil, "not a packed value" }, { core.unpack("\xc1") })
end)

t.test("the reader takes every size of every packed type, and damaged bytes are an error", function()
  local core = require "agentflow.core"
  local values = { 0, 127, 128, 255, 256, 65535, 65536, 4294967295, 4294967296, math.maxinteger,
    -1, -32, -33, -128, -129, -32768, -32769, -2147483648, -2147483649, math.mininteger,
    0.5, -1e300, "", string.rep("s", 31), string.rep("s", 32), string.rep("s", 255),
    string.rep("s", 256), string.rep("s", 65536) }
  for _, v in ipairs(values) do
    local back = core.unpack(core.pack(v))
    t.eq(v, back)
    t.eq(math.type(v), math.type(back))
  end
  local long, wide = {}, {}
  for i = 1, 70000 do
    long[i] = i
  end
  for i = 1, 20 do
    wide["k" .. i] = i
  end
  t.eq(long, core.unpack(core.pack(long)))
  t.eq(wide, core.unpack(core.pack(wide)))
  -- written by other packers: float 32, bin 8, an extension (nil), nil and NaN map keys (skipped)
  t.eq(1.5, core.unpack("\xca\x3f\xc0\x00\x00"))
  t.eq("ab", core.unpack("\xc4\x02ab"))
  t.eq({ nil, 7 }, { core.unpack("\xd4\x01\xff\x07") })
  t.eq({ a = 1 }, core.unpack("\x83\xc0\x01\xcb\x7f\xf8\x00\x00\x00\x00\x00\x00\x02\xa1a\x01"))
  t.eq({ nil, "truncated packed value" }, { core.unpack("\xdd\xff\xff\xff\xff\x01") })
  t.eq({ nil, "truncated packed value" }, { core.unpack("\x92\x01") })
  t.eq({ nil, "not a packed value" }, { core.unpack(string.rep("\x91", 100) .. "\x01") })
end)

t.test("a hit answered before preparing the call gives the full path's record", function()
  local n = 0
  af.define_agent("counted", { run = function() n = n + 1; return { status = "success", output = "out\nmore",
    tokens = { input = 7, output = 3 }, metrics = { score = 2 } } end })
  local first = af.agent("counted", { prompt = "p" })
  local quick = af.agent("counted", { prompt = "p" })
  local full = af.agent("counted", { prompt = "p", retries = 1 }) -- a policy option: the full path
  t.eq(1, n)
  t.eq(false, first.cached)
  for _, r in ipairs({ quick, full }) do
    t.eq(true, r.cached)
    t.eq(first.key, r.key)
    t.eq("out", r.summary)
    t.eq("out\nmore", r.output)
    t.eq({ input = 7, output = 3 }, r.tokens)
    t.eq("integer", math.type(r.tokens.input))
    t.eq({ score = 2 }, r.metrics)
    t.eq(0, r.attempts)
    t.eq(0, r.cost_usd)
  end
  t.eq(quick.step + 1, full.step)
  local same = { step = true, duration = true }
  for k, v in pairs(full) do
    t.eq(same[k] or v, same[k] or quick[k])
  end
  for k in pairs(quick) do
    t.eq(true, full[k] ~= nil)
  end
  -- and the same "step ended" log record, but for the step and its duration
  local log = require "agentflow.log"
  log.flush()
  local records = {}
  for line in io.lines(log.path()) do
    local rec = require("cjson").decode(line)
    if rec.message == "step ended" and rec.context.key == first.key then
      rec.context.step, rec.context.duration = nil, nil
      records[#records + 1] = { level = rec.level, context = rec.context }
    end
  end
  t.eq(records[#records - 1], records[#records])
  t.eq(true, records[#records].context.cached)
  t.eq(7, records[#records].context.tokens_in)
end)

t.test("an entry of another format version misses", function()
  local n = 0
  af.define_agent("versioned", { run = function() n = n + 1; return "x" end })
  local r = af.agent("versioned", { prompt = "v" })
  local s = store.get()
  s:write({ { "entries", r.key, '{"v":1,"result":{"status":"success"}}' } })
  t.eq(nil, cache.entry(r.key))
  t.eq(false, af.agent("versioned", { prompt = "v" }).cached)
  t.eq(2, n)
end)

t.test("a key's hash is the hash of its length-prefixed parts, short or long", function()
  local core = require "agentflow.core"
  local big, huge = string.rep("x", 1000), string.rep("y", 5000)
  for _, parts in ipairs({ {}, { "" }, { "a", "bc" }, { big }, { big, big, "z" }, { "a", huge, "b" },
    { huge, huge } }) do
    t.eq(core.hash(string.pack(string.rep("s4", #parts), table.unpack(parts))),
      core.hash_parts(table.unpack(parts)))
  end
end)

t.test("counts of hits and misses reach the counters once the run's are written", function()
  local h = cache.handle()
  h:count_hit("t-agent", "t-key")
  h:count_hit("t-agent", "t-key")
  h:count_miss("t-agent")
  t.eq(0, (h:access("t-key")))
  h:flush_counts(1764000000.5)
  local n, last = h:access("t-key")
  t.eq(2, n)
  t.eq(1764000000.5, last)
  local row
  for _, a in ipairs(h:stats()) do
    if a.agent == "t-agent" then
      row = a
    end
  end
  t.eq({ agent = "t-agent", entries = 0, bytes = 0, hits = 2, misses = 1 }, row)
end)

t.test("has_only checks every key and the type of its value", function()
  local core = require "agentflow.core"
  local inputs = { prompt = "string", params = "table" }
  t.eq(true, core.has_only({}, inputs))
  t.eq(true, core.has_only({ prompt = "p", params = {} }, inputs))
  t.eq(false, core.has_only({ prompt = 1 }, inputs))
  t.eq(false, core.has_only({ prompt = "p", retries = 1 }, inputs))
  t.eq(false, core.has_only({ [1] = "p" }, inputs))
end)

t.test("log contexts are encoded as JSON in C", function()
  local core = require "agentflow.core"
  local cjson = require "cjson"
  local ctx = { s = "q\"\\\n\t\1/", i = -42, f = 1.25e-05, b = true, list = { 1, "two" }, empty = {},
    nested = { a = { b = 3 } }, fn = print, null = cjson.null, inf = math.huge }
  local back = cjson.decode(core.log_json(ctx))
  t.eq("q\"\\\n\t\1/", back.s)
  t.eq(-42, back.i)
  t.eq(1.25e-05, back.f)
  t.eq(true, back.b)
  t.eq({ 1, "two" }, back.list)
  t.eq({ a = { b = 3 } }, back.nested)
  t.eq(cjson.null, back.null)
  t.eq(cjson.null, back.inf)
  t.contains(back.fn, "function: ")
  t.eq("{}", core.log_json({}))
  for _, x in ipairs({ 0.5, 123456.789, 1e-7, 3.14159265358979, -2.5e20, 99999999999999.9 }) do
    t.eq(true, math.abs(cjson.decode(core.log_json({ x }))[1] - x) <= math.abs(x) * 1e-13)
  end
end)

t.test("a step record is written straight from the result record", function()
  local core = require "agentflow.core"
  local r = { step = 7, status = "success", duration = 0.25, cached = true, attempts = 0,
    cost_usd = 0, key = "ab12", tokens = { input = 3, output = 4 }, summary = string.rep("s", 300),
    output = "not logged", metrics = { n = 1 } }
  t.eq('{"run_id":"R1","step":7,"agent":"a","status":"success","duration":0.25,"cached":true,'
    .. '"attempts":0,"cost_usd":0,"key":"ab12","tokens_in":3,"tokens_out":4,"summary":"'
    .. string.rep("s", 200) .. '"}', core.log_step_json("R1", "a", r))
  t.eq('{"agent":"b","status":"failed","error":"boom \\"x\\""}',
    core.log_step_json(nil, "b", { status = "failed", error = 'boom "x"', summary = false }))
end)

t.done()
