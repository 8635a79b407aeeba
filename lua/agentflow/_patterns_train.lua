--- Training the learned part of pattern selection (`agentflow patterns
-- train`): a multinomial logistic regression over the words and word pairs
-- found in labelled descriptions, fitted on top of the rules (patterns.lua): each
-- pattern's total is rule_scale x the rules' score + a bias + the weights of
-- the features in the text. Full-batch AdaGrad from zero, a fixed number of
-- rounds, features in sorted order: the same files give the same model,
-- byte for byte.
local patterns = require "agentflow.patterns"
local ptext = require "agentflow._patterns_text"

local M = {}

--- l2: the penalty on weights (not on bias or rule_scale); rounds: passes
-- over the data; rate: AdaGrad's step; min_count: a feature must occur in
-- this many descriptions to get a weight; keep: smaller weights are left
-- out of the written model.
M.OPTIONS = { l2 = 0.001, rounds = 300, rate = 0.1, min_count = 2, keep = 0.01 }

-- Per row: the rules' scores (a list in pattern order), the feature ids,
-- the label's index. Features are numbered in sorted order.
local function prepare(rows, opts)
  local K = #patterns.PATTERNS
  local index = {}
  for k, p in ipairs(patterns.PATTERNS) do
    index[p] = k
  end
  local counts, prepared = {}, {}
  for i, row in ipairs(rows) do
    local scores, _, toks = patterns.apply_rules(row.text)
    local r = {}
    for k, p in ipairs(patterns.PATTERNS) do
      r[k] = scores[p] or 0
    end
    local feats = ptext.features(toks)
    for _, f in ipairs(feats) do
      counts[f] = (counts[f] or 0) + 1
    end
    prepared[i] = { rules = r, feats = feats, label = index[row.label] }
  end
  local names = {}
  for f, c in pairs(counts) do
    if c >= opts.min_count then
      names[#names + 1] = f
    end
  end
  table.sort(names)
  local id = {}
  for i, f in ipairs(names) do
    id[f] = i
  end
  for _, p in ipairs(prepared) do
    local ids = {}
    for _, f in ipairs(p.feats) do
      if id[f] then
        ids[#ids + 1] = id[f]
      end
    end
    p.ids = ids
  end
  return prepared, names, K
end

--- model = fit(rows, opts): rows are {label, text}; opts override M.OPTIONS.
function M.fit(rows, opts)
  local o = {}
  for k, v in pairs(M.OPTIONS) do
    o[k] = (opts or {})[k] or v
  end
  local data, names, K = prepare(rows, o)
  local N, F = #data, #names
  -- Parameters in one flat array: weights (feature f, pattern k) at
  -- (f - 1) * K + k, then the K biases, then rule_scale.
  local nw = F * K
  local P, G2, grad = {}, {}, {}
  local nparams = nw + K + 1
  for i = 1, nparams do
    P[i], G2[i] = 0, 0
  end
  P[nparams] = 0.5
  local logits, probs = {}, {}
  for _ = 1, o.rounds do
    for i = 1, nparams do
      grad[i] = 0
    end
    for _, d in ipairs(data) do
      local top = -math.huge
      for k = 1, K do
        local s = P[nparams] * d.rules[k] + P[nw + k]
        for _, f in ipairs(d.ids) do
          s = s + P[(f - 1) * K + k]
        end
        logits[k] = s
        if s > top then
          top = s
        end
      end
      local sum = 0
      for k = 1, K do
        probs[k] = math.exp(logits[k] - top)
        sum = sum + probs[k]
      end
      for k = 1, K do
        local g = probs[k] / sum - (k == d.label and 1 or 0)
        grad[nw + k] = grad[nw + k] + g
        grad[nparams] = grad[nparams] + g * d.rules[k]
        for _, f in ipairs(d.ids) do
          local j = (f - 1) * K + k
          grad[j] = grad[j] + g
        end
      end
    end
    for i = 1, nparams do
      local g = grad[i] / N + (i <= nw and o.l2 * P[i] or 0)
      if g ~= 0 then
        G2[i] = G2[i] + g * g
        P[i] = P[i] - o.rate * g / math.sqrt(G2[i])
      end
    end
  end
  local weights = {}
  for f = 1, F do
    local w
    for k, p in ipairs(patterns.PATTERNS) do
      local x = P[(f - 1) * K + k]
      if math.abs(x) >= o.keep then
        w = w or {}
        w[p] = x
      end
    end
    weights[names[f]] = w
  end
  local bias, counts = {}, {}
  for k, p in ipairs(patterns.PATTERNS) do
    bias[p] = P[nw + k]
    counts[p] = 0
  end
  for _, row in ipairs(rows) do
    counts[row.label] = counts[row.label] + 1
  end
  return { options = o, examples = N, counts = counts, rule_scale = P[nparams], bias = bias,
    weights = weights }
end

local function num(x)
  local s = string.format("%.3f", x)
  return s == "-0.000" and "0.000" or s
end

local function pattern_weights(w)
  local parts = {}
  for _, p in ipairs(patterns.PATTERNS) do
    if w[p] and num(w[p]) ~= "0.000" then
      parts[#parts + 1] = string.format("%s = %s", p, num(w[p]))
    end
  end
  return table.concat(parts, ", ")
end

--- The model as the text of a Lua chunk, keys sorted, numbers to three
-- places. `sources` names the training files in the header.
function M.write(model, sources)
  local out = {}
  local function add(fmt, ...)
    out[#out + 1] = string.format(fmt, ...)
  end
  local counts = {}
  for _, p in ipairs(patterns.PATTERNS) do
    counts[#counts + 1] = string.format("%s %d", p, model.counts[p] or 0)
  end
  add("--- Learned weights for pattern selection (patterns.lua adds them to the rules'")
  add("-- scores): a pattern's total is rule_scale x the rules' score + bias + the")
  add("-- weights of the words and word pairs found in the text. Written by")
  add("--   agentflow patterns train %s", table.concat(sources, " "))
  add("-- from %d labelled descriptions (%s).", model.examples, table.concat(counts, ", "))
  add("-- Hand edits are allowed and are lost at the next training.")
  add("return {")
  local opts = {}
  for k, v in pairs(model.options) do
    opts[#opts + 1] = string.format("%s = %s", k, tostring(v))
  end
  table.sort(opts)
  add("  options = { %s },", table.concat(opts, ", "))
  add("  examples = %d,", model.examples)
  add("  rule_scale = %s,", num(model.rule_scale))
  add("  bias = { %s },", pattern_weights(model.bias))
  add("  weights = {")
  local keys = {}
  for f in pairs(model.weights) do
    keys[#keys + 1] = f
  end
  table.sort(keys)
  for _, f in ipairs(keys) do
    local w = pattern_weights(model.weights[f])
    if w ~= "" then
      add("    [%q] = { %s },", f, w)
    end
  end
  add("  },")
  add("}")
  return table.concat(out, "\n") .. "\n"
end

--- The strongest features for pattern p: up to n {feature, weight}, largest first.
function M.strongest(model, p, n)
  local list = {}
  for f, w in pairs(model.weights) do
    if w[p] and w[p] > 0 then
      list[#list + 1] = { f, w[p] }
    end
  end
  table.sort(list, function(a, b)
    if a[2] ~= b[2] then
      return a[2] > b[2]
    end
    return a[1] < b[1]
  end)
  for i = n + 1, #list do
    list[i] = nil
  end
  return list
end

--- Leave one group out: for each group (a style), the accuracy of a model
-- trained on the other groups, measured on that group. groups is a list
-- of {name, rows}; returns a list of {name, correct, total}.
function M.cross_validate(groups, opts)
  local saved = patterns.model
  local out = {}
  for i, g in ipairs(groups) do
    local rows = {}
    for j, other in ipairs(groups) do
      if j ~= i then
        table.move(other.rows, 1, #other.rows, #rows + 1, rows)
      end
    end
    patterns.model = M.fit(rows, opts)
    local right = 0
    for _, row in ipairs(g.rows) do
      if patterns.select(row.text) == row.label then
        right = right + 1
      end
    end
    out[i] = { name = g.name, correct = right, total = #g.rows }
  end
  patterns.model = saved
  return out
end

return M
