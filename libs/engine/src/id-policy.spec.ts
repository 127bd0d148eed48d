import { WorkflowAlreadyStartedError, WorkflowIdConflictPolicy, WorkflowIdReusePolicy } from '@durabull/common';
import { alreadyStartedError, resolveIdPolicies, terminateExistingDetails } from './id-policy';

describe('id policies', () => {
  it('default to ALLOW_DUPLICATE and FAIL, or USE_EXISTING for signal-with-start', () => {
    expect(resolveIdPolicies(undefined, undefined)).toEqual({
      idReusePolicy: WorkflowIdReusePolicy.ALLOW_DUPLICATE,
      idConflictPolicy: WorkflowIdConflictPolicy.FAIL,
    });
    expect(resolveIdPolicies(undefined, undefined, { signalWithStart: true }).idConflictPolicy).toBe(WorkflowIdConflictPolicy.USE_EXISTING);
  });

  it("refuses Temporal's invalid combinations with its messages", () => {
    expect(() => resolveIdPolicies(WorkflowIdReusePolicy.REJECT_DUPLICATE, WorkflowIdConflictPolicy.TERMINATE_EXISTING)).toThrow(
      new TypeError(
        'Invalid WorkflowIDReusePolicy: WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE cannot be used together with ' +
          'WorkflowIdConflictPolicy WORKFLOW_ID_CONFLICT_POLICY_TERMINATE_EXISTING',
      ),
    );
    expect(() => resolveIdPolicies(undefined, WorkflowIdConflictPolicy.FAIL, { signalWithStart: true })).toThrow(
      new TypeError('Invalid WorkflowIDConflictPolicy: WORKFLOW_ID_CONFLICT_POLICY_FAIL is not supported for this operation.'),
    );
    expect(() => resolveIdPolicies('TERMINATE_IF_RUNNING', undefined)).toThrow(
      new TypeError('Invalid idReusePolicy: "TERMINATE_IF_RUNNING" (one of ALLOW_DUPLICATE, ALLOW_DUPLICATE_FAILED_ONLY, REJECT_DUPLICATE)'),
    );
  });

  it("builds the refusal for each row of Temporal's table", () => {
    const running = alreadyStartedError('w', 'T', 'r1', 'RUNNING', WorkflowIdReusePolicy.REJECT_DUPLICATE);
    expect(running).toBeInstanceOf(WorkflowAlreadyStartedError);
    expect([running.message, running.workflowId, running.workflowType, running.runId]).toEqual([
      'Workflow execution is already running. WorkflowId: w, RunId: r1.',
      'w',
      'T',
      'r1',
    ]);
    expect(alreadyStartedError('w', 'T', 'r1', 'COMPLETED', WorkflowIdReusePolicy.ALLOW_DUPLICATE_FAILED_ONLY).message).toBe(
      'Workflow execution already finished successfully. WorkflowId: w, RunId: r1. Workflow Id reuse policy: allow duplicate workflow Id if last run failed.',
    );
    expect(alreadyStartedError('w', 'T', 'r1', 'FAILED', WorkflowIdReusePolicy.REJECT_DUPLICATE).message).toBe(
      'Workflow execution already finished. WorkflowId: w, RunId: r1. Workflow Id reuse policy: reject duplicate workflow Id.',
    );
    expect(terminateExistingDetails('r2')).toBe('terminated by new runID: r2');
  });
});
