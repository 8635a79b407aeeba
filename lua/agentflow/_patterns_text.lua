--- How pattern selection reads a task description: one pass that turns
-- the text into tokens, keeping the structure the rules read (clause
-- breaks, arrows between stages, comparisons with amounts) and folding
-- word forms, and the features the learned weights are keyed by.
--
--   tokens(text)   -> {"build", ",", "then", "test", ">", "ship"}
--   normalize(text) -> "build then test ship" (words only)
--   features(toks)  -> {"build", "build then", ...} (words and word pairs)
local M = {}

--- The token a clause break reads as (",", ";", ":", "." and the like).
M.BREAK = ","
--- The token an arrow between stages reads as (->, =>, →, ▸, », >, |).
M.ARROW = ">"
--- The token the end of a sentence reads as (". ", "!", "?").
M.STOP = "."
--- The three marks, and which wins when they meet (a sentence end over an
-- arrow over a break).
M.MARKS = { [M.BREAK] = 1, [M.ARROW] = 2, [M.STOP] = 3 }

local function stem(w)
  if #w > 5 and w:sub(-3) == "ing" then
    return w:sub(1, -4)
  elseif #w > 4 and w:sub(-3) == "ies" then
    return w:sub(1, -4) .. "y"
  elseif #w > 4 and w:sub(-2) == "ed" then
    return w:sub(1, -3)
  elseif #w > 3 and w:sub(-1) == "s" and w:sub(-2) ~= "ss" then
    return w:sub(1, -2)
  end
  return w
end

-- Symbols with a meaning, rewritten to words or markers before the text is
-- split; order matters ("->" before ">", a comparison before an arrow).
local SYMBOLS = {
  { "’", "" }, { "'", "" },
  { "%-+>", " \1 " }, { "=>", " \1 " }, { "→", " \1 " }, { "▸", " \1 " }, { "»", " \1 " },
  { "➜", " \1 " }, { "|", " \1 " },
  { ">=?%s*([%d৳$])", " gt %1" }, { "<=?%s*([%d৳$])", " lt %1" }, { "≥", " gt " }, { "≤", " lt " },
  { ">", " \1 " }, { "<", " " },
  { "৳", " taka " }, { "%$", " dollar " }, { "%%", " percent " },
  { "(%d),(%d%d%d)", "%1%2" },
  { "%s%-%s", " , " }, { "^%-%s", " " },
  { "(%d)%.%s", "%1 , " }, { "[!?]", " \2 " }, { "%.%s", " \2 " }, { "%.$", " " },
  { "[,;:%(%)%[%]\"]", " , " },
}

--- The tokens of `text`: lower-case words with simple word forms
-- ("checks", "checking" read "check"; "ize" reads "ise"), M.BREAK between
-- clauses, M.ARROW between stages, M.STOP between sentences; a run of marks
-- reads as the strongest of them.
function M.tokens(text)
  local s = text:lower()
  for _, r in ipairs(SYMBOLS) do
    s = s:gsub(r[1], r[2])
  end
  local out, n = {}, 0
  for w in s:gsub("[^%w\1\2,]", " "):gmatch("%S+") do
    local mark = (w == "\1" and M.ARROW) or (w == "\2" and M.STOP) or (w == "," and M.BREAK)
    if not mark then
      n = n + 1
      out[n] = stem((w:gsub("iz([aei])", "is%1")))
    elseif n > 0 and M.MARKS[out[n]] then
      if M.MARKS[mark] > M.MARKS[out[n]] then
        out[n] = mark
      end
    elseif n > 0 then
      n = n + 1
      out[n] = mark
    end
  end
  if M.MARKS[out[n]] then
    out[n] = nil
  end
  return out
end

--- The words of `text`, normalised, one space apart (no breaks or arrows).
function M.normalize(text)
  local words = {}
  for _, t in ipairs(M.tokens(text)) do
    if not M.MARKS[t] then
      words[#words + 1] = t
    end
  end
  return table.concat(words, " ")
end

--- The distinct features of a token list: each word, and each pair of
-- words next to each other in one clause ("at once" but not "it , then").
function M.features(toks)
  local out, seen, prev = {}, {}, nil
  for _, t in ipairs(toks) do
    if M.MARKS[t] then
      prev = nil
    else
      if not seen[t] then
        seen[t] = true
        out[#out + 1] = t
      end
      if prev then
        local pair = prev .. " " .. t
        if not seen[pair] then
          seen[pair] = true
          out[#out + 1] = pair
        end
      end
      prev = t
    end
  end
  return out
end

return M
