--[[
  A worker's periodic visit to one shard (every second or so, by every worker):

  1. Liveness: records that the worker is alive until now + ttl (Redis time). Workflow tasks are
     routed to a worker's sticky queue only while its entry is live (wft_queue in
     includes/workflow-task.lua).
  2. Dead workers: an entry that expired is leased to this caller for ARGV[7] ms (its value
     becomes "d<lease expiry>", which routing never takes for live) and its worker id returned,
     so that the caller moves what waits on the dead worker's sticky queue to the task queues and
     then removes the entry (`Engine.forgetWorker`). A caller that dies meanwhile lets the lease
     lapse, and the next sweep hands the dead worker to someone else.
  3. Overdue deadlines (whether any is more than ARGV[6] ms late: its wake-up job was lost, or
     was fetched by a worker that died), every visit.
  4. Crash recovery (when ARGV[4] is 1): returns the outbox tasks that should have been consumed
     by now but were not (their dispatcher died, their job was lost, or the worker that fetched
     their job died before starting it). The caller checks each task's job and dispatches again
     only those whose job is gone or held by nobody. Each returned task is pushed back by the
     grace period, never more, so concurrent sweeps do not repeat each other and a task is looked
     at again soon.

  KEYS[1]  shard outbox zset
  KEYS[2]  shard deadlines zset
  KEYS[3]  shard live workers hash (worker id -> liveness expiry ms, or "d<lease expiry ms>")
  ARGV[1]  grace period (ms): how late an outbox task may be before it is looked at
  ARGV[2]  maximum number of tasks to return
  ARGV[3]  worker id ('' for a caller that is not a worker)
  ARGV[4]  1 to look for lost tasks, 0 for liveness and deadlines only
  ARGV[5]  liveness time to live (ms)
  ARGV[6]  how late a deadline may be before it counts as overdue (ms)
  ARGV[7]  how long a dead worker is leased to the caller that recovers it (ms)

  Returns { now, { member, ... }, overdueDeadlines 0|1, { deadWorkerId, ... } }
]]
--- @include "clock"
-- Tasks and deadlines are due on the namespace's time, liveness is measured on Redis time.
local now, real = now_ms(string.sub(KEYS[1], 1, #KEYS[1] - #':outbox'))
local grace = tonumber(ARGV[1])

if ARGV[3] ~= '' then rcall('HSET', KEYS[3], ARGV[3], real + tonumber(ARGV[5])) end
local dead = {}
local entries = rcall('HGETALL', KEYS[3])
for i = 1, #entries, 2 do
  local value = entries[i + 1]
  local expiry = tonumber(value) or tonumber(string.sub(value, 2))
  if expiry < real then
    dead[#dead + 1] = entries[i]
    rcall('HSET', KEYS[3], entries[i], 'd' .. (real + tonumber(ARGV[7])))
  end
end

local members = {}
if ARGV[4] == '1' then
  local stale = rcall('ZRANGEBYSCORE', KEYS[1], '-inf', now - grace, 'LIMIT', 0, tonumber(ARGV[2]))
  for _, member in ipairs(stale) do
    rcall('ZADD', KEYS[1], now + grace, member)
    members[#members + 1] = member
  end
end
local overdue = #rcall('ZRANGEBYSCORE', KEYS[2], '-inf', now - tonumber(ARGV[6]), 'LIMIT', 0, 1)
return { now, members, overdue, dead }
