--[[
  Messages from this run to another run (cross-shard hand-over). The other run usually lives on
  another shard (another Redis Cluster node), and one script may touch one shard only, so a
  message takes three fenced, idempotent steps, each safe to repeat after a crash:

  1. the sender's workflow task commits the command event (e.g.
     SignalExternalWorkflowExecutionInitiated) together with the pending message `x:<eventId>`
     in its state and the outbox descriptor msg|<runId>|<eventId>|<workflowId> (send_message);
  2. any worker takes the message job from the namespace's system queue and applies it to the
     target run: a signal with the request id `<senderRunId>:<eventId>`, which the target records
     (signals.lua), so a repeated delivery is a no-op, or a cancellation request, which is a
     state (requestCancelWorkflow);
  3. the same worker resolves the message on the sender (resolveExternal): the outcome event
     (ExternalWorkflowExecutionSignaled, ...Failed) and a workflow task; the pending message and
     its descriptor are removed, so a repeated resolve is a no-op.

  A crash between 1 and 2 or between 2 and 3 leaves the descriptor: the sweep dispatches the
  message again, and the fences make the repeat harmless.
]]
--- @include "state"
--- @include "outbox"

local function msg_member(id, wid) return 'msg|' .. RUN_ID .. '|' .. id .. '|' .. (wid or get('wid')) end

-- Commits a message whose what and to whom is the command event `id` (its kind: 'signal' or 'cancel').
local function send_message(id, kind)
  rcall('HSET', K_STATE, 'x:' .. id, kind)
  outbox_add(msg_member(id), NOW)
end
