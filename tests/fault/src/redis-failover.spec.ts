import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { EventType, RedisConnectionError, WorkflowAlreadyStartedError, WorkflowExecutionStatus, WorkflowNotFoundError } from '@durabull/sdk';
import type { WorkflowHandle } from '@durabull/sdk';
import { connectSettled } from '@durabull/engine';
import { TestEnvironment } from '@durabull/testing';
import { Cluster as IORedisCluster, Redis } from 'ioredis';
import type { Cluster } from 'ioredis';
import { killAll, spawnWorkerProcess } from '../../integration/src/fixtures/spawn';
import type { WorkerProcess } from '../../integration/src/fixtures/spawn';
import { historyViolations } from './invariants';
import { Pipeline } from './fixtures/pipeline';
import type { StepResult } from './fixtures/pipeline';
import { OwnRedisCluster } from './fixtures/redis-cluster';

// A Redis Cluster of three primaries with a replica each, started by the test: a primary is
// killed (SIGKILL) under load, its replica takes over, and the clients and worker processes
// (ioredis Cluster connections, BullMQ workers) find the new primary by themselves. Then a
// cluster whose nodes answer while it is not ready (cluster_state:fail), as in such a failover.

const WORKER = join(__dirname, 'fixtures', 'pipeline-worker.ts');
const CLI = join(__dirname, '..', '..', '..', 'apps', 'cli', 'bin', 'durabull.js');
const STEPS = 4;
const STEP_MS = 100;
/**
 * Every run closes this long after the kill: the failover (2-3 s here), then the task timeouts
 * (2 s) and the activities' start-to-close timeouts (1.1 s) of what the killed primary's clients
 * held, and sweeps; 5-9 s seen, under load.
 */
const RECOVERY_DEADLINE_MS = 30_000;

