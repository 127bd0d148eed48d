// A run's memo as history stores it: Temporal's `Memo`, `{ fields: { <key>: payload } }`, the
// values through the payload converter and then the payload codecs.

import type { CodecChain, Memo, PayloadConverter } from '@durabull/common';

/** A memo's values as the `memo` attribute of WorkflowExecutionStarted (codecs applied). */
export async function encodeMemo(memo: Record<string, unknown>, payloads: PayloadConverter, codecs: CodecChain): Promise<Memo> {
  const keys = Object.keys(memo);
  const encoded = await codecs.encode(keys.map((key) => payloads.toPayload(memo[key])));
  return { fields: Object.fromEntries(keys.map((key, i) => [key, encoded[i]!])) };
}

/** A memo attribute as it was read from history, codecs already undone, back to its values. */
export function decodeMemo(memo: Memo | undefined, payloads: PayloadConverter): Record<string, unknown> {
  const fields = memo?.fields ?? {};
  return Object.fromEntries(Object.entries(fields).map(([key, payload]) => [key, payloads.fromPayload(payload)]));
}
