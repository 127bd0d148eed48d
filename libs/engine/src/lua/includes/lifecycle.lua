--[[
  The run's lifecycle: closing it (its close event, everything still pending settled, the close
  published), retention and deletion of a closed run, the history limits, and reply(), which
  ends every run script.
]]
--- @include "activity"
--- @include "workflow-task"
--- @include "updates"
--- @include "children"

-- Clears what a closing run still has pending; running attempts are told to stop, since their
-- outcome can no longer be recorded.
local function settle_pending()
  local activities = rcall('HGETALL', K_ACTS)
  for i = 1, #activities, 2 do
    local id, act = activities[i], cjson.decode(activities[i + 1])
    -- A running attempt's worker is told to cancel it.
    if act.std > 0 then rcall('PUBLISH', CHANNEL .. ':worker:' .. act.wkr, RUN_ID .. '|' .. id .. '|' .. act.att) end
    forget_activity(id, act)
  end
  local fields = rcall('HKEYS', K_STATE)
  for _, field in ipairs(fields) do
    -- Per-item fields are "<letter>:<id>": a byte comparison passes over the scalar ones.
    local kind, id
    if string.byte(field, 2) == 58 then kind, id = string.match(field, '^(%a):(%d+)$') end
    if kind == 't' then
      remove_deadline(deadline_member('tmr', id))
    elseif kind == 'c' then
      -- A pending child (children.lua): its parent close policy.
      CHILD.close_child(id)
    end
  end
  if get('wft') == 'scheduled' then outbox_remove(wft_member(get('wtok'), get('wq'))) end
  disarm_wft()
  if get('rdl') == '1' then remove_deadline(deadline_member('run')) end
  -- A run still waiting for its first workflow task (run-start.lua).
  if get('wft') == 'delayed' then
    remove_deadline(deadline_member('bof', 'd'))
    remove_deadline(deadline_member('bof', 'c'))
  end
end

-- Close events up to this size (attributes, bytes) go out with the close notification, so a client
-- waiting for the result needs no read; larger ones are read from history.
local CLOSE_EVENT_INLINE_MAX = 2048

--------------------------------------------------------------------------------------------------
-- Retention: a closed run is deleted `retention` ms after it closes, by a 'ret' deadline. The
-- namespace's retention is copied into every shard's settings hash when a client sets it; a change
-- applies to runs that close afterwards.
--------------------------------------------------------------------------------------------------
local DEFAULT_RETENTION = 259200000 -- 72 h, Temporal CLI's default

local function arm_retention()
  local retention = tonumber(rcall('HGET', K_TAG .. ':settings', 'retention')) or DEFAULT_RETENTION
  add_deadline(deadline_member('ret'), NOW + retention, retention)
end

