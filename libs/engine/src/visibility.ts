import type { Cluster, Redis } from 'ioredis';
import type { NamespaceKeys, ShardKeys } from './keys';

/** Which runs to list or count; every field narrows the selection. */
export interface RunFilter {
  /** Execution status: RUNNING, COMPLETED, FAILED, CANCELED, TERMINATED, TIMED_OUT, CONTINUED_AS_NEW. */
  status?: string;
  workflowType?: string;
  taskQueue?: string;
  /** Started at or after this time (ms since the epoch). */
  startedAfter?: number;
  /** Started before this time (ms since the epoch). */
  startedBefore?: number;
}

/** One run as listed: what its state hash says. */
export interface RunSummary {
  workflowId: string;
  runId: string;
  workflowType: string;
  taskQueue: string;
  status: string;
  startTime: number;
  closeTime?: number;
  historyLength: number;
}

export interface RunPage {
  runs: RunSummary[];
  /** Pass it back to get the next page; absent on the last page. */
  nextPageToken?: string;
}

interface Cursor {
  startTime: number;
  runId: string;
}

const STATE_FIELDS = ['wid', 'type', 'tq', 'status', 'start', 'close', 'last'] as const;

/**
 * Lists and counts a namespace's runs. Each shard keeps run ids in sorted sets by start time —
 * all runs, open runs, closed runs, runs per workflow type and per task queue — maintained by the
 * same scripts that start and close runs, so the indexes agree with the runs whatever crashes.
 * A listing reads the narrowest index of every shard (newest first), filters candidates on their
 * state, and merges the shards.
 */
export class Visibility {
  constructor(
    private readonly redis: Redis | Cluster,
    private readonly keys: NamespaceKeys,
  ) {}

  async list(filter: RunFilter = {}, pageSize = 100, pageToken?: string): Promise<RunPage> {
    if (!Number.isInteger(pageSize) || pageSize < 1 || pageSize > 10_000) {
      throw new TypeError(`Invalid pageSize: ${JSON.stringify(pageSize)} (an integer from 1 to 10000)`);
    }
    const cursor = pageToken === undefined ? undefined : decodeToken(pageToken);
    const scans = Array.from({ length: this.keys.shardCount }, (_, shard) => new ShardScan(this.redis, this.keys.shard(shard), filter, cursor));
    const runs: RunSummary[] = [];
    while (runs.length < pageSize) {
      const heads = await Promise.all(scans.map((scan) => scan.peek(pageSize)));
      let best = -1;
      heads.forEach((head, i) => {
        if (head && (best < 0 || newer(head, heads[best]!))) best = i;
      });
      if (best < 0) break;
      runs.push(scans[best]!.take());
    }
    const last = runs.at(-1);
    const more = last !== undefined && (await Promise.all(scans.map((scan) => scan.peek(1)))).some((head) => head !== undefined);
    return { runs, nextPageToken: more ? encodeToken({ startTime: last.startTime, runId: last.runId }) : undefined };
  }

  async count(filter: RunFilter = {}): Promise<number> {
    const index = chooseIndex(filter);
    const [min, max] = scoreRange(filter);
    if (!needsStateFilter(filter, index.kind)) {
      const counts = await Promise.all(
        Array.from({ length: this.keys.shardCount }, (_, shard) => this.redis.zcount(index.key(this.keys.shard(shard)), min, max)),
      );
      return counts.reduce((a, b) => a + b, 0);
    }
    let total = 0;
    let token: string | undefined;
    do {
      const page = await this.list(filter, 1_000, token);
      total += page.runs.length;
      token = page.nextPageToken;
    } while (token);
    return total;
  }
}

type IndexKind = 'open' | 'closed' | 'type' | 'taskQueue' | 'all';

/** The narrowest index for a filter; the rest of the filter is checked on each run's state. */
function chooseIndex(filter: RunFilter): { kind: IndexKind; key: (shard: ShardKeys) => string } {
  if (filter.status === 'RUNNING') return { kind: 'open', key: (s) => s.openRuns };
  if (filter.workflowType !== undefined) return { kind: 'type', key: (s) => s.runsOfType(filter.workflowType!) };
  if (filter.taskQueue !== undefined) return { kind: 'taskQueue', key: (s) => s.runsOfTaskQueue(filter.taskQueue!) };
  if (filter.status !== undefined) return { kind: 'closed', key: (s) => s.closedRuns };
  return { kind: 'all', key: (s) => s.allRuns };
}

