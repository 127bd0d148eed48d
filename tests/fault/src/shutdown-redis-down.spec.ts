import { join } from 'node:path';
import type { WorkflowHandle } from '@durabull/sdk';
import { TestEnvironment } from '@durabull/testing';
import { killAll, spawnWorkerProcess } from '../../integration/src/fixtures/spawn';
import type { WorkerProcess } from '../../integration/src/fixtures/spawn';
import { historyViolations } from './invariants';
import { FAST_RECOVERY, Pipeline } from './fixtures/pipeline';
import type { StepResult } from './fixtures/pipeline';
import { OwnRedis } from './fixtures/redis-server';

const WORKER = join(__dirname, 'fixtures', 'pipeline-worker.ts');
/**
 * What shutdown may take while Redis does not answer: `shutdownGraceTime`, the worker's 2 s margin
 * for Redis, the client's 1 s QUIT timeout, sockets to a frozen Redis closing (about 2 s) and slack
 * for this machine. Measured: about 4.3 s (killed) and 5.3 s (frozen) with a 0.2 s grace time.
 */
const EXIT_BOUND_MS = FAST_RECOVERY.shutdownGraceTime + 6_500;

/**
 * SIGTERM reaches a worker while its Redis is gone (killed: connections refused) or frozen
 * (SIGSTOP: connections open, nothing answers). The worker exits within its shutdownGraceTime
 * plus a few seconds whatever Redis does, and once Redis is back another worker finishes every run.
 */
describe('a worker shut down while Redis is unreachable', () => {
  let redis: OwnRedis;
  let env: TestEnvironment;
  const processes: WorkerProcess[] = [];
  beforeEach(async () => {
    redis = await OwnRedis.start();
    env = await TestEnvironment.create({ redis: redis.url });
  });
  afterEach(async () => {
    await killAll(processes);
    redis.resume();
    await env.teardown();
    await redis.stop();
  });

  async function spawnWorker(): Promise<WorkerProcess> {
    const worker = spawnWorkerProcess({ REDIS_URL: redis.url, DURABULL_NAMESPACE: env.namespace, TASK_QUEUE: 'pipeline' }, WORKER);
    processes.push(worker);
    await worker.waitFor('ready');
    return worker;
  }

  for (const outage of ['killed', 'frozen'] as const) {
    it(`exits within shutdownGraceTime plus a few seconds when Redis is ${outage}, and the work is finished after`, async () => {
      const leaving = await spawnWorker();
      const handles: Array<WorkflowHandle<StepResult[]>> = await Promise.all(
        Array.from({ length: 10 }, (_, i) =>
          env.client.startWorkflow(Pipeline, { args: [3, 400], id: `down-${i}`, taskQueue: 'pipeline', taskTimeout: '1s' }),
        ),
      );
      // Activities are running in the worker when Redis goes away.
      await new Promise<void>((resolve) => {
        const poll = setInterval(() => {
          if (leaving.lines.some((line) => line.startsWith('step '))) {
            clearInterval(poll);
            resolve();
          }
        }, 20);
      });
      if (outage === 'killed') await redis.kill();
      else redis.pause();

      const signalledAt = Date.now();
      leaving.child.kill('SIGTERM');
      const code = await leaving.exited;
      const exitMs = Date.now() - signalledAt;
      console.log(`shutdown with Redis ${outage}: exited ${code} after ${exitMs} ms (bound ${EXIT_BOUND_MS} ms)`);
      expect(code).toBe(0);
      expect(exitMs).toBeLessThan(EXIT_BOUND_MS);

      if (outage === 'killed') await redis.up();
      else redis.resume();
      await spawnWorker();
      const results = await Promise.all(handles.map((handle) => handle.result()));
      for (const run of results) expect(run.map((r) => r.step)).toEqual([1, 2, 3]);
      for (const handle of handles) expect(historyViolations(await handle.fetchHistory())).toEqual([]);
    });
  }
});
