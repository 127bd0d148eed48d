--[[
  Completes a workflow task with the commands the workflow code produced, in one fenced append:
  [WorkflowTaskScheduled, WorkflowTaskStarted (transient attempt only)], WorkflowTaskCompleted,
  one event per command, then the events buffered while the task ran. Schedules the next
  workflow task (on this worker's sticky queue) when there is something new to process.

  KEYS[1..9]  run keys
  ARGV[1..2]  run id, channel prefix
  ARGV[3]     task token
  ARGV[4]     worker identity
  ARGV[5]     worker id (its sticky queue, and the worker of eager activities)
  ARGV[6]     sticky schedule-to-start timeout (ms), 0 for no stickiness
  ARGV[7]     last event id the commands were computed against (the fence)
  ARGV[8]     number of commands N, followed by N triples:
              event type, event attributes (JSON), engine metadata (JSON):
                ActivityTaskScheduled        { id, type, tq, s2c, s2s, stc, hb, rp = { ii, bc, mi, ma, nr }, eager }
                                             (eager = 1: this worker starts the first attempt itself, no job)
                TimerStarted                 { ms, timerId }
                TimerCanceled                { sid }   (the TimerStarted event id)
                ActivityTaskCancelRequested  { sid }   (the ActivityTaskScheduled event id)
                WorkflowExecution{Completed,Failed,Canceled}  {}

  Returns reply(1, lastEventId, startedActivities) where startedActivities lists, for each eager
  activity, its scheduled event id and state (JSON); E_STALE when the fence does not hold;
  E_UNHANDLED_COMMAND when the commands close the run while new events wait (the task is failed
  and scheduled again).
]]
--- @include "run"
begin_run(KEYS, ARGV)

local tok, identity, worker, stickyTimeout, fence, n =
  ARGV[3], ARGV[4], ARGV[5], tonumber(ARGV[6]), tonumber(ARGV[7]), tonumber(ARGV[8])
local CLOSING = {
  WorkflowExecutionCompleted = 'COMPLETED', WorkflowExecutionFailed = 'FAILED', WorkflowExecutionCanceled = 'CANCELED',
}
local NOT_STARTED = '[{"metadata":{"encoding":"json/plain"},"data":"ACTIVITY_ID_NOT_STARTED"}]'
local STARTED = {}

if not get('status') then return reply(E_NOT_FOUND) end
if not running() then return reply(E_NOT_RUNNING) end
if get('wft') ~= 'started' or get('wtok') ~= tok or getn('last') ~= fence then return reply(E_STALE) end

local closing = false
for i = 0, n - 1 do
  if CLOSING[ARGV[9 + i * 3]] then closing = true end
end

disarm_wft()
local attempt, scheduled, started = getn('watt'), getn('wsch'), getn('wstd')
if attempt > 1 then
  scheduled = append('WorkflowTaskScheduled', getn('wsct'),
    jobj('taskQueue', jstr(get('tq')), 'startToCloseTimeout', get('wfto'), 'attempt', jint(attempt)))
  started = append('WorkflowTaskStarted', getn('wst'), jobj('scheduledEventId', jint(scheduled), 'identity', jstr(identity)))
end
set('wft', '')

if closing and getn('nbuf') > 0 then
  append('WorkflowTaskFailed', NOW, jobj('scheduledEventId', jint(scheduled), 'startedEventId', jint(started),
    'cause', '"UNHANDLED_COMMAND"', 'identity', jstr(identity)))
  flush_buffer()
  set('sticky', '')
  schedule_wft(1, 0)
  return reply(E_UNHANDLED_COMMAND)
end

append('WorkflowTaskCompleted', NOW,
  jobj('scheduledEventId', jint(scheduled), 'startedEventId', jint(started), 'identity', jstr(identity)))

for i = 0, n - 1 do
  local etype, attrs, meta = ARGV[9 + i * 3], ARGV[10 + i * 3], cjson.decode(ARGV[11 + i * 3])
  if CLOSING[etype] then
    close_run(CLOSING[etype], etype, attrs)
    return reply(1, get('last'), STARTED)
  end
  local id = append(etype, NOW, attrs)
  if etype == 'ActivityTaskScheduled' then
    local act = { id = meta.id, type = meta.type, tq = meta.tq, att = 1, sch = NOW, asch = NOW, std = 0,
      s2c = meta.s2c, s2s = meta.s2s, stc = meta.stc, hb = meta.hb, rp = meta.rp, creq = 0 }
    if act.s2c > 0 then arm(id, act, 's2c', NOW + act.s2c, act.s2c) end
    if meta.eager == 1 then
      start_attempt(id, act, identity, worker)
      STARTED[#STARTED + 1] = jint(id)
      STARTED[#STARTED + 1] = cjson.encode(act)
    else
      save_activity(id, act)
      queue_attempt(id, act)
    end
  elseif etype == 'TimerStarted' then
    redis.call('HSET', K_STATE, 't:' .. id, meta.timerId)
    add_deadline(deadline_member('tmr', id), NOW + meta.ms, meta.ms)
  elseif etype == 'TimerCanceled' then
    redis.call('HDEL', K_STATE, 't:' .. meta.sid)
    remove_deadline(deadline_member('tmr', meta.sid))
  elseif etype == 'ActivityTaskCancelRequested' then
    local act = load_activity(meta.sid)
    if act then
      act.creq = id
      if act.std == 0 then
        -- Not started (queued, or backing off between attempts): cancelled at once.
        close_activity(meta.sid, act, 'ActivityTaskCanceled', jobj('details', NOT_STARTED,
          'latestCancelRequestedEventId', jint(id), 'scheduledEventId', jint(meta.sid), 'identity', '""'))
      else
        save_activity(meta.sid, act)
        redis.call('PUBLISH', CHANNEL .. ':worker:' .. act.wkr, RUN_ID .. '|' .. meta.sid .. '|' .. act.att)
      end
    end
  end
end

if flush_buffer() then WFT_NEEDED = true end
set('sticky', stickyTimeout > 0 and worker or '')
set('stto', stickyTimeout)
ensure_wft()
return reply(1, get('last'), STARTED)
