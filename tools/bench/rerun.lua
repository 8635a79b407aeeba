-- tools/bench/rerun.lua N: N agent steps (a command agent running
-- /bin/true, one distinct prompt each); a second run is all hits.
af.define_agent("true", { command = { "/bin/true" } })
for i = 1, tonumber(arg[1]) do
  af.agent("true", { prompt = "step " .. i })
end
