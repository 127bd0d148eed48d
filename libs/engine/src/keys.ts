/**
 * Every Redis key, pub/sub channel and BullMQ prefix of a namespace. No key string is built
 * anywhere else.
 *
 * Layout (`P` = prefix, default `durabull`; `ns` = namespace; `s` = shard):
 *
 * | key | type | holds |
 * |---|---|---|
 * | `P:{ns:s}:run:<runId>` | hash | execution state of a run |
 * | `P:{ns:s}:hist:<runId>` | stream | the run's history, entry id `<eventId>-0` |
 * | `P:{ns:s}:buf:<runId>` | list | events buffered while a workflow task runs |
 * | `P:{ns:s}:acts:<runId>` | hash | the run's pending activities (scheduled event id -> state JSON) while it runs |
 * | `P:{ns:s}:wid:<workflowId>` | hash | the workflow id's current run and its status |
 * | `P:{ns:s}:outbox` | zset | task descriptors committed but not yet consumed |
 * | `P:{ns:s}:deadlines` | zset | timeouts and timers of the shard's runs, by due time |
 * | `P:{ns:s}:wakes` | zset | times at which a wake-up job for the shard is armed |
 * | `P:{ns:s}:vis:all`, `:vis:open`, `:vis:closed` | zset | run ids by start time (visibility) |
 * | `P:{ns:s}:vis:type:<type>`, `:vis:tq:<taskQueue>` | zset | run ids of a workflow type, of a task queue |
 * | `P:{ns:s}:workers` | hash | live workers (worker id -> liveness expiry, Redis ms), refreshed by each worker |
 * | `P:{ns:s}:settings` | hash | the namespace settings the shard's scripts read (retention) |
 * | `P:{ns:s}:sched:<scheduleId>` | hash | a schedule: definition, state, version (schedules.ts) |
 * | `P:{ns:s}:scheds` | zset | the shard's schedule ids by create time |
 * | `P:{ns}:meta` | hash | namespace settings (shard count) |
 *
 * The hash tag `{ns:s}` puts everything one script touches in one slot (Redis Cluster) while the
 * shards spread a namespace's runs over the cluster. BullMQ queues get their own hash-tagged
 * prefix per task queue (`P:{ns:q:<taskQueue>}`), so a queue's keys share a slot too.
 */
export class NamespaceKeys {
  /** Each shard's keys, built on first use (every transition needs them). */
  private readonly shards: ShardKeys[] = [];

  constructor(
    readonly prefix: string,
    readonly namespace: string,
    readonly shardCount: number,
  ) {}

  /** Which shard a workflow id lives on: FNV-1a over its UTF-8 bytes. */
  shardOf(workflowId: string): number {
    let hash = 0x811c9dc5;
    for (let i = 0; i < workflowId.length; i++) {
      const code = workflowId.charCodeAt(i);
      // An ASCII character is its own UTF-8 byte; anything else takes the general path.
      if (code >= 0x80) return fnv1a(Buffer.from(workflowId, 'utf8')) % this.shardCount;
      hash = Math.imul(hash ^ code, 0x01000193) >>> 0;
    }
    return hash % this.shardCount;
  }

  shard(shard: number): ShardKeys {
    return (this.shards[shard] ??= this.shardKeys(shard));
  }

  private shardKeys(shard: number): ShardKeys {
    const tag = `${this.prefix}:{${this.namespace}:${shard}}`;
    return {
      tag,
      outbox: `${tag}:outbox`,
      deadlines: `${tag}:deadlines`,
      wakes: `${tag}:wakes`,
      workers: `${tag}:workers`,
      settings: `${tag}:settings`,
      allRuns: `${tag}:vis:all`,
      openRuns: `${tag}:vis:open`,
      closedRuns: `${tag}:vis:closed`,
      runsOfType: (workflowType) => `${tag}:vis:type:${workflowType}`,
      runsOfTaskQueue: (taskQueue) => `${tag}:vis:tq:${taskQueue}`,
      runState: (runId) => `${tag}:run:${runId}`,
      runActivities: (runId) => `${tag}:acts:${runId}`,
    };
  }

  /** A run's keys (its scripts declare two: {@link runScriptKeys}). */
  run(workflowId: string, runId: string): RunKeys {
    const {
      shard,
      keys: [state, workflowIdKey],
    } = this.runScriptKeys(workflowId, runId);
    const shardKeys = this.shard(shard);
    const { tag } = shardKeys;
    // Object.assign, not a spread: in Node 20 (V8 11.3) an object literal that spreads an object
    // and then adds properties takes a slow path, 1-2 µs per property added (BENCHMARKS.md, Node
    // CPU per task).
    return Object.assign({}, shardKeys, {
      shard,
      state,
      history: `${tag}:hist:${runId}`,
      buffer: `${tag}:buf:${runId}`,
      workflowId: workflowIdKey,
    });
  }

