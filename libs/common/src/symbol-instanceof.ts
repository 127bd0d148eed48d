// `instanceof` that survives duplicate copies of this package (Jest gives every test file its
// own module registry; npm may install two versions side by side). Each error class gets a
// registry-wide marker, `Symbol.for('durabull.error.<ClassName>')`; DurabullError's constructor
// sets the markers of every class in the instance's chain, and each class's static
// `Symbol.hasInstance` looks for its marker. Modelled on Temporal's `SymbolBasedInstanceOfError`.

/** Where a decorated class keeps its marker symbol (local to this copy; only read here). */
const CLASS_MARKER = Symbol('durabull.errorClassMarker');

/** The marker a class registered under `name` sets on its instances. */
export function errorMarker(name: string): symbol {
  return Symbol.for(`durabull.error.${name}`);
}

/**
 * Class decorator for `DurabullError` subclasses: sets `prototype.name` to `name` and makes
 * `x instanceof Class` true for instances created by any copy of the class, by checking the
 * `Symbol.for('durabull.error.<name>')` marker that `DurabullError`'s constructor puts on every
 * instance. Undecorated subclasses of a decorated class fall back to the prototype chain.
 *
 * @param name - the class name; must be unique across Durabull errors.
 */
export function SymbolBasedInstanceOfError(name: string) {
  return (clazz: abstract new (...args: never[]) => Error): void => {
    const marker = errorMarker(name);
    Object.defineProperty(clazz, CLASS_MARKER, { value: marker });
    Object.defineProperty(clazz.prototype, 'name', { value: name, writable: true, configurable: true });
    Object.defineProperty(clazz, Symbol.hasInstance, {
      configurable: true,
      value(this: unknown, value: unknown): boolean {
        if (this === clazz && typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[marker] === true) {
          return true;
        }
        // A subclass that was not decorated inherits this method: only its own prototype chain
        // may answer, or every ApplicationError would pass for `instanceof MySubclass`.
        return Function.prototype[Symbol.hasInstance].call(this, value);
      },
    });
  };
}

/** Sets the marker of every decorated class from `ctor` up on `instance`. @internal */
export function brandInstance(instance: object, ctor: unknown): void {
  for (let c = ctor; typeof c === 'function'; c = Object.getPrototypeOf(c)) {
    const marker: unknown = Object.getOwnPropertyDescriptor(c, CLASS_MARKER)?.value;
    if (typeof marker === 'symbol') Object.defineProperty(instance, marker, { value: true });
  }
}
