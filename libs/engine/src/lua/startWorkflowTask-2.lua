--[[
  A worker takes a workflow task: WorkflowTaskStarted (not for a transient retry attempt), the
  task's start-to-close deadline, and the history the worker has not seen yet.

  KEYS[1..2]  run keys (see includes/run.lua)
  ARGV[1..2]  run id, channel prefix
  ARGV[3]     task token (from the job)
  ARGV[4]     queue the job came from (task queue, or "@<workerId>" for a sticky queue)
  ARGV[5]     worker identity
  ARGV[6]     last event id the worker already holds (0 = send the whole history)
  ARGV[7..8]  for a task the worker began to run without starting it (the run's first, from its
              job's history; it now runs local activities): the time it took the task and the
              WorkflowTaskStarted event id it expected (take_wft, includes/workflow-task.lua).
              No events are sent back. Absent otherwise

  Returns reply(1, attempt, startedEventId, events, scheduledTimeMs, updates) where events are
  XRANGE entries, scheduledTimeMs is when the task became due (for schedule-to-start latency) and
  updates the admitted update requests to deliver (id, name, input, identity of each; updates.lua);
  E_STALE when the token is no longer the scheduled task (a duplicate or a stale job).
]]
--- @include "run"
begin_run(KEYS, ARGV)

local tok, queue, identity, seen = ARGV[3], ARGV[4], ARGV[5], tonumber(ARGV[6])
if not get('status') then return reply(E_NOT_FOUND) end
outbox_remove(wft_member(tok, queue))
if not running() then return reply(E_NOT_RUNNING) end
local takenAt = tonumber(ARGV[7] or '')
if takenAt then
  if not take_wft(tok, queue, identity, takenAt, tonumber(ARGV[8])) then return reply(E_STALE) end
  return reply(1, '1', ARGV[8], {}, get('wsct'), {})
end
if get('wft') ~= 'scheduled' or get('wtok') ~= tok then return reply(E_STALE) end

local scheduled = getn('wsct')
local attempt, started = start_wft(identity)
local events = rcall('XRANGE', K_HIST, (seen + 1) .. '-0', '+')
return reply(1, jint(attempt), jint(started), events, jint(scheduled), update_requests())
