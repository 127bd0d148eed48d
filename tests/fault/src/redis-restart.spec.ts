import { EventType, RedisConnectionError } from '@durabull/sdk';
import type { HistoryEvent, WorkflowHandle } from '@durabull/sdk';
import { TestEnvironment } from '@durabull/testing';
import { historyViolations } from './invariants';
import { FAST_RECOVERY, Pipeline, PipelineActivities } from './fixtures/pipeline';
import type { StepResult } from './fixtures/pipeline';
import { OwnRedis } from './fixtures/redis-server';

describe('a Redis restart in the middle of a load', () => {
  let redis: OwnRedis;
  let env: TestEnvironment;
  beforeEach(async () => {
    redis = await OwnRedis.start();
    env = await TestEnvironment.create({ redis: redis.url });
  });
  afterEach(async () => {
    await env.teardown();
    await redis.stop();
  });

  it('loses no committed event; workers and clients reconnect by themselves and finish the work', async () => {
    const worker = env.newWorker({ taskQueue: 'pipeline', workflows: [Pipeline], activities: [new PipelineActivities()], ...FAST_RECOVERY });
    const handles: Array<WorkflowHandle<StepResult[]>> = await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        env.client.startWorkflow(Pipeline, { args: [3, 100], id: `restart-${i}`, taskQueue: 'pipeline', taskTimeout: '1s' }),
      ),
    );

    const outcome = await worker.runUntil(async () => {
      await new Promise((resolve) => setTimeout(resolve, 400));
      // Everything read now was committed: it must all be there after the restart.
      const before = await Promise.all(handles.map((h) => h.fetchHistory()));
      await redis.kill();

      // While Redis is down, a client call fails with the connection error instead of hanging.
      const downAt = Date.now();
      const whileDown = await handles[0]!.describe().catch((error: Error) => error);
      const failedAfter = Date.now() - downAt;

      await new Promise((resolve) => setTimeout(resolve, 500));
      await redis.up();
      const results = await Promise.all(handles.map((h) => h.result()));
      return { before, whileDown, failedAfter, results };
    });

    expect(outcome.whileDown).toBeInstanceOf(RedisConnectionError);
    expect((outcome.whileDown as Error).message).toBe(`Redis is unreachable at ${redis.url}: connect ECONNREFUSED`);
    expect(outcome.failedAfter).toBeLessThan(5_000);
    for (const run of outcome.results) expect(run.map((r) => r.step)).toEqual([1, 2, 3]);
    const after = await Promise.all(handles.map((h) => h.fetchHistory()));
    after.forEach((history, i) => {
      expect(historyViolations(history)).toEqual([]);
      expect(history.slice(0, outcome.before[i]!.length)).toEqual(outcome.before[i]);
      expect(history.filter((e: HistoryEvent) => e.eventType === EventType.ActivityTaskCompleted)).toHaveLength(3);
    });
    expect(outcome.before.some((history) => history.length > 3)).toBe(true);
  });
});
