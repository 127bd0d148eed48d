import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { PayloadCodec } from './codec';
import type { Payload } from './payload';

/** Options of {@link AesGcmEncryptionCodec}. */
export interface AesGcmEncryptionCodecOptions {
  /**
   * Keys by id: 32-byte `Buffer`s, or the same as base64 strings. Keep every key that encrypted
   * data still in Redis: payloads name the key they were encrypted with.
   */
  keys: Record<string, Buffer | string>;
  /** Id of the key new payloads are encrypted with. */
  encryptWith: string;
}

/** `metadata.encoding` of an encrypted payload. */
export const ENCRYPTED_ENCODING = 'binary/encrypted';
const CIPHER = 'aes-256-gcm';
const IV_BYTES = 12;
const TAG_BYTES = 16;

/**
 * Encrypts every payload with AES-256-GCM, so inputs, results, failures and details are
 * encrypted at rest in Redis. Each encrypted payload records the id of its key
 * (`metadata['encryption-key-id']`); the key id is also authenticated with the data.
 *
 * Key rotation: add the new key to `keys` and point `encryptWith` at it on every client and
 * worker; new payloads use it while old ones still decrypt with their own key. Drop an old key
 * only once nothing encrypted with it remains (its runs closed and deleted).
 */
export class AesGcmEncryptionCodec implements PayloadCodec {
  private readonly keys = new Map<string, Buffer>();

  constructor(private readonly options: AesGcmEncryptionCodecOptions) {
    for (const [id, key] of Object.entries(options.keys)) {
      const bytes = typeof key === 'string' ? Buffer.from(key, 'base64') : key;
      if (!Buffer.isBuffer(bytes) || bytes.length !== 32) {
        throw new TypeError(`Encryption key ${JSON.stringify(id)} must be 32 bytes (AES-256), got ${bytes.length ?? typeof key}`);
      }
      this.keys.set(id, bytes);
    }
    if (!this.keys.has(options.encryptWith)) {
      throw new TypeError(`encryptWith names key ${JSON.stringify(options.encryptWith)}, which is not among the keys`);
    }
  }

  async encode(payloads: Payload[]): Promise<Payload[]> {
    const id = this.options.encryptWith;
    const key = this.keys.get(id)!;
    return payloads.map((payload) => {
      const iv = randomBytes(IV_BYTES);
      const cipher = createCipheriv(CIPHER, key, iv);
      cipher.setAAD(Buffer.from(id));
      const body = Buffer.concat([cipher.update(JSON.stringify(payload), 'utf8'), cipher.final()]);
      return {
        metadata: { encoding: ENCRYPTED_ENCODING, 'encryption-cipher': 'AES-256-GCM', 'encryption-key-id': id },
        data: Buffer.concat([iv, body, cipher.getAuthTag()]).toString('base64'),
      };
    });
  }

  async decode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((payload) => {
      if (payload.metadata.encoding !== ENCRYPTED_ENCODING) return payload;
      const id = payload.metadata['encryption-key-id'] ?? '';
      const key = this.keys.get(id);
      if (!key) throw new Error(`Payload was encrypted with key ${JSON.stringify(id)}, which this codec does not have`);
      const bytes = Buffer.from(String(payload.data), 'base64');
      const decipher = createDecipheriv(CIPHER, key, bytes.subarray(0, IV_BYTES));
      decipher.setAAD(Buffer.from(id));
      decipher.setAuthTag(bytes.subarray(bytes.length - TAG_BYTES));
      const plain = Buffer.concat([decipher.update(bytes.subarray(IV_BYTES, bytes.length - TAG_BYTES)), decipher.final()]);
      return JSON.parse(plain.toString('utf8')) as Payload;
    });
  }
}
