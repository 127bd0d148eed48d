--[[
  Starts a workflow run: WorkflowExecutionStarted, then its first WorkflowTaskScheduled.

  KEYS[1..2]  run keys (see includes/run.lua); the visibility indexes of the run's workflow type
              and task queue are built on the shard's prefix (run-start.lua)
  ARGV[1..2]  run id, channel prefix
  ARGV[3]     workflow id
  ARGV[4]     workflow type
  ARGV[5]     task queue
  ARGV[6]     WorkflowExecutionStarted attributes, stored form (history-encoding.ts
              encodeAttributes); ARGV[24] the length of their JSON in bytes
  ARGV[7]     workflow task timeout (ms)
  ARGV[8]     run timeout (ms, 0 = none)
  ARGV[9]     history event limit (0 = none): the run is terminated when its history reaches it
  ARGV[10]    history size limit in bytes (0 = none), likewise
  ARGV[11]    signal-with-start: the start signal's WorkflowExecutionSignaled attributes (JSON), or ''
  ARGV[12]    id reuse policy (WorkflowIdReusePolicy), '' for ALLOW_DUPLICATE
  ARGV[13]    id conflict policy (WorkflowIdConflictPolicy), '' for FAIL
  ARGV[14]    TERMINATE_EXISTING: the terminated run's WorkflowExecutionTerminated details (JSON
              payloads: "terminated by new runID: <run id>")
  ARGV[15]    identity of the starter (recorded on that termination)
  ARGV[16]    a child's parent, JSON { workflowId, runId, initiatedEventId } (state field `par`), or ''
  ARGV[17]    the workflow's retry policy, JSON { ii, bc, mi, ma, nr } (includes/run-start.lua), or ''
  ARGV[18]    cron schedule as given, or ''; ARGV[19] its compiled form (JSON, cron.ts)
  ARGV[20]    start delay (ms, 0 = none): the first workflow task waits that long
  ARGV[21]    execution timeout (ms, 0 = none): every run of the chain ends by then
  ARGV[22]    the chain's template (WorkflowExecutionStarted attributes without the chain fields:
              see run-start.lua), given with a retry policy or a cron schedule
  ARGV[23]    the task queue's first-task list (NamespaceKeys.firstTasks), given on a single Redis
              only (the list is on this server), else ''
  A cron run's first workflow task waits for the schedule's first time. Signal-with-start to a run
  still in its start delay ends the delay (Temporal's SignalWithStart skips it).

  The id policies decide first (includes/id-policy.lua): a running run of the workflow id is
  kept (USE_EXISTING: reply(1, <its run id>)), terminated (TERMINATE_EXISTING, then the start goes
  on) or refused (FAIL); a closed one is followed unless the reuse policy refuses. A refused
  start is E_ALREADY_STARTED with the id's current run id and its status. A start sent again
  (the id's current run is this run id) is reply(1) and writes nothing.

  Returns reply(1, '', history) for a new run whose first workflow task is scheduled now, history
  being its events so far (XRANGE entries, for the task's job: completeWorkflowTask) when they
  are small; with ARGV[23] the script pushes the task itself, as its job's data, onto the task
  queue's first-task list, where workers take it without a BullMQ job, and returns reply(1).
  Otherwise reply(1), or E_ALREADY_STARTED with the running run's id. With a start
  signal, a running run of the workflow id is signalled instead (conflict policy USE_EXISTING, as
  Temporal's signal-with-start): reply(1, <its run id>); a new run's history begins
  WorkflowExecutionStarted, WorkflowExecutionSignaled, WorkflowTaskScheduled.
]]
--- @include "run"
--- @include "signals"
--- @include "id-policy"
--- @include "run-start"
begin_run(KEYS, ARGV)
-- The history a first task carries at most (bytes of attributes): a large input stays out of the
-- task, which is then started by startWorkflowTask.
local FIRST_TASK_HISTORY_MAX = 16384
local startSignal = ARGV[11] or ''
local firstTasks = ARGV[23] or ''

local workflowId, workflowType, taskQueue, attrs = ARGV[3], ARGV[4], ARGV[5], ARGV[6]
local taskTimeout, runTimeout = tonumber(ARGV[7]), tonumber(ARGV[8])

-- This very run exists already (a start delivered again: a child's, after a crash).
if get('status') then return reply(1) end
local action, current, status = resolve_workflow_id(ARGV[12] or '', ARGV[13] or '', ARGV[14] or '', ARGV[15] or '')
if action == 'started' then return reply(1) end
if action == 'refused' then return reply(E_ALREADY_STARTED, current, status) end
if action == 'existing' then
  if startSignal ~= '' then
    use_run(current)
    signal_run(startSignal)
    if RUNS.in_start_delay() then RUNS.end_backoff('d') end
  end
  return reply(1, current)
end

local retryPolicy, cron, crn, executionTimeout = ARGV[17] or '', ARGV[18] or '', ARGV[19] or '', tonumber(ARGV[21] or '0') or 0
local backoff = tonumber(ARGV[20] or '0') or 0
if crn ~= '' then backoff = RUNS.cron_next(cjson.decode(crn), NOW) - NOW end
-- The run's first events, kept as they are appended for the first task (history.lua).
APPENDED = {}
RUNS.create_run({ wid = workflowId, type = workflowType, tq = taskQueue, attrs = attrs, bytes = tonumber(ARGV[24]), wfto = taskTimeout, rto = runTimeout,
  mxe = tonumber(ARGV[9]), mxb = tonumber(ARGV[10]), signal = startSignal, backoff = backoff, delayKind = crn ~= '' and 'c' or 'd',
  chain = { frst = RUN_ID, exp = executionTimeout > 0 and jint(NOW + executionTimeout) or nil, rto = jint(runTimeout),
    wrp = retryPolicy, cron = cron, crn = crn, ctpl = ARGV[22] or '', par = ARGV[16] or '' } })
if get('wft') ~= 'scheduled' then return reply(1) end
local history = getn('hsz') <= FIRST_TASK_HISTORY_MAX and APPENDED or nil
if firstTasks == '' then return history and reply(1, '', history) or reply(1) end
-- The task as its job's data (tasks.ts jobSpec, WorkflowTaskJobData). Its outbox descriptor stays
-- until the task is taken: a sweep dispatches it as a job if a worker took it off the list and
-- died (Dispatcher.recover).
local tok = get('wtok')
rcall('RPUSH', firstTasks, jobj('runId', jstr(RUN_ID), 'workflowId', jstr(workflowId), 'token', jstr(tostring(tok)),
  'queue', jstr(taskQueue), 'history', history and cjson.encode(history)))
outbox_queued(wft_member(tok, taskQueue))
return reply(1)
