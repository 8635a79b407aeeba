# The result cache on a real git repository: hits, what invalidates an
# entry, plan, why, the cache command, concurrent use and damage.
. ../lib.sh
sandbox
export AGENTFLOW_PROGRESS=off
git init -q .
git config user.email test@example.com
git config user.name test
mkdir -p erp/finance erp/sub
echo 'local vat = 0.15' >erp/finance/vat.lua
echo 'return {}' >erp/finance/invoice.lua
echo 'rates' >erp/c.txt
echo 'readme' >README
git add . && git commit -qm initial

# The agent program counts its runs in runs.log (one line per run).
cat >wf.lua <<'EOF'
local counting = { "sh", "-c", "cat >/dev/null; echo run >> runs.log; echo reviewed" }
af.define_agent("reviewer", { command = counting, files = { "erp/**/*.lua" } })
af.define_agent("rates", { command = counting, files = { "erp/c.txt" } })
af.define_agent("pinned", { command = counting, invalidate_on = { "commit" } })
af.define_agent("world", { command = counting, cache = false })
local only = arg[1]
for _, name in ipairs({ "reviewer", "rates", "pinned", "world" }) do
  if not only or only == name then
    local r = af.agent(name, { prompt = "check " .. name })
    print(name, r.status, r.cached)
  end
end
print("run", af.run_id())
EOF
runs() { wc -l <runs.log | tr -d ' '; }

run "$AGENTFLOW" wf.lua
expect_rc "the first run succeeds" 0
expect_eq "every agent ran" 4 "$(runs)"
expect_has "nothing was cached yet" "$OUT" "$(printf 'reviewer\tsuccess\tfalse')"

run "$AGENTFLOW" wf.lua
expect_has "a rerun without changes is a hit" "$OUT" "$(printf 'reviewer\tsuccess\ttrue')"
expect_eq "and only the cache = false agent ran again" 5 "$(runs)"
expect_has "cache = false never hits" "$OUT" "$(printf 'world\tsuccess\tfalse')"

touch erp/finance/vat.lua
run "$AGENTFLOW" wf.lua reviewer
expect_has "touch alone still hits" "$OUT" "$(printf 'reviewer\tsuccess\ttrue')"

echo 'local vat = 0.075' >erp/finance/vat.lua
run "$AGENTFLOW" plan wf.lua
expect_rc "plan exits 0" 0
expect_has "plan names the changed file" "$OUT" "STALE  step 1   reviewer"
expect_has "with the reason" "$OUT" "(files: erp/finance/vat.lua)"
expect_has "plan shows hits" "$OUT" "HIT    step 2   rates"
expect_has "plan shows what always runs" "$OUT" "MISS   step 4   world"
expect_has "plan ends with a count" "$OUT" "plan: 2 hit, 1 stale, 1 miss"
expect_eq "plan runs no agent" 5 "$(runs)"

run "$AGENTFLOW" wf.lua reviewer
expect_has "a content change misses" "$OUT" "$(printf 'reviewer\tsuccess\tfalse')"
expect_eq "and the agent ran" 6 "$(runs)"
run_id=$(printf '%s\n' "$OUT" | awk '$1 == "run" {print $2}')
run "$AGENTFLOW" why "$run_id" 1
expect_rc "why explains a step" 0
expect_has "why names the changed file" "$OUT" "files: erp/finance/vat.lua"
run "$AGENTFLOW" why "$run_id" 1 --json
expect_eq "why --json gives the reasons" '["files: erp/finance/vat.lua"]' "$(printf '%s' "$OUT" | jq -c .reasons)"
run "$AGENTFLOW" why "$run_id" 9
expect_rc "why on a missing step exits 66" 66

echo 'return 1' >erp/sub/new.lua
run "$AGENTFLOW" plan wf.lua reviewer
expect_has "a new file matching the glob misses" "$OUT" "(files: erp/sub/new.lua (new))"

rm erp/c.txt
run "$AGENTFLOW" plan wf.lua rates
expect_rc "a declared file that does not exist is an error" 65
expect_has "naming it and the line of the call" "$ERR" "wf.lua:9: agent rates: files: erp/c.txt does not exist"
echo 'rates' >erp/c.txt

