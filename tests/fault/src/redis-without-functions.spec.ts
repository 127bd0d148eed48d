import { EventType } from '@durabull/sdk';
import type { HistoryEvent } from '@durabull/sdk';
import { TestEnvironment } from '@durabull/testing';
import { Redis } from 'ioredis';
import { historyViolations } from './invariants';
import { Pipeline, PipelineActivities } from './fixtures/pipeline';
import { OwnRedis } from './fixtures/redis-server';

/** Redis before 7.0 has no Redis Functions; an operator may also disable their commands. */
describe.each([
  ['FCALL and FUNCTION', ['FCALL', 'FUNCTION']],
  ['FUNCTION (so the library cannot be loaded)', ['FUNCTION']],
])('a Redis without %s', (_case, disabled) => {
  let redis: OwnRedis;
  let env: TestEnvironment;
  beforeEach(async () => {
    redis = await OwnRedis.start(disabled.flatMap((command) => ['--rename-command', command, '']));
    env = await TestEnvironment.create({ redis: redis.url });
  });
  afterEach(async () => {
    await env.teardown();
    await redis.stop();
  });

  it('runs the same transitions as EVALSHA scripts', async () => {
    const probe = new Redis(redis.url);
    for (const command of disabled) await expect(probe.call(command, 'LIST')).rejects.toThrow(/unknown command/);
    probe.disconnect();

    const worker = env.newWorker({ taskQueue: 'pipeline', workflows: [Pipeline], activities: [new PipelineActivities()] });
    const handles = await Promise.all(
      [0, 1, 2].map((i) => env.client.startWorkflow(Pipeline, { args: [2, 10], id: `no-functions-${i}`, taskQueue: 'pipeline' })),
    );
    const results = await worker.runUntil(Promise.all(handles.map((h) => h.result())));
    for (const run of results) expect(run.map((r) => [r.step, r.attempt])).toEqual([[1, 1], [2, 1]]);
    for (const handle of handles) {
      const history = await handle.fetchHistory();
      expect(historyViolations(history)).toEqual([]);
      expect(history.filter((e: HistoryEvent) => e.eventType === EventType.TimerFired)).toHaveLength(2);
      expect(history.at(-1)!.eventType).toBe(EventType.WorkflowExecutionCompleted);
    }
  });
});
