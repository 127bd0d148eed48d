--[[
  The run state machine shared by every run-scoped script.

  Every run script calls begin_run(KEYS, ARGV) first, and takes the same first nine KEYS and
  first two ARGV:
    KEYS[1] run state hash      KEYS[5] shard deadlines zset (member -> due ms)
    KEYS[2] run history stream  KEYS[6] shard wake-ups zset (armed tick times)
    KEYS[3] run buffered events KEYS[7] workflow id hash (current run, its status)
    KEYS[4] shard outbox zset (task descriptor -> due ms)
    KEYS[8] shard open runs zset, KEYS[9] shard closed runs zset (visibility: run id -> start ms)
    ARGV[1] run id              ARGV[2] pub/sub channel prefix of the namespace

  History events are stream entries with id "<eventId>-0" and fields t (type), ts (ms), a (JSON
  attributes), so the stream itself refuses an out-of-order or duplicate event id.

  Scripts never build a BullMQ job themselves (a cluster cannot run one script on two slots):
  they add a task descriptor to the shard outbox and return it; the caller dispatches it and the
  script that consumes the task removes it; a sweep re-dispatches whatever stays behind.
]]
--- @include "clock"

-- The call's keys, arguments and clock, set by begin_run. Loaded as a function library these
-- locals outlive a call, so every per-call value lives here and begin_run resets it.
local K_STATE, K_HIST, K_BUF, K_OUTBOX, K_DEADLINES, K_WAKES, K_WID, K_OPEN, K_CLOSED
local RUN_ID, CHANNEL, NOW
local state, dirty, DISPATCH, WITHDRAW, WFT_NEEDED

local function begin_run(KEYS, ARGV)
  K_STATE, K_HIST, K_BUF, K_OUTBOX, K_DEADLINES, K_WAKES, K_WID, K_OPEN, K_CLOSED =
    KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6], KEYS[7], KEYS[8], KEYS[9]
  RUN_ID, CHANNEL = ARGV[1], ARGV[2]
  NOW = now_ms()
  state, dirty, DISPATCH, WITHDRAW, WFT_NEEDED = nil, {}, {}, {}, false
end

-- Reply codes below zero, mirrored by ReplyCode in scripts.ts.
local E_NOT_FOUND, E_NOT_RUNNING, E_STALE, E_ALREADY_STARTED, E_UNHANDLED_COMMAND, E_EARLY = -1, -2, -3, -4, -5, -6

