--[[
  Signals: WorkflowExecutionSignaled recorded on a run, and a workflow task to deliver it. Like
  every event that does not come from a workflow task, a signal that arrives while a task runs is
  buffered and appended after that task's events; a task that closes the run while a signal
  waits is failed with UNHANDLED_COMMAND and scheduled again, so no signal is lost to a close.
]]
--- @include "state"
--- @include "history"
--- @include "workflow-task"

-- Records a signal (its WorkflowExecutionSignaled attributes, JSON) on the call's running run
-- and schedules a workflow task to deliver it unless one is pending. A signal whose requestId
-- this run has recorded already (the same call sent again, say by a client resending a command
-- whose reply a broken connection lost) is a no-op, as in Temporal: the run state keeps the
-- field r:<requestId> for each (a JSON string never holds the raw text `"requestId":"` inside
-- a value, where its quotes are escaped, so the match is the attribute itself).
local function signal_run(attrs)
  local request = string.match(attrs, '"requestId":"([^"]+)"')
  if request then
    if rcall('HSETNX', K_STATE, 'r:' .. request, '1') == 0 then return false end
  end
  record('WorkflowExecutionSignaled', attrs, NOW, false)
  ensure_wft()
  return true
end

