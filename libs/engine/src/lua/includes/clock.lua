-- The engine's clocks, from Redis server time in ms: the one clock every deadline is measured on,
-- whatever the workers' clocks say.
--   real_ms()      Redis server time (what worker liveness and locks are measured on)
--   now_ms(tag)    the namespace's time: Redis server time plus the offset in the shard's settings
--                  hash (`<tag>:settings` field `clock`, 0 unless a time-skipping test environment
--                  moved the namespace's clock forward); every event time and deadline uses it
--- @include "globals"
local function real_ms()
  local t = rcall('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end

local function now_ms(tag)
  local real = real_ms()
  return real + (tonumber(rcall('HGET', tag .. ':settings', 'clock')) or 0), real
end
