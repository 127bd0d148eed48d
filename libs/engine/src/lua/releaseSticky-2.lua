--[[
  A worker that shuts down gives up the runs it cached: their next workflow task goes to the task
  queue, and one already waiting on the worker's sticky queue moves there now rather than after
  the sticky schedule-to-start timeout.

  KEYS[1..2]  run keys (see includes/run.lua)
  ARGV[1..2]  run id, channel prefix
  ARGV[3]     worker id
]]
--- @include "run"
begin_run(KEYS, ARGV)

if not get('status') or not running() or get('sticky') ~= ARGV[3] then return reply(0) end
if get('wft') == 'scheduled' and get('wq') == '@' .. ARGV[3] then
  unstick_wft()
else
  set('sticky', '')
end
return reply(1)
