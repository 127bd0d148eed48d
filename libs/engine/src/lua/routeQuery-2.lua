--[[
  Where a query of a run goes (read-only): to the sticky queue of the worker that caches the run
  while that worker is live (its entry in the shard's workers hash has not expired, on Redis
  time), else to the run's task queue, which every worker of it serves.

  KEYS[1]  run state hash
  KEYS[2]  shard live workers hash (worker id -> liveness expiry ms, or "d<lease>" once dead)

  Returns {} when the run does not exist, else { status, taskQueue, worker }: `worker` is the
  live caching worker's id, '' when there is none.
]]
--- @include "clock"
local run = rcall('HMGET', KEYS[1], 'status', 'tq', 'sticky')
if not run[1] then return {} end
local worker = run[3] or ''
if worker ~= '' then
  -- A dead worker's entry ("d<lease>") is not a number.
  local expiry = tonumber(rcall('HGET', KEYS[2], worker) or '')
  if expiry == nil or expiry < real_ms() then worker = '' end
end
return { run[1], run[2], worker }
