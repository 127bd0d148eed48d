import { Activity, WorkflowDefn, WorkflowRun, activity, workflow } from '@durabull/sdk';

/** Task queue of the soak's workers. */
export const SOAK_TASK_QUEUE = 'soak';

/** Activities per soak workflow. */
export const SOAK_STEPS = 5;

/** The soak's workflow task timeout: short, so a task started by a killed worker comes back soon. */
export const SOAK_TASK_TIMEOUT = '2s';

/**
 * The retry policy of the soak's activities: 100 ms, doubling, at most 1 s. {@link retryBackoffMs}
 * must agree with it.
 */
const RETRY_POLICY = { initialInterval: 100, backoffCoefficient: 2, maximumInterval: 1_000 };

/**
 * How long the retries before attempt `attempt` of an activity waited in all (the backoffs of
 * attempts 2 .. `attempt`), by the soak's retry policy.
 */
export function retryBackoffMs(attempt: number): number {
  let total = 0;
  for (let next = 2; next <= attempt; next++) {
    total += Math.min(RETRY_POLICY.initialInterval * RETRY_POLICY.backoffCoefficient ** (next - 2), RETRY_POLICY.maximumInterval);
  }
  return total;
}

/** The Redis hash where the activities count their runs: `<workflowId>:<step>` -> executions. */
export function effectsKey(prefix: string, namespace: string): string {
  return `${prefix}:{${namespace}}:soak:effects`;
}

/** What a soak workflow started with `input` must return. */
export function expectedResult(input: string): string {
  return Array.from({ length: SOAK_STEPS }, (_, i) => `${input}.${i + 1}`).join('|');
}

/** The bit of a Redis client the activities use. */
export interface EffectCounter {
  hincrby(key: string, field: string, increment: number): Promise<number>;
}

export class SoakActivities {
  constructor(
    private readonly redis: EffectCounter,
    private readonly key: string,
  ) {}

  /** The side effect (counted per workflow and step), then 20-200 ms of work. */
  @Activity({ name: 'effect' })
  async effect(input: string, step: number): Promise<string> {
    await this.redis.hincrby(this.key, `${activity.info().workflowId}:${step}`, 1);
    await new Promise((resolve) => setTimeout(resolve, 20 + Math.random() * 180));
    return `${input}.${step}`;
  }
}

/** {@link SOAK_STEPS} activities in sequence, with realistic short timeouts; no timers. */
@WorkflowDefn()
export class SoakWorkflow {
  @WorkflowRun()
  async run(input: string): Promise<string> {
    const parts: string[] = [];
    for (let step = 1; step <= SOAK_STEPS; step++) {
      parts.push(
        await workflow.executeActivity<string>('effect', {
          args: [input, step],
          startToCloseTimeout: '2s',
          retryPolicy: RETRY_POLICY,
        }),
      );
    }
    return parts.join('|');
  }
}
