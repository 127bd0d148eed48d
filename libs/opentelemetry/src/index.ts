/**
 * `@durabull/opentelemetry`: OpenTelemetry trace propagation from client to workflow to activity,
 * as interceptors, and a worker metrics meter (`metrics: { meter: new OpenTelemetryMeter() }`),
 * built on `@opentelemetry/api` (a peer dependency).
 *
 * ```ts
 * const otel = new OpenTelemetryInterceptors();
 * const client = await Client.connect({ interceptors: [otel.client] });
 * const worker = new Worker(client, {
 *   taskQueue: 'hello',
 *   workflows: [YourWorkflow],
 *   activities: [new YourActivities()],
 *   interceptors: { workflow: [otel.workflow], activity: [otel.activity] },
 * });
 * ```
 *
 * @packageDocumentation
 */
export { OpenTelemetryInterceptors, SpanAttributes, TRACE_HEADER } from './opentelemetry';
export type { OpenTelemetryInterceptorsOptions } from './opentelemetry';
export { OpenTelemetryMeter } from './meter';
