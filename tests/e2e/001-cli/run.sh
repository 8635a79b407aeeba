# The command line: exit codes, help, version, arguments.
. ../lib.sh
sandbox

run "$AGENTFLOW" -e 'print(require("cjson").encode({a=1}))'
expect_eq "-e runs a chunk with cjson preloaded" '{"a":1}' "$OUT"

run "$AGENTFLOW" -e 'io.write("a")' -e 'io.write("b")'
expect_eq "-e chunks run in order" "ab" "$OUT"

run "$AGENTFLOW" --version
expect_rc "--version exits 0" 0
for lib in "agentflow " "Lua 5.4" "lua-cjson " "LMDB " "libgit2 " "libuv " "libyaml " "libedit " "xxHash " "msgpack-c "; do
	expect_has "--version names $lib" "$OUT" "$lib"
done

run "$AGENTFLOW" --help
expect_rc "--help exits 0" 0
expect_has "--help lists run" "$OUT" "  run "
expect_has "--help lists repl" "$OUT" "  repl "
expect_has "--help gives the exit codes" "$OUT" "64 usage"

for cmd in run repl help; do
	run "$AGENTFLOW" "$cmd" --help
	expect_rc "$cmd --help exits 0" 0
	expect_has "$cmd --help shows its usage" "$OUT" "usage: agentflow $cmd"
	run "$AGENTFLOW" help "$cmd"
	expect_has "help $cmd shows its usage" "$OUT" "usage: agentflow $cmd"
done

run "$AGENTFLOW" --bogus
expect_rc "an unknown option exits 64" 64
expect_has "it is named" "$ERR" "unknown option '--bogus'"
expect_has "and --help is pointed to" "$ERR" "Try 'agentflow --help'."
expect_eq "usage errors print nothing on stdout" "" "$OUT"

run "$AGENTFLOW" run --jobz 3 x.lua
expect_rc "an unknown subcommand option exits 64" 64
expect_has "the subcommand's help is pointed to" "$ERR" "Try 'agentflow run --help'."

run "$AGENTFLOW" run
expect_rc "run without a script exits 64" 64
run "$AGENTFLOW" -e
expect_rc "-e without a chunk exits 64" 64
run "$AGENTFLOW" help nosuch
expect_rc "help for an unknown command exits 64" 64

run "$AGENTFLOW" missing.lua
expect_rc "a missing script exits 66" 66
expect_has "the missing script is named" "$ERR" "missing.lua"
run "$AGENTFLOW" run missing.lua
expect_rc "run with a missing script exits 66" 66
mkdir adir
run "$AGENTFLOW" adir
expect_rc "a directory as script exits 66" 66

printf 'local x = 1\nlocal y = (x\nprint(y)\n' > syntax.lua
run "$AGENTFLOW" syntax.lua
expect_rc "a syntax error exits 65" 65
expect_has "it names file:line" "$ERR" "syntax.lua:3:"

printf 'local function inner()\n  error("boom")\nend\ninner()\n' > boom.lua
run "$AGENTFLOW" boom.lua
expect_rc "a runtime error exits 65" 65
expect_has "it names file:line" "$ERR" "boom.lua:2: boom"
expect_has "with a traceback" "$ERR" "stack traceback:"
expect_has "the traceback names the caller" "$ERR" "boom.lua:4:"

printf 'error(setmetatable({}, {__tostring = function() return "custom" end}))\n' > obj.lua
run "$AGENTFLOW" obj.lua
expect_rc "an error object exits 65" 65
expect_has "its __tostring is shown" "$ERR" "custom"

printf 'error({})\n' > tbl.lua
run "$AGENTFLOW" tbl.lua
expect_has "a plain table error says what it is" "$ERR" "error object is a table value"

printf 'print(#arg, arg[0], arg[1], arg[2], select("#", ...), ...)\n' > args.lua
run "$AGENTFLOW" args.lua one "two words"
expect_eq "arguments fill arg and ..." "$(printf '2\targs.lua\tone\ttwo words\t2\tone\ttwo words')" "$OUT"
run "$AGENTFLOW" run args.lua -- one --two
expect_eq "run passes what follows -- to the script" "$(printf '2\targs.lua\tone\t--two\t2\tone\t--two')" "$OUT"

run_in 'print(arg[0], ...)' "$AGENTFLOW" - a b
expect_eq "- reads the script from stdin" "$(printf -- '-\ta\tb')" "$OUT"

printf 'os.exit(7)\n' > seven.lua
run "$AGENTFLOW" seven.lua
expect_rc "os.exit sets the exit code" 7

run "$AGENTFLOW" -e 'io.write(tostring(arg == nil))' args.lua x
expect_has "-e then a script runs both" "$OUT" "true"

done_testing
