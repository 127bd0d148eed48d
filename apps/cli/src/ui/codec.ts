// The codec-server hook of the web UI (as Temporal's codec server): payloads that a codec encoded
// (encrypted, compressed) are sent to `--codec-endpoint` to be decoded for display, and a signal's
// arguments to be encoded. The UI itself never holds the keys.
//
// Protocol: `POST <endpoint>/decode` (or `/encode`) with `Content-Type: application/json`,
// `X-Namespace: <namespace>` and the body `{"payloads": [<payload>, ...]}`, each payload in
// Durabull's form (`{"metadata": {"encoding": ...}, "data": ...}`); the answer is 200 with
// `{"payloads": [...]}`, as many as were sent, in the same order. `decode` must return the
// payloads it did not encode untouched.
import type { Payload, PayloadCodec } from '@durabull/sdk';

/** How long one call to the codec endpoint may take. */
const CODEC_TIMEOUT_MS = 10_000;

/** Checks a `--codec-endpoint` value: an http:// or https:// URL. Returns it without a trailing slash. */
export function checkCodecEndpoint(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new TypeError(`--codec-endpoint must be an http:// or https:// URL, got ${JSON.stringify(url)}`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new TypeError(`--codec-endpoint must be an http:// or https:// URL, got ${JSON.stringify(url)}`);
  }
  return url.replace(/\/+$/, '');
}

/** A payload codec that calls a codec server. */
export class RemoteCodec implements PayloadCodec {
  constructor(
    private readonly endpoint: string,
    private readonly namespace: string,
  ) {}

  encode(payloads: Payload[]): Promise<Payload[]> {
    return this.call('encode', payloads);
  }

  decode(payloads: Payload[]): Promise<Payload[]> {
    return this.call('decode', payloads);
  }

  private async call(operation: 'encode' | 'decode', payloads: Payload[]): Promise<Payload[]> {
    if (payloads.length === 0) return payloads;
    const url = `${this.endpoint}/${operation}`;
    let response: Response;
    try {
      response = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-namespace': this.namespace },
        body: JSON.stringify({ payloads }),
        signal: AbortSignal.timeout(CODEC_TIMEOUT_MS),
      });
    } catch (error) {
      const cause = (error as { cause?: { code?: string } }).cause?.code ?? (error as Error).message;
      throw new Error(`codec endpoint ${url} could not be reached: ${cause}`);
    }
    if (!response.ok) throw new Error(`codec endpoint ${url} answered ${response.status} ${response.statusText}`.trimEnd());
    const body = (await response.json().catch(() => undefined)) as { payloads?: unknown } | undefined;
    const decoded = body?.payloads;
    if (!Array.isArray(decoded) || decoded.length !== payloads.length) {
      throw new Error(`codec endpoint ${url} did not answer {"payloads": [...]} with ${payloads.length} payload(s)`);
    }
    return decoded as Payload[];
  }
}

/** The key of the object that stands for a payload the UI could not decode (see {@link EncodedMarkerCodec}). */
export const ENCODED_MARKER = '$durabullEncoded';

/**
 * The codec of a UI without a codec endpoint: decoding turns every payload that is not plain
 * JSON (`binary/encrypted`, say) into a JSON object `{"$durabullEncoded": <its metadata>}`, so
 * that `describe()` can be read (memo, heartbeat details) and the page shows such values as
 * encrypted. Encoding leaves payloads as they are.
 */
export class EncodedMarkerCodec implements PayloadCodec {
  async encode(payloads: Payload[]): Promise<Payload[]> {
    return payloads;
  }

  async decode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((payload) => {
      const encoding = payload.metadata?.encoding;
      if (encoding === 'json/plain' || encoding === 'binary/null') return payload;
      return { metadata: { encoding: 'json/plain' }, data: { [ENCODED_MARKER]: { ...payload.metadata } } };
    });
  }
}
