import { Type } from 'class-transformer';
import { DEFAULT_PAYLOAD_CONVERTER, type Payload, PayloadConverter } from './payload';

class Address {
  city!: string;
  describe(): string {
    return `in ${this.city}`;
  }
}

class Person {
  name!: string;
  @Type(() => Date) born!: Date;
  @Type(() => Address) address!: Address;
  @Type(() => Address) previous!: Address[];
  greet(): string {
    return `I am ${this.name}`;
  }
}

const converter = new PayloadConverter();

describe('PayloadConverter.toPayload', () => {
  it('stores JSON values as themselves under json/plain', () => {
    expect(converter.toPayload({ a: [1, 'two', true, null] })).toEqual({
      metadata: { encoding: 'json/plain' },
      data: { a: [1, 'two', true, null] },
    });
    expect(converter.toPayload('hi')).toEqual({ metadata: { encoding: 'json/plain' }, data: 'hi' });
    expect(converter.toPayload(null)).toEqual({ metadata: { encoding: 'json/plain' }, data: null });
  });

  it('encodes undefined as binary/null without data', () => {
    const payload = converter.toPayload(undefined);
    expect(payload).toEqual({ metadata: { encoding: 'binary/null' } });
    expect('data' in payload).toBe(false);
  });

  it('follows JSON semantics for classes, Dates, toJSON and undefined', () => {
    const person = Object.assign(new Person(), {
      name: 'Ada',
      born: new Date('1815-12-10T00:00:00.000Z'),
      address: Object.assign(new Address(), { city: 'London' }),
      previous: [],
      nickname: undefined,
    });
    const { data } = converter.toPayload(person);
    expect(data).toEqual({ name: 'Ada', born: '1815-12-10T00:00:00.000Z', address: { city: 'London' }, previous: [] });
    expect(Object.getPrototypeOf(data)).toBe(Object.prototype);
    expect(converter.toPayload({ toJSON: (key: string) => `key=${key}` }).data).toBe('key=');
    expect(converter.toPayload([undefined, 1]).data).toEqual([null, 1]);
    expect(converter.toPayload({ big: new Number(5), s: new String('s') }).data).toEqual({ big: 5, s: 's' });
  });

  it('keeps a "__proto__" key as data instead of a prototype', () => {
    const value = JSON.parse('{"__proto__": {"polluted": true}}') as object;
    const { data } = converter.toPayload(value);
    expect(Object.getPrototypeOf(data)).toBe(Object.prototype);
    expect(Object.keys(data as object)).toEqual(['__proto__']);
  });

  it('shares repeated (non-circular) references like JSON does', () => {
    const shared = { x: 1 };
    expect(converter.toPayload({ a: shared, b: shared }).data).toEqual({ a: { x: 1 }, b: { x: 1 } });
  });

  it.each<[string, unknown, string]>([
    ['a function', { callback: function notify() {} }, 'Cannot encode a function (notify) as a JSON payload (at $.callback): JSON cannot represent it faithfully'],
    ['a symbol', [Symbol('s')], 'Cannot encode a symbol as a JSON payload (at $[0]): JSON cannot represent it faithfully'],
    ['a bigint', { n: 10n }, 'Cannot encode a bigint as a JSON payload (at $.n): JSON cannot represent it faithfully'],
    ['NaN', { avg: NaN }, 'Cannot encode the number NaN as a JSON payload (at $.avg): JSON cannot represent it faithfully'],
    ['a Map', new Map([[1, 2]]), 'Cannot encode a Map as a JSON payload (at $): convert it to an array or a plain object first'],
    ['a Set', { tags: new Set(['a']) }, 'Cannot encode a Set as a JSON payload (at $.tags): convert it to an array or a plain object first'],
  ])('refuses %s with a TypeError naming its type', (_what, value, message) => {
    expect(() => converter.toPayload(value)).toThrow(new TypeError(message));
  });

  it('refuses circular structures', () => {
    const loop: Record<string, unknown> = { list: [] };
    (loop.list as unknown[]).push(loop);
    expect(() => converter.toPayload(loop)).toThrow(
      new TypeError('Cannot encode a circular structure as a JSON payload (at $.list[0]): the value contains itself'),
    );
  });
});

