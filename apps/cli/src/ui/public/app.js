// Durabull's web UI: a single page on the JSON API of `durabull ui` (apps/cli/src/ui/server.ts).
// Plain modern JavaScript, no framework and no build step. Every text reaches the page through
// textContent (never innerHTML), so nothing stored in a history can inject markup.

const STATUSES = ['RUNNING', 'COMPLETED', 'FAILED', 'CANCELED', 'TERMINATED', 'TIMED_OUT', 'CONTINUED_AS_NEW'];
const CLOSE_EVENTS = new Set([
  'WorkflowExecutionCompleted',
  'WorkflowExecutionFailed',
  'WorkflowExecutionCanceled',
  'WorkflowExecutionTerminated',
  'WorkflowExecutionTimedOut',
  'WorkflowExecutionContinuedAsNew',
]);
const LIVE_INTERVAL_MS = 1000;

let config = { namespace: 'default', readOnly: true, codec: false, csrfToken: '', version: '' };
/** Stops the live refresh of the page being left. */
let stopPage = () => {};
/** Counts renders: a page whose data arrives after the user moved on draws nothing. */
let generation = 0;
const stale = (id) => id !== generation;

// ---------------------------------------------------------------------------------------------
// DOM and formatting helpers
// ---------------------------------------------------------------------------------------------

/** Creates an element: h('a', { href, class }, 'text', child, ...). */
function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === 'class') el.className = value;
    else if (key.startsWith('on')) el.addEventListener(key.slice(2), value);
    else if (key === 'dataset') Object.assign(el.dataset, value);
    else el.setAttribute(key, value === true ? '' : String(value));
  }
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

/** Replaces an element's children (null, undefined and false are left out). */
function put(el, ...children) {
  el.replaceChildren(...children.flat(Infinity).filter((c) => c !== undefined && c !== null && c !== false).map((c) => (c instanceof Node ? c : document.createTextNode(String(c)))));
}

function link(href, ...children) {
  return h('a', { href, 'data-link': true }, ...children);
}

const enc = encodeURIComponent;
const nsPath = (ns) => `/namespaces/${enc(ns)}`;
const runPath = (ns, workflowId, runId) => `${nsPath(ns)}/workflows/${enc(workflowId)}/${enc(runId)}`;
const apiRun = (ns, workflowId, runId) => `/api/namespaces/${enc(ns)}/workflows/${enc(workflowId)}/runs/${enc(runId)}`;

function formatTime(iso) {
  if (!iso) return '';
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return String(iso);
  return date.toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' UTC');
}

function timeOfDay(iso) {
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? String(iso) : date.toISOString().slice(11, 23);
}

