// Queries inside a run: finding the handler (its own, else the dynamic one), calling it
// read-only and synchronously, and turning what happened into an answer for the client. Which
// state a query sees (a cached run, or one rebuilt by replay) is the worker's business
// (worker/queries.ts); this file only runs the handler against a runtime.

import { WorkflowQueryFailedReason, decodeAndValidateSync } from '@durabull/common';
import type { Payload, PayloadConverter } from '@durabull/common';
import type { MessageHandlers } from './message-handlers';

/** What a query needs of its run (the runtime implements it). */
export interface QueryHost {
  readonly payloads: PayloadConverter;
  /** The run's handlers; undefined until its workflow instance exists. */
  readonly handlers: MessageHandlers | undefined;
  /**
   * Runs `fn` as the run's code in read-only mode: anything that would record a command (or
   * advance the run's deterministic random numbers) throws IllegalStateError.
   */
  runReadOnly<T>(fn: () => T): T;
}

/** How a query went: the handler's value, or why there is none. */
export type QueryOutcome =
  | { ok: true; value: unknown }
  | { ok: false; reason: WorkflowQueryFailedReason.HANDLER_FAILED; error: unknown }
  | { ok: false; reason: WorkflowQueryFailedReason.UNKNOWN_QUERY; message: string; knownQueries: string[] };

/** Temporal's (Python SDK) text for a query without a handler. */
export function unknownQueryMessage(name: string, knownQueries: readonly string[]): string {
  return `Query handler for '${name}' expected but not found, known queries: [${knownQueries.join(' ')}]`;
}

/**
 * Answers query `name` with `input` (decoded payloads) from the run's current state. Never
 * throws: a handler's error, a Promise returned by a handler and undecodable arguments come back
 * as `HANDLER_FAILED`, a name without a handler as `UNKNOWN_QUERY`.
 */
export function answerQuery(host: QueryHost, name: string, input: Payload[]): QueryOutcome {
  const handlers = host.handlers;
  const handler = handlers?.lookup('query', name);
  if (!handler) {
    const knownQueries = handlers?.names('query') ?? [];
    return { ok: false, reason: WorkflowQueryFailedReason.UNKNOWN_QUERY, message: unknownQueryMessage(name, knownQueries), knownQueries };
  }
  try {
    const args = decodeAndValidateSync(input, [...handler.paramTypes], `query ${name}`, host.payloads);
    const value = host.runReadOnly(() => handler.invoke(args));
    if (isThenable(value)) {
      // Its rejection, if any, must not become an unhandled rejection of the worker.
      Promise.resolve(value).catch(() => undefined);
      throw new TypeError(`Query handler for '${name}' returned a Promise: query handlers must be synchronous`);
    }
    return { ok: true, value };
  } catch (error) {
    return { ok: false, reason: WorkflowQueryFailedReason.HANDLER_FAILED, error };
  }
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (typeof value === 'object' || typeof value === 'function') && value !== null && typeof (value as { then?: unknown }).then === 'function';
}
