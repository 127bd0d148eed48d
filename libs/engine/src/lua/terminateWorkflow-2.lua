--[[
  Terminates a run at once: WorkflowExecutionTerminated, no workflow code runs, and every pending
  task, activity attempt and timer of the run becomes a no-op.

  KEYS[1..2]  run keys (see includes/run.lua)
  ARGV[1..2]  run id, channel prefix
  ARGV[3]     reason
  ARGV[4]     details (JSON array of payloads)
  ARGV[5]     identity of the requester
]]
--- @include "run"
begin_run(KEYS, ARGV)

if not get('status') then return reply(E_NOT_FOUND) end
if not running() then return reply(E_NOT_RUNNING) end
close_run('TERMINATED', 'WorkflowExecutionTerminated',
  jobj('reason', jstr(ARGV[3]), 'details', ARGV[4], 'identity', jstr(ARGV[5])))
return reply(1)