function formatDuration(ms) {
  if (!Number.isFinite(ms) || ms < 0) return '';
  if (ms < 1000) return `${Math.round(ms)}ms`;
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(s < 10 ? 2 : 1)}s`;
  const m = Math.floor(s / 60);
  const join = (big, bigUnit, small, smallUnit) => (small ? `${big}${bigUnit} ${small}${smallUnit}` : `${big}${bigUnit}`);
  if (m < 60) return join(m, 'm', Math.floor(s % 60), 's');
  const hours = Math.floor(m / 60);
  if (hours < 48) return join(hours, 'h', m % 60, 'm');
  return join(Math.floor(hours / 24), 'd', hours % 24, 'h');
}

/** Values the server could not decode (no codec endpoint) arrive as {"$durabullEncoded": <metadata>}. */
function encodedReplacer(key, value) {
  if (value && typeof value === 'object' && !Array.isArray(value) && '$durabullEncoded' in value) {
    return `<encrypted: ${value.$durabullEncoded?.encoding ?? 'unknown encoding'}>`;
  }
  return value;
}

function json(value) {
  if (value === undefined) return 'undefined';
  try {
    return JSON.stringify(value, encodedReplacer, 2);
  } catch {
    return String(value);
  }
}

function shortJson(value, max = 80) {
  let text;
  try {
    text = value === undefined ? 'undefined' : JSON.stringify(value, encodedReplacer);
  } catch {
    text = String(value);
  }
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

function statusBadge(status) {
  return h('span', { class: `status status-${String(status).toLowerCase()}` }, status);
}

// ---------------------------------------------------------------------------------------------
// Payloads and failures
// ---------------------------------------------------------------------------------------------

/** { kind: 'value', value } for a readable payload, { kind: 'encoded', ... } for one a codec encoded. */
function readPayload(payload) {
  const encoding = payload?.metadata?.encoding;
  if (encoding === 'json/plain') return { kind: 'value', value: payload.data };
  if (encoding === 'binary/null') return { kind: 'value', value: undefined };
  return { kind: 'encoded', encoding: encoding ?? 'unknown', metadata: payload?.metadata ?? {} };
}

function encodedNote(read) {
  const meta = read.metadata;
  const bits = [read.encoding, meta['encryption-cipher'], meta['encryption-key-id'] ? `key ${meta['encryption-key-id']}` : undefined].filter(Boolean);
  const hint = config.codec ? 'the codec endpoint did not decode it' : 'start the UI with --codec-endpoint to decode it';
  return h('span', { class: 'encoded', title: hint }, `Encrypted (${bits.join(', ')})`, h('span', { class: 'muted' }, ` — ${hint}`));
}

/** A list of payloads (arguments, a result, details) as a block. */
function payloadsBlock(payloads, { single = false } = {}) {
  if (!Array.isArray(payloads) || payloads.length === 0) return h('pre', { class: 'payload' }, single ? 'undefined' : '[]');
  const reads = payloads.map(readPayload);
  if (reads.some((read) => read.kind === 'encoded')) {
    return h('div', { class: 'payloads' }, reads.map((read) => (read.kind === 'encoded' ? h('div', {}, encodedNote(read)) : h('pre', { class: 'payload' }, json(read.value)))));
  }
  const values = reads.map((read) => read.value);
  return h('pre', { class: 'payload' }, json(single && values.length === 1 ? values[0] : values));
}

/** One-line preview of payloads for tables. */
function payloadsPreview(payloads, single = false) {
  if (!Array.isArray(payloads)) return single ? 'undefined' : '[]';
  const reads = payloads.map(readPayload);
  if (reads.some((read) => read.kind === 'encoded')) return '<encrypted>';
  const values = reads.map((read) => read.value);
  return shortJson(single && values.length <= 1 ? values[0] : values);
}

function failureKind(failure) {
  if (failure.applicationFailureInfo) return failure.applicationFailureInfo.type || 'ApplicationError';
  if (failure.timeoutFailureInfo) return `TimeoutError (${failure.timeoutFailureInfo.timeoutType})`;
  if (failure.canceledFailureInfo) return 'CancelledError';
  if (failure.terminatedFailureInfo) return 'TerminatedError';
  if (failure.serverFailureInfo) return 'ServerError';
  if (failure.activityFailureInfo) return 'ActivityError';
  return 'Error';
}

/** The cause chain of a failure, outermost first. */
function failureChain(failure) {
  const chain = [];
  for (let f = failure, depth = 0; f && depth < 32; f = f.cause, depth++) chain.push(f);
  return chain;
}

function failureBlock(failure) {
  const chain = failureChain(failure);
  return h(
    'ol',
    { class: 'cause-chain' },
    chain.map((f, i) => {
      const encoded = f.encodedAttributes && f.message === 'Encoded failure';
      const info = f.activityFailureInfo;
      const app = f.applicationFailureInfo;
      const facts = [
        info ? `activity ${info.activityType} (id ${info.activityId}), retry state ${info.retryState}` : undefined,
        app?.nonRetryable ? 'non-retryable' : undefined,
      ].filter(Boolean);
      return h(
        'li',
        { class: 'failure' },
        h('span', { class: 'failure-kind' }, i === 0 ? failureKind(f) : `caused by ${failureKind(f)}`),
        ': ',
        encoded ? encodedNote(readPayload(f.encodedAttributes)) : h('span', { class: 'failure-message' }, f.message || '(no message: encrypted, or empty)'),
        facts.length ? h('span', { class: 'muted' }, ` — ${facts.join(', ')}`) : null,
        app?.details?.length ? h('div', { class: 'details' }, 'details ', payloadsBlock(app.details)) : null,
        f.stackTrace ? h('details', {}, h('summary', {}, 'stack trace'), h('pre', { class: 'stack' }, f.stackTrace)) : null,
      );
    }),
  );
}

// ---------------------------------------------------------------------------------------------
// API
// ---------------------------------------------------------------------------------------------

class ApiFailure extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

async function api(path, { method = 'GET', body } = {}) {
  const headers = { Accept: 'application/json' };
  if (method !== 'GET') {
    headers['Content-Type'] = 'application/json';
    headers['X-Durabull-Csrf'] = config.csrfToken;
  }
  const response = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), credentials: 'same-origin' });
  if (response.status === 401) {
    location.assign(`/login?next=${enc(location.pathname + location.search)}`);
    throw new ApiFailure(401, 'access token required');
  }
  const answer = await response.json().catch(() => ({}));
  if (!response.ok) throw new ApiFailure(response.status, answer.error || `${response.status} ${response.statusText}`);
  return answer;
}

// ---------------------------------------------------------------------------------------------
// Routing
// ---------------------------------------------------------------------------------------------

function navigate(href, { replace = false } = {}) {
  if (replace) history.replaceState(null, '', href);
  else history.pushState(null, '', href);
  void render();
}

document.addEventListener('click', (event) => {
  const anchor = event.target instanceof Element ? event.target.closest('a[data-link]') : null;
  if (!anchor || event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey) return;
  const href = anchor.getAttribute('href');
  if (!href || href === '#') return;
  event.preventDefault();
  navigate(href);
});
window.addEventListener('popstate', () => void render());

function currentNamespace() {
  const match = /^\/namespaces\/([^/]+)/.exec(location.pathname);
  return match ? decodeURIComponent(match[1]) : config.namespace;
}

async function render() {
  stopPage();
  stopPage = () => {};
  const id = ++generation;
  const app = document.getElementById('app');
  const parts = location.pathname.split('/').filter(Boolean).map(decodeURIComponent);
  const ns = currentNamespace();
  document.getElementById('nav-workflows').setAttribute('href', `${nsPath(ns)}/workflows`);
  document.getElementById('nav-schedules').setAttribute('href', `${nsPath(ns)}/schedules`);
  document.getElementById('nav-workflows').classList.toggle('active', parts[2] === 'workflows');
  document.getElementById('nav-schedules').classList.toggle('active', parts[2] === 'schedules');
  void fillNamespaces(ns);
  try {
    if (parts[0] !== 'namespaces' || parts.length < 3) return navigate(`${nsPath(ns)}/workflows`, { replace: true });
    if (parts[2] === 'schedules' && parts.length === 3) return await schedulesPage(app, ns, id);
    if (parts[2] === 'schedules' && parts.length === 4) return await schedulePage(app, ns, parts[3], id);
    if (parts[2] !== 'workflows') return notFoundPage(app);
    if (parts.length === 3) return await listPage(app, ns, id);
    if (parts.length === 4) {
      const { runId } = await api(`/api/namespaces/${enc(ns)}/workflows/${enc(parts[3])}`);
      if (stale(id)) return;
      return navigate(runPath(ns, parts[3], runId), { replace: true });
    }
    if (parts.length === 5) return await runPage(app, ns, parts[3], parts[4], id);
    return notFoundPage(app);
  } catch (error) {
    if (!stale(id)) put(app, h('div', { class: 'error-box', role: 'alert' }, error.message));
  }
}

async function fillNamespaces(current) {
  const select = document.getElementById('namespace');
  let names = [current];
  try {
    const { namespaces } = await api('/api/namespaces');
    names = [...new Set([current, config.namespace, ...namespaces])].sort();
  } catch {
    // Shown by the page itself.
  }
  put(select, ...names.map((name) => h('option', { value: name, selected: name === current }, name)));
}

function notFoundPage(app) {
  put(app, h('h1', {}, 'Not found'), h('p', {}, link('/', 'Back to the workflows')));
}

// ---------------------------------------------------------------------------------------------
// Workflow list
// ---------------------------------------------------------------------------------------------

function toLocalInput(iso) {
  if (!iso) return '';
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return '';
  const local = new Date(date.getTime() - date.getTimezoneOffset() * 60_000);
  return local.toISOString().slice(0, 16);
}

async function listPage(app, ns, id) {
  const query = new URLSearchParams(location.search);
  const pageSize = query.get('pageSize') || '20';
  // The tokens of the pages before this one, for "Previous".
  const trail = (query.get('trail') || '').split(',').filter(Boolean);
  const filterQuery = new URLSearchParams();
  for (const key of ['status', 'type', 'taskQueue', 'startedAfter', 'startedBefore']) if (query.get(key)) filterQuery.set(key, query.get(key));

  const form = h(
    'form',
    { class: 'filters', onsubmit: (event) => submit(event) },
    h('label', {}, 'Status ', h('select', { name: 'status' }, h('option', { value: '' }, 'Any'), STATUSES.map((s) => h('option', { value: s, selected: query.get('status') === s }, s)))),
    h('label', {}, 'Type ', h('input', { name: 'type', value: query.get('type') || '', placeholder: 'WorkflowType' })),
    h('label', {}, 'Task queue ', h('input', { name: 'taskQueue', value: query.get('taskQueue') || '', placeholder: 'queue' })),
    h('label', {}, 'Started after ', h('input', { name: 'startedAfter', type: 'datetime-local', value: toLocalInput(query.get('startedAfter')) })),
    h('label', {}, 'Started before ', h('input', { name: 'startedBefore', type: 'datetime-local', value: toLocalInput(query.get('startedBefore')) })),
    h('label', {}, 'Per page ', h('select', { name: 'pageSize' }, ['20', '50', '100'].map((n) => h('option', { value: n, selected: n === pageSize }, n)))),
    h('button', { type: 'submit' }, 'Apply'),
    h('button', { type: 'button', class: 'secondary', onclick: () => navigate(`${nsPath(ns)}/workflows`) }, 'Clear'),
  );
  function submit(event) {
    event.preventDefault();
    const data = new FormData(form);
    const next = new URLSearchParams();
    for (const [key, value] of data.entries()) {
      if (!value) continue;
      if (key === 'startedAfter' || key === 'startedBefore') next.set(key, new Date(String(value)).toISOString());
      else if (key !== 'pageSize' || value !== '20') next.set(key, String(value));
    }
    navigate(`${nsPath(ns)}/workflows${next.size ? `?${next}` : ''}`);
  }

  const apiQuery = new URLSearchParams(filterQuery);
  apiQuery.set('pageSize', pageSize);
  if (query.get('pageToken')) apiQuery.set('pageToken', query.get('pageToken'));
  const page = await api(`/api/namespaces/${enc(ns)}/workflows?${apiQuery}`);
  if (stale(id)) return;

  const pageHref = (token, nextTrail) => {
    const next = new URLSearchParams(filterQuery);
    if (pageSize !== '20') next.set('pageSize', pageSize);
    if (token) next.set('pageToken', token);
    if (nextTrail.length) next.set('trail', nextTrail.join(','));
    return `${nsPath(ns)}/workflows${next.size ? `?${next}` : ''}`;
  };
  const pageNumber = trail.length + 1;
  const previousTrail = trail.slice(0, -1);
  const previousToken = trail[trail.length - 1];
  const paging = h(
    'div',
    { class: 'paging' },
    pageNumber > 1 ? link(pageHref(previousToken === '-' ? '' : previousToken, previousTrail), '← Previous') : null,
    h('span', { class: 'muted' }, `Page ${pageNumber}`),
    page.nextPageToken ? link(pageHref(page.nextPageToken, [...trail, query.get('pageToken') || '-']), 'Next →') : null,
  );

  const rows = page.executions.map((run) =>
    h(
      'tr',
      {},
      h('td', {}, statusBadge(run.status)),
      h('td', {}, link(runPath(ns, run.workflowId, run.runId), run.workflowId)),
      h('td', { class: 'mono muted', title: run.runId }, run.runId.slice(0, 8)),
      h('td', {}, run.workflowType),
      h('td', {}, run.taskQueue),
      h('td', {}, formatTime(run.startTime)),
      h('td', {}, formatTime(run.closeTime)),
      h('td', { class: 'num' }, run.historyLength),
    ),
  );
  const table = page.executions.length
    ? h(
        'table',
        { class: 'runs' },
        h('thead', {}, h('tr', {}, ['Status', 'Workflow ID', 'Run ID', 'Type', 'Task queue', 'Started', 'Closed', 'Events'].map((t) => h('th', {}, t)))),
        h('tbody', {}, rows),
      )
    : h('p', { class: 'empty' }, page.namespaceExists ? 'No workflows match.' : `Namespace ${ns} does not exist yet: no client or worker has opened it.`);

  put(app,
    h('h1', {}, 'Workflows'),
    form,
    h('p', { class: 'count' }, `${page.count} workflow${page.count === 1 ? '' : 's'}${filterQuery.size ? ' match' : ''}`),
    table,
    paging,
  );
}

// ---------------------------------------------------------------------------------------------
// Run page
// ---------------------------------------------------------------------------------------------

function eventDetails(event) {
  const a = event.attributes || {};
  const failure = (f, retryState) => (f ? `${shortJson(f.encodedAttributes && f.message === 'Encoded failure' ? '<encrypted>' : f.message, 100)} (${[failureKind(f), retryState].filter(Boolean).join(', ')})` : '-');
  switch (event.eventType) {
    case 'WorkflowExecutionStarted':
      return `type=${a.workflowType} taskQueue=${a.taskQueue} input=${payloadsPreview(a.input)}`;
    case 'WorkflowExecutionCompleted':
      return `result=${payloadsPreview(a.result, true)}`;
    case 'WorkflowExecutionFailed':
      return `failure=${failure(a.failure, a.retryState)}`;
    case 'WorkflowExecutionTimedOut':
      return `retryState=${a.retryState}`;
    case 'WorkflowExecutionCanceled':
      return `details=${payloadsPreview(a.details)}`;
    case 'WorkflowExecutionTerminated':
      return `reason=${shortJson(a.reason)} identity=${a.identity}`;
    case 'WorkflowExecutionCancelRequested':
      return `reason=${shortJson(a.cause)} identity=${a.identity}`;
    case 'WorkflowExecutionSignaled':
      return `signal=${a.signalName} input=${payloadsPreview(a.input)} identity=${a.identity}`;
    case 'WorkflowExecutionUpdateAccepted':
      return `update=${a.acceptedRequest?.input?.name} id=${a.protocolInstanceId} input=${payloadsPreview(a.acceptedRequest?.input?.args)}`;
    case 'WorkflowExecutionUpdateCompleted':
      return `id=${a.meta?.updateId} ${a.outcome && 'success' in a.outcome ? `result=${payloadsPreview(a.outcome.success, true)}` : `failure=${failure(a.outcome?.failure)}`}`;
    case 'WorkflowTaskScheduled':
      return `taskQueue=${a.taskQueue} attempt=${a.attempt}`;
    case 'WorkflowTaskStarted':
      return `scheduled=${a.scheduledEventId} identity=${a.identity}`;
    case 'WorkflowTaskCompleted':
      return `scheduled=${a.scheduledEventId} started=${a.startedEventId}`;
    case 'WorkflowTaskTimedOut':
      return `scheduled=${a.scheduledEventId} started=${a.startedEventId} timeout=${a.timeoutType}`;
    case 'WorkflowTaskFailed':
      return `cause=${a.cause} failure=${failure(a.failure)}`;
    case 'ActivityTaskScheduled':
      return `activityId=${a.activityId} type=${a.activityType} input=${payloadsPreview(a.input)}`;
    case 'ActivityTaskStarted':
      return `scheduled=${a.scheduledEventId} attempt=${a.attempt}${a.lastFailure ? ` lastFailure=${shortJson(a.lastFailure.message)}` : ''}`;
    case 'ActivityTaskCompleted':
      return `scheduled=${a.scheduledEventId} result=${payloadsPreview(a.result, true)}`;
    case 'ActivityTaskFailed':
    case 'ActivityTaskTimedOut':
      return `scheduled=${a.scheduledEventId} failure=${failure(a.failure, a.retryState)}`;
    case 'ActivityTaskCancelRequested':
      return `scheduled=${a.scheduledEventId}`;
    case 'ActivityTaskCanceled':
      return `scheduled=${a.scheduledEventId} details=${payloadsPreview(a.details)}`;
    case 'TimerStarted':
      return `timerId=${a.timerId} startToFire=${formatDuration(a.startToFireTimeout)}`;
    case 'TimerFired':
    case 'TimerCanceled':
      return `timerId=${a.timerId} started=${a.startedEventId}`;
    default:
      return shortJson(a, 120);
  }
}

function historyTable(events) {
  return h(
    'table',
    { class: 'history' },
    h('thead', {}, h('tr', {}, ['ID', 'Time (UTC)', 'Type', 'Details'].map((t) => h('th', {}, t)))),
    h(
      'tbody',
      {},
      events.map((event) =>
        h(
          'tr',
          { class: `event event-${event.eventType}`, dataset: { eventId: String(event.eventId) } },
          h('td', { class: 'num' }, event.eventId),
          h('td', { class: 'mono' }, timeOfDay(event.eventTime)),
          h('td', {}, event.eventType),
          h('td', {}, h('details', {}, h('summary', {}, eventDetails(event)), h('pre', { class: 'payload' }, json(event.attributes)))),
        ),
      ),
    ),
  );
}

/** The rows of the timeline: activities (with attempts), timers, children, signals and updates. */
function timelineRows(view) {
  const events = view.events;
  const now = Date.now();
  const end = view.closeTime ? Date.parse(view.closeTime) : now;
  const rows = [];
  const byScheduled = new Map();
  const timers = new Map();
  const children = new Map();
  const pendingById = new Map((view.pendingActivities || []).map((p) => [p.activityId, p]));
  for (const event of events) {
    const a = event.attributes || {};
    const t = Date.parse(event.eventTime);
    switch (event.eventType) {
      case 'ActivityTaskScheduled': {
        const row = { kind: 'activity', label: `${a.activityType} #${a.activityId}`, start: t, end: undefined, outcome: 'pending', attempt: undefined, note: '' };
        byScheduled.set(event.eventId, row);
        rows.push(row);
        const pending = pendingById.get(a.activityId);
        if (pending) {
          row.attempt = pending.attempt;
          row.outcome = pending.state === 'STARTED' ? 'running' : 'pending';
          row.note = pending.nextAttemptScheduleTime ? `next attempt ${formatTime(pending.nextAttemptScheduleTime)}` : pending.state.toLowerCase().replace('_', ' ');
        }
        break;
      }
      case 'ActivityTaskStarted': {
        const row = byScheduled.get(a.scheduledEventId);
        if (row) row.attempt = a.attempt ?? row.attempt;
        break;
      }
      case 'ActivityTaskCompleted':
      case 'ActivityTaskFailed':
      case 'ActivityTaskTimedOut':
      case 'ActivityTaskCanceled': {
        const row = byScheduled.get(a.scheduledEventId);
        if (row) {
          row.end = t;
          row.outcome = event.eventType.slice('ActivityTask'.length).toLowerCase();
          row.note = event.eventType === 'ActivityTaskCompleted' ? '' : a.failure ? a.failure.message : '';
        }
        break;
      }
      case 'TimerStarted': {
        const row = { kind: 'timer', label: `timer ${a.timerId} (${formatDuration(a.startToFireTimeout)})`, start: t, end: undefined, outcome: 'pending', note: '' };
        timers.set(event.eventId, row);
        rows.push(row);
        break;
      }
      case 'TimerFired':
      case 'TimerCanceled': {
        const row = timers.get(a.startedEventId);
        if (row) {
          row.end = t;
          row.outcome = event.eventType === 'TimerFired' ? 'fired' : 'canceled';
        }
        break;
      }
      case 'WorkflowExecutionSignaled':
        rows.push({ kind: 'signal', label: `signal ${a.signalName}`, start: t, end: t, outcome: 'point', note: '' });
        break;
      case 'WorkflowExecutionUpdateAccepted':
        rows.push({ kind: 'update', label: `update ${a.acceptedRequest?.input?.name ?? ''}`, start: t, end: t, outcome: 'point', note: '' });
        break;
      default:
        // Child workflows (when they exist): grouped by their initiated event.
        if (event.eventType.startsWith('StartChildWorkflowExecution') || event.eventType.startsWith('ChildWorkflowExecution')) {
          const key = a.initiatedEventId ?? event.eventId;
          let row = children.get(key);
          if (!row) {
            row = { kind: 'child', label: `child ${a.workflowType?.name ?? a.workflowType ?? ''} ${a.workflowId ?? a.workflowExecution?.workflowId ?? ''}`.trim(), start: t, end: undefined, outcome: 'pending', note: '' };
            children.set(key, row);
            rows.push(row);
          }
          const suffix = event.eventType.replace(/^(StartChildWorkflowExecution|ChildWorkflowExecution)/, '').toLowerCase();
          if (['completed', 'failed', 'canceled', 'terminated', 'timedout', 'failed'].includes(suffix)) {
            row.end = t;
            row.outcome = suffix;
          }
        }
    }
  }
  for (const row of rows) if (row.end === undefined) row.end = view.closeTime ? end : now;
  return rows;
}

