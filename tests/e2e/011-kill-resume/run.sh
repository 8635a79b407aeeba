# The reliability bar: a 28-step workflow (sequential, parallel — with
# branches making several calls — and iterative parts) killed with SIGKILL at random moments, 30 times in all,
# and resumed until it finishes. Each step runs at least once and at most
# once more per kill; the results equal an uninterrupted run's; the store
# opens and no stale reader slot is left.
. ../lib.sh
sandbox
export AGENTFLOW_PROGRESS=off
KILLS=${KILLS:-30}

cat >wf.lua <<'EOF'
local function agent(name, secs)
  af.define_agent(name, { command = { "sh", "-c",
    "cat >/dev/null; echo " .. name .. " >> ledger; sleep " .. (secs or "0.05") .. "; echo out-" .. name },
    cache = false })
  return { agent = name, prompt = name }
end
local outputs = {}
local function keep(r) outputs[#outputs + 1] = r.output:gsub("\n", "") end
for i = 1, 6 do
  keep(af.agent(agent("seq" .. i).agent, { prompt = "seq" .. i }))
end
local batch = {}
for i = 1, 8 do batch[i] = agent("par" .. i) end
for _, r in ipairs(af.parallel(batch, { max = 4 })) do keep(r) end
-- Branches making several calls each: on replay they start in another order.
local pairs_out = {}
af.parallel({
  function() pairs_out[1] = af.agent(agent("pa1", "0.03").agent).output .. af.agent(agent("pa2", "0.03").agent).output end,
  function() pairs_out[2] = af.agent(agent("pb1", "0.08").agent).output .. af.agent(agent("pb2", "0.08").agent).output end,
})
outputs[#outputs + 1] = (pairs_out[1] .. pairs_out[2]):gsub("\n", "")
af.iterative({ max = 5 }, function(i)
  keep(af.agent(agent("it" .. i .. "a").agent, { prompt = "it" .. i .. "a" }))
  keep(af.agent(agent("it" .. i .. "b").agent, { prompt = "it" .. i .. "b" }))
end)
print(table.concat(outputs, " "))
EOF

# The uninterrupted run, for comparison.
mkdir clean && cp wf.lua clean/ && (cd clean && AGENTFLOW_HOME="$PWD/.agentflow" "$AGENTFLOW" wf.lua >expected)
expected=$(cat clean/expected)
expect_eq "the uninterrupted run has 28 steps" "28" "$(wc -l <clean/ledger | tr -d ' ')"

# One cycle: a fresh run, killed at random moments and resumed until it
# finishes; checked as it ends. Cycles repeat until $KILLS kills are done.
cycle() {
	local kills=0 finished=0 rounds=0 run_id="" rc pid
	rm -f ledger out final.out
	while [ $finished -eq 0 ] && [ $rounds -lt 300 ]; do
		rounds=$((rounds + 1))
		if [ -z "$run_id" ]; then
			"$AGENTFLOW" wf.lua >out 2>err &
		else
			"$AGENTFLOW" resume "$run_id" >out 2>err &
		fi
		pid=$!
		sleep "0.$(printf '%03d' $((RANDOM % 200 + 10)))"
		kill -KILL $pid 2>/dev/null && kills=$((kills + 1))
		wait $pid && rc=0 || rc=$?
		# The newest run, unless a kill came before this cycle's run had a record.
		[ -z "$run_id" ] && run_id=$("$AGENTFLOW" runs --json |
			jq -r --arg done "$done_ids" '[.[] | select(.run_id as $id | $done | contains($id) | not)][0].run_id // empty')
		# A kill may land after the run printed its results and recorded
		# itself done: then the next resume says there is nothing to resume.
		grep -q "out-it5b" out && cp out final.out
		if [ $rc -eq 0 ] && { grep -q "out-it5b" out || grep -q "nothing to resume" out; }; then
			finished=1
		fi
	done
	total_kills=$((total_kills + kills))
	done_ids="$done_ids $run_id"
	[ $finished -eq 1 ] || bad="$bad cycle$cycles:unfinished-after-$rounds-rounds-$kills-kills"
	[ "$(grep out- final.out 2>/dev/null)" = "$expected" ] || bad="$bad cycle$cycles:results"
	local excess=0 name n
	for name in $(cat clean/ledger); do
		n=$(grep -cx "$name" ledger)
		[ "$n" -ge 1 ] || bad="$bad cycle$cycles:$name-never-ran"
		excess=$((excess + n - 1))
	done
	# A kill catches at most max = 4 steps in flight.
	[ $excess -le $((kills * 4)) ] || bad="$bad cycle$cycles:$excess-reruns-for-$kills-kills"
	[ "$("$AGENTFLOW" runs show "$run_id" --json | jq -r .status)" = done ] || bad="$bad cycle$cycles:status"
}

total_kills=0 cycles=0 bad="" done_ids=""
while [ $total_kills -lt "$KILLS" ] && [ $cycles -lt $((KILLS / 5 + 5)) ]; do
	cycles=$((cycles + 1))
	cycle
done
expect_eq "$total_kills kills over $cycles runs: each finished, every step ran, results equal, reruns within the kills" "" "$bad"
expect_eq "at least $KILLS kills happened" "true" "$([ $total_kills -ge "$KILLS" ] && echo true)"

run "$AGENTFLOW" cache stats --json
expect_rc "the store opens" 0
expect_eq "no stale reader slot is left" "0" "$(printf '%s' "$OUT" | jq .readers)"

done_testing
