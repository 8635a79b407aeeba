--- Declared input files: globs expanded against the project root, and
-- content hashes through the stat cache.
--
-- The stat cache (core.file_part, in C) keeps, per absolute path, the
-- size, mtime (ns), inode and content hash seen, with the time the record
-- was made. A record is trusted only when the stat still matches and the
-- file's mtime is before the record's time (git's "racy" rule): a file
-- changed within the same clock tick as its record keeps its mtime, so it
-- is hashed again.
local core = require "agentflow.core"
local store = require "agentflow._store"

local M = {}

local root_dir

--- The directory declared paths are relative to: the git work tree of the
-- workflow, else the current directory.
function M.root()
  root_dir = root_dir or core.project_root()
  return root_dir
end

-- Plain searches: a pattern class would test every byte of every declared
-- path at every call.
local function is_glob(p)
  return p:find("*", 1, true) or p:find("?", 1, true) or p:find("[", 1, true)
end

-- The literal leading directories of a pattern ("erp/x" for "erp/x/*.lua").
local function literal_dir(pattern)
  local dir = ""
  for seg in pattern:gmatch("([^/]*)/") do
    if seg:find("[*?[]") then
      break
    end
    dir = dir == "" and seg or dir .. "/" .. seg
  end
  return dir
end

-- Files matching `pattern`: the work tree's files under the pattern's
-- literal directories, through libgit2 in a repository (so ignored files
-- stay out), else by walking the tree; then our glob rules decide (git's
-- pathspecs let `*` cross directories and know no `**`).
local function match(pattern)
  local root = M.root()
  local dir = literal_dir(pattern)
  local paths, err, kind = core.git_match(root, dir == "" and "*" or dir)
  if not paths then
    if kind == "io" then
      return nil, err
    end
    return core.glob(root, pattern)
  end
  local out = {}
  for _, p in ipairs(paths) do
    if core.glob_match(pattern, p) and not p:find("^%.agentflow/") then
      out[#out + 1] = p
    end
  end
  return out
end

--- The sorted, distinct paths that `patterns` name (globs expanded; plain
-- paths kept even when missing, so a deleted file is noticed).
-- @return paths, or nil and a message
function M.expand(patterns)
  local seen, out = {}, {}
  for _, p in ipairs(patterns) do
    local list, err = { p }, nil
    if is_glob(p) then
      list, err = match(p)
      if not list then
        return nil, err
      end
    end
    for _, path in ipairs(list) do
      if not seen[path] then
        seen[path] = true
        out[#out + 1] = path
      end
    end
  end
  for i = 2, #out do
    if out[i] < out[i - 1] then -- declared lists come sorted often: then no sort
      table.sort(out)
      break
    end
  end
  return out
end

--- A cache key's file part for `patterns`: "path\0hash\0..." over the
-- sorted, distinct paths they name (see M.expand), each with its content
-- hash through the stat cache, "missing" for a file that is not there, or
-- "-" without content (core.file_part; new stat records wait for the next
-- commit). nil and a message when a glob cannot be expanded or a file
-- cannot be read.
function M.part(patterns, with_content)
  local s, root = store.get(), M.root()
  local enc, extra = core.file_part(s, root, patterns, with_content)
  if enc == false then -- a glob
    local paths, err = M.expand(patterns)
    if not paths then
      return nil, err
    end
    enc, extra = core.file_part(s, root, paths, with_content)
  end
  if not enc then
    return nil, extra
  end
  if extra and s then
    for abs, rec in pairs(extra) do
      store.later({ "stat", abs, rec })
    end
  end
  return enc
end

return M
