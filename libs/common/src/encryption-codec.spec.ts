import { randomBytes } from 'node:crypto';
import { CodecChain } from './codec';
import { AesGcmEncryptionCodec, ENCRYPTED_ENCODING } from './encryption-codec';
import { DEFAULT_FAILURE_CONVERTER } from './failure';
import { ApplicationError } from './errors';
import type { Payload } from './payload';

const plain: Payload[] = [
  { metadata: { encoding: 'json/plain' }, data: { card: '4111' } },
  { metadata: { encoding: 'binary/null' } },
];

describe('AesGcmEncryptionCodec', () => {
  const k1 = randomBytes(32);
  const codec = new AesGcmEncryptionCodec({ keys: { k1 }, encryptWith: 'k1' });

  it('round-trips payloads, each encrypted with a fresh IV and naming its key', async () => {
    const encrypted = await codec.encode(plain);
    expect(encrypted.map((p) => p.metadata)).toEqual([
      { encoding: ENCRYPTED_ENCODING, 'encryption-cipher': 'AES-256-GCM', 'encryption-key-id': 'k1' },
      { encoding: ENCRYPTED_ENCODING, 'encryption-cipher': 'AES-256-GCM', 'encryption-key-id': 'k1' },
    ]);
    expect(JSON.stringify(encrypted)).not.toContain('4111');
    expect((await codec.encode(plain))[0]!.data).not.toBe(encrypted[0]!.data);
    expect(await codec.decode(encrypted)).toEqual(plain);
  });

  it('leaves payloads it did not encrypt as they are', async () => {
    expect(await codec.decode(plain)).toEqual(plain);
  });

  it('refuses tampered data and data encrypted under another key id', async () => {
    const [encrypted] = await codec.encode([plain[0]!]);
    const bytes = Buffer.from(String(encrypted!.data), 'base64');
    bytes[20] = bytes[20]! ^ 1;
    await expect(codec.decode([{ ...encrypted!, data: bytes.toString('base64') }])).rejects.toThrow('Unsupported state or unable to authenticate data');
    const relabelled = { ...encrypted!, metadata: { ...encrypted!.metadata, 'encryption-key-id': 'k2' } };
    const both = new AesGcmEncryptionCodec({ keys: { k1, k2: k1 }, encryptWith: 'k1' });
    // Same key bytes, other id: the id is authenticated, so this does not decrypt.
    await expect(both.decode([relabelled])).rejects.toThrow('Unsupported state or unable to authenticate data');
    await expect(codec.decode([relabelled])).rejects.toThrow('Payload was encrypted with key "k2", which this codec does not have');
  });

  it('accepts base64 keys and rejects keys of the wrong size or an unknown encryptWith', () => {
    expect(() => new AesGcmEncryptionCodec({ keys: { b: randomBytes(32).toString('base64') }, encryptWith: 'b' })).not.toThrow();
    expect(() => new AesGcmEncryptionCodec({ keys: { short: randomBytes(16) }, encryptWith: 'short' })).toThrow(
      'Encryption key "short" must be 32 bytes (AES-256), got 16',
    );
    expect(() => new AesGcmEncryptionCodec({ keys: { k1 }, encryptWith: 'k9' })).toThrow('encryptWith names key "k9", which is not among the keys');
  });
});

describe('CodecChain with failures', () => {
  it('moves message and stack into encoded attributes and restores them, down the cause chain', async () => {
    const chain = new CodecChain([new AesGcmEncryptionCodec({ keys: { k1: randomBytes(32) }, encryptWith: 'k1' })]);
    const failure = DEFAULT_FAILURE_CONVERTER.errorToFailure(
      new ApplicationError('secret outer', { type: 'Outer', details: ['secret detail'], cause: new Error('secret inner') }),
    );
    const encoded = await chain.encodeFailure(failure);
    expect(encoded.message).toBe('Encoded failure');
    expect(encoded.cause!.message).toBe('Encoded failure');
    expect(encoded.applicationFailureInfo!.type).toBe('Outer');
    expect(JSON.stringify(encoded)).not.toContain('secret');
    expect(await chain.decodeFailure(encoded)).toEqual(failure);
  });

  it("encodes and decodes each value of a memo's fields, keeping its keys", async () => {
    const chain = new CodecChain([new AesGcmEncryptionCodec({ keys: { k1: randomBytes(32) }, encryptWith: 'k1' })]);
    const memo = { fields: { owner: plain[0]!, note: plain[1]! } };
    const encoded = await chain.encodeEvent({ workflowType: 'W', memo });
    const fields = (encoded['memo'] as { fields: Record<string, Payload> }).fields;
    expect(Object.keys(fields)).toEqual(['owner', 'note']);
    expect(fields['owner']!.metadata['encoding']).toBe(ENCRYPTED_ENCODING);
    expect(JSON.stringify(encoded)).not.toContain('4111');
    const [decoded] = await chain.decodeEvents([{ eventId: 1, eventTime: '', eventType: 'WorkflowExecutionStarted' as never, attributes: encoded }]);
    expect(decoded!.attributes).toEqual({ workflowType: 'W', memo });
  });

  it('changes nothing without codecs', async () => {
    const chain = new CodecChain();
    expect(await chain.encode(plain)).toBe(plain);
    const failure = { message: 'm' };
    expect(await chain.encodeFailure(failure)).toBe(failure);
  });
});
