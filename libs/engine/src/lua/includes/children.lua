--[[
  Child workflows (TEMPORAL-SEMANTICS §13), over the messages between runs (messages.lua): the
  parent and the child usually live on different shards, so every hand-over between them is a
  message, delivered by any worker (engine.deliverMessage) and resolved on its sender.

  On the parent (per-item field c:<initiatedEventId>, JSON { wid, type, pcp, rid }):
    1. StartChildWorkflowExecutionInitiated commits the pending child (rid unset) and the message
       'start' (x:<initiatedEventId>);
    2. delivery starts the child run (startWorkflow) with a run id derived from the parent's run id
       and the initiated event id, so a repeated delivery starts nothing new; the child's state
       holds `par` (its parent), its WorkflowExecutionStarted names the parent;
    3. resolve_child_start records ChildWorkflowExecutionStarted (rid set) or
       StartChildWorkflowExecutionFailed (the id is taken: c: removed).
  On the child, close_run calls notify_parent when the run closes for good (not when it continues
  as new: its chain's last run reports): the message 'parent' (x:<closeEventId>), whose delivery
  records the child's close on the parent (recordChildClosed: c: removed) and resolves on the child.
  When the parent closes, close_child applies each pending child's parent close policy: a
  message 'terminate' or 'cancelchild' (x:<initiatedEventId>, the start's message long resolved)
  that delivery applies to the child's chain and resolves on the parent (c: removed).

  The child's close events name their ChildWorkflowExecutionStarted event id, which is not known
  while that event is buffered (a workflow task runs): record_noted notes an event's id in a state
  field once appended (cs:<initiatedEventId>), and record_child_closed's attributes take it then.
]]
--- @include "messages"
--- @include "history"

-- One table, not one local per function: the library's single chunk allows 200 locals.
local CHILD = {}

-- Records an event (buffered while a workflow task runs, as record does). `note`: a state field
-- that receives the event's id once appended; `ref`: a state field whose value becomes the
-- attributes' startedEventId once appended (the field is set by then: events append in order),
-- and is removed then.
function CHILD.record_noted(etype, attrs, note, ref)
  if get('wft') == 'started' then
    rcall('RPUSH', K_BUF, cjson.encode({ t = etype, ts = NOW, a = attrs, l = 0, n = note, r = ref }))
    set('nbuf', getn('nbuf') + 1)
  else
    if ref then attrs = '{"startedEventId":' .. (rcall('HGET', K_STATE, ref) or '0') .. ',' .. string.sub(attrs, 2) end
    local id = append(etype, NOW, attrs)
    if note then rcall('HSET', K_STATE, note, id) end
    -- The field a close event read is of no further use.
    if ref then rcall('HDEL', K_STATE, ref) end
    WFT_NEEDED = true
  end
end

function CHILD.load_child(id)
  local raw = rcall('HGET', K_STATE, 'c:' .. id)
  return raw and cjson.decode(raw) or nil
end
function CHILD.save_child(id, child) rcall('HSET', K_STATE, 'c:' .. id, cjson.encode(child)) end

-- StartChildWorkflowExecutionInitiated (event `id`): meta { wid, type, pcp }.
function CHILD.initiate_child(id, meta)
  CHILD.save_child(id, { wid = meta.wid, type = meta.type, pcp = meta.pcp })
  send_message(id, 'start')
end

-- Commits the parent close policy's message to a started child (see close_child).
function CHILD.apply_policy(id, child)
  rcall('HSET', K_STATE, 'x:' .. id, child.pcp == 'REQUEST_CANCEL' and 'cancelchild' or 'terminate')
  outbox_add(msg_member(id), NOW)
end

-- The parent closes (any close, continue-as-new included; settle_pending, lifecycle.lua, calls it
-- for each c:<id>): the pending child gets its parent close policy. An ABANDON child is forgotten;
-- a child whose start is still in flight keeps its entry: resolve_child_start applies the policy
-- if the start happens anyway.
function CHILD.close_child(id)
  local child = CHILD.load_child(id)
  if child.pcp == 'ABANDON' then
    rcall('HDEL', K_STATE, 'c:' .. id)
  elseif child.rid then
    CHILD.apply_policy(id, child)
  end
end

-- Step 3 of a child's start, on the parent: outcome 'started' (target: the child run), 'exists'
-- (the id is taken) or 'skipped' (the parent had closed: nothing started). `attrs`: the
-- attributes (JSON) of the event to record, ChildWorkflowExecutionStarted or
-- StartChildWorkflowExecutionFailed. Returns true when it committed a policy message to the
-- child (a parent that closed before the child started).
function CHILD.resolve_child_start(id, outcome, target, attrs)
  local child = CHILD.load_child(id)
  if not child or child.rid then return false end
  if outcome ~= 'started' then
    rcall('HDEL', K_STATE, 'c:' .. id)
    if outcome == 'exists' and running() then
      record('StartChildWorkflowExecutionFailed', attrs, NOW, false)
    end
    return false
  end
  child.rid = cjson.decode(target).runId
  CHILD.save_child(id, child)
  if running() then
    CHILD.record_noted('ChildWorkflowExecutionStarted', attrs, 'cs:' .. id)
    return false
  end
  -- The parent closed while the child started: its policy applies now.
  if child.pcp == 'ABANDON' then
    rcall('HDEL', K_STATE, 'c:' .. id)
    return false
  end
  CHILD.apply_policy(id, child)
  return true
end

-- A child closed for good (recordChildClosed, on the parent): its close event, after its
-- ChildWorkflowExecutionStarted when the start was not resolved yet.
function CHILD.record_child_closed(id, etype, attrs, started_attrs, child_run_id)
  local child = CHILD.load_child(id)
  if not child or not running() then return false end
  if not child.rid then
    child.rid = child_run_id
    CHILD.record_noted('ChildWorkflowExecutionStarted', started_attrs, 'cs:' .. id)
  end
  rcall('HDEL', K_STATE, 'c:' .. id)
  CHILD.record_noted(etype, attrs, nil, 'cs:' .. id)
  return true
end

-- A run that closes for good tells its parent, if it has one (`par`). A run that continues as new
-- (or is retried: its close names the next run) does not: the last run of its chain does.
function CHILD.notify_parent(close_id, status, attrs)
  if not get('par') or get('par') == '' then return end
  if status == 'CONTINUED_AS_NEW' or string.find(attrs, '"newExecutionRunId":"[^"]') then return end
  send_message(close_id, 'parent')
end
