--[[
  Commits a schedule's next state (schedules.ts computes it): fenced on the version the caller
  read, so of concurrent firings (any number of workers, a sweep, a client's trigger) exactly one
  commits each step; the others read again and find nothing left to do. With the state it
  records the actions taken (starts still to hand over are part of it) and moves the schedule's
  deadline (shard deadlines zset member "sch|<scheduleId>", or "scp|<scheduleId>", see ARGV[7]) to
  its next fire time, arming a
  wake-up job as deadlines.lua does.

  KEYS[1]  schedule hash (def: definition JSON, st: state JSON, ver: version)
  KEYS[2]  shard schedules zset (schedule id -> create ms)
  KEYS[3]  shard deadlines zset, KEYS[4] shard wake-ups zset, KEYS[5] shard outbox zset
  ARGV[1]  schedule id
  ARGV[2]  create | update | delete
  ARGV[3]  update: the version the state was computed from
  ARGV[4]  definition JSON ('' keeps it)
  ARGV[5]  state JSON
  ARGV[6]  next fire time (ms), '' for none
  ARGV[7]  'sch' for a spec time, a pending hand-over or a finished schedule's deletion (7 days
           on, schedules.ts), 'scp' when the schedule only looks again at a run it waits for (a
           time-skipping test environment does not skip to those)

  Returns { code, now, dispatch, {}, version }: code 1, -1 (no such schedule), -3 (the version
  moved on: read again), -4 (create: the id is taken).
]]
--- @include "clock"
local tag = string.sub(KEYS[3], 1, #KEYS[3] - #':deadlines')
local now = now_ms(tag)
local dispatch = {}
local member = (ARGV[7] == 'scp' and 'scp|' or 'sch|') .. ARGV[1]
local other = (ARGV[7] == 'scp' and 'sch|' or 'scp|') .. ARGV[1]
local mode = ARGV[2]
local exists = rcall('EXISTS', KEYS[1]) == 1

if mode == 'create' then
  if exists then return { -4, now, dispatch, {} } end
  rcall('ZADD', KEYS[2], now, ARGV[1])
elseif not exists then
  return { -1, now, dispatch, {} }
elseif rcall('HGET', KEYS[1], 'ver') ~= ARGV[3] then
  return { -3, now, dispatch, {} }
end

if mode == 'delete' then
  rcall('DEL', KEYS[1])
  rcall('ZREM', KEYS[2], ARGV[1])
  rcall('ZREM', KEYS[3], member, other)
  return { 1, now, dispatch, {}, 0 }
end

local version = rcall('HINCRBY', KEYS[1], 'ver', 1)
if ARGV[4] ~= '' then rcall('HSET', KEYS[1], 'def', ARGV[4]) end
rcall('HSET', KEYS[1], 'st', ARGV[5])

local due = tonumber(ARGV[6])
rcall('ZREM', KEYS[3], other)
if due then
  rcall('ZADD', KEYS[3], due, member)
  -- A wake-up at the due time rounded up to 10 ms (100 ms a second or more ahead), unless one is
  -- armed in between: the granularity of deadlines.lua.
  local g = (due - now >= 1000) and 100 or 10
  local wake = math.ceil(due / g) * g
  if rcall('ZCOUNT', KEYS[4], due, wake) == 0 then
    rcall('ZADD', KEYS[4], wake, wake)
    -- A look at a run leaves no outbox entry: a time-skipping environment would skip to it, and
    -- should its job be lost, the sweep fires the overdue deadline anyway.
    if ARGV[7] ~= 'scp' then rcall('ZADD', KEYS[5], wake, 'wake|' .. wake) end
    dispatch = { 'wake|' .. wake, tostring(wake) }
  end
else
  rcall('ZREM', KEYS[3], member)
end
return { 1, now, dispatch, {}, version }
