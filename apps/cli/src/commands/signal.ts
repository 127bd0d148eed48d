// `durabull workflow signal`: send a signal to a workflow run.
import type { CommandSpec } from '../command';
import { ID, RUN_ID, inputArguments, inputOptions, optionalString, requiredString } from '../command';

export const signalCommand: CommandSpec = {
  words: ['workflow', 'signal'],
  summary: 'send a signal to a running workflow (recorded as WorkflowExecutionSignaled, handled by its code)',
  usage: '--workflow-id <workflowId> [--run-id <runId>] --name <signal> [--input <JSON>]...',
  options: {
    ...ID,
    ...RUN_ID,
    name: { type: 'string', value: '<signal>', description: 'the signal name (a @WorkflowSignal method name, or its name option)' },
    ...inputOptions('signal'),
  },
  details: [
    'The signal is recorded at once; the run\'s handler gets it in its next workflow task (a signal',
    'without a handler waits until the code sets one). A closed or unknown run is an error.',
    '',
    'Example:',
    '  durabull workflow signal --workflow-id cart-1 --name addItem --input \'"apple"\'',
  ].join('\n'),
  async run(ctx, values) {
    const workflowId = requiredString(values, 'workflow-id', this);
    const name = requiredString(values, 'name', this);
    const signalArgs = inputArguments(values);
    const client = await ctx.client();
    const runId = optionalString(values, 'run-id') ?? (await client.getWorkflowHandle(workflowId).describe()).runId;
    await client.getWorkflowHandle(workflowId, runId).signal(name, ...signalArgs);
    if (ctx.json) ctx.outJson({ workflowId, runId, signal: name, signalled: true });
    else ctx.out(`Signalled workflow ${JSON.stringify(workflowId)} (run ${runId}) with ${name}`);
    return 0;
  },
};
