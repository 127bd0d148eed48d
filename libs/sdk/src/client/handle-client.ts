import type { CodecChain, FailureConverter, PayloadConverter } from '@durabull/common';
import type { Engine, RedisConnection, RunRef } from '@durabull/engine';
import type { ClientInterceptor, Headers } from '../interceptors';
import type { RunWatch } from './closed-run-watcher';
import type { UpdateReading } from './update-watcher';

/**
 * What a handle uses of the {@link Client} that made it (a `Client` is one): declared on its
 * own so that neither the handle nor the update handle imports the client, or each other.
 */
export interface HandleClient {
  readonly engine: Engine;
  readonly connection: RedisConnection;
  readonly payloads: PayloadConverter;
  readonly failures: FailureConverter;
  /** The payload codecs of the client's data converter. */
  readonly codecs: CodecChain;
  readonly identity: string;
  /** Runs a call that reaches Redis, turning "Redis is down" into a RedisConnectionError. */
  reachRedis<T>(call: () => Promise<T>): Promise<T>;
  /** Watches a run for its close. */
  watchClose(ref: RunRef): Promise<RunWatch>;
  /** Reads an update until `done` says so, at each of its stage changes (update-watcher.ts). */
  watchUpdate(ref: RunRef, updateId: string, done: (reading: UpdateReading) => boolean, first?: UpdateReading): Promise<UpdateReading>;
  /** The client's interceptors (the `interceptors` option). */
  readonly interceptors: readonly ClientInterceptor[];
  /** A signal's WorkflowExecutionSignaled attributes (input encoded and size-checked, identity, headers). */
  signalAttributes(signalName: string, args: readonly unknown[], headers?: Headers): Promise<Record<string, unknown>>;
  /** Sends a query to a run and waits for its answer. */
  query(ref: RunRef, queryType: string, args: unknown[]): Promise<unknown>;
}