function timeline(view) {
  const rows = timelineRows(view);
  if (rows.length === 0) return h('p', { class: 'muted' }, 'No activities, timers, children or messages yet.');
  const start = Date.parse(view.startTime);
  const end = Math.max(view.closeTime ? Date.parse(view.closeTime) : Date.now(), ...rows.map((r) => r.end), start + 1);
  const span = end - start;
  return h(
    'div',
    { class: 'timeline' },
    h('div', { class: 'timeline-axis' }, h('span', {}, timeOfDay(view.startTime)), h('span', {}, `${formatDuration(span)}`), h('span', {}, view.closeTime ? timeOfDay(view.closeTime) : 'now')),
    rows.map((row) => {
      const bar = h('div', { class: `bar bar-${row.kind} outcome-${row.outcome}`, title: `${row.label}: ${row.outcome}${row.note ? ` — ${row.note}` : ''}` });
      bar.style.left = `${((row.start - start) / span) * 100}%`;
      bar.style.width = row.outcome === 'point' ? '' : `${Math.max(((row.end - row.start) / span) * 100, 0.4)}%`;
      const label = [row.label, row.kind === 'activity' && row.attempt !== undefined ? `attempt ${row.attempt}` : undefined, row.outcome, row.outcome === 'point' ? undefined : formatDuration(row.end - row.start)]
        .filter(Boolean)
        .join(' · ');
      return h(
        'div',
        { class: `timeline-row row-${row.kind}` },
        h('div', { class: 'timeline-label' }, label, row.note ? h('div', { class: 'muted small' }, row.note) : null),
        h('div', { class: 'timeline-track' }, bar),
      );
    }),
  );
}

