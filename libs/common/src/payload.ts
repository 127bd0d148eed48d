// Payloads are how values sit in history: JSON kept as JSON (not a string, not base64) so a
// history read straight out of Redis stays readable. Classes are restored on the receiving side
// from the declared parameter/return type (design:paramtypes), with class-transformer.

// @Type() from class-transformer reads design:type metadata when user classes are declared; the
// polyfill must be present whichever Durabull package is imported first.
import 'reflect-metadata';
import { type ClassConstructor, plainToInstance } from 'class-transformer';
import { describeType, quoteValue } from './quote-value';

/** One encoded value, as stored in history (`input`, `result`, `details`, ...). */
export interface Payload {
  /** `encoding` says how to read `data`; other keys are free for future converters. */
  metadata: { encoding: string; [key: string]: string };
  /** The JSON value itself for `json/plain`; absent for `binary/null`. */
  data?: unknown;
}

/** The encodings the default converter writes. */
export const PayloadEncoding = {
  /** `data` is a JSON value. */
  JSON_PLAIN: 'json/plain',
  /** The value was `undefined`; there is no `data`. */
  BINARY_NULL: 'binary/null',
} as const;

// Declared types that carry no class to restore: the JSON value is already the right shape.
const PLAIN_TYPES: ReadonlySet<unknown> = new Set<unknown>([
  Object, String, Number, Boolean, Array, Promise, Function, Symbol, BigInt, Map, Set,
]);

/**
 * Whether a declared type (from `design:paramtypes` / `design:returntype`) is a user class that
 * values should be restored into and validated against. @internal
 */
export function isUserClass(type: unknown): type is ClassConstructor<object> {
  return typeof type === 'function' && type !== Date && !PLAIN_TYPES.has(type);
}

type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

function unencodable(what: string, path: string, hint = 'JSON cannot represent it faithfully'): TypeError {
  return new TypeError(`Cannot encode ${what} as a JSON payload (at ${path}): ${hint}`);
}

/**
 * JSON.stringify's view of a value, built as a value rather than a string, refusing what JSON
 * would silently drop or mangle instead of losing data.
 */
function toJsonValue(input: unknown, key: string, path: string, ancestors: object[]): JsonValue | undefined {
  let value = input;
  if (typeof value === 'object' && value !== null && typeof (value as { toJSON?: unknown }).toJSON === 'function') {
    value = (value as { toJSON(key: string): unknown }).toJSON(key);
  }
  if (value instanceof Number || value instanceof String || value instanceof Boolean) value = value.valueOf();
  switch (typeof value) {
    case 'undefined':
      return undefined;
    case 'boolean':
    case 'string':
      return value;
    case 'number':
      if (!Number.isFinite(value)) throw unencodable(`the number ${value}`, path);
      return value;
    case 'function':
      throw unencodable(`a function (${value.name || 'anonymous'})`, path);
    case 'symbol':
    case 'bigint':
      throw unencodable(`a ${typeof value}`, path);
  }
  if (value === null) return null;
  if (value instanceof Map || value instanceof Set) {
    throw unencodable(`a ${describeType(value)}`, path, 'convert it to an array or a plain object first');
  }
  if (ancestors.includes(value as object)) {
    throw unencodable('a circular structure', path, 'the value contains itself');
  }
  ancestors.push(value as object);
  try {
    if (Array.isArray(value)) {
      return value.map((item: unknown, i) => toJsonValue(item, String(i), `${path}[${i}]`, ancestors) ?? null);
    }
    const out: { [key: string]: JsonValue } = {};
    for (const [k, v] of Object.entries(value as object)) {
      const json = toJsonValue(v, k, `${path}.${k}`, ancestors);
      if (json === undefined) continue;
      // Plain assignment of "__proto__" would replace the prototype instead of adding a key.
      Object.defineProperty(out, k, { value: json, enumerable: true, writable: true, configurable: true });
    }
    return out;
  } finally {
    ancestors.pop();
  }
}

/** A deep copy, so callers may mutate a decoded value without touching cached history. */
function cloneJson(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(cloneJson);
  if (typeof value !== 'object' || value === null) return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    Object.defineProperty(out, k, { value: cloneJson(v), enumerable: true, writable: true, configurable: true });
  }
  return out;
}

/**
 * Restores `plain` (a decoded JSON value) to the declared `type`: a user class through
 * class-transformer's `plainToInstance` (nested classes need `@Type(() => Cls)`), `Date` from its
 * ISO string, anything else as a copy of the JSON value. Values of the wrong shape come back
 * unchanged for validation to report. @internal
 */
export function restoreValue(plain: unknown, type: unknown): unknown {
  if (type === Date && (typeof plain === 'string' || typeof plain === 'number')) return new Date(plain);
  if (!isUserClass(type) || typeof plain !== 'object' || plain === null || Array.isArray(plain)) {
    return cloneJson(plain);
  }
  try {
    return plainToInstance(type, plain);
  } catch (err) {
    throw new TypeError(`Cannot restore a ${type.name} from its payload: ${err instanceof Error ? err.message : String(err)}`, {
      cause: err,
    });
  }
}

/**
 * Converts values to {@link Payload}s and back. JSON semantics: class instances become plain
 * objects (their `toJSON()` or enumerable own properties), `Date`s ISO strings, `undefined`
 * properties vanish and `undefined` array items become `null`. `undefined` itself is encoded as
 * `binary/null`, so it comes back as `undefined`.
 */
export class PayloadConverter {
  /**
   * @throws TypeError naming the value's type and where it is, for values JSON cannot hold
   *   faithfully: functions, symbols, bigints, NaN/Infinity, Maps, Sets, circular structures.
   */
  toPayload(value: unknown): Payload {
    const data = value === undefined ? undefined : toJsonValue(value, '', '$', []);
    if (data === undefined) return { metadata: { encoding: PayloadEncoding.BINARY_NULL } };
    return { metadata: { encoding: PayloadEncoding.JSON_PLAIN }, data };
  }

  /**
   * Decodes a payload, restoring it into `type` when that is a user class or `Date` (see
   * {@link restoreValue}). Returns a fresh value each call.
   *
   * @throws TypeError for a malformed payload or an unknown encoding.
   */
  fromPayload(payload: Payload, type?: Function): unknown {
    if (typeof payload !== 'object' || payload === null || typeof payload.metadata?.encoding !== 'string') {
      throw new TypeError(`Invalid payload: ${quoteValue(payload)} (expected { metadata: { encoding }, data })`);
    }
    switch (payload.metadata.encoding) {
      case PayloadEncoding.BINARY_NULL:
        return undefined;
      case PayloadEncoding.JSON_PLAIN:
        return restoreValue(payload.data ?? null, type);
      default:
        throw new TypeError(`Unknown payload encoding ${JSON.stringify(payload.metadata.encoding)}`);
    }
  }

  /** {@link toPayload} for each value. */
  toPayloads(values: unknown[]): Payload[] {
    return values.map((value) => this.toPayload(value));
  }

  /** {@link fromPayload} for each payload, with `types[i]` as the type of the i-th. */
  fromPayloads(payloads: Payload[] | undefined, types?: (Function | undefined)[]): unknown[] {
    return (payloads ?? []).map((payload, i) => this.fromPayload(payload, types?.[i]));
  }
}

/** The converter Durabull uses unless told otherwise. */
export const DEFAULT_PAYLOAD_CONVERTER = new PayloadConverter();
