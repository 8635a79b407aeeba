# Strictness where silence hurts: unknown keys, unknown commands, unknown
# runs, and outputs that cannot be written are errors, not warnings.
. ../lib.sh
sandbox
export AGENTFLOW_PROGRESS=off
git init -q .

# ---- unknown keys in definitions and calls ---------------------------------
cat >typo-def.lua <<'LUA'
af.define_agent("lint", { comand = { "cat" } })
LUA
run "$AGENTFLOW" typo-def.lua
expect_rc "an unknown key in af.define_agent is a script error" 65
expect_has "naming the key, the closest known one and the caller's line" "$ERR" \
	'typo-def.lua:1: agent "lint": unknown key "comand" (did you mean "command"?)'

cat >typo-call.lua <<'LUA'
af.define_agent("lint", { command = { "cat" } })
local r = af.agent("lint", { prompt = "x",
  retires = 2 })
LUA
run "$AGENTFLOW" typo-call.lua
expect_rc "an unknown key in an agent call is a script error" 65
expect_has "naming the key and the call's line" "$ERR" \
	'typo-call.lua:2: af.agent "lint": unknown key "retires" (did you mean "retries"?)'

cat >typo-spec.lua <<'LUA'
af.define_agent("lint", { command = { "cat" } })
af.sequential({ { agent = "lint", promt = "x" } })
LUA
run "$AGENTFLOW" typo-spec.lua
expect_rc "an unknown key in an agent spec is a script error" 65
expect_has "with a did-you-mean" "$ERR" 'unknown key "promt" (did you mean "prompt"?)'

cat >all-keys.lua <<'LUA'
af.define_agent("full", { executor = "command", command = { "cat" }, ttl = "1h", retries = 1,
  backoff = "1ms", backoff_max = "2ms", throttle_backoff = "1ms", retry_on = function() return false end,
  timeout = "10s", grace = "1s", critical = true, cache = true, invalidate_on = { "files" },
  max_concurrency = 2, stagger = "1ms", env = { "PATH" }, description = "d", model = "m",
  prompt = "p", params = {}, files = {}, configs = {}, salt = "s", budget_usd = 1,
  system_prompt = "s", max_turns = 1, max_output = 100000, cwd = ".", cli = "cat",
  tools = "Read", permission_mode = "plan", name = "full" })
print(af.agent("full", { prompt = "q", timeout = "5s", max_output = 100000, env = {} }).status)
LUA
run "$AGENTFLOW" all-keys.lua
expect_rc "every key agentflow reads is accepted" 0
expect_eq "and the agent runs" "success" "$OUT"

mkdir -p agents
printf -- '---\nname: other\ndescription: d\ncolor: blue\nretires: 2\ncommand: [cat]\n---\nbody\n' >agents/other.md
cat >file-agent.lua <<'LUA'
print(af.agent("other").status)
LUA
run "$AGENTFLOW" file-agent.lua
expect_rc "unknown keys in an agent file are allowed" 0
run "$AGENTFLOW" agents show other
expect_has "agents show lists them" "$OUT" "unknown keys (ignored): color, retires"
run "$AGENTFLOW" agents show other --json
expect_eq "agents show --json lists them" '["color","retires"]' "$(printf '%s' "$OUT" | jq -c .unknown_keys)"

# ---- why for a run that does not exist -------------------------------------
run "$AGENTFLOW" why nope 1
expect_rc "why for an unknown run exits 66" 66
expect_has "saying there is no such run" "$ERR" "no run nope"
expect_lacks "not that a step is missing" "$ERR" "no step"

# ---- CI reports that cannot be written -------------------------------------
cat >ok.lua <<'LUA'
af.define_agent("lint", { command = { "cat" } })
af.agent("lint", { prompt = "x" })
LUA
run "$AGENTFLOW" run ok.lua --junit "$SANDBOX/no/such/dir/junit.xml"
expect_rc "--junit to an unwritable path exits 74" 74
expect_has "naming the path" "$ERR" "cannot write $SANDBOX/no/such/dir/junit.xml"
GITHUB_ACTIONS=true GITHUB_STEP_SUMMARY="$SANDBOX/no/such/dir/summary.md" run "$AGENTFLOW" run ok.lua
expect_rc "an unwritable \$GITHUB_STEP_SUMMARY exits 74" 74
expect_has "naming the path" "$ERR" "cannot write $SANDBOX/no/such/dir/summary.md"
run "$AGENTFLOW" run ok.lua --junit "$SANDBOX/junit.xml"
expect_rc "a writable --junit path still exits 0" 0
expect_has "and the report is written" "$(cat junit.xml)" "<testsuite"

# ---- unknown commands; the implicit run form takes run's options ------------
run "$AGENTFLOW" cahce stats
expect_rc "an unknown command exits 64" 64
expect_has "with a did-you-mean" "$ERR" "unknown command 'cahce' (did you mean 'cache'?)"
printf 'print("ran")\n' >cahce
run "$AGENTFLOW" cahce stats
expect_rc "a script of that name still runs" 0
expect_eq "it ran" "ran" "$OUT"
run "$AGENTFLOW" missing.lua
expect_rc "a missing script path is still missing input" 66

cat >cached.lua <<'LUA'
af.define_agent("c", { command = { "echo", "hi" } })
print(af.agent("c").cached, ...)
LUA
run "$AGENTFLOW" cached.lua
run "$AGENTFLOW" cached.lua --no-cache --own x
expect_eq "agentflow SCRIPT --no-cache serves nothing from the cache; other args are the script's" \
	"false	--own	x" "$OUT"
run "$AGENTFLOW" cached.lua -- --no-cache
expect_eq "after -- it is the script's argument" "true	--no-cache" "$OUT"

done_testing
