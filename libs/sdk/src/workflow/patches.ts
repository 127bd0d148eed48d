// Patching (`workflow.patched` / `deprecatePatch`), as Temporal's core SDKs do it: the first
// call for a patch id in a run that is not replaying records a `core_patch` marker and takes the
// new branch; on replay the new branch is taken only if the workflow task being replayed has the
// marker (its events are looked at before the activation runs). Markers of patches the code no
// longer calls are skipped on replay when deprecated, and are a nondeterminism otherwise.

import { EventType, NondeterminismError } from '@durabull/common';
import type { HistoryEvent, MarkerRecordedEventAttributes, Payload } from '@durabull/common';

/** The marker name of patches (Temporal core's). */
export const PATCH_MARKER_NAME = 'core_patch';
/** The details key holding the patch's JSON payload `{ id, deprecated }` (core's `patch-data`). */
export const PATCH_DETAILS_KEY = 'patch-data';

/** What a patch marker says. */
export interface PatchMarkerData {
  id: string;
  deprecated: boolean;
}

/** The marker details of patch `id`. */
export function patchMarkerDetails(id: string, deprecated: boolean): Record<string, Payload[]> {
  return { [PATCH_DETAILS_KEY]: [{ metadata: { encoding: 'json/plain' }, data: { id, deprecated } }] };
}

/** The patch a marker records, or undefined when it is not a patch marker. */
export function patchMarkerData(attributes: MarkerRecordedEventAttributes): PatchMarkerData | undefined {
  if (attributes.markerName !== PATCH_MARKER_NAME) return undefined;
  const data = attributes.details?.[PATCH_DETAILS_KEY]?.[0]?.data as Partial<PatchMarkerData> | undefined;
  if (typeof data?.id !== 'string') return undefined;
  return { id: data.id, deprecated: data.deprecated === true };
}

/** The patch of a history event, if it is a patch marker. */
export function patchOfEvent(event: HistoryEvent): PatchMarkerData | undefined {
  if (event.eventType !== EventType.MarkerRecorded) return undefined;
  return patchMarkerData(event.attributes as MarkerRecordedEventAttributes);
}

/** What {@link skipsPatchMarker} reads of a command (commands.ts imports this module). */
export interface CommandLike {
  readonly kind: string;
  readonly patchId?: string;
}

/**
 * Whether replay skips this history event instead of pairing it with `next`, the next command
 * the code produced: a deprecated patch marker that the code did not ask for (it no longer calls
 * `patched` / `deprecatePatch` for it).
 * @throws NondeterminismError for a patch marker that is not deprecated and has no command
 *   (Temporal core's message)
 */
export function skipsPatchMarker(next: CommandLike | undefined, event: HistoryEvent): boolean {
  const patch = patchOfEvent(event);
  if (!patch) return false;
  if (next?.kind === 'recordPatchMarker' && next.patchId === patch.id) return false;
  if (patch.deprecated) return true;
  // A patch command of another id: matching reports the two ids.
  if (next?.kind === 'recordPatchMarker') return false;
  throw new NondeterminismError(
    `Nondeterminism error: Non-deprecated patch marker encountered for change ${patch.id}, but there is no corresponding change command! (event ${event.eventId} ${event.eventType})`,
    { event },
  );
}

/** The ids of the patch markers that the workflow task whose WorkflowTaskStarted is `events[started]` recorded. */
export function patchesOfTask(events: readonly HistoryEvent[], started: number): string[] {
  const ids: string[] = [];
  for (let j = started + 2; j < events.length && events[j]!.eventType !== EventType.WorkflowTaskStarted; j++) {
    const patch = patchOfEvent(events[j]!);
    if (patch) ids.push(patch.id);
  }
  return ids;
}
