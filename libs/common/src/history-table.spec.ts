import { ActivityCancellationType, EventType, RetryState, TimeoutType, WorkflowTaskFailedCause } from './enums';
import { ApplicationError } from './errors';
import { encodeFailure } from './failure';
import type { HistoryEvent, TypedHistoryEvent } from './history';
import { formatHistoryTable } from './history-table';
import { DEFAULT_PAYLOAD_CONVERTER } from './payload';
import { compileRetryPolicy } from './retry-policy';

const payloads = (...values: unknown[]) => DEFAULT_PAYLOAD_CONVERTER.toPayloads(values);
const failure = (message: string, type: string) => {
  const f = encodeFailure(new ApplicationError(message, { type }));
  delete f.stackTrace;
  return f;
};

let nextId = 1;
function event<E extends TypedHistoryEvent>(eventType: E['eventType'], attributes: E['attributes'], ms = nextId * 7): E {
  return { eventId: nextId++, eventTime: new Date(Date.UTC(2026, 0, 2, 9, 30, 0, ms)).toISOString(), eventType, attributes } as E;
}

describe('formatHistoryTable', () => {
  it('renders a one-activity history as a fixed-width table', () => {
    nextId = 1;
    const history: TypedHistoryEvent[] = [
      event(EventType.WorkflowExecutionStarted, {
        workflowType: 'YourWorkflow', workflowId: 'greet-1', taskQueue: 'hello', input: payloads('World'),
        workflowExecutionTimeout: 0, workflowRunTimeout: 0, workflowTaskTimeout: 10_000, attempt: 1,
        identity: 'client-1', firstExecutionRunId: 'run-1', randomnessSeed: '42',
      }),
      event(EventType.WorkflowTaskScheduled, { taskQueue: 'hello', startToCloseTimeout: 10_000, attempt: 1 }),
      event(EventType.WorkflowTaskStarted, { scheduledEventId: 2, identity: 'worker-1' }),
      event(EventType.WorkflowTaskCompleted, { scheduledEventId: 2, startedEventId: 3, identity: 'worker-1' }),
      event(EventType.ActivityTaskScheduled, {
        activityId: '1', activityType: 'your_activity', taskQueue: 'hello', input: payloads({ greeting: 'Hello', name: 'World' }),
        scheduleToCloseTimeout: 0, scheduleToStartTimeout: 0, startToCloseTimeout: 10_000, heartbeatTimeout: 0,
        retryPolicy: compileRetryPolicy(), cancellationType: ActivityCancellationType.TRY_CANCEL, workflowTaskCompletedEventId: 4,
      }),
      event(EventType.ActivityTaskStarted, { scheduledEventId: 5, identity: 'worker-2', attempt: 2, lastFailure: failure('connection reset', 'NetworkError') }),
      event(EventType.ActivityTaskCompleted, { result: payloads('Hello, World!'), scheduledEventId: 5, startedEventId: 6, identity: 'worker-2' }),
      event(EventType.WorkflowExecutionCompleted, { result: payloads('x'.repeat(100)), workflowTaskCompletedEventId: 10 }),
    ];
    expect(formatHistoryTable(history)).toBe(
      [
        'ID  TIME          TYPE                        DETAILS',
        '1   09:30:00.007  WorkflowExecutionStarted    type=YourWorkflow id=greet-1 taskQueue=hello input=["World"] taskTimeout=10s',
        '2   09:30:00.014  WorkflowTaskScheduled       taskQueue=hello startToClose=10s attempt=1',
        '3   09:30:00.021  WorkflowTaskStarted         scheduled=2 identity=worker-1',
        '4   09:30:00.028  WorkflowTaskCompleted       scheduled=2 started=3',
        '5   09:30:00.035  ActivityTaskScheduled       activityId=1 type=your_activity startToClose=10s input=[{"greeting":"Hello","name":"World"}]',
        '6   09:30:00.042  ActivityTaskStarted         scheduled=5 attempt=2 lastFailure="connection reset"',
        '7   09:30:00.049  ActivityTaskCompleted       scheduled=5 started=6 result="Hello, World!"',
        `8   09:30:00.056  WorkflowExecutionCompleted  result="${'x'.repeat(58)}…`,
      ].join('\n'),
    );
  });

  it('shows child workflow events: the child, its initiated event, its outcome', () => {
    nextId = 5;
    const child = { workflowId: 'ship-1', runId: 'r-1' };
    const rows = formatHistoryTable([
      event(EventType.StartChildWorkflowExecutionInitiated, {
        workflowId: 'ship-1',
        workflowType: 'Shipping',
        taskQueue: 'q',
        input: payloads('book'),
        workflowExecutionTimeout: 0,
        workflowRunTimeout: 60_000,
        workflowTaskTimeout: 10_000,
        parentClosePolicy: 'TERMINATE' as never,
        workflowTaskCompletedEventId: 4,
        workflowIdReusePolicy: 'ALLOW_DUPLICATE',
      }),
      event(EventType.ChildWorkflowExecutionStarted, { initiatedEventId: 5, workflowExecution: child, workflowType: 'Shipping' }),
      event(EventType.ChildWorkflowExecutionFailed, {
        initiatedEventId: 5,
        startedEventId: 6,
        workflowExecution: child,
        workflowType: 'Shipping',
        failure: failure('no such order', 'OrderError'),
        retryState: RetryState.RETRY_POLICY_NOT_SET,
      }),
    ]).split('\n');
    expect(rows.slice(1).map((row) => row.replace(/^\d+\s+\S+\s+\S+\s+/, ''))).toEqual([
      'workflowId=ship-1 type=Shipping taskQueue=q runTimeout=1m parentClosePolicy=TERMINATE input=["book"]',
      'workflowId=ship-1 runId=r-1 initiated=5',
      'workflowId=ship-1 initiated=5 failure="no such order" (OrderError, RETRY_POLICY_NOT_SET)',
    ]);
  });

  it('shows a signal: its name, decoded input and sender', () => {
    nextId = 2;
    const signaled = event(EventType.WorkflowExecutionSignaled, { signalName: 'addItem', input: payloads('apple', 2), identity: 'client-1' });
    expect(formatHistoryTable([signaled]).split('\n')[1]).toBe(
      '2   09:30:00.014  WorkflowExecutionSignaled  signal=addItem input=["apple",2] identity=client-1',
    );
  });

  it('summarises failures, timeouts, cancellations and timers', () => {
    nextId = 10;
    const previous = encodeFailure(new ApplicationError('x'));
    const history: TypedHistoryEvent[] = [
      event(EventType.ActivityTaskFailed, {
        failure: failure('card declined', 'CardDeclined'), scheduledEventId: 5, startedEventId: 6, identity: 'w', retryState: RetryState.NON_RETRYABLE_FAILURE,
      }),
      event(EventType.ActivityTaskTimedOut, {
        failure: { message: 'activity StartToClose timeout', timeoutFailureInfo: { timeoutType: TimeoutType.START_TO_CLOSE }, cause: previous },
        scheduledEventId: 5, startedEventId: 6, retryState: RetryState.MAXIMUM_ATTEMPTS_REACHED,
      }),
      event(EventType.ActivityTaskCancelRequested, { scheduledEventId: 5, workflowTaskCompletedEventId: 9 }),
      event(EventType.ActivityTaskCanceled, {
        details: payloads('ACTIVITY_ID_NOT_STARTED'), latestCancelRequestedEventId: 12, scheduledEventId: 5, startedEventId: 0, identity: '',
      }),
      event(EventType.TimerStarted, { timerId: '1', startToFireTimeout: 90_000, workflowTaskCompletedEventId: 9 }),
      event(EventType.TimerFired, { timerId: '1', startedEventId: 14 }),
      event(EventType.WorkflowTaskFailed, {
        scheduledEventId: 16, startedEventId: 17, cause: WorkflowTaskFailedCause.NON_DETERMINISTIC_ERROR,
        failure: failure('no command for event 5', 'NondeterminismError'), identity: 'w',
      }),
      event(EventType.WorkflowExecutionFailed, {
        failure: { message: 'Activity task failed', activityFailureInfo: { scheduledEventId: 5, startedEventId: 6, activityType: 'a', activityId: '1', retryState: RetryState.NON_RETRYABLE_FAILURE } },
        retryState: RetryState.RETRY_POLICY_NOT_SET, workflowTaskCompletedEventId: 20,
      }),
      event(EventType.WorkflowExecutionTerminated, { reason: 'stuck', details: [], identity: 'admin' }),
    ];
    const [header = '', ...rows] = formatHistoryTable(history).split('\n');
    const lines = [header, ...rows].map((line) => line.slice(header.indexOf('DETAILS')));
    expect(lines).toEqual([
      'DETAILS',
      'scheduled=5 started=6 failure="card declined" (CardDeclined, NON_RETRYABLE_FAILURE)',
      'scheduled=5 started=6 failure="activity StartToClose timeout" (START_TO_CLOSE, MAXIMUM_ATTEMPTS_REACHED)',
      'scheduled=5',
      'scheduled=5 started=0 details=["ACTIVITY_ID_NOT_STARTED"]',
      'timerId=1 startToFire=1m30s',
      'timerId=1 started=14',
      'scheduled=16 started=17 cause=NON_DETERMINISTIC_ERROR failure="no command for event 5" (NondeterminismError)',
      'failure="Activity task failed" (ActivityError, RETRY_POLICY_NOT_SET)',
      'reason="stuck" identity=admin',
    ]);
  });

  it('never throws on malformed or unknown events', () => {
    const odd = [
      { eventId: 1, eventTime: 'yesterday', eventType: 'MarkerRecorded', attributes: { markerName: 'core_patch' } },
      { eventId: 2, eventTime: '2026-01-02T09:30:00.000Z', eventType: EventType.ActivityTaskCompleted, attributes: { result: [{ metadata: { encoding: 'x' } }] } },
      { eventId: 3, eventTime: '2026-01-02T09:30:00.000Z', eventType: EventType.WorkflowExecutionFailed, attributes: {} },
    ] as HistoryEvent[];
    expect(formatHistoryTable(odd).split('\n')).toEqual([
      'ID  TIME          TYPE                     DETAILS',
      '1   yesterday     MarkerRecorded           {"markerName":"core_patch"}',
      '2   09:30:00.000  ActivityTaskCompleted    scheduled=undefined started=undefined result=<undecodable>',
      '3   09:30:00.000  WorkflowExecutionFailed  failure=-',
    ]);
    expect(formatHistoryTable([])).toBe('ID  TIME  TYPE  DETAILS');
  });
});
