import { RetryState, TimeoutType } from './enums';
import {
  ActivityError,
  ApplicationError,
  CancelledError,
  DurabullError,
  IllegalStateError,
  NondeterminismError,
  ServerError,
  TerminatedError,
  TimeoutError,
  WorkflowAlreadyStartedError,
  WorkflowFailureError,
  WorkflowNotFoundError,
} from './errors';
import { DEFAULT_FAILURE_CONVERTER, decodeFailure, encodeFailure, type Failure, FailureConverter } from './failure';
import { PayloadConverter } from './payload';

const converter = new FailureConverter(new PayloadConverter());

/** Through the converter and through JSON, as history stores it. */
function roundTrip(err: unknown): DurabullError {
  const failure = JSON.parse(JSON.stringify(converter.errorToFailure(err))) as Failure;
  return converter.failureToError(failure);
}

/** Same class, message, stack and own fields, recursively through `cause`. */
function expectSameError(actual: unknown, expected: Error): void {
  expect(actual).toBeInstanceOf(expected.constructor);
  const got = actual as Error;
  expect(got.name).toBe(expected.name);
  expect(got.message).toBe(expected.message);
  expect(got.stack).toBe(expected.stack);
  const fields = (err: Error) => Object.fromEntries(Object.entries(err).filter(([key]) => key !== 'stack'));
  expect(fields(got)).toEqual(fields(expected));
  if (expected.cause instanceof Error) expectSameError(got.cause, expected.cause);
  else expect(got.cause).toEqual(expected.cause);
}

const activityFields = {
  activityId: '7',
  activityType: 'charge_card',
  scheduledEventId: 5,
  startedEventId: 6,
  identity: 'worker-1@host',
  retryState: RetryState.MAXIMUM_ATTEMPTS_REACHED,
};

describe('FailureConverter round trips', () => {
  const cases: Array<[string, () => Error]> = [
    ['an ApplicationError with every field', () =>
      new ApplicationError('card declined', {
        type: 'CardDeclined',
        nonRetryable: true,
        details: [{ code: 51 }, 'insufficient funds', null],
        nextRetryDelay: '30s',
      })],
    ['an ApplicationError with no type', () => new ApplicationError('untyped')],
    ['an ActivityError with its cause', () =>
      new ActivityError('Activity task failed', { ...activityFields, cause: new ApplicationError('boom', { type: 'Boom' }) })],
    ['an ActivityError without identity', () =>
      new ActivityError('Activity task timed out', { ...activityFields, identity: undefined, retryState: RetryState.TIMEOUT })],
    ['a TimeoutError with heartbeat details and a cause', () =>
      new TimeoutError('activity Heartbeat timeout', {
        type: TimeoutType.HEARTBEAT,
        lastHeartbeatDetails: [{ processed: 120 }],
        cause: new ApplicationError('previous attempt failed'),
      })],
    ['a CancelledError with details', () => new CancelledError('Cancelled', ['ACTIVITY_ID_NOT_STARTED'])],
    ['a TerminatedError with details', () => new TerminatedError('operator stopped it', { details: ['ticket-42'] })],
    ['a ServerError', () => new ServerError('Complete result exceeds size limit.', { nonRetryable: true })],
    ['a WorkflowFailureError', () =>
      new WorkflowFailureError({ cause: new ActivityError('Activity task failed', { ...activityFields, cause: new ApplicationError('x') }), workflowId: 'greet-1', runId: 'run-1' })],
    ['a NondeterminismError', () =>
      new NondeterminismError('[TMPRL1100] Nondeterminism error: no command for event 5', {
        event: { eventId: 5, eventType: 'TimerStarted' },
        command: { type: 'ScheduleActivityTask', activityId: '1' },
      })],
    ['a NondeterminismError with no command', () => new NondeterminismError('extra event', { event: { eventId: 9 } })],
    ['a WorkflowAlreadyStartedError', () => new WorkflowAlreadyStartedError('greet-1', 'YourWorkflow')],
    ['a WorkflowAlreadyStartedError with the existing run and a reuse-policy message', () =>
      new WorkflowAlreadyStartedError('greet-1', 'YourWorkflow', 'run-7',
        'Workflow execution already finished. WorkflowId: greet-1, RunId: run-7. Workflow Id reuse policy: reject duplicate workflow Id.')],
    ['a WorkflowNotFoundError', () => new WorkflowNotFoundError('greet-1', 'run-2')],
    ['a WorkflowNotFoundError without run id', () => new WorkflowNotFoundError('greet-1')],
    ['an IllegalStateError', () => new IllegalStateError('activity.info() called outside an activity')],
    ['an error whose constructor takes no cause', () => {
      const err = new WorkflowNotFoundError('greet-1');
      Object.defineProperty(err, 'cause', { value: new ServerError('redis down'), writable: true, configurable: true });
      return err;
    }],
  ];

  it.each(cases)('rebuilds %s with its class, message, stack and fields', (_name, make) => {
    const original = make();
    expectSameError(roundTrip(original), original);
  });

  it('keeps a long cause chain across classes', () => {
    const root = new TypeError('undefined is not a function');
    const app = new ApplicationError('wrapped', { type: 'Wrapper', cause: root });
    const timeout = new TimeoutError('activity StartToClose timeout', { type: TimeoutType.START_TO_CLOSE, cause: app });
    const activity = new ActivityError('Activity task timed out', { ...activityFields, retryState: RetryState.TIMEOUT, cause: timeout });
    const top = new WorkflowFailureError({ cause: activity, workflowId: 'w', runId: 'r' });

    const back = roundTrip(top) as WorkflowFailureError;
    expect(back).toBeInstanceOf(WorkflowFailureError);
    const backActivity = back.cause as ActivityError;
    expect(backActivity).toBeInstanceOf(ActivityError);
    expect(backActivity.retryState).toBe(RetryState.TIMEOUT);
    const backTimeout = backActivity.cause as TimeoutError;
    expect(backTimeout).toBeInstanceOf(TimeoutError);
    expect(backTimeout.type).toBe(TimeoutType.START_TO_CLOSE);
    const backApp = backTimeout.cause as ApplicationError;
    expect([backApp.message, backApp.type]).toEqual(['wrapped', 'Wrapper']);
    const backRoot = backApp.cause as ApplicationError;
    expect(backRoot).toBeInstanceOf(ApplicationError);
    expect([backRoot.message, backRoot.type, backRoot.nonRetryable, backRoot.stack]).toEqual([
      'undefined is not a function',
      'TypeError',
      false,
      root.stack,
    ]);
  });

  it('is lossless from Failure to error and back', () => {
    const failure = converter.errorToFailure(
      new ActivityError('Activity task failed', {
        ...activityFields,
        cause: new ApplicationError('boom', { type: 'Boom', details: [1], nextRetryDelay: 1000, cause: new CancelledError() }),
      }),
    );
    expect(converter.errorToFailure(converter.failureToError(failure))).toEqual(failure);
  });
});

