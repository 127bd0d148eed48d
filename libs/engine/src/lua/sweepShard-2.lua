--[[
  Crash recovery for one shard: returns the outbox tasks that should have been consumed by now
  but were not (their dispatcher died, or their job was lost), and whether deadlines are overdue
  (their wake-up job was lost). Each returned task's score is pushed back with a growing delay,
  so concurrent sweeps and a queue without workers do not re-dispatch it in a tight loop.

  KEYS[1]  shard outbox zset
  KEYS[2]  shard deadlines zset
  ARGV[1]  grace period (ms): how late a task or deadline may be before it counts as lost
  ARGV[2]  maximum number of tasks to return

  Returns { now, { member, ... }, overdueDeadlines 0|1 }
]]
--- @include "clock"
local now = now_ms()
local grace = tonumber(ARGV[1])
local stale = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now - grace, 'WITHSCORES', 'LIMIT', 0, tonumber(ARGV[2]))
local members = {}
for i = 1, #stale, 2 do
  local late = now - tonumber(stale[i + 1])
  redis.call('ZADD', KEYS[1], now + math.max(grace, late), stale[i])
  members[#members + 1] = stale[i]
end
local overdue = #redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', now - grace, 'LIMIT', 0, 1)
return { now, members, overdue }
