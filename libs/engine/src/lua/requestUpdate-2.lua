--[[
  A client's update request (updates.lua). A new update id on a running run is admitted: kept as
  u:<updateId>, queued for the next workflow task, and a (speculative) workflow task scheduled
  unless one is pending. An id the run knows (admitted, accepted, completed, aborted) is not
  admitted again: the reply is where it stands, so retries and crashed callers attach to the
  same update. A rejected id is admitted afresh, as Temporal keeps no rejected update.

  KEYS[1..2]  run keys (see includes/run.lua)
  ARGV[1..2]  run id, channel prefix
  ARGV[3]     update id
  ARGV[4]     update name
  ARGV[5]     input (JSON payloads)
  ARGV[6]     identity of the requester

  Returns reply(1, stage, failure, completedEventId) (failure: {"failure": ...} JSON or "",
  completedEventId: 0 when none); E_NOT_FOUND for an unknown run; E_NOT_RUNNING for a closed run
  that does not know the id, or handed it to the run it continued as (stage `moved`: the caller
  sends it there).
]]
--- @include "run"
begin_run(KEYS, ARGV)

local uid, name, input, identity = ARGV[3], ARGV[4], ARGV[5], ARGV[6]
if not get('status') then return reply(E_NOT_FOUND) end
local u = load_update(uid)
if u and u.st == 'moved' then return reply(E_NOT_RUNNING) end
if u and (u.st ~= 'rejected' or not running()) then return reply(1, u.st, u.f or '', jint(u.cev or 0)) end
if not running() then return reply(E_NOT_RUNNING) end

save_update(uid, { st = 'admitted', n = name, i = input, idn = identity })
local ids = admitted_updates()
ids[#ids + 1] = uid
set_admitted_updates(ids)
ensure_update_wft()
return reply(1, 'admitted', '', '0')