describe('FailureConverter.errorToFailure', () => {
  it('writes the Temporal-shaped info of each class', () => {
    const app = converter.errorToFailure(new ApplicationError('m', { type: 'T', nonRetryable: true, details: ['d'], nextRetryDelay: '2s' }));
    expect(app).toEqual({
      message: 'm',
      source: 'Durabull',
      stackTrace: expect.stringMatching(/^ApplicationError: m\n/),
      applicationFailureInfo: {
        type: 'T',
        nonRetryable: true,
        details: [{ metadata: { encoding: 'json/plain' }, data: 'd' }],
        nextRetryDelay: 2000,
      },
    });
    expect(converter.errorToFailure(new ApplicationError('m')).applicationFailureInfo).toEqual({ type: '', nonRetryable: false });
    expect(converter.errorToFailure(new TimeoutError('t', { type: TimeoutType.SCHEDULE_TO_CLOSE })).timeoutFailureInfo).toEqual({
      timeoutType: 'SCHEDULE_TO_CLOSE',
    });
    expect(converter.errorToFailure(new CancelledError()).canceledFailureInfo).toEqual({});
    expect(converter.errorToFailure(new TerminatedError()).terminatedFailureInfo).toEqual({});
    expect(converter.errorToFailure(new ServerError('s')).serverFailureInfo).toEqual({ nonRetryable: false });
    expect(converter.errorToFailure(new ActivityError('a', activityFields)).activityFailureInfo).toEqual(activityFields);
    expect(converter.errorToFailure(new WorkflowNotFoundError('w')).applicationFailureInfo).toEqual({
      type: 'WorkflowNotFoundError',
      nonRetryable: false,
      details: [{ metadata: { encoding: 'json/plain' }, data: 'w' }, { metadata: { encoding: 'binary/null' } }],
    });
  });

  it('wraps any other Error as a retryable ApplicationError named after its class', () => {
    class PaymentGatewayDown extends Error {}
    const failure = converter.errorToFailure(new PaymentGatewayDown('503 from gateway', { cause: new RangeError('inner') }));
    expect(failure.message).toBe('503 from gateway');
    expect(failure.applicationFailureInfo).toEqual({ type: 'PaymentGatewayDown', nonRetryable: false });
    expect(failure.stackTrace).toMatch(/503 from gateway/);
    expect(failure.cause?.applicationFailureInfo?.type).toBe('RangeError');

    const back = converter.failureToError(failure) as ApplicationError;
    expect(back).toBeInstanceOf(ApplicationError);
    expect([back.message, back.type, back.nonRetryable]).toEqual(['503 from gateway', 'PaymentGatewayDown', false]);
    expect(converter.errorToFailure(new TypeError('t')).applicationFailureInfo?.type).toBe('TypeError');
  });

  it('treats a user subclass of DurabullError like any other error', () => {
    class QuotaExceeded extends DurabullError {}
    expect(converter.errorToFailure(new QuotaExceeded('over')).applicationFailureInfo).toEqual({ type: 'QuotaExceeded', nonRetryable: false });
  });

  it('turns thrown non-Error values into ApplicationErrors of type Error', () => {
    expect(converter.errorToFailure('plain string')).toEqual({
      message: 'plain string',
      source: 'Durabull',
      applicationFailureInfo: { type: 'Error', nonRetryable: false },
    });
    expect(converter.errorToFailure({ code: 42 }).message).toBe('{"code":42}');
    expect(converter.errorToFailure(42).message).toBe('42');
    expect(converter.errorToFailure(undefined).message).toBe('undefined');
    const circular: Record<string, unknown> = {};
    circular.self = circular;
    expect(converter.errorToFailure(circular).message).toBe('[object Object]');
    const back = converter.failureToError(converter.errorToFailure('oops')) as ApplicationError;
    expect([back.message, back.type]).toEqual(['oops', 'Error']);
  });

  it('cuts cause chains at 20 levels, including self-referencing ones', () => {
    const loop = new ApplicationError('loop');
    (loop as { cause?: unknown }).cause = loop;
    let depth = 0;
    for (let f: Failure | undefined = converter.errorToFailure(loop); f; f = f.cause) depth++;
    expect(depth).toBe(21);
  });

  it('refuses details that cannot be encoded', () => {
    expect(() => converter.errorToFailure(new ApplicationError('x', { details: [() => 1] }))).toThrow(TypeError);
  });
});

