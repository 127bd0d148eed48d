import { randomBytes } from 'node:crypto';
import { Worker as BullWorker } from 'bullmq';
import { RedisConnection } from '@durabull/engine';
import { WAKE_UP_MAX_BLOCK_S, WakeUpWorker } from './connections';

/** BullMQ's `getBlockTimeout` (protected): how long the worker's next blocking wait may last, in seconds. */
type BlockTimeout = { getBlockTimeout(blockUntil: number): number };

describe('WakeUpWorker', () => {
  let connection: RedisConnection;
  const workers: BullWorker[] = [];
  const clients: Array<{ disconnect(): void }> = [];
  beforeEach(() => {
    connection = RedisConnection.from();
  });
  afterEach(async () => {
    await Promise.all(workers.splice(0).map((worker) => worker.close()));
    for (const client of clients.splice(0)) client.disconnect();
    await connection.close();
  });

  const open = (Class: typeof BullWorker) => {
    const client = connection.client.duplicate({ maxRetriesPerRequest: null });
    clients.push(client);
    const worker = new Class(`wake-${randomBytes(4).toString('hex')}`, async () => undefined, {
      connection: client,
      autorun: false,
      drainDelay: 1,
    });
    workers.push(worker);
    return worker as unknown as BlockTimeout;
  };

  it('never blocks longer than 250 ms, where BullMQ would wait for the next delayed job it knows of', async () => {
    const later = Date.now() + 8_000;
    expect(open(BullWorker).getBlockTimeout(later)).toBeGreaterThan(5);
    expect(WAKE_UP_MAX_BLOCK_S).toBe(0.25);
    const wakeUps = open(WakeUpWorker);
    expect(wakeUps.getBlockTimeout(later)).toBe(0.25);
    // No delayed job known: BullMQ's drainDelay (1 s), capped the same way.
    expect(wakeUps.getBlockTimeout(0)).toBe(0.25);
    // A delayed job due already: no wait at all, as in BullMQ.
    expect(wakeUps.getBlockTimeout(Date.now() - 10)).toBeLessThanOrEqual(0);
  });
});
