--[[
  The call and the run's state: the keys and arguments begin_run binds (their layout is in
  run.lua), the reply codes, and the run state hash (KEYS[1]) with its legend.

  Legend: every field of the run state hash.

  Scalar fields (FIELDS below; read through get/getn/set, numbers stored as decimal strings):
    status  RUNNING, or how the run closed: COMPLETED | FAILED | CANCELED | TERMINATED | TIMED_OUT |
            CONTINUED_AS_NEW
    last    id of the last history event (the fence a workflow task's completion must match)
    wid     workflow id                          type    workflow type
    tq      the run's task queue                 start   start time (ms)
    close   close time (ms), once closed
    wfto    workflow task start-to-close timeout (ms)
    wft     the workflow task: '' none | 'scheduled' (queued) | 'started' (a worker runs it) |
            'delayed' (the run's first task waits for its backoff: run-start.lua)
    wtok    its token: a counter, one more for every task scheduled; jobs and completions carry it
    watt    its attempt (attempts after the first are transient: no events until one completes)
    wsch    its WorkflowTaskScheduled event id (0 for a transient attempt)
    wstd    its WorkflowTaskStarted event id (0 until started, and for a transient attempt)
    wst     when it started (ms): the timestamp of a transient attempt's WorkflowTaskStarted
    wsct    when it became due (ms): a transient attempt's WorkflowTaskScheduled timestamp, and
            the start of its schedule-to-start latency
    wq      the queue it was routed to: the task queue, or "@<workerId>" (a sticky queue)
    sticky  worker id whose sticky queue takes the next task, '' for the task queue
    stto    sticky schedule-to-start timeout (ms)
    creq    1 once cancellation of the run was requested (a request is a state: recorded once)
    nbuf    number of events buffered in K_BUF while a workflow task runs
    rdl     '1' when a run timeout deadline ('run') is armed
    hsz     history size: bytes of event attributes appended so far
    mxe     history event limit, 0 for none (the run is terminated on reaching it)
    mxb     history size limit in bytes, 0 for none (likewise)
    wsp     0, or for a speculative workflow task (one scheduled only to deliver updates, whose
            Scheduled/Started events are held back: updates.lua) the last event id when it was
            scheduled
    widn    identity of the worker that started a speculative task (for its held-back Started)
    uacc    number of updates accepted and not completed (settled when the run closes)
    wlf     the last failure of the workflow task in progress, JSON { cause, failure } ('' once a
            task completes): what describe() shows of a task that keeps failing

    uq      ids of the admitted updates no workflow task accepted or rejected yet, JSON array in
            admission order; '' or absent when none
    par     a child run's parent, JSON { workflowId, runId, initiatedEventId } (children.lua);
            copied to the next run of its chain (continue-as-new, retry, cron), whose last run
            reports the close to the parent. Absent for a run without a parent

  Per-item fields (read and written directly, one field each):
    x:<initiatedEventId>  a message this run sent to another run and has not resolved yet: 'signal'
                          or 'cancel' (includes/messages.lua); what and to whom is in that event.
                          Children (children.lua): 'start' (a child to start), 'terminate' or
                          'cancelchild' (the parent close policy, for child c:<id>), and on a
                          child's last run 'parent' (x:<closeEventId>: its close, for its parent)
    c:<initiatedEventId>  a pending child (children.lua), JSON { wid, type, pcp (parent close
                          policy), rid (its run id, once started) }; gone once its close is recorded
    cs:<initiatedEventId> the child's ChildWorkflowExecutionStarted event id, until its close event
                          (which names it) is appended
    t:<timerStartedEventId>  a pending timer: its timer id (load_timer / save_timer); gone once it
                          fires or is cancelled
    r:<requestId>         '1' for each signal request id recorded (signals.lua): a request sent
                          again is not recorded twice; kept until the run is deleted
    u:<updateId>          an update of this run, JSON (load_update / save_update, updates.lua),
                          kept until the run is deleted (update ids are deduplicated per run):
      st                  stage: admitted | accepted | completed | rejected | aborted | moved
                          (to: the run it moved to when its run continued as new: run-start.lua)
      n, i, idn           update name, input (payloads JSON, dropped once accepted), identity
      acc                 WorkflowExecutionUpdateAccepted event id (accepted, completed)
      cev                 WorkflowExecutionUpdateCompleted event id (completed)
      f                   {"failure": ...} JSON when rejected, or completed without an event
                          (still accepted when the run closed)

  The run's pending activities: hash K_ACTS, `<tag>:acts:<runId>` (beside the state hash, so that
  the state hash keeps small values and stays a listpack: BENCHMARKS.md, "Memory of a closed run"),
  one field per activity, by its ActivityTaskScheduled event id, JSON (load_activity /
  save_activity); gone once it closes, and the whole hash when the run closes (Redis drops an
  empty hash). The engine's ActivityState (engine.ts) is read from it:
    id, type, tq        activity id, activity type, task queue
    att                 current attempt
    sch, asch           first schedule time, this attempt's schedule time (after its backoff) (ms)
    std                 this attempt's start time (ms), 0 while not started
    s2c, s2s, stc, hb   schedule-to-close, schedule-to-start, start-to-close, heartbeat timeouts
                        (ms, 0 = none)
    rp                  retry policy: ii initial interval (ms), bc backoff coefficient, mi maximum
                        interval (ms), ma maximum attempts (0 = unlimited), nr non-retryable types
    creq                ActivityTaskCancelRequested event id, 0 while none
    idn, wkr            identity and worker id running the attempt (unset while queued)
    lhb, hbd            time (ms) and details (JSON payloads) of the latest heartbeat, of this or
                        an earlier attempt (a failure's final details count as one); unset until
                        one (describe's lastHeartbeatTime, heartbeatDetails)
    lf                  the previous attempt's failure (JSON), the next attempt's lastFailure
    dl                  deadlines armed for it: { s2c, s2s, stc, hb } = 1 (see activity.lua)

  Other hashes the scripts use:
    KEYS[2] (workflow id)   run (the id's current run id), status (that run's status)
    K_TAG..':settings'      retention (ms a closed run is kept), copied from the namespace meta
    K_TAG..':workers'       <workerId> -> liveness expiry (ms), written by sweepShard
]]
--- @include "clock"
--- @include "json"

-- The call's keys, arguments and clock, set by begin_run. Loaded as a function library these
-- locals outlive a call, so every per-call value lives here and begin_run resets it.
local K_STATE, K_HIST, K_BUF, K_OUTBOX, K_DEADLINES, K_WAKES, K_WID, K_OPEN, K_CLOSED
-- The run's pending activities (legend above).
local K_ACTS
-- The shard's key prefix "P:{ns:s}" (hash tag included), taken from the run state key: every key
-- but the two declared ones is built on it (run.lua), in the script's slot.
local K_TAG
-- NOW is the namespace's time (every event time and deadline), REAL_NOW Redis server time (worker
-- liveness): they differ only when a time-skipping test environment moved the clock (clock.lua).
local RUN_ID, CHANNEL, NOW, REAL_NOW
-- state: the scalar fields read (nil until first use); dirty: those set since; DISPATCH and
-- WITHDRAW: the reply's outbox descriptors (outbox.lua); WFT_NEEDED: an event was appended that
-- the workflow must see (ensure_wft, workflow-task.lua); APPENDED: nil, or the entries appended
-- (history.lua).
local state, dirty, DISPATCH, WITHDRAW, WFT_NEEDED, APPENDED
-- numeric: the fields of state holding a number (set, not formatted yet); parsed: numbers read
-- from the state's text by getn, by that text; state_whole: the hash was read whole (HGETALL), so
-- a field state lacks, the hash lacks too.
local numeric, parsed, state_whole

-- Points the run keys at a run of the call's shard (keys.ts lays them out).
local function bind_run_keys(run_id)
  RUN_ID = run_id
  K_STATE, K_HIST = K_TAG .. ':run:' .. run_id, K_TAG .. ':hist:' .. run_id
  K_BUF, K_ACTS = K_TAG .. ':buf:' .. run_id, K_TAG .. ':acts:' .. run_id
end

local function begin_run(KEYS, ARGV)
  CHANNEL, K_WID = ARGV[2], KEYS[2]
  -- KEYS[1] is K_TAG .. ':run:' .. ARGV[1]; every other key is built on K_TAG (run.lua).
  K_TAG = string.sub(KEYS[1], 1, #KEYS[1] - #ARGV[1] - #':run:')
  bind_run_keys(ARGV[1])
  K_OUTBOX, K_DEADLINES, K_WAKES = K_TAG .. ':outbox', K_TAG .. ':deadlines', K_TAG .. ':wakes'
  K_OPEN, K_CLOSED = K_TAG .. ':vis:open', K_TAG .. ':vis:closed'
  NOW, REAL_NOW = now_ms(K_TAG)
  state, dirty, DISPATCH, WITHDRAW, WFT_NEEDED, APPENDED, parsed = nil, {}, {}, {}, false, nil, {}
end

-- Reply codes below zero, mirrored by ReplyCode in scripts.ts.
local E_NOT_FOUND, E_NOT_RUNNING, E_STALE, E_ALREADY_STARTED, E_UNHANDLED_COMMAND, E_EARLY = -1, -2, -3, -4, -5, -6
-- A workflow task completion named a command type completeWorkflowTask does not know.
local E_UNKNOWN_COMMAND = -7

--------------------------------------------------------------------------------------------------
-- Scalar fields
--------------------------------------------------------------------------------------------------
-- The run's scalar fields are read on first use (load_state: HLEN, then HGETALL or HMGET) and
-- written back with one HSET when the script replies: a transition costs the same few hash
-- commands however many fields it touches. FIELDS lists every scalar field of the legend above:
-- those read by name from a large hash (a field missing reads as false or nil).
local FIELDS = { 'status', 'last', 'wid', 'type', 'tq', 'start', 'close', 'wfto', 'wft', 'wtok', 'watt', 'wsch',
  'wstd', 'wst', 'wsct', 'wq', 'sticky', 'stto', 'creq', 'nbuf', 'rdl', 'hsz', 'mxe', 'mxb',
  'wsp', 'widn', 'uacc', 'uq', 'wlf', 'par' }
-- A hash of up to this many fields (a run's scalar fields and a few per-item ones) is read whole:
-- HGETALL walks its listpack once, where HMGET searches it for each field (about 4.7 against 7 µs
-- for a one-activity run's state, table built). A larger one (many signals' request ids, updates)
-- is read by name.
local READ_WHOLE_MAX_FIELDS = 64
local function load_state()
  state, numeric, state_whole = {}, {}, true
  local size = rcall('HLEN', K_STATE)
  -- A run being created has no hash yet.
  if size == 0 then return end
  if size <= READ_WHOLE_MAX_FIELDS then
    local flat = rcall('HGETALL', K_STATE)
    for i = 1, #flat, 2 do state[flat[i]] = flat[i + 1] end
    return
  end
  state_whole = false
  local values = rcall('HMGET', K_STATE, unpack(FIELDS))
  for i, field in ipairs(FIELDS) do state[field] = values[i] or false end
end
-- A number set is kept as a number (its field in `numeric`) until it is read as text or written:
-- a field set several times in a call (last and hsz, for every event appended) is formatted
-- once. `numeric` is looked up rather than calling type(): get is the scripts' most frequent call.
local function get(field)
  if not state then load_state() end
  local value = state[field]
  if numeric[field] then
    value = jint(value)
    state[field] = value
    numeric[field] = nil
  end
  return value
end
-- tonumber of a string runs strtod twice (lbaselib): each text read as a number is parsed once a
-- call (parsed, keyed by the text, false for text that is no number; begin_run resets it).
local function parse(text)
  local n = parsed[text]
  if n == nil and text then
    n = tonumber(text) or false
    parsed[text] = n
  end
  return n
end
local function getn(field)
  if not state then load_state() end
  local value = state[field]
  if numeric[field] then return value end
  return parse(value) or 0
end
-- A field set to the value it holds is not written again.
local function set(field, value)
  if not state then load_state() end
  local held = state[field]
  if held == value then return end
  if type(value) == 'number' then
    if held and not numeric[field] and parse(held) == value then return end
    numeric[field] = true
  else
    numeric[field] = nil
  end
  state[field] = value
  dirty[field] = true
end
local function flush_state()
  local args = {}
  for field in pairs(dirty) do
    local value = state[field]
    args[#args + 1] = field
    args[#args + 1] = numeric[field] and jint(value) or value
  end
  if #args > 0 then rcall('HSET', K_STATE, unpack(args)) end
  dirty = {}
end
local function running() return get('status') == 'RUNNING' end
-- A field set through set() but not among FIELDS (a chain field: run-start.lua): from the state
-- when it was read whole, else by name. Nil or false when the run has none.
local function get_chain_field(field)
  if not state then load_state() end
  if state_whole then return get(field) end
  return rcall('HGET', K_STATE, field)
end

-- Points the call at another run of the call's shard (the same slot): its keys are built on the
-- shard prefix. What was set for the run the call pointed at before is written first.
local function use_run(run_id)
  flush_state()
  bind_run_keys(run_id)
  state = nil
end

--------------------------------------------------------------------------------------------------
-- Pending activities (K_ACTS) and timers (t:<id>)
--------------------------------------------------------------------------------------------------
local function load_activity(sid)
  local raw = rcall('HGET', K_ACTS, sid)
  if not raw then return nil end
  return cjson.decode(raw)
end
-- Returns the JSON written (an eager start's reply carries it too).
local function save_activity(sid, act)
  local json = cjson.encode(act)
  rcall('HSET', K_ACTS, sid, json)
  return json
end
local function delete_activity(sid) rcall('HDEL', K_ACTS, sid) end

local function load_timer(id) return rcall('HGET', K_STATE, 't:' .. id) end
local function save_timer(id, timerId) rcall('HSET', K_STATE, 't:' .. id, timerId) end
local function delete_timer(id) rcall('HDEL', K_STATE, 't:' .. id) end