/** `promise`, or, once `ms` passed, a failure with `explain()`'s account of what is stuck. */
async function withinDeadline<T>(promise: Promise<T>, ms: number, explain: () => Promise<string>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => void explain().then((detail) => reject(new Error(detail)), reject), ms);
  });
  try {
    return await Promise.race([promise, expired]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Makes every node of `cluster` report `cluster_state:fail` (slot 0 served by none: CLUSTER
 * DELSLOTS on each) while every node still answers; the returned function gives the slot back to
 * its owner (the primaries are told, the replicas learn it from them) and resolves once every
 * node reports `cluster_state:ok` again.
 */
async function failCluster(cluster: OwnRedisCluster, nodes: Redis[]): Promise<() => Promise<void>> {
  const slot = 0;
  const owner = ((await nodes[0]!.call('CLUSTER', 'SLOTS')) as Array<[number, number, [string, number, string]]>).find(
    ([from, to]) => from <= slot && slot <= to,
  )![2][2];
  await Promise.all(nodes.map((node) => node.call('CLUSTER', 'DELSLOTS', slot)));
  await waitForState(nodes, 'fail');
  return async () => {
    const primaries = (await cluster.roles()).filter((node) => node.role === 'primary');
    await Promise.all(
      primaries.map(({ port, id }) => {
        const node = nodes[cluster.nodes.findIndex((n) => n.port === port)]!;
        return id === owner ? node.call('CLUSTER', 'ADDSLOTS', slot) : node.call('CLUSTER', 'SETSLOT', slot, 'NODE', owner);
      }),
    );
    await waitForState(nodes, 'ok');
  };
}

/** The cluster's nodes as `host:port,host:port` (DURABULL_TEST_REDIS_CLUSTER, the CLI's `--redis`). */
const nodeList = (cluster: OwnRedisCluster) => cluster.nodes.map(({ host, port }) => `${host}:${port}`).join(',');

/** Resolves once every node reports `cluster_state:<state>`. */
async function waitForState(nodes: Redis[], state: 'ok' | 'fail'): Promise<void> {
  for (;;) {
    const infos = await Promise.all(nodes.map((node) => node.call('CLUSTER', 'INFO') as Promise<string>));
    if (infos.every((info) => info.includes(`cluster_state:${state}`))) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('a Redis Cluster primary killed under load', () => {
  let cluster: OwnRedisCluster;
  let env: TestEnvironment | undefined;
  const processes: WorkerProcess[] = [];

  beforeEach(async () => {
    cluster = await OwnRedisCluster.start(1);
  });
  afterEach(async () => {
    await killAll(processes);
    await env?.teardown();
    env = undefined;
    await cluster.stop();
  });

  async function spawnWorker(extra: Record<string, string> = {}): Promise<WorkerProcess> {
    const worker = spawnWorkerProcess(
      { DURABULL_NAMESPACE: env!.namespace, DURABULL_TEST_REDIS_CLUSTER: nodeList(cluster), TASK_QUEUE: 'pipeline', ...extra },
      WORKER,
    );
    processes.push(worker);
    await worker.waitFor('ready');
    return worker;
  }

  /** The runs still open, each with its last events and what it waits for: what a stuck recovery left. */
  async function openRuns(handles: Array<WorkflowHandle<StepResult[]>>): Promise<string> {
    const lines: string[] = [];
    for (const handle of handles) {
      const { status, pendingActivities, pendingWorkflowTask } = await handle.describe();
      if (status !== WorkflowExecutionStatus.RUNNING) continue;
      const tail = (await handle.fetchHistory()).slice(-3).map((e) => `${e.eventId} ${e.eventType}`);
      const waits = [
        ...pendingActivities.map((a) => `activity ${a.activityId} ${a.state} attempt ${a.attempt}`),
        ...(pendingWorkflowTask ? [`workflow task ${pendingWorkflowTask.state} attempt ${pendingWorkflowTask.attempt}`] : []),
      ];
      lines.push(`${handle.workflowId}: ${tail.join(', ')}; pending: ${waits.join(', ') || 'nothing'}`);
    }
    return lines.join('\n');
  }

  /** The run finished with every step's result, and its history is sound. */
  async function expectSound(handle: WorkflowHandle<StepResult[]>, results: StepResult[]): Promise<void> {
    expect({ id: handle.workflowId, steps: results.map((r) => r.step) }).toEqual({
      id: handle.workflowId,
      steps: Array.from({ length: STEPS }, (_, i) => i + 1),
    });
    const history = await handle.fetchHistory();
    expect({ id: handle.workflowId, violations: historyViolations(history) }).toEqual({ id: handle.workflowId, violations: [] });
    expect(history.filter((e) => e.eventType === EventType.ActivityTaskCompleted)).toHaveLength(STEPS);
    expect(history.at(-1)!.eventType).toBe(EventType.WorkflowExecutionCompleted);
  }

  it('the replica takes over; clients and workers reconnect by themselves and every run the failover kept completes soundly', async () => {
    env = await TestEnvironment.create({ redis: { cluster: cluster.nodes } });
    const client = env.client;
    const redis = client.redis as Cluster;
    await Promise.all([spawnWorker(), spawnWorker()]);

    // The victim: the primary that holds the most of the namespace's shards.
    const primaries = (await cluster.roles()).filter((node) => node.role === 'primary');
    const shardsOf = new Map<number, number>();
    for (let shard = 0; shard < client.engine.keys.shardCount; shard++) {
      const slot = Number(await redis.cluster('KEYSLOT', client.engine.keys.shard(shard).outbox));
      const owner = primaries.find((node) => redis.slots[slot]?.[0] === `${node.host}:${node.port}`)!;
      shardsOf.set(owner.port, (shardsOf.get(owner.port) ?? 0) + 1);
    }
    const [victimPort, victimShards] = [...shardsOf].sort((a, b) => b[1] - a[1])[0]!;

    // A steady load: a new run every 25 ms, before, during and after the failover.
    const handles: Array<WorkflowHandle<StepResult[]>> = [];
    const outcomes: Array<Promise<StepResult[] | undefined>> = [];
    /** Runs whose start resolved and that the failover took back (see below). */
    const lost: string[] = [];
    let promotedAt: number | undefined;
    let closed = 0;
    let callErrors = 0;
    let starting = true;
    const start = async (id: string): Promise<void> => {
      for (;;) {
        try {
          handles.push(await client.startWorkflow(Pipeline, { args: [STEPS, STEP_MS], id, taskQueue: 'pipeline', taskTimeout: '2s' }));
          break;
        } catch (error) {
          // A start answered by no one may have committed all the same: then its id is taken.
          if (error instanceof WorkflowAlreadyStartedError) {
            handles.push(client.getWorkflowHandle<StepResult[]>(id));
            break;
          }
          if (!(error instanceof RedisConnectionError)) throw error;
          callErrors++;
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
      }
      const handle = handles.at(-1)!;
      const resolvedAt = Date.now();
      outcomes.push(
        (async () => {
          for (;;) {
            try {
              const results = await handle.result();
              closed++;
              return results;
            } catch (error) {
              // Replication is asynchronous: a start the killed primary acknowledged and had not
              // yet sent to its replica is gone with it (docs/ARCHITECTURE.md, "Replication and
              // failover"). Only a start that resolved before the promotion can be.
              if (error instanceof WorkflowNotFoundError && (promotedAt === undefined || resolvedAt < promotedAt)) {
                lost.push(handle.workflowId);
                return undefined;
              }
              // A call that meets the dead primary fails at once (ioredis gives up after its
              // redirection budget, 16 x 100 ms), as calls do while a single Redis is down; the
              // next one reaches the new primary.
              if (!(error instanceof RedisConnectionError)) throw error;
              callErrors++;
              await new Promise((resolve) => setTimeout(resolve, 100));
            }
          }
        })(),
      );
    };
    const starter = (async () => {
      for (let n = 0; starting; n++) {
        await start(`failover-${n}`);
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
    })();

    // Kill once runs are under way: some closed, more still open.
    while (closed < 5) await new Promise((resolve) => setTimeout(resolve, 20));
    const inFlight = handles.length - closed;
    const killedAt = Date.now();
    await cluster.kill(victimPort);
    const failover = await cluster.waitForFailover(victimPort);
    promotedAt = Date.now();
    const failoverMs = promotedAt - killedAt;
    // Keep the load on for a while on the new primary, then let every run finish.
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    starting = false;
    let started = false;
    const recovered = starter.then(() => {
      started = true;
      return Promise.all(outcomes);
    });
    // A close the killed primary had not replicated is undone on the new one: that run, whose
    // result() has resolved, runs on and closes again once its deadlines fire (docs/ARCHITECTURE.md,
    // "Replication and failover"). So the test also waits until no run is open.
    const allClosed = recovered.then(async (results) => {
      while ((await client.countWorkflows({ status: WorkflowExecutionStatus.RUNNING })) > 0) {
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      return results;
    });
    const results = await withinDeadline(allClosed, killedAt + RECOVERY_DEADLINE_MS - Date.now(), async () =>
      started
        ? `runs still open ${RECOVERY_DEADLINE_MS} ms after the kill:\n${await openRuns(handles)}`
        : `the start of failover-${handles.length} had not returned ${RECOVERY_DEADLINE_MS} ms after the kill`,
    );
    const recoveredMs = Date.now() - killedAt;

    console.log(
      `failover: killed primary :${victimPort} (${victimShards} of ${client.engine.keys.shardCount} shards) with ${inFlight} runs in flight; ` +
        `replica :${failover.port} took over ${failoverMs} ms after the kill; ${handles.length} runs in all; ${callErrors} client call(s) failed ` +
        `during the failover and were made again; ${lost.length} started run(s) lost with the primary's unreplicated writes; ` +
        `every other run closed ${recoveredMs} ms after the kill`,
    );
    expect(inFlight).toBeGreaterThan(0);
    expect(failoverMs).toBeLessThan(15_000);
    expect(results).toHaveLength(handles.length);
    for (const [i, handle] of handles.entries()) {
      if (lost.includes(handle.workflowId)) await expect(handle.describe()).rejects.toThrow(WorkflowNotFoundError);
      else await expectSound(handle, results[i]!);
    }
    expect(await client.countWorkflows({ status: WorkflowExecutionStatus.RUNNING })).toBe(0);
    expect(await client.countWorkflows({ status: WorkflowExecutionStatus.COMPLETED })).toBe(handles.length - lost.length);
  }, 180_000);

  it('with durability { replicas: 1 }, clients and workers run whole workflows, every transition confirmed by a replica', async () => {
    env = await TestEnvironment.create({ redis: { cluster: cluster.nodes }, durability: { replicas: 1, timeout: '2s' } });
    await Promise.all([spawnWorker({ DURABULL_REPLICAS: '1' }), spawnWorker({ DURABULL_REPLICAS: '1' })]);
    const handles = await Promise.all(
      Array.from({ length: 24 }, (_, n) =>
        env!.client.startWorkflow(Pipeline, { args: [STEPS, 10], id: `replicated-${n}`, taskQueue: 'pipeline' }),
      ),
    );
    const results = await Promise.all(handles.map((handle) => handle.result()));
    for (const [i, handle] of handles.entries()) await expectSound(handle, results[i]!);
    // WAIT ran on the primaries that ran the transitions (the runs spread over all three).
    const waits = await Promise.all(
      (env.client.redis as Cluster).nodes('master').map(async (node) => {
        const match = /^cmdstat_wait:calls=(\d+)/m.exec(await node.info('commandstats'));
        return match ? Number(match[1]) : 0;
      }),
    );
    expect(waits.filter((calls) => calls > 0)).toHaveLength(3);
    expect(waits.reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(handles.length * (2 * STEPS + 1));
  }, 120_000);
});

// A Redis Cluster whose nodes all answer but report cluster_state:fail (a slot served by none, as
// between a primary's failure and its replica's promotion): what connects to it must not wait for
// ever, nor give up silently.
describe('a Redis Cluster that is not ready', () => {
  let cluster: OwnRedisCluster;
  let env: TestEnvironment | undefined;

  beforeEach(async () => {
    cluster = await OwnRedisCluster.start(0);
  });
  afterEach(async () => {
    await env?.teardown();
    env = undefined;
    await cluster.stop();
  });

  it("a connection's connect() settles when a later attempt brings it up, after its ready check failed", async () => {
    const nodes = cluster.nodes.map(({ host, port }) => new Redis({ host, port }));
    // Two clients of the cluster: one connected through connectSettled, one through ioredis alone.
    const settled = new IORedisCluster(cluster.nodes, { lazyConnect: true });
    const plain = new IORedisCluster(cluster.nodes, { lazyConnect: true });
    for (const client of [settled, plain]) client.on('error', () => undefined);
    try {
      // Every ready check fails, while the slots refresh that comes before it succeeds.
      const recover = await failCluster(cluster, nodes);
      const outcome = (promise: Promise<void>) => promise.then(() => 'connected', (error: Error) => `failed: ${error.message}`);
      const settledOutcome = outcome(connectSettled(settled));
      const plainOutcome = outcome(plain.connect());
      // Both clusters disconnect after their failed ready check and retry by themselves.
      await new Promise((resolve) => setTimeout(resolve, 500));
      expect([settled.status, plain.status]).not.toContain('ready');

      await recover();
      expect(await withinDeadline(settledOutcome, 5_000, async () => 'connectSettled had not settled 5 s after the cluster was up')).toBe('connected');
      while (plain.status !== 'ready') await new Promise((resolve) => setTimeout(resolve, 20));
      // ioredis' own promise of the first attempt never settles, though its cluster is up: what
      // BullMQ's fetch loop would wait on for good (connections.ts in the SDK uses connectSettled).
      const late = await Promise.race([plainOutcome, new Promise((resolve) => setTimeout(() => resolve('still pending'), 500))]);
      expect(late).toBe('still pending');
      expect(await settled.ping()).toBe('PONG');
    } finally {
      for (const client of [settled, plain, ...nodes]) client.disconnect();
    }
  }, 60_000);

  it('the CLI reports it as unreachable, with exit code 1, and reaches it once it is ready', async () => {
    const nodes = cluster.nodes.map(({ host, port }) => new Redis({ host, port }));
    try {
      const recover = await failCluster(cluster, nodes);
      const list = nodeList(cluster);
      const failing = spawnSync(process.execPath, [CLI, 'workflow', 'count', '--redis', list], { encoding: 'utf8', timeout: 30_000 });
      expect({ status: failing.status, stdout: failing.stdout, stderr: failing.stderr }).toEqual({
        status: 1,
        stdout: '',
        stderr: `durabull: Redis is unreachable at ${list}: the cluster is not ready (CLUSTER INFO does not report cluster_state:ok)\n`,
      });
      await recover();
      env = await TestEnvironment.create({ redis: { cluster: cluster.nodes } });
      const ready = spawnSync(process.execPath, [CLI, 'workflow', 'count', '--redis', list, '--namespace', env.namespace], {
        encoding: 'utf8',
        timeout: 30_000,
      });
      expect({ status: ready.status, stdout: ready.stdout, stderr: ready.stderr }).toEqual({ status: 0, stdout: '0\n', stderr: '' });
    } finally {
      for (const node of nodes) node.disconnect();
    }
  }, 60_000);
});
