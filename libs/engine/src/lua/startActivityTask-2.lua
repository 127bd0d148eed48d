--[[
  A worker takes an activity attempt. Only the current, not yet started attempt may start; the
  start is transient (no history event until the activity closes), as in Temporal.
  Arms the attempt's start-to-close and heartbeat deadlines and drops its schedule-to-start one.

  KEYS[1..2]  run keys (see includes/run.lua)
  ARGV[1..2]  run id, channel prefix
  ARGV[3]     ActivityTaskScheduled event id
  ARGV[4]     attempt (from the job)
  ARGV[5]     activity task queue (from the job)
  ARGV[6]     worker identity
  ARGV[7]     worker id (where cancellation requests are published)

  Returns reply(1, activity state (JSON), ActivityTaskScheduled attributes (JSON), workflow type)
  or E_STALE / E_NOT_RUNNING / E_NOT_FOUND; E_EARLY with the wait left when a delayed job was
  promoted before the attempt's scheduled time (a worker with a fast clock).
]]
--- @include "run"
begin_run(KEYS, ARGV)

local sid, attempt, taskQueue, identity, worker = ARGV[3], tonumber(ARGV[4]), ARGV[5], ARGV[6], ARGV[7]
if not get('status') then return reply(E_NOT_FOUND) end
local act = load_activity(sid)
if act and act.att == attempt and act.std == 0 and act.asch > NOW then return reply(E_EARLY, jint(act.asch - NOW)) end
outbox_remove('act|' .. RUN_ID .. '|' .. sid .. '|' .. attempt .. '|' .. taskQueue .. '|' .. get('wid'))
if not running() then return reply(E_NOT_RUNNING) end
if not act or act.att ~= attempt or act.std > 0 then return reply(E_STALE) end

start_attempt(sid, act, identity, worker)

local scheduled = rcall('XRANGE', K_HIST, sid .. '-0', sid .. '-0')[1]
return reply(1, cjson.encode(act), scheduled[2][6], get('type'))
