import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { WorkflowHandle } from '@durabull/sdk';
import { TestEnvironment } from '@durabull/testing';
import { killAll, spawnWorkerProcess } from '../../integration/src/fixtures/spawn';
import type { WorkerProcess } from '../../integration/src/fixtures/spawn';
import { Probe, ProbeActivities, gateKey } from './fixtures/probe';
import type { ProbePlan } from './fixtures/probe';

const WORKER = join(__dirname, 'fixtures', 'probe-worker.ts');

/**
 * What a measured recovery may exceed its bound by on this shared 2-core machine before the test
 * fails: generous against scheduling noise, far below the 5-60 s that BullMQ's stalled-job check
 * or a missed sweep would cost.
 */
const MARGIN_MS = 1_500;

/** How long a worker's liveness entry outlives its last refresh (the worker's LIVENESS_TTL_MS). */
const LIVENESS_TTL_MS = 3_000;

/**
 * Each test SIGKILLs a worker process holding a task and measures, on this machine's clock, the
 * time from the kill to another worker process running that task (the time the task's code
 * printed). The workers use the default options, except where a test says otherwise.
 */
describe('recovery from a worker killed with SIGKILL', () => {
  let env: TestEnvironment;
  let scratch: string;
  const processes: WorkerProcess[] = [];
  beforeEach(async () => {
    env = await TestEnvironment.create();
    scratch = mkdtempSync(join(tmpdir(), 'durabull-recovery-'));
  });
  afterEach(async () => {
    await killAll(processes);
    await env.teardown();
    rmSync(scratch, { recursive: true, force: true });
  });

  async function spawnWorker(extra: Record<string, string> = {}): Promise<WorkerProcess> {
    const worker = spawnWorkerProcess({ DURABULL_NAMESPACE: env.namespace, TASK_QUEUE: 'probe', ...extra }, WORKER);
    processes.push(worker);
    await worker.waitFor('ready');
    return worker;
  }

  function start(id: string, plan: ProbePlan, taskTimeout = '10s'): Promise<WorkflowHandle<string[]>> {
    return env.client.startWorkflow(Probe, { args: [plan], id, taskQueue: 'probe', taskTimeout });
  }

  const gate = (name: string) => gateKey(env.client.engine.keys.prefix, env.namespace, name);

  it('a started workflow task: another worker runs it within its task timeout + 1 s', async () => {
    const workers = await Promise.all([spawnWorker(), spawnWorker()]);
    const handle = await start('stalled', { stallFile: join(scratch, 'stall'), activities: [] }, '1s');
    const { worker: victim } = await firstLine(workers, (l) => l.startsWith('stall stalled '));
    const killedAt = await kill(victim);
    const rescuer = workers.find((w) => w !== victim)!;
    const ran = await lineTime(rescuer, (l) => l.startsWith('task stalled 1 '));
    expectWithin('started workflow task (task timeout 1 s)', ran - killedAt, 1_000 + 1_000);
    expect(await handle.result()).toEqual([]);
  });

  it("a run's first workflow task the dead worker took off the task queue's first-task list: another worker runs it within 5 s", async () => {
    const workers = await Promise.all([spawnWorker(), spawnWorker()]);
    const handle = await start('first-stalled', { stallFirstTaskFile: join(scratch, 'stall'), activities: [] });
    const { worker: victim } = await firstLine(workers, (l) => l.startsWith('stall first-stalled '));
    const killedAt = await kill(victim);
    const rescuer = workers.find((w) => w !== victim)!;
    const ran = await lineTime(rescuer, (l) => l.startsWith('task first-stalled 1 '));
    expectWithin("first workflow task taken off the first-task list", ran - killedAt, 5_000);
    expect(await handle.result()).toEqual([]);
  });

  it.each([
    ['start-to-close timeout 1 s', { startToCloseTimeout: '1s' }, false],
    ['heartbeat timeout 1 s, start-to-close 30 s', { startToCloseTimeout: '30s', heartbeatTimeout: '1s' }, true],
  ])('a started activity attempt (%s): another worker starts the next attempt within that timeout + 1 s', async (label, timeouts, heartbeat) => {
    const workers = await Promise.all([spawnWorker(), spawnWorker()]);
    const handle = await start('attempt', { ...timeouts, activities: [{ name: 'a', hang: 'first-attempt', heartbeat }] });
    const { worker: victim } = await firstLine(workers, (l) => l.startsWith('activity attempt a 1 '));
    const killedAt = await kill(victim);
    const rescuer = workers.find((w) => w !== victim)!;
    const started = await lineTime(rescuer, (l) => l.startsWith('activity attempt a 2 '));
    expectWithin(`started activity attempt (${label})`, started - killedAt, 1_000 + 1_000);
    expect(await handle.result()).toEqual(['a#2']);
  });

  it('a task the dead worker had fetched but not started (its only activity slot busy): another worker starts it within 5 s', async () => {
    const victim = await spawnWorker({ MAX_ACTIVITIES: '1' });
    await start('fetched', {
      parallel: true,
      activities: [{ name: 'long', hang: 'first-attempt' }, { name: 'queued' }],
      startToCloseTimeout: '20s',
    });
    // The first activity takes the only slot (started eagerly, without a job); the victim's queue
    // worker may then fetch the second one's job and hold it, waiting for the slot.
    await lineTime(victim, (l) => l.startsWith('activity fetched long 1 '));
    const activities = env.client.engine.dispatcher.queue(env.client.engine.keys.taskQueuePrefix('probe'), 'activity');
    const deadline = Date.now() + 1_000;
    while ((await activities.getActiveCount()) === 0 && Date.now() < deadline) await sleep(20);
    const fetched = (await activities.getActiveCount()) > 0;
    const rescuer = await spawnWorker();
    if (!fetched) {
      // A worker that never fetches without a free slot leaves the task in the queue: the rescuer
      // takes it at once, and there is nothing held to recover.
      console.log('recovery fetched, not started activity task: the victim did not fetch it; the rescuer took it from the queue');
      await lineTime(rescuer, (l) => l.startsWith('activity fetched queued 1 '));
      return;
    }
    expect(victim.lines.filter((l) => l.startsWith('activity fetched queued '))).toEqual([]);
    expect(rescuer.lines.filter((l) => l.startsWith('activity fetched queued '))).toEqual([]);
    const killedAt = await kill(victim);
    const started = await lineTime(rescuer, (l) => l.startsWith('activity fetched queued 1 '));
    expectWithin('fetched, not started activity task', started - killedAt, 5_000);
  });

  describe('the next workflow task of a run cached by the dead worker', () => {
    /**
     * Two workflow workers and the run's activity on another task queue, served in this process
     * and held by a gate. Returns the worker that ran the first workflow task (the one caching
     * the run), the other one, and the run's handle.
     */
    async function cachedRun(id: string): Promise<{ victim: WorkerProcess; rescuer: WorkerProcess; handle: WorkflowHandle<string[]> }> {
      const started: string[] = [];
      const acts = env.newWorker({
        taskQueue: 'probe-acts',
        activities: [new ProbeActivities((line) => started.push(line), env.client.redis, gate)],
      });
      void acts.run();
      const workers = await Promise.all([spawnWorker(), spawnWorker()]);
      const handle = await start(id, { activities: [{ name: 'gated', gate: id }], activityTaskQueue: 'probe-acts' });
      const { worker: victim } = await firstLine(workers, (l) => l.startsWith(`task ${id} 1 `));
      await waitUntil(() => started.length > 0, `the activity of ${id} to start`);
      return { victim, rescuer: workers.find((w) => w !== victim)!, handle };
    }

    it('completed right after the kill (routed to the dead worker): another worker runs it within the liveness TTL + 2 s', async () => {
      const { victim, rescuer, handle } = await cachedRun('routed');
      const killedAt = await kill(victim);
      await env.client.redis.set(gate('routed'), '1');
      const ran = await lineTime(rescuer, (l) => l.startsWith('task routed 2 '));
      expectWithin('next workflow task of a cached run, routed while its worker looked alive', ran - killedAt, LIVENESS_TTL_MS + 2_000);
      expect(await handle.result()).toEqual(['gated#1']);
    });

    it('completed once the dead worker is known dead: another worker runs it within 2 s', async () => {
      const { victim, rescuer, handle } = await cachedRun('known');
      const victimId = victim.lines.find((l) => l.startsWith('worker '))!.split(' ')[1]!;
      const killedAt = await kill(victim);
      const knownDeadAt = await livenessExpired('known', victimId, killedAt);
      await env.client.redis.set(gate('known'), '1');
      const ran = await lineTime(rescuer, (l) => l.startsWith('task known 2 '));
      console.log(`recovery next workflow task of a cached run, from the kill: ${ran - killedAt} ms`);
      expectWithin('next workflow task of a cached run, its worker known dead', ran - knownDeadAt, 2_000);
      expect(await handle.result()).toEqual(['gated#1']);
    });

    /**
     * When the victim's liveness entry in the run's shard expired (Redis time), as this machine's
     * Date.now(); without an entry, the kill plus the liveness TTL.
     */
    async function livenessExpired(workflowId: string, workerId: string, killedAt: number): Promise<number> {
      const { keys } = env.client.engine;
      const expiry = Number(await env.client.redis.hget(keys.shard(keys.shardOf(workflowId)).workers, workerId));
      if (!expiry) {
        await sleep(Math.max(0, killedAt + LIVENESS_TTL_MS - Date.now()));
        return Date.now();
      }
      for (;;) {
        const [seconds, micros] = await env.client.redis.time();
        if (Number(seconds) * 1000 + Math.floor(Number(micros) / 1000) > expiry) return Date.now();
        await sleep(20);
      }
    }
  });

  it('a crash between a transition committing and dispatching its task: another worker runs the task within 5 s', async () => {
    // Without eager execution the activity that the second workflow task schedules goes through
    // the outbox and a queue, so the crash leaves it committed and not dispatched.
    const victim = await spawnWorker({ DURABULL_CRASH_POINT: 'afterCommit:completeWorkflowTask@2', EAGER_EXECUTION: 'false' });
    const diedAt = new Promise<number>((resolve) => victim.child.once('exit', () => resolve(Date.now())));
    const handle = await start('crash', { activities: [{ name: 'first', gate: 'crash' }, { name: 'second' }] });
    await lineTime(victim, (l) => l.startsWith('activity crash first 1 '));
    const rescuer = await spawnWorker();
    await env.client.redis.set(gate('crash'), '1');
    expect(await withTimeout(victim.exited, 10_000, 'the victim to reach its crash point')).toBeNull();
    const started = await lineTime(rescuer, (l) => l.startsWith('activity crash second 1 '));
    expectWithin('task committed and not dispatched (crash after completeWorkflowTask)', started - (await diedAt), 5_000);
    expect(await handle.result()).toEqual(['first#1', 'second#1']);
  });
});

