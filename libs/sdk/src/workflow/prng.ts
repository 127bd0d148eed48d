import { createHash } from 'node:crypto';

/**
 * The deterministic randomness of `workflow.random()` and `workflow.uuid4()`: sfc32 seeded from
 * the run's randomness seed, so a replay draws the same numbers in the same order.
 */
export class Prng {
  /** sfc32's state, derived from the seed on first use: most workflows never draw. */
  private state?: Uint32Array;

  constructor(private readonly seed: string) {}

  private nextUint32(): number {
    const s = (this.state ??= seeded(this.seed));
    const [a, b, c, d] = [s[0]!, s[1]!, s[2]!, s[3]!];
    const t = (((a + b) | 0) + d) | 0;
    s[3] = (d + 1) | 0;
    s[0] = b ^ (b >>> 9);
    s[1] = (c + (c << 3)) | 0;
    s[2] = (((c << 21) | (c >>> 11)) + t) | 0;
    return t >>> 0;
  }

  /** A float in [0, 1). */
  next(): number {
    return this.nextUint32() / 0x1_0000_0000;
  }

  /** An RFC 4122 version 4 UUID. */
  uuid4(): string {
    const bytes = Buffer.alloc(16);
    for (let i = 0; i < 16; i += 4) bytes.writeUInt32LE(this.nextUint32(), i);
    bytes[6] = (bytes[6]! & 0x0f) | 0x40;
    bytes[8] = (bytes[8]! & 0x3f) | 0x80;
    const hex = bytes.toString('hex');
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
  }
}

/** sfc32's four words from the seed's SHA-256 digest. */
function seeded(seed: string): Uint32Array {
  const digest = createHash('sha256').update(seed).digest();
  return Uint32Array.of(digest.readUInt32LE(0), digest.readUInt32LE(4), digest.readUInt32LE(8), digest.readUInt32LE(12));
}
