--[[
  Deadlines: one shard-wide zset (K_DEADLINES, member -> due ms); a BullMQ delayed "wake" job per
  armed time (K_WAKES) runs the shard's due deadlines. Wake times are rounded up to a granularity
  that grows with the timeout, so thousands of deadlines share a few wake jobs; a 200 ms timeout
  still fires within ~10 ms. Members are "<kind>|<a>|<b>|<runId>|<workflowId>"; the kinds are
  listed in fireDeadline-2.lua, which fires them. A schedule's next fire time is the member
  "sch|<scheduleId>", or "scp|<scheduleId>" while it only looks again at a run it waits for
  (commitSchedule-5.lua writes them; schedules.ts fires them).
]]
--- @include "outbox"

local function granularity(span)
  if span >= 10000 then return 1000 elseif span >= 1000 then return 100 end
  return 10
end
local function arm_wake(due, span)
  local g = granularity(span)
  local at = math.ceil(due / g) * g
  local at_text = jint(at)
  if rcall('ZCOUNT', K_WAKES, jms(due), at_text) == 0 then
    rcall('ZADD', K_WAKES, at_text, at_text)
    outbox_add('wake|' .. at_text, at)
  end
end
-- (A number concatenated is formatted as a float, `%.14g`: jint is 3 times as fast.)
local function deadline_part(x) return type(x) == 'number' and jint(x) or x or '' end
local function deadline_member(kind, a, b)
  return kind .. '|' .. deadline_part(a) .. '|' .. deadline_part(b) .. '|' .. RUN_ID .. '|' .. get('wid')
end
local function add_deadline(member, due, span)
  rcall('ZADD', K_DEADLINES, jms(due), member)
  arm_wake(due, span)
end
local function remove_deadline(member) rcall('ZREM', K_DEADLINES, member) end
