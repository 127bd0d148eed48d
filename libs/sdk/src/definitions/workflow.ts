import 'reflect-metadata';
import { assertLegacyDecorator, declaredParamTypes } from './decorator-metadata';

/** A registered workflow class: what `@WorkflowDefn` (or `registerWorkflow`) records. */
export interface WorkflowDefinition {
  /** Workflow type name, as recorded in WorkflowExecutionStarted. */
  readonly name: string;
  readonly cls: new () => object;
  /** Name of the `@WorkflowRun` method. */
  readonly runMethod: string | symbol;
  readonly paramTypes: ReadonlyArray<Function | undefined>;
  readonly resultType?: Function;
  /**
   * Decorated methods that take parameters but have no recorded parameter types (compiled without
   * `emitDecoratorMetadata`), as `Class.method`: a worker refuses to run them.
   */
  readonly missingParamTypes: readonly string[];
  /** `@WorkflowSignal` methods by signal name; the dynamic one (if any) under {@link DYNAMIC}. */
  readonly signals: ReadonlyMap<string | typeof DYNAMIC, MessageHandlerDefinition>;
  /** `@WorkflowQuery` methods by query name; the dynamic one (if any) under {@link DYNAMIC}. */
  readonly queries: ReadonlyMap<string | typeof DYNAMIC, MessageHandlerDefinition>;
  /** `@WorkflowUpdate` methods by update name; the dynamic one (if any) under {@link DYNAMIC}. */
  readonly updates: ReadonlyMap<string | typeof DYNAMIC, MessageHandlerDefinition>;
}


/** A `@WorkflowDefn` class, as the client and `startChildWorkflow` take it. */
export type WorkflowClass = new () => object;

type MethodsOf<I> = { [K in keyof I]: I[K] extends (...args: any[]) => any ? I[K] : never }[keyof I];
type IsUnion<T, U = T> = T extends unknown ? ([U] extends [T] ? false : true) : never;
type AnyRunMethod = (...args: unknown[]) => unknown;
// Decorators leave no trace in types, so the `@WorkflowRun` method is guessed: the class's only
// method, else its method named `run` (signal, query and update handlers beside it), else any.
type RunMethodOf<C> = C extends new () => infer I
  ? true extends IsUnion<MethodsOf<I>>
    ? I extends { run: infer R extends (...args: any[]) => any } ? R : AnyRunMethod
    : MethodsOf<I>
  : never;

/** The arguments of a workflow class's run method (its only method, or its method named `run`; else `unknown[]`). */
export type WorkflowArgs<C> = RunMethodOf<C> extends (...args: infer A) => any ? A : unknown[];
/** The result of a workflow class's run method, awaited (`unknown` where {@link WorkflowArgs} cannot tell the method). */
export type WorkflowResult<C> = RunMethodOf<C> extends (...args: any[]) => infer R ? Awaited<R> : unknown;

/** The key of a definition's dynamic handler (one that takes every name without a handler of its own). */
export const DYNAMIC = Symbol.for('durabull.dynamicHandler');

/** The kinds of message a workflow handles. */
export type MessageKind = 'signal' | 'query' | 'update';

/** A decorated signal, query or update method of a workflow class. */
export interface MessageHandlerDefinition {
  readonly kind: MessageKind;
  /** The message name (for a dynamic handler, the method name). */
  readonly name: string;
  readonly method: string | symbol;
  /** A dynamic handler receives `(name, ...args)`. */
  readonly dynamic: boolean;
  /** Declared parameter types, for restoring and validating class-typed arguments. */
  readonly paramTypes: ReadonlyArray<Function | undefined>;
  /** True when the method takes parameters but no types were recorded (no `emitDecoratorMetadata`). */
  readonly paramTypesMissing?: boolean;
  /** Updates: the name of the validator method of the class, if any. */
  readonly validator?: string;
}