function keyValues(pairs) {
  return h(
    'dl',
    { class: 'facts' },
    pairs.filter(([, value]) => value !== undefined && value !== null && value !== '').map(([key, value]) => [h('dt', {}, key), h('dd', {}, value)]),
  );
}

function pendingActivitiesTable(pending) {
  if (pending.length === 0) return h('p', { class: 'muted' }, 'None.');
  return h(
    'table',
    { class: 'pending' },
    h('thead', {}, h('tr', {}, ['Activity', 'State', 'Attempt', 'Last failure', 'Heartbeat', 'Next attempt'].map((t) => h('th', {}, t)))),
    h(
      'tbody',
      {},
      pending.map((p) =>
        h(
          'tr',
          {},
          h('td', {}, `${p.activityType} #${p.activityId}`),
          h('td', {}, p.state),
          h('td', { class: 'num' }, `${p.attempt}${p.maximumAttempts ? ` of ${p.maximumAttempts}` : ''}`),
          h('td', {}, p.lastFailure ? failureBlock(p.lastFailure) : '—'),
          h('td', {}, p.lastHeartbeatTime ? [formatTime(p.lastHeartbeatTime), h('pre', { class: 'payload' }, json(p.heartbeatDetails))] : '—'),
          h('td', {}, p.nextAttemptScheduleTime ? formatTime(p.nextAttemptScheduleTime) : '—'),
        ),
      ),
    ),
  );
}

