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

done_testing
