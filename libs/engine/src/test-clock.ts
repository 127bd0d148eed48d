// A namespace's clock offset, for time-skipping test environments (@durabull/testing): every
// transition measures time as Redis server time plus the offset in its shard's settings hash
// (lua/includes/clock.lua), so moving the offset forward makes timers, timeouts, retry backoffs
// and retention come due at once, while worker liveness and BullMQ locks stay on real time.

import { QueueNames } from './keys';
import type { Engine } from './engine';

/** The namespace's clock offset (ms ahead of Redis server time), as shard 0 holds it. */
export async function clockOffset(engine: Engine): Promise<number> {
  return Number((await engine.redis.hget(engine.keys.shard(0).settings, 'clock')) ?? 0);
}

/**
 * Moves the namespace's clock `ms` forward (never back), then makes what came due run now: the
 * delayed jobs of the given task queues and of the wake-up queue are promoted (an activity
 * attempt promoted before its time on the new clock is delayed again by its worker), and every
 * shard's due deadlines are fired; the schedule actions that came due have started when it
 * resolves (to the new offset).
 */
export async function advanceClock(engine: Engine, ms: number, taskQueues: readonly string[]): Promise<number> {
  if (!Number.isFinite(ms) || ms < 0) throw new TypeError(`Invalid clock advance: ${JSON.stringify(ms)} (a duration >= 0)`);
  const offset = (await clockOffset(engine)) + Math.round(ms);
  const shards = Array.from({ length: engine.keys.shardCount }, (_, shard) => shard);
  await Promise.all(shards.map((shard) => engine.redis.hset(engine.keys.shard(shard).settings, 'clock', offset)));
  const queues = [
    engine.dispatcher.queue(engine.keys.timerPrefix, QueueNames.timers),
    ...taskQueues.flatMap((taskQueue) => [
      engine.dispatcher.queue(engine.keys.taskQueuePrefix(taskQueue), QueueNames.activity),
      engine.dispatcher.queue(engine.keys.taskQueuePrefix(taskQueue), QueueNames.workflow),
    ]),
  ];
  await Promise.all(queues.map((queue) => queue.promoteJobs()));
  await Promise.all(shards.map((shard) => engine.fireDueDeadlines(shard)));
  // A worker's wake-up may have fired a schedule first and not yet started its action.
  await engine.schedules.handOverPending();
  return offset;
}

/** How many of a shard's earliest deadlines {@link nextDueTime} looks through for one that is not a retention deadline (or a schedule's look at a run). */
const DEADLINES_SCANNED = 50;

/**
 * When the next thing of the namespace comes due on its clock (ms): the earliest deadline or
 * delayed task of any shard; undefined when nothing is waiting for time. Retention deadlines
 * (deleting closed runs) do not count: skipping time to them would delete what a test still reads.
 */
export async function nextDueTime(engine: Engine): Promise<number | undefined> {
  const shards = Array.from({ length: engine.keys.shardCount }, (_, shard) => engine.keys.shard(shard));
  const times: number[] = [];
  await Promise.all(
    shards.map(async (keys) => {
      const [deadlines, outbox] = await Promise.all([
        engine.redis.zrange(keys.deadlines, 0, DEADLINES_SCANNED - 1, 'WITHSCORES'),
        engine.redis.zrange(keys.outbox, 0, 0, 'WITHSCORES'),
      ]);
      for (let i = 0; i < deadlines.length; i += 2) {
        // Nor does a schedule's look at a run it waits for (it comes every second of real time).
        if (deadlines[i]!.startsWith('ret|') || deadlines[i]!.startsWith('scp|')) continue;
        times.push(Number(deadlines[i + 1]));
        break;
      }
      if (outbox.length === 2) times.push(Number(outbox[1]));
    }),
  );
  return times.length > 0 ? Math.min(...times) : undefined;
}

/** The namespace's time now (ms): Redis server time plus the clock offset. */
export async function namespaceTime(engine: Engine): Promise<number> {
  const [[seconds, micros], offset] = await Promise.all([engine.redis.time(), clockOffset(engine)]);
  return Number(seconds) * 1000 + Math.floor(Number(micros) / 1000) + offset;
}
