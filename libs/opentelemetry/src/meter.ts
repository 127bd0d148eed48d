import { metrics } from '@opentelemetry/api';
import type { Attributes, Meter } from '@opentelemetry/api';
import { DEFAULT_LATENCY_BUCKETS } from '@durabull/sdk';
import type { Labels, MeterCounter, MeterGauge, MeterHistogram, MetricMeter } from '@durabull/sdk';

/**
 * Records a worker's metrics through the OpenTelemetry metrics API (the worker option
 * `metrics.meter`), so that they leave with the application's other metrics through its
 * MeterProvider and exporters: `new OpenTelemetryMeter()` uses the global MeterProvider's meter
 * `durabull`, `new OpenTelemetryMeter(meter)` the one given. Counters become OpenTelemetry
 * counters, histograms histograms (with Durabull's buckets as advice; values in seconds), gauges
 * gauges; labels become attributes. Histograms default to Durabull's latency buckets.
 */
export class OpenTelemetryMeter implements MetricMeter {
  private readonly instruments = new Map<string, unknown>();

  constructor(private readonly meter: Meter = metrics.getMeter('durabull')) {}

  counter(name: string, help: string, _labelNames: readonly string[]): MeterCounter {
    const counter = this.instrument(name, () => this.meter.createCounter(name, { description: help }));
    return { inc: (labels, by = 1) => counter.add(by, attributes(labels)) };
  }

  histogram(name: string, help: string, _labelNames: readonly string[], buckets: readonly number[] = DEFAULT_LATENCY_BUCKETS): MeterHistogram {
    const histogram = this.instrument(name, () =>
      this.meter.createHistogram(name, {
        description: help,
        unit: name.endsWith('_seconds') ? 's' : undefined,
        advice: { explicitBucketBoundaries: [...buckets] },
      }),
    );
    return { observe: (labels, value) => histogram.record(value, attributes(labels)) };
  }

  gauge(name: string, help: string, _labelNames: readonly string[]): MeterGauge {
    const gauge = this.instrument(name, () => this.meter.createGauge(name, { description: help }));
    return { set: (labels, value) => gauge.record(value, attributes(labels)) };
  }

  /** One instrument per name, whichever worker asks first (workers may share a meter). */
  private instrument<T>(name: string, create: () => T): T {
    let instrument = this.instruments.get(name) as T | undefined;
    if (!instrument) {
      instrument = create();
      this.instruments.set(name, instrument);
    }
    return instrument;
  }
}

function attributes(labels: Labels): Attributes {
  return { ...labels };
}
