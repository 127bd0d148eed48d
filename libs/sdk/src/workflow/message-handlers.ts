import { DYNAMIC } from '../definitions/workflow';
import type { MessageHandlerDefinition, MessageKind, WorkflowDefinition } from '../definitions/workflow';

/** A signal, query or update handler as workflow code gives it (`this` is the workflow instance). */
export type MessageHandlerFunction = (...args: any[]) => unknown;

/** A handler found for a message: call {@link invoke} with the message's arguments. */
export interface ResolvedMessageHandler {
  readonly kind: MessageKind;
  /** The message name it was found for. */
  readonly name: string;
  /** Whether it is the dynamic handler (it then receives the name first). */
  readonly dynamic: boolean;
  /** Declared parameter types of the message's arguments (for a dynamic handler, none). */
  readonly paramTypes: ReadonlyArray<Function | undefined>;
  /** Calls the handler with the message's arguments (a dynamic one with the name first). */
  invoke(args: unknown[]): unknown;
  /** Updates: calls the validator, if any, with the update's arguments. */
  validate?(args: unknown[]): void;
}

interface Entry {
  fn: MessageHandlerFunction;
  paramTypes: ReadonlyArray<Function | undefined>;
  validator?: MessageHandlerFunction;
}

/**
 * The message handlers of one workflow execution: the decorated methods of its class (bound to
 * its instance) and those set at run time by `workflow.setSignalHandler` and its twins, which
 * replace a decorated one of the same name (and `undefined` removes it). Lookup is by name first,
 * then the dynamic handler, as Temporal does.
 */
export class MessageHandlers {
  private readonly entries: Record<MessageKind, Map<string | typeof DYNAMIC, Entry>> = {
    signal: new Map(),
    query: new Map(),
    update: new Map(),
  };

  constructor(definition: WorkflowDefinition, instance: object) {
    const bind = (handler: MessageHandlerDefinition): Entry => {
      const methods = instance as Record<string | symbol, MessageHandlerFunction>;
      return {
        fn: methods[handler.method]!.bind(instance),
        paramTypes: handler.dynamic ? [] : handler.paramTypes,
        validator: handler.validator === undefined ? undefined : methods[handler.validator]!.bind(instance),
      };
    };
    for (const [kind, handlers] of [
      ['signal', definition.signals],
      ['query', definition.queries],
      ['update', definition.updates],
    ] as const) {
      for (const [key, handler] of handlers) this.entries[kind].set(key, bind(handler));
    }
  }

  /**
   * Sets (or with `fn` undefined, removes) the handler of `name`, or the dynamic handler when
   * `name` is {@link DYNAMIC}.
   */
  set(kind: MessageKind, name: string | typeof DYNAMIC, fn: MessageHandlerFunction | undefined, validator?: MessageHandlerFunction): void {
    if (fn === undefined) {
      this.entries[kind].delete(name);
      return;
    }
    if (typeof fn !== 'function') throw new TypeError(`Invalid ${kind} handler for ${String(name)}: ${JSON.stringify(fn)} (a function or undefined)`);
    if (validator !== undefined && typeof validator !== 'function') {
      throw new TypeError(`Invalid validator of update ${String(name)}: ${JSON.stringify(validator)} (a function)`);
    }
    this.entries[kind].set(name, { fn, paramTypes: [], validator });
  }

  /** Whether `name` has a handler of its own (not counting the dynamic one). */
  has(kind: MessageKind, name: string): boolean {
    return this.entries[kind].has(name);
  }

  /** Whether a dynamic handler of `kind` is set. */
  hasDynamic(kind: MessageKind): boolean {
    return this.entries[kind].has(DYNAMIC);
  }

  /** The handler for a message: its own, else the dynamic one, else undefined. */
  lookup(kind: MessageKind, name: string): ResolvedMessageHandler | undefined {
    const own = this.entries[kind].get(name);
    const entry = own ?? this.entries[kind].get(DYNAMIC);
    if (!entry) return undefined;
    const dynamic = own === undefined;
    const { fn, validator } = entry;
    return {
      kind,
      name,
      dynamic,
      paramTypes: entry.paramTypes,
      invoke: (args) => (dynamic ? fn(name, ...args) : fn(...args)),
      validate: validator && ((args) => void (dynamic ? validator(name, ...args) : validator(...args))),
    };
  }

  /** The names that have a handler of their own, sorted (for "known queries" messages). */
  names(kind: MessageKind): string[] {
    return [...this.entries[kind].keys()].filter((key): key is string => typeof key === 'string').sort();
  }
}
