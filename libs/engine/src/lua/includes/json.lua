--[[
  JSON: attributes are assembled from pre-encoded parts, so opaque documents written by the SDK
  (payloads, failures) are spliced in verbatim and never re-encoded by cjson (which would turn
  an empty array into an object).
]]
local function jstr(s) return cjson.encode(s) end
local function jint(n) return string.format('%d', n) end
-- A time (ms) or other integer as text for a Redis argument: a Lua number given to redis.call is
-- formatted as '%.17g', at four times string.format's cost. Most times of a call are its clock's,
-- so the last one formatted is kept.
local jms_n, jms_s
local function jms(n)
  if n ~= jms_n then jms_n, jms_s = n, string.format('%d', n) end
  return jms_s
end
local function jobj(...)
  local n, parts = select('#', ...), {}
  for i = 1, n, 2 do
    local k, v = select(i, ...)
    if v ~= nil and v ~= false then parts[#parts + 1] = '"' .. k .. '":' .. v end
  end
  return '{' .. table.concat(parts, ',') .. '}'
end
