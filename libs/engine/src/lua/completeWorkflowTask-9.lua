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
                StartChildWorkflowExecutionInitiated  { wid, type, pcp }  (the child's workflow id,
                                             type, parent close policy)
                TimerCanceled                { sid }   (the TimerStarted event id)
                ActivityTaskCancelRequested  { sid }   (the ActivityTaskScheduled event id)
                WorkflowExecution{Completed,Canceled}  {}
                WorkflowExecutionFailed      { kind, type, nonRetryable }: the failure's facts, for
                                             the workflow's retry policy (run-start.lua)
                WorkflowExecutionContinuedAsNew  { rid, attrs, type, tq, wfto, rto, bof, tpl }: the
                                             new run (run-start.lua finish_run), created with the close
                WorkflowExecutionUpdateAccepted  { uid }   (the update id; updates.lua)
                WorkflowExecutionUpdateCompleted { uid }
                WorkflowExecutionUpdateRejected  { uid }   (no event: the attributes, {"failure": ...},
                                             are kept for the update's caller)
                MarkerRecorded               {}   (nothing to apply: the event is the record, read on
                                             replay; e.g. workflow.patched's `core_patch`)
  ARGV[9 + 3N] "1": workflow task heartbeat (Temporal's force_create_new_workflow_task; local
              activities are still running in this worker): the next workflow task is scheduled
              even without new events and taken at once by this worker (sticky to it), whose
              reply carries it. Absent or "" otherwise.
  ARGV[10 + 3N] the time (ms) a worker took the task, when it ran the task without starting it: the
              run's first task, whose history so far its job carries (startWorkflow). The task is
              taken here (take_wft, includes/workflow-task.lua; the fence is the
              WorkflowTaskStarted event id the worker expected); E_STALE, with nothing written,
              when it cannot be. Absent or '' for a task started by startWorkflowTask.
  ARGV[11 + 3N] with ARGV[10 + 3N]: the queue the job came from
  ARGV[12 + 3N] for a task a worker ran on the events it predicted an activity's result writes
              (Engine.completeActivityWithNextTask): that activity's scheduled event id. The task
              must be the one that result took (state field `wprd`, completeActivityTask), else
              E_STALE and nothing is written. Absent or '' otherwise.

  A speculative task (updates.lua) whose commands are only rejections, and that saw no new event,
  writes nothing at all (not even its WorkflowTask events): `discarded` = 1 in the reply.

  Returns reply(1, lastEventId, startedActivities, discarded, nextTask) where startedActivities
  lists, for each eager activity, its scheduled event id and state (JSON), and nextTask, after a
  heartbeat, is the task this worker took: { token, attempt, startedEventId, events from this
  task's WorkflowTaskCompleted, update requests (updates.lua) }; E_STALE when the fence does not hold;
  E_UNKNOWN_COMMAND with the event type when a command is not one of COMMANDS below (nothing is
  written; the task stays started); E_UNHANDLED_COMMAND when the commands close the run while new
  events or update requests wait (the task is failed and scheduled again).
]]
--- @include "run"
--- @include "messages"
--- @include "run-start"
begin_run(KEYS, ARGV)

local tok, identity, worker, stickyTimeout, fence, n =
  ARGV[3], ARGV[4], ARGV[5], tonumber(ARGV[6]), tonumber(ARGV[7]), tonumber(ARGV[8])
local heartbeat = ARGV[9 + n * 3] == '1'
local takenAt, takenFrom = tonumber(ARGV[10 + n * 3] or ''), ARGV[11 + n * 3]
local predictedAfter = ARGV[12 + n * 3] or ''
local NOT_STARTED = '[{"metadata":{"encoding":"json/plain"},"data":"ACTIVITY_ID_NOT_STARTED"}]'
local STARTED = {}

-- The commands this task accepts, by event type: either `closes` (the run status it closes the
-- run with; the close event is the command's event) or `apply(id, meta)`, which gives effect to
-- a command once its event was appended as event `id` (`meta`: its engine metadata, above); a
-- `silent` command appends no event: `apply(nil, meta, attributes)`.
-- A command type not listed here is refused before anything is written (E_UNKNOWN_COMMAND).
local COMMANDS = {
  ActivityTaskScheduled = { apply = function(id, meta)
    local act = { id = meta.id, type = meta.type, tq = meta.tq, att = 1, sch = NOW, asch = NOW, std = 0,
      s2c = meta.s2c, s2s = meta.s2s, stc = meta.stc, hb = meta.hb, rp = meta.rp, creq = 0 }
    if act.s2c > 0 then arm(id, act, 's2c', NOW + act.s2c, act.s2c) end
    if meta.eager == 1 then
      local json = start_attempt(id, act, identity, worker)
      STARTED[#STARTED + 1] = jint(id)
      STARTED[#STARTED + 1] = json
    else
      save_activity(id, act)
      queue_attempt(id, act)
    end
  end },
  TimerStarted = { apply = function(id, meta)
    save_timer(id, meta.timerId)
    add_deadline(deadline_member('tmr', id), NOW + meta.ms, meta.ms)
  end },
  -- Messages to other runs (includes/messages.lua): the event says to whom and what.
  SignalExternalWorkflowExecutionInitiated = { apply = function(id) send_message(id, 'signal') end },
  RequestCancelExternalWorkflowExecutionInitiated = { apply = function(id) send_message(id, 'cancel') end },
  -- A child workflow (includes/children.lua): a pending child and the message that starts it.
  StartChildWorkflowExecutionInitiated = { apply = function(id, meta) CHILD.initiate_child(id, meta) end },
  TimerCanceled = { apply = function(_, meta)
    delete_timer(meta.sid)
    remove_deadline(deadline_member('tmr', meta.sid))
  end },
  ActivityTaskCancelRequested = { apply = function(id, meta)
    local act = load_activity(meta.sid)
    if not act then return end
    act.creq = id
    if act.std == 0 then
      -- Not started (queued, or backing off between attempts): cancelled at once.
      close_activity(meta.sid, act, 'ActivityTaskCanceled', jobj('details', NOT_STARTED,
        'latestCancelRequestedEventId', jint(id), 'scheduledEventId', jint(meta.sid), 'identity', '""'))
    else
      save_activity(meta.sid, act)
      redis.call('PUBLISH', CHANNEL .. ':worker:' .. act.wkr, RUN_ID .. '|' .. meta.sid .. '|' .. act.att)
    end
  end },
  WorkflowExecutionUpdateAccepted = { update = true, apply = function(id, meta) accept_update(meta.uid, id) end },
  WorkflowExecutionUpdateCompleted = { apply = function(id, meta) complete_update(meta.uid, id) end },
  WorkflowExecutionUpdateRejected = { update = true, silent = true, apply = function(_, meta, attrs) reject_update(meta.uid, attrs) end },
  -- Markers (patches, ...): the event is all there is to it.
  MarkerRecorded = { apply = function() end },
  WorkflowExecutionCompleted = { closes = 'COMPLETED' },
  WorkflowExecutionFailed = { closes = 'FAILED' },
  WorkflowExecutionCanceled = { closes = 'CANCELED' },
  WorkflowExecutionContinuedAsNew = { closes = 'CONTINUED_AS_NEW' },
}

if not get('status') then return reply(E_NOT_FOUND) end
if not running() then return reply(E_NOT_RUNNING) end
if predictedAfter ~= '' then
  if redis.call('HGET', K_STATE, 'wprd') ~= predictedAfter then return reply(E_STALE) end
  redis.call('HDEL', K_STATE, 'wprd')
end
-- Taken and completed in one step: the task's start-to-close timeout is never armed.
if takenAt and not take_wft(tok, takenFrom, identity, takenAt, fence, true) then return reply(E_STALE) end
if get('wft') ~= 'started' or get('wtok') ~= tok or getn('last') ~= fence then return reply(E_STALE) end

local closing, silent, decided = false, true, {}
for i = 0, n - 1 do
  local command = COMMANDS[ARGV[9 + i * 3]]
  if not command then return reply(E_UNKNOWN_COMMAND, ARGV[9 + i * 3]) end
  if command.closes then closing = command.closes end
  if not command.silent then silent = false end
  if command.update then decided[cjson.decode(ARGV[11 + i * 3]).uid] = true end
end
-- Update requests admitted while the task ran (it has not seen them) keep a close from happening,
-- as new events do; continue-as-new hands them to the new run instead (run-start.lua), as Temporal
-- does.
local undelivered = 0
if closing and closing ~= 'CONTINUED_AS_NEW' then
  for _, uid in ipairs(admitted_updates()) do
    if not decided[uid] then undelivered = undelivered + 1 end
  end
end

-- A task taken here was never armed.
if not takenAt then disarm_wft() end
if silent and not heartbeat and getn('wsp') > 0 and getn('wsp') == fence then
  -- A speculative task that only rejected updates, and saw no new event: it leaves no trace.
  set('wft', '')
  set('wsp', 0)
  for i = 0, n - 1 do
    COMMANDS[ARGV[9 + i * 3]].apply(nil, cjson.decode(ARGV[11 + i * 3]), ARGV[10 + i * 3])
  end
  if flush_buffer() then WFT_NEEDED = true end
  set('sticky', stickyTimeout > 0 and worker or '')
  set('stto', stickyTimeout)
  ensure_wft()
  ensure_update_wft()
  return reply(1, get('last'), STARTED, 1)
end
local attempt, scheduled, started = getn('watt'), getn('wsch'), getn('wstd')
if getn('wsp') > 0 then
  materialize_wft()
  scheduled, started = getn('wsch'), getn('wstd')
elseif attempt > 1 then
  scheduled = append('WorkflowTaskScheduled', getn('wsct'),
    jobj('taskQueue', jstr(get('tq')), 'startToCloseTimeout', get('wfto'), 'attempt', jint(attempt)))
  started = append('WorkflowTaskStarted', getn('wst'), jobj('scheduledEventId', jint(scheduled), 'identity', jstr(identity)))
end
set('wft', '')
set('wlf', '')

if closing and (getn('nbuf') > 0 or undelivered > 0) then
  append('WorkflowTaskFailed', NOW, jobj('scheduledEventId', jint(scheduled), 'startedEventId', jint(started),
    'cause', '"UNHANDLED_COMMAND"', 'identity', jstr(identity)))
  flush_buffer()
  set('sticky', '')
  schedule_wft(1, 0)
  return reply(E_UNHANDLED_COMMAND)
end

local completed = append('WorkflowTaskCompleted', NOW,
  jobj('scheduledEventId', jint(scheduled), 'startedEventId', jint(started), 'identity', jstr(identity)))

for i = 0, n - 1 do
  local etype, attrs, meta = ARGV[9 + i * 3], ARGV[10 + i * 3], cjson.decode(ARGV[11 + i * 3])
  local command = COMMANDS[etype]
  if command.closes then
    RUNS.finish_run(command.closes, etype, attrs, meta, meta)
    return reply(1, get('last'), STARTED)
  end
  if command.silent then command.apply(nil, meta, attrs) else command.apply(append(etype, NOW, attrs), meta) end
end

if flush_buffer() then WFT_NEEDED = true end
set('sticky', (stickyTimeout > 0 or heartbeat) and worker or '')
set('stto', stickyTimeout)
if heartbeat then
  -- The next task at once, to this worker, which keeps waiting for its local activities.
  WFT_NEEDED = true
  if ensure_wft({ worker = worker, identity = identity }) then
    local events = redis.call('XRANGE', K_HIST, completed .. '-0', '+')
    return reply(1, get('last'), STARTED, 0, { get('wtok'), get('watt'), get('wstd'), events, update_requests() })
  end
end
ensure_wft()
ensure_update_wft()
return reply(1, get('last'), STARTED, 0)
