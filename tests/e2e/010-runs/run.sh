# Durable runs: the journal, resume after SIGINT and SIGKILL, run history,
# reports and the CI outputs.
. ../lib.sh
sandbox
export AGENTFLOW_PROGRESS=off

# Five steps; each appends its name to the ledger when it executes. Step 4
# waits for the file "go" (so a test can interrupt it there).
cat >wf.lua <<'EOF'
local function step(name, wait)
  local script = "cat >/dev/null; echo " .. name .. " >> ledger; "
  if wait then
    script = script .. "touch waiting; while [ ! -e go ]; do sleep 0.02; done; "
  end
  af.define_agent(name, { command = { "sh", "-c", script .. "echo " .. name .. "-out" }, cache = false })
  return af.agent(name, { prompt = "do " .. name })
end
step("a")
step("b")
step("c")
step("d", true)
local r = step("e")
print("last", r.output)
EOF
count() { grep -c "^$1\$" ledger; }

# stop_at_hold SIGNAL SCRIPT: run SCRIPT until one of its agents touches
# "waiting", then send SIGNAL. Sets RC (its exit status) and STOPPED_RUN
# (the run id of the resume command it printed; empty after SIGKILL).
stop_at_hold() {
	local pid
	rm -f waiting go
	"$AGENTFLOW" "$2" >out 2>err &
	pid=$!
	for _ in $(seq 500); do [ -e waiting ] && break; sleep 0.02; done
	kill "-$1" $pid
	wait $pid && RC=0 || RC=$?
	STOPPED_RUN=$(sed -n 's/^agentflow: resume with: agentflow resume //p' err)
}

# A live run reads "running" however much memory it has taken since its
# record was written (a Lua agent step, then a process that waits).
cat >alive.lua <<'EOF'
af.define_agent("a", { run = function() return "x" end })
af.agent("a", { prompt = "p" })
af.exec({ "sh", "-c", "touch waiting; while [ ! -e go ]; do sleep 0.02; done" })
EOF
rm -f waiting go
"$AGENTFLOW" alive.lua >out 2>err &
alive_pid=$!
for _ in $(seq 500); do [ -e waiting ] && break; sleep 0.02; done
run "$AGENTFLOW" runs --json
expect_eq "a live run reads running" "running" "$(printf '%s' "$OUT" | jq -r '.[0].status')"
run "$AGENTFLOW" runs
expect_has "in the table too" "$OUT" " running "
touch go
wait $alive_pid
run "$AGENTFLOW" runs --json
expect_eq "and done once it has ended" "done 2" "$(printf '%s' "$OUT" | jq -r '.[0] | "\(.status) \(.steps.success)"')"
run "$AGENTFLOW" runs prune --older-than 0s

stop_at_hold INT wf.lua
expect_rc "SIGINT exits 130" 130
run_id=$STOPPED_RUN
expect_eq "it prints the exact resume command" "true" "$([ -n "$run_id" ] && echo true)"
run "$AGENTFLOW" runs --json
expect_eq "runs --json lists the run as interrupted" "interrupted" \
	"$(printf '%s' "$OUT" | jq -r --arg id "$run_id" '.[] | select(.run_id == $id) | .status')"
expect_eq "with the fields of the contract" "true" \
	"$(printf '%s' "$OUT" | jq '.[0] | has("run_id") and has("workflow") and has("status") and has("started_at") and has("finished_at")')"

touch go
run "$AGENTFLOW" resume "$run_id"
expect_rc "resume finishes the run" 0
expect_has "with the workflow's output" "$OUT" "last	e-out"
expect_eq "finished steps did not run again" "1 1 1" "$(count a) $(count b) $(count c)"
expect_eq "the interrupted step ran again, at least once" "2" "$(count d)"
expect_eq "and the rest ran once" "1" "$(count e)"
run "$AGENTFLOW" runs show "$run_id" --json
expect_eq "the run is now done" "done" "$(printf '%s' "$OUT" | jq -r .status)"
run "$AGENTFLOW" resume "$run_id"
expect_rc "resuming a finished run exits 0" 0
expect_has "and says so" "$OUT" "nothing to resume"

# SIGKILL: the run shows as interrupted (its process is gone) and resumes.
rm -f ledger
stop_at_hold KILL wf.lua
run "$AGENTFLOW" runs --json
run_id=$(printf '%s' "$OUT" | jq -r '.[0].run_id')
expect_eq "a killed run shows as interrupted" "interrupted" "$(printf '%s' "$OUT" | jq -r '.[0].status')"
expect_eq "with the steps its journal holds as ended (the one running is not)" "3" \
	"$(printf '%s' "$OUT" | jq -r '.[0].steps.success')"
