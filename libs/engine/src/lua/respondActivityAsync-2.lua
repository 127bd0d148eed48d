--[[
  Async activity completion: an AsyncActivityHandle completes, fails, cancels or heartbeats an
  activity whose function ended with raiseCompleteAsync(). Fenced on the attempt (by task token)
  or on the activity id's pending activity (by id), never on the worker: whoever holds the token
  may act, as long as the attempt it names is still the current, started one.

  KEYS[1..2]  run keys (see includes/run.lua)
  ARGV[1..2]  run id, channel prefix
  ARGV[3]     ActivityTaskScheduled event id from the task token, or "" to find the activity by id
  ARGV[4]     attempt from the task token (ignored by id)
  ARGV[5]     activity id (by token it must match too)
  ARGV[6]     identity of the caller (recorded in the close event)
  ARGV[7]     op: completed | failed | canceled | heartbeat
  ARGV[8]     result payloads | failure | cancellation details | heartbeat details (JSON)
  ARGV[9]     failure facts for the retry decision (JSON), for `failed`

  As Temporal's server: completing by id an activity that is scheduled but not started (queued,
  or waiting out a retry's backoff) starts it on the caller's behalf (its ActivityTaskStarted
  names the caller); failing, cancelling or heartbeating one needs a started attempt.

  Returns reply(1, retryState or "") for completed | failed | canceled, reply(1, cancelRequested
  0|1) for heartbeat; E_NOT_FOUND (no such run), E_NOT_RUNNING (closed), or E_STALE with why:
  "activityId" (by id: no pending activity has it), "attempt" (not pending, not started, or not
  the token's attempt), "cancel" (canceled without a cancellation request).
]]
--- @include "run"
begin_run(KEYS, ARGV)

local sid, attempt, activityId, identity, op, body, facts =
  ARGV[3], tonumber(ARGV[4]), ARGV[5], ARGV[6], ARGV[7], ARGV[8], ARGV[9]
if not get('status') then return reply(E_NOT_FOUND) end
if not running() then return reply(E_NOT_RUNNING) end

local act
local byId = sid == ''
if byId then
  -- The pending activity with this id (the lowest scheduled event id, should ids repeat).
  local pending = rcall('HGETALL', K_ACTS)
  local found
  for i = 1, #pending, 2 do
    local candidate = cjson.decode(pending[i + 1])
    local id = tonumber(pending[i])
    if candidate.id == activityId and (not found or id < found) then found, act = id, candidate end
  end
  if not act then return reply(E_STALE, 'activityId') end
  sid = tostring(found)
  attempt = act.att
else
  act = load_activity(sid)
  if not act or act.id ~= activityId or act.att ~= attempt then return reply(E_STALE, 'attempt') end
end

if act.std == 0 then
  if not (byId and op == 'completed') then return reply(E_STALE, 'attempt') end
  -- Completed by id before any worker started it: the caller starts it (its queued attempt is
  -- withdrawn), so that its ActivityTaskStarted precedes the completion.
  local member = act_member(sid, act)
  outbox_remove(member)
  WITHDRAW[#WITHDRAW + 1] = member
  disarm(sid, act, 's2s')
  act.std, act.idn = NOW, identity
end

if op == 'heartbeat' then
  act.hbd, act.lhb = body, NOW
  if act.hb > 0 then arm(sid, act, 'hb', NOW + act.hb, act.hb) end
  save_activity(sid, act)
  return reply(1, act.creq > 0 and 1 or 0)
end

local state = ''
if op == 'completed' then
  close_activity(sid, act, 'ActivityTaskCompleted',
    jobj('result', body, 'scheduledEventId', jint(sid), 'identity', jstr(identity)))
elseif op == 'canceled' then
  if act.creq == 0 then return reply(E_STALE, 'cancel') end
  close_activity(sid, act, 'ActivityTaskCanceled', jobj('details', body,
    'latestCancelRequestedEventId', jint(act.creq), 'scheduledEventId', jint(sid), 'identity', jstr(identity)))
else
  state = fail_attempt(sid, act, decode_facts(facts), body, identity)
end
ensure_wft()
return reply(1, state)
