import { SpanKind, SpanStatusCode, context, propagation, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { OpenTelemetryInterceptors, TRACE_HEADER } from '@durabull/opentelemetry';
import { Activity, ApplicationError, EventType, WorkflowDefn, WorkflowFailureError, WorkflowRun, workflow } from '@durabull/sdk';
import type { Client, Worker } from '@durabull/sdk';
import { TestEnvironment } from '@durabull/testing';

class Traced {
  @Activity({ name: 'traced_activity' })
  async run(fail: boolean): Promise<string> {
    if (fail) throw ApplicationError.nonRetryable('the activity failed', 'Failed');
    // The activity's span is the active one while it runs.
    return trace.getActiveSpan()!.spanContext().traceId;
  }
}

@WorkflowDefn({ name: 'TracedWorkflow' })
class TracedWorkflow {
  @WorkflowRun()
  async run(fail: boolean): Promise<string> {
    return workflow.executeActivity(Traced.prototype.run, fail, { startToCloseTimeout: '5s' });
  }
}

/** Continues as new once, then runs the traced activity locally and in a child workflow. */
@WorkflowDefn({ name: 'TracedParent' })
class TracedParent {
  @WorkflowRun()
  async run(round: number): Promise<string[]> {
    if (round === 0) workflow.continueAsNew(1);
    const local = await workflow.executeLocalActivity(Traced.prototype.run, false, { startToCloseTimeout: '5s' });
    const child = await workflow.executeChildWorkflow(TracedWorkflow, false, { id: `${workflow.info().workflowId}-child` });
    return [local, child];
  }
}

const parentOf = (span: ReadableSpan) => span.parentSpanContext?.spanId;

describe('OpenTelemetry interceptors', () => {
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  const tracer = trace.getTracer('test');
  let env: TestEnvironment;
  let client: Client;
  let worker: Worker;

  beforeAll(() => {
    trace.setGlobalTracerProvider(provider);
    propagation.setGlobalPropagator(new W3CTraceContextPropagator());
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  });
  afterAll(async () => {
    await provider.shutdown();
    trace.disable();
    propagation.disable();
    context.disable();
  });

  beforeEach(async () => {
    exporter.reset();
    env = await TestEnvironment.create();
    const otel = new OpenTelemetryInterceptors();
    client = await env.newClient({ interceptors: [otel.client] });
    worker = env.newWorker({
      taskQueue: 'q',
      workflows: [TracedWorkflow, TracedParent],
      activities: [new Traced()],
      interceptors: { workflow: [otel.workflow], activity: [otel.activity] },
    });
  });
  afterEach(() => env.teardown());

  /** Starts a workflow inside a `test-root` span; returns the handle and that span. */
  async function startUnderRootSpan<H>(start: () => Promise<H>) {
    return tracer.startActiveSpan('test-root', async (root) => {
      try {
        return { handle: await start(), root: root.spanContext() };
      } finally {
        root.end();
      }
    });
  }
  const startTraced = (fail: boolean, id: string) => startUnderRootSpan(() => client.startWorkflow(TracedWorkflow, fail, { id, taskQueue: 'q' }));

  it('propagates the client span to the activity: same trace, the client span as ancestor', async () => {
    const { handle, root } = await startTraced(false, 'traced-1');
    const activityTraceId = await worker.runUntil(handle.result());

    const spans = exporter.getFinishedSpans();
    expect(spans.map((s) => s.name).sort()).toEqual(['RunActivity:traced_activity', 'StartWorkflow:TracedWorkflow', 'test-root']);
    const start = spans.find((s) => s.name === 'StartWorkflow:TracedWorkflow')!;
    const run = spans.find((s) => s.name === 'RunActivity:traced_activity')!;
    expect(activityTraceId).toBe(root.traceId);
    for (const span of [start, run]) expect(span.spanContext().traceId).toBe(root.traceId);
    // test-root -> StartWorkflow -> RunActivity
    expect(parentOf(start)).toBe(root.spanId);
    expect(parentOf(run)).toBe(start.spanContext().spanId);

    expect(start.kind).toBe(SpanKind.CLIENT);
    expect(start.status.code).toBe(SpanStatusCode.UNSET);
    expect(start.attributes).toEqual({
      'durabull.workflow_id': 'traced-1',
      'durabull.workflow_type': 'TracedWorkflow',
      'durabull.task_queue': 'q',
      'durabull.run_id': handle.runId,
    });
    expect(run.kind).toBe(SpanKind.SERVER);
    expect(run.status.code).toBe(SpanStatusCode.UNSET);
    expect(run.attributes).toEqual({
      'durabull.workflow_id': 'traced-1',
      'durabull.run_id': handle.runId,
      'durabull.workflow_type': 'TracedWorkflow',
      'durabull.task_queue': 'q',
      'durabull.activity_id': '1',
      'durabull.activity_type': 'traced_activity',
      'durabull.attempt': 1,
    });

    // The W3C trace context travels in history: the start's header, copied to the activity's.
    const traceparent = `00-${root.traceId}-${start.spanContext().spanId}-01`;
    const header = { fields: { [TRACE_HEADER]: { metadata: { encoding: 'json/plain' }, data: { traceparent } } } };
    const history = await handle.fetchHistory();
    expect(history.find((e) => e.eventType === EventType.WorkflowExecutionStarted)!.attributes).toMatchObject({ header });
    expect(history.find((e) => e.eventType === EventType.ActivityTaskScheduled)!.attributes).toMatchObject({ header });
  });

  it('propagates the client span through continue-as-new to a local activity and to a child workflow\'s activity', async () => {
    const { handle, root } = await startUnderRootSpan(() => client.startWorkflow(TracedParent, 0, { id: 'traced-parent', taskQueue: 'q' }));
    const activityTraceIds = await worker.runUntil(handle.result());

    const spans = exporter.getFinishedSpans();
    expect(spans.map((s) => s.name).sort()).toEqual([
      'RunActivity:traced_activity',
      'RunActivity:traced_activity',
      'StartWorkflow:TracedParent',
      'test-root',
    ]);
    const start = spans.find((s) => s.name === 'StartWorkflow:TracedParent')!;
    const runs = spans.filter((s) => s.name === 'RunActivity:traced_activity');
    expect(activityTraceIds).toEqual([root.traceId, root.traceId]);
    // The next run's local activity, then the child's activity: both under the client span.
    expect(runs.map((s) => [s.spanContext().traceId, parentOf(s), s.attributes['durabull.workflow_id']])).toEqual([
      [root.traceId, start.spanContext().spanId, 'traced-parent'],
      [root.traceId, start.spanContext().spanId, 'traced-parent-child'],
    ]);
  });

  it('marks a failed activity span with status ERROR and the exception', async () => {
    const { handle, root } = await startTraced(true, 'traced-2');
    await expect(worker.runUntil(handle.result())).rejects.toThrow(WorkflowFailureError);

    const run = exporter.getFinishedSpans().find((s) => s.name === 'RunActivity:traced_activity')!;
    expect(run.spanContext().traceId).toBe(root.traceId);
    expect(run.status).toEqual({ code: SpanStatusCode.ERROR, message: 'the activity failed' });
    expect(run.events.map((e) => [e.name, e.attributes?.['exception.type'], e.attributes?.['exception.message']])).toEqual([
      ['exception', 'ApplicationError', 'the activity failed'],
    ]);
  });

  it('starts a new trace for a workflow started outside any span', async () => {
    const handle = await client.startWorkflow(TracedWorkflow, false, { id: 'traced-3', taskQueue: 'q' });
    const activityTraceId = await worker.runUntil(handle.result());
    const spans = exporter.getFinishedSpans();
    const start = spans.find((s) => s.name === 'StartWorkflow:TracedWorkflow')!;
    expect(parentOf(start)).toBeUndefined();
    expect(activityTraceId).toBe(start.spanContext().traceId);
  });
});
