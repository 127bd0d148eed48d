// Payload codecs transform payloads on their way into Redis and back (encryption, compression),
// after the payload converter turned values into payloads. Everything the SDK writes into
// history passes through them: workflow and activity inputs and results, failures (with their
// message and stack trace) and every details list.

import type { Failure } from './failure';
import type { HistoryEvent } from './history';
import type { Payload } from './payload';

/**
 * Transforms payloads on their way into Redis (`encode`) and back (`decode`). `decode` must undo
 * `encode` and leave payloads it did not encode untouched, so data written before a codec was
 * added stays readable.
 */
export interface PayloadCodec {
  encode(payloads: Payload[]): Promise<Payload[]>;
  decode(payloads: Payload[]): Promise<Payload[]>;
}

/** A failure whose message and stack trace were moved into encoded attributes. */
const ENCODED_FAILURE_MESSAGE = 'Encoded failure';

/** Attribute names of history events that hold payload lists. */
const PAYLOAD_LISTS = ['input', 'result', 'details', 'heartbeatDetails'] as const;
/** Attribute names of history events that hold failures. */
const FAILURES = ['failure', 'lastFailure'] as const;
/** Attribute names of history events that hold a memo, `{ fields: { <key>: payload } }` (Temporal's `Memo`). */
const MEMOS = ['memo', 'upsertedMemo'] as const;

/**
 * A chain of codecs: `encode` applies them in order, `decode` in reverse. Without codecs every
 * method returns its input as is.
 */
export class CodecChain {
  constructor(readonly codecs: readonly PayloadCodec[] = []) {}

  get empty(): boolean {
    return this.codecs.length === 0;
  }

  async encode(payloads: Payload[]): Promise<Payload[]> {
    let result = payloads;
    for (const codec of this.codecs) result = await codec.encode(result);
    return result;
  }

  async decode(payloads: Payload[]): Promise<Payload[]> {
    let result = payloads;
    for (let i = this.codecs.length - 1; i >= 0; i--) result = await this.codecs[i]!.decode(result);
    return result;
  }

  /**
   * Encodes a failure: its details, and its message and stack trace, which move into
   * `encodedAttributes` (the message left readable is `Encoded failure`), down its cause chain.
   */
  async encodeFailure(failure: Failure): Promise<Failure> {
    if (this.empty) return failure;
    const { message, stackTrace, cause, ...rest } = failure;
    const [attributes] = await this.encode([{ metadata: { encoding: 'json/plain' }, data: { message, stackTrace } }]);
    const encoded: Failure = { ...(await this.mapDetails(rest as Failure, (p) => this.encode(p))), message: ENCODED_FAILURE_MESSAGE, encodedAttributes: attributes };
    if (cause) encoded.cause = await this.encodeFailure(cause);
    return encoded;
  }

  async decodeFailure(failure: Failure): Promise<Failure> {
    if (this.empty) return failure;
    const { cause, encodedAttributes, ...rest } = failure;
    const decoded: Failure = await this.mapDetails(rest as Failure, (p) => this.decode(p));
    if (encodedAttributes) {
      const [attributes] = await this.decode([encodedAttributes]);
      const { message, stackTrace } = (attributes?.data ?? {}) as { message?: string; stackTrace?: string };
      decoded.message = message ?? '';
      if (stackTrace !== undefined) decoded.stackTrace = stackTrace;
      else delete decoded.stackTrace;
    }
    if (cause) decoded.cause = await this.decodeFailure(cause);
    return decoded;
  }

  /** The event with every payload it holds encoded. */
  encodeEvent(attributes: Record<string, unknown>): Promise<Record<string, unknown>> {
    return this.mapAttributes(attributes, (p) => this.encode(p), (f) => this.encodeFailure(f));
  }

  /** The events with every payload they hold decoded. */
  async decodeEvents(events: HistoryEvent[]): Promise<HistoryEvent[]> {
    if (this.empty) return events;
    return Promise.all(
      events.map(async (event) => ({
        ...event,
        attributes: await this.mapAttributes(event.attributes, (p) => this.decode(p), (f) => this.decodeFailure(f)),
      })),
    );
  }

  private async mapAttributes(
    attributes: Record<string, unknown>,
    payloads: (p: Payload[]) => Promise<Payload[]>,
    failures: (f: Failure) => Promise<Failure>,
  ): Promise<Record<string, unknown>> {
    if (this.empty) return attributes;
    const mapped = { ...attributes };
    for (const name of PAYLOAD_LISTS) {
      if (Array.isArray(mapped[name])) mapped[name] = await payloads(mapped[name] as Payload[]);
    }
    for (const name of FAILURES) {
      if (mapped[name] && typeof mapped[name] === 'object') mapped[name] = await failures(mapped[name] as Failure);
    }
    // MarkerRecorded: its details are named payload lists (a local activity's data and result, a patch's data).
    const details = mapped['details'];
    if (details && typeof details === 'object' && !Array.isArray(details)) {
      const entries = Object.entries(details as Record<string, unknown>).filter(([, list]) => Array.isArray(list));
      const lists = await Promise.all(entries.map(([, list]) => payloads(list as Payload[])));
      mapped['details'] = { ...details, ...Object.fromEntries(entries.map(([name], i) => [name, lists[i]!])) };
    }
    // Updates: WorkflowExecutionUpdateAccepted's request arguments, WorkflowExecutionUpdateCompleted's outcome.
    const request = mapped['acceptedRequest'] as { input?: { args?: Payload[] } } | undefined;
    if (Array.isArray(request?.input?.args)) {
      mapped['acceptedRequest'] = { ...request, input: { ...request.input, args: await payloads(request.input.args) } };
    }
    const outcome = mapped['outcome'] as { success?: Payload[]; failure?: Failure } | undefined;
    if (Array.isArray(outcome?.success)) mapped['outcome'] = { ...outcome, success: await payloads(outcome.success) };
    else if (outcome?.failure && typeof outcome.failure === 'object') mapped['outcome'] = { ...outcome, failure: await failures(outcome.failure) };
    for (const name of MEMOS) {
      const fields = (mapped[name] as { fields?: Record<string, Payload> } | undefined)?.fields;
      if (fields && typeof fields === 'object') {
        const keys = Object.keys(fields);
        const values = await payloads(keys.map((key) => fields[key]!));
        mapped[name] = { ...(mapped[name] as object), fields: Object.fromEntries(keys.map((key, i) => [key, values[i]!])) };
      }
    }
    return mapped;
  }

  private async mapDetails(failure: Failure, map: (p: Payload[]) => Promise<Payload[]>): Promise<Failure> {
    const result: Failure = { ...failure };
    if (result.applicationFailureInfo?.details) {
      result.applicationFailureInfo = { ...result.applicationFailureInfo, details: await map(result.applicationFailureInfo.details) };
    }
    if (result.timeoutFailureInfo?.lastHeartbeatDetails) {
      result.timeoutFailureInfo = {
        ...result.timeoutFailureInfo,
        lastHeartbeatDetails: await map(result.timeoutFailureInfo.lastHeartbeatDetails),
      };
    }
    if (result.canceledFailureInfo?.details) {
      result.canceledFailureInfo = { ...result.canceledFailureInfo, details: await map(result.canceledFailureInfo.details) };
    }
    if (result.terminatedFailureInfo?.details) {
      result.terminatedFailureInfo = { ...result.terminatedFailureInfo, details: await map(result.terminatedFailureInfo.details) };
    }
    return result;
  }
}