/** Options of {@link WorkflowSignal} and {@link WorkflowQuery}. */
export interface WorkflowMessageOptions {
  /** The signal or query name. @default the method name */
  name?: string;
  /**
   * Receive every signal (or query) that has no handler of its own, as `(name, ...args)`.
   * Cannot be combined with `name`. @default false
   */
  dynamic?: boolean;
}

/** Options of {@link WorkflowUpdate}. */
export interface WorkflowUpdateOptions extends WorkflowMessageOptions {
  /**
   * Name of a method of the same class that validates the update's arguments before it is
   * accepted: synchronous and read-only; if it throws, the update is rejected and nothing is
   * written to history. @default no validator
   */
  validator?: string;
}

/** Options of {@link WorkflowDefn}. */
export interface WorkflowDefnOptions {
  /** Workflow type name. @default the class name */
  name?: string;
}

/** Options of {@link WorkflowRun}. */
export interface WorkflowRunOptions {
  /**
   * Class the result is restored to on the client. TypeScript records `Promise` as the return
   * type of an async method, so a workflow returning a class instance names the class here.
   */
  resultType?: Function;
}

const WORKFLOW = Symbol.for('durabull.workflow');
const RUN_METHODS = Symbol.for('durabull.workflowRunMethods');
const MESSAGE_METHODS = Symbol.for('durabull.workflowMessageMethods');
/** Set on a decorated method's function: which message it handles (so `handle.signal(Cls.prototype.m)` works). */
const MESSAGE_OF = Symbol.for('durabull.messageOf');

interface MessageMark extends MessageHandlerDefinition {
  problem?: string;
}

function messageDecorator(kind: MessageKind, options: WorkflowUpdateOptions): MethodDecorator {
  const label = `@Workflow${kind[0]!.toUpperCase()}${kind.slice(1)}`;
  return (target, propertyKey, descriptor) => {
    assertLegacyDecorator(label, propertyKey);
    const owner = target as Record<symbol, MessageMark[]>;
    const marks = Object.prototype.hasOwnProperty.call(owner, MESSAGE_METHODS) ? owner[MESSAGE_METHODS]! : (owner[MESSAGE_METHODS] = []);
    const dynamic = options.dynamic === true;
    const name = options.name ?? String(propertyKey);
    let problem: string | undefined;
    if (typeof target === 'function') problem = `${label} method ${String(propertyKey)} must not be static`;
    else if (typeof descriptor.value !== 'function') problem = `${label} must decorate a method, not ${String(propertyKey)}`;
    else if (options.name !== undefined && dynamic) problem = `${label} on ${String(propertyKey)}: cannot provide name and dynamic`;
    else if (typeof name !== 'string' || name.length === 0) problem = `${label} on ${String(propertyKey)}: name ${JSON.stringify(options.name)} must be a non-empty string`;
    if (typeof descriptor.value === 'function' && !dynamic) {
      Object.defineProperty(descriptor.value, MESSAGE_OF, { value: { kind, name }, enumerable: false, configurable: true });
    }
    const declared = declaredParamTypes(target, propertyKey, descriptor.value);
    marks.push({
      kind,
      name,
      method: propertyKey,
      dynamic,
      paramTypes: declared.paramTypes,
      paramTypesMissing: declared.missing && !dynamic,
      validator: options.validator,
      problem,
    });
  };
}

/**
 * Marks a method of a `@WorkflowDefn` class as a signal handler (Temporal's `@workflow.signal`).
 * Signals are delivered in history order, each before the run method goes on; its return value
 * is ignored. It may be `async` and call activities and timers.
 */
export function WorkflowSignal(options: WorkflowMessageOptions = {}): MethodDecorator {
  return messageDecorator('signal', options);
}

/**
 * Marks a method of a `@WorkflowDefn` class as a query handler (Temporal's `@workflow.query`): it
 * answers from the run's current state, synchronously, and may not record anything.
 */
export function WorkflowQuery(options: WorkflowMessageOptions = {}): MethodDecorator {
  return messageDecorator('query', options);
}

/**
 * Marks a method of a `@WorkflowDefn` class as an update handler (Temporal's `@workflow.update`):
 * validated (see `validator`), recorded as accepted, run, and its result or failure returned to
 * the caller.
 */
