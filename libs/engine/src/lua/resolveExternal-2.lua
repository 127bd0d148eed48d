--[[
  Resolves a message this run sent to another run (includes/messages.lua, step 3): records its
  outcome and schedules a workflow task to deliver it. Idempotent: a message already resolved (or
  of a run deleted since) only loses its outbox descriptor.

  KEYS[1..2]  run keys (the sender; see includes/run.lua)
  ARGV[1..2]  run id, channel prefix
  ARGV[3]     the initiating command event id
  ARGV[4]     outcome: 'delivered' | 'not_found'
  ARGV[5]     the sender's workflow id
  ARGV[6]     the target run, JSON { workflowId, runId } (the workflowExecution attribute)
  ARGV[7]     child start ('start'): the attributes (JSON) of the event to record

  Child workflows (children.lua) add the kinds 'start' (outcome 'started' | 'exists' | 'skipped'),
  'terminate' and 'cancelchild' (the parent close policy, applied: the pending child is forgotten)
  and 'parent' (on the child: its close was recorded on its parent).

  Returns reply(1), or reply(0) when there was nothing to resolve; reply(2) when resolving a
  child's start committed a new message under the same id (the parent closed meanwhile: its
  policy applies to the child), which the caller delivers at once.
]]
--- @include "run"
--- @include "messages"
begin_run(KEYS, ARGV)

local id, outcome, target = ARGV[3], ARGV[4], ARGV[6]
outbox_remove(msg_member(id, ARGV[5]))
local kind = rcall('HGET', K_STATE, 'x:' .. id)
if not kind then return reply(0) end
rcall('HDEL', K_STATE, 'x:' .. id)
-- A deleted run kept only what its undelivered messages need (lifecycle.lua delete_run): that
-- goes with the last of them.
local function finish(code)
  if not get('status') then
    local left = false
    for _, field in ipairs(rcall('HKEYS', K_STATE)) do
      if string.match(field, '^x:') then left = true end
    end
    if not left then rcall('DEL', K_STATE) end
  end
  return reply(code)
end
if kind == 'start' then
  local again = CHILD.resolve_child_start(id, outcome, target, ARGV[7] or '{}')
  ensure_wft()
  return finish(again and 2 or 1)
end
if kind == 'terminate' or kind == 'cancelchild' then
  rcall('HDEL', K_STATE, 'c:' .. id)
  return finish(1)
end
if kind == 'parent' then return finish(1) end
if not get('status') then return finish(0) end
-- A run that closed since it sent the message has nothing left to tell.
if not running() then return reply(0) end

-- The message's outcome event: delivered, or failed (its target was not found).
local events = kind == 'signal' and { 'ExternalWorkflowExecutionSignaled', 'SignalExternalWorkflowExecutionFailed' }
  or { 'ExternalWorkflowExecutionCancelRequested', 'RequestCancelExternalWorkflowExecutionFailed' }
if outcome == 'delivered' then
  record(events[1], jobj('initiatedEventId', id, 'workflowExecution', target), NOW, false)
else
  record(events[2], jobj('cause', '"EXTERNAL_WORKFLOW_EXECUTION_NOT_FOUND"', 'initiatedEventId', id, 'workflowExecution', target), NOW, false)
end
ensure_wft()
return reply(1)
