--- Agents that edit files (`edits = true`): each such step runs in a
-- workspace of its own, a git worktree of the project at what the step's
-- inputs saw (the commit and the uncommitted changes, untracked files
-- included, ignored ones not); its changes come back as a patch (new,
-- modified, deleted and renamed files, modes, binary files) that is part
-- of its result, stored content-addressed under <state dir>/patches, and
-- applied to the user's work tree when the step succeeds (`apply =
-- "auto"`, the default; "manual" or false keep it for `agentflow diff`).
--
-- A cache hit applies the stored patch exactly as the agent's run would
-- have; a step the journal replays does not apply it again (it was
-- applied before its completion was recorded), and a patch found already
-- applied (a crash between the two) is passed over. Patches of steps
-- running at once are applied in step order; one that does not apply
-- cleanly fails its step, naming the paths, and leaves the tree as it was
-- (git apply checks every hunk before it writes).
--
-- Git runs as a program (argv, no shell): worktrees are the git CLI's.
-- The user's index is never written: the workspace's base is made with an
-- index of its own.
local core = require "agentflow.core"
local exec = require "agentflow._exec"
local cache = require "agentflow._cache"
local files = require "agentflow._files"
local journal = require "agentflow._journal"
local runs = require "agentflow._runs"
local util = require "agentflow._util"

local M = {}

-- Who git says made the workspace's base commit (it needs a name).
local IDENTITY = { GIT_AUTHOR_NAME = "agentflow", GIT_AUTHOR_EMAIL = "agentflow@localhost",
  GIT_COMMITTER_NAME = "agentflow", GIT_COMMITTER_EMAIL = "agentflow@localhost" }

-- Run git with `args` in `dir`; returns stdout, or raises with what git said.
local function git(dir, args, opts)
  opts = opts or {}
  local argv = { "git", "-C", dir }
  for _, a in ipairs(args) do
    argv[#argv + 1] = a
  end
  local env = {}
  for k, v in pairs(IDENTITY) do
    env[k] = v
  end
  for k, v in pairs(opts.env or {}) do
    env[k] = v
  end
  local r = exec.exec(argv, { stdin = opts.stdin, env = env, max_output = 1 << 30 })
  if r.code ~= 0 and not opts.may_fail then
    error(string.format("git %s: %s", args[1], (r.stderr or r.error or ""):gsub("%s+$", "")), 0)
  end
  return r.stdout or "", r
end

-- A path git printed for `git -C root`: relative ones are from the root.
local function from_root(root, path)
  return path:sub(1, 1) == "/" and path or root .. "/" .. path
end

--- The project root as a git work tree and the path of its index; raises
-- {exit 69} naming why an editing step cannot run there: not a
-- repository, or a merge in progress.
function M.check_repository()
  local root = files.root()
  local out, r = git(root, { "rev-parse", "--show-toplevel", "--git-path", "index", "--git-path", "MERGE_HEAD" },
    { may_fail = true })
  if r.code ~= 0 then
    error(util.exit_error(69, string.format(
      "edits = true needs a git repository: %s is not in one (git init, or run the workflow in one)",
      root)), 0)
  end
  local _, index, merge = out:match("^([^\n]*)\n([^\n]*)\n([^\n]*)")
  local f = io.open(from_root(root, merge))
  if f then
    f:close()
    error(util.exit_error(69, string.format(
      "a merge is in progress in %s: finish or abort it before running editing steps", root)), 0)
  end
  return root, from_root(root, index)
end

-- The directory of workspaces and of patches under the state directory.
local function state_path(name)
  return assert(core.state_dir(true)) .. "/" .. name
end

-- Copy file `from` to `to` (nothing when `from` is missing).
local function copy_file(from, to)
  local data = util.read_file(from)
  if data then
    local f = assert(io.open(to, "wb"))
    f:write(data)
    f:close()
  end
end

-- The pathspec that leaves the state directory out of a snapshot: none
-- when it lies outside the tree or git ignores it. Found once.
local state_spec = nil

local function add_args(root)
  if state_spec == nil then
    state_spec = false
    local state = assert(core.state_dir(true))
    if state:sub(1, #root + 1) == root .. "/" then
      local rel = state:sub(#root + 2)
      local _, ignored = git(root, { "check-ignore", "-q", rel }, { may_fail = true })
      state_spec = ignored.code ~= 0 and ":(exclude)" .. rel
    end
  end
  return state_spec and { "add", "-A", "--", ".", state_spec } or { "add", "-A" }
end

-- A commit of the work tree as it is now (tracked and untracked files,
-- ignored ones and the state directory left out), made with an index of
-- its own: a copy of the user's, so that only changed files are hashed
-- again, and the user's stays as it was.
local function snapshot(root, index, tmp_index)
  local env = { GIT_INDEX_FILE = tmp_index }
  copy_file(index, tmp_index)
  git(root, add_args(root), { env = env })
  local tree = git(root, { "write-tree" }, { env = env }):gsub("\n$", "")
  os.remove(tmp_index)
  local head = git(root, { "rev-parse", "--verify", "-q", "HEAD" }, { may_fail = true }):gsub("\n$", "")
  local commit = { "commit-tree", tree, "-m", "agentflow workspace base" }
  if head ~= "" then
    table.insert(commit, 3, "-p")
    table.insert(commit, 4, head)
  end
  return (git(root, commit):gsub("\n$", ""))
end

local pruned = false

--- A workspace for step `sid` of run `run_id`: {dir, base, cwd (where the
-- agent runs: the current directory's place in it)}. The first one of a
-- process removes those that dead runs left behind (M.prune).
function M.workspace(run_id, sid)
  local root, index = M.check_repository()
  if not pruned then
    pruned = true
    M.prune(function(id)
      local rec = id ~= run_id and runs.get(id)
      return id == run_id or (rec and rec.status == "running")
    end)
  end
  local dir = state_path("workspaces") .. "/" .. run_id .. "/" .. sid:gsub("[^%w.~-]", "_")
  assert(core.mkdir_p(state_path("workspaces") .. "/" .. run_id))
  git(root, { "worktree", "remove", "--force", dir }, { may_fail = true })
  local base = snapshot(root, index, dir .. ".index")
  git(root, { "worktree", "add", "--detach", "-q", dir, base })
  local rel = files.cwd():sub(#root + 2)
  return { dir = dir, base = base, root = root, cwd = rel == "" and dir or dir .. "/" .. rel }
end

--- Remove workspace `ws` (kept with --keep-workspaces).
function M.remove(ws)
  if core.options.keep_workspaces then
    return
  end
  git(ws.root, { "worktree", "remove", "--force", ws.dir }, { may_fail = true })
end

-- The paths a patch touches, from its "diff --git a/X b/Y" lines.
local function patch_paths(text)
  local paths, seen = {}, {}
  for a, b in text:gmatch("diff %-%-git a/(%S+) b/(%S+)") do
    for _, p in ipairs({ a, b }) do
      if not seen[p] then
        seen[p] = true
        paths[#paths + 1] = p
      end
    end
  end
  return paths
end

--- Store patch `text` content-addressed; returns its hash. Written
-- beside its name and renamed, so a name never holds part of a patch.
function M.store(text)
  local hash = core.hash(text)
  local dir = state_path("patches")
  local path = dir .. "/" .. hash .. ".patch"
  local f = io.open(path, "rb")
  if f then
    f:close()
    return hash
  end
  assert(core.mkdir_p(dir))
  local tmp = string.format("%s.%d.tmp", path, core.pid())
  f = assert(io.open(tmp, "wb"))
  local ok, err = f:write(text)
  assert(f:close() and ok, err)
  assert(os.rename(tmp, path))
  return hash
end

--- The text of stored patch `hash`, or nil.
function M.load(hash)
  return util.read_file(state_path("patches") .. "/" .. hash .. ".patch")
end

--- The changes made in workspace `ws`, as {hash, files} (nil when none).
function M.capture(ws)
  git(ws.dir, { "add", "-A" })
  local text = git(ws.dir, { "diff", "--cached", "--binary", "--full-index", "-M", ws.base })
  if text == "" then
    return nil
  end
  return { hash = M.store(text), files = patch_paths(text) }
end

-- The paths git apply names in its complaints.
local function failed_paths(stderr)
  local paths, seen = {}, {}
  for line in stderr:gmatch("[^\n]+") do
    local p = line:match("^error: patch failed: (.-):%d+$") or line:match("^error: (.-): already exists")
      or line:match("^error: (.-): does not exist") or line:match("^error: (.-): patch does not apply")
    if p and not seen[p] then
      seen[p] = true
      paths[#paths + 1] = p
    end
  end
  return paths
end

-- What each file of a patch is after it: {path = blob id, or false for a
-- file the patch deletes}, from its "diff --git", "index OLD..NEW",
-- "deleted file", "rename from/to" lines (--full-index: whole ids).
local function post_images(text)
  local after, current = {}, nil
  for line in text:gmatch("[^\n]+") do
    local a, b = line:match("^diff %-%-git a/(%S+) b/(%S+)$")
    if a then
      current = { a = a, b = b }
      after[b] = after[b] or true -- a rename without changes: b exists
    elseif current then
      local new = line:match("^index %x+%.%.(%x+)")
      if new then
        after[current.b] = not new:match("^0+$") and new
      elseif line:match("^deleted file mode") then
        after[current.a] = false
      elseif line:match("^rename from ") and current.a ~= current.b then
        after[current.a] = false
      end
    end
  end
  return after
end

-- Whether the work tree holds what patch `text` makes already (the patch
-- was applied before a crash kept its step from being recorded).
local function applied_already(root, text)
  local paths, ids = {}, {}
  for path, id in pairs(post_images(text)) do
    local f = io.open(root .. "/" .. path, "rb")
    if f then
      f:close()
    end
    if (id == false) ~= (f == nil) then
      return false
    end
    if type(id) == "string" then
      paths[#paths + 1] = path
      ids[#ids + 1] = id
    end
  end
  if #paths == 0 then
    return true
  end
  local out = git(root, { "hash-object", "--stdin-paths" }, { stdin = table.concat(paths, "\n") .. "\n" })
  local i = 0
  for got in out:gmatch("%x+") do
    i = i + 1
    if got ~= ids[i] then
      return false
    end
  end
  return i == #ids
end

--- Apply stored patch `patch` ({hash, files}) to the work tree, unless it
-- holds the patch's result already. Returns true, or nil and an error
-- naming the paths that conflict (the tree is then as it was).
function M.apply(patch)
  local text = M.load(patch.hash)
  if not text then
    return nil, "its patch " .. patch.hash .. " is not in the state directory"
  end
  local root = M.check_repository()
  if applied_already(root, text) then
    return true
  end
  local args = { "apply", "--binary", "--whitespace=nowarn" }
  local _, r = git(root, args, { stdin = text, may_fail = true })
  if r.code ~= 0 then
    local paths = failed_paths(r.stderr or "")
    return nil, "its patch does not apply: " .. (#paths > 0 and table.concat(paths, ", ")
      or (r.stderr or ""):gsub("%s+$", ""))
  end
  return true
end

-- Editing steps whose patch is still to be applied, by step number: a
-- patch waits for those of earlier steps.
local waiting = {}
local wake = nil

--- Step `step` will apply a patch: later ones wait for it.
function M.expect(step)
  waiting[step] = true
end

-- Whether a step before `step` still has a patch to apply.
local function earlier(step)
  for n in pairs(waiting) do
    if n < step then
      return true
    end
  end
  return false
end

--- Run `fn` once every earlier editing step has applied its patch (or
-- failed), then let the later ones go on.
function M.in_order(step, fn)
  while earlier(step) do
    wake = wake or core.event()
    wake:wait()
  end
  local ok, a, b = pcall(fn)
  M.done(step)
  if not ok then
    error(a, 0)
  end
  return a, b
end

--- Step `step` has nothing more to apply.
function M.done(step)
  waiting[step] = nil
  if wake then
    local w = wake
    wake = nil
    w:set()
  end
end

-- The patches cache entries and journal records name.
local function patches_in_use()
  local used = {}
  local h = cache.handle()
  for _, e in ipairs(h and (h:entries()) or {}) do
    if e.result and e.result.patch then
      used[e.result.patch.hash] = true
    end
  end
  for _, rec in ipairs(runs.list()) do
    for _, step in ipairs(journal.steps(rec.run_id)) do
      local patch = step.result and step.result.patch
      if patch then
        used[patch.hash] = true
      end
    end
  end
  return used
end

--- Remove the stored patches that no cache entry and no journal record
-- names any more (after `cache prune` or `runs prune`). Returns how many.
function M.collect()
  local dir = state_path("patches")
  local names = core.glob(dir, "*.patch") or {}
  if #names == 0 then
    return 0
  end
  local used, n = patches_in_use(), 0
  for _, name in ipairs(names) do
    local hash = name:match("([^/]+)%.patch$")
    if hash and not used[hash] and os.remove(dir .. "/" .. hash .. ".patch") then
      n = n + 1
    end
  end
  return n
end

--- Remove the workspaces that runs left behind (a crash, --keep-workspaces)
-- but those of runs for which live(run_id) is true, and git's records of
-- worktrees that are gone. Returns how many were removed; quiet outside a
-- git repository.
function M.prune(live)
  local root = files.root()
  local list, r = git(root, { "worktree", "list", "--porcelain" }, { may_fail = true })
  if r.code ~= 0 then
    return 0
  end
  local mine, n = state_path("workspaces") .. "/", 0
  for path in list:gmatch("worktree ([^\n]+)") do
    local run_id = path:sub(1, #mine) == mine and path:sub(#mine + 1):match("^([^/]+)/")
    if run_id and not live(run_id) then
      git(root, { "worktree", "remove", "--force", path }, { may_fail = true })
      n = n + 1
    end
  end
  git(root, { "worktree", "prune" }, { may_fail = true })
  return n
end

return M
