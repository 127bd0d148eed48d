--[[
  Runs when a shard's wake-up job fires: lists the shard's due deadlines (the caller fires each
  with fireDeadline) and retires the wake-ups that have passed.

  KEYS[1]  shard deadlines zset
  KEYS[2]  shard wake-ups zset
  KEYS[3]  shard outbox zset
  ARGV[1]  the wake-up time this job was armed for (ms), or "" when called by the sweep
  ARGV[2]  maximum number of deadlines to return

  Returns { 1, now, members } or { -6, now, msLeft } when the job was promoted before its time
  (a worker with a fast clock); the caller delays it again.
]]
--- @include "clock"
local now = now_ms(string.sub(KEYS[1], 1, #KEYS[1] - #':deadlines'))
local at = tonumber(ARGV[1])
if at and at > now then return { -6, now, at - now } end
if at then rcall('ZREM', KEYS[3], 'wake|' .. ARGV[1]) end
rcall('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
return { 1, now, rcall('ZRANGEBYSCORE', KEYS[1], '-inf', now, 'LIMIT', 0, tonumber(ARGV[2])) }
