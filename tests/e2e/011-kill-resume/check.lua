-- lua5.4 check.lua LEDGER: what the ledger of one kill cycle shows.
-- Prints "executions=N reruns=N max=N twice_in_one_process=N lost=N orphans=N"
-- and one line per problem found:
--   twice_in_one_process  a step began twice under one agentflow process
--   lost                  a step began again after a step that needs its
--                         result had begun (its completion was not durable)
--   orphans               a process of a killed attempt was still running
--                         after the next attempt had begun a step
local DEPS = {} -- B = {A, ...}: B begins only after A's result is seen
local function dep(b, ...) DEPS[b] = { ... } end
dep("seq2", "seq1") dep("seq3", "seq2") dep("ex1", "seq3") dep("ex2", "ex1") dep("ex3", "ex2")
for i = 1, 8 do dep("par" .. i, "ex3") end
dep("pa1", "par1", "par2", "par3", "par4", "par5", "par6", "par7", "par8")
dep("pb1", "par1", "par2", "par3", "par4", "par5", "par6", "par7", "par8")
dep("pa2", "pa1") dep("pb2", "pb1")
local letters = { "a", "b", "c", "d" }
for i, x in ipairs(letters) do
  dep("pl1-" .. x, "pa2", "pb2")
  dep("pl2-" .. i, "pl1-" .. x)
end
dep("it1a", "pl2-1", "pl2-2", "pl2-3", "pl2-4")
dep("it1b", "it1a") dep("it2a", "it1b") dep("it2b", "it2a") dep("it3a", "it2b") dep("it3b", "it3a")

-- The test writes "attempt N PID" as it starts attempt N (agentflow's pid).
-- A step's line belongs to the attempt of the agentflow process that
-- started it, by $PPID; a process that started as that one died reads 1
-- there, and belongs to the newest attempt started before it (by pid).
-- A "done" line belongs to the attempt of its process's "start".
local attempts, raw = {}, {} -- {n, pid} in order; the step lines
for line in io.lines(arg[1]) do
  local n, pid = line:match("^attempt (%d+) (%d+)$")
  if n then
    attempts[#attempts + 1] = { n = tonumber(n), pid = tonumber(pid) }
  else
    raw[#raw + 1] = line
  end
end
-- pids wrap around at pid_max: "newest before" is the least distance back.
local PID_MAX = tonumber(io.open("/proc/sys/kernel/pid_max"):read("l"))

local function attempt_of(ppid, pid)
  local found, best = 0, math.huge
  for _, a in ipairs(attempts) do
    if ppid ~= 1 and a.pid == ppid then
      return a.n
    end
    local back = (pid - a.pid) % PID_MAX
    if ppid == 1 and back < best then
      found, best = a.n, back
    end
  end
  return found
end

local lines, round_of_pid, first_start, rounds = {}, {}, {}, #attempts
for _, line in ipairs(raw) do
  local what, name, ppid, pid = line:match("^(%a+) (%S+) (%d+) (%d+)$")
  ppid, pid = tonumber(ppid), tonumber(pid)
  local l = { what = what, name = name, round = round_of_pid[pid] or attempt_of(ppid, pid),
    orphaned = ppid == 1 }
  round_of_pid[pid] = l.round
  lines[#lines + 1] = l
  if what == "start" and not l.orphaned and not first_start[l.round] then
    first_start[l.round] = #lines
  end
end

-- Where the first step of an attempt after `r` began (nil: none did).
local function next_start(r)
  local at
  for k = r + 1, rounds do
    if first_start[k] and (not at or first_start[k] < at) then
      at = first_start[k]
    end
  end
  return at
end

local starts, seen_in = {}, {}
local problems, twice, lost, orphans = {}, 0, 0, 0
for _, l in ipairs(lines) do
  if l.what == "start" then
    starts[l.name] = (starts[l.name] or 0) + 1
    local key = l.name .. " in attempt " .. l.round
    if seen_in[key] then
      twice = twice + 1
      problems[#problems + 1] = "twice_in_one_process " .. key
    end
    seen_in[key] = true
  end
end
-- A step began again after a dependant of it had begun.
local first_at = {}
for i, l in ipairs(lines) do
  if l.what == "start" then
    for _, a in ipairs(DEPS[l.name] or {}) do
      if first_at[a] == nil then
        lost = lost + 1
        problems[#problems + 1] = "lost " .. l.name .. " began before " .. a .. " ever did"
      end
    end
    first_at[l.name] = first_at[l.name] or i
  end
end
for i, l in ipairs(lines) do
  if l.what == "start" then
    for b, as in pairs(DEPS) do
      for _, a in ipairs(as) do
        if a == l.name and first_at[b] and first_at[b] < i then
          lost = lost + 1
          problems[#problems + 1] = "lost " .. a .. " began again after " .. b
        end
      end
    end
  end
end
-- A process of attempt r still at work once attempt r+1 has begun a step.
for i, l in ipairs(lines) do
  local next_round = next_start(l.round)
  if l.what == "done" and next_round and next_round < i then
    orphans = orphans + 1
    problems[#problems + 1] = "orphan " .. l.name .. " of attempt " .. l.round ..
      " finished after the next attempt began"
  end
end

local executions, reruns, max = 0, 0, 0
for _, n in pairs(starts) do
  executions = executions + n
  reruns = reruns + n - 1
  max = math.max(max, n)
end
print(string.format("executions=%d reruns=%d max=%d twice_in_one_process=%d lost=%d orphans=%d",
  executions, reruns, max, twice, lost, orphans))
for _, p in ipairs(problems) do
  print(p)
end
