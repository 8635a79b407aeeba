# workflows/performance-optimization.lua: the loop and its stop rule.
. ../lib.sh
sandbox
export AGENTFLOW_PROGRESS=off PATH=/usr/local/bin:/usr/bin:/bin
wf="$AF_SOURCE_DIR/workflows/performance-optimization.lua"

run "$AGENTFLOW" "$wf" --target-ms 100000
expect_rc "the loop runs" 0
expect_has "a reachable target stops it after the first iteration" "$OUT" "target met after 1 iteration:"
expect_eq "one measurement" "1" "$(printf '%s\n' "$OUT" | grep -c '^| 1 |')"

run "$AGENTFLOW" "$wf" --target-ms 0.000001 --iterations 3
expect_has "an unreachable one runs every iteration" "$OUT" "target not met after 3 iterations"
expect_eq "three measurements" "3" "$(printf '%s\n' "$OUT" | grep -c '^| [0-9] |')"
run "$AGENTFLOW" runs --json
id=$(printf '%s' "$OUT" | jq -r '.[0].run_id')
run "$AGENTFLOW" runs show "$id" --json
expect_eq "a checkpoint per iteration" "iterative#1 iterative#2 iterative#3" \
	"$(printf '%s' "$OUT" | jq -r '[.checkpoints[].label | select(startswith("iterative"))] | join(" ")')"
expect_eq "profiler and reviewer each iteration" "6" "$(printf '%s' "$OUT" | jq '.step_records | length')"
run "$AGENTFLOW" resume "$id" --from "iterative#2"
expect_rc "the loop resumes from an iteration's checkpoint" 0
expect_has "replaying the first two" "$OUT" "target not met after 3 iterations"

run "$AGENTFLOW" "$wf" --iterations zero
expect_rc "a bad argument is a script error" 65

done_testing
