-- The cache's parts: canonical encoding, the stat cache and its racy rule,
-- and the reasons a key changed.
local t = require "testing"
local canon = require "agentflow._canon"
local files = require "agentflow._files"
local store = require "agentflow._store"
local cache = require "agentflow._cache"

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

t.test("a file changed within its record's clock tick is hashed again", function()
  local dir = t.tmpdir()
  local path = dir .. "/f.txt"
  t.write(path, "aaaa")
  -- Pin the mtime in the future: the record made now is racy.
  assert(af.exec({ "touch", "-d", "@" .. (os.time() + 100) .. ".5", path }).code == 0)
  local h1 = files.hash(path)
  store.flush()
  t.write(path, "bbbb") -- same size; restore the same mtime
  assert(af.exec({ "touch", "-d", "@" .. (os.time() + 100) .. ".5", path }).code == 0)
  local h2 = files.hash(path)
  t.eq(false, h1 == h2)
end)

t.test("a settled file is served from the stat cache", function()
  local dir = t.tmpdir()
  local path = dir .. "/g.txt"
  t.write(path, "cccc")
  assert(af.exec({ "touch", "-d", "@1000000000", path }).code == 0)
  local h1 = files.hash(path)
  store.flush()
  -- Same size and mtime, different content: a settled record is trusted,
  -- which is what makes an unchanged file cost one stat().
  t.write(path, "dddd")
  assert(af.exec({ "touch", "-d", "@1000000000", path }).code == 0)
  t.eq(h1, files.hash(path))
  t.eq(nil, (files.hash(dir .. "/missing.txt")))
  t.eq("missing", select(2, files.hash(dir .. "/missing.txt")))
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
end)

t.test("bad invalidate_on is an error at the caller's line", function()
  local line = debug.getinfo(1, "l").currentline + 1
  local ok, err = pcall(function() af.define_agent("x", { run = print, invalidate_on = { "files", "moon" } }) end)
  t.eq(false, ok)
  t.contains(err, "test_cache.lua:" .. line .. ":")
  t.contains(err, '"moon" is not one of files, configs, commit, branch')
end)

t.done()
