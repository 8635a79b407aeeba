# Agents that edit files (edits = true): workspaces, patches, replay on a hit, order, conflicts, resume.
. ../lib.sh
sandbox
export AGENTFLOW_PROGRESS=plain
export PATH="$AF_TEST_BIN/fake:$PATH"
export FAKE_COUNT="$SANDBOX/agent-runs"
G="git -c user.email=t@example.com -c user.name=t"

# The project: a repository with a few files, the state directory ignored.
project() {
	rm -rf "$1" && mkdir -p "$1/src" && cd "$1" || exit 1
	git init -q .
	printf '.agentflow/\n' >.gitignore
	printf 'one\ntwo\nthree\n' >src/a.txt
	printf 'alpha\n' >src/b.txt
	printf 'old name\n' >src/old.txt
	printf 'doomed\n' >src/gone.txt
	printf '#!/bin/sh\necho hi\n' >src/tool.sh
	$G add -A && $G commit -qm init
	export AGENTFLOW_HOME="$PWD/.agentflow"
	cat >wf.lua <<'LUA'
af.define_agent("editor", { executor = "claude", edits = true, env = { "FAKE_COUNT" } })
local r = af.agent("editor", { prompt = "MODE:edit\nAPPEND src/a.txt four\nWRITE src/new.txt fresh\nDELETE src/gone.txt\nRENAME src/old.txt src/renamed.txt\nBINARY src/blob.bin\nCHMODX src/tool.sh" })
print(r.status, r.cached, r.patch and #r.patch.files)
local rs = af.parallel({
  function() return af.agent("editor", { prompt = "MODE:edit\nAPPEND src/b.txt from-left" }) end,
  function() return af.agent("editor", { prompt = "MODE:edit\nSLEEP " .. (arg[1] or "0") .. "\nAPPEND src/c.txt from-right" }) end,
})
af.define_agent("reader", { executor = "claude", files = { "src/a.txt" } })
print(af.agent("reader", { prompt = "MODE:success" }).cached)
LUA
}

# The state of the work tree: every file but the state directory, with its mode and content hash.
tree_state() {
	find . -path ./.agentflow -prune -o -path ./.git -prune -o -type f -print | LC_ALL=C sort |
		while read -r f; do printf '%s %s %s\n' "$f" "$(stat -c %a "$f")" "$(sha1sum <"$f" | cut -c1-40)"; done
}

project "$SANDBOX/p1"
run "$AGENTFLOW" run wf.lua
expect_rc "an editing workflow runs" 0
expect_eq "its first step changed six files" "success false 7" "$(printf '%s\n' "$OUT" | head -1 | tr '\t' ' ')"
expect_eq "the edits are in the work tree" "four" "$(tail -1 src/a.txt)"
expect_eq "new, deleted, renamed files too" "fresh|gone|gone|renamed" \
	"$(cat src/new.txt)|$([ -e src/gone.txt ] && echo here || echo gone)|$([ -e src/old.txt ] && echo here || echo gone)|$([ -e src/renamed.txt ] && echo renamed)"
expect_eq "a binary file and a mode" "755 yes" "$(stat -c %a src/tool.sh) $(cmp -s src/blob.bin <(printf '\000\001\002\377binary\000') && echo yes)"
expect_eq "both parallel editors landed" "alpha from-left|from-right" "$(tr '\n' ' ' <src/b.txt | sed 's/ $//')|$(cat src/c.txt)"
expect_eq "no workspace is left" "1" "$(git worktree list | wc -l)"
expect_eq "the user's index was not touched" "" "$(git diff --cached --name-only)"
FIRST=$(tree_state)
RUN1=$(ls -t .agentflow/store >/dev/null; "$AGENTFLOW" runs ls --json | jq -r '.[0].run_id')
run "$AGENTFLOW" diff "$RUN1" 1
expect_has "diff shows the step's patch" "$OUT" "diff --git a/src/a.txt b/src/a.txt"
expect_has "with the binary file" "$OUT" "GIT binary patch"
run "$AGENTFLOW" diff "$RUN1" 1 --stat
expect_has "diff --stat counts the changes" "$OUT" "files changed"
run "$AGENTFLOW" report "$RUN1"
expect_has "the report lists the changes" "$OUT" "## Changes"
run "$AGENTFLOW" diff "$RUN1" 4
expect_rc "a step that edits nothing has no patch" 1

# Back to the commit: a rerun is all hits and makes the same tree, paying for no agent.
git checkout -q . && git clean -qfd -e .agentflow -e wf.lua
before=$(wc -l <"$FAKE_COUNT")
run "$AGENTFLOW" run wf.lua
expect_rc "the rerun runs" 0
expect_eq "every step was a hit" "success true 7" "$(printf '%s\n' "$OUT" | head -1 | tr '\t' ' ')"
expect_eq "no agent ran" "$before" "$(wc -l <"$FAKE_COUNT")"
expect_eq "the tree is the first run's" "$FIRST" "$(tree_state)"

# Rerun on the edited tree: the hits find their patches applied and pass them over.
run "$AGENTFLOW" run wf.lua
expect_eq "reapplying the last run's own patches changes nothing" "$FIRST" "$(tree_state)"

# A later step's key holds what earlier patches made: another first edit, the reader misses.
git checkout -q . && git clean -qfd -e .agentflow -e wf.lua
sed -i 's/APPEND src\/a.txt four/APPEND src\/a.txt FOUR/' wf.lua
run "$AGENTFLOW" run wf.lua
expect_eq "the reader of a.txt misses after its edit changed" "false" "$(printf '%s\n' "$OUT" | tail -1)"

# Two editors changing the same lines: the second fails naming the file, the tree keeps the first.
project "$SANDBOX/p2"
cat >clash.lua <<'LUA'
af.define_agent("editor", { executor = "claude", edits = true })
af.parallel({
  function() return af.agent("editor", { prompt = "MODE:edit\nWRITE src/a.txt left" }) end,
  function() return af.agent("editor", { prompt = "MODE:edit\nWRITE src/a.txt right" }) end,
})
LUA
run "$AGENTFLOW" run clash.lua
expect_rc "conflicting patches fail the run" 1
expect_has "naming the path" "$ERR" "its patch does not apply: src/a.txt"
expect_eq "the first patch (in step order) is in the tree, never half of the second" "left" "$(cat src/a.txt)"

# A dirty index is left as it is: the patch goes to the work tree only.
git checkout -q . && printf 'staged\n' >>src/b.txt && git add src/b.txt
cat >dirty.lua <<'LUA'
af.define_agent("editor", { executor = "claude", edits = true })
af.agent("editor", { prompt = "MODE:edit\nAPPEND src/tool.sh # edited" })
LUA
run "$AGENTFLOW" run dirty.lua
expect_rc "an editing step runs with changes staged" 0
expect_eq "the staged change stays staged, and only it" "src/b.txt" "$(git diff --cached --name-only)"
expect_eq "the edit is in the work tree" "# edited" "$(tail -1 src/tool.sh)"
git reset -q && git checkout -q .

# apply = "manual": the patch is kept, the tree is not touched.
cat >manual.lua <<'LUA'
af.define_agent("proposer", { executor = "claude", edits = true, apply = "manual" })
print(af.agent("proposer", { prompt = "MODE:edit\nAPPEND src/b.txt proposed" }).patch.files[1])
LUA
run "$AGENTFLOW" run manual.lua
expect_eq "a manual patch names its files" "src/b.txt" "$OUT"
expect_eq "and leaves the tree alone" "alpha" "$(cat src/b.txt)"

# --keep-workspaces keeps them; the next editing run removes what a finished run left.
run "$AGENTFLOW" run --no-cache --keep-workspaces manual.lua
expect_eq "--keep-workspaces keeps the worktree" "2" "$(git worktree list | wc -l)"
run "$AGENTFLOW" run --no-cache manual.lua
expect_eq "the next run removes it" "1" "$(git worktree list | wc -l)"

# Not a repository, a merge in progress: clear errors, for editing steps only.
PLAIN=$(mktemp -d /tmp/agentflow-plain.XXXXXX) # outside every repository
cd "$PLAIN" && export AGENTFLOW_HOME="$PWD/.agentflow"
printf 'af.define_agent("editor", { executor = "claude", edits = true })\naf.agent("editor", { prompt = "MODE:edit" })\n' >e.lua
run "$AGENTFLOW" run e.lua
expect_rc "edits = true outside a repository exits 69" 69
expect_has "saying why" "$ERR" "edits = true needs a git repository"
printf 'af.define_agent("x", { executor = "claude" })\nprint(af.agent("x", { prompt = "MODE:success" }).status)\n' >n.lua
run "$AGENTFLOW" run n.lua
rm -rf "$PLAIN"
expect_eq "other agents run there" "success" "$OUT"
cd "$SANDBOX/p2" && export AGENTFLOW_HOME="$PWD/.agentflow"
git checkout -q . && printf 'x\n' >src/m.txt && $G add -A && $G commit -qm base
git checkout -q -b side && printf 'side\n' >src/m.txt && $G commit -qam side
git checkout -q master 2>/dev/null || git checkout -q main
printf 'main\n' >src/m.txt && $G commit -qam main
git merge -q side >/dev/null 2>&1
run "$AGENTFLOW" run --no-cache manual.lua
expect_rc "a merge in progress is refused" 69
expect_has "with a message" "$ERR" "a merge is in progress"
git merge --abort

# kill -9 during an editing step, then resume: the tree an uninterrupted run makes.
project "$SANDBOX/whole"
"$AGENTFLOW" wf.lua 0 >/dev/null 2>&1
WHOLE=$(tree_state)
project "$SANDBOX/p3"
: >"$FAKE_COUNT"
"$AGENTFLOW" wf.lua 5 >/dev/null 2>&1 &
pid=$!
# killed while the right-hand editor sleeps, once the left one's patch is in
for _ in $(seq 300); do grep -q from-left src/b.txt 2>/dev/null && [ "$(wc -l <"$FAKE_COUNT")" -ge 3 ] && break; sleep 0.1; done
kill -9 "$pid"
wait "$pid" 2>/dev/null
RUN3=$("$AGENTFLOW" runs ls --json | jq -r '.[0].run_id')
run "$AGENTFLOW" resume "$RUN3"
expect_rc "the killed editing run resumes" 0
expect_eq "to the tree of an uninterrupted run" "$WHOLE" "$(tree_state)"
expect_eq "with no stale worktree" "1" "$(git worktree list | wc -l)"
expect_eq "each finished step ran once, the killed one again" "4" "$(wc -l <"$FAKE_COUNT")"

# Patches stay while a cache entry or a journal record names them.
"$AGENTFLOW" cache invalidate --all >/dev/null && "$AGENTFLOW" cache prune >/dev/null
expect_eq "the journal's records keep the three patches" "3" "$(ls .agentflow/patches | wc -l)"
"$AGENTFLOW" runs prune --older-than 0s >/dev/null
expect_eq "then they go" "0" "$(ls .agentflow/patches | wc -l)"

done_testing
