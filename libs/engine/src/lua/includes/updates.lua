--[[
  Updates (Temporal's workflow updates): a request admitted on a running run is kept in the run
  state as u:<updateId> (see the legend in state.lua) and its id is queued in the scalar field
  `uq` (a JSON array, '' or absent when none) until a workflow task accepts or rejects it. Every
  workflow task start hands the queued requests to the worker (startWorkflowTask), so a task that
  fails, times out or dies re-delivers them. A stage change is published on "<channel prefix>:updates" as
  "<runId>|<updateId>": the client then reads u:<updateId>.

  Stages of u:<id>.st:
    admitted  queued, not yet accepted or rejected by a workflow task
    accepted  WorkflowExecutionUpdateAccepted written (acc: its event id)
    completed WorkflowExecutionUpdateCompleted written (cev: its event id), or, for an update still
              accepted when the run closed, f: the AcceptedUpdateCompletedWorkflow failure
    rejected  the validator (or the lookup of a handler) refused it: no event, f: the failure;
              a new request with the same id is admitted again (Temporal keeps rejections nowhere)
    aborted   the run closed before any workflow task saw it
    moved     the run continued as new before any workflow task saw it: the new run (field `to`)
              admitted it (run-start.lua), and a request sent again here is refused so that the
              caller sends it there

  A workflow task scheduled only to deliver updates is speculative (field wsp): its
  WorkflowTaskScheduled/Started events are written only when it completes with something to
  record, fails or times out (materialize_wft); one that only rejected updates leaves no event.
]]
--- @include "state"
--- @include "json"
--- @include "history"
--- @include "workflow-task"

local function load_update(uid)
  local raw = rcall('HGET', K_STATE, 'u:' .. uid)
  if not raw then return nil end
  return cjson.decode(raw)
end
local function save_update(uid, u)
  rcall('HSET', K_STATE, 'u:' .. uid, cjson.encode(u))
  rcall('PUBLISH', CHANNEL .. ':updates', RUN_ID .. '|' .. uid)
end

-- The ids of admitted updates no workflow task has accepted or rejected yet, in admission order.
-- A scalar field (read with the state): most runs never have an update, and checking for them
-- costs no command.
local function admitted_updates()
  local raw = get('uq')
  if not raw or raw == '' then return {} end
  return cjson.decode(raw)
end
local function set_admitted_updates(ids)
  -- cjson encodes an empty table as an object: an empty queue is ''.
  set('uq', #ids == 0 and '' or cjson.encode(ids))
end
local function dequeue_update(uid)
  local ids, left = admitted_updates(), {}
  for _, id in ipairs(ids) do
    if id ~= uid then left[#left + 1] = id end
  end
  if #left ~= #ids then set_admitted_updates(left) end
end

-- Schedules a speculative workflow task for the admitted updates when the run has none pending.
local function ensure_update_wft()
  if running() and (get('wft') == '' or not get('wft')) and (get('uq') or '') ~= '' then
    schedule_wft(1, 0, nil, true)
  end
end

-- The run closes: admitted updates are aborted, accepted ones fail with Temporal's
-- AcceptedUpdateCompletedWorkflow failure (their caller gets WorkflowUpdateFailedError).
local ACCEPTED_UPDATE_COMPLETED_WORKFLOW = '{"failure":{"message":"Workflow Update failed because the Workflow completed before the Update completed.",' ..
  '"source":"Durabull","applicationFailureInfo":{"type":"AcceptedUpdateCompletedWorkflow","nonRetryable":true}}}'
local function settle_updates()
  local admitted = admitted_updates()
  for _, uid in ipairs(admitted) do
    local u = load_update(uid)
    if u then
      u.st, u.i = 'aborted', nil
      save_update(uid, u)
    end
  end
  if #admitted > 0 then set_admitted_updates({}) end
  if getn('uacc') == 0 then return end
  set('uacc', 0)
  local fields = rcall('HKEYS', K_STATE)
  for _, field in ipairs(fields) do
    if string.sub(field, 1, 2) == 'u:' then
      local uid = string.sub(field, 3)
      local u = load_update(uid)
      if u.st == 'accepted' then
        u.st, u.f = 'completed', ACCEPTED_UPDATE_COMPLETED_WORKFLOW
        save_update(uid, u)
      end
    end
  end
end

-- The admitted updates a workflow task delivers: id, name, input, identity of each, in order.
local function update_requests()
  local out = {}
  for _, uid in ipairs(admitted_updates()) do
    local u = load_update(uid)
    out[#out + 1] = uid
    out[#out + 1] = u.n
    out[#out + 1] = u.i
    out[#out + 1] = u.idn or ''
  end
  return out
end

-- A workflow task's decision on an admitted update: accepted (its WorkflowExecutionUpdateAccepted
-- is event `id`), completed (WorkflowExecutionUpdateCompleted is event `id`), or rejected (no
-- event; `outcome` is {"failure": ...} JSON).
local function accept_update(uid, id)
  local u = load_update(uid)
  if not u then return end
  u.st, u.acc, u.i = 'accepted', id, nil
  save_update(uid, u)
  dequeue_update(uid)
  set('uacc', getn('uacc') + 1)
end
local function complete_update(uid, id)
  local u = load_update(uid)
  if not u or u.st ~= 'accepted' then return end
  u.st, u.cev = 'completed', id
  save_update(uid, u)
  set('uacc', math.max(getn('uacc') - 1, 0))
end
local function reject_update(uid, outcome)
  local u = load_update(uid)
  if not u or u.st ~= 'admitted' then return end
  u.st, u.f, u.i = 'rejected', outcome, nil
  save_update(uid, u)
  dequeue_update(uid)
end
