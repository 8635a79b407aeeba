# Pattern selection: the command, the labelled corpus, a project's own rules.
. ../lib.sh
sandbox

run "$AGENTFLOW" patterns select "Check the health of the bKash, Nagad and NBR portal integrations at the same time"
expect_rc "select exits 0" 0
expect_eq "the first line is the pattern alone" "parallel" "$(printf '%s\n' "$OUT" | head -1)"

run "$AGENTFLOW" patterns select --explain "Optimise invoice generation until p95 is under 300 ms"
expect_eq "explain still starts with the pattern" "iterative" "$(printf '%s\n' "$OUT" | head -1)"
expect_has "explain shows the scores" "$OUT" "iterative"
expect_has "and the rules that fired" "$OUT" 'until: "until"'

run "$AGENTFLOW" patterns select --explain "Deploy the services together and then verify them"
expect_has "a close call is said" "$OUT" "close call"

run "$AGENTFLOW" patterns select --json "Deploy only when the tests pass"
expect_eq "--json gives the pattern" "conditional" "$(printf '%s' "$OUT" | jq -r .pattern)"
expect_eq "and every score" "5" "$(printf '%s' "$OUT" | jq '.scores | length')"

run "$AGENTFLOW" patterns select "Do the month end close"
expect_eq "no cue at all is sequential" "sequential" "$OUT"

run "$AGENTFLOW" patterns select "Do not run the two migrations at the same time"
expect_eq "a negated cue counts for the other side" "sequential" "$OUT"

run "$AGENTFLOW" patterns test "$AF_SOURCE_DIR/tests/patterns/test.tsv" --min-accuracy 0.9
expect_rc "the held-out corpus is at least 90% right" 0
expect_has "the report gives the accuracy" "$OUT" "accuracy "
expect_has "and a confusion matrix" "$OUT" "label \\ got"

printf 'parallel\tOne two three\n# comment\nbogus\tline\n' >bad.tsv
run "$AGENTFLOW" patterns test bad.tsv
expect_rc "an unknown label is a data error" 65
expect_has "naming the file and line" "$ERR" "bad.tsv:3: unknown pattern \"bogus\""
run "$AGENTFLOW" patterns test missing.tsv
expect_rc "a missing file exits 66" 66

printf 'sequential\tCheck all the gateways\n' >one.tsv
run "$AGENTFLOW" patterns test one.tsv --min-accuracy 0.5
expect_rc "below --min-accuracy exits 1" 1

# A project's own rule changes a result.
text="Reconcile the branch ledgers in lockstep"
run "$AGENTFLOW" patterns select "$text"
expect_eq "without the project rule" "sequential" "$OUT"
mkdir -p .agentflow
cat >.agentflow/patterns.lua <<'LUA'
local patterns = ...
table.insert(patterns.rules, { pattern = "parallel", weight = 5, name = "lockstep",
  phrases = { "in lockstep" } })
LUA
run "$AGENTFLOW" patterns select --explain "$text"
expect_eq "a rule in .agentflow/patterns.lua changes it" "parallel" "$(printf '%s\n' "$OUT" | head -1)"
expect_has "and is named in the explanation" "$OUT" 'lockstep: "in lockstep"'

cat >orch.lua <<'LUA'
af.define_agent("a", { run = function(task) return task.prompt end })
local rs, pattern = af.orchestrate({ description = "Check the three gateways simultaneously",
  steps = { { agent = "a", prompt = "x" }, { agent = "a", prompt = "y" } } })
print(pattern, rs[2].output)
print((af.select_pattern("Retry until it works")))
LUA
run "$AGENTFLOW" orch.lua
expect_eq "orchestrate without a pattern uses the heuristic" "$(printf 'parallel\ty\niterative')" "$OUT"
expect_has "and says which and why" "$ERR" "af.orchestrate: pattern parallel"

run "$AGENTFLOW" patterns list --json
expect_rc "patterns list" 0
expect_eq "names the patterns of _patterns.lua, in order" "sequential parallel conditional iterative pipeline" \
	"$(printf '%s' "$OUT" | jq -r 'map(.name) | join(" ")')"

done_testing
