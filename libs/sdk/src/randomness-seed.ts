import { randomFillSync } from 'node:crypto';

const SEED_BYTES = 8;
/** Seeds drawn per refill: one call into the random source per this many starts, not per start. */
const SEEDS_PER_REFILL = 512;
const pool = Buffer.alloc(SEED_BYTES * SEEDS_PER_REFILL);
let next = pool.length;

/** A new run's randomness seed (`randomnessSeed` of WorkflowExecutionStarted): 16 random hex digits. */
export function newRandomnessSeed(): string {
  if (next === pool.length) {
    randomFillSync(pool);
    next = 0;
  }
  next += SEED_BYTES;
  return pool.toString('hex', next - SEED_BYTES, next);
}
