import { randomUUID } from 'node:crypto';
import { EventType, WorkflowNotFoundError, WorkflowUpdateFailedError, WorkflowUpdateStage } from '@durabull/common';
import type { Failure, Payload, WorkflowExecutionUpdateCompletedEventAttributes } from '@durabull/common';
import { historyEventFromStreamEntry } from '@durabull/engine';
import type { RunRef, StreamEntry } from '@durabull/engine';
import type { HandleClient } from './handle-client';
import type { UpdateReading } from './update-watcher';

/** Options of `handle.executeUpdate`. */
export interface ExecuteUpdateOptions<A extends unknown[] = unknown[]> {
  /** The update's arguments. @default [] */
  args?: A;
  /**
   * The update id: an idempotency key within the run. A second request with an id the run knows
   * attaches to the first update (its outcome; the handler never runs again), except after a
   * rejection, which is kept nowhere (as in Temporal): the update is validated afresh.
   * @default a random UUID (version 4)
   */
  id?: string;
}

/** Options of `handle.startUpdate`. */
export interface StartUpdateOptions<A extends unknown[] = unknown[]> extends ExecuteUpdateOptions<A> {
  /**
   * The stage `startUpdate` waits for before it returns the handle: `ACCEPTED` (the validator
   * passed and the update was recorded) or `COMPLETED` (the handler finished). `ADMITTED` is not
   * supported (as in Temporal's Python SDK).
   */
  waitForStage: WorkflowUpdateStage.ACCEPTED | WorkflowUpdateStage.COMPLETED | `${WorkflowUpdateStage.ACCEPTED | WorkflowUpdateStage.COMPLETED}`;
}

/** An update of a run, started by `handle.startUpdate`: its id and, once it completes, its result. */
export class WorkflowUpdateHandle<R = unknown> {
  constructor(
    private readonly client: HandleClient,
    /** The update's id. */
    readonly updateId: string,
    /** The update's name. */
    readonly name: string,
    /** The workflow the update was sent to. */
    readonly workflowId: string,
    /** The run that took the update. */
    readonly workflowRunId: string,
  ) {}

  /**
   * Waits for the update to complete and returns the handler's result.
   * @throws WorkflowUpdateFailedError (message `Workflow update failed`) whose `cause` is the
   *   handler's failure, the validator's error (rejected), or, when the run closed before the
   *   handler finished, an `ApplicationError` of type `AcceptedUpdateCompletedWorkflow`
   * @throws WorkflowNotFoundError when the run closed before any workflow task saw the update, or
   *   no longer exists
   */
  async result(): Promise<R> {
    return this.client.reachRedis(async () => {
      const { reading, run } = await waitForUpdate(this.client, this.ref, this.updateId, WorkflowUpdateStage.COMPLETED);
      return (await updateOutcome(this.client, run, this.updateId, this.name, reading)) as R;
    });
  }

  private get ref(): RunRef {
    return { workflowId: this.workflowId, runId: this.workflowRunId };
  }
}

const STAGES = [WorkflowUpdateStage.ACCEPTED, WorkflowUpdateStage.COMPLETED] as const;

/** Whether a reading is final for a wait for `stage`: the stage is reached, or never will be. */
function settles(reading: UpdateReading, stage: WorkflowUpdateStage): boolean {
  const s = reading.update?.stage;
  if (!reading.runStatus || s === undefined) return true;
  if (s === 'completed' || s === 'rejected' || s === 'aborted' || s === 'moved') return true;
  return s === 'accepted' && stage === WorkflowUpdateStage.ACCEPTED;
}

/**
 * Waits until the update settles for `stage`, following it to the run it moved to when its run
 * continued as new before a workflow task saw it; the reading and the run it is of.
 */
async function waitForUpdate(
  client: HandleClient,
  ref: RunRef,
  updateId: string,
  stage: WorkflowUpdateStage,
  first?: UpdateReading,
): Promise<{ reading: UpdateReading; run: RunRef }> {
  let reading = await client.watchUpdate(ref, updateId, (r) => settles(r, stage), first);
  while (reading.update?.stage === 'moved' && reading.update.movedTo) {
    ref = { workflowId: ref.workflowId, runId: reading.update.movedTo };
    reading = await client.watchUpdate(ref, updateId, (r) => settles(r, stage));
  }
  return { reading, run: ref };
}

