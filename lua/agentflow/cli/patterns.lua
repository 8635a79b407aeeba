--- agentflow patterns select TEXT [--explain] [--json] | test FILE.tsv [--min-accuracy X] [--json]
-- | list [--json]
local args = require "agentflow.cli._args"
local cjson = require "cjson.safe"
local patterns = require "agentflow.patterns"
local registry = require "agentflow._patterns"

local M = {}

local function select_cmd(opts, operands)
  if #operands == 0 then
    return args.usage_error("patterns", "patterns select needs the TEXT of a task")
  end
  local text = table.concat(operands, " ")
  local best, scores, reasons = patterns.select(text)
  local second, close = patterns.runner_up(best, scores)
  if opts.json then
    io.stdout:write(cjson.encode({ pattern = best, scores = scores, reasons = #reasons > 0 and reasons or nil,
      runner_up = second, close = close }), "\n")
    return 0
  end
  print(best)
  if opts.explain then
    for _, p in ipairs(patterns.PATTERNS) do
      print(string.format("  %-12s %5.2f", p, scores[p]))
    end
    if #reasons == 0 then
      print("no rule fired: " .. patterns.DEFAULT .. " is the default")
    end
    for _, r in ipairs(reasons) do
      print(string.format("  +%-5.2f %-12s %s: \"%s\"%s", r.weight, r.pattern, r.rule, r.cue,
        r.negated and " (negated)" or ""))
    end
    if close then
      print(string.format("close call: %s scored %.2f against %.2f", second, scores[second], scores[best]))
    end
  end
  return 0
end

-- {label, text, line} of a labelled file; nil and a message on a bad line.
local function read_tsv(path)
  local f, err = io.open(path, "r")
  if not f then
    return nil, err, 66
  end
  local rows, n = {}, 0
  local known = {}
  for _, p in ipairs(patterns.PATTERNS) do
    known[p] = true
  end
  for line in f:lines() do
    n = n + 1
    if line:match("%S") and not line:match("^%s*#") then
      local label, text = line:match("^([^\t]+)\t(.+)$")
      if not label then
        f:close()
        return nil, string.format("%s:%d: expected label<TAB>text", path, n), 65
      end
      if not known[label] then
        f:close()
        return nil, string.format("%s:%d: unknown pattern %q", path, n, label), 65
      end
      rows[#rows + 1] = { label = label, text = text, line = n }
    end
  end
  f:close()
  return rows
end

local function evaluate(rows)
  local confusion, wrong, right = {}, {}, 0
  for _, p in ipairs(patterns.PATTERNS) do
    confusion[p] = {}
    for _, q in ipairs(patterns.PATTERNS) do
      confusion[p][q] = 0
    end
  end
  for _, row in ipairs(rows) do
    local got = patterns.select(row.text)
    confusion[row.label][got] = confusion[row.label][got] + 1
    if got == row.label then
      right = right + 1
    else
      wrong[#wrong + 1] = { line = row.line, label = row.label, got = got, text = row.text }
    end
  end
  local per = {}
  for _, p in ipairs(patterns.PATTERNS) do
    local tp, predicted, actual = confusion[p][p], 0, 0
    for _, q in ipairs(patterns.PATTERNS) do
      predicted = predicted + confusion[q][p]
      actual = actual + confusion[p][q]
    end
    per[p] = { precision = predicted > 0 and tp / predicted or 0, recall = actual > 0 and tp / actual or 0,
      count = actual }
  end
  return { total = #rows, correct = right, accuracy = #rows > 0 and right / #rows or 0,
    per_pattern = per, confusion = confusion, misclassified = wrong }
end

local function print_report(r)
  print(string.format("accuracy %.1f%% (%d of %d)", r.accuracy * 100, r.correct, r.total))
  print(string.format("\n%-12s %9s %7s %6s", "pattern", "precision", "recall", "count"))
  for _, p in ipairs(patterns.PATTERNS) do
    local x = r.per_pattern[p]
    print(string.format("%-12s %8.1f%% %6.1f%% %6d", p, x.precision * 100, x.recall * 100, x.count))
  end
  local head = { string.format("\n%-12s", "label \\ got") }
  for _, p in ipairs(patterns.PATTERNS) do
    head[#head + 1] = string.format("%6s", p:sub(1, 6))
  end
  print(table.concat(head, " "))
  for _, p in ipairs(patterns.PATTERNS) do
    local row = { string.format("%-12s", p) }
    for _, q in ipairs(patterns.PATTERNS) do
      row[#row + 1] = string.format("%6d", r.confusion[p][q])
    end
    print(table.concat(row, " "))
  end
  if #r.misclassified > 0 then
    print("\nmisclassified:")
    for _, w in ipairs(r.misclassified) do
      print(string.format("  line %d: %s, got %s: %s", w.line, w.label, w.got, w.text))
    end
  end
end

local function test_cmd(opts, operands)
  if #operands ~= 1 then
    return args.usage_error("patterns", "patterns test needs one FILE.tsv")
  end
  local min = opts["min-accuracy"] and tonumber(opts["min-accuracy"])
  if opts["min-accuracy"] and (not min or min < 0 or min > 1) then
    return args.usage_error("patterns", "--min-accuracy wants a number from 0 to 1, not '%s'",
      opts["min-accuracy"])
  end
  local rows, err, code = read_tsv(operands[1])
  if not rows then
    return args.error(code, "%s", err)
  end
  local r = evaluate(rows)
  if opts.json then
    if #r.misclassified == 0 then
      r.misclassified = nil
    end
    io.stdout:write(cjson.encode(r), "\n")
  else
    print_report(r)
  end
  if min and r.accuracy < min then
    io.stderr:write(string.format("agentflow: accuracy %.1f%% is below %.1f%%\n", r.accuracy * 100, min * 100))
    return 1
  end
  return 0
end

-- The patterns (_patterns.lua): what each does, how af.orchestrate hands
-- it its fields, when it marks checkpoints.
local function list_cmd(opts)
  if opts.json then
    io.stdout:write(cjson.encode(registry.LIST), "\n")
    return 0
  end
  for _, p in ipairs(registry.LIST) do
    print(string.format("%-12s %s\n%-12s af.orchestrate: %s\n%-12s %s", p.name, p.description, "",
      p.orchestrate, "", p.checkpoints and string.format("checkpoints %s#N %s", p.name, p.checkpoints)
        or "no automatic checkpoints"))
  end
  return 0
end

function M.main(argv)
  local sub = argv[1]
  local commands = { select = select_cmd, test = test_cmd, list = list_cmd }
  if not commands[sub] then
    return args.usage_error("patterns", sub and "unknown patterns command '%s'" or "patterns needs a command%s",
      sub or "")
  end
  local opts, operands = args.parse(argv, 2, { explain = "flag", json = "flag", ["min-accuracy"] = "value" })
  if not opts then
    return args.usage_error("patterns", "%s", operands)
  end
  return commands[sub](opts, operands)
end

return M
