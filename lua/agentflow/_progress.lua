--- Progress on stderr. On a terminal: one live status line, redrawn in place
-- (ninja style). Otherwise (a pipe, CI, TERM=dumb): one plain line per event.
-- AGENTFLOW_PROGRESS=line|plain|off chooses explicitly. Never on stdout.
local core = require "agentflow.core"
local util = require "agentflow._util"

local M = {}

local mode        -- "line", "plain" or "off"
local shown = false -- a status line is on the screen
local width

local function choose_mode()
  local env = core.environ()
  local forced = env.AGENTFLOW_PROGRESS
  if forced == "line" or forced == "plain" or forced == "off" then
    return forced
  end
  if core.isatty(2) and not env.CI and not core.options.ci and env.TERM ~= "dumb" and env.TERM then
    return "line"
  end
  return "plain"
end

local function get_mode()
  if not mode then
    mode = choose_mode()
    width = tonumber(core.environ().COLUMNS) or 80
  end
  return mode
end

--- Whether progress is shown at all (AGENTFLOW_PROGRESS=off: not).
function M.enabled()
  return (mode or get_mode()) ~= "off"
end

--- Remove the status line, so that other output starts on a clean line.
function M.clear()
  if shown then
    io.stderr:write("\r\27[K")
    shown = false
  end
end

--- Print a diagnostic line (warnings) without garbling the status line.
function M.message(text)
  M.clear()
  io.stderr:write("agentflow: ", text, "\n")
end

-- "[3/8] 12.3s running: code-reviewer, linter +2"
local function status_text(s)
  local text = string.format("[%d/%d] %s", s.done, s.total, util.format_seconds(s.elapsed))
  if #s.running > 0 then
    local names = {}
    for i = 1, math.min(#s.running, 3) do
      names[i] = s.running[i]
    end
    text = text .. " running: " .. table.concat(names, ", ")
    if #s.running > 3 then
      text = text .. string.format(" +%d", #s.running - 3)
    end
  end
  if #text > width - 1 then
    text = text:sub(1, width - 4) .. "..."
  end
  return text
end

--- Redraw the status line from `s` = {done, total, elapsed, running = {names}}.
function M.status(s)
  if get_mode() ~= "line" then
    return
  end
  io.stderr:write("\r", status_text(s), "\27[K")
  io.stderr:flush()
  shown = true
end

--- An event as a plain line ("[2/3] code-reviewer: success in 1.2s"); on a
-- terminal the status line shows it instead.
function M.event(s, text)
  if get_mode() == "plain" then
    io.stderr:write(string.format("agentflow: [%d/%d] %s\n", s.done, s.total, text))
  elseif mode == "line" then
    M.status(s)
  end
end

return M
