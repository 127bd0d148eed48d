import { ConsoleLogger } from '@durabull/sdk';
import type { ActivityInfo, CancellationReason, Logger } from '@durabull/sdk';
import { ActivityContext } from '@durabull/sdk/internal';

/** Options of an {@link ActivityEnvironment}. */
export interface ActivityEnvironmentOptions {
  /**
   * What `activity.info()` returns, over the defaults: activityId `'1'`, activityType `'test'`,
   * attempt 1, taskQueue `'test'`, workflowId `'test-workflow'`, workflowRunId `'test-run'`,
   * workflowType `'TestWorkflow'`, namespace `'default'`, the three times set to when the
   * environment was created, no timeouts, no heartbeat details and taskToken `'test-task-token'`
   * (an activity that calls `activity.raiseCompleteAsync()` makes {@link ActivityEnvironment.run}
   * reject with a `CompleteAsyncError`).
   * @default the defaults above
   */
  info?: Partial<ActivityInfo>;
  /** Called with the details of each `activity.heartbeat(...details)`, as it happens. @default none */
  onHeartbeat?: (details: unknown[]) => void;
  /** Where `activity.logger` writes. @default a ConsoleLogger at level `DURABULL_LOG_LEVEL` (warn) */
  logger?: Logger;
}

/** The cancellation reasons {@link ActivityEnvironment.cancel} can simulate. */
export type SimulatedCancellationReason = Extract<CancellationReason, 'cancelRequested' | 'timedOut' | 'workerShutdown'>;

const CANCEL_MESSAGES: Record<SimulatedCancellationReason, string> = {
  cancelRequested: 'Activity cancelled',
  timedOut: 'Activity timed out',
  workerShutdown: 'Worker shutting down',
};

/**
 * Runs an activity function as a worker would run one attempt, without Redis or a worker:
 * `activity.info()`, `heartbeat()`, `cancellationSignal()`, `isCancelled()`,
 * `waitForCancelled()` and `logger` all work inside {@link run}. Heartbeats are recorded in
 * {@link heartbeats}; {@link cancel} fires the cancellation signal as a cancellation request, a
 * timeout or a worker shutdown would.
 *
 * One environment stands for one attempt: its signal, once fired, stays fired. Create one per
 * test (or per attempt).
 *
 * ```ts
 * const env = new ActivityEnvironment({ info: { attempt: 2 } });
 * const result = await env.run(activities.download.bind(activities), 'https://example.com');
 * expect(env.heartbeats).toEqual([[0], [50], [100]]);
 * ```
 */
export class ActivityEnvironment {
  /** What `activity.info()` returns inside {@link run}. */
  readonly info: ActivityInfo;
  /** The details of every heartbeat, in order (one array per `activity.heartbeat(...details)` call). */
  readonly heartbeats: unknown[][] = [];
  private readonly context: ActivityContext;

  constructor(options: ActivityEnvironmentOptions = {}) {
    const known = new Set(['info', 'onHeartbeat', 'logger']);
    const unknown = Object.keys(options ?? {}).filter((key) => !known.has(key));
    if (unknown.length > 0) throw new TypeError(`Unknown activity environment option(s): ${unknown.join(', ')}`);
    if (options.onHeartbeat !== undefined && typeof options.onHeartbeat !== 'function') {
      throw new TypeError(`Invalid onHeartbeat: ${JSON.stringify(options.onHeartbeat)} (a function)`);
    }
    const now = new Date();
    this.info = {
      activityId: '1',
      activityType: 'test',
      attempt: 1,
      taskQueue: 'test',
      workflowId: 'test-workflow',
      workflowRunId: 'test-run',
      workflowType: 'TestWorkflow',
      namespace: 'default',
      scheduledTime: now,
      currentAttemptScheduledTime: now,
      startedTime: now,
      scheduleToCloseTimeout: undefined,
      startToCloseTimeout: undefined,
      heartbeatTimeout: undefined,
      heartbeatDetails: [],
      taskToken: 'test-task-token',
      isLocal: false,
      ...options.info,
    };
    const onHeartbeat = options.onHeartbeat;
    this.context = new ActivityContext(
      this.info,
      (details) => {
        this.heartbeats.push([...details]);
        onHeartbeat?.(details);
      },
      options.logger ?? new ConsoleLogger(),
    );
  }

  /**
   * Runs `fn(...args)` inside this environment's activity context and returns (or throws) what it
   * does. Pass a decorated method bound to its instance (`acts.method.bind(acts)`), a static
   * method, or a function from `defineActivity`. Arguments are passed as they are (no payload
   * conversion or validation).
   */
  async run<F extends (...args: any[]) => unknown>(fn: F, ...args: Parameters<F>): Promise<Awaited<ReturnType<F>>> {
    if (typeof fn !== 'function') throw new TypeError(`ActivityEnvironment.run needs a function, got ${JSON.stringify(fn)}`);
    return (await this.context.run(() => fn(...args))) as Awaited<ReturnType<F>>;
  }

  /**
   * Fires the activity's cancellation signal, whose `reason` is a `CancelledError`, as the worker
   * does when the workflow cancels the activity (`'cancelRequested'`), when the attempt's
   * start-to-close or heartbeat deadline passes (`'timedOut'`) or when the worker shuts down
   * (`'workerShutdown'`). Only the first call has an effect.
   * @default reason 'cancelRequested'
   */
  cancel(reason: SimulatedCancellationReason = 'cancelRequested', message?: string): void {
    if (typeof reason !== 'string' || !Object.hasOwn(CANCEL_MESSAGES, reason)) {
      throw new TypeError(`Invalid cancellation reason: ${JSON.stringify(reason)} (one of ${Object.keys(CANCEL_MESSAGES).join(', ')})`);
    }
    this.context.cancel(reason, message ?? CANCEL_MESSAGES[reason]);
  }

  /** Why the signal fired (undefined while it has not). */
  get cancellationReason(): CancellationReason | undefined {
    return this.context.reason;
  }

  /** The activity's cancellation signal (what `activity.cancellationSignal()` returns inside {@link run}). */
  get cancellationSignal(): AbortSignal {
    return this.context.signal;
  }
}
