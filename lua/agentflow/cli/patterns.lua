--- agentflow patterns select TEXT [--explain] [--json]
-- | test FILE.tsv|DIR... [--min-accuracy X] [--min-recall X] [--summary] [--json]
-- | train FILE.tsv|DIR... [--output FILE] [--explain] [--cross-validate]
-- | list [--json]
--
-- Labelled files hold `label<TAB>text` lines ('#' starts a comment); a
-- directory stands for its *.tsv files, and each file is a style group
-- named after it (tests/patterns/test/commits.tsv: "commits").
local args = require "agentflow.cli._args"
local cjson = require "cjson.safe"
local core = require "agentflow.core"
local patterns = require "agentflow.patterns"
local registry = require "agentflow._patterns"
local train = require "agentflow._patterns_train"

local M = {}

local function fmt_pct(x)
  return string.format("%.1f%%", x * 100)
end

local function explain_select(text, best, scores, reasons, d)
  print(string.format("margin %.2f over %s%s", d.margin, d.runner_up,
    d.uncertain and string.format(" (uncertain: below %.2f)", patterns.UNCERTAIN) or ""))
  print(string.format("  %-12s %7s %8s %6s", "pattern", "rules", "learned", "score"))
  local scale = patterns.model.rule_scale or 1
  for _, p in ipairs(patterns.PATTERNS) do
    print(string.format("  %-12s %7.2f %8.2f %6.2f", p, scale * d.rules[p], d.learned[p], scores[p]))
  end
  if #reasons == 0 then
    print("rules: none fired")
  else
    print(string.format("rules (x %.2f):", scale))
  end
  for _, r in ipairs(reasons) do
    print(string.format("  +%-5.2f %-12s %s: \"%s\"%s", r.weight, r.pattern, r.rule, r.cue,
      r.negated and " (negated)" or ""))
  end
  -- The learned features that pull hardest toward or away from the choice.
  local feats = {}
  for _, f in ipairs(patterns.known_features(text)) do
    local w = f.weights
    local other = -math.huge
    for _, p in ipairs(patterns.PATTERNS) do
      if p ~= best then
        other = math.max(other, w[p] or 0)
      end
    end
    feats[#feats + 1] = { f.feature, (w[best] or 0) - other, w }
  end
  table.sort(feats, function(a, b)
    if math.abs(a[2]) ~= math.abs(b[2]) then
      return math.abs(a[2]) > math.abs(b[2])
    end
    return a[1] < b[1]
  end)
  if #feats > 0 then
    print("learned features (strongest first):")
  end
  for i = 1, math.min(8, #feats) do
    local parts = {}
    for _, p in ipairs(patterns.PATTERNS) do
      if feats[i][3][p] then
        parts[#parts + 1] = string.format("%s %+.2f", p, feats[i][3][p])
      end
    end
    print(string.format("  %-24s %s", string.format("%q", feats[i][1]), table.concat(parts, ", ")))
  end
  if #reasons == 0 and d.known == 0 then
    print("nothing known in the text: " .. patterns.DEFAULT .. " is the default")
  end
end

local function select_cmd(opts, operands)
  if #operands == 0 then
    return args.usage_error("patterns", "patterns select needs the TEXT of a task")
  end
  local text = table.concat(operands, " ")
  local best, scores, reasons, d = patterns.select(text)
  if opts.json then
    io.stdout:write(cjson.encode({ pattern = best, scores = scores, margin = d.margin,
      runner_up = d.runner_up, uncertain = d.uncertain, close = d.uncertain,
      rules = d.rules, learned = d.learned, reasons = #reasons > 0 and reasons or nil }), "\n")
    return 0
  end
  print(best)
  if opts.explain then
    explain_select(text, best, scores, reasons, d)
  end
  return 0
end

-- {label, text, line} of a labelled file; nil, a message and an exit code
-- on a missing file or a bad line.
local function read_tsv(path)
  local f, err = io.open(path, "r")
  local body = f and f:read("a")
  if f then
    f:close()
  end
  if not body then
    return nil, err or string.format("%s: not a file or a directory of .tsv files", path), 66
  end
  local known = {}
  for _, p in ipairs(patterns.PATTERNS) do
    known[p] = true
  end
  local rows, n = {}, 0
  for line in (body .. (body:sub(-1) == "\n" and "" or "\n")):gmatch("(.-)\r?\n") do
    n = n + 1
    if line:match("%S") and not line:match("^%s*#") then
      local label, text = line:match("^([^\t]+)\t(.+)$")
      if not label then
        return nil, string.format("%s:%d: expected label<TAB>text", path, n), 65
      end
      if not known[label] then
        return nil, string.format("%s:%d: unknown pattern %q", path, n, label), 65
      end
      rows[#rows + 1] = { label = label, text = text, line = n, file = path }
    end
  end
  return rows
end

-- The style groups of the operands: {name, path, rows}, a directory
-- giving one group per *.tsv file in it (sorted).
local function read_groups(operands)
  local groups = {}
  for _, op in ipairs(operands) do
    local inside = core.glob(op, "*.tsv")
    local paths = {}
    if inside and #inside > 0 then
      table.sort(inside)
      for _, rel in ipairs(inside) do
        paths[#paths + 1] = op:gsub("/$", "") .. "/" .. rel
      end
    else
      paths[1] = op
    end
    for _, path in ipairs(paths) do
      local rows, err, code = read_tsv(path)
      if not rows then
        return nil, err, code
      end
      groups[#groups + 1] = { name = path:match("([^/]+)%.tsv$") or path, path = path, rows = rows }
    end
  end
  return groups
end

local function zero_matrix()
  local m = {}
  for _, p in ipairs(patterns.PATTERNS) do
    m[p] = {}
    for _, q in ipairs(patterns.PATTERNS) do
      m[p][q] = 0
    end
  end
  return m
end

local function evaluate(groups)
  local confusion, wrong, right, total = zero_matrix(), {}, 0, 0
  local styles = {}
  for _, g in ipairs(groups) do
    local ok = 0
    for _, row in ipairs(g.rows) do
      local got = patterns.select(row.text)
      confusion[row.label][got] = confusion[row.label][got] + 1
      if got == row.label then
        ok = ok + 1
      else
        wrong[#wrong + 1] = { file = g.path, line = row.line, label = row.label, got = got, text = row.text }
      end
    end
    right, total = right + ok, total + #g.rows
    styles[#styles + 1] = { style = g.name, file = g.path, correct = ok, total = #g.rows,
      accuracy = #g.rows > 0 and ok / #g.rows or 0 }
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
  return { total = total, correct = right, accuracy = total > 0 and right / total or 0, styles = styles,
    per_pattern = per, confusion = confusion, misclassified = wrong }
end

local function print_report(r, opts)
  print(string.format("accuracy %s (%d of %d)", fmt_pct(r.accuracy), r.correct, r.total))
  if #r.styles > 1 then
    print(string.format("\n%-20s %8s %9s", "style", "accuracy", "right"))
    for _, s in ipairs(r.styles) do
      print(string.format("%-20s %8s %4d/%-4d", s.style, fmt_pct(s.accuracy), s.correct, s.total))
    end
  end
  print(string.format("\n%-12s %9s %7s %6s", "pattern", "precision", "recall", "count"))
  for _, p in ipairs(patterns.PATTERNS) do
    local x = r.per_pattern[p]
    print(string.format("%-12s %9s %7s %6d", p, fmt_pct(x.precision), fmt_pct(x.recall), x.count))
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
  if #r.misclassified > 0 and not opts.summary then
    print("\nmisclassified:")
    for _, w in ipairs(r.misclassified) do
      print(string.format("  %s:%d: %s, got %s: %s", w.file, w.line, w.label, w.got, w.text))
    end
  end
end

local function fraction(opts, name)
  local v = opts[name]
  local x = v and tonumber(v)
  if v and (not x or x < 0 or x > 1) then
    return nil, args.usage_error("patterns", "--%s wants a number from 0 to 1, not '%s'", name, v)
  end
  return x
end

-- The shortfalls of report r against --min-accuracy (overall and every
-- style) and --min-recall (every pattern with examples).
local function shortfalls(r, min_acc, min_recall)
  local out = {}
  if min_acc then
    if r.accuracy < min_acc then
      out[#out + 1] = string.format("accuracy %s is below %s", fmt_pct(r.accuracy), fmt_pct(min_acc))
    end
    for _, s in ipairs(#r.styles > 1 and r.styles or {}) do
      if s.accuracy < min_acc then
        out[#out + 1] = string.format("style %s: accuracy %s is below %s", s.style, fmt_pct(s.accuracy),
          fmt_pct(min_acc))
      end
    end
  end
  for _, p in ipairs(min_recall and patterns.PATTERNS or {}) do
    local x = r.per_pattern[p]
    if x.count > 0 and x.recall < min_recall then
      out[#out + 1] = string.format("%s: recall %s is below %s", p, fmt_pct(x.recall), fmt_pct(min_recall))
    end
  end
  return out
end

local function test_cmd(opts, operands)
  if #operands == 0 then
    return args.usage_error("patterns", "patterns test needs a FILE.tsv or a directory of them")
  end
  local min, code = fraction(opts, "min-accuracy")
  if code then
    return code
  end
  local min_recall
  min_recall, code = fraction(opts, "min-recall")
  if code then
    return code
  end
  local groups, err
  groups, err, code = read_groups(operands)
  if not groups then
    return args.error(code, "%s", err)
  end
  local r = evaluate(groups)
  if opts.json then
    if #r.misclassified == 0 or opts.summary then
      r.misclassified = nil
    end
    io.stdout:write(cjson.encode(r), "\n")
  else
    print_report(r, opts)
  end
  local short = shortfalls(r, min, min_recall)
  for _, s in ipairs(short) do
    io.stderr:write("agentflow: ", s, "\n")
  end
  return #short > 0 and 1 or 0
end

local function train_cmd(opts, operands)
  if #operands == 0 then
    return args.usage_error("patterns", "patterns train needs a FILE.tsv or a directory of them")
  end
  local groups, err, code = read_groups(operands)
  if not groups then
    return args.error(code, "%s", err)
  end
  local rows = {}
  for _, g in ipairs(groups) do
    table.move(g.rows, 1, #g.rows, #rows + 1, rows)
  end
  local model = train.fit(rows)
  local text = train.write(model, operands)
  -- The model goes to --output or stdout; what is said about it, to
  -- stdout when the model went to a file, else stderr.
  local say = io.stderr
  if opts.output then
    local f, ferr = io.open(opts.output, "w")
    if not f or not f:write(text) or not f:close() then
      return args.error(74, "cannot write %s", ferr or opts.output)
    end
    say = io.stdout
    say:write(string.format("wrote %s: %d descriptions, rule_scale %.3f\n", opts.output, model.examples,
      model.rule_scale))
  else
    io.stdout:write(text)
  end
  if opts.explain then
    for _, p in ipairs(patterns.PATTERNS) do
      local parts = {}
      for _, fw in ipairs(train.strongest(model, p, 10)) do
        parts[#parts + 1] = string.format("%q %+.2f", fw[1], fw[2])
      end
      say:write(string.format("%-12s %s\n", p, table.concat(parts, ", ")))
    end
  end
  if opts["cross-validate"] then
    say:write("leave one style out (trained on the others):\n")
    local right, total = 0, 0
    for _, g in ipairs(train.cross_validate(groups)) do
      right, total = right + g.correct, total + g.total
      say:write(string.format("  %-20s %6s %4d/%d\n", g.name, fmt_pct(g.correct / g.total), g.correct, g.total))
    end
    say:write(string.format("  %-20s %6s %4d/%d\n", "all", fmt_pct(right / total), right, total))
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

local SPEC = { explain = "flag", json = "flag", ["min-accuracy"] = "value", ["min-recall"] = "value",
  summary = "flag", output = "value", ["cross-validate"] = "flag" }

function M.main(argv)
  local sub = argv[1]
  local commands = { select = select_cmd, test = test_cmd, train = train_cmd, list = list_cmd }
  if not commands[sub] then
    return args.usage_error("patterns", sub and "unknown patterns command '%s'" or "patterns needs a command%s",
      sub or "")
  end
  local opts, operands = args.parse(argv, 2, SPEC)
  if not opts then
    return args.usage_error("patterns", "%s", operands)
  end
  return commands[sub](opts, operands)
end

return M
