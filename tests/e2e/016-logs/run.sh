# The structured log: records, redaction, queries, analysis, Prometheus export.
. ../lib.sh
sandbox
export AGENTFLOW_PROGRESS=off
LOG="$AGENTFLOW_HOME/logs/agentflow.jsonl"

cat >wf.lua <<'LUA'
af.define_agent("echoer", { command = { "sh", "-c", "cat >/dev/null; echo \"reply with $LEAK\"" }, env = { "LEAK" } })
af.define_agent("broken", { command = { "false" }, retries = 0, critical = false })
af.log.info("starting", { token = os.getenv("SERVICE_API_TOKEN"), batch = 7 })
af.agent("echoer", { prompt = "call with Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.payload" })
af.agent("echoer", { prompt = "call with Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.payload" })
af.agent("broken")
af.log.warn("almost done", { left = 1 })
print(af.run_id())
LUA
SERVICE_API_TOKEN=tok-9f8e7d6c5b LEAK=tok-9f8e7d6c5b AGENTFLOW_LOG_LEVEL=debug run "$AGENTFLOW" wf.lua
expect_rc "the workflow runs" 0
run_id=$OUT
expect_eq "every line is a JSON record with the five keys" "true" \
	"$(jq -s 'all(has("timestamp") and has("level") and has("component") and has("message") and has("context"))' "$LOG")"
expect_eq "timestamps are RFC 3339 UTC with milliseconds" "true" \
	"$(jq -s 'all(.timestamp | test("^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{3}Z$"))' "$LOG")"
expect_lacks "a secret from the environment never reaches the log" "$(cat "$LOG")" "tok-9f8e7d6c5b"
expect_lacks "nor a bearer token in a prompt" "$(cat "$LOG")" "eyJhbGci"
expect_has "they are redacted (the prompt is in the DEBUG record of the step's start)" "$(cat "$LOG")" "Bearer [REDACTED]"
expect_has "also in an agent's output" "$(jq -r 'select(.message == "step ended") | .context.summary // empty' "$LOG")" "reply with [REDACTED]"
expect_has "warnings go to stderr too" "$ERR" "agentflow: warn: almost done"

run "$AGENTFLOW" logs query --level warn --json
expect_eq "--level keeps that level and above" "WARN" "$(printf '%s\n' "$OUT" | jq -r .level | sort -u | tr '\n' ' ' | sed 's/ $//')"
run "$AGENTFLOW" logs query --component cache
expect_eq "--component (JSON lines on a pipe)" "cache miss" "$(printf '%s\n' "$OUT" | jq -r .message | sort -u)"
run "$AGENTFLOW" logs query --component step --where cached=true --json
expect_eq "a hit is logged by its step's end, with its key" "true" "$(printf '%s\n' "$OUT" | jq -s 'length == 1 and (.[0].context.key | length) == 32')"
run "$AGENTFLOW" logs query --where agent=broken --json
expect_eq "--where on the context" "true" "$(printf '%s\n' "$OUT" | jq -s 'length > 0 and all(.context.agent == "broken")')"
run "$AGENTFLOW" logs query --run "$run_id" --grep "almost"
expect_eq "--run and --grep" "almost done" "$(printf '%s\n' "$OUT" | jq -r .message)"
run "$AGENTFLOW" logs query --since 1h --json
expect_eq "--since an age" "$(wc -l <"$LOG" | tr -d ' ')" "$(printf '%s\n' "$OUT" | grep -c timestamp)"
run "$AGENTFLOW" logs query --until 2000-01-01 --json
expect_eq "--until a date" "" "$OUT"
run "$AGENTFLOW" logs query --level loud
expect_rc "a bad level is a usage error" 64

printf 'not json at all\n{"truncated": \n' >>"$LOG"
run "$AGENTFLOW" logs analyze --json
expect_rc "broken lines are not fatal" 0
expect_eq "they are counted" "2" "$(printf '%s' "$OUT" | jq .skipped_lines)"
expect_eq "runs are analyzed" "1 1" "$(printf '%s' "$OUT" | jq -r '"\(.runs.count) \(.runs.success_rate)"')"
expect_eq "per agent: executions, failures, cache hit ratio" "2 0 0.5" \
	"$(printf '%s' "$OUT" | jq -r '.agents.echoer | "\(.executions) \(.failures) \(.cache_hit_ratio)"')"
expect_eq "failures" "1" "$(printf '%s' "$OUT" | jq '.agents.broken.failures')"

run "$AGENTFLOW" logs export --format prometheus --output metrics.prom
expect_rc "export writes the file" 0
expect_eq "promtool check metrics passes on it" "" "$(promtool check metrics <metrics.prom 2>&1)"
expect_has "with the step counters" "$(cat metrics.prom)" 'agentflow_steps_total{agent="echoer"} 2'
expect_has "and duration histograms" "$(cat metrics.prom)" 'agentflow_step_duration_seconds_bucket{agent="echoer",le="+Inf"} 2'

AGENTFLOW_LOG_LEVEL=warn run "$AGENTFLOW" wf.lua
run "$AGENTFLOW" logs query --run "$(printf '%s' "$OUT" | tail -1)" --json
expect_eq "AGENTFLOW_LOG_LEVEL drops what is below it" "true" \
	"$(printf '%s\n' "$OUT" | jq -s 'length > 0 and all(.level == "WARN" or .level == "ERROR")')"

AGENTFLOW_LOG_MAX_BYTES=2000 run "$AGENTFLOW" wf.lua
expect_eq "the log rotates past its size" "true" "$([ -s "$LOG.1" ] && echo true)"

printf 'af.configure({ redact = { "acct%%-%%d+" } })\naf.log.info("paid acct-12345")\n' >pattern.lua
run "$AGENTFLOW" pattern.lua
expect_has "configured patterns are redacted" "$(tail -n 3 "$LOG")" "paid [REDACTED]"
expect_lacks "the account number is gone" "$(cat "$LOG")" "acct-12345"

printf 'af.log.info(42)\n' >bad.lua
run "$AGENTFLOW" bad.lua
expect_has "af.log arguments are checked at the caller's line" "$ERR" "bad.lua:1: bad argument #1 to 'af.log.info'"

done_testing
