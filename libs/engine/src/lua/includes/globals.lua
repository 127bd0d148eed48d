--[[
  The globals the scripts call, as locals of the library. In a function library a global is
  looked up in an empty table and then, through its metatable's __index, in the real globals: two
  table lookups and a metamethod each time, where a local (an upvalue of the functions using it)
  is one array access. A library is loaded where only redis.register_function is reachable, so
  they are bound when a call begins: scripts.ts puts bind_globals() before every script's body.
  redis.call and redis.pcall are rcall and rpcall.
]]
local rcall, rpcall, cjson, string, table, math
local type, tonumber, tostring, pairs, ipairs, unpack, select
local function bind_globals()
  if rcall then return end
  local G = _G
  rcall, rpcall, cjson, string, table, math = G.redis.call, G.redis.pcall, G.cjson, G.string, G.table, G.math
  type, tonumber, tostring, pairs, ipairs, unpack, select = G.type, G.tonumber, G.tostring, G.pairs, G.ipairs, G.unpack, G.select
end