git add README erp && git commit -qm second
run "$AGENTFLOW" plan wf.lua
expect_has "a new commit invalidates a commit-pinned entry" "$OUT" "STALE  step 3   pinned"
expect_has "naming the commit" "$OUT" "(commit)"
expect_has "and not the others" "$OUT" "HIT    step 2   rates"

# Declared paths mean what io.open makes of them in the current directory;
# keys name them relative to the project root, and hold the agent's
# working directory.
cat >erp/sub.lua <<'EOF'
local here = arg[0]:match("^(.*)/[^/]*$") or "."
af.define_agent("sub", { command = { "sh", "-c", "cat >/dev/null; pwd; cat finance/vat.lua 2>/dev/null; true" } })
local r = af.agent("sub", { prompt = "p", files = { here .. "/finance/vat.lua", here .. "/finance/*.lua",
  { here .. "/later.txt", optional = true } } })
print(r.cached)
print(r.output)
print("run", af.run_id())
EOF
first() { printf '%s\n' "$OUT" | head -1; }
cd erp
run "$AGENTFLOW" sub.lua
expect_eq "from a subdirectory, ./finance/vat.lua is erp/finance/vat.lua" "false" "$(first)"
run "$AGENTFLOW" sub.lua
expect_eq "and a rerun there hits" "true" "$(first)"
printf 'local vat = 0.175\n' >finance/vat.lua
run "$AGENTFLOW" sub.lua
expect_eq "a change of the file it names misses" "false" "$(first)"
expect_has "and the agent sees the new content" "$OUT" "0.175"
cd ..
run "$AGENTFLOW" plan erp/sub.lua
expect_has "from the root, another working directory misses" "$OUT" "STALE  step 1   sub"
expect_has "naming it" "$OUT" "(working directory)"
expect_has "and the files are named as from the subdirectory" "$OUT" \
	"       files: erp/finance/invoice.lua, erp/finance/vat.lua, erp/later.txt"
run "$AGENTFLOW" plan --json erp/sub.lua
expect_eq "plan --json lists the files a key holds" \
	'["erp/finance/invoice.lua","erp/finance/vat.lua","erp/later.txt"]|["working directory"]|0 1 0 0' \
	"$(printf '%s\n' "$OUT" | grep '^{' | jq -rs 'map(select(.state == "STALE"))[0] as $s | "\($s.files|tojson)|\($s.reasons|tojson)|\(.[-1].plan | "\(.hit) \(.stale) \(.miss) \(.unknown)")"')"
run "$AGENTFLOW" erp/sub.lua
expect_has "the agent ran in the root" "$OUT" "$SANDBOX
"
sub_run=$(printf '%s\n' "$OUT" | awk '$1 == "run" {print $2}')
echo later >erp/later.txt
run "$AGENTFLOW" plan erp/sub.lua
expect_has "an optional file that appears misses" "$OUT" "(files: erp/later.txt)"
run "$AGENTFLOW" erp/sub.lua
rm erp/later.txt
printf 'local vat = 0.2\n' >erp/finance/vat.lua
run "$AGENTFLOW" plan erp/sub.lua
expect_has "and one that goes is named missing" "$OUT" "(files: erp/finance/vat.lua; missing: erp/later.txt)"
echo 'return 2' >erp/finance/new.lua
cd erp/finance
run "$AGENTFLOW" plan ../sub.lua
expect_has "a relative glob from a subdirectory sees a new match" "$OUT" "files: erp/finance/new.lua (new)"
cd ../..
rm erp/finance/new.lua
run "$AGENTFLOW" why "$sub_run" 1
expect_has "why names the working directory" "$OUT" "  working directory"
expect_has "and the files the key holds" "$OUT" \
	"its key holds 3 files: erp/finance/invoice.lua, erp/finance/vat.lua, erp/later.txt"
run "$AGENTFLOW" why "$sub_run" 1 --json
expect_eq "why --json too" '["erp/finance/invoice.lua","erp/finance/vat.lua","erp/later.txt"] []' \
	"$(printf '%s' "$OUT" | jq -c '.files, .configs' | paste -sd' ')"