function needsStateFilter(filter: RunFilter, kind: IndexKind): boolean {
  return (
    (filter.status !== undefined && kind !== 'open') ||
    (filter.workflowType !== undefined && kind !== 'type') ||
    (filter.taskQueue !== undefined && kind !== 'taskQueue')
  );
}

function scoreRange(filter: RunFilter): [string, string] {
  return [
    filter.startedAfter === undefined ? '-inf' : String(filter.startedAfter),
    filter.startedBefore === undefined ? '+inf' : `(${filter.startedBefore}`,
  ];
}

/** Newest first; equal start times by run id, descending, as ZREVRANGE orders them. */
function newer(a: RunSummary, b: RunSummary): boolean {
  return a.startTime > b.startTime || (a.startTime === b.startTime && a.runId > b.runId);
}

/** Walks one shard's index below the cursor, newest first, keeping runs that match the filter. */
class ShardScan {
  private readonly buffer: RunSummary[] = [];
  private readonly index: string;
  private readonly minScore: string;
  private readonly check: boolean;
  /** Where the next read starts: at most this score, skipping `offset` entries at it. */
  private maxScore: string;
  private offset = 0;
  private exhausted = false;

  constructor(
    private readonly redis: Redis | Cluster,
    private readonly shard: ShardKeys,
    private readonly filter: RunFilter,
    private readonly cursor: Cursor | undefined,
  ) {
    const index = chooseIndex(filter);
    this.index = index.key(shard);
    this.check = needsStateFilter(filter, index.kind);
    [this.minScore, this.maxScore] = scoreRange(filter);
    if (cursor && (filter.startedBefore === undefined || cursor.startTime < filter.startedBefore)) {
      this.maxScore = String(cursor.startTime);
    }
  }

  async peek(batch: number): Promise<RunSummary | undefined> {
    while (this.buffer.length === 0 && !this.exhausted) await this.fetch(batch);
    return this.buffer[0];
  }

  take(): RunSummary {
    return this.buffer.shift()!;
  }

  private async fetch(batch: number): Promise<void> {
    const entries = await this.redis.zrevrangebyscore(this.index, this.maxScore, this.minScore, 'WITHSCORES', 'LIMIT', this.offset, batch);
    if (entries.length < batch * 2) this.exhausted = true;
    const candidates: Array<{ runId: string; score: number }> = [];
    for (let i = 0; i < entries.length; i += 2) {
      const runId = entries[i]!;
      const score = Number(entries[i + 1]);
      // Runs at the previous page's last start time were listed up to its run id.
      if (this.cursor && score === this.cursor.startTime && runId >= this.cursor.runId) continue;
      candidates.push({ runId, score });
    }
    if (entries.length > 0) {
      const lastScore = entries.at(-1)!;
      let ties = 0;
      for (let i = entries.length - 1; i > 0 && entries[i] === lastScore; i -= 2) ties++;
      if (lastScore === this.maxScore) this.offset += ties;
      else [this.maxScore, this.offset] = [lastScore, ties];
    }
    const states = await Promise.all(candidates.map((c) => this.redis.hmget(this.shard.runState(c.runId), ...STATE_FIELDS)));
    candidates.forEach((candidate, i) => {
      const [wid, type, tq, status, start, close, lastEventId] = states[i]!;
      if (!status) return; // the run's keys are gone (deleted by hand): its index entry is stale
      const run: RunSummary = {
        workflowId: wid!,
        runId: candidate.runId,
        workflowType: type!,
        taskQueue: tq!,
        status,
        startTime: Number(start),
        closeTime: close ? Number(close) : undefined,
        historyLength: Number(lastEventId),
      };
      if (!this.check || this.matches(run)) this.buffer.push(run);
    });
  }

  private matches(run: RunSummary): boolean {
    const { status, workflowType, taskQueue } = this.filter;
    return (
      (status === undefined || run.status === status) &&
      (workflowType === undefined || run.workflowType === workflowType) &&
      (taskQueue === undefined || run.taskQueue === taskQueue)
    );
  }
}

function encodeToken(cursor: Cursor): string {
  return Buffer.from(JSON.stringify([cursor.startTime, cursor.runId])).toString('base64url');
}

function decodeToken(token: string): Cursor {
  try {
    const [startTime, runId] = JSON.parse(Buffer.from(token, 'base64url').toString()) as [unknown, unknown];
    if (typeof startTime === 'number' && typeof runId === 'string') return { startTime, runId };
  } catch {
    // reported below
  }
  throw new TypeError(`Invalid page token: ${JSON.stringify(token)}`);
}
