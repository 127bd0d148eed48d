// Internal (not re-exported): renders a rejected value inside an error message, so the user
// sees exactly what they passed: strings JSON-quoted, numbers as written (NaN stays NaN).

/** Renders `value` for an error message, JSON-style, without ever throwing. @internal */
export function quoteValue(value: unknown): string {
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value);
    case 'bigint':
      return `${value}n`;
    case 'function':
      return `[function ${value.name || 'anonymous'}]`;
    case 'object':
      if (value === null) return 'null';
      try {
        // JSON would print NaN and Infinity as null, hiding the very thing that is wrong.
        const json = JSON.stringify(value, (_key, v: unknown) =>
          typeof v === 'number' && !Number.isFinite(v) ? String(v) : typeof v === 'bigint' ? `${v}n` : v,
        );
        return json ?? String(value);
      } catch {
        return Object.prototype.toString.call(value);
      }
    default:
      return String(value);
  }
}

/** Names the kind of a value for messages: `null`, `array`, `Date`, a class name or `typeof`. @internal */
export function describeType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'object') {
    const name = (value as { constructor?: { name?: unknown } }).constructor?.name;
    return typeof name === 'string' && name !== '' && name !== 'Object' ? name : 'object';
  }
  return typeof value;
}
