import { RetryState, TimeoutType } from './enums';
import {
  ActivityError,
  ApplicationError,
  CancelledError,
  DurabullError,
  FailureError,
  IllegalStateError,
  isCancellation,
  NondeterminismError,
  PayloadSizeError,
  RedisConnectionError,
  ReplicationTimeoutError,
  ServerError,
  TerminatedError,
  TimeoutError,
  WorkflowAlreadyStartedError,
  WorkflowFailureError,
  WorkflowNotFoundError,
} from './errors';

const activityFields = {
  activityId: '1',
  activityType: 'your_activity',
  scheduledEventId: 5,
  startedEventId: 6,
  retryState: RetryState.MAXIMUM_ATTEMPTS_REACHED,
};

describe('error classes', () => {
  it('name each instance after its class and keep the Error chain', () => {
    const errors: Array<[Error, string]> = [
      [new DurabullError('x'), 'DurabullError'],
      [new ApplicationError('x'), 'ApplicationError'],
      [new ActivityError('x', activityFields), 'ActivityError'],
      [new TimeoutError('x', { type: TimeoutType.HEARTBEAT }), 'TimeoutError'],
      [new CancelledError(), 'CancelledError'],
      [new TerminatedError(), 'TerminatedError'],
      [new ServerError('x'), 'ServerError'],
      [new WorkflowFailureError({ cause: undefined, workflowId: 'w', runId: 'r' }), 'WorkflowFailureError'],
      [new NondeterminismError('x'), 'NondeterminismError'],
      [new WorkflowAlreadyStartedError('w', 'T'), 'WorkflowAlreadyStartedError'],
      [new WorkflowNotFoundError('w'), 'WorkflowNotFoundError'],
      [new IllegalStateError('x'), 'IllegalStateError'],
    ];
    for (const [err, name] of errors) {
      expect(err.name).toBe(name);
      expect(err).toBeInstanceOf(DurabullError);
      expect(err).toBeInstanceOf(Error);
      expect(err.stack).toMatch(new RegExp(`^${name}: `));
    }
    expect(new ApplicationError('x')).not.toBeInstanceOf(TimeoutError);
    expect(new Error('x')).not.toBeInstanceOf(DurabullError);
    expect({ name: 'ApplicationError' }).not.toBeInstanceOf(ApplicationError);
  });

  it('keeps cause as a real own property, and leaves it out when not given', () => {
    const inner = new Error('inner');
    const err = new DurabullError('outer', { cause: inner });
    expect(err.cause).toBe(inner);
    expect(Object.prototype.hasOwnProperty.call(err, 'cause')).toBe(true);
    expect(Object.prototype.hasOwnProperty.call(new DurabullError('x'), 'cause')).toBe(false);
  });

  it('gives ApplicationError its defaults, options and static helpers', () => {
    const plain = new ApplicationError('plain');
    expect([plain.type, plain.nonRetryable, plain.details, plain.nextRetryDelay]).toEqual([undefined, false, [], undefined]);
    expect(new ApplicationError().message).toBe('');

    const full = new ApplicationError('full', { type: 'Quota', nonRetryable: true, details: [1, 'a'], nextRetryDelay: '1.5s' });
    expect([full.type, full.nonRetryable, full.details, full.nextRetryDelay]).toEqual(['Quota', true, [1, 'a'], 1500]);
    expect(new ApplicationError('x', { nextRetryDelay: { minutes: 1 } }).nextRetryDelay).toBe(60_000);

    const created = ApplicationError.create({ message: 'made', type: 'T', details: [true] });
    expect(created).toBeInstanceOf(ApplicationError);
    expect([created.message, created.type, created.details, created.nonRetryable]).toEqual(['made', 'T', [true], false]);

    const retryable = ApplicationError.retryable('again', 'Busy', 1, 2);
    expect([retryable.message, retryable.type, retryable.details, retryable.nonRetryable]).toEqual(['again', 'Busy', [1, 2], false]);
    const fatal = ApplicationError.nonRetryable('never', 'Bad', { why: 'x' });
    expect([fatal.message, fatal.type, fatal.details, fatal.nonRetryable]).toEqual(['never', 'Bad', [{ why: 'x' }], true]);
  });

  it('rejects an invalid nextRetryDelay, quoting it', () => {
    expect(() => new ApplicationError('x', { nextRetryDelay: 'soon' })).toThrow(
      new TypeError(`Invalid duration for nextRetryDelay: "soon" (use milliseconds, a string like '10s' or an object like { seconds: 10 })`),
    );
    expect(() => new ApplicationError('x', { nextRetryDelay: -5 })).toThrow(
      new TypeError('Invalid duration for nextRetryDelay: -5 (a duration cannot be negative)'),
    );
  });

  it('gives the other classes their fields and default messages', () => {
    const cause = new ApplicationError('inner');
    const activity = new ActivityError('Activity task failed', { ...activityFields, identity: 'worker-1', cause });
    expect(activity).toMatchObject({ ...activityFields, identity: 'worker-1', message: 'Activity task failed' });
    expect(activity.cause).toBe(cause);

    const timeout = new TimeoutError('activity Heartbeat timeout', { type: TimeoutType.HEARTBEAT, lastHeartbeatDetails: [42] });
    expect([timeout.type, timeout.lastHeartbeatDetails]).toEqual([TimeoutType.HEARTBEAT, [42]]);
    expect(new TimeoutError('t', { type: TimeoutType.START_TO_CLOSE }).lastHeartbeatDetails).toEqual([]);

    expect([new CancelledError().message, new CancelledError().details]).toEqual(['Cancelled', []]);
    expect(new CancelledError('Activity cancelled', ['why']).details).toEqual(['why']);

    expect([new TerminatedError().message, new TerminatedError().details]).toEqual(['Workflow terminated', []]);
    expect(new TerminatedError('by admin', { details: [1] }).details).toEqual([1]);

    expect(new ServerError('x').nonRetryable).toBe(false);
    expect(new ServerError('too big', { nonRetryable: true }).nonRetryable).toBe(true);

    const failed = new WorkflowFailureError({ cause, workflowId: 'greet-1', runId: 'run-1' });
    expect([failed.message, failed.workflowId, failed.runId, failed.cause]).toEqual(['Workflow execution failed', 'greet-1', 'run-1', cause]);

    const nondeterminism = new NondeterminismError('mismatch', { event: { eventId: 5 }, command: { type: 'StartTimer' } });
    expect([nondeterminism.event, nondeterminism.command]).toEqual([{ eventId: 5 }, { type: 'StartTimer' }]);
    expect([new NondeterminismError('x').event, new NondeterminismError('x').command]).toEqual([undefined, undefined]);

    const started = new WorkflowAlreadyStartedError('greet-1', 'YourWorkflow');
    expect(started.message).toBe('Workflow execution already started: workflowId="greet-1" workflowType="YourWorkflow"');
    expect([started.workflowId, started.workflowType, started.runId]).toEqual(['greet-1', 'YourWorkflow', undefined]);
    const running = new WorkflowAlreadyStartedError('greet-1', 'YourWorkflow', 'run-7');
    expect(running.message).toBe('Workflow execution is already running. WorkflowId: greet-1, RunId: run-7.');
    expect(running.runId).toBe('run-7');

    expect(new WorkflowNotFoundError('greet-1').message).toBe('Workflow execution not found: workflowId="greet-1"');
    const notFound = new WorkflowNotFoundError('greet-1', 'run-9');
    expect(notFound.message).toBe('Workflow execution not found: workflowId="greet-1" runId="run-9"');
    expect([notFound.workflowId, notFound.runId]).toEqual(['greet-1', 'run-9']);

    expect(new IllegalStateError('activity.info() called outside an activity').message).toBe(
      'activity.info() called outside an activity',
    );
  });

  it('puts the failures that may fail a workflow in the FailureError branch, and no other error', () => {
    const failures: Error[] = [
      new ApplicationError('x'),
      new ActivityError('x', activityFields),
      new TimeoutError('x', { type: TimeoutType.START_TO_CLOSE }),
      new CancelledError(),
      new TerminatedError(),
      new ServerError('x'),
    ];
    for (const err of failures) {
      expect(err).toBeInstanceOf(FailureError);
      expect(err).toBeInstanceOf(DurabullError);
    }
    const others: Error[] = [
      new DurabullError('x'),
      new IllegalStateError('x'),
      new PayloadSizeError('Activity a result', 3_000_000, 2_097_152),
      new RedisConnectionError(new Error('connect ECONNREFUSED')),
      new ReplicationTimeoutError('w', 'r', 'startWorkflow', 1, 0, 100),
      new WorkflowNotFoundError('w'),
      new WorkflowAlreadyStartedError('w', 'T'),
      new WorkflowFailureError({ cause: undefined, workflowId: 'w', runId: 'r' }),
      new NondeterminismError('x'),
      new TypeError('x'),
    ];
    for (const err of others) expect(err).not.toBeInstanceOf(FailureError);
    expect(FailureError.prototype.name).toBe('FailureError');
    class QuotaError extends ApplicationError {}
    expect(new QuotaError('over quota')).toBeInstanceOf(FailureError);
  });

  it('lets user subclasses work with instanceof without widening it', () => {
    class QuotaError extends ApplicationError {}
    const quota = new QuotaError('over quota', { type: 'Quota' });
    expect(quota).toBeInstanceOf(QuotaError);
    expect(quota).toBeInstanceOf(ApplicationError);
    expect(quota).toBeInstanceOf(DurabullError);
    expect(new ApplicationError('x')).not.toBeInstanceOf(QuotaError);
  });

  it('answers instanceof across two copies of the module, both ways', () => {
    let copy!: typeof import('./errors');
    jest.isolateModules(() => {
      copy = require('./errors') as typeof import('./errors');
    });
    expect(copy.ApplicationError).not.toBe(ApplicationError);

    const theirs = new copy.ApplicationError('theirs', { type: 'T' });
    expect(theirs instanceof ApplicationError).toBe(true);
    expect(theirs instanceof DurabullError).toBe(true);
    expect(theirs instanceof FailureError).toBe(true);
    expect(theirs instanceof TimeoutError).toBe(false);
    expect(new copy.IllegalStateError('x') instanceof FailureError).toBe(false);
    const ours = new ActivityError('ours', activityFields);
    expect(ours instanceof copy.ActivityError).toBe(true);
    expect(ours instanceof copy.DurabullError).toBe(true);
    expect(ours instanceof copy.ApplicationError).toBe(false);
    expect(ours instanceof copy.FailureError).toBe(true);
    expect(new WorkflowNotFoundError('w') instanceof copy.FailureError).toBe(false);
    expect(isCancellation(new copy.CancelledError())).toBe(true);
    expect(copy.isCancellation(new ActivityError('x', { ...activityFields, cause: new CancelledError() }))).toBe(true);
  });
});

describe('isCancellation', () => {
  it('is true for a CancelledError and an ActivityError caused by one, false otherwise', () => {
    expect(isCancellation(new CancelledError())).toBe(true);
    expect(isCancellation(new ActivityError('Activity cancelled', { ...activityFields, cause: new CancelledError() }))).toBe(true);
    expect(isCancellation(new ActivityError('Activity task failed', { ...activityFields, cause: new ApplicationError('x') }))).toBe(false);
    expect(isCancellation(new ApplicationError('x', { cause: new CancelledError() }))).toBe(false);
    expect(isCancellation(new Error('Cancelled'))).toBe(false);
    expect(isCancellation('Cancelled')).toBe(false);
    expect(isCancellation(undefined)).toBe(false);
  });
});
