# The cache against random mutations of a step's inputs: each run after a
# mutation is checked against a fresh computation of the same step (a hit
# whose result differs is a false hit: there must be none), then rerun
# with nothing changed (a miss is a false miss: there must be none).
#
# MUTATIONS sets how many (default 1,000; 200 in a sanitizer build, where
# every process is slower); SEED replays a sequence. tools/soak/mutations.sh
# runs a longer one. Each trial is a real agentflow process.
. ../lib.sh
sandbox
export AGENTFLOW_PROGRESS=off
if grep -qs '^AF_SANITIZE:BOOL=ON' "${AF_BUILD_DIR:-}/CMakeCache.txt"; then
	default=200
else
	default=1000
fi
N=${MUTATIONS:-$default}
SEED=${SEED:-$$}
RANDOM=$SEED

git init -q .
git config user.email test@example.com
git config user.name test
git config gc.auto 0 # refs stay loose files, which the probe reads
git commit -q --allow-empty -m initial
mkdir -p in sub conf agents

# The agent: a real process whose answer is everything it can see, so that
# a change of any input changes the answer. It reads what the step declares
# (through the project root), the git HEAD, and the task without the run's
# own fields; with builtins only, since each process costs.
cat >probe.sh <<EOF
line() { l=; IFS= read -r l <"\$1"; printf '%s\n' "\$l"; }
IFS= read -r task
root=$SANDBOX
IFS= read -r head <"\$root/.git/HEAD"
printf 'variant %s\ncwd %s\nmode %s\nhead %s\ntask %s\n' "\$1" "\$PWD" "\$PROBE_MODE" "\$head" "\${task%%,\"run_id\"*}"
case \$head in "ref: "*) line "\$root/.git/\${head#ref: }" ;; esac
for f in "\$root"/in/a.txt "\$root"/in/*.dat "\$root"/conf/c.toml; do
	printf '== %s\n' "\${f#\$root/}"
	line "\$f"
done
EOF
variant=1
define_agent() {
	cat >agents/probe.lua <<EOF
return { command = { "sh", "$SANDBOX/probe.sh", "v$variant" }, env = { "PROBE_MODE" }, retries = 0,
  invalidate_on = { "files", "configs", "commit", "branch" } }
EOF
}
define_agent

# The step and, when the cache answered it, the same program on the same
# task in the same place with the same environment, outside the cache:
# what a fresh run would answer. (A miss ran the agent: it is fresh.)
cat >wf.lua <<'EOF'
local here = arg[0]:match("^(.*)/[^/]*$") or "."
local state = dofile(here .. "/state.lua")
af.configure({ configs = { here .. "/conf/c.toml" } })
local opts = { prompt = state.prompt, params = { p = state.param },
  files = { here .. "/in/a.txt", here .. "/in/*.dat" } }
local r = af.agent("probe", opts)
local fresh = r.output
if r.cached then
  local def = dofile(here .. "/agents/probe.lua")
  local task = require("agentflow.executors.command").task_json({ agent = "probe", prompt = opts.prompt,
    files = opts.files, params = opts.params, run_id = "-", step = 0, idempotency_key = "-" })
  fresh = af.exec(def.command, { stdin = task .. "\n", env = def.env }).stdout
end
print(r.cached and "hit" or "miss", r.status == "success" and r.output == fresh and "same" or "differs")
EOF

# The helpers set TEXT rather than print: a command substitution costs a
# process, and the test makes thousands of them.
ALPHABET=abcdefghijklmnopqrstuvwxyz0123456789
# TEXT = a random string of $1 characters of ALPHABET.
random_text() {
	local i
	TEXT=
	for ((i = 0; i < $1; i++)); do TEXT+=${ALPHABET:RANDOM % 36:1}; done
}
# TEXT = $1 with the character at a random position replaced by another.
flip_byte() {
	local s=$1 pos old at
	pos=$((RANDOM % ${#s}))
	old=${s:pos:1}
	at=${ALPHABET%%"$old"*}
	TEXT=${s:0:pos}${ALPHABET:(${#at} + 1 + RANDOM % 35) % 36:1}${s:pos+1}
}
# Write a random string of $2 characters to file $1.
random_file() { random_text "$2" && printf '%s' "$TEXT" >"$1"; }

random_text 24
prompt=$TEXT
param=1
export PROBE_MODE=1
write_state() { printf 'return { prompt = "%s", param = %d }\n' "$prompt" "$param" >state.lua; }
write_state
random_file in/a.txt 64
random_file in/1.dat 64
random_file conf/c.toml 16
next_dat=2
where=$SANDBOX script=wf.lua

# Edit one byte of file $1 in place: same inode and size, the mtime put back.
edit_in_place() {
	local s
	touch -r "$1" "$SANDBOX/.mtime"
	IFS= read -r s <"$1" || true
	flip_byte "$s"
	printf '%s' "$TEXT" >"$1"
	touch -r "$SANDBOX/.mtime" "$1"
}

KINDS=(prompt content glob config commit branch param env definition cwd)
declare -A made
mutate() {
	local kind=${KINDS[RANDOM % ${#KINDS[@]}]} dats
	made[$kind]=$((${made[$kind]:-0} + 1))
	case $kind in
	prompt) flip_byte "$prompt" && prompt=$TEXT && write_state ;;
	content)
		dats=(in/a.txt in/*.dat)
		edit_in_place "${dats[RANDOM % ${#dats[@]}]}" ;;
	glob)
		dats=(in/*.dat)
		if [ ${#dats[@]} -lt 6 ]; then
			random_file "in/$next_dat.dat" 64
			next_dat=$((next_dat + 1))
		else
			rm "${dats[RANDOM % ${#dats[@]}]}"
		fi ;;
	config) random_file conf/c.toml $((8 + RANDOM % 16)) ;;
	commit) git commit -q --allow-empty -m "change $i" ;;
	branch)
		local others
		others=$(git for-each-ref --format='%(refname:short)' refs/heads | grep -vx "$(git branch --show-current)")
		if [ -n "$others" ] && [ $((RANDOM % 2)) -eq 0 ]; then
			git checkout -q "$(printf '%s\n' "$others" | shuf -n 1 --random-source=<(yes "$RANDOM"))"
		else
			git checkout -q -b "b$i"
		fi ;;
	param) param=$((param + 1)) && write_state ;;
	env) PROBE_MODE=$((PROBE_MODE + 1)) ;;
	definition) variant=$((variant + 1)) && define_agent ;;
	cwd)
		if [ "$where" = "$SANDBOX" ]; then
			where=$SANDBOX/sub script=../wf.lua
		else
			where=$SANDBOX script=wf.lua
		fi ;;
	esac
	last_kind=$kind
}

# One run of the workflow: "hit|miss same|differs" in $RESULT; a run that
# fails stops the test.
step() {
	cd "$where"
	"$AGENTFLOW" "$script" >"$SANDBOX/.out" 2>"$SANDBOX/.err" || {
		fail "run $i ($1, after a $last_kind mutation) failed" "$(cat "$SANDBOX/.err")"
		done_testing
		exit 1
	}
	cd "$SANDBOX"
	IFS= read -r RESULT <"$SANDBOX/.out"
}

false_hits=0 false_misses=0 repeat_hits=0 last_kind=none
declare -A false_by_kind
step first
for ((i = 1; i <= N; i++)); do
	mutate
	step mutation
	case $RESULT in
	"hit	differs") false_hits=$((false_hits + 1)) false_by_kind[$last_kind]=$((${false_by_kind[$last_kind]:-0} + 1)) ;;
	"hit	same") repeat_hits=$((repeat_hits + 1)) ;; # an earlier state again (a branch switched back)
	esac
	step rerun
	case $RESULT in
	"hit	same") ;;
	"hit	differs") false_hits=$((false_hits + 1)) false_by_kind[rerun]=$((${false_by_kind[rerun]:-0} + 1)) ;;
	*) false_misses=$((false_misses + 1)) ;;
	esac
done

summary="seed $SEED: $N mutations ("
for k in "${KINDS[@]}"; do summary+="$k ${made[$k]:-0}, "; done
summary="${summary%, }): $false_hits false hits, $repeat_hits hits on a state seen before; $N unchanged reruns: $false_misses false misses"
echo "$summary"
for k in "${!false_by_kind[@]}"; do echo "false hits after $k: ${false_by_kind[$k]}"; done
expect_eq "no false hit over $N mutations" 0 "$false_hits"
expect_eq "no false miss over $N unchanged reruns" 0 "$false_misses"
if [ "$N" -ge 100 ]; then
	for k in "${KINDS[@]}"; do
		[ "${made[$k]:-0}" -gt 0 ] || fail "every kind of mutation was made" "none of kind $k"
	done
fi
done_testing
