// What the web UI reads and does, through the SDK's public Client API. One client per namespace,
// on one shared Redis connection, opened only for a namespace that exists: the UI never creates a
// namespace (nor fixes its settings) by looking at it.
import { Client, EventType, NamespaceNotFoundError, WORKFLOW_CLOSE_EVENT_TYPES, WorkflowExecutionStatus, WorkflowNotFoundError } from '@durabull/sdk';
import type { Failure, HistoryEvent, Payload, WorkflowExecutionDescription, WorkflowListFilter } from '@durabull/sdk';
import type { Cluster, Redis } from 'ioredis';
import { EncodedMarkerCodec, RemoteCodec } from './codec';
import { actOnSchedule, listScheduleViews, scheduleView } from './schedules';
import type { ScheduleAction } from './schedules';

/** The key prefix of Durabull's keys (the SDK's default `prefix`). */
const PREFIX = 'durabull';

/** A 4xx/5xx answer of the API: its status and message. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** A pending activity as the UI shows it. */
export interface PendingActivityView {
  activityId: string;
  activityType: string;
  state: string;
  attempt: number;
  maximumAttempts: number;
  scheduledTime: string;
  lastStartedTime?: string;
  lastFailure?: Failure;
  lastHeartbeatTime?: string;
  heartbeatDetails?: unknown[];
  nextAttemptScheduleTime?: string;
}

/** Everything the run page shows. */
export interface RunView {
  namespace: string;
  workflowId: string;
  runId: string;
  workflowType: string;
  status: string;
  taskQueue: string;
  startTime: string;
  closeTime?: string;
  historyLength: number;
  /** The start's memo, values decoded; null when describe() could not be read. */
  memo: Record<string, unknown> | null;
  /** The start's arguments, as payloads (decoded by the codec endpoint when there is one). */
  input: Payload[];
  /** The close event, when the run has closed (its result, failure, reason or details). */
  closeEvent?: HistoryEvent;
  /** Null when describe() could not be read (see describeError). */
  pendingActivities: PendingActivityView[] | null;
  pendingChildren: unknown[];
  pendingWorkflowTask?: { state: string; attempt: number; scheduledTime: string; startedTime?: string; lastFailureCause?: string; lastFailure?: Failure };
  /** Why describe() failed (payloads it could not decode, say): the page shows the history without it. */
  describeError?: string;
  /** Why the codec endpoint could not decode the history: it is then shown as stored. */
  codecError?: string;
  /** Links to other runs the history names (continue-as-new, parent), when it names any. */
  links: { continuedFromRunId?: string; continuedAsNewRunId?: string; parent?: { workflowId: string; runId: string; namespace?: string } };
  events: HistoryEvent[];
}

function iso(date: Date | undefined): string | undefined {
  return date === undefined ? undefined : date.toISOString();
}

function listingView(run: WorkflowExecutionDescription) {
  return {
    workflowId: run.workflowId,
    runId: run.runId,
    workflowType: run.workflowType,
    status: run.status,
    taskQueue: run.taskQueue,
    startTime: run.startTime.toISOString(),
    closeTime: iso(run.closeTime),
    historyLength: run.historyLength,
  };
}

const CLOSE_STATUS: Record<string, WorkflowExecutionStatus> = {
  [EventType.WorkflowExecutionCompleted]: WorkflowExecutionStatus.COMPLETED,
  [EventType.WorkflowExecutionFailed]: WorkflowExecutionStatus.FAILED,
  [EventType.WorkflowExecutionCanceled]: WorkflowExecutionStatus.CANCELED,
  [EventType.WorkflowExecutionTerminated]: WorkflowExecutionStatus.TERMINATED,
  [EventType.WorkflowExecutionTimedOut]: WorkflowExecutionStatus.TIMED_OUT,
  [EventType.WorkflowExecutionContinuedAsNew]: WorkflowExecutionStatus.CONTINUED_AS_NEW,
};

