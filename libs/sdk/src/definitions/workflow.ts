import 'reflect-metadata';

/** A registered workflow class: what `@WorkflowDefn` (or `registerWorkflow`) records. */
export interface WorkflowDefinition {
  /** Workflow type name, as recorded in WorkflowExecutionStarted. */
  readonly name: string;
  readonly cls: new () => object;
  /** Name of the `@WorkflowRun` method. */
  readonly runMethod: string | symbol;
  readonly paramTypes: ReadonlyArray<Function | undefined>;
  readonly resultType?: Function;
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

interface RunMethodMark {
  key: string | symbol;
  paramTypes: Array<Function | undefined>;
  resultType?: Function;
  problem?: string;
}

/** Marks the method that runs a workflow; exactly one per `@WorkflowDefn` class. */
export function WorkflowRun(options: WorkflowRunOptions = {}): MethodDecorator {
  return (target, propertyKey, descriptor) => {
    const owner = target as Record<symbol, RunMethodMark[]>;
    const marks = Object.prototype.hasOwnProperty.call(owner, RUN_METHODS) ? owner[RUN_METHODS]! : (owner[RUN_METHODS] = []);
    let problem: string | undefined;
    if (typeof target === 'function') problem = `@WorkflowRun method ${String(propertyKey)} must not be static`;
    else if (typeof descriptor.value !== 'function') problem = `@WorkflowRun must decorate a method, not ${String(propertyKey)}`;
    const declared = Reflect.getMetadata('design:returntype', target, propertyKey);
    marks.push({
      key: propertyKey,
      paramTypes: Reflect.getMetadata('design:paramtypes', target, propertyKey) ?? [],
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
  return (cls) => {
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