/** Prints the measured figure and asserts it with {@link MARGIN_MS} of slack. */
function expectWithin(label: string, ms: number, bound: number): void {
  console.log(`recovery ${label}: ${ms} ms (bound ${bound} ms)`);
  expect(ms).toBeLessThanOrEqual(bound + MARGIN_MS);
}

/** SIGKILLs the process; returns this machine's time just before the signal. */
async function kill(worker: WorkerProcess): Promise<number> {
  const at = Date.now();
  worker.child.kill('SIGKILL');
  await worker.exited;
  return at;
}

/** The time (last field, Date.now() in the printing process) of the first line matching. */
async function lineTime(worker: WorkerProcess, matches: (line: string) => boolean): Promise<number> {
  const { line } = await firstLine([worker], matches);
  return Number(line.split(' ').at(-1));
}

/** The first line matching printed by any of `workers`, within 30 s. */
async function firstLine(workers: WorkerProcess[], matches: (line: string) => boolean): Promise<{ worker: WorkerProcess; line: string }> {
  let found: { worker: WorkerProcess; line: string } | undefined;
  await waitUntil(() => {
    for (const worker of workers) {
      const line = worker.lines.find(matches);
      if (line !== undefined) found = { worker, line };
    }
    return found !== undefined;
  }, () => `a line matching ${matches.toString()}; printed: ${JSON.stringify(workers.map((w) => w.lines))}`);
  return found!;
}

async function waitUntil(condition: () => boolean, what: string | (() => string), timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`Timed out after ${timeoutMs} ms waiting for ${typeof what === 'string' ? what : what()}`);
    await sleep(10);
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`Timed out after ${ms} ms waiting for ${what}`)), ms)));
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