describe('FailureConverter.failureToError', () => {
  it("falls back to Temporal's messages when a message is empty", () => {
    expect(converter.failureToError({ message: '', applicationFailureInfo: { type: 'X', nonRetryable: false } }).message).toBe('Application error');
    expect(converter.failureToError({ message: '', timeoutFailureInfo: { timeoutType: TimeoutType.HEARTBEAT } }).message).toBe('Timeout');
    expect(converter.failureToError({ message: '', canceledFailureInfo: {} }).message).toBe('Cancelled');
    expect(converter.failureToError({ message: '', activityFailureInfo: activityFields }).message).toBe('Activity error');
    expect(converter.failureToError({ message: '', terminatedFailureInfo: {} }).message).toBe('Workflow terminated');
  });

  it('rebuilds a bare DurabullError as an ApplicationError of type DurabullError, with the same message', () => {
    const original = new DurabullError('boom', { cause: new ApplicationError('inner', { type: 'Inner' }) });
    const err = roundTrip(original);
    expect(err).toBeInstanceOf(ApplicationError);
    expect(err).toMatchObject({ message: 'boom', type: 'DurabullError', nonRetryable: false });
    expect(err.cause).toBeInstanceOf(ApplicationError);
    expect(err.cause).toMatchObject({ message: 'inner', type: 'Inner' });
  });

  it('rebuilds a failure with no info as a DurabullError, with an empty stack when none was recorded', () => {
    const err = converter.failureToError({ message: 'from elsewhere' });
    expect(err.constructor).toBe(DurabullError);
    expect(err.message).toBe('from elsewhere');
    expect(err.stack).toBe('');
    expect(converter.errorToFailure(err)).toEqual({ message: 'from elsewhere', source: 'Durabull', applicationFailureInfo: { type: 'DurabullError', nonRetryable: false } });
  });

  it('maps an empty type back to undefined and keeps nextRetryDelay in ms', () => {
    const err = converter.failureToError({
      message: 'm',
      applicationFailureInfo: { type: '', nonRetryable: false, nextRetryDelay: 1500 },
    }) as ApplicationError;
    expect(err.type).toBeUndefined();
    expect(err.nextRetryDelay).toBe(1500);
    expect(err.details).toEqual([]);
  });
});

describe('default converters', () => {
  it('encodeFailure and decodeFailure use DEFAULT_FAILURE_CONVERTER', () => {
    const err = new ApplicationError('x', { type: 'Y' });
    expect(encodeFailure(err)).toEqual(DEFAULT_FAILURE_CONVERTER.errorToFailure(err));
    expect(decodeFailure(encodeFailure(err))).toBeInstanceOf(ApplicationError);
  });

  it('recognises errors created by another copy of the package', () => {
    let copy!: typeof import('./index');
    jest.isolateModules(() => {
      copy = require('./index') as typeof import('./index');
    });
    const theirs = new copy.TimeoutError('t', { type: TimeoutType.HEARTBEAT, lastHeartbeatDetails: [1] });
    expect(converter.errorToFailure(theirs).timeoutFailureInfo).toEqual({
      timeoutType: 'HEARTBEAT',
      lastHeartbeatDetails: [{ metadata: { encoding: 'json/plain' }, data: 1 }],
    });
    const rebuiltByThem = copy.DEFAULT_FAILURE_CONVERTER.failureToError(converter.errorToFailure(new CancelledError()));
    expect(rebuiltByThem).toBeInstanceOf(CancelledError);
    expect(rebuiltByThem).toBeInstanceOf(copy.CancelledError);
  });
});
