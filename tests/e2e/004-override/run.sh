# Project-local modules (.agentflow/lua/) and AGENTFLOW_LUA_PATH come before
# the embedded library, without rebuilding.
. ../lib.sh
sandbox
unset AGENTFLOW_HOME AGENTFLOW_LUA_PATH

git init -q .
mkdir -p .agentflow/lua/agentflow
cat > .agentflow/lua/agentflow/_pretty.lua <<'LUA'
local M = {}
function M.format(v) return "<project " .. tostring(v) .. ">" end
function M.print(...) print(M.format((...))) end
return M
LUA
printf 'print(af.inspect(1))\n' > flow.lua

run "$AGENTFLOW" flow.lua
expect_eq "the project's module replaces the embedded one" "<project 1>" "$OUT"

run_in $'{1}\n' "$AGENTFLOW" repl
expect_eq "the REPL prints through the override too" "<project table: " "${OUT%%0x*}"

mkdir env
cat > env/_pretty_env.lua <<'LUA'
return { value = "from env" }
LUA
mkdir -p env/agentflow
cat > env/agentflow/_pretty.lua <<'LUA'
local M = {}
function M.format(v) return "<env " .. tostring(v) .. ">" end
return M
LUA
run env AGENTFLOW_LUA_PATH="$SANDBOX/env" "$AGENTFLOW" flow.lua
expect_eq "AGENTFLOW_LUA_PATH comes before the project" "<env 1>" "$OUT"

run env AGENTFLOW_LUA_PATH="$SANDBOX/env/?.lua" "$AGENTFLOW" -e 'print(require("_pretty_env").value)'
expect_eq "AGENTFLOW_LUA_PATH takes Lua path templates" "from env" "$OUT"

printf 'return {' > .agentflow/lua/agentflow/_pretty.lua
run "$AGENTFLOW" flow.lua
expect_rc "a broken override is a script error" 65
expect_has "naming the file" "$ERR" ".agentflow/lua/agentflow/_pretty.lua"

# An executor is the module agentflow.executors.NAME: a project adds one.
rm .agentflow/lua/agentflow/_pretty.lua
mkdir -p .agentflow/lua/agentflow/executors
cat > .agentflow/lua/agentflow/executors/echo.lua <<'LUA'
local M = { name = "echo", version = "1" }
function M.run(def, task, opts)
  return { status = "success", output = def.name .. " says " .. task.prompt,
    metrics = { key = task.idempotency_key == task.run_id .. ":1" } }
end
return M
LUA
cat > echo.lua <<'LUA'
af.define_agent("parrot", { executor = "echo", cache = false })
local r = af.agent("parrot", { prompt = "hello" })
print(r.status, r.output, r.metrics.key)
LUA
run "$AGENTFLOW" echo.lua
expect_rc "a project's executor runs" 0
expect_eq "with the task and its idempotency key" $'success\tparrot says hello\ttrue' "$OUT"

printf 'af.define_agent("x", { executor = "ecoh" })\n' > typo.lua
run "$AGENTFLOW" typo.lua
expect_rc "an unknown executor is a script error" 65
expect_has "naming it, the closest one among the project's" "$ERR" 'unknown executor "ecoh": did you mean "echo"?'
expect_has "and every known one" "$ERR" "claude, codex, command, echo, gemini, lua, plan"

rm -r .agentflow
run "$AGENTFLOW" flow.lua
expect_eq "without overrides the embedded module is used" "1" "$OUT"

done_testing
