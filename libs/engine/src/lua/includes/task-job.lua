--[[
  A task's BullMQ job added by the script that commits the task, where the queue's keys are on the
  same server as the run's (a single Redis: Engine.startWorkflow passes a job key prefix only
  there). The job is stored as BullMQ's addStandardJob stores one (bullmq 6.7.0: getOrSetMaxEvents,
  storeJob, isQueuePausedOrMaxed, addJobInTargetList), so BullMQ's workers fetch it as any other;
  first-task.spec compares it with one Queue.add stores. The caller then has nothing to dispatch for
  the task (outbox_queued), and its outbox descriptor stays until the task is consumed, as for a
  dispatched one.
]]
--- @include "json"

-- prefix: the queue's key prefix ('<prefix>:<queue>:'); opts: the job options (JSON object, without
-- the job id, which is added here).
local function add_task_job(prefix, jobId, name, data, opts)
  local jobKey = prefix .. jobId
  -- A job with this id is the task's already (BullMQ adds nothing then either).
  if redis.call('EXISTS', jobKey) == 1 then return end
  local meta, events = prefix .. 'meta', prefix .. 'events'
  local maxEvents = redis.call('HGET', meta, 'opts.maxLenEvents')
  if not maxEvents then
    maxEvents = 10000
    redis.call('HSET', meta, 'opts.maxLenEvents', maxEvents)
  end
  redis.call('HSET', jobKey, 'name', name, 'data', data, 'opts', '{"jobId":' .. jstr(jobId) .. ',' .. string.sub(opts, 2),
    'timestamp', jint(NOW), 'delay', 0, 'priority', 0)
  redis.call('XADD', events, '*', 'event', 'added', 'jobId', jobId, 'name', name)
  local queue = redis.call('HMGET', meta, 'paused', 'concurrency')
  local pausedOrMaxed = queue[1] ~= false or (queue[2] ~= false and redis.call('LLEN', prefix .. 'active') >= tonumber(queue[2]))
  redis.call('LPUSH', prefix .. 'wait', jobId)
  if not pausedOrMaxed then redis.call('ZADD', prefix .. 'marker', 0, '0') end
  redis.call('XADD', events, 'MAXLEN', '~', maxEvents, '*', 'event', 'waiting', 'jobId', jobId)
end