describe('PayloadConverter.fromPayload', () => {
  it('round-trips JSON values and undefined', () => {
    for (const value of [0, 'x', true, null, [1, [2]], { a: { b: 'c' } }, undefined]) {
      expect(converter.fromPayload(converter.toPayload(value))).toEqual(value);
    }
  });

  it('returns a fresh copy, so callers cannot change a stored payload', () => {
    const payload: Payload = { metadata: { encoding: 'json/plain' }, data: { list: [1] } };
    const value = converter.fromPayload(payload) as { list: number[] };
    value.list.push(2);
    expect(payload.data).toEqual({ list: [1] });
  });

  it('restores user classes, nested classes and Dates', () => {
    const payload = converter.toPayload({
      name: 'Ada',
      born: '1815-12-10T00:00:00.000Z',
      address: { city: 'London' },
      previous: [{ city: 'Paris' }],
    });
    const person = converter.fromPayload(payload, Person) as Person;
    expect(person).toBeInstanceOf(Person);
    expect(person.greet()).toBe('I am Ada');
    expect(person.born).toBeInstanceOf(Date);
    expect(person.born.toISOString()).toBe('1815-12-10T00:00:00.000Z');
    expect(person.address).toBeInstanceOf(Address);
    expect(person.address.describe()).toBe('in London');
    expect(person.previous[0]).toBeInstanceOf(Address);
  });

  it('restores a top-level Date and leaves plain declared types as JSON', () => {
    const date = converter.fromPayload(converter.toPayload(new Date('2024-05-01T12:00:00.000Z')), Date);
    expect(date).toEqual(new Date('2024-05-01T12:00:00.000Z'));
    for (const type of [Object, String, Number, Boolean, Array, Promise, Function, Symbol, BigInt, Map, Set, undefined]) {
      expect(converter.fromPayload(converter.toPayload({ a: 1 }), type)).toEqual({ a: 1 });
    }
    expect(Object.getPrototypeOf(converter.fromPayload(converter.toPayload({ a: 1 }), Object))).toBe(Object.prototype);
  });

  it('leaves values of the wrong shape for a class unchanged, for validation to report', () => {
    expect(converter.fromPayload(converter.toPayload(null), Person)).toBeNull();
    expect(converter.fromPayload(converter.toPayload('Ada'), Person)).toBe('Ada');
    expect(converter.fromPayload(converter.toPayload([1]), Person)).toEqual([1]);
    expect(converter.fromPayload(converter.toPayload(undefined), Person)).toBeUndefined();
  });

  it('names a class whose constructor cannot run without arguments', () => {
    class Strict {
      constructor(readonly value: string) {
        if (value === undefined) throw new Error('value is required');
      }
    }
    const restore = () => converter.fromPayload(converter.toPayload({ value: 'x' }), Strict);
    expect(restore).toThrow(TypeError);
    expect(restore).toThrow('Cannot restore a Strict from its payload: value is required');
  });

  it('rejects malformed payloads and unknown encodings', () => {
    expect(() => converter.fromPayload({ metadata: { encoding: 'binary/protobuf' }, data: 'x' })).toThrow(
      new TypeError('Unknown payload encoding "binary/protobuf"'),
    );
    expect(() => converter.fromPayload('x' as unknown as Payload)).toThrow(
      new TypeError('Invalid payload: "x" (expected { metadata: { encoding }, data })'),
    );
    expect(() => converter.fromPayload({} as Payload)).toThrow(TypeError);
  });
});

describe('PayloadConverter lists', () => {
  it('maps each value and each payload with its own type', () => {
    const payloads = DEFAULT_PAYLOAD_CONVERTER.toPayloads(['x', { city: 'Oslo' }, undefined]);
    expect(payloads).toHaveLength(3);
    const [text, address, missing] = DEFAULT_PAYLOAD_CONVERTER.fromPayloads(payloads, [String, Address]);
    expect(text).toBe('x');
    expect(address).toBeInstanceOf(Address);
    expect(missing).toBeUndefined();
    expect(DEFAULT_PAYLOAD_CONVERTER.fromPayloads(undefined)).toEqual([]);
  });
});