# "long" shows a hit within its TTL however slow the machine; "short" expires.
cat >ttl.lua <<'EOF'
af.define_agent("long", { command = { "sh", "-c", "cat >/dev/null; echo run >> runs.log" }, ttl = "1h" })
af.define_agent("short", { command = { "sh", "-c", "cat >/dev/null; echo run >> runs.log" }, ttl = "1s" })
print(af.agent("long").cached, af.agent("short").cached)
EOF
run "$AGENTFLOW" ttl.lua
run "$AGENTFLOW" ttl.lua
expect_eq "within its TTL an entry hits" "true" "${OUT%%$'\t'*}"
sleep 1.2
run "$AGENTFLOW" plan ttl.lua
expect_has "after a 1 s TTL the entry is stale" "$OUT" "STALE  step 2   short"
expect_has "naming the TTL" "$OUT" "(ttl)"
run "$AGENTFLOW" ttl.lua
expect_eq "and the agent runs again" "true	false" "$OUT"

cat >twice.lua <<'EOF'
af.define_agent("slow", { command = { "sh", "-c", "cat >/dev/null; sleep 0.2; echo run >> twice.log; echo out" } })
local rs = af.parallel({ { agent = "slow", prompt = "same" }, { agent = "slow", prompt = "same" } })
print(rs[1].output == rs[2].output, rs[1].cached ~= rs[2].cached)
EOF
run "$AGENTFLOW" twice.lua
expect_eq "two identical calls in flight run once" "1" "$(wc -l <twice.log | tr -d ' ')"
expect_eq "both get the result, one marked cached" "$(printf 'true\ttrue')" "$OUT"

# The cache command.
run "$AGENTFLOW" cache stats --json
expect_rc "cache stats --json" 0
expect_eq "stats count entries per agent" "1" "$(printf '%s' "$OUT" | jq .agents.rates.entries)"
expect_eq "stats count hits" "true" "$(printf '%s' "$OUT" | jq '.hits >= 3 and .misses >= 4 and .hit_ratio > 0 and .bytes > 0')"
run "$AGENTFLOW" cache ls --json
key=$(printf '%s' "$OUT" | jq -r '.[] | select(.agent == "rates") | .key')
run "$AGENTFLOW" cache show "${key:0:12}" --json
expect_rc "cache show takes a key prefix" 0
expect_eq "show --json has the seed's entry shape" \
	'["agentName","cacheKey","dependencies","inputs","metadata","output"]' \
	"$(printf '%s' "$OUT" | jq -c '[keys[] | select(. != "manifest" and . != "result")]')"
expect_eq "with the agent, output and dependencies" "rates|reviewed
|erp/c.txt|check rates" \
	"$(printf '%s' "$OUT" | jq -r '[.agentName, .output, (.dependencies.files | keys[0]), .inputs.prompt] | join("|")')"
expect_eq "and metadata" "true" \
	"$(printf '%s' "$OUT" | jq '.metadata.accessCount >= 1 and (.metadata.created | test("Z$")) and (.metadata.gitCommit | length) == 40')"
run "$AGENTFLOW" cache show nosuchkey
expect_rc "show of an unknown key exits 66" 66
run "$AGENTFLOW" cache invalidate --file erp/c.txt
expect_eq "invalidate --file removes the entries depending on it" "removed 1 entry" "$OUT"
run "$AGENTFLOW" plan wf.lua rates
expect_has "so the next run misses" "$OUT" "MISS   step 1   rates"
run "$AGENTFLOW" cache invalidate --agent reviewer --json
expect_eq "invalidate --agent" "true" "$(printf '%s' "$OUT" | jq '.removed >= 1')"
run "$AGENTFLOW" cache invalidate
expect_rc "invalidate without a choice is a usage error" 64
run "$AGENTFLOW" cache prune --max-size 1 --json
expect_eq "prune --max-size evicts until the rest fit" "0" "$(printf '%s' "$OUT" | jq .bytes)"
run "$AGENTFLOW" cache stats --json
expect_eq "nothing is left" "0" "$(printf '%s' "$OUT" | jq .entries)"
"$AGENTFLOW" -e 'require("agentflow._store").get():write({ { "entries", "0123abcd", "{\"v\":1}" } })'
run "$AGENTFLOW" cache prune --json
expect_eq "prune removes an entry of another format version" "1" "$(printf '%s' "$OUT" | jq .expired)"

