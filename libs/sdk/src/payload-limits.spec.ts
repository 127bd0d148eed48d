import { PayloadSizeError } from '@durabull/common';
import type { Failure, Payload } from '@durabull/common';
import type { Logger } from './logger';
import { checkPayloadSize } from './payload-limits';

/** A logger that keeps its warnings. */
function recordingLogger(): Logger & { warnings: string[] } {
  const warnings: string[] = [];
  return { warnings, debug: () => undefined, info: () => undefined, error: () => undefined, warn: (message) => void warnings.push(message) };
}

const json = (data: unknown): Payload[] => [{ metadata: { encoding: 'json/plain' }, data } as unknown as Payload];

// Values whose serialised size the fast bound must never underestimate: escapes, control
// characters, multi-byte UTF-8 and surrogate pairs, extreme numbers, what JSON drops or replaces.
// Each is long enough, and most are made of the one kind of value whose bound is exact, that an
// underestimate of that kind cannot hide in the slack the bound gives the rest.
const many = (text: string) => text.repeat(200);
const times = <T>(count: number, make: (i: number) => T): T[] => Array.from({ length: count }, (_, i) => make(i));
// Control characters that JSON escapes as \uXXXX (six bytes each): not \b \t \n \f \r.
const SIX_BYTE_CODES = times(31, (i) => i + 1).filter((code) => ![8, 9, 10, 12, 13].includes(code));
const sixByteKey = (i: number) =>
  String.fromCharCode(SIX_BYTE_CODES[i % SIX_BYTE_CODES.length]!, SIX_BYTE_CODES[Math.floor(i / SIX_BYTE_CODES.length)]!);

const VALUES: Array<[string, Payload[] | Failure]> = [
  ['ascii', json(many('hello'))],
  ['quotes and backslashes', json(many('"\\"\\\\'))],
  ['control characters', json(many('\u0000\u0001\u001f\n\t'))],
  ['two- and three-byte UTF-8', json(many('é€✓'))],
  ['surrogate pairs', json(many('😀😀'))],
  ['a lone surrogate', json(many('\ud800'))],
  ['the longest numbers', json(times(200, () => -1.7976931348623157e308))],
  ['other numbers', json(times(50, () => [5e-324, -2.2250738585072014e-308, NaN, Infinity, -0]).flat())],
  ['booleans', json(times(500, () => false))],
  ['nulls and empty arrays', json(times(500, (i) => (i % 2 ? null : [])))],
  ['undefined in arrays and objects', json(times(50, () => [undefined, { a: undefined, b: null, c: true }]))],
  ['keys escaped whole', json(Object.fromEntries(times(300, (i) => [sixByteKey(i), null])))],
  ['unicode keys', json(Object.fromEntries(times(50, (i) => [`clé€😀"${i}`, { '"\u0001': ['\u2028'] }])))],
  ['a Date (toJSON)', json({ at: new Date(0) })],
  ['a failure', { message: 'boom ✓', source: 'TypeScriptSDK', stackTrace: 'at x\n'.repeat(20), applicationFailureInfo: { type: 'E', nonRetryable: false } } as Failure],
];

describe('checkPayloadSize', () => {
  it.each(VALUES)('measures %s exactly: the limit at its size passes, one byte less throws with the size', (_name, value) => {
    const bytes = Buffer.byteLength(JSON.stringify(value));
    const logger = recordingLogger();
    expect(() => checkPayloadSize(value, 'Test payload', { payloadBytes: bytes, payloadBytesWarning: bytes }, logger)).not.toThrow();
    expect(logger.warnings).toEqual([]);
    let error: unknown;
    try {
      checkPayloadSize(value, 'Test payload', { payloadBytes: bytes - 1, payloadBytesWarning: 0 }, logger);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(PayloadSizeError);
    expect(error).toMatchObject({ what: 'Test payload', bytes, limit: bytes - 1 });
  });

  it('warns over the warning size with the exact size, and throws only over the limit', () => {
    const value = json('x'.repeat(2000));
    const bytes = Buffer.byteLength(JSON.stringify(value));
    const logger = recordingLogger();
    checkPayloadSize(value, 'Activity echo result', { payloadBytes: bytes, payloadBytesWarning: 1024 }, logger);
    expect(logger.warnings).toEqual([`Activity echo result is ${(bytes / 1024).toFixed(2).replace(/\.?0+$/, '')} KiB, over the 1 KiB warning size`]);
  });

  it('checks nothing when neither limit is set', () => {
    const logger = recordingLogger();
    expect(() => checkPayloadSize(json('x'.repeat(100_000)), 'Test payload', { payloadBytes: 0, payloadBytesWarning: 0 }, logger)).not.toThrow();
    expect(logger.warnings).toEqual([]);
  });

  it('reports a cyclic value as JSON.stringify does', () => {
    const cyclic: unknown[] = [];
    cyclic.push(cyclic);
    expect(() => checkPayloadSize(json(cyclic), 'Test payload', { payloadBytes: 1024, payloadBytesWarning: 0 }, recordingLogger())).toThrow(
      /circular structure/,
    );
  });
});
