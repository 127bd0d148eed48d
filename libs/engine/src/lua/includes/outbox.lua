--[[
  The outbox: tasks a script committed, as descriptors in the shard's outbox zset (K_OUTBOX,
  descriptor -> due ms), returned in the reply for the caller to dispatch as BullMQ jobs (tasks.ts
  parses them); the script that consumes a task removes its descriptor, and a sweep re-dispatches
  whatever stays behind. Descriptors, the workflow id last (it may hold '|'):
    wft|<runId>|<token>|<queue>|<workflowId>                           a workflow task
    act|<runId>|<scheduledEventId>|<attempt>|<taskQueue>|<workflowId>  an activity attempt
    wake|<ms>                                                          a shard wake-up (deadlines.lua)
    msg|<runId>|<initiatedEventId>|<workflowId>                        a message to another run
                                                                       (messages.lua)
  WITHDRAW lists descriptors whose queued jobs the caller should remove.
]]
--- @include "state"
--- @include "json"

local function outbox_add(member, due)
  due = jms(due)
  rcall('ZADD', K_OUTBOX, due, member)
  DISPATCH[#DISPATCH + 1] = member
  DISPATCH[#DISPATCH + 1] = due
end
local function outbox_remove(member) rcall('ZREM', K_OUTBOX, member) end
-- A committed task this script queued itself (a run's first task on its task queue's first-task
-- list: startWorkflow): the caller has nothing to dispatch for it; its descriptor stays for the
-- sweep until the task is consumed.
local function outbox_queued(member)
  for i = 1, #DISPATCH, 2 do
    if DISPATCH[i] == member then
      table.remove(DISPATCH, i)
      table.remove(DISPATCH, i)
      return
    end
  end
end
local function wft_member(tok, queue) return 'wft|' .. RUN_ID .. '|' .. tok .. '|' .. queue .. '|' .. get('wid') end
local function act_member(sid, act) return 'act|' .. RUN_ID .. '|' .. sid .. '|' .. act.att .. '|' .. act.tq .. '|' .. get('wid') end
