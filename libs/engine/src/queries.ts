import type { Failure, Payload } from '@durabull/common';
import type { Queue } from 'bullmq';
import type { Cluster, Redis } from 'ioredis';
import type { Dispatcher } from './dispatcher';
import type { NamespaceKeys } from './keys';
import { QueueNames } from './keys';
import type { RunRef } from './types';

/** What the query helpers need of the engine (the Engine itself; a narrow view, so this file does not import it). */
interface EngineView {
  readonly keys: NamespaceKeys;
  readonly dispatcher: Dispatcher;
  readonly redis: Redis | Cluster;
}

/**
 * Queries travel outside the run's transitions: nothing about them is written to the run. A client
 * sends one as a BullMQ job to a `query` queue (see {@link QueryRoute}); a worker answers it from
 * the run it caches or by replaying the run's history, and publishes the answer on the client's
 * reply channel (`NamespaceKeys.replyChannel`).
 */

/** A query, as the data of its BullMQ job. */
export interface QueryJobData {
  /** The query's id: its job id, and the key of its answer. */
  id: string;
  workflowId: string;
  runId: string;
  /** The run's task queue (where the query goes if the worker it was sent to stops). */
  taskQueue: string;
  /** The query's name. */
  queryType: string;
  /** Its arguments, encoded (payload codecs applied). */
  args: Payload[];
  /** The channel the answer goes to (the asking client's reply channel). */
  replyTo: string;
  /** How long the client waits (ms): a worker waits no longer than this for a pending workflow task. */
  timeout: number;
}

/** A worker's answer to a query, published (as JSON) on the asking client's reply channel. */
export type QueryAnswer =
  /** The handler's value, encoded (payload codecs applied). */
  | { id: string; kind: 'result'; result: Payload[] }
  /** The handler threw (or returned a Promise, or the run's state could not be rebuilt): the failure, encoded. */
  | { id: string; kind: 'handlerFailed'; failure: Failure }
  /** No handler for the name: the message names the known queries. */
  | { id: string; kind: 'unknownQuery'; message: string; knownQueries: string[] }
  /** The run does not exist, or cannot be queried: why. */
  | { id: string; kind: 'notFound'; reason: string };

/** Where a query of a run goes: from `Engine.routeQuery`. */
export interface QueryRoute {
  /** The run's status (`RUNNING`, or how it closed). */
  status: string;
  /** The run's task queue. */
  taskQueue: string;
  /** The live worker that caches the run, whose sticky `query` queue takes it; undefined for the task queue. */
  worker?: string;
}

/** What a worker reads of a run before it answers a query. */
export interface QueryRunState {
  status: string;
  /** The workflow task: '' none, 'scheduled', 'started'. */
  workflowTask: string;
  /** Its attempt (above 1: it is failing). */
  workflowTaskAttempt: number;
  /** The worker whose sticky queue takes the run's next task ('' for none): the one that caches it. */
  stickyWorker: string;
}

/** BullMQ job options of a query: one attempt, removed once answered. */
const QUERY_JOB_OPTIONS = { attempts: 1, removeOnComplete: true, removeOnFail: true } as const;

/** Parses the reply of the `routeQuery` script; undefined when the run does not exist. */
export function parseQueryRoute(reply: unknown): QueryRoute | undefined {
  const [status, taskQueue, worker] = reply as [string?, string?, string?];
  if (status === undefined) return undefined;
  return { status, taskQueue: taskQueue!, worker: worker || undefined };
}

/** The BullMQ prefix of the `query` queue a route names. */
export function queryQueuePrefix(engine: EngineView, route: QueryRoute): string {
  return route.worker ? engine.keys.stickyPrefix(route.worker) : engine.keys.taskQueuePrefix(route.taskQueue);
}

function queryQueue(engine: EngineView, prefix: string): Queue {
  return engine.dispatcher.queue(prefix, QueueNames.query);
}

/** Sends a query to the `query` queue under `prefix` (see {@link queryQueuePrefix}). */
export async function sendQuery(engine: EngineView, prefix: string, query: QueryJobData): Promise<void> {
  await queryQueue(engine, prefix).add(QueueNames.query, query, { ...QUERY_JOB_OPTIONS, jobId: query.id });
}

/** Takes back a query nobody answered in time (a job a worker holds cannot be removed: it is answered into the void). */
export async function withdrawQuery(engine: EngineView, prefix: string, id: string): Promise<void> {
  await queryQueue(engine, prefix)
    .remove(id)
    .catch(() => undefined);
}

/**
 * Moves the queries waiting on a worker's sticky `query` queue to their runs' task queues and
 * deletes the queue: the worker is shutting down, or was found dead. A query the worker had taken
 * and not answered is lost (its client times out).
 */
export async function handOverQueries(engine: EngineView, workerId: string): Promise<void> {
  const queue = queryQueue(engine, engine.keys.stickyPrefix(workerId));
  const jobs = await queue.getJobs(['wait', 'prioritized', 'delayed']);
  await Promise.all(
    jobs.map(async (job) => {
      const query = job.data as QueryJobData;
      await sendQuery(engine, engine.keys.taskQueuePrefix(query.taskQueue), query);
    }),
  );
  await queue.obliterate({ force: true });
}

/** Reads what a worker needs to know of a run before it answers a query; undefined when it does not exist. */
export async function readQueryRunState(engine: EngineView, ref: RunRef): Promise<QueryRunState | undefined> {
  const keys = engine.keys.run(ref.workflowId, ref.runId);
  const [status, wft, watt, sticky] = await engine.redis.hmget(keys.state, 'status', 'wft', 'watt', 'sticky');
  if (!status) return undefined;
  return { status, workflowTask: wft ?? '', workflowTaskAttempt: Number(watt) || 0, stickyWorker: sticky ?? '' };
}

/** Publishes a query's answer on the asking client's reply channel. */
export async function publishQueryAnswer(engine: EngineView, channel: string, answer: QueryAnswer): Promise<void> {
  await engine.redis.publish(channel, JSON.stringify(answer));
}
