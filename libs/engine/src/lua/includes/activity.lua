--[[
  Activities: their deadlines, starting and queueing attempts, closing them with their terminal
  event, and Temporal's retry decision for a failed attempt. An activity's state is its a:<id>
  field (state.lua's legend).
]]
--- @include "history"
--- @include "deadlines"

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
-- schedule-to-close, which is armed already) and its heartbeat deadline. Returns the activity's
-- JSON as saved.
local function start_attempt(sid, act, identity, worker)
  act.std, act.idn, act.wkr = NOW, identity, worker
  disarm(sid, act, 's2s')
  if act.stc > 0 and (act.s2c == 0 or NOW + act.stc < act.sch + act.s2c) then
    arm(sid, act, 'stc', NOW + act.stc, act.stc)
  end
  if act.hb > 0 then arm(sid, act, 'hb', NOW + act.hb, act.hb) end
  return save_activity(sid, act)
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
  -- A queued attempt is withdrawn from its queue; a running one is left to finish and be fenced
  -- (its task left the outbox when it started).
  if act.std == 0 then
    local member = act_member(sid, act)
    outbox_remove(member)
    WITHDRAW[#WITHDRAW + 1] = member
  end
  delete_activity(sid)
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
-- the activity's terminal event. `failure` is the attempt's failure document (JSON); `identity`,
-- when given, who reported it (an async completion), else the worker that ran the attempt.
local function fail_attempt(sid, act, f, failure, identity)
  local state, interval = retry_decision(act, f)
  if state == 'IN_PROGRESS' then
    clear_attempt_deadlines(sid, act)
    act.att, act.asch, act.std, act.lf, act.idn, act.wkr = act.att + 1, NOW + interval, 0, failure, nil, nil
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
      'identity', jstr(identity or act.idn or ''), 'retryState', jstr(state)))
  end
  return state
end

-- A timeout of the running attempt or the whole activity, as the server's timer task does it.
local function time_out_activity(sid, act, ttype)
  -- Like the server's timeout failure, its cause is the previous attempt's failure.
  local failure = timeout_failure('activity ' .. TIMEOUT_NAMES[ttype] .. ' timeout', ttype, act, act.lf)
  return fail_attempt(sid, act, { kind = 'timeout', timeoutType = ttype }, failure)
end
