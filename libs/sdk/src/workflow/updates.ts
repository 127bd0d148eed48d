// Updates inside a run: each admitted request (live, from the workflow task start) or accepted
// update (replay, from its WorkflowExecutionUpdateAccepted, looked ahead of the task's
// WorkflowTaskCompleted) goes to its handler (its own, else the dynamic one). Live, the
// validator runs first, read-only: if it throws, the update is rejected (a command that writes
// no event); otherwise it is accepted and the handler runs, and its result or FailureError
// completes the update. An update whose handler is not set yet waits until the end of the
// activation (a handler set meanwhile, at the top of the run method say, gets it), as Temporal's
// TypeScript SDK does.

import { ApplicationError, EventType, FailureError, IllegalStateError, decodeAndValidateSync } from '@durabull/common';
import type { Failure, Payload, PayloadConverter, FailureConverter } from '@durabull/common';
import type { CommandRecord } from '@durabull/engine';
import { DYNAMIC } from '../definitions/workflow';
import type { Command, UpdateSlot } from './commands';
import type { MessageHandlers, ResolvedMessageHandler } from './message-handlers';

/** An update as the run receives it: a live request, or one history shows accepted. */
export interface UpdateDelivery {
  updateId: string;
  name: string;
  /** Decoded payloads (codecs undone). */
  input: Payload[];
  identity: string;
  /** Live: the validator runs and the update may be rejected; never on replay. */
  live: boolean;
}

/** What updates need of their run (the runtime implements it). */
export interface UpdateHost {
  readonly payloads: PayloadConverter;
  readonly failures: FailureConverter;
  /** The run's handlers; undefined until its workflow instance exists. */
  handlers(): MessageHandlers | undefined;
  /** The last history event the code has seen (the accepting task's sequencing event). */
  lastEventId(): number;
  addCommand(command: Command): void;
  /** Runs `fn` as the run's code in read-only mode (a command attempt throws IllegalStateError). */
  runReadOnly<T>(fn: () => T): T;
  /**
   * Calls a handler and follows its promise: it counts as running until it settles, and an error
   * it throws goes through the run method's failure rule (here: only non-FailureErrors reach it).
   */
  runHandler(kind: 'update', name: string, call: () => unknown, id: string): void;
  /** Fails the workflow task (an error that is not the update's to report). */
  failTask(error: unknown): void;
}

/** Temporal's (Python SDK) text for an update without a handler. */
export function unknownUpdateMessage(name: string, known: readonly string[]): string {
  return `Update handler for '${name}' expected but not found, and there is no dynamic handler. known updates: [${known.join(' ')}]`;
}

export class WorkflowUpdates {
  /** Updates whose handler was not set when they arrived, in order. */
  private waiting: UpdateDelivery[] = [];
  /** Rejections of the current activation: sent with its commands, written nowhere in history. */
  private rejections: CommandRecord[] = [];

  constructor(private readonly host: UpdateHost) {}

  /** An update reaches the code: handled now, or kept until its handler is set. */
  deliver(update: UpdateDelivery): void {
    const handler = this.host.handlers()?.lookup('update', update.name);
    if (!handler) {
      this.waiting.push(update);
      return;
    }
    this.handle(handler, update);
  }

  /** A handler was set for `name` (or the dynamic one): the updates kept for it are handled now. */
  handlerSet(name: string | typeof DYNAMIC): void {
    const handlers = this.host.handlers();
    if (!handlers || this.waiting.length === 0) return;
    const waiting = this.waiting;
    this.waiting = [];
    for (const update of waiting) {
      const handler = name === DYNAMIC || update.name === name ? handlers.lookup('update', update.name) : undefined;
      if (handler) this.handle(handler, update);
      else this.waiting.push(update);
    }
  }

  /**
   * The end of a live activation: updates still without a handler are rejected. (On replay they
   * stay, and their accepted events find no command: a nondeterminism error.)
   */
  endActivation(): void {
    const waiting = this.waiting.filter((update) => update.live);
    this.waiting = this.waiting.filter((update) => !update.live);
    const known = this.host.handlers()?.names('update') ?? [];
    for (const update of waiting) {
      this.reject(update, new ApplicationError(unknownUpdateMessage(update.name, known), { nonRetryable: true }));
    }
  }

  /** The rejections of the activation that just ran, and forgets them. */
  takeRejections(): CommandRecord[] {
    const rejections = this.rejections;
    this.rejections = [];
    return rejections;
  }

  private handle(handler: ResolvedMessageHandler, update: UpdateDelivery): void {
    let args: unknown[];
    try {
      args = decodeAndValidateSync(update.input, [...handler.paramTypes], `update ${update.name}`, this.host.payloads);
    } catch (error) {
      // Arguments that cannot be decoded reject the update (live); on replay they were accepted.
      if (update.live) this.reject(update, error);
      else this.host.failTask(error);
      return;
    }
    if (update.live && handler.validate) {
      try {
        this.host.runReadOnly(() => handler.validate!(args));
      } catch (error) {
        // A validator that tried to record something is a bug in the workflow, not a rejection.
        if (error instanceof IllegalStateError) this.host.failTask(error);
        else this.reject(update, error);
        return;
      }
    }
    const slot: UpdateSlot = { updateId: update.updateId, name: update.name, identity: update.identity };
    this.host.addCommand({ kind: 'acceptUpdate', slot, input: update.input, sequencingEventId: this.host.lastEventId() });
    const complete = (outcome: { success: Payload[] } | { failure: Failure }) => this.host.addCommand({ kind: 'completeUpdate', slot, outcome });
    this.host.runHandler(
      'update',
      update.name,
      async () => {
        let result: unknown;
        try {
          result = await handler.invoke(args);
        } catch (error) {
          // A FailureError fails the update only; anything else fails the workflow task.
          if (!(error instanceof FailureError)) throw error;
          complete({ failure: this.host.failures.errorToFailure(error) });
          return;
        }
        complete({ success: [this.host.payloads.toPayload(result)] });
      },
      update.updateId,
    );
  }

  private reject(update: UpdateDelivery, error: unknown): void {
    this.rejections.push({
      eventType: EventType.WorkflowExecutionUpdateRejected,
      attributes: { protocolInstanceId: update.updateId, failure: this.host.failures.errorToFailure(error) },
      meta: { uid: update.updateId },
    });
  }
}
