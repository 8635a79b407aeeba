#!/usr/bin/env bash
# tools/bench/edits.sh [AGENTFLOW] - what an editing step (edits = true)
# costs in a repository of 10,000 files: its workspace (a git worktree at
# the work tree's state), the patch captured and applied, the worktree
# removed. Beside the same work done by hand with git in the same run:
# `git worktree add` + the edit + `git add -A` + `git diff` + `git apply`
# + `git worktree remove`. Budget: <= 50 ms per step over the agent itself.
set -euo pipefail
af=$(realpath "${1:-build/agentflow}")
files=${FILES:-10000}
steps=${STEPS:-10}
runs=${RUNS:-3}
work=$(mktemp -d)
trap 'git -C "$work/repo" worktree prune 2>/dev/null; rm -rf "$work"' EXIT
export AGENTFLOW_PROGRESS=off GIT_AUTHOR_NAME=b GIT_AUTHOR_EMAIL=b@b GIT_COMMITTER_NAME=b GIT_COMMITTER_EMAIL=b@b

mkdir -p "$work/repo" && cd "$work/repo"
git init -q .
printf '.agentflow/\n' >.gitignore
for d in $(seq 0 99); do
	mkdir -p "src/d$d"
	for f in $(seq 0 $((files / 100 - 1))); do printf 'file %d %d\n' "$d" "$f" >"src/d$d/f$f.txt"; done
done
git add -A && git commit -qm init

cat >"$work/edits.lua" <<LUA
af.define_agent("editor", { edits = true, run = function(task)
  local f = assert(io.open(task.cwd .. "/src/d" .. task.params.i .. "/f1.txt", "a")); f:write("edit\n"); f:close()
  return "ok"
end })
for i = 1, $steps do af.agent("editor", { params = { i = i } }) end
LUA
cat >"$work/by-hand.sh" <<SH2
set -e
cd "$work/repo"
for i in \$(seq $steps); do
	git worktree add -q --detach "$work/wt" HEAD
	echo edit >>"$work/wt/src/d\$i/f1.txt"
	git -C "$work/wt" add -A
	git -C "$work/wt" diff --cached --binary HEAD | git apply --binary
	git worktree remove --force "$work/wt"
done
git checkout -q .
SH2
cat >"$work/noop.lua" <<LUA
af.define_agent("editor", { run = function(task) return "ok" end })
for i = 1, $steps do af.agent("editor", { params = { i = i } }) end
LUA

hyperfine -N --warmup 1 --runs "$runs" --export-json "$work/r.json" \
	--prepare "git -C $work/repo checkout -q ." \
	"bash $work/by-hand.sh" "$af run --no-cache $work/edits.lua" "$af run --no-cache $work/noop.lua" >/dev/null 2>&1
"$af" - "$steps" "$files" "$work/r.json" <<'LUA'
local cjson = require "cjson"
local steps, files = tonumber(arg[1]), tonumber(arg[2])
local f = io.open(arg[3]); local r = cjson.decode(f:read("a")); f:close()
local hand, ours, bare = r.results[1].median, r.results[2].median, r.results[3].median
local per = (ours - bare) / steps * 1000
print(string.format("editing steps in a repository of %d files, %d steps, medians:", files, steps))
print(string.format("  by hand (worktree add, add -A, diff, apply, remove)  %7.1f ms/step", hand / steps * 1000))
print(string.format("  agentflow edits = true, above the same steps without  %7.1f ms/step", per))
print(string.format("budget: <= 50 ms/step: %s", per <= 50 and "within budget" or "OVER BUDGET"))
LUA