function outcomeSection(view) {
  const close = view.closeEvent;
  if (!close) return null;
  const a = close.attributes || {};
  switch (close.eventType) {
    case 'WorkflowExecutionCompleted':
      return section('Result', payloadsBlock(a.result, { single: true }), 'result');
    case 'WorkflowExecutionFailed':
      return section('Failure', failureBlock(a.failure), 'failure');
    case 'WorkflowExecutionCanceled':
      return section('Cancelled', a.details?.length ? ['details ', payloadsBlock(a.details)] : h('p', {}, 'The workflow was cancelled.'), 'failure');
    case 'WorkflowExecutionTerminated':
      return section('Terminated', keyValues([['Reason', a.reason || '(none)'], ['By', a.identity]]), 'failure');
    case 'WorkflowExecutionTimedOut':
      return section('Timed out', h('p', {}, `The workflow timed out (retry state ${a.retryState}).`), 'failure');
    default:
      return null;
  }
}

function section(title, body, id) {
  return h('section', { class: 'card', id }, h('h2', {}, title), body);
}

/**
 * The confirmation panel of a page's action buttons. `perform(name, body, done)` posts action
 * `name` to `<base>/<name>` and reports `done` (or the error) in `message`, then refreshes the page,
 * or goes to `listPath` after a delete; `open(title, fields, confirmLabel, submit)` shows a form
 * that asks before `submit(formData)`.
 */
