import { ROOT_CONTEXT, SpanKind, SpanStatusCode, context, propagation, trace } from '@opentelemetry/api';
import type { Context, Span, Tracer } from '@opentelemetry/api';
import { CompleteAsyncError } from '@durabull/sdk';
import type {
  ActivityExecuteInput,
  ActivityInterceptor,
  ClientInterceptor,
  Headers,
  Payload,
  WorkflowInterceptor,
  WorkflowStartInput,
} from '@durabull/sdk';

/**
 * The header field that carries the trace context (the propagator's fields, W3C `traceparent`
 * and `tracestate` by default, as a JSON payload). Temporal's SDKs use the same name.
 */
export const TRACE_HEADER = '_tracer-data';

/** Options of {@link OpenTelemetryInterceptors}. */
export interface OpenTelemetryInterceptorsOptions {
  /**
   * Tracer of the `StartWorkflow` and `RunActivity` spans.
   * @default the global tracer provider's tracer named `@durabull/opentelemetry`, looked up at each span
   */
  tracer?: Tracer;
}

/** Span attributes set by the interceptors. */
export const SpanAttributes = {
  workflowId: 'durabull.workflow_id',
  runId: 'durabull.run_id',
  workflowType: 'durabull.workflow_type',
  taskQueue: 'durabull.task_queue',
  activityId: 'durabull.activity_id',
  activityType: 'durabull.activity_type',
  attempt: 'durabull.attempt',
} as const;

/**
 * OpenTelemetry trace propagation from client to workflow to activity, with `@opentelemetry/api`
 * only (bring your own SDK, exporter, context manager and propagator; the global propagator is
 * used, W3C trace context with the usual SDK setup):
 *
 * - `client` (`Client.connect({ interceptors: [otel.client] })`) starts a `StartWorkflow:<type>`
 *   span, a child of the active context, and puts its context in the start's headers;
 * - `workflow` (worker option `interceptors.workflow`) carries that context from the workflow's
 *   start headers to each activity and local activity it schedules, each child it starts (whose
 *   start headers then hold it) and the next run of a continue-as-new; it creates no spans, since
 *   workflow code is replayed and must stay deterministic;
 * - `activity` (worker option `interceptors.activity`) runs each attempt inside a
 *   `RunActivity:<type>` span whose parent is the context in the activity's headers; a failed
 *   attempt's span records the exception and has status ERROR.
 */
export class OpenTelemetryInterceptors {
  readonly client: ClientInterceptor;
  readonly workflow: WorkflowInterceptor;
  readonly activity: ActivityInterceptor;

  constructor(options: OpenTelemetryInterceptorsOptions = {}) {
    const unknown = Object.keys(options ?? {}).filter((key) => key !== 'tracer');
    if (unknown.length > 0) throw new TypeError(`Unknown OpenTelemetry interceptor option(s): ${unknown.join(', ')}`);
    const tracer = (): Tracer => options.tracer ?? trace.getTracer('@durabull/opentelemetry');

    this.client = {
      async startWorkflow(input: WorkflowStartInput, next: (input: WorkflowStartInput) => Promise<string>): Promise<string> {
        const parent = context.active();
        const span = tracer().startSpan(
          `StartWorkflow:${input.workflowType}`,
          {
            kind: SpanKind.CLIENT,
            attributes: {
              [SpanAttributes.workflowId]: input.workflowId,
              [SpanAttributes.workflowType]: input.workflowType,
              [SpanAttributes.taskQueue]: input.taskQueue,
            },
          },
          parent,
        );
        const spanContext = trace.setSpan(parent, span);
        const headers = withTraceHeader(input.headers, spanContext);
        return traced(span, spanContext, async () => {
          const runId = await next({ ...input, headers });
          span.setAttribute(SpanAttributes.runId, runId);
          return runId;
        });
      },
    };

    this.workflow = {
      scheduleActivity: carryTraceHeader,
      scheduleLocalActivity: carryTraceHeader,
      startChildWorkflow: carryTraceHeader,
      continueAsNew: carryTraceHeader,
    };

    this.activity = {
      async execute(input: ActivityExecuteInput, next: (input: ActivityExecuteInput) => Promise<unknown>): Promise<unknown> {
        const { info } = input;
        const parent = propagation.extract(ROOT_CONTEXT, carrierOf(input.headers[TRACE_HEADER]));
        const span = tracer().startSpan(
          `RunActivity:${info.activityType}`,
          {
            kind: SpanKind.SERVER,
            attributes: {
              [SpanAttributes.workflowId]: info.workflowId,
              [SpanAttributes.runId]: info.workflowRunId,
              [SpanAttributes.workflowType]: info.workflowType,
              [SpanAttributes.taskQueue]: info.taskQueue,
              [SpanAttributes.activityId]: info.activityId,
              [SpanAttributes.activityType]: info.activityType,
              [SpanAttributes.attempt]: info.attempt,
            },
          },
          parent,
        );
        // raiseCompleteAsync() ends the function, not the activity: not an error of the span.
        return traced(span, trace.setSpan(parent, span), () => next(input), (error) => error instanceof CompleteAsyncError);
      },
    };
  }
}

/**
 * A workflow interceptor's hook: the command carries the workflow's trace context, unless its
 * headers hold one already.
 */
function carryTraceHeader<I extends { headers: Headers; workflowHeaders: Readonly<Headers> }, O>(input: I, next: (input: I) => O): O {
  const carried = input.workflowHeaders[TRACE_HEADER];
  if (!carried || input.headers[TRACE_HEADER]) return next(input);
  return next({ ...input, headers: { ...input.headers, [TRACE_HEADER]: carried } });
}

/** The headers with the trace context of `ctx` in {@link TRACE_HEADER} (unchanged when there is none). */
function withTraceHeader(headers: Headers, ctx: Context): Headers {
  const carrier: Record<string, string> = {};
  propagation.inject(ctx, carrier);
  if (Object.keys(carrier).length === 0) return headers;
  const payload: Payload = { metadata: { encoding: 'json/plain' }, data: carrier };
  return { ...headers, [TRACE_HEADER]: payload };
}

/** The propagator fields in a {@link TRACE_HEADER} payload (none when it is absent or malformed). */
function carrierOf(payload: Payload | undefined): Record<string, string> {
  if (payload?.metadata?.encoding !== 'json/plain' || typeof payload.data !== 'object' || payload.data === null) return {};
  const carrier: Record<string, string> = {};
  for (const [key, value] of Object.entries(payload.data as Record<string, unknown>)) {
    if (typeof value === 'string') carrier[key] = value;
  }
  return carrier;
}

/**
 * Runs `fn` with `ctx` active, ending `span` after it; a failure is recorded on the span, unless
 * `expected` says it is not one.
 */
async function traced<T>(span: Span, ctx: Context, fn: () => Promise<T>, expected?: (error: unknown) => boolean): Promise<T> {
  try {
    return await context.with(ctx, fn);
  } catch (error) {
    if (expected?.(error)) throw error;
    if (error instanceof Error) span.recordException(error);
    else span.recordException(String(error));
    span.setStatus({ code: SpanStatusCode.ERROR, message: error instanceof Error ? error.message : String(error) });
    throw error;
  } finally {
    span.end();
  }
}
