--[[
  The outcome of an activity attempt, fenced on the attempt and the worker that started it, so a
  stale attempt (timed out, retried, cancelled) can never complete the activity.
  A failure goes through Temporal's retry decision: either the next attempt is queued after its
  backoff (no history event) or the activity closes with ActivityTaskStarted + its close event.

  KEYS[1..2]  run keys (see includes/run.lua)
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

  Returns reply(1, retryState or "", eagerTask) where eagerTask, when the next workflow task was
  taken eagerly, is { token, attempt, startedEventId, events after ARGV[11] }; or E_STALE.
]]
--- @include "activity-completion"
begin_run(KEYS, ARGV)
return reply(complete_activity(ARGV))
