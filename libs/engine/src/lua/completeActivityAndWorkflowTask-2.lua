--[[
  An activity's result and the workflow task it hands over, committed in one call: a worker that
  holds the run ran the run's next task on the events it predicted the result writes
  (Engine.activityCompletedTask) and sends both (Engine.completeActivityWithNextTask). What it
  writes is what completeActivityTask, taking the task eagerly, and then completeWorkflowTask
  would write back to back; one call saves the second one's clock and state reads and writes, and
  the task's start-to-close timeout, armed only if the task stays started.

  KEYS[1..2]  run keys (see includes/run.lua)
  ARGV[1..2]   run id, channel prefix
  ARGV[3..11]  completeActivityTask's ARGV[3..11], for a completed first attempt
  ARGV[12]     the time (ms) at which the worker ran the next task (the result's time, if it
               takes the task: includes/activity-completion.lua)
  ARGV[13]     the run's last event id the worker predicted from
  ARGV[14..]   completeWorkflowTask's ARGV[3..], for the task the result takes

  Returns reply(activityCode, { retryState, eagerTask }, workflowTaskCode, ...workflowTaskExtra):
  the two replies' codes and extra values. workflowTaskCode is E_STALE, with nothing of the task
  written, when the result did not take the task (a stale attempt, or the run moved on from the
  prediction: a signal, another result that took the run's next task under the same token).
]]
--- @include "activity-completion"
--- @include "workflow-task-completion"
begin_run(KEYS, ARGV)

local now = NOW
local code, retryState, task = complete_activity(ARGV, { at = tonumber(ARGV[12]), from = tonumber(ARGV[13]) })
if code ~= 1 or not task then return reply(code, { retryState }, E_STALE) end
-- The result's events are written at the time the worker ran the task, the task's at this call's;
-- they are the task's to see: only events the task did not see call for another one.
NOW, WFT_NEEDED = now, false
-- A result that reached the history limits ends the run before the task completes.
enforce_history_limits()
if not running() then return reply(code, { retryState, task }, E_NOT_RUNNING) end

local completion = { ARGV[1], ARGV[2] }
for i = 14, #ARGV do completion[#completion + 1] = ARGV[i] end
local tok = get('wtok')
local result = { complete_workflow_task(completion, true) }
-- A completion refused with the task still started (an unknown command) leaves it to its timeout.
if get('wft') == 'started' and get('wtok') == tok then arm_wft() end
return reply(code, { retryState, task }, unpack(result))