export function WorkflowUpdate(options: WorkflowUpdateOptions = {}): MethodDecorator {
  return messageDecorator('update', options);
}

/**
 * The message name a handler reference stands for: a string as it is, or a method decorated with
 * `@WorkflowSignal` / `@WorkflowQuery` / `@WorkflowUpdate` (of that `kind`).
 * @throws TypeError for anything else, naming it
 */
export function messageName(kind: MessageKind, ref: unknown): string {
  if (typeof ref === 'string') {
    if (ref.length === 0) throw new TypeError(`Invalid ${kind} name: "" (a non-empty string or a decorated method)`);
    return ref;
  }
  const mark = typeof ref === 'function' ? (ref as unknown as Record<symbol, { kind: MessageKind; name: string } | undefined>)[MESSAGE_OF] : undefined;
  if (mark?.kind === kind) return mark.name;
  const label = typeof ref === 'function' ? `method ${ref.name || '(anonymous)'}` : JSON.stringify(ref);
  throw new TypeError(
    `Invalid ${kind}: ${label} is not a @Workflow${kind[0]!.toUpperCase()}${kind.slice(1)} method (pass the decorated method or the ${kind} name)`,
  );
}

/** Collects a class's message handlers by kind; problems go to `problems`. */
function collectMessageHandlers(proto: object, problems: string[]): Record<MessageKind, Map<string | typeof DYNAMIC, MessageHandlerDefinition>> {
  const handlers = { signal: new Map(), query: new Map(), update: new Map() } as Record<MessageKind, Map<string | typeof DYNAMIC, MessageHandlerDefinition>>;
  const owner = proto as Record<symbol, MessageMark[]>;
  const marks = Object.prototype.hasOwnProperty.call(owner, MESSAGE_METHODS) ? owner[MESSAGE_METHODS]! : [];
  for (const { problem, ...mark } of marks) {
    if (problem) {
      problems.push(problem);
      continue;
    }
    const key = mark.dynamic ? DYNAMIC : mark.name;
    const existing = handlers[mark.kind].get(key);
    if (existing) {
      problems.push(
        mark.dynamic
          ? `it has more than one dynamic ${mark.kind} handler (${String(existing.method)}, ${String(mark.method)})`
          : `${String(existing.method)} and ${String(mark.method)} both handle the ${mark.kind} ${JSON.stringify(mark.name)}`,
      );
      continue;
    }
    if (mark.validator !== undefined && typeof (proto as Record<string, unknown>)[mark.validator] !== 'function') {
      problems.push(`the validator ${JSON.stringify(mark.validator)} of update ${String(mark.method)} is not a method of the class`);
      continue;
    }
    handlers[mark.kind].set(key, Object.freeze(mark));
  }
  return handlers;
}

interface RunMethodMark {
  key: string | symbol;
  paramTypes: Array<Function | undefined>;
  paramTypesMissing?: boolean;
  resultType?: Function;
  problem?: string;
}

/** Marks the method that runs a workflow; exactly one per `@WorkflowDefn` class. */
export function WorkflowRun(options: WorkflowRunOptions = {}): MethodDecorator {
  return (target, propertyKey, descriptor) => {
    assertLegacyDecorator('@WorkflowRun', propertyKey);
    const owner = target as Record<symbol, RunMethodMark[]>;
    const marks = Object.prototype.hasOwnProperty.call(owner, RUN_METHODS) ? owner[RUN_METHODS]! : (owner[RUN_METHODS] = []);
    let problem: string | undefined;
    if (typeof target === 'function') problem = `@WorkflowRun method ${String(propertyKey)} must not be static`;
    else if (typeof descriptor.value !== 'function') problem = `@WorkflowRun must decorate a method, not ${String(propertyKey)}`;
    const declared = Reflect.getMetadata('design:returntype', target, propertyKey);
    const { paramTypes, missing } = declaredParamTypes(target, propertyKey, descriptor.value);
    marks.push({
      key: propertyKey,
      paramTypes,
      paramTypesMissing: missing,
      resultType: options.resultType ?? (typeof declared === 'function' && declared !== Promise ? declared : undefined),
      problem,
    });
  };
}

