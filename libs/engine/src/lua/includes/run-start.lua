--[[
  Creating runs, and chains of runs (TEMPORAL-SEMANTICS §15, §3.3): a run begins either with a
  start (startWorkflow) or as the next run of a chain, created in the same script that closes the
  run before it (same workflow id, so the same shard and slot): continue-as-new, a workflow retry
  (the run's retry policy allows another attempt), or the next run of a cron schedule. The
  workflow id's hash points at the new run in that same step, so the id is never free and never
  has two running runs.

  A run's first workflow task may wait (its WorkflowExecutionStarted names the wait as
  firstWorkflowTaskBackoff): the start's startDelay, a retry's backoff, the time until the next
  cron time, continue-as-new's minimum spacing. While it waits, the run's field wft is 'delayed'
  (no workflow task is scheduled: events such as signals are appended and wait) and a 'bof'
  deadline (b = 'd' for a start delay, 'c' for a chain) schedules the task when it fires.

  Chain fields of the run state hash (read and written directly, absent when unset):
    att   the run's attempt (1, or one more for every retry)
    frst  firstExecutionRunId of the chain
    exp   execution expiration time (ms), 0 for none: runs of the chain end there
    rto   the run timeout asked for (ms, 0 for none), the next run's unless it changes it
    wrp   the workflow's retry policy, JSON { ii, bc, mi, ma, nr } as an activity's (activity.lua)
    cron  the cron schedule as given, and crn its compiled form (JSON, see cron_next)
    lcr   the last completion result of the chain (JSON payloads), for cron runs
    ctpl  the WorkflowExecutionStarted attributes (JSON) of the chain's next run without its chain
          fields, kept when a retry or a cron run may follow (wrp or cron set)
    par   the parent link of a child run (children.lua), copied to every run of the chain
]]
--- @include "lifecycle"
--- @include "signals"

-- One table, not one local per function: the library's single chunk allows 200 locals.
local RUNS = {}

-- Continue-as-new's minimum spacing between the starts of two runs of a workflow id (Temporal's
-- history.workflowIdReuseMinimalInterval).
RUNS.MIN_SPACING = 1000

-- The chain fields copied from a run to the next one.
local CHAIN_FIELDS = { 'frst', 'exp', 'rto', 'wrp', 'cron', 'crn', 'lcr', 'ctpl', 'par' }

