import 'reflect-metadata';

/** The TypeScript settings Durabull's decorators need, as error messages name them. */
export const DECORATOR_SETTINGS = '"experimentalDecorators": true and "emitDecoratorMetadata": true in tsconfig.json';

/**
 * Throws when a decorator was called as a standard (TC39) decorator — `(value, context)` — which
 * is what TypeScript 5 emits without `experimentalDecorators`: Durabull's decorators need the
 * legacy form, which also carries the parameter types.
 */
export function assertLegacyDecorator(label: string, second: unknown): void {
  if (typeof second === 'object' && second !== null && 'kind' in second) {
    const name = (second as { name?: unknown }).name;
    throw new TypeError(
      `${label} on ${String(name)} was applied as a standard decorator: Durabull's decorators need ${DECORATOR_SETTINGS}`,
    );
  }
}

/**
 * A decorated method's declared parameter types (`design:paramtypes`). `missing` is true when the
 * method takes parameters but none were recorded: the code was compiled without
 * `emitDecoratorMetadata`, so class-typed arguments could be neither restored nor validated.
 */
export function declaredParamTypes(
  target: object,
  key: string | symbol,
  method: unknown,
): { paramTypes: Array<Function | undefined>; missing: boolean } {
  const recorded = Reflect.getMetadata('design:paramtypes', target, key) as Array<Function | undefined> | undefined;
  return { paramTypes: recorded ?? [], missing: recorded === undefined && typeof method === 'function' && method.length > 0 };
}

/** The error a worker refuses to start with when decorated methods lack their parameter types. */
export function missingMetadataError(methods: readonly string[]): TypeError {
  return new TypeError(
    `No parameter types were recorded for ${methods.join(', ')}: compile with ${DECORATOR_SETTINGS}, ` +
      'so that class-typed arguments are restored and validated (or name them: registerWorkflow, defineActivity({ paramTypes }))',
  );
}