/** A string attribute of an event, or undefined. */
function text(attributes: Record<string, unknown> | undefined, name: string): string | undefined {
  const value = attributes?.[name];
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/** The query string's list filter. @throws ApiError 400 naming the bad value */
export function parseListFilter(query: URLSearchParams): WorkflowListFilter {
  const filter: WorkflowListFilter = {};
  const status = query.get('status');
  if (status) {
    if (!Object.values(WorkflowExecutionStatus).includes(status as WorkflowExecutionStatus)) {
      throw new ApiError(400, `status must be one of ${Object.values(WorkflowExecutionStatus).join(', ')}, got ${JSON.stringify(status)}`);
    }
    filter.status = status as WorkflowExecutionStatus;
  }
  const type = query.get('type');
  if (type) filter.workflowType = type;
  const taskQueue = query.get('taskQueue');
  if (taskQueue) filter.taskQueue = taskQueue;
  for (const [name, key] of [['startedAfter', 'startedAfter'], ['startedBefore', 'startedBefore']] as const) {
    const value = query.get(name);
    if (!value) continue;
    const date = new Date(value);
    if (Number.isNaN(date.getTime())) throw new ApiError(400, `${name} must be a date and time (ISO 8601), got ${JSON.stringify(value)}`);
    filter[key] = date;
  }
  return filter;
}

/** Reads namespaces and runs for the UI, and acts on runs. */
export class UiData {
  private readonly clients = new Map<string, Promise<Client>>();

  constructor(
    private readonly redis: Redis | Cluster,
    private readonly codecEndpoint: string | undefined,
  ) {}

  /**
   * The namespaces that exist on the Redis (those a client has opened), sorted: the keys
   * `durabull:{<namespace>}:meta` that hold their settings, found with SCAN on every master.
   */
  async namespaces(): Promise<string[]> {
    const nodes: Redis[] = 'nodes' in this.redis && typeof (this.redis as Cluster).nodes === 'function' && (this.redis as Cluster).isCluster
      ? (this.redis as Cluster).nodes('master')
      : [this.redis as Redis];
    const found = new Set<string>();
    for (const node of nodes) {
      let cursor = '0';
      do {
        const [next, keys] = await node.scan(cursor, 'MATCH', `${PREFIX}:{*}:meta`, 'COUNT', 1000);
        cursor = next;
        for (const key of keys) {
          const name = /^[^:]+:\{(.+)\}:meta$/.exec(key)?.[1];
          if (name !== undefined) found.add(name);
        }
      } while (cursor !== '0');
    }
    return [...found].sort();
  }

  /**
   * The client of an existing namespace, or undefined when it does not exist: it connects with
   * `createNamespace: false`, which writes nothing. @throws ApiError 400 for a namespace name the
   * SDK refuses
   */
  private async client(namespace: string): Promise<Client | undefined> {
    let connecting = this.clients.get(namespace);
    if (!connecting) {
      const codec = this.codecEndpoint ? new RemoteCodec(this.codecEndpoint, namespace) : new EncodedMarkerCodec();
      connecting = Client.connect({ redis: this.redis, namespace, createNamespace: false, dataConverter: { payloadCodecs: [codec] } });
      this.clients.set(namespace, connecting);
      // A namespace that does not exist (yet) is asked again next time.
      connecting.catch(() => this.clients.delete(namespace));
    }
    try {
      return await connecting;
    } catch (error) {
      if (error instanceof NamespaceNotFoundError) return undefined;
      if (error instanceof TypeError) throw new ApiError(400, error.message);
      throw error;
    }
  }

  private async requireClient(namespace: string): Promise<Client> {
    const client = await this.client(namespace);
    if (!client) throw new ApiError(404, `namespace ${JSON.stringify(namespace)} does not exist (no client or worker has opened it)`);
    return client;
  }

  /** One page of runs, newest first, and how many match the filter. */
  async list(namespace: string, filter: WorkflowListFilter, pageSize: number, pageToken: string | undefined) {
    const client = await this.client(namespace);
    if (!client) return { namespaceExists: false, count: 0, executions: [], nextPageToken: undefined };
    try {
      const [page, count] = await Promise.all([client.listWorkflowsPage(filter, { pageSize, pageToken }), client.countWorkflows(filter)]);
      return { namespaceExists: true, count, executions: page.executions.map(listingView), nextPageToken: page.nextPageToken };
    } catch (error) {
      if (error instanceof TypeError) throw new ApiError(400, error.message);
      throw error;
    }
  }

  /** The namespace's schedules (ui/schedules.ts); none when the namespace does not exist. */
  async schedules(namespace: string) {
    const client = await this.client(namespace);
    return { namespaceExists: client !== undefined, schedules: client ? await listScheduleViews(client) : [] };
  }

  /** One schedule (ui/schedules.ts). @throws ApiError 404 when there is none */
  async schedule(namespace: string, scheduleId: string) {
    const view = await scheduleView(await this.requireClient(namespace), scheduleId);
    if (!view) throw new ApiError(404, `schedule ${JSON.stringify(scheduleId)} not found`);
    return view;
  }

  /** Pauses, unpauses, triggers or deletes a schedule (ui/schedules.ts). @throws ApiError 404 when there is none */
  async scheduleAction(namespace: string, scheduleId: string, action: ScheduleAction, note: string): Promise<void> {
    const found = await actOnSchedule(await this.requireClient(namespace), scheduleId, action, note);
    if (!found) throw new ApiError(404, `schedule ${JSON.stringify(scheduleId)} not found`);
  }

  /** The current (or latest) run id of a workflow id. */
  async currentRun(namespace: string, workflowId: string): Promise<{ workflowId: string; runId: string }> {
    const client = await this.requireClient(namespace);
    const description = await client.getWorkflowHandle(workflowId).describe().catch((error: unknown) => {
      throw notFound(error, namespace, workflowId);
    });
    return { workflowId, runId: description.runId };
  }

  /** Everything the run page shows. */
  async run(namespace: string, workflowId: string, runId: string): Promise<RunView> {
    const client = await this.requireClient(namespace);
    const handle = client.getWorkflowHandle(workflowId, runId);
    // describe() first, the history second: the history is then at least as new as the status,
    // and a run that closed in between shows its close event and status together.
    let details: Awaited<ReturnType<typeof handle.describe>> | undefined;
    let describeError: string | undefined;
    try {
      details = await handle.describe();
    } catch (error) {
      // A run that does not exist is a 404; anything else (payloads that need a codec the UI
      // lacks) leaves the page with what the history says.
      if (error instanceof WorkflowNotFoundError) throw notFound(error, namespace, workflowId, runId);
      describeError = (error as Error).message;
    }
    const stored = await handle.fetchHistory().catch((error: unknown) => {
      throw notFound(error, namespace, workflowId, runId);
    });
    // Without a codec endpoint the history is shown as stored: encoded payloads keep their metadata.
    let events = stored;
    let codecError: string | undefined;
    if (this.codecEndpoint) {
      try {
        events = await client.codecs.decodeEvents(stored);
      } catch (error) {
        codecError = (error as Error).message;
      }
    }
    const start = events[0];
    const last = events[events.length - 1];
    const closed = last !== undefined && WORKFLOW_CLOSE_EVENT_TYPES.has(last.eventType);
    const startAttributes = (start?.attributes ?? {}) as Record<string, unknown>;
    const closeAttributes = closed ? (last.attributes as Record<string, unknown>) : undefined;

    const view: RunView = {
      namespace,
      workflowId,
      runId,
      workflowType: details?.workflowType ?? text(startAttributes, 'workflowType') ?? '',
      status: closed ? CLOSE_STATUS[last.eventType] ?? 'UNKNOWN' : details?.status ?? WorkflowExecutionStatus.RUNNING,
      taskQueue: details?.taskQueue ?? text(startAttributes, 'taskQueue') ?? '',
      startTime: details?.startTime.toISOString() ?? start?.eventTime ?? '',
      closeTime: closed ? last.eventTime : iso(details?.closeTime),
      historyLength: events.length,
      memo: details ? details.memo ?? {} : null,
      input: Array.isArray(startAttributes['input']) ? (startAttributes['input'] as Payload[]) : [],
      closeEvent: closed ? last : undefined,
      pendingActivities: null,
      pendingChildren: [],
      describeError,
      codecError,
      links: {},
      events,
    };
    const parent = startAttributes['parentWorkflowExecution'] as { workflowId?: string; runId?: string } | undefined;
    if (parent?.workflowId && parent.runId) {
      view.links.parent = { workflowId: parent.workflowId, runId: parent.runId, namespace: text(startAttributes, 'parentWorkflowNamespace') };
    }
    const from = text(startAttributes, 'continuedExecutionRunId');
    if (from) view.links.continuedFromRunId = from;
    const to = text(closeAttributes, 'newExecutionRunId');
    if (to) view.links.continuedAsNewRunId = to;
    if (!details) return view;

    // A run that closed since describe() has nothing pending any more.
    view.pendingActivities = closed
      ? []
      : (details.pendingActivities ?? []).map((activity) => ({
          activityId: activity.activityId,
          activityType: activity.activityType,
          state: activity.state,
          attempt: activity.attempt,
          maximumAttempts: activity.maximumAttempts,
          scheduledTime: activity.scheduledTime.toISOString(),
          lastStartedTime: iso(activity.lastStartedTime),
          lastFailure: activity.lastFailure ? client.failures.errorToFailure(activity.lastFailure) : undefined,
          lastHeartbeatTime: iso(activity.lastHeartbeatTime),
          heartbeatDetails: activity.heartbeatDetails,
          nextAttemptScheduleTime: iso(activity.nextAttemptScheduleTime),
        }));
    view.pendingChildren = closed ? [] : details.pendingChildren ?? [];
    const task = details.pendingWorkflowTask;
    if (task && !closed) {
      view.pendingWorkflowTask = {
        state: task.state,
        attempt: task.attempt,
        scheduledTime: task.scheduledTime.toISOString(),
        startedTime: iso(task.startedTime),
        lastFailureCause: task.lastFailureCause,
        lastFailure: task.lastFailure ? client.failures.errorToFailure(task.lastFailure) : undefined,
      };
    }
    return view;
  }

  /** Requests cancellation of a run. */
  cancel(namespace: string, workflowId: string, runId: string, reason: string): Promise<void> {
    return this.act(namespace, workflowId, runId, (handle) => handle.cancel(reason));
  }

  /** Terminates a run. */
  terminate(namespace: string, workflowId: string, runId: string, reason: string): Promise<void> {
    return this.act(namespace, workflowId, runId, (handle) => handle.terminate(reason));
  }

  /** Signals a run. */
  signal(namespace: string, workflowId: string, runId: string, name: string, args: unknown[]): Promise<void> {
    return this.act(namespace, workflowId, runId, (handle) => handle.signal(name, ...args));
  }

  /** Deletes a run (a running one is terminated first). */
  delete(namespace: string, workflowId: string, runId: string): Promise<void> {
    return this.act(namespace, workflowId, runId, (handle) => handle.delete());
  }

  private async act(
    namespace: string,
    workflowId: string,
    runId: string,
    action: (handle: ReturnType<Client['getWorkflowHandle']>) => Promise<void>,
  ): Promise<void> {
    const client = await this.requireClient(namespace);
    try {
      await action(client.getWorkflowHandle(workflowId, runId));
    } catch (error) {
      if (error instanceof WorkflowNotFoundError) {
        if (error.message.startsWith('Workflow execution already completed')) {
          throw new ApiError(409, `workflow ${JSON.stringify(workflowId)} (run ${runId}) is not running: it has already closed`);
        }
        throw notFound(error, namespace, workflowId, runId);
      }
      if (error instanceof TypeError) throw new ApiError(400, error.message);
      throw error;
    }
  }

  /** Closes every client (not the shared connection). */
  async close(): Promise<void> {
    const clients = [...this.clients.values()];
    this.clients.clear();
    await Promise.all(clients.map(async (connecting) => (await connecting.catch(() => undefined))?.close().catch(() => undefined)));
  }
}

function notFound(error: unknown, namespace: string, workflowId: string, runId?: string): unknown {
  if (!(error instanceof WorkflowNotFoundError)) return error;
  const run = runId === undefined ? '' : ` run ${JSON.stringify(runId)}`;
  return new ApiError(404, `workflow ${JSON.stringify(workflowId)}${run} not found in namespace ${JSON.stringify(namespace)}`);
}