--------------------------------------------------------------------------------------------------
-- JSON: attributes are assembled from pre-encoded parts, so opaque documents written by the SDK
-- (payloads, failures) are spliced in verbatim and never re-encoded by cjson (which would turn
-- an empty array into an object).
--------------------------------------------------------------------------------------------------
local function jstr(s) return cjson.encode(s) end
local function jint(n) return string.format('%d', n) end
local function jobj(...)
  local n, parts = select('#', ...), {}
  for i = 1, n, 2 do
    local k, v = select(i, ...)
    if v ~= nil and v ~= false then parts[#parts + 1] = '"' .. k .. '":' .. v end
  end
  return '{' .. table.concat(parts, ',') .. '}'
end

--------------------------------------------------------------------------------------------------
-- State
--------------------------------------------------------------------------------------------------
-- The run's scalar fields are read with one HMGET on first use and written back with one HSET
-- when the script replies: a transition costs two hash commands, however many fields it touches.
local FIELDS = { 'status', 'last', 'wid', 'type', 'tq', 'start', 'close', 'wfto', 'wft', 'wtok', 'watt', 'wsch',
  'wstd', 'wst', 'wsct', 'wq', 'sticky', 'stto', 'creq', 'nbuf', 'rdl', 'hsz', 'mxe', 'mxb' }
local function load_state()
  state = {}
  local values = redis.call('HMGET', K_STATE, unpack(FIELDS))
  for i, field in ipairs(FIELDS) do state[field] = values[i] or false end
end
local function get(field)
  if not state then load_state() end
  return state[field]
end
local function getn(field) return tonumber(get(field)) or 0 end
local function set(field, value)
  if not state then load_state() end
  if type(value) == 'number' then value = string.format('%d', value) end
  state[field] = value
  dirty[field] = true
end
local function flush_state()
  local args = {}
  for field in pairs(dirty) do
    args[#args + 1] = field
    args[#args + 1] = state[field]
  end
  if #args > 0 then redis.call('HSET', K_STATE, unpack(args)) end
  dirty = {}
end
local function running() return get('status') == 'RUNNING' end

local function load_activity(sid)
  local raw = redis.call('HGET', K_STATE, 'a:' .. sid)
  if not raw then return nil end
  return cjson.decode(raw)
end
local function save_activity(sid, act) redis.call('HSET', K_STATE, 'a:' .. sid, cjson.encode(act)) end

--------------------------------------------------------------------------------------------------
-- Dispatch: outbox descriptors "<kind>|...|<workflowId>" (the workflow id last: it may hold '|').
--------------------------------------------------------------------------------------------------
local function outbox_add(member, due)
  redis.call('ZADD', K_OUTBOX, due, member)
  DISPATCH[#DISPATCH + 1] = member
  DISPATCH[#DISPATCH + 1] = jint(due)
end
local function outbox_remove(member) redis.call('ZREM', K_OUTBOX, member) end
local function wft_member(tok, queue) return 'wft|' .. RUN_ID .. '|' .. tok .. '|' .. queue .. '|' .. get('wid') end
local function act_member(sid, act) return 'act|' .. RUN_ID .. '|' .. sid .. '|' .. act.att .. '|' .. act.tq .. '|' .. get('wid') end

--------------------------------------------------------------------------------------------------
-- Deadlines: one shard-wide zset; a BullMQ delayed "wake" job per armed time runs the shard's
-- due deadlines. Wake times are rounded up to a granularity that grows with the timeout, so
-- thousands of deadlines share a few wake jobs; a 200 ms timeout still fires within ~10 ms.
--------------------------------------------------------------------------------------------------
local function granularity(span)
  if span >= 10000 then return 1000 elseif span >= 1000 then return 100 end
  return 10
end
local function arm_wake(due, span)
  local g = granularity(span)
  local at = math.ceil(due / g) * g
  if redis.call('ZCOUNT', K_WAKES, due, at) == 0 then
    redis.call('ZADD', K_WAKES, at, at)
    outbox_add('wake|' .. at, at)
  end
end
local function deadline_member(kind, a, b)
  return kind .. '|' .. (a or '') .. '|' .. (b or '') .. '|' .. RUN_ID .. '|' .. get('wid')
end
local function add_deadline(member, due, span)
  redis.call('ZADD', K_DEADLINES, due, member)
  arm_wake(due, span)
end
local function remove_deadline(member) redis.call('ZREM', K_DEADLINES, member) end

--------------------------------------------------------------------------------------------------
-- History
--------------------------------------------------------------------------------------------------
local function append(etype, ts, attrs)
  local id = getn('last') + 1
  set('last', id)
  set('hsz', getn('hsz') + #attrs)
  redis.call('XADD', K_HIST, id .. '-0', 't', etype, 'ts', jint(ts), 'a', attrs)
  return id
end

-- Events whose attributes reference the event recorded just before them ("linked": an activity's
-- close event names its ActivityTaskStarted) get that id when they are finally appended.
local function link(attrs, prev) return '{"startedEventId":' .. prev .. ',' .. string.sub(attrs, 2) end

-- Records an event that did not come from a workflow task. While a workflow task is running the
-- event is buffered, so that a task's command events always follow its WorkflowTaskCompleted.
local function record(etype, attrs, ts, linked)
  if get('wft') == 'started' then
    redis.call('RPUSH', K_BUF, cjson.encode({ t = etype, ts = ts, a = attrs, l = linked and 1 or 0 }))
    set('nbuf', getn('nbuf') + 1)
  else
    if linked then attrs = link(attrs, getn('last')) end
    append(etype, ts, attrs)
    WFT_NEEDED = true
  end
end

local function flush_buffer()
  if getn('nbuf') == 0 then return false end
  local items = redis.call('LRANGE', K_BUF, 0, -1)
  redis.call('DEL', K_BUF)
  set('nbuf', 0)
  for _, raw in ipairs(items) do
    local e = cjson.decode(raw)
    local attrs = e.a
    if e.l == 1 then attrs = link(attrs, getn('last')) end
    append(e.t, e.ts, attrs)
  end
  return true
end

--------------------------------------------------------------------------------------------------
-- Workflow tasks
--------------------------------------------------------------------------------------------------
local function wft_queue(attempt)
  local sticky = get('sticky')
  if sticky and sticky ~= '' and attempt == 1 then return '@' .. sticky end
  return get('tq')
end

-- Schedules the next workflow task. Attempts after the first are transient, as in Temporal:
-- their Scheduled/Started events are written only if the attempt completes.
-- Takes the scheduled workflow task for a worker: WorkflowTaskStarted (not for a transient
-- retry attempt, whose events are written when it completes) and the task's timeout.
local function start_wft(identity)
  local tok = get('wtok')
  if string.sub(get('wq') or '', 1, 1) == '@' then remove_deadline(deadline_member('stk', tok)) end
  local attempt = getn('watt')
  local started = 0
  if attempt == 1 then
    started = append('WorkflowTaskStarted', NOW, jobj('scheduledEventId', get('wsch'), 'identity', jstr(identity)))
  end
  set('wft', 'started')
  set('wstd', started)
  set('wst', NOW)
  local timeout = getn('wfto')
  add_deadline(deadline_member('wto', tok), NOW + timeout, timeout)
  return attempt, started
end

-- Schedules the next workflow task. Attempts after the first are transient, as in Temporal:
-- their Scheduled/Started events are written only if the attempt completes. `eager` names a
-- worker that takes the task at once if it would be routed to that worker's sticky queue
-- ({ worker, identity }); it then gets no job. Returns true when the task was taken eagerly.
local function schedule_wft(attempt, delay, eager)
  local tok = getn('wtok') + 1
  local queue = wft_queue(attempt)
  local sched = 0
  if attempt == 1 then
    sched = append('WorkflowTaskScheduled', NOW,
      jobj('taskQueue', jstr(get('tq')), 'startToCloseTimeout', get('wfto'), 'attempt', jint(attempt)))
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
    start_wft(eager.identity)
    return true
  end
  outbox_add(wft_member(tok, queue), NOW + delay)
  if string.sub(queue, 1, 1) == '@' then
    local stto = getn('stto')
    add_deadline(deadline_member('stk', tok), NOW + stto, stto)
  end
  return false
end

-- Moves a workflow task waiting on a sticky queue back to the task queue (the sticky worker did
-- not take it in time, or is shutting down), as Temporal does: a SCHEDULE_TO_START timeout.
local function unstick_wft()
  local tok = get('wtok')
  local member = wft_member(tok, get('wq'))
  outbox_remove(member)
  remove_deadline(deadline_member('stk', tok))
  WITHDRAW[#WITHDRAW + 1] = member
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

--------------------------------------------------------------------------------------------------
-- Activities
--------------------------------------------------------------------------------------------------
-- An activity's deadlines: s2c for the activity, s2s/stc/hb for its current attempt. The armed
-- ones are noted in act.dl, so settling the activity removes just those.
local function activity_deadline(sid, act, kind)
  return deadline_member(kind, sid, kind ~= 's2c' and act.att or nil)
end
local function arm(sid, act, kind, due, span)
  add_deadline(activity_deadline(sid, act, kind), due, span)
  act.dl = act.dl or {}
  act.dl[kind] = 1
end
local function disarm(sid, act, kind)
  if act.dl and act.dl[kind] then
    remove_deadline(activity_deadline(sid, act, kind))
    act.dl[kind] = nil
  end
end

local function clear_attempt_deadlines(sid, act)
  disarm(sid, act, 's2s')
  disarm(sid, act, 'stc')
  disarm(sid, act, 'hb')
end

-- Starts an attempt for a worker: arms its start-to-close deadline (when it can end before
-- schedule-to-close, which is armed already) and its heartbeat deadline.
local function start_attempt(sid, act, identity, worker)
  act.std, act.idn, act.wkr, act.lhb = NOW, identity, worker, NOW
  disarm(sid, act, 's2s')
  if act.stc > 0 and (act.s2c == 0 or NOW + act.stc < act.sch + act.s2c) then
    arm(sid, act, 'stc', NOW + act.stc, act.stc)
  end
  if act.hb > 0 then arm(sid, act, 'hb', NOW + act.hb, act.hb) end
  save_activity(sid, act)
end

-- Queues an attempt: its task, and a schedule-to-start deadline unless schedule-to-close
-- (which never fires later) already bounds it.
local function queue_attempt(sid, act)
  outbox_add(act_member(sid, act), act.asch)
  if act.s2s > 0 and (act.s2c == 0 or act.s2s < act.s2c) then arm(sid, act, 's2s', act.asch + act.s2s, act.s2s) end
end

local function forget_activity(sid, act)
  clear_attempt_deadlines(sid, act)
  disarm(sid, act, 's2c')
  local member = act_member(sid, act)
  outbox_remove(member)
  -- A queued attempt is withdrawn from its queue; a running one is left to finish and be fenced.
  if act.std == 0 then WITHDRAW[#WITHDRAW + 1] = member end
  redis.call('HDEL', K_STATE, 'a:' .. sid)
end

-- Closes an activity with its terminal event. A started attempt first gets its
-- ActivityTaskStarted (written only now, with the final attempt and the previous failure).
local function close_activity(sid, act, etype, attrs)
  if act.std > 0 then
    record('ActivityTaskStarted', jobj('scheduledEventId', jint(sid), 'identity', jstr(act.idn or ''),
      'attempt', jint(act.att), 'lastFailure', act.lf), act.std, false)
    record(etype, attrs, NOW, true)
  else
    record(etype, link(attrs, 0), NOW, false)
  end
  forget_activity(sid, act)
end

local TIMEOUT_NAMES = {
  START_TO_CLOSE = 'StartToClose', SCHEDULE_TO_START = 'ScheduleToStart',
  SCHEDULE_TO_CLOSE = 'ScheduleToClose', HEARTBEAT = 'Heartbeat',
}
local function timeout_failure(message, ttype, act, cause)
  return jobj('message', jstr(message), 'source', '"Durabull"',
    'timeoutFailureInfo', jobj('timeoutType', jstr(ttype), 'lastHeartbeatDetails', act.hbd or '[]'),
    'cause', cause)
end

-- Facts about a failure sent by the worker; JSON null must not reach Lua as a truthy value.
local function decode_facts(raw)
  local f = cjson.decode(raw)
  for k, v in pairs(f) do if v == cjson.null then f[k] = nil end end
  return f
end

local function contains(list, value)
  for _, v in ipairs(list or {}) do if v == value then return true end end
  return false
end

-- Temporal's RetryActivity, in its order (TEMPORAL-SEMANTICS §2.3). `f` describes the failure:
-- kind ('application' | 'timeout' | 'canceled' | 'terminated' | 'server'), type, nonRetryable,
-- nextRetryDelay (ms, or nil) and timeoutType. Returns the retry state and the backoff.
local function retry_decision(act, f)
  if act.creq and act.creq > 0 then return 'CANCEL_REQUESTED' end
  if f.kind == 'timeout' and (f.timeoutType == 'SCHEDULE_TO_START' or f.timeoutType == 'SCHEDULE_TO_CLOSE') then
    return 'TIMEOUT'
  end
  local retryable = true
  if f.kind == 'application' then
    retryable = not f.nonRetryable and not contains(act.rp.nr, f.type or '')
  elseif f.kind == 'timeout' then
    retryable = not contains(act.rp.nr, 'TemporalTimeout:' .. (TIMEOUT_NAMES[f.timeoutType] or ''))
  elseif f.kind == 'server' then
    retryable = not f.nonRetryable
  elseif f.kind == 'canceled' or f.kind == 'terminated' then
    retryable = false
  end
  if not retryable then return 'NON_RETRYABLE_FAILURE' end
  if act.rp.ma > 0 and act.att >= act.rp.ma then return 'MAXIMUM_ATTEMPTS_REACHED' end
  local interval
  if f.nextRetryDelay then
    interval = f.nextRetryDelay
  else
    interval = math.min(act.rp.ii * act.rp.bc ^ (act.att - 1), act.rp.mi)
  end
  interval = math.floor(interval)
  if act.s2c > 0 and NOW + interval > act.sch + act.s2c then return 'TIMEOUT' end
  return 'IN_PROGRESS', interval
end

-- Moves a failed attempt on: either the next attempt after the backoff (no history event), or
-- the activity's terminal event. `failure` is the attempt's failure document (JSON).
local function fail_attempt(sid, act, f, failure)
  local state, interval = retry_decision(act, f)
  if state == 'IN_PROGRESS' then
    clear_attempt_deadlines(sid, act)
    act.att, act.asch, act.std, act.lf, act.idn, act.wkr, act.lhb = act.att + 1, NOW + interval, 0, failure, nil, nil, nil
    queue_attempt(sid, act)
    save_activity(sid, act)
    return state
  end
  local server_timeout = f.kind == 'timeout' and (f.timeoutType == 'SCHEDULE_TO_START' or f.timeoutType == 'SCHEDULE_TO_CLOSE')
  if state == 'TIMEOUT' and not server_timeout then
    -- The retry would end past schedule-to-close: the schedule-to-close budget is what ran out.
    failure = timeout_failure('Not enough time to schedule next retry before activity ScheduleToClose timeout, giving up retrying',
      'SCHEDULE_TO_CLOSE', act, failure)
  end
  if f.kind == 'timeout' or state == 'TIMEOUT' then
    close_activity(sid, act, 'ActivityTaskTimedOut',
      jobj('failure', failure, 'scheduledEventId', jint(sid), 'retryState', jstr(state)))
  else
    close_activity(sid, act, 'ActivityTaskFailed', jobj('failure', failure, 'scheduledEventId', jint(sid),
      'identity', jstr(act.idn or ''), 'retryState', jstr(state)))
  end
  return state
end

-- A timeout of the running attempt or the whole activity, as the server's timer task does it.
local function time_out_activity(sid, act, ttype)
  -- Like the server's timeout failure, its cause is the previous attempt's failure.
  local failure = timeout_failure('activity ' .. TIMEOUT_NAMES[ttype] .. ' timeout', ttype, act, act.lf)
  return fail_attempt(sid, act, { kind = 'timeout', timeoutType = ttype }, failure)
end

--------------------------------------------------------------------------------------------------
-- Run lifecycle
--------------------------------------------------------------------------------------------------
-- Clears what a closing run still has pending; running attempts are told to stop, since their
-- outcome can no longer be recorded.
local function settle_pending()
  local fields = redis.call('HKEYS', K_STATE)
  for _, field in ipairs(fields) do
    local kind, id = string.match(field, '^(%a):(%d+)$')
    if kind == 'a' then
      local act = load_activity(id)
      clear_attempt_deadlines(id, act)
      disarm(id, act, 's2c')
      outbox_remove(act_member(id, act))
      if act.std > 0 then
        redis.call('PUBLISH', CHANNEL .. ':worker:' .. act.wkr, RUN_ID .. '|' .. id .. '|' .. act.att)
      else
        WITHDRAW[#WITHDRAW + 1] = act_member(id, act)
      end
    elseif kind == 't' then
      remove_deadline(deadline_member('tmr', id))
    end
  end
  if get('wft') == 'scheduled' then outbox_remove(wft_member(get('wtok'), get('wq'))) end
  disarm_wft()
  if get('rdl') == '1' then remove_deadline(deadline_member('run')) end
end

-- Close events up to this size (attributes, bytes) go out with the close notification, so a client
-- waiting for the result needs no read; larger ones are read from history.
local CLOSE_EVENT_INLINE_MAX = 2048

-- Appends the run's close event and settles everything still pending: from here on every task,
-- deadline and completion of this run is a no-op. Publishes "<runId>[|<eventId>|<ms>|<type>|<attributes>]".
local function close_run(status, etype, attrs)
  flush_buffer()
  settle_pending()
  local id = append(etype, NOW, attrs)
  set('status', status)
  set('close', NOW)
  set('wft', '')
  redis.call('HSET', K_WID, 'status', status)
  redis.call('ZREM', K_OPEN, RUN_ID)
  redis.call('ZADD', K_CLOSED, get('start'), RUN_ID)
  local message = RUN_ID
  if #attrs <= CLOSE_EVENT_INLINE_MAX then message = table.concat({ RUN_ID, id, jint(NOW), etype, attrs }, '|') end
  redis.call('PUBLISH', CHANNEL .. ':closed', message)
end

-- A history that reached the namespace's limits (events or bytes) stops growing: the run is
-- terminated, as Temporal's server does.
local function enforce_history_limits()
  if not dirty['last'] or not running() then return end
  local reason
  if getn('mxe') > 0 and getn('last') >= getn('mxe') then
    reason = 'Workflow history count exceeds limit.'
  elseif getn('mxb') > 0 and getn('hsz') >= getn('mxb') then
    reason = 'Workflow history size exceeds limit.'
  end
  if reason then
    close_run('TERMINATED', 'WorkflowExecutionTerminated', jobj('reason', jstr(reason), 'details', '[]', 'identity', '"durabull"'))
  end
end

local function reply(code, ...)
  enforce_history_limits()
  flush_state()
  return { code, jint(NOW), DISPATCH, WITHDRAW, ... }
end
