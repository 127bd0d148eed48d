import { DEFAULT_FAILURE_CONVERTER, DEFAULT_PAYLOAD_CONVERTER, EventType } from '@durabull/common';
import type { HistoryEvent } from '@durabull/common';
import { requireWorkflowDefinition } from '../definitions/workflow';
import type { WorkflowDefinition } from '../definitions/workflow';
import type { Logger } from '../logger';
import { WorkflowRuntime, WorkflowTaskFailure } from '../workflow/runtime';

/** A recorded history: its events, as `durabull workflow show --output json` writes them. */
export interface WorkflowHistory {
  workflowId?: string;
  runId?: string;
  events: HistoryEvent[];
}

/** Options of a {@link Replayer}. */
export interface ReplayerOptions {
  /** The workflow classes histories are replayed against (the code you are about to deploy). */
  workflows: Array<new () => object>;
}

/** The outcome of replaying one history with {@link Replayer.replayWorkflows}. */
export interface ReplayResult {
  workflowId?: string;
  runId?: string;
  /** Why the replay failed (a NondeterminismError, or the error the code threw); undefined when it passed. */
  error?: Error;
}

const SILENT: Logger = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };

/**
 * Runs recorded histories against current workflow code, without Redis or workers: every
 * recorded workflow task is replayed and each command the code produces must match the event
 * history holds for it. Check recorded histories into your repository and replay them in tests,
 * so a change that breaks determinism fails before it reaches running workflows.
 *
 * ```ts
 * const replayer = new Replayer({ workflows: [YourWorkflow] });
 * await replayer.replayWorkflow(JSON.parse(readFileSync('histories/greet.json', 'utf8')));
 * ```
 */
export class Replayer {
  private readonly workflows = new Map<string, WorkflowDefinition>();

  constructor(options: ReplayerOptions) {
    for (const cls of options.workflows) {
      const definition = requireWorkflowDefinition(cls);
      this.workflows.set(definition.name, definition);
    }
  }

  /**
   * Replays one history.
   * @throws NondeterminismError naming the event and the command that disagree; the error the
   *   workflow code threw when it failed its task; TypeError for a malformed history.
   */
  async replayWorkflow(history: WorkflowHistory | HistoryEvent[] | string): Promise<void> {
    const { events, runId } = parseHistory(history);
    const first = events[0]!;
    const { workflowType } = first.attributes as { workflowType: string };
    const definition = this.workflows.get(workflowType);
    if (!definition) {
      throw new TypeError(
        `History is of workflow type ${JSON.stringify(workflowType)}, which the replayer was not given (it has: ${[...this.workflows.keys()].join(', ') || 'none'})`,
      );
    }
    const runtime = new WorkflowRuntime(definition, first, runId ?? 'replay', {
      namespace: 'replay',
      payloads: DEFAULT_PAYLOAD_CONVERTER,
      failures: DEFAULT_FAILURE_CONVERTER,
      logger: SILENT,
    });
    // The code resumes at the last recorded task start; what it would do next is not checked.
    const lastTaskStart = [...events].reverse().find((e) => e.eventType === EventType.WorkflowTaskStarted);
    const now = Date.parse((lastTaskStart ?? events.at(-1)!).eventTime);
    try {
      await runtime.runTask(events, now, 0, 'replayer');
    } catch (error) {
      throw error instanceof WorkflowTaskFailure ? error.cause : error;
    }
  }

  /** Replays many histories, collecting each one's outcome instead of stopping at the first failure. */
  async replayWorkflows(histories: Iterable<WorkflowHistory | HistoryEvent[] | string>): Promise<ReplayResult[]> {
    const results: ReplayResult[] = [];
    for (const history of histories) {
      const parsed = parseHistory(history);
      try {
        await this.replayWorkflow(parsed);
        results.push({ workflowId: parsed.workflowId, runId: parsed.runId });
      } catch (error) {
        results.push({ workflowId: parsed.workflowId, runId: parsed.runId, error: error as Error });
      }
    }
    return results;
  }
}

function parseHistory(history: WorkflowHistory | HistoryEvent[] | string): WorkflowHistory {
  let value: unknown = history;
  if (typeof value === 'string') {
    try {
      value = JSON.parse(value);
    } catch (error) {
      throw new TypeError(`History is not valid JSON: ${(error as Error).message}`);
    }
  }
  const parsed: WorkflowHistory = Array.isArray(value) ? { events: value as HistoryEvent[] } : (value as WorkflowHistory);
  const events = parsed?.events;
  if (!Array.isArray(events) || events.length === 0) throw new TypeError('History has no events (expected { events: [...] })');
  events.forEach((event, i) => {
    if (event?.eventId !== i + 1 || typeof event.eventType !== 'string' || typeof event.eventTime !== 'string') {
      throw new TypeError(`History event at position ${i + 1} is malformed or out of order: ${JSON.stringify(event).slice(0, 200)}`);
    }
  });
  if (events[0]!.eventType !== EventType.WorkflowExecutionStarted) {
    throw new TypeError(`History must begin with WorkflowExecutionStarted, not ${events[0]!.eventType}`);
  }
  return parsed;
}
