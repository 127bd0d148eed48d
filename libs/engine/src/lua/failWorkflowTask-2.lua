--[[
  A workflow task failed (an exception that is not a workflow failure, nondeterminism, ...).
  The first attempt writes WorkflowTaskFailed; later attempts are transient and write nothing.
  The next attempt is scheduled on the task queue (never sticky) after a backoff.

  KEYS[1..2]  run keys (see includes/run.lua)
  ARGV[1..2]  run id, channel prefix
  ARGV[3]     task token
  ARGV[4]     worker identity
  ARGV[5]     cause (WorkflowTaskFailedCause)
  ARGV[6]     failure (JSON)
  ARGV[7..9]  for a task the worker ran without starting it (the run's first, from its job's
              history): the time it took the task, the queue its job came from, and the
              WorkflowTaskStarted event id it expected (take_wft, includes/workflow-task.lua);
              absent otherwise

  Returns reply(1, nextAttempt) or E_STALE.
]]
--- @include "run"
begin_run(KEYS, ARGV)

local tok, identity, cause, failure = ARGV[3], ARGV[4], ARGV[5], ARGV[6]
if not get('status') then return reply(E_NOT_FOUND) end
if not running() then return reply(E_NOT_RUNNING) end
local takenAt = tonumber(ARGV[7] or '')
if takenAt and not take_wft(tok, ARGV[8], identity, takenAt, tonumber(ARGV[9]), true) then return reply(E_STALE) end
if get('wft') ~= 'started' or get('wtok') ~= tok then return reply(E_STALE) end

local attempt = getn('watt')
if attempt == 1 then
  materialize_wft()
  append('WorkflowTaskFailed', NOW, jobj('scheduledEventId', get('wsch'), 'startedEventId', get('wstd'),
    'cause', jstr(cause), 'failure', failure, 'identity', jstr(identity)))
end
set('wlf', jobj('cause', jstr(cause), 'failure', failure))
clear_wft()
flush_buffer()
set('sticky', '')
-- 1 s, 2 s, 4 s, ... up to the task timeout: a fix needs a deploy, retrying faster only burns CPU.
local backoff = math.min(1000 * 2 ^ (attempt - 1), math.max(getn('wfto'), 1000))
schedule_wft(attempt + 1, backoff)
return reply(1, jint(attempt + 1))
