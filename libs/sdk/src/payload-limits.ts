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
  const bytes = Buffer.byteLength(JSON.stringify(value));
  if (limits.payloadBytes > 0 && bytes > limits.payloadBytes) throw new PayloadSizeError(what, bytes, limits.payloadBytes);
  if (limits.payloadBytesWarning > 0 && bytes > limits.payloadBytesWarning) {
    logger.warn(`${what} is ${formatBytes(bytes)}, over the ${formatBytes(limits.payloadBytesWarning)} warning size`, { bytes });
  }
}
