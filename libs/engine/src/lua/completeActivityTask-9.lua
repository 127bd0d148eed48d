--[[
  The outcome of an activity attempt, fenced on the attempt and the worker that started it, so a
  stale attempt (timed out, retried, cancelled) can never complete the activity.
  A failure goes through Temporal's retry decision: either the next attempt is queued after its
  backoff (no history event) or the activity closes with ActivityTaskStarted + its close event.

  KEYS[1..9]  run keys
  ARGV[1..2]  run id, channel prefix
  ARGV[3]     ActivityTaskScheduled event id
  ARGV[4]     attempt
  ARGV[5]     worker id
  ARGV[6]     outcome: completed | failed | canceled
  ARGV[7]     result payloads | failure | cancellation details (JSON)
  ARGV[8]     failure facts for the retry decision (JSON): { kind, type, nonRetryable, nextRetryDelay }
  ARGV[9]     last heartbeat details (JSON), or "" to keep the recorded ones
  ARGV[10]    worker identity taking the next workflow task at once if the run is sticky to
              ARGV[5] (eager), or "" to leave it to the queues
  ARGV[11]    last event id that worker holds of the run (0 = none)
  ARGV[12]    with ARGV[10], for a completed attempt: the time (ms) at which the worker already ran
              the next workflow task, on the events it predicted this call writes, and whose
              completion it sent right behind this call (Engine.completeActivityWithNextTask).
              That time becomes this call's: no earlier than the activity's start and the run's
              last event, and no later than now; else the task is not taken eagerly (that
              completion then finds it not started, and the task goes through the sticky queue).
              Absent or '' otherwise.
  ARGV[13]    with ARGV[12]: the run's last event id the worker predicted from. The task is taken
              eagerly only if the run's history still ends there; then the state field `wprd`
              names this activity (ARGV[3]): the completion that follows commits only a task taken
              by this prediction (completeWorkflowTask), not one another result took meanwhile.

  Returns reply(1, retryState or "", eagerTask) where eagerTask, when the next workflow task was
  taken eagerly, is { token, attempt, startedEventId, events after ARGV[11] }; or E_STALE.
]]
--- @include "run"
begin_run(KEYS, ARGV)

local sid, attempt, worker, outcome, body, facts, details, eagerIdentity, seen =
  ARGV[3], tonumber(ARGV[4]), ARGV[5], ARGV[6], ARGV[7], ARGV[8], ARGV[9], ARGV[10], tonumber(ARGV[11])
if not get('status') then return reply(E_NOT_FOUND) end
if not running() then return reply(E_NOT_RUNNING) end
local act = load_activity(sid)
if not act or act.att ~= attempt or act.std == 0 or act.wkr ~= worker then return reply(E_STALE) end
local at = tonumber(ARGV[12] or '')
if at then
  local last = redis.call('XREVRANGE', K_HIST, '+', '-', 'COUNT', 1)[1]
  -- An entry's fields are t, ts, a (history.lua).
  if getn('last') == tonumber(ARGV[13]) and at <= NOW and at >= act.std and at >= tonumber(last and last[2][4] or 0) then
    NOW = at
  else
    eagerIdentity, at = '', nil
  end
end
if details ~= '' then act.hbd, act.lhb = details, NOW end

local state = ''
if outcome == 'completed' then
  close_activity(sid, act, 'ActivityTaskCompleted',
    jobj('result', body, 'scheduledEventId', jint(sid), 'identity', jstr(act.idn or '')))
elseif outcome == 'canceled' and act.creq > 0 then
  close_activity(sid, act, 'ActivityTaskCanceled', jobj('details', body,
    'latestCancelRequestedEventId', jint(act.creq), 'scheduledEventId', jint(sid), 'identity', jstr(act.idn or '')))
elseif outcome == 'canceled' then
  -- Cancelled without a request (the activity threw CancelledError itself): a non-retryable failure.
  state = fail_attempt(sid, act, { kind = 'canceled' },
    jobj('message', '"Cancelled"', 'source', '"Durabull"', 'canceledFailureInfo', jobj('details', body)))
else
  state = fail_attempt(sid, act, decode_facts(facts), body)
end
local eager = eagerIdentity ~= '' and { worker = worker, identity = eagerIdentity } or nil
if ensure_wft(eager) then
  if at then redis.call('HSET', K_STATE, 'wprd', sid) end
  local events = redis.call('XRANGE', K_HIST, (seen + 1) .. '-0', '+')
  return reply(1, state, { get('wtok'), get('watt'), get('wstd'), events })
end
return reply(1, state)
