# The reliability bar: a 32-step workflow (wf.lua: agent and process steps;
# sequential, parallel with branches making several calls, a pipeline and
# an iteration) killed with SIGKILL at random moments, 30 times in all, and
# resumed until it finishes. Per step identity: it runs at least once,
# never twice under one process, never again once a step that needs its
# result has begun (its completion was committed first), and at most once
# more per kill; no process of a killed attempt outlives the next attempt's
# start; the results equal an uninterrupted run's; the store opens and no
# stale reader slot is left.
. ../lib.sh
here=$PWD
sandbox
export AGENTFLOW_PROGRESS=off
KILLS=${KILLS:-30}
cp "$here/wf.lua" .

# The uninterrupted run, for comparison.
mkdir clean && cp wf.lua clean/ && (cd clean && AGENTFLOW_HOME="$PWD/.agentflow" "$AGENTFLOW" wf.lua >expected)
expected=$(cat clean/expected)
expect_eq "the uninterrupted run has 32 steps" "32" "$(grep -c '^start' clean/ledger)"
expect_eq "each once" "executions=32 reruns=0 max=1 twice_in_one_process=0 lost=0 orphans=0" \
	"$(lua5.4 "$here/check.lua" clean/ledger | head -1)"

# The order of starts changes between attempts: a two-stage pipeline over
# two items, killed twice while stage 2 of item 1 runs, then resumed to the
# end. Each finished step keeps its own record: none runs again, and replay
# never finds the workflow changed.
mkdir pipe && cd pipe
cat >wf.lua <<'LUA'
local function script(name, secs)
  return { "sh", "-c", "echo " .. name .. " >> ledger; sleep " .. secs }
end
local function agent(name, secs)
  af.define_agent(name, { command = script(name, secs), cache = false })
  return af.agent(name).status
end
af.pipeline({
  function(_, i) return af.exec(script("s1-" .. i, i == 1 and "0.2" or "0.01")).code end,
  { function(_, i) return agent("s2-" .. i, i == 1 and "0.6" or "0.01") end, max = 2 },
}, { "a", "b" }, { max = 2 })
print("finished")
LUA
# kill_when N: run the command in the background, SIGKILL it once the
# ledger holds N lines "s2-1".
kill_when() {
	local n=$1 tries=0
	shift
	"$@" >out 2>err &
	while [ "$(cat ledger 2>/dev/null | grep -c '^s2-1$')" -lt "$n" ] && [ $tries -lt 500 ]; do
		sleep 0.01
		tries=$((tries + 1))
	done
	sleep 0.05
	kill -KILL $! 2>/dev/null
	wait $! 2>/dev/null
}
kill_when 1 "$AGENTFLOW" wf.lua
pipe_id=$("$AGENTFLOW" runs --json | jq -r '.[0].run_id')
expect_eq "the killed run shows its three finished steps" "exec exec s2-2" \
	"$("$AGENTFLOW" runs show "$pipe_id" --json | jq -r '[.step_records[] | select(.state == "completed") |
		if .kind == "exec" then "exec" else .agent end] | sort | join(" ")')"
kill_when 2 "$AGENTFLOW" resume "$pipe_id"
run "$AGENTFLOW" resume "$pipe_id"
expect_eq "the pipeline resumed twice finishes" "finished" "$OUT"
expect_eq "replay never finds the workflow changed" "" "$(printf '%s' "$ERR" | grep differs)"
expect_eq "each finished step ran once; the one killed twice three times" "3 s2-1
1 s1-1
1 s1-2
1 s2-2" "$(sort ledger | uniq -c | sort -k1,1nr -k2 | sed 's/^ *//')"
expect_eq "runs show lists each step once" "4" \
	"$("$AGENTFLOW" runs show "$pipe_id" --json | jq '.step_records | length')"
