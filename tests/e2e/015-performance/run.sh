# workflows/performance-optimization.lua: an invoice database in SQLite, its
# report query profiled (EXPLAIN QUERY PLAN, timings), optimised by the
# deterministic local optimiser one change per iteration, the stop rule.
# Timings are printed, never compared: the checks are on plans and changes.
. ../lib.sh
sandbox
export AGENTFLOW_PROGRESS=off PATH=/usr/local/bin:/usr/bin:/bin
wf="$AF_SOURCE_DIR/workflows/performance-optimization.lua"

run "$AGENTFLOW" "$wf" --target-ms 100000 --invoices 2000
expect_rc "the loop runs" 0
expect_has "on the invoice database" "$OUT" "2000 invoices; target 100000 ms."
expect_has "a reachable target stops it after the first iteration" "$OUT" "target met after 1 iteration:"
expect_eq "one measurement" "1" "$(printf '%s\n' "$OUT" | grep -c '^| [0-9] |')"
expect_has "the baseline's plan, from EXPLAIN QUERY PLAN" "$OUT" \
	"| 1 | none (baseline) |"
expect_has "with the automatic index SQLite builds on every run" "$OUT" \
	"SEARCH l USING AUTOMATIC COVERING INDEX (invoice_number=?)"

run "$AGENTFLOW" "$wf" --target-ms 0 --iterations 3 --invoices 2000
expect_has "an unreachable target runs every iteration" "$OUT" "target not met after 3 iterations"
expect_eq "three measurements" "3" "$(printf '%s\n' "$OUT" | grep -c '^| [0-9] |')"
expect_has "the first change indexes the join SQLite indexed on the fly" "$OUT" \
	"| 2 | index: CREATE INDEX IF NOT EXISTS line_invoice_number ON line(invoice_number);"
expect_has "and the next plan uses it" "$OUT" "SEARCH l USING INDEX line_invoice_number (invoice_number=?)"
run "$AGENTFLOW" runs --json
id=$(printf '%s' "$OUT" | jq -r '.[0].run_id')
run "$AGENTFLOW" runs show "$id" --json
expect_eq "a checkpoint per iteration" "iterative#1 iterative#2 iterative#3" \
	"$(printf '%s' "$OUT" | jq -r '[.checkpoints[].label | select(startswith("iterative"))] | join(" ")')"
expect_eq "profiler, optimiser and reviewer each iteration" "3 3 3" \
	"$(printf '%s' "$OUT" | jq -r '[.step_records[] | .agent] as $a |
		[($a | map(select(. == "performance-profiler")) | length),
		 ($a | map(select(. == "query-optimiser")) | length),
		 ($a | map(select(. == "code-reviewer")) | length)] | map(tostring) | join(" ")')"
run "$AGENTFLOW" resume "$id" --from "iterative#2"
expect_rc "the loop resumes from an iteration's checkpoint" 0
expect_has "replaying the first two" "$OUT" "target not met after 3 iterations"
expect_has "the database rebuilt with the indexes made so far" "$OUT" "| 3 | index: CREATE INDEX IF NOT EXISTS customer_bin"

run "$AGENTFLOW" "$wf" --target-ms 0 --iterations 20 --invoices 2000
expect_rc "the optimiser runs out of proposals" 0
expect_has "and the loop says so" "$OUT" "and nothing left to propose"
expect_has "it rewrote the date filter so an index can serve it" "$OUT" \
	"rewrite: adds i.issued_at >= '2025-07-01' AND i.issued_at < '2026-01-01'"
expect_has "then indexed the range" "$OUT" "SEARCH i USING"
expect_has "and covered the lines" "$OUT" "SEARCH l USING COVERING INDEX line_invoice_number_vat_poisha"
expect_eq "every iteration's report has the same rows" "1" \
	"$(printf '%s\n' "$OUT" | grep '^| [0-9]* |' | awk -F' \\| ' '{ print $4 }' | sort -u | wc -l)"
expect_has "the final query keeps the exact filter" "$OUT" \
	"WHERE i.issued_at >= '2025-07-01' AND i.issued_at < '2026-01-01' AND substr(i.issued_at, 1, 10) BETWEEN"

run "$AGENTFLOW" plan "$wf" -- --invoices 2000
expect_rc "agentflow plan runs it" 0
expect_has "saying the loop waits for the profile" "$OUT" "the loop's iterations depend on the profile of step 1"

run "$AGENTFLOW" "$wf" --iterations zero
expect_rc "a bad argument is a script error" 65

done_testing
