# The REPL on a real terminal (tmux): line editing, Ctrl-C interrupting a
# running chunk and clearing a line without ending the REPL, history kept
# across sessions in the state directory, Ctrl-D exiting 0.
. ../lib.sh
sandbox
command -v tmux >/dev/null || { fail "tmux is installed (tools/setup.sh --test)"; done_testing; exit; }

sock="af-e2e-$$"
tm() { tmux -L "$sock" "$@"; }
trap 'tm kill-server 2>/dev/null' EXIT

# start NAME: a REPL in a new tmux session that later calls address;
# "EXIT=<code>" shows when the REPL ends.
start() {
	S=$1
	tm new-session -d -s "$S" -x 120 -y 40 \
		"env AGENTFLOW_HOME='$SANDBOX/home' '$AGENTFLOW' repl; echo EXIT=\$?; sleep 60"
	wait_for ">"
}

screen() { tm capture-pane -t "$S" -p; }

# wait_for TEXT: poll the screen until TEXT shows (at most 10 s). capture-pane
# drops trailing blanks, so the prompt "> " shows as ">".
# Up to 30 s: a cap, not a timing (a loaded sanitizer build once took over 10 s to exit).
wait_for() {
	for _ in $(seq 300); do
		screen | grep -qF -- "$1" && return 0
		sleep 0.1
	done
	return 1
}

type_line() { tm send-keys -t "$S" -l "$1"; tm send-keys -t "$S" Enter; }

start first
type_line 'x = 40'
type_line 'x + 2'
wait_for "42" && pass "an expression prints its value" || fail "an expression prints its value" "$(screen)"

type_line 'while true do end'
sleep 0.3
tm send-keys -t "$S" C-c
wait_for "interrupted" && pass "Ctrl-C interrupts a running chunk" || fail "Ctrl-C interrupts a running chunk" "$(screen)"
type_line 'print("still" .. x)'
wait_for "still40" && pass "the REPL and its state survive" || fail "the REPL and its state survive" "$(screen)"

tm send-keys -t "$S" -l 'half typed'
tm send-keys -t "$S" C-c
type_line 'print("after" .. "clear")'
wait_for "afterclear" && pass "Ctrl-C at the prompt clears the line" || fail "Ctrl-C at the prompt clears the line" "$(screen)"

type_line 'function f()'
type_line '  return "multi"'
type_line 'end'
type_line 'f()'
wait_for '"multi"' && pass "a multi-line function typed in" || fail "a multi-line function typed in" "$(screen)"
expect_lacks "no error on the way" "$(screen)" "expected"

tm send-keys -t "$S" C-d
wait_for "EXIT=0" && pass "Ctrl-D exits 0" || fail "Ctrl-D exits 0" "$(screen)"
expect_has "history is saved in the state directory" "$(cat "$SANDBOX/home/repl_history" 2>&1)" "print(\"after\""

start second
# newest first: f(), the function definition, then the print
tm send-keys -t "$S" Up Up Up Enter
wait_for "afterclear" && pass "history comes back in a new session" || fail "history comes back in a new session" "$(screen)"
tm send-keys -t "$S" C-d

done_testing
