import { DEFAULT_LATENCY_BUCKETS } from './metrics';
import type { Labels } from './metrics';
import type { MeterCounter, MeterGauge, MeterHistogram, MetricMeter } from './meter';

/** The parts of a prom-client metric the adapter uses. */
interface PromMetric {
  inc?(labels: Labels, value?: number): void;
  observe?(labels: Labels, value: number): void;
  set?(labels: Labels, value: number): void;
}

/**
 * A prom-client metric class. Its configuration's `registers` holds prom-client `Registry`
 * objects, a type this package does not import: `any` lets the module's own classes fit.
 */
type PromMetricClass = new (config: {
  name: string;
  help: string;
  labelNames: readonly string[];
  buckets?: number[];
  registers: any[];
}) => PromMetric;

/**
 * The parts of the `prom-client` module {@link PromClientMeter} uses (pass the module itself:
 * `import * as promClient from 'prom-client'`), so that the SDK does not depend on it.
 */
export interface PromClientModule {
  Counter: PromMetricClass;
  Histogram: PromMetricClass;
  Gauge: PromMetricClass;
  /** prom-client's global registry. */
  register: PromClientRegistry;
}

/** The parts of a prom-client `Registry` the adapter uses. */
export interface PromClientRegistry {
  getSingleMetric(name: string): unknown;
}

/**
 * Records a worker's metrics into prom-client (the worker option `metrics.meter`), so that they
 * are served with the application's own: `new PromClientMeter(promClient)` uses prom-client's
 * global registry, `new PromClientMeter(promClient, { registry })` another one. A metric a worker
 * asks for again (several workers in one process) is the one already registered.
 */
export class PromClientMeter implements MetricMeter {
  private readonly registry: PromClientRegistry;

  constructor(
    private readonly promClient: PromClientModule,
    options: { registry?: PromClientRegistry } = {},
  ) {
    for (const name of ['Counter', 'Histogram', 'Gauge'] as const) {
      if (typeof promClient?.[name] !== 'function') throw new TypeError(`PromClientMeter needs the prom-client module (no ${name} class in what was given)`);
    }
    this.registry = options.registry ?? promClient.register;
  }

  counter(name: string, help: string, labelNames: readonly string[]): MeterCounter {
    const metric = this.metric(this.promClient.Counter, { name, help, labelNames });
    return { inc: (labels, by = 1) => metric.inc!(labels, by) };
  }

  histogram(name: string, help: string, labelNames: readonly string[], buckets: readonly number[] = DEFAULT_LATENCY_BUCKETS): MeterHistogram {
    const metric = this.metric(this.promClient.Histogram, { name, help, labelNames, buckets: [...buckets] });
    return { observe: (labels, value) => metric.observe!(labels, value) };
  }

  gauge(name: string, help: string, labelNames: readonly string[]): MeterGauge {
    const metric = this.metric(this.promClient.Gauge, { name, help, labelNames });
    return { set: (labels, value) => metric.set!(labels, value) };
  }

  private metric(cls: PromMetricClass, config: { name: string; help: string; labelNames: readonly string[]; buckets?: number[] }): PromMetric {
    const existing = this.registry.getSingleMetric(config.name) as PromMetric | undefined;
    return existing ?? new cls({ ...config, registers: [this.registry] });
  }
}
