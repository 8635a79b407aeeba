--- Declared input files: what a declared path names, globs expanded, and
-- content hashes through the stat cache.
--
-- A relative path in `files` or `configs` means what it means to the
-- workflow's own io.open: a path from the current directory. Keys name
-- each file relative to the project root (core.path_key), so the same
-- file has the same name whichever directory declared it. A declared
-- entry is a path or {path, optional = true}; a plain path that does not
-- exist is an error unless it is optional, a glob may match nothing.
--
-- The stat cache (core.file_part, in C) keeps, per absolute path, the
-- size, mtime and ctime (ns), inode and content hash seen, with the time
-- the record was made. A record is trusted only when the stat still
-- matches and the file's times are before the record's time (git's "racy"
-- rule): a file changed within the same clock tick as its record keeps
-- its times, so it is hashed again.
local core = require "agentflow.core"
local store = require "agentflow._store"

local M = {}

local root_dir, cwd_dir

--- The project root: the git work tree of the workflow, else the current
-- directory. Keys name files relative to it.
function M.root()
  root_dir = root_dir or core.project_root()
  return root_dir
end

--- The current directory (absolute, symbolic links resolved, as the root
-- is): what relative declared paths start from. Nothing changes it
-- during a run.
function M.cwd()
  cwd_dir = cwd_dir or assert(core.realpath("."))
  return cwd_dir
end

--- The name a key gives `path` (a path or a pattern) declared here:
-- relative to the root when it lies under it ("." for the root), else
-- absolute.
function M.key_path(path)
  return core.path_key(M.root(), M.cwd(), path)
end

--- The path of a declared entry: a path or {path, optional = true}.
function M.path_of(entry)
  return type(entry) == "table" and entry[1] or entry
end

--- The paths of a declared list, as an executor receives them.
function M.paths(list)
  local out = {}
  for i, entry in ipairs(list) do
    out[i] = M.path_of(entry)
  end
  return out
end

--- Check a declared list: each entry a path or {path, optional = true}.
-- Returns nil, or a message naming the entry (`what`[i]).
function M.check(list, what)
  for i, entry in ipairs(list) do
    if type(entry) == "table" then
      if type(entry[1]) ~= "string" or (entry.optional ~= nil and type(entry.optional) ~= "boolean") then
        return string.format("%s[%d] must be a path or { path, optional = true }", what, i)
      end
    elseif type(entry) ~= "string" then
      return string.format("%s[%d] must be a path or { path, optional = true }, not %s", what, i,
        type(entry))
    end
  end
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

-- Files matching `pattern` (as a key names it: see M.key_path), named as
-- keys name them. Under the root: the work tree's files under the
-- pattern's literal directories, through libgit2 in a repository (so
-- ignored files stay out), else by walking the tree; then our glob rules
-- decide (git's pathspecs let `*` cross directories and know no `**`).
-- Outside the root: by walking the tree.
local function match(pattern)
  if pattern:sub(1, 1) == "/" then
    local paths, err = core.glob("", pattern:sub(2))
    for i, p in ipairs(paths or {}) do
      paths[i] = "/" .. p
    end
    return paths, err
  end
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

-- A glob's matches as core.file_part takes them: absolute paths (which it
-- names relative to the root again), optional (a file may go between the
-- listing and its stat).
local function add_matches(out, pattern)
  local paths, err = match(M.key_path(pattern))
  if not paths then
    return nil, err
  end
  local root = M.root() .. "/"
  for _, p in ipairs(paths) do
    out[#out + 1] = { p:sub(1, 1) == "/" and p or root .. p, optional = true }
  end
  return out
end

--- The entries of `list` with its globs expanded: plain entries as they
-- are, each match of a glob as {absolute path, optional = true}.
-- @return entries, or nil and a message
function M.expand(list)
  local out = {}
  for _, entry in ipairs(list) do
    local p = M.path_of(entry)
    if is_glob(p) then
      local ok, err = add_matches(out, p)
      if not ok then
        return nil, err
      end
    else
      out[#out + 1] = entry
    end
  end
  return out
end

--- A cache key's file part for the declared `list`: "path\0hash\0..."
-- over the sorted, distinct files it names (globs expanded), each named
-- relative to the root, with its content hash through the stat cache,
-- "missing" for an optional file that is not there, or "-" without
-- content (core.file_part; new stat records wait for the next commit).
-- nil, a message and "missing" when a required file does not exist; nil,
-- a message and "io" when a glob cannot be expanded or a file read.
function M.part(list, with_content)
  local s, root, cwd = store.get(), M.root(), M.cwd()
  local enc, extra, kind = core.file_part(s, root, cwd, list, with_content)
  if enc == false then -- a glob
    local entries, err = M.expand(list)
    if not entries then
      return nil, err, "io"
    end
    enc, extra, kind = core.file_part(s, root, cwd, entries, with_content)
  end
  if not enc then
    return nil, extra, kind
  end
  if extra and s then
    for abs, rec in pairs(extra) do
      store.later({ "stat", abs, rec })
    end
  end
  return enc
end

return M
