--[[
  JSON: attributes are assembled from pre-encoded parts, so opaque documents written by the SDK
  (payloads, failures) are spliced in verbatim and never re-encoded by cjson (which would turn
  an empty array into an object).
]]
local function jstr(s) return cjson.encode(s) end
local function jint(n) return string.format('%d', n) end
local function jobj(...)
  local n, parts = select('#', ...), {}
  for i = 1, n, 2 do
    local k, v = select(i, ...)
    if v ~= nil and v ~= false then parts[#parts + 1] = '"' .. k .. '":' .. v end
  end
  return '{' .. table.concat(parts, ',') .. '}'
end
