--[[
  Records a cancellation request for a run (WorkflowExecutionCancelRequested) and schedules a
  workflow task to deliver it. A cancellation request is a state: repeated requests are no-ops.

  KEYS[1..2]  run keys (see includes/run.lua)
  ARGV[1..2]  run id, channel prefix
  ARGV[3]     reason
  ARGV[4]     identity of the requester
]]
--- @include "run"
begin_run(KEYS, ARGV)

if not get('status') then return reply(E_NOT_FOUND) end
if not running() then return reply(E_NOT_RUNNING) end
if getn('creq') == 0 then
  set('creq', 1)
  record('WorkflowExecutionCancelRequested', jobj('cause', jstr(ARGV[3]), 'identity', jstr(ARGV[4])), NOW, false)
  ensure_wft()
end
return reply(1)