expect_eq "and a duration and end, as an ended run has" "true" \
	"$(printf '%s' "$OUT" | jq '.[0] | (.duration | type == "number") and (.finished_at | type == "string")')"
run "$AGENTFLOW" runs
expect_eq "runs counts its steps" "3" "$(printf '%s\n' "$OUT" | awk -v id="$run_id" '$1 == id { print $NF }')"
expect_lacks "and shows its duration" "$(printf '%s\n' "$OUT" | grep "^$run_id")" " - "
run "$AGENTFLOW" runs show "$run_id"
expect_has "runs show says how many steps ended" "$OUT" "3 steps (3 success) in "
expect_has "and when it stopped" "$OUT" ", stopped 20"
touch go
run "$AGENTFLOW" resume "$run_id"
expect_rc "and resumes" 0
expect_eq "without running finished steps again" "1 1 1 2 1" "$(count a) $(count b) $(count c) $(count d) $(count e)"

# A changed workflow ends replay with a warning naming both steps.
rm -f ledger
stop_at_hold INT wf.lua
run_id=$STOPPED_RUN
sed -i 's/^step("b")$/step("b2")/' wf.lua
touch go
run "$AGENTFLOW" resume "$run_id"
expect_has "a step that differs ends replay, naming both" "$ERR" "step 2: the workflow differs from the journal (recorded b, now b2)"
expect_eq "steps from there run again" "1 1 2" "$(count a) $(count b2) $(count c)"

# af.exec calls are steps too: a resume returns their recorded results.
rm -f exledger
cat >exec.lua <<'EOF'
local r = af.exec({ "sh", "-c", "echo ran >> exledger; echo exec-out" })
af.define_agent("hold", { command = { "sh", "-c", "touch waiting; while [ ! -e go ]; do sleep 0.02; done" }, cache = false })
af.agent("hold")
print(r.stdout, r.code)
EOF
stop_at_hold INT exec.lua
exec_run=$STOPPED_RUN
touch go
run "$AGENTFLOW" resume "$exec_run"
expect_eq "a resumed run gets the recorded af.exec result" "$(printf 'exec-out\n\t0')" "$OUT"
expect_eq "without running the program again" "1" "$(wc -l <exledger | tr -d ' ')"
run "$AGENTFLOW" runs show "$exec_run" --json
expect_eq "the journal says which steps were processes" "exec agent" "$(printf '%s' "$OUT" | jq -r '[.step_records[].kind] | join(" ")')"

# Branches that make several calls start them in another order on replay
# (the first calls replay at once): records are matched by agent and key.
rm -f ledger
cat >branches.lua <<'EOF'
local function agent(name, secs)
  af.define_agent(name, { command = { "sh", "-c", "cat >/dev/null; echo " .. name .. " >> ledger; sleep " .. secs },
    cache = false })
  return name
end
af.parallel({
  function() af.agent(agent("a1", "0.05")) af.agent(agent("a2", "0.05")) end,
  function() af.agent(agent("b1", "0.2")) af.agent(agent("b2", "0.2")) end,
})
af.define_agent("hold", { command = { "sh", "-c", "touch waiting; while [ ! -e go ]; do sleep 0.02; done" }, cache = false })
af.agent("hold")
EOF
stop_at_hold INT branches.lua
branches_run=$STOPPED_RUN
touch go
run "$AGENTFLOW" resume "$branches_run"
expect_lacks "reordered branch steps replay without a warning" "$ERR" "differs from the journal"
expect_eq "none of them runs again" "a1 a2 b1 b2" "$(sort ledger | tr '\n' ' ' | sed 's/ $//')"

# Time and randomness read by the script are journaled: a resume sees the
# values the first run saw.
rm -f values
cat >values.lua <<'EOF'
local t, r, ot = af.now(), math.random(1, 1000000), os.time()
af.define_agent("note", { command = { "sh", "-c", "cat >/dev/null; echo noted" }, cache = false })
af.agent("note")
local f = io.open("values", "a")
f:write(string.format("%.6f %d %d\n", t, r, ot))
f:close()
af.define_agent("hold", { command = { "sh", "-c", "touch waiting; while [ ! -e go ]; do sleep 0.02; done" }, cache = false })
af.agent("hold")
EOF
stop_at_hold INT values.lua
values_run=$STOPPED_RUN
sleep 1.1
touch go
run "$AGENTFLOW" resume "$values_run"
expect_eq "a resumed run reads the time and random numbers the first run read" "1" "$(sort -u values | wc -l | tr -d ' ')"
expect_eq "(both runs wrote them)" "2" "$(wc -l <values | tr -d ' ')"

