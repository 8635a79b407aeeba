# workflows/health-check.lua against HTTP servers on 127.0.0.1 that answer
# well, slowly, with 500, or refuse.
. ../lib.sh
sandbox
export AGENTFLOW_PROGRESS=off
"$AF_TEST_BIN/http-fixture" "$SANDBOX/port" &
server=$!
trap 'kill $server 2>/dev/null' EXIT
for _ in $(seq 200); do [ -s port ] && break; sleep 0.05; done
base="http://127.0.0.1:$(cat port)"
expect_eq "the fixture server is up" "200" "$(curl -s -o /dev/null -w '%{http_code}' "$base/ok")"

run "$AGENTFLOW" "$AF_SOURCE_DIR/workflows/health-check.lua" --bkash "$base/ok" --nagad "$base/slow" \
	--nbr "http://127.0.0.1:1/" --slow 1s --timeout 5s --data "$AF_SOURCE_DIR/workflows/data"
expect_rc "unhealthy integrations do not crash the run" 0
expect_has "a healthy gateway" "$OUT" "| bKash tokenized sandbox | healthy |"
expect_has "a slow one fails with its latency" "$OUT" "| Nagad sandbox | FAILED | 15"
expect_has "and the reason" "$OUT" "slow: 15"
expect_has "a refused one says so" "$OUT" "| NBR IVAS | FAILED |"
expect_has "connection refused" "$OUT" "connection refused"
expect_has "the database is timed with sqlite3" "$OUT" "| ERP database (320 invoices) | success |"
expect_has "a count at the end" "$OUT" "1 of 3 integrations healthy"
run "$AGENTFLOW" runs --json
id=$(printf '%s' "$OUT" | jq -r '.[0].run_id')
run "$AGENTFLOW" runs show "$id" --json
expect_eq "a checkpoint after the batch" "parallel#1" "$(printf '%s' "$OUT" | jq -r '.checkpoints[0].label')"

run "$AGENTFLOW" "$AF_SOURCE_DIR/workflows/health-check.lua" --bkash "$base/ok" --nagad "$base/ok" \
	--nbr "$base/error" --data "$AF_SOURCE_DIR/workflows/data" --strict
expect_rc "--strict exits 1 when something is unhealthy" 1
expect_has "a 500 is a failed check" "$OUT" "| NBR IVAS | FAILED |"
expect_has "with its status" "$OUT" "HTTP 500"
expect_has "and the exit says why" "$ERR" "1 integrations unhealthy (--strict)"

run "$AGENTFLOW" "$AF_SOURCE_DIR/workflows/health-check.lua" --bogus x
expect_rc "an unknown argument is a script error" 65

done_testing