  /**
   * The keys a run script declares (`includes/run.lua`), the run state hash and the workflow id
   * hash, and the run's shard: the script builds every other key of the call on the shard's
   * prefix, in their slot. Built for every transition, so without the rest of {@link run}'s.
   */
  runScriptKeys(workflowId: string, runId: string): { shard: number; keys: [state: string, workflowId: string] } {
    const shard = this.shardOf(workflowId);
    const { tag } = this.shard(shard);
    return { shard, keys: [`${tag}:run:${runId}`, `${tag}:wid:${workflowId}`] };
  }

  get meta(): string {
    return `${this.prefix}:{${this.namespace}}:meta`;
  }

  /**
   * Pub/sub channels: `<channelPrefix>:closed` (run ids), `<channelPrefix>:worker:<id>` (cancels),
   * `<channelPrefix>:replies:<clientId>` (query answers).
   */
  get channelPrefix(): string {
    return `${this.prefix}:${this.namespace}`;
  }

  get closedChannel(): string {
    return `${this.channelPrefix}:closed`;
  }

  /** Update stage changes, `<runId>|<updateId>` (lua/includes/updates.lua). */
  get updatesChannel(): string {
    return `${this.channelPrefix}:updates`;
  }

  workerChannel(workerId: string): string {
    return `${this.channelPrefix}:worker:${workerId}`;
  }

  /** Where workers publish the answers to a client's queries: `<channelPrefix>:replies:<clientId>`. */
  replyChannel(clientId: string): string {
    return `${this.channelPrefix}:replies:${clientId}`;
  }

  /** BullMQ prefix of a task queue's workflow and activity queues. */
  taskQueuePrefix(taskQueue: string): string {
    return `${this.prefix}:{${this.namespace}:q:${taskQueue}}`;
  }

  /**
   * A task queue's first-task list: on a single Redis, `startWorkflow` pushes a new run's first
   * workflow task there (its job data, history included) and workers take it without a BullMQ
   * job. Beside the task queue's workflow-task BullMQ queue, under the same hash tag.
   */
  firstTasks(taskQueue: string): string {
    return `${this.taskQueuePrefix(taskQueue)}:${QueueNames.workflow}:first-tasks`;
  }

  /** BullMQ prefix of a worker's sticky workflow-task queue. */
  stickyPrefix(workerId: string): string {
    return `${this.prefix}:{${this.namespace}:sticky:${workerId}}`;
  }

  /**
   * BullMQ prefix of the namespace's system queue: messages from one run to another (which usually
   * lives on another shard, and Cluster node), delivered by any worker of the namespace.
   */
  get systemPrefix(): string {
    return `${this.prefix}:{${this.namespace}:system}`;
  }

  /** BullMQ prefix of the namespace's wake-up (timer) queue. */
  get timerPrefix(): string {
    return `${this.prefix}:{${this.namespace}:timers}`;
  }

  /** A pattern matching every key of the namespace (for cleanup in tests and tools). */
  get pattern(): string {
    return `${this.prefix}:{${this.namespace}[:}]*`;
  }
}

export interface ShardKeys {
  /** `P:{ns:s}`: the prefix of the shard's keys, its hash tag included. */
  tag: string;
  outbox: string;
  deadlines: string;
  wakes: string;
  /** Live workers: worker id -> liveness expiry (Redis ms). Lua builds it as `K_TAG .. ':workers'`. */
  workers: string;
  /** Namespace settings the shard's scripts read. Lua builds it as `K_TAG .. ':settings'`. */
  settings: string;
  allRuns: string;
  openRuns: string;
  closedRuns: string;
  runsOfType(workflowType: string): string;
  runsOfTaskQueue(taskQueue: string): string;
  runState(runId: string): string;
  /** A run's pending activities (Lua builds it as `K_TAG .. ':acts:' .. runId`). */
  runActivities(runId: string): string;
}

export interface RunKeys extends ShardKeys {
  shard: number;
  state: string;
  history: string;
  buffer: string;
  workflowId: string;
}

/** 32-bit FNV-1a of some bytes. */
function fnv1a(bytes: Uint8Array): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < bytes.length; i++) hash = Math.imul(hash ^ bytes[i]!, 0x01000193) >>> 0;
  return hash;
}

/** Names of the BullMQ queues (names must not contain ':'). */
export const QueueNames = {
  workflow: 'workflow',
  activity: 'activity',
  timers: 'timers',
  /** Queries: one under each task queue's prefix (any worker of it), one under each worker's sticky prefix. */
  query: 'query',
  /** Messages between runs (signal or cancel another workflow), under the namespace's system prefix. */
  messages: 'messages',
} as const;