function actionPanel(base, listPath, refresh, message) {
  const panel = h('div', { class: 'action-panel', hidden: true });
  async function perform(name, body, done) {
    message.textContent = '';
    message.className = 'action-result';
    try {
      await api(`${base}/${name}`, { method: 'POST', body });
      panel.hidden = true;
      message.textContent = done;
      if (name === 'delete') return navigate(listPath);
      await refresh();
    } catch (error) {
      message.textContent = error.message;
      message.className = 'action-result error';
    }
  }
  function open(title, fields, confirmLabel, submit) {
    panel.hidden = false;
    const form = h(
      'form',
      {
        onsubmit: (event) => {
          event.preventDefault();
          submit(new FormData(form));
        },
      },
      h('h3', {}, title),
      fields,
      h('div', { class: 'buttons' }, h('button', { type: 'submit', class: 'danger' }, confirmLabel), h('button', { type: 'button', class: 'secondary', onclick: () => (panel.hidden = true) }, 'Back')),
    );
    put(panel, form);
    form.querySelector('input, textarea, button')?.focus();
  }
  return { panel, perform, open };
}

/**
 * The run page's buttons and confirmation panel. `message` is the page's one result line: it
 * outlives the redraws of the bar, so the outcome of an action stays on screen after the
 * refresh that follows it.
 */
function actionsBar(view, ns, refresh, message) {
  if (config.readOnly) return h('p', { class: 'muted small' }, 'Read-only: no actions.');
  const running = view.status === 'RUNNING';
  const { panel, perform, open } = actionPanel(apiRun(ns, view.workflowId, view.runId), `${nsPath(ns)}/workflows`, refresh, message);
  const buttons = h(
    'div',
    { class: 'actions' },
    h('button', {
      type: 'button',
      disabled: !running,
      onclick: () => open('Request cancellation of this run?', h('label', {}, 'Reason ', h('input', { name: 'reason' })), 'Request cancellation', (data) => perform('cancel', { reason: data.get('reason') }, 'Cancellation requested.')),
    }, 'Cancel'),
    h('button', {
      type: 'button',
      disabled: !running,
      onclick: () => open('Terminate this run now? No workflow code runs.', h('label', {}, 'Reason ', h('input', { name: 'reason' })), 'Terminate', (data) => perform('terminate', { reason: data.get('reason') }, 'Terminated.')),
    }, 'Terminate'),
    h('button', {
      type: 'button',
      disabled: !running,
      onclick: () =>
        open(
          'Send a signal',
          [h('label', {}, 'Signal name ', h('input', { name: 'name', required: true })), h('label', {}, 'Arguments (JSON array) ', h('textarea', { name: 'args', rows: 2 }, '[]'))],
          'Send signal',
          (data) => {
            let args;
            try {
              args = JSON.parse(String(data.get('args') || '[]'));
            } catch (error) {
              message.textContent = `The arguments are not valid JSON: ${error.message}`;
              message.className = 'action-result error';
              return;
            }
            if (!Array.isArray(args)) args = [args];
            void perform('signal', { name: data.get('name'), args }, `Signal ${data.get('name')} sent.`);
          },
        ),
    }, 'Signal'),
    h('button', {
      type: 'button',
      class: 'danger-outline',
      onclick: () => open(running ? 'Delete this run? It is terminated first, then its history is gone.' : 'Delete this run and its history?', [], 'Delete', () => perform('delete', {}, 'Deleted.')),
    }, 'Delete'),
  );
  return h('div', {}, buttons, panel);
}

