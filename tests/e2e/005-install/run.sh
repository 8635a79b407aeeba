# `cmake --install` gives one self-contained program: the Lua library is
# inside the binary, so it works from any directory without the source tree.
. ../lib.sh
sandbox

run cmake --install "$AF_BUILD_DIR" --prefix "$SANDBOX/prefix"
expect_rc "cmake --install succeeds" 0
expect_eq "one file is installed" "bin/agentflow" "$(cd prefix && find . -type f | sed 's|^\./||')"

mkdir far && cd far
run env -u AGENTFLOW_LUA_PATH "$SANDBOX/prefix/bin/agentflow" -e 'print(af.inspect({ok = true}))'
expect_eq "the installed program loads its embedded library" "{ ok = true }" "$OUT"

done_testing
