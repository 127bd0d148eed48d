import { ROOT_CONTEXT, SpanStatusCode, context, propagation, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { OpenTelemetryInterceptors, TRACE_HEADER } from '@durabull/opentelemetry';
import { CompleteAsyncError } from '@durabull/sdk';
import type {
  ActivityExecuteInput,
  ActivityHandle,
  ActivityInfo,
  ActivityScheduleInput,
  ChildWorkflowHandle,
  ChildWorkflowStartInput,
  ContinueAsNewInput,
  Payload,
  WorkflowStartInput,
} from '@durabull/sdk';

const exporter = new InMemorySpanExporter();
const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
const tracer = provider.getTracer('test');
const otel = new OpenTelemetryInterceptors({ tracer });

const startInput = (): WorkflowStartInput => ({ workflowType: 'W', workflowId: 'w-1', taskQueue: 'q', args: [1], headers: { other: json('x') } });
const json = (data: unknown): Payload => ({ metadata: { encoding: 'json/plain' }, data });
const info = { activityId: '3', activityType: 'a', attempt: 2, taskQueue: 'q', workflowId: 'w-1', workflowRunId: 'r-1', workflowType: 'W' } as ActivityInfo;

beforeAll(() => {
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
});
afterAll(() => {
  propagation.disable();
  context.disable();
});
beforeEach(() => exporter.reset());

describe('OpenTelemetryInterceptors', () => {
  it('client: puts the StartWorkflow span context in the headers, keeping the others', async () => {
    let seen: WorkflowStartInput | undefined;
    const runId = await tracer.startActiveSpan('parent', async (parent) => {
      const id = await otel.client.startWorkflow!(startInput(), async (input) => {
        seen = input;
        return 'run-1';
      });
      parent.end();
      return id;
    });
    expect(runId).toBe('run-1');
    const [start, parent] = exporter.getFinishedSpans();
    expect(start!.name).toBe('StartWorkflow:W');
    expect(start!.parentSpanContext?.spanId).toBe(parent!.spanContext().spanId);
    expect(start!.attributes['durabull.run_id']).toBe('run-1');
    expect(seen!.headers).toEqual({
      other: json('x'),
      [TRACE_HEADER]: json({ traceparent: `00-${parent!.spanContext().traceId}-${start!.spanContext().spanId}-01` }),
    });
  });

  it('client: a failed start ends the span with status ERROR and rethrows', async () => {
    const error = new Error('Redis is down');
    await expect(otel.client.startWorkflow!(startInput(), () => Promise.reject(error))).rejects.toBe(error);
    const [start] = exporter.getFinishedSpans();
    expect(start!.status).toEqual({ code: SpanStatusCode.ERROR, message: 'Redis is down' });
    expect(start!.events.map((e) => e.name)).toEqual(['exception']);
  });

  it('workflow: carries the start header to activities without creating spans', () => {
    const handle = {} as ActivityHandle<unknown>;
    const inputs: ActivityScheduleInput[] = [];
    const next = (input: ActivityScheduleInput) => (inputs.push(input), handle);
    const carried = json({ traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' });
    const base = { activityType: 'a', args: [] };
    expect(otel.workflow.scheduleActivity!({ ...base, headers: {}, workflowHeaders: { [TRACE_HEADER]: carried } }, next)).toBe(handle);
    otel.workflow.scheduleActivity!({ ...base, headers: { [TRACE_HEADER]: json('own') }, workflowHeaders: { [TRACE_HEADER]: carried } }, next);
    otel.workflow.scheduleActivity!({ ...base, headers: {}, workflowHeaders: {} }, next);
    expect(inputs.map((i) => i.headers)).toEqual([{ [TRACE_HEADER]: carried }, { [TRACE_HEADER]: json('own') }, {}]);
    expect(exporter.getFinishedSpans()).toEqual([]);
  });

  it('workflow: carries the start header to local activities, children and the next run of a continue-as-new', async () => {
    const carried = json({ traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' });
    const workflowHeaders = { [TRACE_HEADER]: carried };
    const expected = { other: json('x'), [TRACE_HEADER]: carried };
    const seen: Array<Record<string, Payload>> = [];

    const local: ActivityScheduleInput = { activityType: 'a', args: [], headers: { other: json('x') }, workflowHeaders };
    const activityHandle = {} as ActivityHandle<unknown>;
    expect(otel.workflow.scheduleLocalActivity!(local, (input) => (seen.push(input.headers), activityHandle))).toBe(activityHandle);

    const child: ChildWorkflowStartInput = { workflowType: 'C', args: [], options: {}, headers: { other: json('x') }, workflowHeaders };
    const childHandle = {} as ChildWorkflowHandle<unknown>;
    await expect(otel.workflow.startChildWorkflow!(child, async (input) => (seen.push(input.headers), childHandle))).resolves.toBe(childHandle);

    const next: ContinueAsNewInput = { workflowType: 'W', args: [], options: {}, headers: { other: json('x') }, workflowHeaders };
    const continued = (input: ContinueAsNewInput): never => {
      seen.push(input.headers);
      throw new Error('continued as new');
    };
    expect(() => otel.workflow.continueAsNew!(next, continued)).toThrow('continued as new');

    expect(seen).toEqual([expected, expected, expected]);
    expect(exporter.getFinishedSpans()).toEqual([]);
  });

  it('activity: runs in a RunActivity span, child of the header context, active while it runs', async () => {
    const traceparent = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
    const input: ActivityExecuteInput = { info, args: [], headers: { [TRACE_HEADER]: json({ traceparent }) } };
    const active = await otel.activity.execute!(input, async () => trace.getSpan(context.active())?.spanContext().spanId);
    const [run] = exporter.getFinishedSpans();
    expect(run!.name).toBe('RunActivity:a');
    expect(run!.spanContext().traceId).toBe('0af7651916cd43dd8448eb211c80319c');
    expect(run!.parentSpanContext?.spanId).toBe('b7ad6b7169203331');
    expect(active).toBe(run!.spanContext().spanId);
    expect(run!.attributes['durabull.attempt']).toBe(2);
  });

  it('activity: raiseCompleteAsync() ends the span without an error (the activity completes later)', async () => {
    const completeAsync = new CompleteAsyncError();
    await expect(otel.activity.execute!({ info, args: [], headers: {} }, () => Promise.reject(completeAsync))).rejects.toBe(completeAsync);
    const [run] = exporter.getFinishedSpans();
    expect(run!.status).toEqual({ code: SpanStatusCode.UNSET });
    expect(run!.events).toEqual([]);
  });

  it('activity: without (or with a malformed) header, starts a new trace', async () => {
    await otel.activity.execute!({ info, args: [], headers: {} }, async () => 1);
    await otel.activity.execute!({ info, args: [], headers: { [TRACE_HEADER]: json('not a carrier') } }, async () => 1);
    for (const span of exporter.getFinishedSpans()) expect(span.parentSpanContext).toBeUndefined();
    expect(trace.getSpan(ROOT_CONTEXT)).toBeUndefined();
  });

  it('refuses unknown options', () => {
    expect(() => new OpenTelemetryInterceptors({ tracr: tracer } as never)).toThrow(new TypeError('Unknown OpenTelemetry interceptor option(s): tracr'));
  });
});
