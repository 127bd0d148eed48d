import { toMilliseconds } from '@durabull/common';
import type { Duration } from '@durabull/common';

/**
 * Replica-acknowledged transitions (the client's `durability` option). Redis replicates
 * asynchronously: a transition acknowledged by the primary may not have reached any replica when
 * the primary fails, and the replica that takes over then has never heard of it. With this
 * setting, each transition is followed on the same connection by `WAIT <replicas> <timeout>`, and
 * neither its tasks are dispatched nor its caller answered until that many replicas hold it.
 */
export interface DurabilityOption {
  /**
   * Replicas that must confirm a transition (Redis `WAIT`) before it counts as done: its tasks
   * dispatched, its call resolved. 0 turns the setting off. A whole number from 0 up.
   */
  replicas: number;
  /**
   * How long a transition waits for them; past it the call fails with `ReplicationTimeoutError`
   * (the transition stays committed on the primary). More than 0. @default 1 s
   */
  timeout?: Duration;
}

/** {@link DurabilityOption} checked, with the timeout in ms. */
export interface Durability {
  replicas: number;
  timeout: number;
}

export const DEFAULT_DURABILITY_TIMEOUT_MS = 1_000;

/** Checks the option; undefined when replica acknowledgement is off (no option, or 0 replicas). */
export function resolveDurability(option: DurabilityOption | undefined): Durability | undefined {
  if (option === undefined) return undefined;
  if (typeof option !== 'object' || option === null) {
    throw new TypeError(`Invalid durability: ${JSON.stringify(option)} (expected { replicas, timeout? })`);
  }
  const unknown = Object.keys(option).filter((key) => key !== 'replicas' && key !== 'timeout');
  if (unknown.length > 0) throw new TypeError(`Unknown durability option(s): ${unknown.join(', ')}`);
  const { replicas } = option;
  if (typeof replicas !== 'number' || !Number.isInteger(replicas) || replicas < 0) {
    throw new TypeError(`Invalid durability.replicas: ${JSON.stringify(replicas)} (an integer >= 0)`);
  }
  const timeout = option.timeout === undefined ? DEFAULT_DURABILITY_TIMEOUT_MS : toMilliseconds(option.timeout, 'durability.timeout');
  if (!(timeout >= 1)) {
    throw new TypeError(`Invalid durability.timeout: ${JSON.stringify(option.timeout)} (at least 1 ms; WAIT 0 would wait forever)`);
  }
  return replicas === 0 ? undefined : { replicas, timeout: Math.ceil(timeout) };
}
