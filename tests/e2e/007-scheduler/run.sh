# Workflows on the scheduler, as users run them: exit codes, failures,
# interrupts, progress, and inputs that never pass through a shell.
. ../lib.sh
sandbox
BIN=$AF_TEST_BIN
export AGENTFLOW_PROGRESS=plain

# no_process_left NAME PIDFILE...: none of the pids listed is running
no_process_left() {
	local name=$1 f pid state left=""
	shift
	for f in "$@"; do
		[ -s "$f" ] || left="$left (no pid file $f)"
		for pid in $(cat "$f"); do
			state=$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null)
			case "$state" in "" | Z | X) ;; *) left="$left $pid($state)" ;; esac
		done
	done
	expect_eq "$name" "" "$left"
}

# wait_for FILE: until FILE exists (at most 10 s)
wait_for() {
	local i=0
	while [ ! -e "$1" ] && [ $i -lt 1000 ]; do
		sleep 0.01
		i=$((i + 1))
	done
}

cat >critical.lua <<EOF
af.define_agent("tree", { command = { "$BIN/spawn-tree", "pids" }, grace = "100ms" })
af.define_agent("broken", { command = { "sh", "-c", "while [ ! -e pids ]; do sleep 0.01; done; echo bad input >&2; exit 2" },
  retries = 1, backoff = "10ms" })
local rs = af.parallel({ { agent = "tree" }, { agent = "broken" } })
print("not reached")
EOF
run "$AGENTFLOW" critical.lua
expect_rc "a critical failure exits 1" 1
expect_has "it names the workflow line, step and agent" "$ERR" "critical.lua:4: step 2 (broken) failed: exited with code 2: bad input"
expect_has "the run summary says failed" "$ERR" "failed: 2 steps"
expect_eq "nothing after the failure ran" "" "$OUT"
no_process_left "the sibling's processes were killed" pids

cat >degraded.lua <<EOF
af.define_agent("optional", { command = { "false" }, retries = 0, critical = false })
af.define_agent("primary", { command = { "false" }, retries = 0, fallback = "simple" })
af.define_agent("simple", { command = { "echo", "simple answer" } })
local a = af.agent("optional")
local b = af.agent("primary")
print(a.status, b.status, b.output)
EOF
run "$AGENTFLOW" degraded.lua
expect_rc "a non-critical failure finishes the run with 0" 0
expect_eq "statuses are skipped and degraded" "$(printf 'skipped\tdegraded\tsimple answer\n')" "$OUT"
expect_has "a warning says the run is degraded" "$ERR" "warning: step 1: optional failed and was skipped"
expect_has "the fallback is named" "$ERR" "its fallback simple answered"
expect_has "the summary says degraded" "$ERR" "degraded: 2 steps (1 degraded, 1 skipped)"

cat >raises.lua <<'EOF'
local function check(x)
  error("VAT rate missing for " .. x)
end
af.parallel({ function() check("item 7") end })
EOF
run "$AGENTFLOW" raises.lua
expect_rc "a step that raises is a script error" 65
expect_has "the message names the workflow line" "$ERR" "raises.lua:2: VAT rate missing for item 7"
expect_has "a traceback follows" "$ERR" "stack traceback:"
expect_has "it names the calling line" "$ERR" "raises.lua:4:"

cat >typo.lua <<'EOF'
af.define_agent("code-reviewer", { command = { "true" } })

af.agent("code-reveiwer", { prompt = "x" })
EOF
run "$AGENTFLOW" typo.lua
expect_rc "an unknown agent is a script error" 65
expect_has "it is named with the closest name, at its line" "$ERR" \
	'typo.lua:3: unknown agent "code-reveiwer" (did you mean "code-reviewer"?)'

cat >types.lua <<'EOF'
af.exec({ "true" }, { timeout = true })
EOF
run "$AGENTFLOW" types.lua
expect_rc "a wrong argument type is a script error" 65
expect_has "raised at the caller's line" "$ERR" "types.lua:1: af.exec: timeout: a duration must be"

