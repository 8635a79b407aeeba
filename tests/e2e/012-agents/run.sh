# Agent files, the default executor, plan output, budgets.
. ../lib.sh
sandbox
export AGENTFLOW_PROGRESS=plain
git init -q .
cp -r "$AF_SOURCE_DIR/agents" agents
FAKE="$AF_TEST_BIN/fake"
NOCLAUDE_PATH=/usr/local/bin:/usr/bin:/bin

PATH=$NOCLAUDE_PATH run "$AGENTFLOW" agents ls --json
expect_rc "agents ls --json" 0
expect_eq "lists the five seed agents from the project" \
	"api-integration-tester business-logic-validator code-reviewer context-gathering performance-profiler" \
	"$(printf '%s' "$OUT" | jq -r '[.[].name] | join(" ")')"
expect_eq "with description, executor and source" "true" \
	"$(printf '%s' "$OUT" | jq '[.[] | (.description | length > 0) and .executor == "plan" and (.source | endswith(".md"))] | all')"
PATH=$NOCLAUDE_PATH run "$AGENTFLOW" agents show business-logic-validator --json
expect_eq "the front matter's TTL is read" "604800" "$(printf '%s' "$OUT" | jq .ttl)"
expect_has "the body is the system prompt" "$(printf '%s' "$OUT" | jq -r .system_prompt)" "VAT and Supplementary Duty Act 2012"

cat >wf.lua <<'LUA'
local r = af.agent("business-logic-validator", { prompt = "Validate Bangladesh VAT and tax compliance requirements for new feature" })
print(r.status)
print(r.output)
LUA
PATH=$NOCLAUDE_PATH run "$AGENTFLOW" wf.lua
expect_rc "without claude on PATH the workflow runs" 0
expect_eq "the agent is planned" "planned" "$(printf '%s\n' "$OUT" | head -1)"
expect_has "its output is the seed's plan with the Task invocation" "$OUT" 'subagent_type="business-logic-validator"'
expect_has "one warning says why and how to change it" "$ERR" "claude is not on PATH"
expect_eq "once" "1" "$(printf '%s\n' "$ERR" | grep -c 'claude is not on PATH')"

PATH=$FAKE:$NOCLAUDE_PATH run "$AGENTFLOW" run --no-cache wf.lua
expect_eq "with claude on PATH it is the default executor" "success" "$(printf '%s\n' "$OUT" | head -1)"
expect_lacks "and there is no warning" "$ERR" "claude is not on PATH"

# Precedence: AGENTFLOW_AGENTS, then agents/, then .claude/agents, then ~/.claude/agents.
mkdir -p .claude/agents extra home/.claude/agents
printf -- '---\nname: code-reviewer\ndescription: from .claude\n---\nbody\n' >.claude/agents/code-reviewer.md
printf -- '---\nname: team-helper\ndescription: from .claude\n---\nbody\n' >.claude/agents/team-helper.md
printf -- '---\nname: personal\ndescription: from home\n---\nbody\n' >home/.claude/agents/personal.md
printf -- '---\nname: context-gathering\ndescription: from AGENTFLOW_AGENTS\n---\nbody\n' >extra/context-gathering.md
HOME=$SANDBOX/home AGENTFLOW_AGENTS=$SANDBOX/extra PATH=$NOCLAUDE_PATH run "$AGENTFLOW" agents ls --json
expect_eq "agents/ wins over .claude/agents" "Reviews a change" \
	"$(printf '%s' "$OUT" | jq -r '.[] | select(.name == "code-reviewer") | .description' | cut -c1-16)"
expect_eq "AGENTFLOW_AGENTS wins over agents/" "from AGENTFLOW_AGENTS" \
	"$(printf '%s' "$OUT" | jq -r '.[] | select(.name == "context-gathering") | .description')"
expect_eq ".claude/agents and ~/.claude/agents add theirs" "from home from .claude" \
	"$(printf '%s' "$OUT" | jq -r '[.[] | select(.name == "team-helper" or .name == "personal") | .description] | join(" ")')"

# A Lua agent file.
cat >agents/tally.lua <<'LUA'
return { description = "counts words", run = function(task) local n = 0 for _ in task.prompt:gmatch("%S+") do n = n + 1 end return n end }
LUA
printf 'print(af.agent("tally", { prompt = "one two three" }).output)\n' >tally.lua
PATH=$NOCLAUDE_PATH run "$AGENTFLOW" tally.lua
expect_eq "agents/NAME.lua defines a Lua agent" "3" "$OUT"

# Broken front matter is an error naming the file and line.
printf -- '---\nname: broken\ndescription: [unclosed\n---\nbody\n' >agents/broken.md
PATH=$NOCLAUDE_PATH run "$AGENTFLOW" agents ls
expect_rc "agents ls exits 65 when a file is broken" 65
expect_has "naming file and line" "$ERR" "agents/broken.md:4:"
printf 'af.agent("broken")\n' >use-broken.lua
PATH=$NOCLAUDE_PATH run "$AGENTFLOW" use-broken.lua
expect_rc "using the broken agent is a script error" 65
expect_has "with the same message" "$ERR" "agents/broken.md:4:"
printf 'print(af.agent("tally", { prompt = "a b" }).output)\n' >other.lua
PATH=$NOCLAUDE_PATH run "$AGENTFLOW" other.lua
expect_eq "other agents still work" "2" "$OUT"
rm agents/broken.md

# Budgets: --budget-usd caps the run; once spent, agent steps are skipped.
cat >spend.lua <<'LUA'
af.define_agent("paid", { executor = "claude", cache = false, critical = false })
for i = 1, 3 do
  local r = af.agent("paid", { prompt = "MODE:success " .. i })
  print(i, r.status, r.reason)
end
LUA
PATH=$FAKE:$NOCLAUDE_PATH run "$AGENTFLOW" run spend.lua --budget-usd 0.02
expect_rc "a run over budget still ends 0" 0
expect_eq "later steps are skipped with reason budget" "$(printf '1\tsuccess\tnil\n2\tsuccess\tnil\n3\tskipped\tbudget')" "$OUT"
expect_has "the summary shows the spend" "$ERR" "\$0.0246 spent"
PATH=$FAKE:$NOCLAUDE_PATH run "$AGENTFLOW" run spend.lua --budget-usd lots
expect_rc "a bad budget is a usage error" 64

done_testing
