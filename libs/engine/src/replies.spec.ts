import { IllegalStateError, WorkflowAlreadyStartedError, WorkflowNotFoundError } from '@durabull/common';
import { replyError, throwOnReply } from './replies';
import { ReplyCode } from './scripts';

describe('replyError: the one translator from reply codes to errors', () => {
  const at = { workflowId: 'order-1', runId: 'run-7', transition: 'requestCancelWorkflow' };

  it('has no error for Ok and Noop', () => {
    expect(replyError(ReplyCode.Ok, at)).toBeUndefined();
    expect(replyError(ReplyCode.Noop, at)).toBeUndefined();
    expect(() => throwOnReply(ReplyCode.Ok, at)).not.toThrow();
  });

  it('turns NotFound and NotRunning into WorkflowNotFoundError naming the run and the transition', () => {
    const notFound = replyError(ReplyCode.NotFound, at)!;
    expect(notFound).toBeInstanceOf(WorkflowNotFoundError);
    expect(notFound.message).toBe('Workflow execution not found: workflowId="order-1" runId="run-7"');
    expect(notFound).toMatchObject({ workflowId: 'order-1', runId: 'run-7', transition: 'requestCancelWorkflow' });
    const closed = replyError(ReplyCode.NotRunning, { ...at, transition: 'terminateWorkflow' })!;
    expect(closed).toBeInstanceOf(WorkflowNotFoundError);
    expect(closed.message).toBe('Workflow execution already completed: workflowId="order-1" runId="run-7"');
    expect(closed.transition).toBe('terminateWorkflow');
    expect(() => throwOnReply(ReplyCode.NotFound, at)).toThrow(WorkflowNotFoundError);
  });

  it('turns AlreadyStarted into WorkflowAlreadyStartedError naming the workflow type', () => {
    const error = replyError(ReplyCode.AlreadyStarted, { ...at, transition: 'startWorkflow', workflowType: 'Order' })!;
    expect(error).toBeInstanceOf(WorkflowAlreadyStartedError);
    expect(error.message).toBe('Workflow execution already started: workflowId="order-1" workflowType="Order"');
    expect(error.transition).toBe('startWorkflow');
  });

  it('keeps the transition out of the error\'s enumerable fields (its serialised form is unchanged)', () => {
    expect(Object.keys(replyError(ReplyCode.NotFound, at)!)).not.toContain('transition');
  });

  it.each([
    [ReplyCode.Stale, 'stale (the task or attempt is no longer current)'],
    [ReplyCode.UnhandledCommand, 'refused (new events arrived while the workflow task ran)'],
    [ReplyCode.Early, 'early (its time has not come)'],
    [ReplyCode.UnknownCommand, 'refused (a command of an unknown type)'],
  ])('turns a code the caller did not expect (%s) into an IllegalStateError naming the transition', (code, outcome) => {
    const error = replyError(code, at)!;
    expect(error).toBeInstanceOf(IllegalStateError);
    expect(error.message).toBe(`Transition requestCancelWorkflow of workflowId="order-1" runId="run-7" was ${outcome}`);
  });

  it('names a code it does not know', () => {
    expect(replyError(-99 as ReplyCode, at)!.message).toBe(
      'Transition requestCancelWorkflow of workflowId="order-1" runId="run-7" was answered with the unknown reply code -99',
    );
  });
});
