# lib.sh - helpers for the end-to-end tests (sourced by each NNN-topic/run.sh).
#
# ctest sets AGENTFLOW (the binary), AF_SOURCE_DIR, AF_BUILD_DIR and
# AF_TEST_TMP. Each test works in a fresh sandbox directory, runs the program
# as a user would, and checks exit codes and output. A failed check prints
# what was expected and what came; the test exits 1 at the end if any failed.

set -u
: "${AGENTFLOW:?run through ctest}"
E2E_FAILED=0
E2E_PASSED=0

# A fresh, empty sandbox; the test cds into it. The sandbox lies inside the
# source tree's git work tree, so AGENTFLOW_HOME points the state directory
# into it (tests of the state directory's resolution unset it).
sandbox() {
	mkdir -p "$AF_TEST_TMP"
	SANDBOX=$(mktemp -d "$AF_TEST_TMP/sandbox.XXXXXX")
	export AGENTFLOW_HOME="$SANDBOX/.agentflow"
	cd "$SANDBOX" || exit 1
}

# run CMD...: runs it, keeping stdout in $OUT, stderr in $ERR, status in $RC.
run() {
	OUT=$("$@" 2>"$SANDBOX/.stderr") && RC=0 || RC=$?
	ERR=$(cat "$SANDBOX/.stderr")
}

# run_in TEXT CMD...: as run, with TEXT on standard input.
run_in() {
	local input=$1
	shift
	OUT=$(printf '%s' "$input" | "$@" 2>"$SANDBOX/.stderr") && RC=0 || RC=$?
	ERR=$(cat "$SANDBOX/.stderr")
}

fail() {
	E2E_FAILED=$((E2E_FAILED + 1))
	printf 'not ok - %s\n' "$1"
	shift
	printf '  %s\n' "$@"
}

pass() {
	E2E_PASSED=$((E2E_PASSED + 1))
	printf 'ok - %s\n' "$1"
}

# expect_rc NAME CODE: the last run exited with CODE.
expect_rc() {
	if [ "$RC" = "$2" ]; then pass "$1"; else
		fail "$1" "expected exit code $2, got $RC" "stdout: $OUT" "stderr: $ERR"
	fi
}

# expect_eq NAME EXPECTED GOT
expect_eq() {
	if [ "$2" = "$3" ]; then pass "$1"; else
		fail "$1" "expected: $2" "     got: $3"
	fi
}

# expect_has NAME TEXT NEEDLE: TEXT contains NEEDLE (fixed string).
expect_has() {
	case "$2" in
	*"$3"*) pass "$1" ;;
	*) fail "$1" "expected to find: $3" "in: $2" ;;
	esac
}

# expect_lacks NAME TEXT NEEDLE
expect_lacks() {
	case "$2" in
	*"$3"*) fail "$1" "expected not to find: $3" "in: $2" ;;
	*) pass "$1" ;;
	esac
}

done_testing() {
	printf '%d passed, %d failed\n' "$E2E_PASSED" "$E2E_FAILED"
	[ "$E2E_FAILED" -eq 0 ]
}
