--[[
  A workflow task's completion (completeWorkflowTask-2.lua has the arguments and the reply),
  shared with completeActivityAndWorkflowTask-2.lua, which commits the activity result that handed
  the task over in the same call.
]]
--- @include "run"
--- @include "messages"
--- @include "run-start"

local NOT_STARTED = '[{"metadata":{"encoding":"json/plain"},"data":"ACTIVITY_ID_NOT_STARTED"}]'
-- The completion in progress, for the commands below: its worker's identity and id, and the
-- eager activities it started (scheduled event id, state JSON, ...).
local task_identity, task_worker, STARTED

-- The commands this task accepts, by event type: either `closes` (the run status it closes the
-- run with; the close event is the command's event) or `apply(id, meta)`, which gives effect to
-- a command once its event was appended as event `id` (`meta`: its engine metadata, listed in
-- completeWorkflowTask-2.lua); a `silent` command appends no event: `apply(nil, meta, attributes)`.
-- A command type not listed here is refused before anything is written (E_UNKNOWN_COMMAND).
local COMMANDS = {
  ActivityTaskScheduled = { apply = function(id, meta)
    local act = { id = meta.id, type = meta.type, tq = meta.tq, att = 1, sch = NOW, asch = NOW, std = 0,
      s2c = meta.s2c, s2s = meta.s2s, stc = meta.stc, hb = meta.hb, rp = meta.rp, creq = 0 }
    if act.s2c > 0 then arm(id, act, 's2c', NOW + act.s2c, act.s2c) end
    if meta.eager == 1 then
      local json = start_attempt(id, act, task_identity, task_worker)
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
      rcall('PUBLISH', CHANNEL .. ':worker:' .. act.wkr, RUN_ID .. '|' .. meta.sid .. '|' .. act.att)
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

-- `A` holds the arguments as completeWorkflowTask's ARGV does; `unarmed`: the task was taken in
-- this call without its timeout (completeActivityAndWorkflowTask). Returns the reply's code and
-- extra values.
local function complete_workflow_task(A, unarmed)
  local tok, identity, worker, stickyTimeout, fence, n = A[3], A[4], A[5], tonumber(A[6]), tonumber(A[7]), tonumber(A[8])
  task_identity, task_worker, STARTED = identity, worker, {}
  local heartbeat = A[9 + n * 3] == '1'
  local takenAt, takenFrom = tonumber(A[10 + n * 3] or ''), A[11 + n * 3]
  if not get('status') then return E_NOT_FOUND end
  if not running() then return E_NOT_RUNNING end
  -- Taken and completed in one step: the task's start-to-close timeout is never armed.
  if takenAt and not take_wft(tok, takenFrom, identity, takenAt, fence, true) then return E_STALE end
  if get('wft') ~= 'started' or get('wtok') ~= tok or getn('last') ~= fence then return E_STALE end

  local closing, silent, decided = false, true, {}
  for i = 0, n - 1 do
    local command = COMMANDS[A[9 + i * 3]]
    if not command then return E_UNKNOWN_COMMAND, A[9 + i * 3] end
    if command.closes then closing = command.closes end
    if not command.silent then silent = false end
    if command.update then decided[cjson.decode(A[11 + i * 3]).uid] = true end
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

  -- A task taken here, or `unarmed`, has no timeout to drop.
  if not takenAt and not unarmed then disarm_wft() end
  if silent and not heartbeat and getn('wsp') > 0 and getn('wsp') == fence then
    -- A speculative task that only rejected updates, and saw no new event: it leaves no trace.
    set('wft', '')
    set('wsp', 0)
    for i = 0, n - 1 do
      COMMANDS[A[9 + i * 3]].apply(nil, cjson.decode(A[11 + i * 3]), A[10 + i * 3])
    end
    if flush_buffer() then WFT_NEEDED = true end
    set('sticky', stickyTimeout > 0 and worker or '')
    set('stto', stickyTimeout)
    ensure_wft()
    ensure_update_wft()
    return 1, get('last'), STARTED, 1
  end
  local attempt, scheduled, started = getn('watt'), getn('wsch'), getn('wstd')
  if getn('wsp') > 0 then
    materialize_wft()
    scheduled, started = getn('wsch'), getn('wstd')
  elseif attempt > 1 then
    scheduled = append_wft_scheduled(getn('wsct'), attempt)
    started = append_wft_started(getn('wst'), jint(scheduled), identity)
  end
  set('wft', '')
  set('wlf', '')

  if closing and (getn('nbuf') > 0 or undelivered > 0) then
    append('WorkflowTaskFailed', NOW, jobj('scheduledEventId', jint(scheduled), 'startedEventId', jint(started),
      'cause', '"UNHANDLED_COMMAND"', 'identity', jstr(identity)))
    flush_buffer()
    set('sticky', '')
    schedule_wft(1, 0)
    return E_UNHANDLED_COMMAND
  end

  local completed = append('WorkflowTaskCompleted', NOW,
    jobj_stored('scheduledEventId', jint(scheduled), 'startedEventId', jint(started), 'identity', jstr(identity)))

  for i = 0, n - 1 do
    local etype, attrs, meta = A[9 + i * 3], A[10 + i * 3], cjson.decode(A[11 + i * 3])
    local command = COMMANDS[etype]
    if command.closes then
      RUNS.finish_run(command.closes, etype, attrs, meta, meta)
      return 1, get('last'), STARTED
    end
    if command.silent then command.apply(nil, meta, attrs) else command.apply(append(etype, NOW, attrs, meta.bytes), meta) end
  end

  if flush_buffer() then WFT_NEEDED = true end
  set('sticky', (stickyTimeout > 0 or heartbeat) and worker or '')
  set('stto', stickyTimeout)
  if heartbeat then
    -- The next task at once, to this worker, which keeps waiting for its local activities.
    WFT_NEEDED = true
    if ensure_wft({ worker = worker, identity = identity }) then
      local events = rcall('XRANGE', K_HIST, completed .. '-0', '+')
      return 1, get('last'), STARTED, 0, { get('wtok'), get('watt'), get('wstd'), events, update_requests() }
    end
  end
  ensure_wft()
  ensure_update_wft()
  return 1, get('last'), STARTED, 0
end