-- Deletes a closed run: its state, history, buffered events, visibility entries and retention
-- deadline, and the workflow id's entry when it still names this run (a newer run of the id keeps
-- it), so the id can be started again. Nothing of the run is written back afterwards.
local function delete_run()
  remove_deadline(deadline_member('ret'))
  local wtype, tq = get('type'), get('tq')
  -- Messages the run has not delivered yet (x:<id>, messages.lua; a deleted child's close, a
  -- deleted parent's close policy) outlive it: their fields and what their delivery reads of the
  -- run stay, without a status (the run is gone for everything else), until the last one resolves.
  local flat, remnant, messages = rcall('HGETALL', K_STATE), {}, false
  for i = 1, #flat, 2 do
    if string.match(flat[i], '^[xc]:%d+$') then
      remnant[#remnant + 1] = flat[i]
      remnant[#remnant + 1] = flat[i + 1]
      if string.sub(flat[i], 1, 1) == 'x' then messages = true end
    end
  end
  rcall('DEL', K_STATE, K_HIST, K_BUF, K_ACTS)
  if messages then
    for _, field in ipairs({ 'wid', 'type', 'par' }) do
      if get(field) then
        remnant[#remnant + 1] = field
        remnant[#remnant + 1] = get(field)
      end
    end
    rcall('HSET', K_STATE, unpack(remnant))
  end
  for _, index in ipairs({ K_OPEN, K_CLOSED, K_TAG .. ':vis:all', K_TAG .. ':vis:type:' .. (wtype or ''),
      K_TAG .. ':vis:tq:' .. (tq or '') }) do
    rcall('ZREM', index, RUN_ID)
  end
  if rcall('HGET', K_WID, 'run') == RUN_ID then rcall('DEL', K_WID) end
  state, dirty = {}, {}
end

-- Appends the run's close event and settles everything still pending: from here on every task,
-- deadline and completion of this run is a no-op. Publishes "<runId>[|<eventId>|<ms>|<type>|<attributes>]".
-- Arms the run's retention deadline, unless `deleting` (the run is deleted in the same script).
local function close_run(status, etype, attrs, deleting)
  flush_buffer()
  settle_pending()
  settle_updates()
  local id = append(etype, NOW, attrs)
  -- A child closing for good tells its parent (children.lua); its own pending children got their
  -- parent close policy in settle_pending.
  CHILD.notify_parent(id, status, attrs)
  set('status', status)
  set('close', NOW)
  set('wft', '')
  rcall('HSET', K_WID, 'status', status)
  rcall('ZREM', K_OPEN, RUN_ID)
  rcall('ZADD', K_CLOSED, get('start'), RUN_ID)
  if not deleting then arm_retention() end
  local message = RUN_ID
  if #attrs <= CLOSE_EVENT_INLINE_MAX then message = table.concat({ RUN_ID, id, jint(NOW), etype, attrs }, '|') end
  rcall('PUBLISH', CHANNEL .. ':closed', message)
end

-- A history that reached the namespace's limits (events or bytes) stops growing: the run is
-- terminated, as Temporal's server does.
local function enforce_history_limits()
  if not dirty['last'] or not running() then return end
  local reason
  if getn('mxe') > 0 and getn('last') >= getn('mxe') then
    reason = 'Workflow history count exceeds limit.'
  elseif getn('mxb') > 0 and getn('hsz') >= getn('mxb') then
    reason = 'Workflow history size exceeds limit.'
  end
  if reason then
    close_run('TERMINATED', 'WorkflowExecutionTerminated', jobj('reason', jstr(reason), 'details', '[]', 'identity', '"durabull"'))
  end
end

--------------------------------------------------------------------------------------------------
-- A closed run kept for its retention, compacted once when it closes (BENCHMARKS.md, "Memory of a
-- closed run"): its state hash loses the fields only a running run needs (what the closing call
-- changed of them is not written at all), in place while it is a listpack (its values are small:
-- activities have their own hash), else written anew, so that it is a listpack again (a hash that
-- once held a value over hash-max-listpack-value, such as a failure, stays a hash table for good;
-- one too large to rewrite loses them in place); and a small history is copied (COPY, then RENAME
-- over the original), which leaves its stream node at its size (XADD preallocates a node of
-- stream-node-max-bytes, 4 KiB by default, however small the history; a copy allocates each node
-- at its length).
--------------------------------------------------------------------------------------------------
local RUNNING_ONLY = { wfto = true, wtok = true, wsch = true, wstd = true, wst = true, wsct = true, wq = true,
  stto = true, nbuf = true, rdl = true, wsp = true, widn = true, uacc = true, uq = true, mxe = true, mxb = true, wlf = true }
-- Past these the compaction is not worth its copy: a history of several stream nodes wastes at
-- most its last node's slack, and a state hash this large is not a listpack anyway.
local COMPACT_MAX_FIELDS, COMPACT_MAX_HISTORY_BYTES, COMPACT_MAX_EVENTS = 200, 4096, 100

local function compact_closed_run()
  -- Read before the hash changes: the copy of its fields in `state` is not used after it.
  local small_history = getn('last') <= COMPACT_MAX_EVENTS and getn('hsz') <= COMPACT_MAX_HISTORY_BYTES
  local held = state
  state = nil
  if rcall('OBJECT', 'ENCODING', K_STATE) == 'hashtable' and rcall('HLEN', K_STATE) <= COMPACT_MAX_FIELDS then
    local flat, kept = rcall('HGETALL', K_STATE), {}
    for i = 1, #flat, 2 do
      if not RUNNING_ONLY[flat[i]] then
        kept[#kept + 1] = flat[i]
        kept[#kept + 1] = flat[i + 1]
      end
    end
    rcall('DEL', K_STATE)
    rcall('HSET', K_STATE, unpack(kept))
  else
    -- A listpack in place (a ziplist before Redis 7); a hash table too large to rewrite stays one.
    -- Only the fields the run has (`held` was read whole, or by name with false for a missing
    -- one): HDEL searches the listpack for each field it is given, and the AOF keeps them all.
    local fields = {}
    for field in pairs(RUNNING_ONLY) do
      if held[field] then fields[#fields + 1] = field end
    end
    if #fields > 0 then rcall('HDEL', K_STATE, unpack(fields)) end
  end
  if small_history then
    -- pcall: where COPY is not allowed (an ACL, a Redis before 6.2) or memory is full, the history
    -- stays as it was and the close still commits. The copy's key shares the history's hash tag.
    local copy = K_HIST .. ':compact'
    if rpcall('COPY', K_HIST, copy, 'REPLACE') == 1 then rcall('RENAME', copy, K_HIST) end
  end
end

--------------------------------------------------------------------------------------------------
-- The reply: every run script returns reply(code, ...extra), mirrored by parseRunReply in
-- scripts.ts: { code, now, dispatch (descriptor, due, ...), withdraw, ...extra }. It enforces the
-- history limits and writes the state back, so it is the last thing a script does.
--------------------------------------------------------------------------------------------------
local function reply(code, ...)
  enforce_history_limits()
  -- The run closed in this call (delete_run, which deletes it, clears dirty).
  local closed = dirty['close'] and get('status') ~= 'RUNNING'
  -- What changed of the fields the compaction drops is not written first.
  if closed then
    for field in pairs(RUNNING_ONLY) do dirty[field] = nil end
  end
  flush_state()
  if closed then compact_closed_run() end
  -- An empty list goes as false (nil to the caller): Redis converts every table of a reply by
  -- looking up seven special fields in it first (err, ok, double, map, ...).
  return { code, jint(NOW), #DISPATCH > 0 and DISPATCH or false, #WITHDRAW > 0 and WITHDRAW or false, ... }
end
