--[[
  Signals a run: WorkflowExecutionSignaled (buffered while a workflow task runs), and a workflow
  task to deliver it unless one is pending.

  KEYS[1..2]  run keys (see includes/run.lua)
  ARGV[1..2]  run id, channel prefix
  ARGV[3]     WorkflowExecutionSignaled attributes (JSON: signalName, input, identity, header)

  Returns reply(1), E_NOT_FOUND for an unknown run, E_NOT_RUNNING for a closed one.
]]
--- @include "run"
--- @include "signals"
begin_run(KEYS, ARGV)

if not get('status') then return reply(E_NOT_FOUND) end
if not running() then return reply(E_NOT_RUNNING) end
signal_run(ARGV[3])
return reply(1)
