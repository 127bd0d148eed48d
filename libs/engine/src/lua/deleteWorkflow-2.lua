--[[
  Deletes a run now: its history, state, buffered events, visibility entries and deadlines, and
  the workflow id's entry when it still names this run, so that the id can be started again. A
  running run is terminated first, as a termination does it (WorkflowExecutionTerminated is
  published to waiters, running activities are told to stop), with Temporal's reason
  "Delete workflow execution".

  KEYS[1..2]  run keys (see includes/run.lua)
  ARGV[1..2]  run id, channel prefix
  ARGV[3]     reason of the termination of a running run
  ARGV[4]     identity of the requester

  Returns reply(1), or E_NOT_FOUND when there is no such run (or it was deleted already).
]]
--- @include "run"
begin_run(KEYS, ARGV)

if not get('status') then return reply(E_NOT_FOUND) end
if running() then
  close_run('TERMINATED', 'WorkflowExecutionTerminated',
    jobj('reason', jstr(ARGV[3]), 'details', '[]', 'identity', jstr(ARGV[4])), true)
end
delete_run()
return reply(1)
