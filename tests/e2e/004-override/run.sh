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

rm -r .agentflow
run "$AGENTFLOW" flow.lua
expect_eq "without overrides the embedded module is used" "1" "$OUT"

done_testing
