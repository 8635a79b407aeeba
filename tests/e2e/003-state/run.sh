# The state directory: git work tree root of the script, else the current
# directory; AGENTFLOW_HOME overrides; created 0700 on first use only.
. ../lib.sh
sandbox
unset AGENTFLOW_HOME

mkdir -p proj/flows/deep elsewhere
git -C proj init -q
printf 'print(af.state_dir(true))\n' > proj/flows/deep/show.lua

cd elsewhere && run "$AGENTFLOW" ../proj/flows/deep/show.lua; cd "$SANDBOX"
expect_eq "a script in a work tree uses its root" "$(cd proj && pwd -P)/.agentflow" "$OUT"
expect_eq "created with mode 0700" "700" "$(stat -c %a proj/.agentflow)"
expect_eq "nothing is created in the current directory" "" "$(ls -A elsewhere)"

# The sandbox may itself be inside a work tree (the build directory is), so
# the no-repository case needs a directory of its own outside any.
plain=$(mktemp -d "${TMPDIR:-/tmp}/af-plain.XXXXXX")
trap 'rm -rf "$plain"' EXIT
printf 'print(af.state_dir(true))\n' > "$plain/show.lua"
cd "$plain" && run "$AGENTFLOW" show.lua; cd "$SANDBOX"
expect_eq "outside a work tree: the current directory" "$(cd "$plain" && pwd -P)/.agentflow" "$OUT"

cd "$plain" && run env AGENTFLOW_HOME="$SANDBOX/home" "$AGENTFLOW" show.lua; cd "$SANDBOX"
expect_eq "AGENTFLOW_HOME overrides" "$SANDBOX/home" "$OUT"
expect_eq "and is created 0700" "700" "$(stat -c %a "$SANDBOX/home")"

mkdir quiet
cd quiet && run "$AGENTFLOW" -e 'print(af.state_dir())'; cd "$SANDBOX"
expect_eq "resolving does not create" "" "$(ls -A quiet)"

touch blocker
cd quiet && run env AGENTFLOW_HOME="$SANDBOX/blocker" "$AGENTFLOW" -e 'print(af.state_dir(true))'; cd "$SANDBOX"
expect_has "a file in the way is reported, not fatal" "$OUT" "not a directory"

done_testing