# Checkpoints and forks.
rm -f ledger
cat >seq.lua <<'EOF'
local steps = {}
for i = 1, 6 do
  local name = "s" .. i
  af.define_agent(name, { command = { "sh", "-c", "cat >/dev/null; echo " .. name .. " >> ledger; echo " .. name }, cache = false })
  steps[i] = { agent = name, prompt = name }
end
af.sequential(steps)
af.checkpoint("all-done")
af.parallel({ { agent = "s1", prompt = "p1" }, { agent = "s2", prompt = "p2" } })
EOF
run "$AGENTFLOW" seq.lua
run "$AGENTFLOW" runs --json
seq_run=$(printf '%s' "$OUT" | jq -r '.[0].run_id')
run "$AGENTFLOW" runs show "$seq_run" --json
expect_eq "the run record keeps the workflow's pattern" "sequential" "$(printf '%s' "$OUT" | jq -r .pattern)"
expect_eq "automatic and named checkpoints are journaled" "sequential#1@3 sequential#2@6 all-done@6 parallel#1@8" \
	"$(printf '%s' "$OUT" | jq -r '[.checkpoints[] | "\(.label)@\(.step)"] | join(" ")')"
rm -f ledger
run "$AGENTFLOW" resume "$seq_run" --from "sequential#1"
expect_rc "resume --from forks a finished run" 0
expect_eq "steps up to the checkpoint replay; the rest execute" "s1 s2 s4 s5 s6" "$(sort ledger | tr '\n' ' ' | sed 's/ $//')"
run "$AGENTFLOW" runs --json
expect_eq "the fork is a new run linked to its parent" "$seq_run" "$(printf '%s' "$OUT" | jq -r '.[0].parent')"
run "$AGENTFLOW" resume "$seq_run" --from nowhere
expect_rc "an unknown checkpoint exits 66" 66
expect_has "naming the ones there are" "$ERR" "it has: sequential#1, sequential#2, all-done, parallel#1"

# -e chunks and a script read from standard input keep no code to run
# again: their runs say so, and resume refuses them.
agent_chunk='af.define_agent("a", { run = function() return "x" end }) af.agent("a", { prompt = "p" })'
run "$AGENTFLOW" -e "$agent_chunk" -e "$agent_chunk"
run "$AGENTFLOW" runs --json
expect_eq "-e chunks make one run, of kind chunk" "chunk (-e) done 2" \
	"$(printf '%s' "$OUT" | jq -r '.[0] | "\(.kind) \(.workflow) \(.status) \(.steps.success)"')"
chunk_run=$(printf '%s' "$OUT" | jq -r '.[0].run_id')
run "$AGENTFLOW" runs show "$chunk_run"
expect_has "runs show says what it ran" "$OUT" "-e chunks (cannot be resumed)"
run "$AGENTFLOW" resume "$chunk_run"
expect_rc "resuming -e chunks exits 66" 66
expect_has "saying why" "$ERR" "ran -e chunks, which are not kept"
run_in "$agent_chunk" "$AGENTFLOW" -
run "$AGENTFLOW" runs --json
expect_eq "a script from standard input is a run of kind stdin" "stdin (stdin) done" \
	"$(printf '%s' "$OUT" | jq -r '.[0] | "\(.kind) \(.workflow) \(.status)"')"
run "$AGENTFLOW" resume "$(printf '%s' "$OUT" | jq -r '.[0].run_id')"
expect_rc "resuming it exits 66" 66
expect_has "saying why" "$ERR" "read from standard input, which is not kept"
run "$AGENTFLOW" runs --json
expect_eq "a script's run is of kind workflow" "workflow" \
	"$(printf '%s' "$OUT" | jq -r --arg id "$seq_run" '.[] | select(.run_id == $id) | .kind')"

run "$AGENTFLOW" resume 20990101T000000Z-00000000
expect_rc "an unknown run exits 66" 66
expect_has "with a message" "$ERR" "no run 20990101T000000Z-00000000"
run "$AGENTFLOW" resume "../../etc"
expect_rc "a malformed run id is a usage error" 64

