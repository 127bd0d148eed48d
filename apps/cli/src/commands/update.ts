// `durabull workflow update`: send a workflow run an update and print its result.
import { WorkflowUpdateFailedError } from '@durabull/sdk';
import type { CommandSpec } from '../command';
import { ID, RUN_ID, inputArguments, inputOptions, optionalString, requiredString } from '../command';
import { CliError } from '../errors';

export const updateCommand: CommandSpec = {
  words: ['workflow', 'update'],
  summary: 'send a workflow run an update and wait for its result (validated, recorded, handled by the run)',
  usage: '--workflow-id <workflowId> [--run-id <runId>] --name <update> [--update-id <id>] [--input <JSON>]...',
  options: {
    ...ID,
    ...RUN_ID,
    name: { type: 'string', value: '<update>', description: 'the update name (a @WorkflowUpdate method name, or its name option)' },
    'update-id': {
      type: 'string',
      value: '<id>',
      description: 'the update id: a second update with an id the run knows gets the first one\'s result (default: a random UUID)',
    },
    ...inputOptions('update'),
  },
  details: [
    'The run\'s validator for the update may reject it (nothing is written); otherwise the update is',
    'recorded as accepted, its handler runs and its result is printed. A rejected or failed update',
    'exits 1 with the reason.',
    '',
    'Example:',
    '  durabull workflow update --workflow-id cart-1 --name removeItem --input \'"apple"\' --update-id rm-1',
  ].join('\n'),
  async run(ctx, values) {
    const workflowId = requiredString(values, 'workflow-id', this);
    const name = requiredString(values, 'name', this);
    const updateId = optionalString(values, 'update-id');
    const args = inputArguments(values);
    const client = await ctx.client();
    const handle = client.getWorkflowHandle(workflowId, optionalString(values, 'run-id'));
    let value: unknown;
    try {
      value = await ctx.untilInterrupted(handle.executeUpdate(name, { args, ...(updateId ? { id: updateId } : {}) }));
    } catch (error) {
      if (error instanceof WorkflowUpdateFailedError) {
        const cause = error.cause instanceof Error ? error.cause.message : String(error.cause);
        throw new CliError(`${error.message}: ${cause}`);
      }
      throw error;
    }
    if (ctx.json) ctx.outJson({ workflowId, ...(handle.runId ? { runId: handle.runId } : {}), update: name, result: value ?? null });
    else ctx.out(JSON.stringify(value ?? null));
    return 0;
  },
};
