// `durabull workflow query`: ask a workflow run a query and print the answer.
import type { CommandSpec } from '../command';
import { ID, RUN_ID, inputArguments, inputOptions, optionalString, requiredString } from '../command';

export const queryCommand: CommandSpec = {
  words: ['workflow', 'query'],
  summary: "ask a workflow run a query (answered by a worker from the run's state; writes nothing)",
  usage: '--workflow-id <workflowId> [--run-id <runId>] --name <query> [--input <JSON>]...',
  options: {
    ...ID,
    ...RUN_ID,
    name: { type: 'string', value: '<query>', description: 'the query name (a @WorkflowQuery method name, or its name option)' },
    ...inputOptions('query'),
  },
  details: [
    'A worker of the run\'s task queue answers (closed runs too, by replaying their history); with none',
    'running, the query fails after the client\'s query timeout (10s).',
    '',
    'Example:',
    '  durabull workflow query --workflow-id cart-1 --name count',
  ].join('\n'),
  async run(ctx, values) {
    const workflowId = requiredString(values, 'workflow-id', this);
    const name = requiredString(values, 'name', this);
    const queryArgs = inputArguments(values);
    const client = await ctx.client();
    const handle = client.getWorkflowHandle(workflowId, optionalString(values, 'run-id'));
    const value = await ctx.untilInterrupted(handle.query(name, ...queryArgs));
    if (ctx.json) ctx.outJson({ workflowId, ...(handle.runId ? { runId: handle.runId } : {}), query: name, result: value ?? null });
    else ctx.out(JSON.stringify(value ?? null));
    return 0;
  },
};