async function runPage(app, ns, workflowId, runId, id) {
  let view = await api(apiRun(ns, workflowId, runId));
  if (stale(id)) return;
  let timer;
  let stopped = false;
  stopPage = () => {
    stopped = true;
    clearTimeout(timer);
  };
  const live = h('span', { class: 'live' });
  const body = h('div');

  async function refresh() {
    try {
      view = await api(apiRun(ns, workflowId, runId));
    } catch (error) {
      if (error.status === 404) {
        put(body, h('div', { class: 'error-box', role: 'alert' }, error.message));
        stopPage();
        return;
      }
      throw error;
    }
    draw();
  }
  function schedule() {
    if (stopped) return;
    if (view.status !== 'RUNNING') return;
    timer = setTimeout(async () => {
      try {
        await refresh();
      } catch {
        // Try again on the next tick.
      }
      schedule();
    }, LIVE_INTERVAL_MS);
  }
  const actions = h('div');
  const actionResult = h('p', { class: 'action-result', role: 'status' });
  function draw() {
    // Keep the open <details> of the history across refreshes.
    const open = new Set([...body.querySelectorAll('tr.event details[open]')].map((d) => d.closest('tr').dataset.eventId));
    const openPanel = actions.querySelector('.action-panel:not([hidden])');
    const status = document.getElementById('run-status');
    put(status, statusBadge(view.status));
    live.textContent = view.status === 'RUNNING' && !stopped ? '● live' : '';
    if (!openPanel) put(actions, actionsBar(view, ns, refresh, actionResult));
    const start = Date.parse(view.startTime);
    const links = [];
    if (view.links.parent) links.push(['Parent', link(runPath(view.links.parent.namespace || ns, view.links.parent.workflowId, view.links.parent.runId), `${view.links.parent.workflowId} / ${view.links.parent.runId.slice(0, 8)}`)]);
    if (view.links.continuedFromRunId) links.push(['Continued from', link(runPath(ns, workflowId, view.links.continuedFromRunId), view.links.continuedFromRunId)]);
    if (view.links.continuedAsNewRunId) links.push(['Continued as new', link(runPath(ns, workflowId, view.links.continuedAsNewRunId), view.links.continuedAsNewRunId)]);
    const children = (view.pendingChildren || []).map((c) => link(runPath(ns, c.workflowId, c.runId), `${c.workflowType} ${c.workflowId}`));
    put(body,
      view.codecError ? h('div', { class: 'warning-box' }, `Payloads are shown as stored: ${view.codecError}`) : null,
      view.describeError ? h('div', { class: 'warning-box' }, `Pending activities and memo are not shown: ${view.describeError}`) : null,
      section(
        'Summary',
        keyValues([
          ['Run ID', h('span', { class: 'mono' }, view.runId)],
          ['Type', view.workflowType],
          ['Task queue', view.taskQueue],
          ['Started', formatTime(view.startTime)],
          ['Closed', formatTime(view.closeTime)],
          ['Duration', formatDuration((view.closeTime ? Date.parse(view.closeTime) : Date.now()) - start)],
          ['History', `${view.historyLength} events`],
          ...links,
          ['Children', children.length ? children : undefined],
        ]),
        'summary',
      ),
      outcomeSection(view),
      section('Input', payloadsBlock(view.input), 'input'),
      view.memo && Object.keys(view.memo).length ? section('Memo', h('pre', { class: 'payload' }, json(view.memo)), 'memo') : null,
      view.pendingWorkflowTask?.lastFailure
        ? section(
            `Workflow task failing (attempt ${view.pendingWorkflowTask.attempt})`,
            [h('p', {}, `cause ${view.pendingWorkflowTask.lastFailureCause ?? ''}`), failureBlock(view.pendingWorkflowTask.lastFailure)],
            'workflow-task',
          )
        : null,
      view.status === 'RUNNING' && view.pendingActivities ? section('Pending activities', pendingActivitiesTable(view.pendingActivities), 'pending-activities') : null,
      section('Timeline', timeline(view), 'timeline'),
      section('History', historyTable(view.events), 'history'),
    );
    for (const id of open) body.querySelector(`tr.event[data-event-id="${id}"] details`)?.setAttribute('open', '');
  }

  put(app,
    h('p', { class: 'crumbs' }, link(`${nsPath(ns)}/workflows`, 'Workflows'), ' / ', workflowId),
    h('div', { class: 'run-title' }, h('h1', {}, workflowId), h('span', { id: 'run-status' }), live),
    actions,
    actionResult,
    body,
  );
  draw();
  schedule();
}

// ---------------------------------------------------------------------------------------------
// Schedules
// ---------------------------------------------------------------------------------------------

const schedulePath = (ns, scheduleId) => `${nsPath(ns)}/schedules/${enc(scheduleId)}`;

function recentActionsTable(ns, actions) {
  if (actions.length === 0) return h('p', { class: 'muted' }, 'None yet.');
  return h(
    'table',
    { class: 'runs recent-actions' },
    h('thead', {}, h('tr', {}, ['Status', 'Workflow ID', 'Scheduled for', 'Taken at'].map((t) => h('th', {}, t)))),
    h(
      'tbody',
      {},
      actions
        .slice()
        .reverse()
        .map((a) =>
          h(
            'tr',
            {},
            h('td', {}, statusBadge(a.status)),
            h('td', {}, a.status === 'FAILED_TO_START' ? a.workflowId : link(runPath(ns, a.workflowId, a.runId), a.workflowId)),
            h('td', {}, formatTime(a.scheduledAt)),
            h('td', {}, formatTime(a.takenAt)),
          ),
        ),
    ),
  );
}

