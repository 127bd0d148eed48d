--[[
  Records a heartbeat of the running attempt: keeps only the latest details and pushes the
  attempt's heartbeat deadline forward.

  KEYS[1..2]  run keys (see includes/run.lua)
  ARGV[1..2]  run id, channel prefix
  ARGV[3]     ActivityTaskScheduled event id
  ARGV[4]     attempt
  ARGV[5]     worker id
  ARGV[6]     heartbeat details (JSON array of payloads)

  Returns reply(1, cancelRequested 0|1), or E_STALE when the attempt is no longer current (the
  worker then cancels it locally).
]]
--- @include "run"
begin_run(KEYS, ARGV)

local sid, attempt, worker, details = ARGV[3], tonumber(ARGV[4]), ARGV[5], ARGV[6]
if not get('status') then return reply(E_NOT_FOUND) end
if not running() then return reply(E_NOT_RUNNING) end
local act = load_activity(sid)
if not act or act.att ~= attempt or act.std == 0 or act.wkr ~= worker then return reply(E_STALE) end

act.hbd, act.lhb = details, NOW
if act.hb > 0 then arm(sid, act, 'hb', NOW + act.hb, act.hb) end
save_activity(sid, act)
return reply(1, act.creq > 0 and 1 or 0)
