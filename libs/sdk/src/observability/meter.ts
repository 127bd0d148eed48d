// The seam between a worker and the metrics stack of the application: the worker records its task
// metrics through a MetricMeter. The built-in MetricsRegistry is one (the zero-dependency default);
// PromClientMeter (prom-client) and @durabull/opentelemetry's OpenTelemetryMeter (the OpenTelemetry
// metrics API) record into the application's own registry or MeterProvider.

import type { Labels } from './metrics';

/** A monotonically increasing count. */
export interface MeterCounter {
  inc(labels: Labels, by?: number): void;
}

/** A distribution of observed values (latencies, in seconds). */
export interface MeterHistogram {
  observe(labels: Labels, value: number): void;
}

/** A value that goes up and down. */
export interface MeterGauge {
  set(labels: Labels, value: number): void;
}

/**
 * Creates the metrics a worker records (the worker option `metrics.meter`). Names follow the
 * Prometheus conventions (`durabull_..._seconds`, `..._total`); each metric is created once per
 * worker, and workers sharing a meter ask for the same names: a meter returns the existing metric
 * for a name it already has.
 */
export interface MetricMeter {
  counter(name: string, help: string, labelNames: readonly string[]): MeterCounter;
  histogram(name: string, help: string, labelNames: readonly string[], buckets?: readonly number[]): MeterHistogram;
  gauge(name: string, help: string, labelNames: readonly string[]): MeterGauge;
}

/** Whether `value` has the methods of a {@link MetricMeter}. */
export function isMetricMeter(value: unknown): value is MetricMeter {
  const meter = value as Partial<Record<keyof MetricMeter, unknown>> | null;
  return typeof meter === 'object' && meter !== null && ['counter', 'histogram', 'gauge'].every((m) => typeof meter[m as keyof MetricMeter] === 'function');
}
