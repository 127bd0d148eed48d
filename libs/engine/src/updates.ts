// Updates on the engine's side (lua/includes/updates.lua): the requests a workflow task delivers,
// where an update stands, and the notifications of its stage changes.

import type { Failure, Payload } from '@durabull/common';

/** An admitted update request, as a workflow task start delivers it. */
export interface UpdateRequest {
  updateId: string;
  name: string;
  /** The arguments, as the client encoded them (payload codecs applied). */
  input: Payload[];
  /** Who sent it (client identity). */
  identity: string;
}

/**
 * Where an update stands in its run: `admitted` (waiting for a workflow task), `accepted`,
 * `completed`, `rejected` (by the validator: nothing was written), `aborted` (the run closed
 * before a workflow task saw it) or `moved` (the run continued as new before a workflow task saw
 * it: the new run has it, see `movedTo`).
 */
export type UpdateStage = 'admitted' | 'accepted' | 'completed' | 'rejected' | 'aborted' | 'moved';

export interface UpdateState {
  stage: UpdateStage;
  /** The rejection, or the failure of an update still accepted when the run closed (codecs applied). */
  failure?: Failure;
  /** The WorkflowExecutionUpdateCompleted event id, when the outcome is in history. */
  completedEventId?: number;
  /** `moved`: the run id of the run that has the update now. */
  movedTo?: string;
}

/** The `u:<updateId>` field of a run's state, as updates.lua writes it. */
interface RawUpdate {
  st: UpdateStage;
  f?: string;
  cev?: number;
  to?: string;
}

/** An update's state from its `u:<updateId>` JSON. */
export function parseUpdateState(json: string): UpdateState {
  const raw = JSON.parse(json) as RawUpdate;
  const state = updateState(raw.st, raw.f ?? '', raw.cev ?? 0);
  if (raw.to) state.movedTo = raw.to;
  return state;
}

/** An update's state from its parts (requestUpdate's reply). */
export function updateState(stage: string, failure: string, completedEventId: string | number): UpdateState {
  const state: UpdateState = { stage: stage as UpdateStage };
  if (failure) state.failure = (JSON.parse(failure) as { failure: Failure }).failure;
  if (Number(completedEventId) > 0) state.completedEventId = Number(completedEventId);
  return state;
}

/** The flat list startWorkflowTask returns (id, name, input, identity of each) as requests. */
export function parseUpdateRequests(flat: string[] | undefined): UpdateRequest[] {
  const requests: UpdateRequest[] = [];
  for (let i = 0; flat && i + 3 < flat.length; i += 4) {
    requests.push({ updateId: flat[i]!, name: flat[i + 1]!, input: JSON.parse(flat[i + 2]!) as Payload[], identity: flat[i + 3]! });
  }
  return requests;
}

/** A stage-change notification (`<runId>|<updateId>` on the namespace's `updates` channel). */
export function parseUpdateMessage(message: string): { runId: string; updateId: string } {
  const cut = message.indexOf('|');
  return { runId: message.slice(0, cut), updateId: message.slice(cut + 1) };
}