# Reports and CI outputs.
cat >ci.lua <<'EOF'
af.define_agent("ok", { command = { "echo", "fine" } })
af.define_agent("flaky-docs", { command = { "sh", "-c", "echo 'no <docs> & 50%' >&2; exit 3" }, retries = 0, critical = false })
af.define_agent("broken", { command = { "sh", "-c", "echo 'bad, really: bad' >&2; exit 2" }, retries = 0 })
af.agent("ok")
af.agent("flaky-docs")
if arg[1] == "fail" then af.agent("broken") end
EOF
run "$AGENTFLOW" run ci.lua --junit junit.xml
expect_rc "a degraded run exits 0" 0
expect_eq "--junit writes well-formed XML" "" "$(xmllint --noout junit.xml 2>&1)"
expect_eq "one testcase per step, the skipped one marked" "2 1" \
	"$(xmllint --xpath 'count(//testcase)' junit.xml) $(xmllint --xpath 'count(//testcase/skipped)' junit.xml)"
GITHUB_ACTIONS=true GITHUB_STEP_SUMMARY="$SANDBOX/summary.md" run "$AGENTFLOW" run --ci ci.lua -- fail
expect_rc "a critical failure exits 1" 1
expect_has "GitHub gets an error annotation, escaped" "$OUT" "::error title=step 3 (broken) failed::exited with code 2: bad, really: bad"
expect_has "and a warning for the degraded step" "$OUT" "::warning title=agentflow::step 2: flaky-docs failed"
expect_has "and the Markdown summary" "$(cat summary.md)" "| 3 | broken | failed | no |"
run "$AGENTFLOW" runs --json
ci_run=$(printf '%s' "$OUT" | jq -r '.[0].run_id')
run "$AGENTFLOW" report "$ci_run" --format junit --output r.xml
expect_eq "report --format junit is well-formed" "" "$(xmllint --noout r.xml 2>&1)"
expect_eq "with the failure and its message" "1" "$(xmllint --xpath 'count(//testcase/failure)' r.xml)"
run "$AGENTFLOW" report "$ci_run" --format json
expect_eq "report --format json" "3 failed" "$(printf '%s' "$OUT" | jq -r '"\(.totals.steps) \(.status)"')"
run "$AGENTFLOW" report "$ci_run"
expect_has "report as Markdown by default" "$OUT" "| step | agent | status | cached |"
run "$AGENTFLOW" report "$ci_run" --format pdf
expect_rc "an unknown format is a usage error" 64

run "$AGENTFLOW" runs prune --older-than 0s --json
expect_eq "prune removes ended runs" "true" "$(printf '%s' "$OUT" | jq '.removed >= 6')"
run "$AGENTFLOW" runs --json
expect_eq "and leaves none" "[]" "$OUT"

# Retention: when a run ends (at most once a day), runs that ended longer
# ago than AGENTFLOW_RETENTION go, with their journals.
export AGENTFLOW_HOME="$SANDBOX/retention"
stop_at_hold KILL wf.lua
touch go
run "$AGENTFLOW" runs --json
expect_eq "a killed run is kept" "1" "$(printf '%s' "$OUT" | jq length)"
AGENTFLOW_RETENTION=0s run "$AGENTFLOW" ci.lua
run "$AGENTFLOW" runs --json
expect_eq "the next run to end prunes what is past retention" "ci.lua" "$(printf '%s' "$OUT" | jq -r '[.[].workflow] | join(" ")')"

# A journal written in the previous format (cjson records): `runs` lists
# its run as unreadable and says why, instead of failing; prune removes it.
export AGENTFLOW_HOME="$SANDBOX/old-format"
cat >old.lua <<'EOF'
local s = require("agentflow._store").get()
s:write({ { "runs", "r-old", '{"run_id":"r-old","status":"done","workflow":"wf.lua","started_at":1}' },
  { "journal", "r-old/s/main/1", '{"state":"completed","sid":"main/1","step":1,"agent":"a"}' } })
EOF
run "$AGENTFLOW" old.lua
expect_rc "a store with records of the previous format" 0
run "$AGENTFLOW" runs
expect_rc "runs lists it" 0
expect_has "by its id" "$OUT" "r-old"
expect_has "as unreadable" "$OUT" "unreadable"
run "$AGENTFLOW" runs show r-old
expect_rc "runs show says it cannot be read" 65
expect_has "naming the run and why" "$ERR" "run r-old cannot be read: its record was written by another version of agentflow"
run "$AGENTFLOW" resume r-old
expect_rc "and resume refuses it the same way" 65
run "$AGENTFLOW" runs prune --older-than 1d --json
expect_eq "prune removes it" "1" "$(printf '%s' "$OUT" | jq .removed)"

done_testing
