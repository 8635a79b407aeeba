--- agentflow report RUN_ID --format md|json|junit [--output FILE]
local args = require "agentflow.cli._args"
local cache = require "agentflow._cache"
local journal = require "agentflow._journal"
local report = require "agentflow.report"
local runs = require "agentflow._runs"

local M = {}

function M.main(argv)
  local opts, operands = args.parse(argv, 1, { format = "value", output = "value" })
  if not opts then
    return args.usage_error("report", "%s", operands)
  end
  local id = operands[1]
  if not id or #operands > 1 then
    return args.usage_error("report", "report needs one RUN_ID")
  end
  local format = opts.format or "md"
  if not report.FORMATS[format] then
    return args.usage_error("report", "--format wants md, json or junit, not '%s'", format)
  end
  local rec, code = args.run_record(runs, id)
  if not rec then
    return code
  end
  local steps = journal.steps(id)
  for _, step in ipairs(steps) do
    -- a step the cache answered has its patch in the cache entry
    local e = step.cached and step.key and cache.entry(step.key)
    if e and e.result and e.result.patch then
      step.result = { patch = e.result.patch }
    end
  end
  local text = report.render(format, rec, steps)
  if opts.output then
    local f, err = io.open(opts.output, "w")
    if not f then
      return args.error(74, "cannot write %s", err)
    end
    f:write(text)
    f:close()
  else
    io.stdout:write(text)
  end
  return 0
end

return M
