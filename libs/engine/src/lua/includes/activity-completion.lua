--[[
  An activity attempt's outcome (completeActivityTask-2.lua has the arguments and the reply),
  shared with completeActivityAndWorkflowTask-2.lua, which also completes the workflow task the
  result hands over.
]]
--- @include "run"

-- `A` holds the arguments as completeActivityTask's ARGV does. With `prediction` ({ at, from }:
-- the worker already ran the next workflow task at time `at` on the events it predicted this
-- result writes after event `from`, and completes it in this same call) the task is taken eagerly
-- only if the run's history still ends at `from` and `at` is no earlier than the activity's start
-- and no later than now; `at` then becomes this call's time, and the task is taken without its
-- timeout (the caller arms it if the task stays started). Returns code, retryState, and the eager
-- task when one was taken (without events when predicted: the worker holds them).
-- The run's last event needs no read to keep event times in order: `from` is the last event the
-- worker's own previous commit on the run wrote, at that reply's time at the latest, and `at` is
-- never earlier than that reply's time (Engine.activityCompletedTask).
local function complete_activity(A, prediction)
  local sid, attempt, worker, outcome, body, facts, details, eagerIdentity, seen =
    A[3], tonumber(A[4]), A[5], A[6], A[7], A[8], A[9], A[10], tonumber(A[11])
  if not get('status') then return E_NOT_FOUND end
  if not running() then return E_NOT_RUNNING end
  local act = load_activity(sid)
  if not act or act.att ~= attempt or act.std == 0 or act.wkr ~= worker then return E_STALE end
  if prediction then
    local at = prediction.at
    if getn('last') == prediction.from and at <= NOW and at >= act.std then
      NOW = at
    else
      eagerIdentity = ''
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
  local eager = eagerIdentity ~= '' and { worker = worker, identity = eagerIdentity, unarmed = prediction ~= nil } or nil
  if not ensure_wft(eager) then return 1, state end
  local events = prediction and {} or rcall('XRANGE', K_HIST, (seen + 1) .. '-0', '+')
  return 1, state, { get('wtok'), get('watt'), get('wstd'), events }
end
