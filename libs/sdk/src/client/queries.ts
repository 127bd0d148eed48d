import { randomUUID } from 'node:crypto';
import { WorkflowNotFoundError, WorkflowQueryFailedError, WorkflowQueryFailedReason, formatDuration } from '@durabull/common';
import type { CodecChain, FailureConverter, PayloadConverter } from '@durabull/common';
import { queryQueuePrefix, sendQuery, withdrawQuery } from '@durabull/engine';
import type { Engine, QueryAnswer, RunRef } from '@durabull/engine';
import type { Logger } from '../logger';
import { checkPayloadSize } from '../payload-limits';
import type { ClosedRunWatcher } from './closed-run-watcher';

/** What a query needs of the client that sends it. */
export interface QueryingClient {
  readonly engine: Engine;
  readonly payloads: PayloadConverter;
  readonly failures: FailureConverter;
  readonly codecs: CodecChain;
  readonly logger: Logger;
  /** How long a query waits for its answer (ms). */
  readonly queryTimeout: number;
  /** Runs a call that reaches Redis, turning "Redis is down" into a RedisConnectionError. */
  reachRedis<T>(call: () => Promise<T>): Promise<T>;
}

/**
 * A client's queries in flight, and the one reply channel their answers come back on (a channel
 * of the client's pub/sub subscriber, the one that also watches for closed runs).
 */
export class QueryReplies {
  /** The client's reply channel: workers publish the answers of its queries there. */
  readonly channel: string;
  private readonly waiting = new Map<string, (answer: QueryAnswer) => void>();
  private listening?: Promise<void>;

  constructor(
    engine: Engine,
    private readonly watcher: ClosedRunWatcher,
  ) {
    this.channel = engine.keys.replyChannel(randomUUID());
  }

  /** Resolves once the reply channel is subscribed: a query sent afterwards misses no answer. */
  ready(): Promise<void> {
    this.listening ??= this.watcher.listen(this.channel, (message) => this.receive(message)).catch((error: unknown) => {
      this.listening = undefined;
      throw error;
    });
    return this.listening;
  }

  /** Waits for the answer of query `id`; `cancel()` stops waiting. */
  expect(id: string): { answer: Promise<QueryAnswer>; cancel(): void } {
    const answer = new Promise<QueryAnswer>((resolve) => this.waiting.set(id, resolve));
    return { answer, cancel: () => this.waiting.delete(id) };
  }

  private receive(message: string): void {
    let answer: QueryAnswer;
    try {
      answer = JSON.parse(message) as QueryAnswer;
    } catch {
      return;
    }
    const resolve = this.waiting.get(answer.id);
    this.waiting.delete(answer.id);
    resolve?.(answer);
  }
}

/**
 * Sends query `queryType` to run `ref` and waits for the answer: the worker that caches the run
 * answers it when it is live, else any worker of the run's task queue, by replay.
 * @throws WorkflowQueryFailedError (`HANDLER_FAILED`, `UNKNOWN_QUERY`, `TIMEOUT`),
 *   WorkflowNotFoundError (no such run, or a closed run that never completed a workflow task),
 *   RedisConnectionError.
 */
export async function runQuery(client: QueryingClient, replies: QueryReplies, ref: RunRef, queryType: string, args: unknown[]): Promise<unknown> {
  const { engine, codecs, payloads } = client;
  const encoded = await codecs.encode(payloads.toPayloads(args));
  checkPayloadSize(encoded, `Query ${queryType} input`, engine.limits, client.logger);
  const failed = (reason: WorkflowQueryFailedReason, message: string, more: { cause?: unknown; knownQueries?: string[] } = {}) =>
    new WorkflowQueryFailedError(message, { reason, queryType, workflowId: ref.workflowId, runId: ref.runId, ...more });
  const id = randomUUID();
  const { prefix, answer, cancel } = await client.reachRedis(async () => {
    const route = await engine.routeQuery(ref);
    if (!route) throw new WorkflowNotFoundError(ref.workflowId, ref.runId);
    await replies.ready();
    const expected = replies.expect(id);
    const queuePrefix = queryQueuePrefix(engine, route);
    try {
      await sendQuery(engine, queuePrefix, {
        id,
        workflowId: ref.workflowId,
        runId: ref.runId,
        taskQueue: route.taskQueue,
        queryType,
        args: encoded,
        replyTo: replies.channel,
        timeout: client.queryTimeout,
      });
    } catch (error) {
      expected.cancel();
      throw error;
    }
    return { prefix: queuePrefix, ...expected };
  });
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), client.queryTimeout)));
  let reply: QueryAnswer | undefined;
  try {
    reply = await Promise.race([answer, timedOut]);
  } finally {
    clearTimeout(timer);
    cancel();
  }
  if (!reply) {
    await withdrawQuery(engine, prefix, id);
    throw failed(
      WorkflowQueryFailedReason.TIMEOUT,
      `Query ${queryType} got no answer within ${formatDuration(client.queryTimeout)} (workflowId=${JSON.stringify(ref.workflowId)} runId=${JSON.stringify(ref.runId)}): no worker of its task queue answered`,
    );
  }
  switch (reply.kind) {
    case 'result': {
      const [payload] = await codecs.decode(reply.result);
      return payload ? payloads.fromPayload(payload) : undefined;
    }
    case 'handlerFailed': {
      const cause = client.failures.failureToError(await codecs.decodeFailure(reply.failure));
      throw failed(WorkflowQueryFailedReason.HANDLER_FAILED, cause.message, { cause });
    }
    case 'unknownQuery':
      throw failed(WorkflowQueryFailedReason.UNKNOWN_QUERY, reply.message, { knownQueries: reply.knownQueries });
    case 'notFound':
      throw new WorkflowNotFoundError(ref.workflowId, ref.runId, reply.reason);
  }
}
