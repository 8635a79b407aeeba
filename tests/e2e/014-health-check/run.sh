# workflows/health-check.lua against HTTP servers on 127.0.0.1 that answer
# well, slowly, with 500, or refuse; and URLs curl itself cannot use.
. ../lib.sh
sandbox
export AGENTFLOW_PROGRESS=plain
"$AF_TEST_BIN/http-fixture" "$SANDBOX/port" &
server=$!
trap 'kill $server 2>/dev/null' EXIT
for _ in $(seq 200); do [ -s port ] && break; sleep 0.05; done
base="http://127.0.0.1:$(cat port)"
expect_eq "the fixture server is up" "200" "$(curl -s -o /dev/null -w '%{http_code}' "$base/ok")"
wf="$AF_SOURCE_DIR/workflows/health-check.lua"
data="$AF_SOURCE_DIR/workflows/data"

run "$AGENTFLOW" "$wf" --bkash "$base/ok" --nagad "$base/slow" --nbr "http://127.0.0.1:1/" --slow 1s --timeout 5s \
	--data "$data"
expect_rc "unhealthy non-critical integrations do not fail the run" 0
expect_has "a healthy gateway" "$OUT" "| bKash tokenized sandbox | no | success | healthy |"
expect_has "a slow one fails its step, with its latency" "$OUT" "| Nagad sandbox | no | skipped | FAILED | 15"
expect_has "and the reason" "$OUT" "endpoint's failure: slow: 15"
expect_has "a refused one says so" "$OUT" \
	"| NBR IVAS | no | skipped | FAILED |"
expect_has "connection refused is the endpoint's failure" "$OUT" "endpoint's failure: connection refused (curl exit 7)"
expect_has "the run is degraded, and says why" "$ERR" "NBR IVAS: endpoint's failure: connection refused"
expect_has "in its summary line" "$ERR" " degraded: "
expect_has "two steps skipped" "$ERR" " 2 skipped"
expect_has "the database is timed with sqlite3" "$OUT" "| ERP database (320 invoices) | yes | success | healthy |"
expect_has "a count at the end" "$OUT" "1 of 3 integrations healthy"
run "$AGENTFLOW" runs --json
id=$(printf '%s' "$OUT" | jq -r '.[0].run_id')
expect_eq "the run's record says degraded" "degraded" "$(printf '%s' "$OUT" | jq -r '.[0].status')"
run "$AGENTFLOW" runs show "$id" --json
expect_eq "a checkpoint after the batch" "parallel#1" "$(printf '%s' "$OUT" | jq -r '.checkpoints[0].label')"

run "$AGENTFLOW" "$wf" --bkash "$base/ok" --nagad "htp://127.0.0.1/" --nbr "http://[::1" --data "$data"
expect_rc "curl's own failures do not crash the run" 0
expect_has "an unsupported protocol is curl's failure, not the endpoint's" "$OUT" \
	"| Nagad sandbox | no | skipped | FAILED | 0 ms | curl's failure: unsupported protocol (curl exit 1)"
expect_has "so is a malformed URL" "$OUT" "curl's failure: malformed URL (curl exit 3)"
mkdir nocurl && ln -s "$(command -v sqlite3)" nocurl/
PATH="$SANDBOX/nocurl" run "$AGENTFLOW" "$wf" --bkash "$base/ok" --data "$data"
expect_has "and curl missing" "$OUT" "| bKash tokenized sandbox | no | skipped | FAILED | 0 ms | curl's failure: program not found: curl |"

run "$AGENTFLOW" "$wf" --bkash "$base/ok" --nagad "$base/ok" --nbr "$base/error" --data "$data" --critical nbr
expect_rc "a failed critical check fails the run" 1
expect_has "after the table" "$OUT" "| NBR IVAS | yes | failed | FAILED |"
expect_has "a 500 is the endpoint's failure" "$OUT" "endpoint's failure: HTTP 500"
expect_has "the others are still reported" "$OUT" "| Nagad sandbox | no | success | healthy |"
expect_has "the exit says which step" "$ERR" "(api-integration-tester) failed: NBR IVAS: endpoint's failure: HTTP 500"
run "$AGENTFLOW" runs --json
expect_eq "the run's record says failed" "failed" "$(printf '%s' "$OUT" | jq -r '.[0].status')"

run "$AGENTFLOW" "$wf" --bkash "$base/ok" --nagad "$base/ok" --nbr "$base/error" --data "$data" --strict
expect_rc "--strict exits 1 when something is unhealthy" 1
expect_has "and the exit says why" "$ERR" "1 integrations unhealthy (--strict)"

run "$AGENTFLOW" "$wf" --bkash "$base/ok" --nagad "$base/ok" --nbr "$base/ok" --data "$data" --critical bkash,nbr
expect_rc "all healthy: exit 0" 0
expect_has "critical ones marked" "$OUT" "| bKash tokenized sandbox | yes | success | healthy |"
expect_has "all counted" "$OUT" "3 of 3 integrations healthy"

run "$AGENTFLOW" plan "$wf" -- --bkash "$base/ok" --data "$data"
expect_rc "agentflow plan runs it" 0
expect_has "without claiming anything healthy" "$OUT" "the health table depends on the checks"

run "$AGENTFLOW" "$wf" --critical ivas
expect_rc "an unknown critical name is a script error" 65
expect_has "naming it" "$ERR" '--critical names "ivas"'
run "$AGENTFLOW" "$wf" --bogus x
expect_rc "an unknown argument is a script error" 65

done_testing
