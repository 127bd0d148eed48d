--[[
  Starts a workflow run: WorkflowExecutionStarted, then its first WorkflowTaskScheduled.

  KEYS[1..9]  run keys (see includes/run.lua)
  KEYS[10]    shard runs zset, KEYS[11] shard runs-of-this-workflow-type zset,
  KEYS[12]    shard runs-of-this-task-queue zset (visibility: run id -> start ms)
  ARGV[1..2]  run id, channel prefix
  ARGV[3]     workflow id
  ARGV[4]     workflow type
  ARGV[5]     task queue
  ARGV[6]     WorkflowExecutionStarted attributes (JSON)
  ARGV[7]     workflow task timeout (ms)
  ARGV[8]     run timeout (ms, 0 = none)
  ARGV[9]     history event limit (0 = none): the run is terminated when its history reaches it
  ARGV[10]    history size limit in bytes (0 = none), likewise

  Returns reply(1), or E_ALREADY_STARTED with the running run's id.
]]
--- @include "run"
begin_run(KEYS, ARGV)

local workflowId, workflowType, taskQueue, attrs = ARGV[3], ARGV[4], ARGV[5], ARGV[6]
local taskTimeout, runTimeout = tonumber(ARGV[7]), tonumber(ARGV[8])

local current = redis.call('HMGET', K_WID, 'run', 'status')
if current[1] and current[2] == 'RUNNING' then
  return reply(E_ALREADY_STARTED, current[1] or RUN_ID)
end

local fields = { status = 'RUNNING', wid = workflowId, type = workflowType, tq = taskQueue, start = NOW, last = 0,
  wfto = taskTimeout, wft = '', wtok = 0, sticky = '', stto = 0, creq = 0, hsz = 0,
  mxe = tonumber(ARGV[9]), mxb = tonumber(ARGV[10]) }
for field, value in pairs(fields) do set(field, value) end
redis.call('HSET', K_WID, 'run', RUN_ID, 'status', 'RUNNING')
for _, index in ipairs({ K_OPEN, KEYS[10], KEYS[11], KEYS[12] }) do redis.call('ZADD', index, NOW, RUN_ID) end
append('WorkflowExecutionStarted', NOW, attrs)
if runTimeout > 0 then
  add_deadline(deadline_member('run'), NOW + runTimeout, runTimeout)
  set('rdl', 1)
end
schedule_wft(1, 0)
return reply(1)