/** The error an update that did not get there raises, if any (rejected, aborted, run gone). */
function updateError(client: HandleClient, ref: RunRef, updateId: string, name: string, reading: UpdateReading, failure?: Failure): Error | undefined {
  const update = reading.update;
  if (!reading.runStatus) return new WorkflowNotFoundError(ref.workflowId, ref.runId);
  if (!update) return new WorkflowNotFoundError(ref.workflowId, ref.runId, `Workflow update ${JSON.stringify(updateId)} not found`);
  if (update.stage === 'aborted') return new WorkflowNotFoundError(ref.workflowId, ref.runId, 'workflow update was aborted by closing workflow');
  if (failure) {
    return new WorkflowUpdateFailedError({ cause: client.failures.failureToError(failure), updateId, updateName: name, ...ref });
  }
  return undefined;
}

/** The result of a completed update, or the error it raises. */
async function updateOutcome(client: HandleClient, ref: RunRef, updateId: string, name: string, reading: UpdateReading): Promise<unknown> {
  const stored = reading.update?.failure;
  const error = updateError(client, ref, updateId, name, reading, stored && (await client.codecs.decodeFailure(stored)));
  if (error) throw error;
  const eventId = reading.update!.completedEventId!;
  const history = client.engine.keys.run(ref.workflowId, ref.runId).history;
  const [entry] = (await client.engine.redis.xrange(history, `${eventId}-0`, `${eventId}-0`)) as StreamEntry[];
  if (!entry) throw new WorkflowNotFoundError(ref.workflowId, ref.runId);
  const [event] = await client.codecs.decodeEvents([historyEventFromStreamEntry(entry)]);
  if (event!.eventType !== EventType.WorkflowExecutionUpdateCompleted) {
    throw new Error(`Event ${eventId} of run ${ref.runId} is ${event!.eventType}, not the completion of update ${JSON.stringify(updateId)}`);
  }
  const { outcome } = event!.attributes as WorkflowExecutionUpdateCompletedEventAttributes;
  if ('failure' in outcome) {
    throw new WorkflowUpdateFailedError({ cause: client.failures.failureToError(outcome.failure), updateId, updateName: name, ...ref });
  }
  const [payload] = outcome.success as Payload[];
  return payload ? client.payloads.fromPayload(payload) : undefined;
}

/**
 * Sends update `name` to the run `target` names (admitted, or attached to the update the run knows by that
 * id), waits for `waitForStage`, and returns its handle.
 */
export async function startUpdate<R>(
  client: HandleClient,
  /** The run to send to, and, given one that turned out closed, the run that followed it (undefined: none). */
  target: { first(): Promise<RunRef>; after(closed: RunRef): Promise<RunRef | undefined> },
  name: string,
  options: StartUpdateOptions,
): Promise<WorkflowUpdateHandle<R>> {
  if (typeof options !== 'object' || options === null) throw new TypeError(`startUpdate options must be an object, got ${JSON.stringify(options)}`);
  const stage = options.waitForStage as WorkflowUpdateStage;
  if (stage === WorkflowUpdateStage.ADMITTED) throw new TypeError('ADMITTED wait stage not supported');
  if (!(STAGES as readonly string[]).includes(stage)) {
    throw new TypeError(`Invalid waitForStage: ${JSON.stringify(stage)} (ACCEPTED or COMPLETED)`);
  }
  const args = options.args ?? [];
  if (!Array.isArray(args)) throw new TypeError(`options.args must be an array, got ${JSON.stringify(args)}`);
  const updateId = options.id ?? randomUUID();
  if (typeof updateId !== 'string' || updateId.length === 0) throw new TypeError(`Invalid update id: ${JSON.stringify(updateId)} (a non-empty string)`);
  return client.reachRedis(async () => {
    const input = await client.codecs.encode(client.payloads.toPayloads(args));
    let run = await target.first();
    let state: Awaited<ReturnType<typeof client.engine.requestUpdate>>;
    for (;;) {
      try {
        state = await client.engine.requestUpdate(run, { updateId, name, input, identity: client.identity });
        break;
      } catch (error) {
        // The run closed before the update (nothing was admitted on it): when it handed over to
        // the next run of its chain (continue-as-new, a retry, a cron run), that run gets it.
        const next = error instanceof WorkflowNotFoundError ? await target.after(run) : undefined;
        if (!next || next.runId === run.runId) throw error;
        run = next;
      }
    }
    const waited = await waitForUpdate(client, run, updateId, stage, { runStatus: 'RUNNING', update: state });
    const reading = waited.reading;
    run = waited.run;
    const failure = reading.update?.stage === 'rejected' ? reading.update.failure : undefined;
    const error = updateError(client, run, updateId, name, reading, failure && (await client.codecs.decodeFailure(failure)));
    if (error) throw error;
    return new WorkflowUpdateHandle<R>(client, updateId, name, run.workflowId, run.runId);
  });
}