cd ..

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
		echo "attempt $rounds $pid" >>ledger
		# Kills land 10 ms to 0.4 s in, later as rounds go by, so that a
		# slow (loaded, sanitized) machine still gets past its longest step.
		sleep "$(awk -v r=$RANDOM -v n=$rounds 'BEGIN { printf "%.3f", 0.01 + (r % 1000) / 1000 * (0.4 + n * 0.02) }')"
		kill -KILL $pid 2>/dev/null && kills=$((kills + 1))
		wait $pid && rc=0 || rc=$?
		grep -q "ended .* process group" err && ended_groups=$((ended_groups + 1))
		# The newest run, unless a kill came before this cycle's run had a record.
		[ -z "$run_id" ] && run_id=$("$AGENTFLOW" runs --json |
			jq -r --arg done "$done_ids" '[.[] | select(.run_id as $id | $done | contains($id) | not)][0].run_id // empty')
		# A kill may land after the run printed its results and recorded
		# itself done: then the next resume says there is nothing to resume.
		grep -q "out-it3b" out && cp out final.out
		if [ $rc -eq 0 ] && { grep -q "out-it3b" out || grep -q "nothing to resume" out; }; then
			finished=1
		fi
	done
	total_kills=$((total_kills + kills))
	done_ids="$done_ids $run_id"
	[ $finished -eq 1 ] || bad="$bad cycle$cycles:unfinished-after-$rounds-rounds-$kills-kills"
	[ "$(grep out- final.out 2>/dev/null)" = "$expected" ] || bad="$bad cycle$cycles:results"
	local report summary name
	report=$(lua5.4 "$here/check.lua" ledger)
	summary=$(printf '%s\n' "$report" | head -1)
	printf '# cycle %d: %d kills, %s\n' "$cycles" "$kills" "$summary"
	printf '%s\n' "$report" | tail -n +2 | sed 's/^/#   /'
	case "$summary" in
	*"twice_in_one_process=0 lost=0 orphans=0") ;;
	*) bad="$bad cycle$cycles:$summary"; cp ledger "ledger.cycle$cycles" ;;
	esac
	for name in $(grep '^start' clean/ledger | cut -d' ' -f2); do
		n=$(grep -c "^start $name " ledger)
		[ "$n" -ge 1 ] || bad="$bad cycle$cycles:$name-never-ran"
		[ "$n" -le $((kills + 1)) ] || bad="$bad cycle$cycles:$name-ran-$n-times-for-$kills-kills"
	done
	reruns=$(printf '%s' "$summary" | sed 's/.*reruns=\([0-9]*\).*/\1/')
	total_reruns=$((total_reruns + reruns))
	# A kill catches at most 4 steps in flight.
	[ "$reruns" -le $((kills * 4)) ] || bad="$bad cycle$cycles:$reruns-reruns-for-$kills-kills"
	[ "$("$AGENTFLOW" runs show "$run_id" --json | jq -r .status)" = done ] || bad="$bad cycle$cycles:status"
}

total_kills=0 total_reruns=0 ended_groups=0 cycles=0 bad="" done_ids="$pipe_id"
while [ $total_kills -lt "$KILLS" ] && [ $cycles -lt $((KILLS / 5 + 5)) ]; do
	cycles=$((cycles + 1))
	cycle
done
printf '# %d kills over %d runs: %d re-executions in all, %d resumes ended leftover process groups\n' \
	"$total_kills" "$cycles" "$total_reruns" "$ended_groups"
expect_eq "$total_kills kills over $cycles runs: each finished, every step ran, none lost or run twice in a process, no orphan outlived a resume, results equal" "" "$bad"
expect_eq "at least $KILLS kills happened" "true" "$([ $total_kills -ge "$KILLS" ] && echo true)"

run "$AGENTFLOW" cache stats --json
expect_rc "the store opens" 0
expect_eq "no stale reader slot is left" "0" "$(printf '%s' "$OUT" | jq .readers)"

done_testing
