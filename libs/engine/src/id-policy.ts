// Workflow id policies (TEMPORAL-SEMANTICS §19): the checks a start's policies pass before the
// start is sent, and the refusals' messages. The decision itself is made atomically by the start
// script (lua/includes/id-policy.lua).

import { WorkflowAlreadyStartedError, WorkflowExecutionStatus, WorkflowIdConflictPolicy, WorkflowIdReusePolicy } from '@durabull/common';

/** A start's id policies, checked, with their defaults applied. */
export interface IdPolicies {
  idReusePolicy: WorkflowIdReusePolicy;
  idConflictPolicy: WorkflowIdConflictPolicy;
}

function checkEnum<E extends string>(name: string, value: unknown, values: Record<string, E>): E | undefined {
  if (value === undefined) return undefined;
  if (!Object.values<unknown>(values).includes(value)) {
    throw new TypeError(`Invalid ${name}: ${JSON.stringify(value)} (one of ${Object.values(values).join(', ')})`);
  }
  return value as E;
}

/**
 * Checks a start's `idReusePolicy` and `idConflictPolicy` and applies their defaults:
 * `ALLOW_DUPLICATE`, and `FAIL` for a start (`USE_EXISTING` for signal-with-start, which refuses
 * `FAIL`). Combinations Temporal refuses throw its INVALID_ARGUMENT message.
 * @throws TypeError naming the bad value or combination
 */
export function resolveIdPolicies(
  idReusePolicy: unknown,
  idConflictPolicy: unknown,
  options: { signalWithStart?: boolean } = {},
): IdPolicies {
  const reuse = checkEnum('idReusePolicy', idReusePolicy, WorkflowIdReusePolicy) ?? WorkflowIdReusePolicy.ALLOW_DUPLICATE;
  const conflict =
    checkEnum('idConflictPolicy', idConflictPolicy, WorkflowIdConflictPolicy) ??
    (options.signalWithStart ? WorkflowIdConflictPolicy.USE_EXISTING : WorkflowIdConflictPolicy.FAIL);
  if (options.signalWithStart && conflict === WorkflowIdConflictPolicy.FAIL) {
    throw new TypeError('Invalid WorkflowIDConflictPolicy: WORKFLOW_ID_CONFLICT_POLICY_FAIL is not supported for this operation.');
  }
  if (reuse === WorkflowIdReusePolicy.REJECT_DUPLICATE && conflict === WorkflowIdConflictPolicy.TERMINATE_EXISTING) {
    throw new TypeError(
      'Invalid WorkflowIDReusePolicy: WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE cannot be used together with ' +
        'WorkflowIdConflictPolicy WORKFLOW_ID_CONFLICT_POLICY_TERMINATE_EXISTING',
    );
  }
  return { idReusePolicy: reuse, idConflictPolicy: conflict };
}

/** The reason TERMINATE_EXISTING records on the run it terminates (Temporal's). */
export const TERMINATE_EXISTING_REASON = 'TerminateIfRunning WorkflowIdReusePolicy';

/** The details TERMINATE_EXISTING records on the run it terminates: names the run that replaces it. */
export function terminateExistingDetails(newRunId: string): string {
  return `terminated by new runID: ${newRunId}`;
}

/**
 * The error of a start the policies refused, with Temporal's message: the id's current run
 * `runId` is running (conflict policy `FAIL`), or closed with `status` and the reuse policy does
 * not let the id start again.
 */
export function alreadyStartedError(
  workflowId: string,
  workflowType: string,
  runId: string,
  status: string,
  idReusePolicy: WorkflowIdReusePolicy,
): WorkflowAlreadyStartedError {
  let message: string;
  if (status === WorkflowExecutionStatus.RUNNING) {
    message = `Workflow execution is already running. WorkflowId: ${workflowId}, RunId: ${runId}.`;
  } else if (idReusePolicy === WorkflowIdReusePolicy.ALLOW_DUPLICATE_FAILED_ONLY) {
    message =
      `Workflow execution already finished successfully. WorkflowId: ${workflowId}, RunId: ${runId}. ` +
      'Workflow Id reuse policy: allow duplicate workflow Id if last run failed.';
  } else {
    message =
      `Workflow execution already finished. WorkflowId: ${workflowId}, RunId: ${runId}. ` +
      'Workflow Id reuse policy: reject duplicate workflow Id.';
  }
  return new WorkflowAlreadyStartedError(workflowId, workflowType, runId, message);
}
