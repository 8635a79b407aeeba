# Pattern selection: the command, the labelled corpus by style, training,
# uncertainty, a project's own rules.
. ../lib.sh
sandbox

run "$AGENTFLOW" patterns select "Check the health of the bKash, Nagad and NBR portal integrations at the same time"
expect_rc "select exits 0" 0
expect_eq "the first line is the pattern alone" "parallel" "$(printf '%s\n' "$OUT" | head -1)"

run "$AGENTFLOW" patterns select --explain "Optimise invoice generation until p95 is under 300 ms"
expect_eq "explain still starts with the pattern" "iterative" "$(printf '%s\n' "$OUT" | head -1)"
expect_has "explain shows the scores" "$OUT" "iterative"
expect_has "and the rules that fired" "$OUT" 'until: "until"'
expect_has "and the margin" "$OUT" "margin "
expect_has "and the strongest learned features" "$OUT" "learned features (strongest first):"

run "$AGENTFLOW" patterns select --json "Deploy only when the tests pass"
expect_eq "--json gives the pattern" "conditional" "$(printf '%s' "$OUT" | jq -r .pattern)"
expect_eq "and every score" "5" "$(printf '%s' "$OUT" | jq '.scores | length')"
expect_eq "scores are probabilities" "true" "$(printf '%s' "$OUT" | jq '[.scores[]] | add | . > 0.999 and . < 1.001')"
expect_eq "a margin and a verdict on it" "number false" "$(printf '%s' "$OUT" | jq -r '"\(.margin | type) \(.uncertain)"')"

run "$AGENTFLOW" patterns select "Do the month end close"
expect_eq "no cue at all is sequential" "sequential" "$OUT"

run "$AGENTFLOW" patterns select "Do not run the two migrations at the same time"
expect_eq "a negated cue counts for the other side" "sequential" "$OUT"

# The held-out styles: a floor against regressions (the README has the figures).
run "$AGENTFLOW" patterns test "$AF_SOURCE_DIR/tests/patterns/test" --min-accuracy 0.8 --min-recall 0.8 --summary
expect_rc "the held-out styles are at least 80% right, every pattern's recall too" 0
expect_has "the report gives the accuracy" "$OUT" "accuracy "
expect_has "per style" "$OUT" "long-specs "
expect_has "and a confusion matrix" "$OUT" "label \\ got"
expect_lacks "--summary leaves the misclassified out" "$OUT" "misclassified"
run "$AGENTFLOW" patterns test "$AF_SOURCE_DIR/tests/patterns/test" --min-accuracy 0.999
expect_rc "a style below --min-accuracy fails" 1
expect_has "naming the style" "$ERR" "style long-specs: accuracy"
run "$AGENTFLOW" patterns test "$AF_SOURCE_DIR/tests/patterns/test/commits.tsv" --json
expect_eq "one file is one style" "commits" "$(printf '%s' "$OUT" | jq -r '.styles[0].style')"

# Training is reproducible from the repository: the tune styles give the
# shipped weights byte for byte.
(cd "$AF_SOURCE_DIR" && "$AGENTFLOW" patterns train tests/patterns/tune --output "$SANDBOX/model.lua") >train.out 2>&1
expect_eq "training exits 0" "0" "$?"
expect_has "and says what it wrote" "$(cat train.out)" "650 descriptions"
expect_eq "the shipped model is what training gives" "" \
	"$(cmp "$SANDBOX/model.lua" "$AF_SOURCE_DIR/lua/agentflow/_patterns_model.lua" 2>&1)"
run "$AGENTFLOW" patterns train "$AF_SOURCE_DIR/tests/patterns/tune/terse.tsv" --explain
expect_has "training prints the model without --output" "$OUT" "rule_scale = "
expect_has "and --explain the strongest features per pattern" "$ERR" "parallel "
run "$AGENTFLOW" patterns train
expect_rc "training needs a file" 64
run "$AGENTFLOW" patterns train "$AF_SOURCE_DIR/tests/patterns/tune/terse.tsv" --output no/such/dir/m.lua
expect_rc "an unwritable --output exits 74" 74
expect_has "naming it" "$ERR" "cannot write no/such/dir/m.lua"

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

# Uncertain choices: a project that wants every choice sure, and a
# workflow that would rather fail than guess.
cat >>.agentflow/patterns.lua <<'LUA'
patterns.UNCERTAIN = 0.9999
LUA
run "$AGENTFLOW" orch.lua
expect_rc "an uncertain choice is still made by default" 0
expect_has "and said to be uncertain" "$ERR" "uncertain: parallel"
cat >fail.lua <<'LUA'
af.define_agent("a", { run = function(task) return task.prompt end })
af.orchestrate({ description = "Check the three gateways simultaneously", if_uncertain = "fail",
  steps = { { agent = "a", prompt = "x" } } })
LUA
run "$AGENTFLOW" fail.lua
expect_rc "if_uncertain = \"fail\" fails the workflow (a workflow error)" 65
expect_has "saying why" "$ERR" "is uncertain: parallel"
expect_has "and what to do" "$ERR" 'name one with pattern = "..."'
cat >>.agentflow/patterns.lua <<'LUA'
patterns.IF_UNCERTAIN = "fail"
LUA
run "$AGENTFLOW" orch.lua
expect_rc "so does patterns.IF_UNCERTAIN = \"fail\" for every workflow" 65

run "$AGENTFLOW" patterns list --json
expect_rc "patterns list" 0
expect_eq "names the patterns of _patterns.lua, in order" "sequential parallel conditional iterative pipeline" \
	"$(printf '%s' "$OUT" | jq -r 'map(.name) | join(" ")')"

done_testing
