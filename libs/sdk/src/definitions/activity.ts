import 'reflect-metadata';
import { assertLegacyDecorator, declaredParamTypes } from './decorator-metadata';

/** A registered activity: what `@Activity` and `defineActivity` attach to a function. */
export interface ActivityDefinition {
  /** Activity type name, as recorded in ActivityTaskScheduled. */
  readonly name: string;
  /** Declared parameter types (decorator metadata), used to restore class instances. */
  readonly paramTypes: ReadonlyArray<Function | undefined>;
  /** Class of the result, restored on the workflow side (see {@link ActivityDecoratorOptions.resultType}). */
  readonly resultType?: Function;
  /** `Class.method` of an `@Activity` method with parameters but no recorded types (no `emitDecoratorMetadata`). */
  readonly missingParamTypes?: string;
}

/** Options of {@link Activity} and {@link defineActivity}. */
export interface ActivityDecoratorOptions {
  /** Activity type name. @default the method or function name */
  name?: string;
  /**
   * Class the result is restored to (and validated against) in the workflow. TypeScript records
   * `Promise` as the return type of an `async` method, so an async activity that returns a class
   * instance names the class here. @default the declared return type when it is a class
   */
  resultType?: Function;
}

const ACTIVITY = Symbol.for('durabull.activity');

function checkName(name: unknown, where: string): string {
  if (typeof name !== 'string' || name.length === 0 || name.length > 1000) {
    throw new TypeError(`Invalid activity name ${JSON.stringify(name)} on ${where}: a non-empty string of at most 1000 characters`);
  }
  return name;
}

function resultTypeFrom(declared: unknown, explicit: Function | undefined): Function | undefined {
  if (explicit !== undefined) {
    if (typeof explicit !== 'function') throw new TypeError(`resultType must be a class, got ${JSON.stringify(explicit)}`);
    return explicit;
  }
  return typeof declared === 'function' && declared !== Promise ? declared : undefined;
}

function attach(fn: Function, definition: ActivityDefinition): void {
  if (Object.prototype.hasOwnProperty.call(fn, ACTIVITY)) {
    throw new TypeError(`Function ${fn.name || '<anonymous>'} already has an activity definition`);
  }
  Object.defineProperty(fn, ACTIVITY, { value: Object.freeze(definition), enumerable: false });
}

/**
 * Marks a method as an activity. Works on instance methods (register an instance of the class
 * with the worker; one instance serves all concurrent invocations) and static methods (register
 * the class). Workflows refer to it as `YourActivities.prototype.method` (or the static method).
 */
export function Activity(options: ActivityDecoratorOptions = {}): MethodDecorator {
  return (target, propertyKey, descriptor) => {
    assertLegacyDecorator('@Activity', propertyKey);
    const fn = descriptor.value;
    const where = `${typeof target === 'function' ? target.name : target.constructor.name}.${String(propertyKey)}`;
    if (typeof fn !== 'function') throw new TypeError(`@Activity must decorate a method, not ${where}`);
    const { paramTypes, missing } = declaredParamTypes(target, propertyKey, fn);
    attach(fn, {
      name: checkName(options.name ?? String(propertyKey), where),
      paramTypes,
      missingParamTypes: missing ? where : undefined,
      resultType: resultTypeFrom(Reflect.getMetadata('design:returntype', target, propertyKey), options.resultType),
    });
  };
}

/**
 * Makes a standalone function an activity (the decorator-free twin of {@link Activity}); returns
 * the same function. Parameter classes can be named with `paramTypes`, since plain functions
 * carry no decorator metadata.
 */
export function defineActivity<F extends (...args: any[]) => any>(
  fn: F,
  options: ActivityDecoratorOptions & { paramTypes?: Function[] } = {},
): F {
  if (typeof fn !== 'function') throw new TypeError(`defineActivity expects a function, got ${JSON.stringify(fn)}`);
  attach(fn, {
    name: checkName(options.name ?? fn.name, `function ${fn.name || '<anonymous>'}`),
    paramTypes: options.paramTypes ?? [],
    resultType: resultTypeFrom(undefined, options.resultType),
  });
  return fn;
}

/** The activity definition attached to a function, if any. */
export function activityDefinition(fn: unknown): ActivityDefinition | undefined {
  return typeof fn === 'function' ? (fn as unknown as Record<symbol, ActivityDefinition>)[ACTIVITY] : undefined;
}

/** An activity implementation bound to what it runs on, as a worker registers it. */
export interface RegisteredActivity {
  definition: ActivityDefinition;
  invoke: (...args: unknown[]) => unknown;
}

/**
 * Collects the activities of what a worker is given: functions from `defineActivity`, classes
 * (their static `@Activity` methods) and instances (their `@Activity` methods, bound).
 */
export function collectActivities(sources: readonly unknown[]): Map<string, RegisteredActivity> {
  const registry = new Map<string, RegisteredActivity>();
  const add = (fn: Function, self: unknown) => {
    const definition = activityDefinition(fn);
    if (!definition) return false;
    if (registry.has(definition.name)) throw new TypeError(`More than one activity is named ${JSON.stringify(definition.name)}`);
    registry.set(definition.name, { definition, invoke: (...args) => fn.apply(self, args) });
    return true;
  };
  for (const source of sources) {
    let found = false;
    if (typeof source === 'function') {
      found = add(source, undefined);
      for (const key of Object.getOwnPropertyNames(source)) {
        const value = (source as unknown as Record<string, unknown>)[key];
        if (key !== 'prototype' && typeof value === 'function') found = add(value, source) || found;
      }
    } else if (typeof source === 'object' && source !== null) {
      for (let proto = Object.getPrototypeOf(source); proto && proto !== Object.prototype; proto = Object.getPrototypeOf(proto)) {
        for (const key of Object.getOwnPropertyNames(proto)) {
          const value = Object.getOwnPropertyDescriptor(proto, key)?.value;
          if (key !== 'constructor' && typeof value === 'function' && !registry.has(activityDefinition(value)?.name ?? '')) {
            found = add(value, source) || found;
          }
        }
      }
    }
    if (!found) {
      const label = typeof source === 'function' ? source.name || '<anonymous function>' : String(source?.constructor?.name ?? source);
      throw new TypeError(`${label} has no activities: decorate methods with @Activity or wrap functions with defineActivity`);
    }
  }
  return registry;
}
