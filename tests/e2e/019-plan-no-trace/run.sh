# `agentflow plan` is a dry run: it leaves no trace but its output. No log
# record (so nothing in `logs analyze` or the metrics), no run record, no
# journal, no cache write, no state directory where there was none, and no
# file the workflow writes through af.write_file.
. ../lib.sh
sandbox
export AGENTFLOW_PROGRESS=plain PATH=/usr/local/bin:/usr/bin:/bin
cp -r "$AF_SOURCE_DIR/workflows" "$AF_SOURCE_DIR/agents" .
git init -q .

# Every file and directory under the sandbox, with its size, mtime and
# content hash; but .git, the test's own .stderr, and LMDB's lock file:
# any reader takes a slot in its reader table, and it holds no data.
snapshot() {
	find . \( -path ./.git -o -path ./.stderr -o -path ./.agentflow/store/lock.mdb \) -prune -o -print |
		LC_ALL=C sort | while read -r f; do
		if [ -f "$f" ]; then
			printf '%s %s %s\n' "$f" "$(stat -c '%s %.9Y' "$f")" "$(sha1sum <"$f" | cut -c1-40)"
		else
			printf '%s %s\n' "$f" "$(stat -c '%F %a' "$f")"
		fi
	done
}

cat >wf.lua <<'EOF'
af.define_agent("checker", { run = function() return { status = "success", summary = "checked" } end })
af.define_agent("teller", { command = { "sh", "-c", "cat >/dev/null; echo told" } })
af.define_agent("deployer", { command = { "sh", "-c", "cat >/dev/null; echo deployed >> deployed" }, cache = false })
local r = af.sequential({ { agent = "checker", prompt = "p" }, { agent = "teller", prompt = "q" } })
af.checkpoint("checked")
af.agent("deployer", { prompt = "go" })
af.exec({ "sh", "-c", "echo ran >> ran" })
af.log.info("workflow note", { status = r[1].status })
local ok, err = af.write_file("out/report.md", "# report\n")
print("write_file", ok, err)
EOF

before=$(snapshot)
run "$AGENTFLOW" plan wf.lua
expect_rc "plan on a fresh project exits 0" 0
expect_has "it lists the steps" "$OUT" "MISS   step 1   checker"
expect_has "names the file it would write" "$OUT" "WRITE  out/report.md  (not written)"
expect_has "and af.write_file says it did not" "$OUT" "$(printf 'write_file\tnil\tnot written: this is a plan')"
expect_eq "a plan on a fresh project leaves no trace" "$before" "$(snapshot)"

run "$AGENTFLOW" wf.lua
expect_rc "the workflow runs" 0
expect_eq "a run writes through af.write_file" "# report" "$(cat out/report.md)"
rm -rf out ran deployed
run "$AGENTFLOW" logs analyze --json
analyzed=$(printf '%s' "$OUT" | jq -S .)
run "$AGENTFLOW" logs export --format prometheus
exported=$OUT
run "$AGENTFLOW" runs --json
runs_before=$(printf '%s' "$OUT" | jq -S .)
sleep 0.02
before=$(snapshot)
run "$AGENTFLOW" plan wf.lua
expect_has "the plan sees the cache" "$OUT" "HIT    step 2   teller"
expect_eq "a plan after a run leaves no trace" "$before" "$(snapshot)"
run "$AGENTFLOW" logs analyze --json
expect_eq "logs analyze counts no plan step" "$analyzed" "$(printf '%s' "$OUT" | jq -S .)"
run "$AGENTFLOW" logs export --format prometheus
expect_eq "nor do the metrics" "$exported" "$OUT"
expect_has "(which count the run's steps)" "$OUT" "agentflow_steps_total"
run "$AGENTFLOW" runs --json
expect_eq "and no run is recorded" "$runs_before" "$(printf '%s' "$OUT" | jq -S .)"

# The finance workflow writes its report through af.write_file.
run "$AGENTFLOW" workflows/finance.lua
expect_rc "finance.lua runs" 0
sleep 0.02
before=$(snapshot)
run "$AGENTFLOW" plan workflows/finance.lua
expect_rc "plan workflows/finance.lua exits 0" 0
expect_has "it names the report it would save" "$OUT" "WRITE  $SANDBOX/.agentflow/finance-report-"
expect_eq "and leaves no trace: no report file, no log record, no cache write" "$before" "$(snapshot)"

rm -rf .agentflow
before=$(snapshot)
run "$AGENTFLOW" plan workflows/finance.lua
expect_rc "on a fresh project too" 0
expect_has "where it cannot see past the checks" "$OUT" "the reviews and the report depend on steps 1-2"
expect_eq "and leaves no trace" "$before" "$(snapshot)"

run "$AGENTFLOW" -e 'af.write_file(1, "x")'
expect_has "af.write_file checks its arguments" "$ERR" "bad argument #1 to 'af.write_file' (string expected, got number)"

done_testing
