--- Prices in US dollars per million tokens, for CLIs that report tokens but
-- no cost (codex, gemini). Edit to match your contract; a project can
-- override this module in .agentflow/lua/agentflow/executors/prices.lua.
-- Models not listed use `default`.
local M = {
  ["gpt-5"] = { input = 1.25, cached_input = 0.125, output = 10.00 },
  ["gpt-5-codex"] = { input = 1.25, cached_input = 0.125, output = 10.00 },
  ["gpt-5-mini"] = { input = 0.25, cached_input = 0.025, output = 2.00 },
  ["gemini-2.5-pro"] = { input = 1.25, cached_input = 0.31, output = 10.00 },
  ["gemini-2.5-flash"] = { input = 0.30, cached_input = 0.075, output = 2.50 },
  default = { input = 1.25, cached_input = 0.125, output = 10.00 },
}

--- The cost in dollars of `tokens` ({input, cached_input, output}) on `model`.
function M.cost(model, tokens)
  local p = M[model or ""] or M.default
  local cached = tokens.cached_input or 0
  return ((tokens.input or 0) - cached) * p.input / 1e6 + cached * p.cached_input / 1e6
    + (tokens.output or 0) * p.output / 1e6
end

return M
