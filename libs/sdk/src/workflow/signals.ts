// Signals inside a run: delivering each WorkflowExecutionSignaled to its handler (its own, else
// the dynamic one), keeping signals that have no handler yet until one is set, and what a run
// reports about its signals when it closes.

import { decodeAndValidateSync } from '@durabull/common';
import type { Payload, PayloadConverter } from '@durabull/common';
import { DYNAMIC } from '../definitions/workflow';
import type { MessageHandlers, ResolvedMessageHandler } from './message-handlers';

/** What the signal inbox needs of its run (the runtime implements it). */
export interface SignalHost {
  readonly payloads: PayloadConverter;
  /** The run's handlers; undefined until its workflow instance exists. */
  handlers(): MessageHandlers | undefined;
  /**
   * Calls a message handler and follows what it returns: it counts as running until its promise
   * settles, and an error it throws goes through the run method's failure rule.
   */
  runHandler(kind: 'signal', name: string, call: () => unknown): void;
  /** Logs (not during replay) with the run's ids. */
  warn(message: string, attributes?: Record<string, unknown>): void;
}

interface BufferedSignal {
  name: string;
  input: Payload[];
}

/**
 * A run's signals. Each is handed to its handler when its event is applied (in history order,
 * before the run method goes on); a signal without a handler waits, in order, until a handler
 * for its name (or a dynamic one) is set, as Temporal's SDKs do.
 */
export class SignalInbox {
  private buffered: BufferedSignal[] = [];

  constructor(private readonly host: SignalHost) {}

  /** A signal arrived (its WorkflowExecutionSignaled): delivered now, or kept until a handler exists. */
  deliver(name: string, input: Payload[]): void {
    const handler = this.host.handlers()?.lookup('signal', name);
    if (!handler) {
      this.buffered.push({ name, input });
      return;
    }
    this.invoke(handler, input);
  }

  /**
   * A handler was set for `name` (or the dynamic one): the signals kept for it are delivered now,
   * in the order they arrived.
   */
  handlerSet(name: string | typeof DYNAMIC): void {
    const handlers = this.host.handlers();
    if (!handlers || this.buffered.length === 0) return;
    const waiting = this.buffered;
    this.buffered = [];
    for (const signal of waiting) {
      const handler = name === DYNAMIC || signal.name === name ? handlers.lookup('signal', signal.name) : undefined;
      if (handler) this.invoke(handler, signal.input);
      else this.buffered.push(signal);
    }
  }

  /** Signals that never found a handler, counted by name (in the order the names first arrived). */
  undelivered(): Array<{ name: string; count: number }> {
    const counts = new Map<string, number>();
    for (const { name } of this.buffered) counts.set(name, (counts.get(name) ?? 0) + 1);
    return [...counts].map(([name, count]) => ({ name, count }));
  }

  private invoke(handler: ResolvedMessageHandler, input: Payload[]): void {
    let args: unknown[];
    try {
      args = decodeAndValidateSync(input, [...handler.paramTypes], `signal ${handler.name}`, this.host.payloads);
    } catch (error) {
      // As Temporal's SDKs do: a signal whose input cannot be decoded is dropped, with a log.
      this.host.warn(`Failed deserializing signal input for ${handler.name}, dropping the signal`, {
        signalName: handler.name,
        error: error instanceof Error ? error.message : String(error),
      });
      return;
    }
    this.host.runHandler('signal', handler.name, () => handler.invoke(args));
  }
}
