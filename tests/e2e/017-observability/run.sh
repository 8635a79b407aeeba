# Live /metrics and /health during a run, `agentflow serve`, the Grafana
# dashboard and alert rules against what agentflow emits, and a real
# Prometheus server scraping a run.
. ../lib.sh
sandbox
export AGENTFLOW_PROGRESS=off
command -v prometheus >/dev/null || { fail "prometheus is installed (tools/setup.sh --test)"; done_testing; exit; }

cat >wf.lua <<'LUA'
af.define_agent("quick", { command = { "echo", "quick" }, cache = false })
af.define_agent("hold", { command = { "sh", "-c", "cat >/dev/null; touch holding; while [ ! -e go ]; do sleep 0.05; done" }, cache = false })
for i = 1, 3 do af.agent("quick", { prompt = "q" .. i }) end
af.agent("hold")
LUA

"$AGENTFLOW" run wf.lua --metrics-addr 127.0.0.1:0 >out 2>err &
run_pid=$!
trap 'touch "$SANDBOX/go"; kill $run_pid $prom_pid 2>/dev/null' EXIT
for _ in $(seq 200); do [ -e holding ] && break; sleep 0.05; done
port=$(sed -n 's/^agentflow: serving \/metrics and \/health on http:\/\/127.0.0.1:\([0-9]*\)$/\1/p' err)
expect_eq "the run says where it serves" "true" "$([ -n "$port" ] && echo true)"
curl -s "http://127.0.0.1:$port/metrics" >live.prom
expect_eq "promtool check metrics passes on a live scrape" "" "$(promtool check metrics <live.prom 2>&1)"
expect_has "it counts the steps so far" "$(cat live.prom)" 'agentflow_steps_total{agent="quick"} 3'
expect_has "and the one running" "$(cat live.prom)" "agentflow_running_steps 1"
expect_eq "/health answers 200 with JSON" "200 ok" \
	"$(curl -s -o health.json -w '%{http_code}' "http://127.0.0.1:$port/health") $(jq -r .status health.json)"
expect_eq "an unknown path is 404" "404" "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/nowhere")"
expect_has "a malformed request is 400" "$(printf 'nonsense\r\n\r\n' | curl -s --max-time 2 "telnet://127.0.0.1:$port")" "400 Bad Request"

# A real Prometheus scraping the run; the value read back through its API.
for _ in 1 2 3 4 5; do
	pport=$((20000 + RANDOM % 20000))
	cat >prometheus.yml <<YML
global:
  scrape_interval: 1s
scrape_configs:
  - job_name: agentflow
    static_configs:
      - targets: ["127.0.0.1:$port"]
YML
	prometheus --config.file=prometheus.yml --storage.tsdb.path="$SANDBOX/tsdb" \
		--web.listen-address="127.0.0.1:$pport" >prom.log 2>&1 &
	prom_pid=$!
	sleep 1
	kill -0 $prom_pid 2>/dev/null && break
done
value=""
for _ in $(seq 60); do
	value=$(curl -s "http://127.0.0.1:$pport/api/v1/query" --data-urlencode 'query=agentflow_steps_total{agent="quick"}' |
		jq -r '.data.result[0].value[1] // empty' 2>/dev/null)
	[ -n "$value" ] && break
	sleep 0.5
done
expect_eq "Prometheus scraped the run and reads back its step count" "3" "$value"
kill $prom_pid 2>/dev/null
wait $prom_pid 2>/dev/null
touch go
wait $run_pid
RC=$?
expect_rc "the run ends normally while being scraped" 0

# `agentflow serve`: the same names, from the log.
"$AGENTFLOW" serve --addr 127.0.0.1:0 2>serve.err &
serve_pid=$!
for _ in $(seq 100); do grep -q "on port" serve.err && break; sleep 0.05; done
sport=$(sed -n 's/.*on port \([0-9]*\)$/\1/p' serve.err)
curl -s "http://127.0.0.1:$sport/metrics" >served.prom
kill -INT $serve_pid
wait $serve_pid
RC=$?
expect_rc "serve stops on SIGINT with 130" 130
expect_eq "promtool check metrics passes on serve's /metrics" "" "$(promtool check metrics <served.prom 2>&1)"
expect_has "serve counts the run's steps from the log" "$(cat served.prom)" 'agentflow_steps_total{agent="quick"} 3'

# Every metric the dashboard and the rules use is one agentflow emits.
emitted=$(cat live.prom served.prom | sed -n 's/^# TYPE \([a-z_]*\) .*/\1/p' | sort -u)
used=$( (jq -r '.panels[].targets[].expr' "$AF_SOURCE_DIR/tools/grafana/agentflow.json"; cat "$AF_SOURCE_DIR/tools/prometheus/alerts.yml") |
	grep -o 'agentflow_[a-z_]*' | sed 's/_bucket$//; s/_sum$//; s/_count$//' | sort -u)
missing=$(comm -23 <(printf '%s\n' "$used") <(printf '%s\n' "$emitted") | tr '\n' ' ')
expect_eq "the dashboard and the alert rules use only emitted metrics" "" "$missing"
expect_eq "promtool check rules passes on the alert rules" "true" \
	"$(promtool check rules "$AF_SOURCE_DIR/tools/prometheus/alerts.yml" >/dev/null 2>&1 && echo true)"
expect_eq "the dashboard is valid JSON with panels" "8" "$(jq '.panels | length' "$AF_SOURCE_DIR/tools/grafana/agentflow.json")"

run "$AGENTFLOW" run wf.lua --metrics-addr nonsense
expect_rc "a bad --metrics-addr is a usage error" 64

done_testing
