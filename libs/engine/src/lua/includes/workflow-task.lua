--[[
  Workflow tasks: scheduling one (on the run's sticky queue while its worker is live, else on the
  task queue), starting it, moving it off a sticky queue, and dropping its deadlines. The task's
  state is the scalar fields wft, wtok, watt, wsch, wstd, wst, wsct, wq, sticky, stto, wsp, widn
  (state.lua).
]]
--- @include "history"
--- @include "deadlines"

-- A worker is live while its entry in the shard's workers hash (refreshed by its sweeps) has not
-- expired; a task is never routed to the sticky queue of a worker known to be gone.
local function worker_live(worker)
  -- A dead worker's entry ("d<lease>", while a sweeper recovers it) is not a number.
  local expiry = tonumber(rcall('HGET', K_TAG .. ':workers', worker) or '')
  return expiry ~= nil and expiry >= REAL_NOW
end

local function wft_queue(attempt)
  local sticky = get('sticky')
  if sticky and sticky ~= '' and attempt == 1 then
    if worker_live(sticky) then return '@' .. sticky end
    set('sticky', '')
  end
  return get('tq')
end

-- A task's WorkflowTaskScheduled and WorkflowTaskStarted (`sched`: its scheduled event id, as
-- text), at `ts`, built in their stored form (history.lua). Each returns its event id.
local function append_wft_scheduled(ts, attempt)
  return append('WorkflowTaskScheduled', ts, jobj_stored('taskQueue', jstr(get('tq')), 'startToCloseTimeout', get('wfto'), 'attempt', jint(attempt)))
end
local function append_wft_started(ts, sched, identity)
  return append('WorkflowTaskStarted', ts, jobj_stored('scheduledEventId', sched, 'identity', jstr(identity)))
end

-- Arms the start-to-close timeout of the workflow task in progress.
local function arm_wft()
  local timeout = getn('wfto')
  add_deadline(deadline_member('wto', get('wtok')), NOW + timeout, timeout)
end

-- Takes the scheduled workflow task for a worker: WorkflowTaskStarted at `at` (default now; not
-- for a transient retry attempt, whose events are written when it completes) and, unless
-- `unarmed` (the task completes in the same call), the task's start-to-close timeout. `unqueued`:
-- the task was scheduled in this call and never waited on a sticky queue (no timeout to drop).
-- Returns the attempt and the WorkflowTaskStarted event id (0 when none was written).
local function start_wft(identity, at, unarmed, unqueued)
  at = at or NOW
  local tok = get('wtok')
  if not unqueued and string.sub(get('wq') or '', 1, 1) == '@' then remove_deadline(deadline_member('stk', tok)) end
  local attempt = getn('watt')
  local started = 0
  if getn('wsp') > 0 then
    -- Speculative (updates.lua): WorkflowTaskStarted is written with the task's outcome, if at all.
    set('widn', identity)
  elseif attempt == 1 then
    started = append_wft_started(at, get('wsch'), identity)
  end
  set('wft', 'started')
  set('wstd', started)
  set('wst', at)
  if not unarmed then arm_wft() end
  return attempt, started
end

-- Takes a task a worker ran without starting it: the run's first task, run from the history its
-- job carries (startWorkflow), which the worker expects to become WorkflowTaskStarted event
-- `started` at time `at`. Only while it is still the scheduled first attempt `tok`, nothing was
-- appended after the job's events, and `at` lies between the task's scheduling and now; returns
-- false (nothing written) otherwise.
local function take_wft(tok, queue, identity, at, started, unarmed)
  if get('wft') ~= 'scheduled' or get('wtok') ~= tok or getn('watt') ~= 1 or getn('wsp') > 0
    or getn('last') ~= started - 1 or at < getn('wsct') or at > NOW then return false end
  outbox_remove(wft_member(tok, queue))
  start_wft(identity, at, unarmed)
  return true
end

-- Schedules the next workflow task. Attempts after the first are transient, as in Temporal:
-- their Scheduled/Started events are written only if the attempt completes. `eager` names a
-- worker that takes the task at once if it would be routed to that worker's sticky queue
-- ({ worker, identity, unarmed }: start_wft); it then gets no job. Returns true when the task was
-- taken eagerly.
-- A `speculative` task (one that only delivers updates) writes no event until it has something to
-- record (materialize_wft).
local function schedule_wft(attempt, delay, eager, speculative)
  local tok = getn('wtok') + 1
  local queue = wft_queue(attempt)
  local sched = 0
  if speculative then set('wsp', getn('last')) elseif getn('wsp') > 0 then set('wsp', 0) end
  if attempt == 1 and not speculative then
    sched = append_wft_scheduled(NOW, attempt)
  end
  set('wft', 'scheduled')
  set('wtok', tok)
  set('watt', attempt)
  set('wsch', sched)
  set('wstd', 0)
  set('wsct', NOW + delay)
  set('wq', queue)
  tok = get('wtok')
  if eager and delay == 0 and queue == '@' .. eager.worker then
    start_wft(eager.identity, nil, eager.unarmed, true)
    return true
  end
  outbox_add(wft_member(tok, queue), NOW + delay)
  if string.sub(queue, 1, 1) == '@' then
    local stto = getn('stto')
    add_deadline(deadline_member('stk', tok), NOW + stto, stto)
  end
  return false
end

-- Writes the WorkflowTaskScheduled (and, once started, WorkflowTaskStarted) events a speculative
-- task held back, at the times they happened: from here on it is an ordinary task.
local function materialize_wft()
  if getn('wsp') == 0 then return end
  set('wsp', 0)
  local sched = append_wft_scheduled(getn('wsct'), 1)
  set('wsch', sched)
  if get('wft') == 'started' then set('wstd', append_wft_started(getn('wst'), jint(sched), get('widn') or '')) end
end

-- Moves a workflow task waiting on a sticky queue back to the task queue (the sticky worker did
-- not take it in time, or is shutting down), as Temporal does: a SCHEDULE_TO_START timeout.
local function unstick_wft()
  local tok = get('wtok')
  local member = wft_member(tok, get('wq'))
  outbox_remove(member)
  remove_deadline(deadline_member('stk', tok))
  WITHDRAW[#WITHDRAW + 1] = member
  materialize_wft()
  append('WorkflowTaskTimedOut', NOW, jobj('scheduledEventId', get('wsch'), 'startedEventId', '0',
    'timeoutType', '"SCHEDULE_TO_START"'))
  set('sticky', '')
  schedule_wft(1, 0)
end

local function ensure_wft(eager)
  if WFT_NEEDED and running() and (get('wft') == '' or not get('wft')) then return schedule_wft(1, 0, eager) end
  return false
end

-- Drops the deadline of the workflow task in progress: its timeout while started, its sticky
-- timeout while waiting on a sticky queue.
local function disarm_wft()
  local tok = get('wtok')
  if get('wft') == 'started' then
    remove_deadline(deadline_member('wto', tok))
  elseif get('wft') == 'scheduled' and string.sub(get('wq') or '', 1, 1) == '@' then
    remove_deadline(deadline_member('stk', tok))
  end
end

local function clear_wft()
  disarm_wft()
  set('wft', '')
end
