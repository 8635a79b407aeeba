# The REPL fed through a pipe: expressions, continuation lines, printing.
. ../lib.sh
sandbox

run_in $'x = 40\nx + 2\n' "$AGENTFLOW" repl
expect_eq "an expression prints its value" "42" "$OUT"
expect_rc "a clean session exits 0" 0
expect_eq "no prompts on a pipe" "" "$ERR"

run_in $'x = 40\n=x\n' "$AGENTFLOW" repl
expect_eq "=x prints x" "40" "$OUT"

run_in $'function double(n)\n  local d = n * 2\n  return d\nend\ndouble(21)\n' "$AGENTFLOW" repl
expect_eq "a multi-line function continues across lines" "42" "$OUT"

run_in $'t = {\n  b = 2,\n  a = {1, 2},\n}\nt\n' "$AGENTFLOW" repl
expect_eq "a multi-line table prints sorted" "{ a = { 1, 2 }, b = 2 }" "$OUT"

run_in $'c = {}\nc.me = c\nc\n' "$AGENTFLOW" repl
expect_eq "cycles are marked" "{ me = <cycle> }" "$OUT"

run_in $'1, "two", nil\n' "$AGENTFLOW" repl
expect_eq "several results print tab-separated" "$(printf '1\ttwo\tnil')" "$OUT"

run_in $'print("a")\n\n   \nprint("b")\n' "$AGENTFLOW" repl
expect_eq "blank lines are skipped" "$(printf 'a\nb')" "$OUT"

run_in $'error("bad")\nprint("after")\n' "$AGENTFLOW" repl
expect_eq "an error does not end the session" "after" "$OUT"
expect_has "the error is reported" "$ERR" "bad"
expect_rc "a failed chunk from a pipe exits 65" 65

run_in $'x = = 1\n' "$AGENTFLOW" repl
expect_has "a syntax error is reported" "$ERR" "unexpected symbol"
expect_rc "and counts as a failure" 65

run_in $'for i = 1, 2 do\n' "$AGENTFLOW" repl
expect_rc "input ending inside a chunk exits cleanly" 0

run_in $'af.version\n' "$AGENTFLOW" repl
expect_eq "af is preloaded" "$("$AGENTFLOW" -e 'io.write(af.version)')" "$OUT"

run_in $'print(1)\n' "$AGENTFLOW"
expect_eq "no arguments and a pipe reads chunks" "1" "$OUT"

run_in $'=y\n' "$AGENTFLOW" -e 'y = 5' -i
expect_eq "-i enters the REPL after -e" "5" "$OUT"

run "$AGENTFLOW" repl extra
expect_rc "repl takes no arguments" 64

# A session that calls agents is a run of its own kind: running while the
# REPL is, done when it exits, interrupted only if its process dies; it
# cannot be resumed.
agent_chunk='af.define_agent("a", { run = function() return "x" end }) r = af.agent("a", { prompt = "p" })'
run_in "$agent_chunk"$'\nr.status\n' "$AGENTFLOW" repl
expect_eq "a REPL session calls agents" "success" "$OUT"
run "$AGENTFLOW" runs --json
expect_eq "it is recorded as a REPL session, done when the REPL exits" "repl (repl) done 1" \
	"$(printf '%s' "$OUT" | jq -r '.[0] | "\(.kind) \(.workflow) \(.status) \(.steps.success)"')"
repl_run=$(printf '%s' "$OUT" | jq -r '.[0].run_id')
run "$AGENTFLOW" runs show "$repl_run"
expect_has "runs show says it is a REPL session" "$OUT" "REPL session (REPL sessions cannot be resumed)"
expect_lacks "and names no script" "$OUT" "script nil"
run "$AGENTFLOW" resume "$repl_run"
expect_rc "resuming a REPL session exits 66" 66
expect_has "saying why" "$ERR" "run $repl_run is a REPL session: REPL sessions cannot be resumed"

mkfifo chunks
"$AGENTFLOW" repl <chunks >repl.out 2>repl.err &
repl_pid=$!
exec 3>chunks
printf '%s\nio.open("called", "w"):close()\n' "$agent_chunk" >&3
for _ in $(seq 500); do [ -e called ] && break; sleep 0.02; done
run "$AGENTFLOW" runs --json
expect_eq "a REPL session reads running while the REPL runs" "running" "$(printf '%s' "$OUT" | jq -r '.[0].status')"
exec 3>&-
wait $repl_pid
run "$AGENTFLOW" runs --json
expect_eq "and done when it exits" "done" "$(printf '%s' "$OUT" | jq -r '.[0].status')"

rm -f called
"$AGENTFLOW" repl <chunks >repl.out 2>repl.err &
repl_pid=$!
exec 3>chunks
printf '%s\nio.open("called", "w"):close()\n' "$agent_chunk" >&3
for _ in $(seq 500); do [ -e called ] && break; sleep 0.02; done
kill -KILL $repl_pid
wait $repl_pid 2>/dev/null
exec 3>&-
run "$AGENTFLOW" runs --json
expect_eq "a REPL session whose process died reads interrupted" "interrupted" "$(printf '%s' "$OUT" | jq -r '.[0].status')"

done_testing