-- Appends firstWorkflowTaskBackoff to a WorkflowExecutionStarted attributes object when there is one.
local function with_backoff(attrs, backoff)
  if backoff <= 0 then return attrs end
  return string.sub(attrs, 1, #attrs - 1) .. ',"firstWorkflowTaskBackoff":' .. jint(backoff) .. '}'
end

--------------------------------------------------------------------------------------------------
-- Cron (5 fields, UTC; or @every <ms>): the next time after a moment. The client compiles the
-- expression (cron.ts): { every = ms } or { mi, h, dom, mon, dow = sorted lists of allowed values,
-- domStar, dowStar = whether that field was '*' } (dow 0 = Sunday).
--------------------------------------------------------------------------------------------------
-- Year, month, day of the day `z` days after 1970-01-01 (proleptic Gregorian).
local function civil_from_days(z)
  z = z + 719468
  local era = math.floor(z / 146097)
  local doe = z - era * 146097
  local yoe = math.floor((doe - math.floor(doe / 1460) + math.floor(doe / 36524) - math.floor(doe / 146096)) / 365)
  local doy = doe - (365 * yoe + math.floor(yoe / 4) - math.floor(yoe / 100))
  local mp = math.floor((5 * doy + 2) / 153)
  local d = doy - math.floor((153 * mp + 2) / 5) + 1
  local m = mp < 10 and mp + 3 or mp - 9
  return m, d
end

-- The first time (ms) strictly after `after` that the compiled schedule `spec` names.
function RUNS.cron_next(spec, after)
  if spec.every then return after + spec.every end
  local lookup = function(list)
    local s = {}
    for _, v in ipairs(list) do s[v] = true end
    return s
  end
  local dom, mon, dow = lookup(spec.dom), lookup(spec.mon), lookup(spec.dow)
  local minute = math.floor(after / 60000) + 1
  local day, from = math.floor(minute / 1440), minute % 1440
  -- 8 years covers every valid expression (29 February of a leap year comes within 8).
  for z = day, day + 366 * 8 do
    local m, d = civil_from_days(z)
    local wd = (z + 4) % 7
    local dayOk
    if spec.domStar or spec.dowStar then dayOk = dom[d] and dow[wd] else dayOk = dom[d] or dow[wd] end
    if mon[m] and dayOk then
      for _, h in ipairs(spec.h) do
        for _, mi in ipairs(spec.mi) do
          if h * 60 + mi >= from then return (z * 1440 + h * 60 + mi) * 60000 end
        end
      end
    end
    from = 0
  end
  return nil
end

-- Temporal's backoff to the next cron time of a run that started at `start` and closes now:
-- the first schedule time after its start that is not before now.
local function cron_backoff(crn, start)
  local spec = cjson.decode(crn)
  local nxt = RUNS.cron_next(spec, start)
  if nxt and nxt < NOW then
    nxt = spec.every and (start + math.ceil((NOW - start) / spec.every) * spec.every) or RUNS.cron_next(spec, NOW - 1)
  end
  return nxt and (nxt - NOW) or nil
end

--------------------------------------------------------------------------------------------------
-- Creating a run
--------------------------------------------------------------------------------------------------
-- Creates the call's run (RUN_ID, RUN keys): its state, the workflow id's hash, the visibility
-- indexes, WorkflowExecutionStarted (attrs, JSON; firstWorkflowTaskBackoff is added here), the
-- start signal's WorkflowExecutionSignaled (o.signal, or ''), its run timeout and its first
-- workflow task (after o.backoff ms, o.delayKind 'd' or 'c'). o: wid, type, tq, attrs (JSON, or
-- stored already when o.bytes gives its JSON's length: startWorkflow), wfto,
-- rto, mxe, mxb, att, and the chain fields above (o.chain, by name; absent ones are unset).
function RUNS.create_run(o)
  local backoff = o.backoff or 0
  local fields = { status = 'RUNNING', wid = o.wid, type = o.type, tq = o.tq, start = NOW, last = 0,
    wfto = o.wfto, wft = '', wtok = 0, sticky = '', stto = 0, creq = 0, hsz = 0, mxe = o.mxe, mxb = o.mxb }
  for field, value in pairs(fields) do set(field, value) end
  -- The chain fields too go out with the state's one write (flush_state).
  set('att', o.att or 1)
  for _, field in ipairs(CHAIN_FIELDS) do
    local value = o.chain and o.chain[field]
    if value and value ~= '' then set(field, value) end
  end
  rcall('HSET', K_WID, 'run', RUN_ID, 'status', 'RUNNING')
  for _, index in ipairs({ K_OPEN, K_TAG .. ':vis:all', K_TAG .. ':vis:type:' .. o.type, K_TAG .. ':vis:tq:' .. o.tq }) do
    rcall('ZADD', index, jms(NOW), RUN_ID)
  end
  local attrs = with_backoff(o.attrs, backoff)
  append('WorkflowExecutionStarted', NOW, attrs, o.bytes and o.bytes + #attrs - #o.attrs)
  if o.signal and o.signal ~= '' then append('WorkflowExecutionSignaled', NOW, o.signal) end
  -- The run timeout, counted from the first workflow task, and never past the execution's end.
  local runTimeout = tonumber(o.rto) or 0
  local exp = tonumber(o.chain and o.chain.exp) or 0
  if exp > 0 and (runTimeout == 0 or NOW + backoff + runTimeout > exp) then runTimeout = math.max(exp - NOW - backoff, 1) end
  if runTimeout > 0 then
    add_deadline(deadline_member('run'), NOW + backoff + runTimeout, backoff + runTimeout)
    set('rdl', 1)
  end
  if backoff > 0 then
    set('wft', 'delayed')
    add_deadline(deadline_member('bof', o.delayKind or 'c'), NOW + backoff, backoff)
  else
    schedule_wft(1, 0)
  end
end

-- A run waiting for its first workflow task: the task now (the 'bof' deadline fired, or a
-- signal-with-start cut a start delay short).
function RUNS.end_backoff(kind)
  if get('wft') ~= 'delayed' then return end
  remove_deadline(deadline_member('bof', kind))
  set('wft', '')
  schedule_wft(1, 0)
end

-- Whether the call's run waits for its start delay (not a chain's backoff).
function RUNS.in_start_delay()
  return get('wft') == 'delayed' and rcall('ZSCORE', K_DEADLINES, deadline_member('bof', 'd')) ~= false
end

--------------------------------------------------------------------------------------------------
-- Closing a run, and the next run of its chain
--------------------------------------------------------------------------------------------------
-- A workflow's own retry decision (TEMPORAL-SEMANTICS §3.3; Temporal's GetRetryBackoffDuration):
-- `f` { kind = 'application' | 'timeout', type, nonRetryable }. Returns the retry state and, for
-- IN_PROGRESS, the backoff (ms).
local function workflow_retry(f)
  local raw = rcall('HGET', K_STATE, 'wrp')
  if not raw then return 'RETRY_POLICY_NOT_SET' end
  local rp = cjson.decode(raw)
  if f.kind == 'application' and (f.nonRetryable or contains(rp.nr, f.type or '')) then return 'NON_RETRYABLE_FAILURE' end
  local attempt = tonumber(rcall('HGET', K_STATE, 'att')) or 1
  if rp.ma > 0 and attempt >= rp.ma then return 'MAXIMUM_ATTEMPTS_REACHED' end
  local interval = math.floor(math.min(rp.ii * rp.bc ^ (attempt - 1), rp.mi))
  local exp = tonumber(rcall('HGET', K_STATE, 'exp')) or 0
  if exp > 0 and NOW + interval >= exp then return 'TIMEOUT' end
  return 'IN_PROGRESS', interval
end

-- A run id for the next run of a chain the engine starts itself (retry, cron): derived from this
-- run's id, so a script run again derives the same one.
local function next_run_id()
  local h = redis.sha1hex('next:' .. RUN_ID)
  return string.sub(h, 1, 8) .. '-' .. string.sub(h, 9, 12) .. '-4' .. string.sub(h, 14, 16) .. '-a' ..
    string.sub(h, 18, 20) .. '-' .. string.sub(h, 21, 32)
end

-- Creates run `run_id`, the next run of the call's run, and points the call back at the call's
-- run (which the caller closes next). `o` as create_run's, without the fields copied from the
-- call's run (wid, tq and type unless given, limits, chain fields unless given).
local function create_next_run(run_id, o)
  local own = RUN_ID
  local copied = rcall('HMGET', K_STATE, unpack(CHAIN_FIELDS))
  o.chain = o.chain or {}
  for i, field in ipairs(CHAIN_FIELDS) do
    if o.chain[field] == nil then o.chain[field] = copied[i] or nil end
  end
  o.wid, o.mxe, o.mxb = get('wid'), getn('mxe'), getn('mxb')
  o.type, o.tq, o.wfto = o.type or get('type'), o.tq or get('tq'), o.wfto or getn('wfto')
  if o.rto == nil then o.rto = o.chain.rto end
  use_run(run_id)
  RUNS.create_run(o)
  if o.updates and #o.updates > 0 then
    local ids = {}
    for _, moved in ipairs(o.updates) do
      save_update(moved[1], moved[2])
      ids[#ids + 1] = moved[1]
    end
    set_admitted_updates(ids)
  end
  use_run(own)
end

-- The chain fields of a retry's or cron run's WorkflowExecutionStarted, before the chain's
-- template (ctpl): the JSON of the new run's attributes.
local function chain_attrs(run_id, initiator, attempt, extra)
  local tpl = rcall('HGET', K_STATE, 'ctpl') or '{}'
  local parts = jobj('attempt', jint(attempt), 'firstExecutionRunId', jstr(rcall('HGET', K_STATE, 'frst') or RUN_ID),
    'randomnessSeed', jstr(string.sub(redis.sha1hex('seed:' .. run_id), 1, 16)),
    'originalExecutionRunId', jstr(run_id), 'continuedExecutionRunId', jstr(RUN_ID), 'initiator', jstr(initiator),
    'continuedFailure', extra.failure, 'lastCompletionResult', extra.result)
  if tpl == '{}' then return parts end
  return string.sub(parts, 1, #parts - 1) .. ',' .. string.sub(tpl, 2)
end

-- Closes the call's run (status, close event type, attributes as given) and, when its chain goes
-- on, starts the next run in the same step:
--   CONTINUED_AS_NEW   meta (the command's, from the worker): rid (new run id), attrs (its
--                      WorkflowExecutionStarted without firstWorkflowTaskBackoff), type, tq, wfto,
--                      rto, bof (backoffStartInterval, ms), tpl (its chain template, when a retry
--                      or cron run may follow it)
--   FAILED, TIMED_OUT  a retry when the workflow's retry policy allows one (`f`, the failure's
--                      facts: see workflow_retry); else, like COMPLETED, the next cron run
-- A close that starts a run names it (newExecutionRunId); a failure's or timeout's retryState is
-- the retry decision. `attrs` of WorkflowExecutionFailed end with "retryState" (the SDK writes it
-- last) and those of WorkflowExecutionCompleted begin with "result".
function RUNS.finish_run(status, etype, attrs, meta, f)
  if status == 'CONTINUED_AS_NEW' then
    local spacing = tonumber(get('start')) + RUNS.MIN_SPACING - NOW
    local chain = { rto = jint(meta.rto or 0) }
    if meta.tpl then chain.ctpl = meta.tpl end
    -- Updates admitted that no workflow task saw go to the new run (Temporal retries them there);
    -- their callers follow `to`.
    local updates = {}
    for _, uid in ipairs(admitted_updates()) do
      local u = load_update(uid)
      if u then
        updates[#updates + 1] = { uid, u }
        save_update(uid, { st = 'moved', to = meta.rid })
      end
    end
    set_admitted_updates({})
    create_next_run(meta.rid, { attrs = meta.attrs, type = meta.type, tq = meta.tq, wfto = meta.wfto, rto = meta.rto or 0,
      backoff = math.max(meta.bof or 0, spacing), chain = chain, updates = updates })
    close_run(status, etype, attrs)
    rcall('HSET', K_WID, 'run', meta.rid, 'status', 'RUNNING')
    return
  end
  local retryState, backoff = 'RETRY_POLICY_NOT_SET', nil
  if status == 'FAILED' or status == 'TIMED_OUT' then retryState, backoff = workflow_retry(f or {}) end
  local initiator, extra, attempt = nil, {}, 1
  if retryState == 'IN_PROGRESS' then
    initiator = 'RETRY'
    attempt = (tonumber(rcall('HGET', K_STATE, 'att')) or 1) + 1
  elseif status == 'COMPLETED' or status == 'FAILED' or status == 'TIMED_OUT' then
    local crn = get_chain_field('crn')
    if crn then
      backoff = cron_backoff(crn, getn('start'))
      if backoff then initiator = 'CRON_SCHEDULE' end
    end
  end
  if status == 'FAILED' then
    attrs = string.gsub(attrs, ',"retryState":"[%u_]+"}$', ',"retryState":' .. jstr(retryState) .. '}')
    extra.failure = string.match(attrs, '^{"failure":(.*),"workflowTaskCompletedEventId":%d+,"retryState":"[%u_]+"}$')
  elseif status == 'TIMED_OUT' then
    attrs = jobj('retryState', jstr(retryState))
    extra.failure = '{"message":"Workflow timed out","source":"Durabull","timeoutFailureInfo":{"timeoutType":"START_TO_CLOSE"}}'
  end
  if not initiator then
    close_run(status, etype, attrs)
    return
  end
  local run_id = next_run_id()
  local chain = {}
  if status == 'COMPLETED' then
    chain.lcr = string.match(attrs, '^{"result":(.*),"workflowTaskCompletedEventId":%d+}$')
    extra.failure = nil
  end
  extra.result = chain.lcr or rcall('HGET', K_STATE, 'lcr') or nil
  if initiator == 'CRON_SCHEDULE' then extra.failure = status ~= 'COMPLETED' and extra.failure or nil end
  create_next_run(run_id, { attrs = chain_attrs(run_id, initiator, attempt, extra), att = attempt, backoff = backoff,
    chain = chain })
  close_run(status, etype, string.sub(attrs, 1, #attrs - 1) .. ',"newExecutionRunId":' .. jstr(run_id) .. '}')
  rcall('HSET', K_WID, 'run', run_id, 'status', 'RUNNING')
end
