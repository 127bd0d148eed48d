--[[
  History: the run's stream (K_HIST), entries "<eventId>-0" with fields t (type), ts (ms) and a
  (JSON attributes), so the stream itself refuses an out-of-order or duplicate event id; and the
  events buffered (K_BUF) while a workflow task runs.

  Stored compactly (history-encoding.ts has the format and the one decoder every reader uses): t
  is the type's code (its name when it has none), a the JSON text with attribute names and the
  JSON payload prefix replaced by control-character codes.
]]
--- @include "state"
--- @include "json"

-- history-encoding begin (history-encoding.spec.ts runs this block; the tables mirror the lists
-- of history-encoding.ts). Codes are text, as XADD stores them (json.lua's jms says why).
local EVENT_CODES = {
  WorkflowExecutionStarted = '1', WorkflowExecutionCompleted = '2', WorkflowExecutionFailed = '3',
  WorkflowExecutionTimedOut = '4', WorkflowExecutionCanceled = '5', WorkflowExecutionTerminated = '6',
  WorkflowExecutionCancelRequested = '7', WorkflowExecutionSignaled = '8',
  WorkflowExecutionUpdateAccepted = '9', WorkflowExecutionUpdateCompleted = '10',
  WorkflowTaskScheduled = '11', WorkflowTaskStarted = '12', WorkflowTaskCompleted = '13',
  WorkflowTaskTimedOut = '14', WorkflowTaskFailed = '15', ActivityTaskScheduled = '16',
  ActivityTaskStarted = '17', ActivityTaskCompleted = '18', ActivityTaskFailed = '19',
  ActivityTaskTimedOut = '20', ActivityTaskCancelRequested = '21', ActivityTaskCanceled = '22',
  TimerStarted = '23', TimerFired = '24', TimerCanceled = '25', MarkerRecorded = '26',
  WorkflowExecutionContinuedAsNew = '27', StartChildWorkflowExecutionInitiated = '28',
  StartChildWorkflowExecutionFailed = '29', ChildWorkflowExecutionStarted = '30',
  ChildWorkflowExecutionCompleted = '31', ChildWorkflowExecutionFailed = '32',
  ChildWorkflowExecutionCanceled = '33', ChildWorkflowExecutionTimedOut = '34',
  ChildWorkflowExecutionTerminated = '35', SignalExternalWorkflowExecutionInitiated = '36',
  SignalExternalWorkflowExecutionFailed = '37', ExternalWorkflowExecutionSignaled = '38',
  RequestCancelExternalWorkflowExecutionInitiated = '39',
  RequestCancelExternalWorkflowExecutionFailed = '40', ExternalWorkflowExecutionCancelRequested = '41',
}
local ATTRIBUTE_CODES = {
  scheduledEventId = '\2', startedEventId = '\3', identity = '\4',
  workflowTaskCompletedEventId = '\5', taskQueue = '\6', startToCloseTimeout = '\7',
  attempt = '\8', input = '\11', result = '\12', activityId = '\14', activityType = '\15',
  scheduleToCloseTimeout = '\16', scheduleToStartTimeout = '\17', heartbeatTimeout = '\18',
  retryPolicy = '\19', initialInterval = '\20', backoffCoefficient = '\21',
  maximumInterval = '\22', maximumAttempts = '\23', nonRetryableErrorTypes = '\24',
  workflowType = '\25', workflowId = '\26', workflowExecutionTimeout = '\27',
  workflowRunTimeout = '\28', workflowTaskTimeout = '\29', firstExecutionRunId = '\30',
  randomnessSeed = '\31a', timerId = '\31b', startToFireTimeout = '\31c', signalName = '\31d',
  details = '\31e', reason = '\31f', failure = '\31g', message = '\31h', source = '\31i',
  stackTrace = '\31j', cause = '\31k', applicationFailureInfo = '\31l', type = '\31m',
  nonRetryable = '\31n', header = '\31o', metadata = '\31p', encoding = '\31q', data = '\31r',
  requestId = '\31s', initiatedEventId = '\31t', namespace = '\31u', runId = '\31v',
  workflowExecution = '\31w', control = '\31x', markerName = '\31y',
  latestCancelRequestedEventId = '\31z', timeoutType = '\31A', lastFailure = '\31B',
  retryState = '\31C', memo = '\31D', searchAttributes = '\31E', parentWorkflowExecution = '\31F',
  parentInitiatedEventId = '\31G', continuedExecutionRunId = '\31H', initiator = '\31I',
  newExecutionRunId = '\31J', updateId = '\31K', acceptedEventId = '\31L',
  protocolInstanceId = '\31M', acceptedRequest = '\31N', outcome = '\31O', success = '\31P',
  meta = '\31Q', name = '\31R', args = '\31S', canceledFailureInfo = '\31T',
  timeoutFailureInfo = '\31U', activityFailureInfo = '\31V',
  childWorkflowExecutionFailureInfo = '\31W', terminatedFailureInfo = '\31X',
  serverFailureInfo = '\31Y', encodedAttributes = '\31Z',
}
local JSON_PAYLOAD_PREFIX = '{"metadata":{"encoding":"json/plain"},"data":'

-- JSON text never holds a control character unescaped, and a '"<name>":' matched here is an
-- object key (a quote inside a string is escaped), so the codes cannot clash with the data.
local function encode_attrs(attrs)
  -- The prefix by plain search, not a pattern: most events hold no payload (BENCHMARKS.md, "Where
  -- Redis's time goes now").
  local at = string.find(attrs, JSON_PAYLOAD_PREFIX, 1, true)
  while at do
    attrs = string.sub(attrs, 1, at - 1) .. '\1' .. string.sub(attrs, at + #JSON_PAYLOAD_PREFIX)
    at = string.find(attrs, JSON_PAYLOAD_PREFIX, at + 1, true)
  end
  return (string.gsub(attrs, '"(%a+)":', ATTRIBUTE_CODES))
end

-- An object of scalar values (numbers, JSON strings) built in its stored form: the text
-- encode_attrs(jobj(...)) gives, without the pass over it, and its JSON's length in bytes (what
-- the history size counts), for append's `jsonBytes`. Values that hold objects go through jobj.
local function jobj_stored(...)
  local a, m, bytes = { ... }, 0, 1
  for i = 1, select('#', ...), 2 do
    local k, v = a[i], a[i + 1]
    if v ~= nil and v ~= false then
      m = m + 1
      a[m] = (ATTRIBUTE_CODES[k] or ('"' .. k .. '":')) .. v
      -- '"k":' and the value, and a comma or the closing brace.
      bytes = bytes + #k + 4 + #v
    end
  end
  if m == 0 then bytes = 2 end
  return '{' .. table.concat(a, ',', 1, m) .. '}', bytes
end
-- history-encoding end

-- With `jsonBytes`, `attrs` come stored already (encoded by the worker: history-encoding.ts
-- encodeAttributes), and their JSON has that many bytes, which the history size counts.
-- APPENDED, when a script sets it to a table (begin_run resets it), collects the entries appended
-- as XRANGE would return them: startWorkflow sends a new run's history with its first task
-- without reading it back.
local function append(etype, ts, attrs, jsonBytes)
  local id = getn('last') + 1
  set('last', id)
  set('hsz', getn('hsz') + (jsonBytes or #attrs))
  local entry, code, stored, at = jint(id) .. '-0', EVENT_CODES[etype] or etype, jsonBytes and attrs or encode_attrs(attrs), jms(ts)
  rcall('XADD', K_HIST, entry, 't', code, 'ts', at, 'a', stored)
  if APPENDED then APPENDED[#APPENDED + 1] = { entry, { 't', code, 'ts', at, 'a', stored } } end
  return id
end

-- Events whose attributes reference the event recorded just before them ("linked": an activity's
-- close event names its ActivityTaskStarted) get that id when they are finally appended.
local function link(attrs, prev) return '{"startedEventId":' .. prev .. ',' .. string.sub(attrs, 2) end

-- Records an event that did not come from a workflow task. While a workflow task is running the
-- event is buffered, so that a task's command events always follow its WorkflowTaskCompleted.
local function record(etype, attrs, ts, linked)
  if get('wft') == 'started' then
    rcall('RPUSH', K_BUF, cjson.encode({ t = etype, ts = ts, a = attrs, l = linked and 1 or 0 }))
    set('nbuf', getn('nbuf') + 1)
  else
    if linked then attrs = link(attrs, getn('last')) end
    append(etype, ts, attrs)
    WFT_NEEDED = true
  end
end

local function flush_buffer()
  if getn('nbuf') == 0 then return false end
  local items = rcall('LRANGE', K_BUF, 0, -1)
  rcall('DEL', K_BUF)
  set('nbuf', 0)
  for _, raw in ipairs(items) do
    local e = cjson.decode(raw)
    local attrs = e.a
    if e.l == 1 then attrs = link(attrs, getn('last')) end
    -- Child events (children.lua): r names the field holding startedEventId, n the field that notes this event's id.
    if e.r then attrs = link(attrs, rcall('HGET', K_STATE, e.r) or '0') end
    local id = append(e.t, e.ts, attrs)
    if e.n then rcall('HSET', K_STATE, e.n, id) end
    if e.r then rcall('HDEL', K_STATE, e.r) end
  end
  return true
end
