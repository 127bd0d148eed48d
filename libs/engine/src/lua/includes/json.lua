--[[
  JSON: attributes are assembled from pre-encoded parts, so opaque documents written by the SDK
  (payloads, failures) are spliced in verbatim and never re-encoded by cjson (which would turn
  an empty array into an object).
]]
--- @include "globals"
local function jstr(s) return cjson.encode(s) end
-- Integers as text through string.format('%d') cost about 1,300 instructions each (vfprintf); the
-- small ones a run writes again and again (event ids, attempts, tokens, history sizes) are kept
-- once formatted. Loaded as a function library the cache outlives a call, so it is bounded.
local INT_TEXT_MAX = 10000
local int_text = {}
local function jint(n)
  local s = int_text[n]
  if s then return s end
  s = string.format('%d', n)
  if type(n) == 'number' and n >= 0 and n < INT_TEXT_MAX then int_text[n] = s end
  return s
end
-- A time (ms) or other integer as text for a Redis argument: a Lua number given to redis.call is
-- formatted as '%.17g', at four times string.format's cost. Most times of a call are its clock's,
-- so the last one formatted is kept.
local jms_n, jms_s
local function jms(n)
  if n ~= jms_n then jms_n, jms_s = n, string.format('%d', n) end
  return jms_s
end
-- The parts are written over the argument table itself (part m comes from arguments 2m-1 and 2m
-- or later, read before): no second table, none grown key by key.
local function jobj(...)
  local a, m = { ... }, 0
  for i = 1, select('#', ...), 2 do
    local v = a[i + 1]
    if v ~= nil and v ~= false then
      m = m + 1
      a[m] = '"' .. a[i] .. '":' .. v
    end
  end
  return '{' .. table.concat(a, ',', 1, m) .. '}'
end