# A prompt full of shell syntax reaches the program unchanged.
mkdir cap
printf '%s' 'rm -rf $(touch pwned1) `touch pwned2`; touch pwned3 && echo "q" '\''s'\'' \
line2 | cat > pwned4 $HOME ${PATH} * ?' >prompt.txt
printf '\nlast line\n' >>prompt.txt
cat >shell.lua <<EOF
local f = assert(io.open("prompt.txt", "rb"))
local prompt = f:read("a")
f:close()
af.define_agent("capture", { command = { "$BIN/capture", "cap", prompt } })
local r = af.agent("capture", { prompt = prompt })
local task = require("cjson").decode(io.open("cap/stdin", "rb"):read("a"))
print(task.prompt == prompt, io.open("cap/arg1", "rb"):read("a") == prompt, r.output)
EOF
run "$AGENTFLOW" shell.lua
expect_rc "the shell-syntax workflow runs" 0
expect_eq "the prompt arrives byte for byte on stdin and in argv" "$(printf 'true\ttrue\tcaptured\n')" "$OUT"
expect_eq "nothing in it was executed" "" "$(ls pwned* 2>/dev/null)"

# --jobs
cat >jobs.lua <<'EOF'
if arg[1] then af.configure({ jobs = tonumber(arg[1]) }) end
print(require("agentflow._exec").jobs().limit)
EOF
run "$AGENTFLOW" run jobs.lua --jobs 3
expect_eq "--jobs sets the process limit" "3" "$OUT"
run "$AGENTFLOW" run jobs.lua -- 5
expect_eq "af.configure sets it without --jobs" "5" "$OUT"
run "$AGENTFLOW" run --jobs 2 jobs.lua -- 5
expect_eq "--jobs wins over af.configure" "2" "$OUT"
run "$AGENTFLOW" run jobs.lua --jobs 0
expect_rc "--jobs 0 is a usage error" 64
expect_has "it says what it wants" "$ERR" "--jobs wants a whole number from 1 to 1024, not '0'"

# Progress goes to stderr, never stdout.
cat >progress.lua <<'EOF'
af.define_agent("ok", { command = { "true" } })
af.parallel({ { agent = "ok" }, { agent = "ok" } })
print("data")
EOF
run "$AGENTFLOW" progress.lua
expect_eq "stdout has only the workflow's data" "data" "$OUT"
expect_has "plain progress lines on stderr" "$ERR" "agentflow: [2/2] ok: success"
AGENTFLOW_PROGRESS=off run "$AGENTFLOW" progress.lua
expect_lacks "AGENTFLOW_PROGRESS=off silences it" "$ERR" "[2/2]"

AGENTFLOW_PROGRESS=line run "$AGENTFLOW" progress.lua
expect_has "the status line is redrawn in place" "$ERR" "$(printf '\r[2/2] ')"
expect_has "and cleared before the summary" "$ERR" "$(printf '\r\033[Kagentflow: run ')"
script -qec "env -u CI TERM=xterm AGENTFLOW_PROGRESS= $AGENTFLOW progress.lua" /dev/null >tty.out 2>&1
expect_has "a terminal gets the status line" "$(cat tty.out)" "$(printf '\r[')"
script -qec "env CI=true TERM=xterm AGENTFLOW_PROGRESS= $AGENTFLOW progress.lua" /dev/null >tty.out 2>&1
expect_has "under CI a terminal gets plain lines" "$(cat tty.out)" "agentflow: [2/2] ok: success"

# SIGINT: children (and a grandchild ignoring SIGTERM) are ended; exit 130.
cat >interrupt.lua <<EOF
af.parallel({
  function() return af.exec({ "$BIN/spawn-tree", "pids1" }, { grace = "200ms" }) end,
  function() return af.exec({ "$BIN/spawn-tree", "pids2" }, { grace = "200ms" }) end,
})
EOF
"$AGENTFLOW" interrupt.lua 2>err &
pid=$!
wait_for pids1
wait_for pids2
kill -INT $pid
wait $pid
RC=$?
expect_rc "SIGINT exits 130" 130
no_process_left "no process is left after SIGINT" pids1 pids2

rm -f pids1 pids2
cat >interrupt2.lua <<EOF
af.exec({ "$BIN/spawn-tree", "pids1" }, { grace = "60s" })
EOF
"$AGENTFLOW" interrupt2.lua 2>err &
pid=$!
wait_for pids1
kill -INT $pid
sleep 0.2
kill -INT $pid
wait $pid
RC=$?
expect_rc "a second SIGINT exits 130 at once" 130
no_process_left "it kills what was still running" pids1

cat >term.lua <<EOF
af.exec({ "$BIN/spawn-tree", "pids1" }, { grace = "100ms" })
EOF
rm -f pids1
"$AGENTFLOW" term.lua 2>err &
pid=$!
wait_for pids1
kill -TERM $pid
wait $pid
RC=$?
expect_rc "SIGTERM exits 130 too" 130
no_process_left "and leaves no process" pids1

done_testing