# Two processes sharing one cache.
cat >many.lua <<'EOF'
af.define_agent("echo", { run = function(task) return task.prompt end })
local steps = {}
for i = 1, 200 do
  steps[i] = { agent = "echo", prompt = "item " .. (i % 150) }
end
local rs = af.parallel(steps, { max = 8 })
local ok = 0
for i, r in ipairs(rs) do
  if r.output == "item " .. (i % 150) then ok = ok + 1 end
end
print(ok)
EOF
"$AGENTFLOW" many.lua >p1.out 2>p1.err &
p1=$!
"$AGENTFLOW" many.lua >p2.out 2>p2.err &
p2=$!
wait $p1 && rc1=0 || rc1=$?
wait $p2 && rc2=0 || rc2=$?
expect_eq "two processes at once both finish" "0 0" "$rc1 $rc2"
expect_eq "with every result right" "200 200" "$(cat p1.out) $(cat p2.out)"
run "$AGENTFLOW" cache ls --agent echo --json
expect_eq "and every entry stored once" "150" "$(printf '%s' "$OUT" | jq length)"

# kill -9 while writing: what was committed before survives.
cat >writer.lua <<'EOF'
af.define_agent("w", { run = function(task) return string.rep("x", 3000) end })
for i = 1, 100000 do
  af.agent("w", { prompt = "n" .. i })
end
EOF
"$AGENTFLOW" writer.lua 2>/dev/null &
pid=$!
for _ in $(seq 200); do
	n=$("$AGENTFLOW" cache stats --json 2>/dev/null | jq '.agents.w.entries // 0')
	[ "${n:-0}" -gt 20 ] && break
	sleep 0.05
done
kill -9 $pid
wait $pid 2>/dev/null
run "$AGENTFLOW" cache stats --json
expect_rc "after kill -9 the cache opens" 0
n=$(printf '%s' "$OUT" | jq .agents.w.entries)
expect_eq "and holds the entries committed before" "true" "$([ "${n:-0}" -gt 10 ] && echo true || echo "false ($n)")"
cat >reread.lua <<'EOF'
af.define_agent("w", { run = function(task) return string.rep("x", 3000) end })
local hits = 0
for i = 1, 10 do
  if af.agent("w", { prompt = "n" .. i }).cached then hits = hits + 1 end
end
print(hits)
EOF
run "$AGENTFLOW" reread.lua
expect_eq "which are served" "10" "$OUT"

# Damage: a clear error naming the file and the way out; exit 74.
cp "$AGENTFLOW_HOME/store/data.mdb" saved.mdb
head -c 8192 saved.mdb >"$AGENTFLOW_HOME/store/data.mdb"
run "$AGENTFLOW" reread.lua
expect_rc "a truncated database exits 74" 74
expect_has "naming the file" "$ERR" "store/data.mdb is damaged"
expect_has "and the command that resets it" "$ERR" "agentflow cache reset"
head -c 8192 /dev/urandom >"$AGENTFLOW_HOME/store/data.mdb"
run "$AGENTFLOW" cache stats
expect_rc "a garbage database exits 74 too" 74
run "$AGENTFLOW" cache reset
expect_rc "cache reset removes it" 0
run "$AGENTFLOW" reread.lua
expect_eq "and the next run starts an empty cache" "0" "$OUT"

# A state directory where the store cannot be made: runs, uncached, one warning.
mkdir -p ro && echo 'af.define_agent("a", { run = function() return 1 end }) print(af.agent("a").status, af.agent("a").cached)' >ro/w.lua
mkdir -p ro/.agentflow && touch ro/.agentflow/store
AGENTFLOW_HOME="$SANDBOX/ro/.agentflow" run "$AGENTFLOW" ro/w.lua
expect_rc "a store that cannot be opened does not stop the run" 0
expect_eq "nothing is cached" "$(printf 'success\tfalse')" "$OUT"
expect_has "a warning says so" "$ERR" "the cache and the journal are off"
expect_eq "once" "1" "$(printf '%s\n' "$ERR" | grep -c 'are off')"

done_testing