/**
 * Defines a workflow class. A new instance is created for every execution (and every replay),
 * and its `@WorkflowRun` method is called with the workflow's arguments. Every problem with the
 * class is reported in one error.
 */
export function WorkflowDefn(options: WorkflowDefnOptions = {}): ClassDecorator {
  return (cls, ...rest: unknown[]) => {
    assertLegacyDecorator('@WorkflowDefn', rest[0]);
    registerWorkflow(cls as unknown as new () => object, options);
  };
}

/** The decorator-free twin of {@link WorkflowDefn}; `runMethod` names the run method. */
export function registerWorkflow(
  cls: new () => object,
  options: WorkflowDefnOptions & { runMethod?: string } = {},
): WorkflowDefinition {
  const problems: string[] = [];
  const name = options.name ?? cls.name;
  if (typeof name !== 'string' || name.length === 0 || name.length > 1000) {
    problems.push(`name ${JSON.stringify(name)} must be a non-empty string of at most 1000 characters`);
  }
  const proto = cls.prototype as Record<string | symbol, unknown> & Record<symbol, RunMethodMark[]>;
  let marks: RunMethodMark[] = Object.prototype.hasOwnProperty.call(proto, RUN_METHODS) ? proto[RUN_METHODS]! : [];
  if (options.runMethod !== undefined) {
    if (typeof proto[options.runMethod] !== 'function') problems.push(`run method ${options.runMethod} is not a method`);
    marks = [{ key: options.runMethod, paramTypes: Reflect.getMetadata('design:paramtypes', proto, options.runMethod) ?? [] }];
  }
  problems.push(...marks.flatMap((mark) => (mark.problem ? [mark.problem] : [])));
  if (marks.length === 0) problems.push('it has no @WorkflowRun method');
  if (marks.length > 1) problems.push(`it has ${marks.length} @WorkflowRun methods (${marks.map((m) => String(m.key)).join(', ')}); exactly one is allowed`);
  if (cls.length > 0) problems.push('its constructor must take no arguments (an instance is created per execution)');
  const handlers = collectMessageHandlers(proto, problems);
  if (problems.length > 0) {
    throw new TypeError(`Invalid workflow class ${cls.name}: ${problems.join('; ')}`);
  }
  const mark = marks[0]!;
  const definition: WorkflowDefinition = Object.freeze({
    name,
    cls,
    runMethod: mark.key,
    paramTypes: mark.paramTypes,
    resultType: mark.resultType,
    missingParamTypes: [
      ...(mark.paramTypesMissing ? [`${cls.name}.${String(mark.key)}`] : []),
      ...[...handlers.signal.values(), ...handlers.query.values(), ...handlers.update.values()]
        .filter((handler) => handler.paramTypesMissing)
        .map((handler) => `${cls.name}.${String(handler.method)}`),
    ],
    signals: handlers.signal,
    queries: handlers.query,
    updates: handlers.update,
  });
  Object.defineProperty(cls, WORKFLOW, { value: definition, enumerable: false, configurable: true });
  return definition;
}

/** The workflow definition of a class, if it was defined with `@WorkflowDefn`. */
export function workflowDefinition(cls: unknown): WorkflowDefinition | undefined {
  if (typeof cls !== 'function' || !Object.prototype.hasOwnProperty.call(cls, WORKFLOW)) return undefined;
  return (cls as unknown as Record<symbol, WorkflowDefinition>)[WORKFLOW];
}

/** The definition of a workflow class, or a TypeError saying how to define it. */
export function requireWorkflowDefinition(cls: unknown): WorkflowDefinition {
  const definition = workflowDefinition(cls);
  if (!definition) {
    const label = typeof cls === 'function' ? cls.name : JSON.stringify(cls);
    throw new TypeError(`${label} is not a workflow: decorate the class with @WorkflowDefn`);
  }
  return definition;
}
