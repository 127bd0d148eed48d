import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { EventType } from '@durabull/common';
import { RedisConnection } from './connection';
import { ATTRIBUTE_CODES, EVENT_TYPE_CODES, JSON_PAYLOAD_PREFIX, decodeAttributes, decodeEventType, encodeAttributes } from './history-encoding';
import { historyEventFromStreamEntry } from './replies';

const HISTORY_LUA = readFileSync(join(__dirname, 'lua', 'includes', 'history.lua'), 'utf8');
/** The writer's encoding block of includes/history.lua, as it runs in Redis. */
const ENCODING_LUA = HISTORY_LUA.slice(HISTORY_LUA.indexOf('-- history-encoding begin'), HISTORY_LUA.indexOf('-- history-encoding end'));

/** Lua string escapes (`'\31a'`) as the characters they stand for. */
const luaString = (text: string) => text.replace(/\\(\d{1,3})/g, (_m, code: string) => String.fromCharCode(Number(code)));

describe('history encoding', () => {
  it("has the writer's tables mirror the decoder's lists", () => {
    const table = (name: string) => {
      const body = new RegExp(`local ${name} = \\{([\\s\\S]*?)\\n\\}`).exec(ENCODING_LUA)![1]!;
      return [...body.matchAll(/(\w+) = ('[^']*'|\d+)/g)].map(([, key, value]) => [key, value!.startsWith("'") ? luaString(value!.slice(1, -1)) : Number(value)]);
    };
    expect(table('EVENT_CODES')).toEqual(EVENT_TYPE_CODES.map((type, i) => [type, String(i + 1)]));
    expect(table('ATTRIBUTE_CODES')).toEqual(ATTRIBUTE_CODES.slice(1).map(([code, name]) => [name, code]));
    expect(ATTRIBUTE_CODES[0]).toEqual(['\x01', JSON_PAYLOAD_PREFIX]);
  });

  it('gives every event type a code, and codes are distinct', () => {
    expect(new Set(EVENT_TYPE_CODES).size).toBe(EVENT_TYPE_CODES.length);
    const written = Object.values(EventType).filter((type) => type !== EventType.WorkflowExecutionUpdateRejected);
    expect(written.filter((type) => !EVENT_TYPE_CODES.includes(type))).toEqual([]);
    expect(new Set(ATTRIBUTE_CODES.map(([code]) => code)).size).toBe(ATTRIBUTE_CODES.length);
  });

  it('decodes event types by code, and a type stored by name as it is', () => {
    expect(decodeEventType('1')).toBe('WorkflowExecutionStarted');
    expect(decodeEventType('16')).toBe('ActivityTaskScheduled');
    expect(decodeEventType('TimerFired')).toBe('TimerFired');
    expect(decodeEventType('SomeFutureEvent')).toBe('SomeFutureEvent');
  });

  it('reads plain JSON attributes (no code) as they are', () => {
    const plain = '{"scheduledEventId":5,"identity":"w1"}';
    expect(decodeAttributes(plain)).toBe(plain);
    expect(
      historyEventFromStreamEntry(['7-0', ['t', 'ActivityTaskStarted', 'ts', '1700000000000', 'a', '{"scheduledEventId":5,"attempt":1}']]),
    ).toEqual({ eventId: 7, eventTime: '2023-11-14T22:13:20.000Z', eventType: 'ActivityTaskStarted', attributes: { scheduledEventId: 5, attempt: 1 } });
  });

  it('refuses a code it does not know rather than guessing', () => {
    expect(() => decodeAttributes('{\x1f~1}')).toThrow('History attributes hold an unknown code "\\u001f~"');
  });

  describe('round trip through the Lua writer (real Redis)', () => {
    let connection: RedisConnection;
    beforeAll(() => {
      connection = RedisConnection.from();
    });
    afterAll(async () => {
      await connection.close();
    });
    const encode = async (attrs: string) =>
      (await connection.client.eval(`${ENCODING_LUA}\nreturn encode_attrs(ARGV[1])`, 0, attrs)) as string;

    const payload = (data: unknown) => ({ metadata: { encoding: 'json/plain' }, data });
    const samples: Array<[string, unknown]> = [
      ['ActivityTaskScheduled', {
        activityId: '1', activityType: 'echo', taskQueue: 'q', input: [payload(33)], scheduleToCloseTimeout: 0, scheduleToStartTimeout: 0,
        startToCloseTimeout: 10000, heartbeatTimeout: 0, retryPolicy: { initialInterval: 1000, backoffCoefficient: 2, maximumInterval: 100000, maximumAttempts: 0, nonRetryableErrorTypes: [] },
        workflowTaskCompletedEventId: 4,
      }],
      ['payload data that looks like attributes and codes', {
        input: [payload({ input: 'x', '"identity":': '"identity":', type: { data: [1, '\u0001\u001f', '\\"input\\":'] } }), payload('{"metadata":{"encoding":"json/plain"},"data":1}')],
        identity: 'a"b\\',
      }],
      ['several payloads, back to back', { input: [payload(1), payload('two'), payload([3])], result: [payload(null)] }],
      ['names with digits and other characters, unicode', { a1: 1, 'scheduled-EventId': 2, 'ünïcode': 'émoji 🎉', '': 3 }],
      ['an encoding other than json/plain', { result: [{ metadata: { encoding: 'binary/encrypted', keyId: 'k1' }, data: 'AAEC' }] }],
      ['an empty object', {}],
    ];

    it.each(samples)('%s', async (_what, attributes) => {
      const json = JSON.stringify(attributes);
      const stored = await encode(json);
      expect(decodeAttributes(stored)).toBe(json);
      expect(JSON.parse(decodeAttributes(stored))).toEqual(attributes);
    });

    it.each(samples)('encodes %s in TypeScript byte for byte as the Lua writer does', async (_what, attributes) => {
      const json = JSON.stringify(attributes);
      expect(encodeAttributes(json)).toBe(await encode(json));
    });

    it('stores every JSON payload prefix as one byte', async () => {
      const stored = await encode(JSON.stringify(samples[2]![1]));
      expect(stored.split('\x01')).toHaveLength(5);
      expect(stored).not.toContain('json/plain');
    });

    it.each<[string, Array<string | number>]>([
      ['WorkflowTaskScheduled', ['taskQueue', '"q"', 'startToCloseTimeout', 10000, 'attempt', 1]],
      ['WorkflowTaskCompleted', ['scheduledEventId', 2, 'startedEventId', 3, 'identity', '"1234@h\\"ö\\u0001"']],
      ['a name without a code', ['scheduledEventId', 5, 'notAnAttribute', '"x"']],
      ['no attributes', []],
    ])('builds %s in its stored form as encode_attrs(jobj(...)) gives it, with its JSON length', async (_what, pairs) => {
      const args = pairs.map(String);
      const json = `{${args.flatMap((value, i) => (i % 2 ? [] : [`"${value}":${args[i + 1]}`])).join(',')}}`;
      const [stored, bytes] = (await connection.client.eval(
        `${ENCODING_LUA}\nlocal stored, bytes = jobj_stored(unpack(ARGV))\nreturn { stored, bytes }`,
        0,
        ...args,
      )) as [string, number];
      expect(stored).toBe(await encode(json));
      expect(bytes).toBe(Buffer.byteLength(json));
      expect(JSON.parse(decodeAttributes(stored))).toEqual(JSON.parse(json));
    });

    it('halves the attributes of a typical event', async () => {
      const json = JSON.stringify(samples[0]![1]);
      const stored = await encode(json);
      expect(stored.length).toBeLessThan(json.length / 2);
    });
  });
});
