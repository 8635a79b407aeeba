--- How pattern selection reads a task description: one pass that turns
-- the text into tokens, keeping the structure the rules read (clause
-- breaks, arrows between stages, comparisons with amounts) and folding
-- word forms, and the features the learned weights are keyed by.
--
--   tokens(text)   -> {"build", ",", "then", "test", ">", "ship"}
--   normalize(text) -> "build then test ship" (words only)
--   features(toks)  -> {"build", "then", "build then", ...} (words and word pairs, once each)
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

local byte, sub = string.byte, string.sub

-- Simple word forms: "-ing", "-ies", "-ed", "-s" off (bytes compared, as
-- this runs for every word of every description).
local function stem(w)
  local n = #w
  local last = byte(w, n)
  if last == 103 and n > 5 and byte(w, n - 1) == 110 and byte(w, n - 2) == 105 then -- ing
    return sub(w, 1, n - 3)
  elseif last == 115 then -- s
    if n > 4 and byte(w, n - 1) == 101 and byte(w, n - 2) == 105 then -- ies
      return sub(w, 1, n - 3) .. "y"
    elseif n > 3 and byte(w, n - 1) ~= 115 then
      return sub(w, 1, n - 1)
    end
  elseif last == 100 and n > 4 and byte(w, n - 1) == 101 then -- ed
    return sub(w, 1, n - 2)
  end
  return w
end

-- Symbols with a meaning, rewritten to words or to \1 (an arrow) before the
-- text is split; order matters ("->" before ">", a comparison before an
-- arrow). Each group runs only when the text has its guard (plain text,
-- or a Lua pattern when `class`), which keeps ordinary text cheap.
local SYMBOLS = {
  { guard = "'", { "'", "" } },
  { guard = "[\128-\255]", class = true, { "’", "" }, { "→", " \1 " }, { "▸", " \1 " }, { "»", " \1 " },
    { "➜", " \1 " }, { "≥", " gt " }, { "≤", " lt " }, { "৳", " taka " } },
  { guard = ">", { "%-+>", " \1 " }, { "=>", " \1 " }, { ">=?%s*([%d$])", " gt %1" }, { ">", " \1 " } },
  { guard = "<", { "<=?%s*([%d$])", " lt %1" }, { "<", " " } },
  { guard = "|", { "|", " \1 " } },
  { guard = "$", { "%$", " dollar " } },
  { guard = "%", { "%%", " percent " } },
  { guard = "%d,%d%d%d", class = true, { "(%d),(%d%d%d)", "%1%2" } },
}

-- The mark the characters between two words make: a sentence end (". ",
-- "!", "?"), an arrow, a break (",", ";", ":", brackets, quotes, " - ");
-- nil for none ("re-run", "2.5").
local function mark_of(between, word)
  if between:find("\1", 1, true) then
    return M.ARROW
  elseif between:find("[!?]") or (between:find(".", 1, true) and between:find("%.%s")) then
    return (word:find("^%d+$") and not between:find("[!?]")) and M.BREAK or M.STOP
  elseif between:find("[,;:%(%)%[%]\"]") or between:find("%s%-%s") then
    return M.BREAK
  end
end

--- The tokens of `text`: lower-case words with simple word forms
-- ("checks", "checking" read "check"; "ize" reads "ise"), M.BREAK between
-- clauses, M.ARROW between stages, M.STOP between sentences; a run of marks
-- reads as the strongest of them.
function M.tokens(text)
  local s = text:lower()
  for _, group in ipairs(SYMBOLS) do
    if s:find(group.guard, 1, not group.class) then
      for i = 1, #group do
        s = s:gsub(group[i][1], group[i][2])
      end
    end
  end
  local out, n = {}, 0
  for w, between in s:gmatch("(%w+)([^%w]*)") do
    n = n + 1
    out[n] = stem(w:find("iz", 1, true) and (w:gsub("iz([aei])", "is%1")) or w)
    if between ~= "" and between ~= " " then
      local mark = mark_of(between, w)
      if mark then
        n = n + 1
        out[n] = mark
      end
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
  local marks = M.MARKS
  for _, t in ipairs(toks) do
    if marks[t] then
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
