import { PayloadSizeError, formatBytes } from '@durabull/common';
import type { Failure, Payload } from '@durabull/common';
import type { NamespaceLimits } from '@durabull/engine';
import type { Logger } from './logger';

/**
 * Checks what is about to be written against the namespace's payload limits (sizes as stored,
 * after codecs): over the warning size it logs, over the limit it throws.
 * @param what - names the payload, e.g. `Activity your_activity input`.
 * @throws PayloadSizeError over the limit.
 */
export function checkPayloadSize(
  value: Payload[] | Failure,
  what: string,
  limits: Pick<NamespaceLimits, 'payloadBytes' | 'payloadBytesWarning'>,
  logger: Logger,
): void {
  const { payloadBytes, payloadBytesWarning } = limits;
  // Below the smaller limit in force, neither applies.
  const smallest = payloadBytes > 0 && payloadBytesWarning > 0 ? Math.min(payloadBytes, payloadBytesWarning) : Math.max(payloadBytes, payloadBytesWarning);
  if (smallest <= 0 || jsonBytesBound(value, smallest) <= smallest) return;
  const bytes = Buffer.byteLength(JSON.stringify(value));
  if (payloadBytes > 0 && bytes > payloadBytes) throw new PayloadSizeError(what, bytes, payloadBytes);
  if (payloadBytesWarning > 0 && bytes > payloadBytesWarning) {
    logger.warn(`${what} is ${formatBytes(bytes)}, over the ${formatBytes(payloadBytesWarning)} warning size`, { bytes });
  }
}

/** Nesting deeper than this is measured exactly (and a cycle is reported as JSON.stringify reports it). */
const BOUND_MAX_DEPTH = 64;

/**
 * An upper bound of `Buffer.byteLength(JSON.stringify(value))`, or a number over `budget` as soon
 * as the bound passes it: walking the value costs a tenth of serialising it, and nearly every
 * payload is far below the limits, so only a payload near them is serialised to be measured.
 * A string counts 6 bytes a UTF-16 unit (a `\uXXXX` escape; unescaped, a unit is at most 3 bytes
 * of UTF-8), a number 24 (`-1.7976931348623157e+308`); anything else JSON.stringify would
 * transform (`toJSON`, a bigint) ends the walk, and so does a nesting deeper than
 * {@link BOUND_MAX_DEPTH} (a cycle), so that the exact measure decides, or throws as it did.
 */
function jsonBytesBound(value: unknown, budget: number): number {
  let bound = 0;
  const walk = (item: unknown, depth: number): void => {
    if (bound > budget) return;
    if (depth > BOUND_MAX_DEPTH) {
      bound = Infinity;
      return;
    }
    switch (typeof item) {
      case 'string':
        bound += 6 * item.length + 2;
        return;
      case 'number':
        bound += 24;
        return;
      case 'boolean':
      case 'undefined':
        bound += 5;
        return;
      case 'object': {
        if (item === null) {
          bound += 4;
          return;
        }
        if (Array.isArray(item)) {
          bound += 2 + item.length;
          for (const element of item) walk(element, depth + 1);
          return;
        }
        if (typeof (item as { toJSON?: unknown }).toJSON === 'function') {
          bound = Infinity;
          return;
        }
        bound += 2;
        for (const key of Object.keys(item)) {
          bound += 6 * key.length + 4;
          walk((item as Record<string, unknown>)[key], depth + 1);
        }
        return;
      }
      default:
        bound = Infinity;
    }
  };
  walk(value, 0);
  return bound;
}