async function schedulesPage(app, ns, id) {
  const { namespaceExists, schedules } = await api(`/api/namespaces/${enc(ns)}/schedules`);
  if (stale(id)) return;
  const table = schedules.length
    ? h(
        'table',
        { class: 'runs schedules' },
        h('thead', {}, h('tr', {}, ['Schedule ID', 'Workflow type', 'Spec', 'Next run', 'State', 'Recent actions'].map((t) => h('th', {}, t)))),
        h(
          'tbody',
          {},
          schedules.map((s) =>
            h(
              'tr',
              {},
              h('td', {}, link(schedulePath(ns, s.scheduleId), s.scheduleId)),
              h('td', {}, s.workflowType),
              h('td', { class: 'mono' }, s.spec),
              h('td', {}, s.paused ? '—' : formatTime(s.nextActionTimes[0])),
              h('td', { title: s.note || undefined }, s.paused ? h('span', { class: 'badge' }, 'paused') : 'active'),
              h(
                'td',
                {},
                s.recentActions.length
                  ? s.recentActions
                      .slice()
                      .reverse()
                      .map((a) => h('div', {}, statusBadge(a.status), ' ', a.status === 'FAILED_TO_START' ? a.workflowId : link(runPath(ns, a.workflowId, a.runId), a.workflowId)))
                  : h('span', { class: 'muted' }, 'none yet'),
              ),
            ),
          ),
        ),
      )
    : h('p', { class: 'empty' }, namespaceExists ? 'No schedules. Create one with client.createSchedule() or durabull schedule create.' : `Namespace ${ns} does not exist yet: no client or worker has opened it.`);
  put(app, h('h1', {}, 'Schedules'), h('p', { class: 'count' }, `${schedules.length} schedule${schedules.length === 1 ? '' : 's'}`), table);
}

/** The schedule page's buttons: pause or unpause (with a note), trigger, delete. */
function scheduleActions(s, ns, refresh, message) {
  if (config.readOnly) return h('p', { class: 'muted small' }, 'Read-only: no actions.');
  const { panel, perform, open } = actionPanel(`/api/namespaces/${enc(ns)}/schedules/${enc(s.scheduleId)}`, `${nsPath(ns)}/schedules`, refresh, message);
  const toggle = s.paused ? 'unpause' : 'pause';
  const buttons = h(
    'div',
    { class: 'actions' },
    h('button', {
      type: 'button',
      onclick: () =>
        open(s.paused ? 'Unpause this schedule? Times that passed while paused do not run.' : 'Pause this schedule? Its times are skipped until it is unpaused.', h('label', {}, 'Note ', h('input', { name: 'note' })), s.paused ? 'Unpause schedule' : 'Pause schedule', (data) =>
          perform(toggle, { note: data.get('note') }, s.paused ? 'Unpaused.' : 'Paused.'),
        ),
    }, s.paused ? 'Unpause' : 'Pause'),
    h('button', { type: 'button', onclick: () => perform('trigger', {}, 'Triggered: the workflow was started.') }, 'Trigger now'),
    h('button', { type: 'button', class: 'danger-outline', onclick: () => open('Delete this schedule? The runs it started go on.', [], 'Delete', () => perform('delete', {}, 'Deleted.')) }, 'Delete'),
  );
  return h('div', {}, buttons, panel);
}

/** `message` is the page's one result line: it outlives the redraw that follows an action. */
async function schedulePage(app, ns, scheduleId, id, message = h('p', { class: 'action-result', role: 'status' })) {
  const s = await api(`/api/namespaces/${enc(ns)}/schedules/${enc(scheduleId)}`);
  if (stale(id)) return;
  const refresh = () => schedulePage(app, ns, scheduleId, id, message);
  put(app,
    h('p', { class: 'muted small' }, link(`${nsPath(ns)}/schedules`, '← Schedules')),
    h('h1', {}, `Schedule ${s.scheduleId}`, ' ', s.paused ? h('span', { class: 'badge' }, 'paused') : ''),
    scheduleActions(s, ns, refresh, message),
    message,
    section(
      'Schedule',
      keyValues([
        ['Spec', s.spec],
        ['Time zone', s.timezone],
        ['Workflow type', s.workflowType],
        ['Workflow id', `${s.workflowId}-<scheduled time>`],
        ['Task queue', s.taskQueue],
        ['Arguments', h('pre', { class: 'payload' }, json(s.args))],
        ['Overlap policy', s.overlap],
        ['Catch-up window', formatDuration(s.catchupWindow)],
        ['Pause on failure', s.pauseOnFailure ? 'yes' : 'no'],
        ['State', s.paused ? 'paused' : 'active'],
        ['Note', s.note],
        ['Remaining actions', s.remainingActions === undefined ? 'unlimited' : String(s.remainingActions)],
        ['Actions taken', String(s.actionCount)],
        ['Skipped (overlap)', String(s.skippedOverlap)],
        ['Missed (catch-up window)', String(s.missedCatchupWindow)],
        ['Buffered', String(s.bufferSize)],
        ['Created', formatTime(s.createdAt)],
        ['Updated', formatTime(s.updatedAt)],
      ]),
      'schedule',
    ),
    section(
      'Next runs',
      s.nextActionTimes.length ? h('ul', { class: 'next-runs' }, s.nextActionTimes.map((t) => h('li', {}, formatTime(t)))) : h('p', { class: 'muted' }, s.paused ? 'None while paused.' : 'None.'),
      'next-runs',
    ),
    section('Recent actions', recentActionsTable(ns, s.recentActions), 'recent-actions'),
  );
}

// ---------------------------------------------------------------------------------------------

async function boot() {
  try {
    config = await api('/api/config');
  } catch (error) {
    put(document.getElementById('app'), h('div', { class: 'error-box', role: 'alert' }, error.message));
    return;
  }
  put(document.getElementById('mode'), config.readOnly ? h('span', { class: 'badge' }, 'read-only') : '', config.codec ? h('span', { class: 'badge' }, 'codec') : '');
  document.getElementById('footer').textContent = `durabull ${config.version}`;
  document.getElementById('namespace').addEventListener('change', (event) => navigate(`${nsPath(event.target.value)}/workflows`));
  await render();
}

void boot();
