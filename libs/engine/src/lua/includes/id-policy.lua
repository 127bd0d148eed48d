--[[
  Workflow id policies (TEMPORAL-SEMANTICS §19): what a start does when its workflow id already
  has a run (KEYS[2], the workflow id hash: its current run and that run's status). The reuse
  policy governs a closed run, the conflict policy a running one; two runs of one id never run at
  once. The client checks the policies and their combination before it calls (id-policy.ts).
]]
--- @include "lifecycle"

-- Closed statuses after which ALLOW_DUPLICATE_FAILED_ONLY lets the id start again.
local CLOSED_UNSUCCESSFULLY = { FAILED = true, CANCELED = true, TERMINATED = true, TIMED_OUT = true }

-- Terminates another run of the call's workflow id (the same shard, so the same slot: its keys
-- are built on the shard prefix) as terminateWorkflow does, then points the call back at its own
-- run. What was set for the call's run before is written first.
local function terminate_other_run(run_id, attrs)
  local own, needed = RUN_ID, WFT_NEEDED
  use_run(run_id)
  close_run('TERMINATED', 'WorkflowExecutionTerminated', attrs)
  use_run(own)
  WFT_NEEDED = needed
end

-- Decides a start of the call's run (RUN_ID) against the workflow id's current run:
--   'start'                 no run holds the id, or the reuse policy lets it start again, or the
--                           running run was terminated (TERMINATE_EXISTING; details: its
--                           WorkflowExecutionTerminated details, JSON payloads, and identity)
--   'started'               the id's current run is this very run: a start sent again
--   'existing', run id      a run is running and the conflict policy is USE_EXISTING
--   'refused', run id, status  conflict FAIL against a running run, or the reuse policy
--                           (REJECT_DUPLICATE, ALLOW_DUPLICATE_FAILED_ONLY) against a closed one
-- Policies are the WorkflowIdReusePolicy / WorkflowIdConflictPolicy names; '' is the default
-- (ALLOW_DUPLICATE, FAIL).
local function resolve_workflow_id(reuse, conflict, details, identity)
  local current = rcall('HMGET', K_WID, 'run', 'status')
  local run_id, status = current[1], current[2]
  if not run_id then return 'start' end
  if run_id == RUN_ID then return 'started' end
  if status == 'RUNNING' then
    if conflict == 'USE_EXISTING' then return 'existing', run_id end
    if conflict == 'TERMINATE_EXISTING' then
      terminate_other_run(run_id, jobj('reason', '"TerminateIfRunning WorkflowIdReusePolicy"', 'details', details ~= '' and details or '[]',
        'identity', jstr(identity)))
      return 'start'
    end
    return 'refused', run_id, status
  end
  if reuse == 'REJECT_DUPLICATE' or (reuse == 'ALLOW_DUPLICATE_FAILED_ONLY' and not CLOSED_UNSUCCESSFULLY[status]) then
    return 'refused', run_id, status
  end
  return 'start'
end
