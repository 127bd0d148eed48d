--[[
  Fires one due deadline of a run, if it is still current: anything the run has moved past
  (a later attempt, a started task, a closed run) makes it a no-op.

  KEYS[1..2]  run keys (see includes/run.lua)
  ARGV[1..2]  run id, channel prefix
  ARGV[3]     deadline member "<kind>|<a>|<b>|<runId>|<workflowId>", kinds:
                wto  workflow task start-to-close (a = token)
                stk  sticky queue schedule-to-start (a = token)
                s2s, stc, hb  activity attempt timeouts (a = scheduled event id, b = attempt)
                s2c  activity schedule-to-close (a = scheduled event id)
                tmr  workflow timer (a = TimerStarted event id)
                run  workflow run timeout (a retry or the next cron run may follow: run-start.lua)
                bof  the end of a run's wait for its first workflow task (a = 'd' start delay, 'c' a
                     chain's backoff: run-start.lua)
                ret  retention of a closed run: the run is deleted (the only kind that acts on a
                     closed run)

  Returns reply(1) or reply(0) when nothing was due.
]]
--- @include "run"
--- @include "run-start"
begin_run(KEYS, ARGV)

local member = ARGV[3]
local due = rcall('ZSCORE', K_DEADLINES, member)
if not due or tonumber(due) > NOW then return reply(0) end
rcall('ZREM', K_DEADLINES, member)
local kind, a, b = string.match(member, '^(%w+)|([^|]*)|([^|]*)|')
if kind == 'ret' then
  if get('status') and not running() then delete_run() end
  return reply(1)
end
if not running() then return reply(0) end

if kind == 'wto' then
  if get('wft') == 'started' and get('wtok') == a then
    local attempt = getn('watt')
    if attempt == 1 then
      materialize_wft()
      append('WorkflowTaskTimedOut', NOW, jobj('scheduledEventId', get('wsch'), 'startedEventId', get('wstd'),
        'timeoutType', '"START_TO_CLOSE"'))
    end
    clear_wft()
    flush_buffer()
    set('sticky', '')
    schedule_wft(attempt + 1, 0)
  end
elseif kind == 'stk' then
  if get('wft') == 'scheduled' and get('wtok') == a then unstick_wft() end
elseif kind == 's2s' or kind == 'stc' or kind == 'hb' or kind == 's2c' then
  local act = load_activity(a)
  if act then
    local current = kind == 's2c' or act.att == tonumber(b)
    if kind == 's2s' and current and act.std == 0 then
      time_out_activity(a, act, 'SCHEDULE_TO_START')
    elseif (kind == 'stc' or kind == 'hb') and current and act.std > 0 then
      time_out_activity(a, act, kind == 'stc' and 'START_TO_CLOSE' or 'HEARTBEAT')
    elseif kind == 's2c' then
      time_out_activity(a, act, 'SCHEDULE_TO_CLOSE')
    end
  end
elseif kind == 'tmr' then
  local timerId = load_timer(a)
  if timerId then
    delete_timer(a)
    record('TimerFired', jobj('timerId', jstr(timerId), 'startedEventId', a), NOW, false)
  end
elseif kind == 'run' then
  RUNS.finish_run('TIMED_OUT', 'WorkflowExecutionTimedOut', '', nil, { kind = 'timeout' })
elseif kind == 'bof' then
  RUNS.end_backoff(a)
end
ensure_wft()
return reply(1)
