--[[
  Records on a parent that its child closed for good (includes/children.lua): the child's close
  event (ChildWorkflowExecutionCompleted, ...Failed, ...Canceled, ...TimedOut, ...Terminated), after
  its ChildWorkflowExecutionStarted when the start had not been resolved yet, and a workflow task.
  Idempotent: a child no longer pending (recorded already, or the parent closed) changes nothing.

  KEYS[1..2]  run keys (the parent; see includes/run.lua)
  ARGV[1..2]  run id, channel prefix
  ARGV[3]     the StartChildWorkflowExecutionInitiated event id
  ARGV[4]     the close event's type
  ARGV[5]     its attributes (JSON), but startedEventId (added here)
  ARGV[6]     ChildWorkflowExecutionStarted's attributes (JSON), recorded first if still missing
  ARGV[7]     the child's run id

  Returns reply(1), or reply(0) when nothing was recorded.
]]
--- @include "run"
begin_run(KEYS, ARGV)

if not CHILD.record_child_closed(ARGV[3], ARGV[4], ARGV[5], ARGV[6], ARGV[7]) then return reply(0) end
ensure_wft()
return reply(1)
