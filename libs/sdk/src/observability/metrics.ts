// A small, dependency-free metrics registry: counters, gauges and histograms with labels, and
// their Prometheus text exposition (format 0.0.4). Workers record their task metrics into one
// (see WorkerOptions.metrics); applications may register their own metrics in the same registry.

/** Label values of one series, by label name. */
export type Labels = Readonly<Record<string, string>>;

/** What {@link Histogram.snapshot} returns: the merged state of the matching series. */
export interface HistogramSnapshot {
  /** How many values were observed. */
  count: number;
  /** Their sum. */
  sum: number;
  /** Cumulative counts: how many values were `<= le`, for each bucket bound (the last is `+Inf`). */
  buckets: Array<{ le: number; count: number }>;
}

/**
 * The default histogram buckets, in seconds: 1 ms to 60 s, for the latencies Durabull records.
 */
export const DEFAULT_LATENCY_BUCKETS: readonly number[] = Object.freeze([
  0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60,
]);

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/** What every metric has: a name, a help text and the names of its labels. */
abstract class Metric<S> {
  abstract readonly type: 'counter' | 'gauge' | 'histogram';
  /** Series by their label values (joined), in creation order. */
  protected readonly series = new Map<string, { labels: Labels; state: S }>();

  constructor(
    readonly name: string,
    readonly help: string,
    readonly labelNames: readonly string[],
  ) {}

  /** The state of the series `labels` name, created on first use. @throws TypeError for a wrong label set */
  protected state(labels: Labels, create: () => S): S {
    // A frozen label set seen before names the same series for good: no check, no key to build.
    const frozen = typeof labels === 'object' && labels !== null && Object.isFrozen(labels);
    if (frozen) {
      const known = this.seriesOfFrozen.get(labels);
      if (known) return known.state;
    }
    const key = this.key(labels);
    let entry = this.series.get(key);
    if (!entry) {
      entry = { labels: Object.freeze(Object.fromEntries(this.labelNames.map((name) => [name, labels[name]!]))), state: create() };
      this.series.set(key, entry);
    }
    if (frozen) this.seriesOfFrozen.set(labels, entry);
    return entry.state;
  }

  /** Series by a frozen label set already checked (WorkerMetrics hands out one per type). */
  private readonly seriesOfFrozen = new WeakMap<Labels, { labels: Labels; state: S }>();

  private key(labels: Labels): string {
    const given = Object.keys(labels ?? {});
    const unknown = given.filter((name) => !this.labelNames.includes(name));
    const missing = this.labelNames.filter((name) => !given.includes(name));
    if (unknown.length > 0 || missing.length > 0) {
      throw new TypeError(
        `Metric ${this.name} takes labels [${this.labelNames.join(', ')}], got [${given.join(', ')}]` +
          (unknown.length > 0 ? ` (unknown: ${unknown.join(', ')})` : '') +
          (missing.length > 0 ? ` (missing: ${missing.join(', ')})` : ''),
      );
    }
    for (const name of this.labelNames) {
      if (typeof labels[name] !== 'string') {
        throw new TypeError(`Metric ${this.name}: label ${name} must be a string, got ${JSON.stringify(labels[name])}`);
      }
    }
    return JSON.stringify(this.labelNames.map((name) => labels[name]));
  }

  /** The series whose labels include every label of `filter`. */
  protected matching(filter: Partial<Labels> = {}): S[] {
    const unknown = Object.keys(filter).filter((name) => !this.labelNames.includes(name));
    if (unknown.length > 0) {
      throw new TypeError(`Metric ${this.name} has no label(s) ${unknown.join(', ')} (its labels: ${this.labelNames.join(', ') || 'none'})`);
    }
    return [...this.series.values()]
      .filter(({ labels }) => Object.entries(filter).every(([name, value]) => labels[name] === value))
      .map(({ state }) => state);
  }

  /** Every series: its labels and state. */
  protected entries(): Array<{ labels: Labels; state: S }> {
    return [...this.series.values()];
  }

  /** This metric in Prometheus text format (HELP, TYPE and one line per series). */
  abstract toPrometheus(): string;

  protected header(): string {
    return `# HELP ${this.name} ${escapeHelp(this.help)}\n# TYPE ${this.name} ${this.type}\n`;
  }
}

function checkValue(metric: string, value: number): void {
  if (typeof value !== 'number' || Number.isNaN(value)) {
    throw new TypeError(`Metric ${metric}: value must be a number, got ${JSON.stringify(value)}`);
  }
}

/** A value that only goes up (tasks run, failures). */
export class Counter extends Metric<{ value: number }> {
  readonly type = 'counter';

  /** Adds `by` (>= 0) to the series `labels` names. @default by 1 */
  inc(labels: Labels = {}, by = 1): void {
    checkValue(this.name, by);
    if (by < 0) throw new TypeError(`Counter ${this.name} cannot decrease (inc by ${by})`);
    this.state(labels, () => ({ value: 0 })).value += by;
  }

  /** The sum of the series whose labels include `filter` (every series without a filter). */
  value(filter?: Partial<Labels>): number {
    return this.matching(filter).reduce((sum, s) => sum + s.value, 0);
  }

  toPrometheus(): string {
    return this.header() + this.entries().map(({ labels, state }) => `${this.name}${formatLabels(labels)} ${formatNumber(state.value)}\n`).join('');
  }
}

/** A value that goes up and down (cache size). */
export class Gauge extends Metric<{ value: number }> {
  readonly type = 'gauge';

  set(labels: Labels, value: number): void {
    checkValue(this.name, value);
    this.state(labels, () => ({ value: 0 })).value = value;
  }

  inc(labels: Labels = {}, by = 1): void {
    checkValue(this.name, by);
    this.state(labels, () => ({ value: 0 })).value += by;
  }

  dec(labels: Labels = {}, by = 1): void {
    this.inc(labels, -by);
  }

  /** The sum of the series whose labels include `filter` (every series without a filter). */
  value(filter?: Partial<Labels>): number {
    return this.matching(filter).reduce((sum, s) => sum + s.value, 0);
  }

  toPrometheus(): string {
    return this.header() + this.entries().map(({ labels, state }) => `${this.name}${formatLabels(labels)} ${formatNumber(state.value)}\n`).join('');
  }
}

interface HistogramState {
  count: number;
  sum: number;
  /** Non-cumulative counts per bucket (the last is +Inf). */
  counts: number[];
}

/** A distribution of observed values (latencies), in cumulative buckets. */
export class Histogram extends Metric<HistogramState> {
  readonly type = 'histogram';
  /** Upper bounds of the buckets, ascending, without `+Inf`. */
  readonly buckets: readonly number[];

  constructor(name: string, help: string, labelNames: readonly string[], buckets: readonly number[]) {
    super(name, help, labelNames);
    if (labelNames.includes('le')) throw new TypeError(`Histogram ${name} cannot have a label named le`);
    for (let i = 0; i < buckets.length; i++) {
      const bound = buckets[i]!;
      if (typeof bound !== 'number' || !Number.isFinite(bound) || (i > 0 && bound <= buckets[i - 1]!)) {
        throw new TypeError(`Histogram ${name}: buckets must be finite numbers in increasing order, got ${JSON.stringify(buckets)}`);
      }
    }
    this.buckets = Object.freeze([...buckets]);
  }

  observe(labels: Labels, value: number): void {
    checkValue(this.name, value);
    const state = this.state(labels, () => ({ count: 0, sum: 0, counts: new Array<number>(this.buckets.length + 1).fill(0) }));
    state.count++;
    state.sum += value;
    const index = this.buckets.findIndex((bound) => value <= bound);
    state.counts[index === -1 ? this.buckets.length : index]!++;
  }

  /** The merged state of the series whose labels include `filter` (every series without a filter). */
  snapshot(filter?: Partial<Labels>): HistogramSnapshot {
    const merged: HistogramState = { count: 0, sum: 0, counts: new Array<number>(this.buckets.length + 1).fill(0) };
    for (const state of this.matching(filter)) {
      merged.count += state.count;
      merged.sum += state.sum;
      state.counts.forEach((n, i) => (merged.counts[i]! += n));
    }
    return { count: merged.count, sum: merged.sum, buckets: this.cumulative(merged) };
  }

  private cumulative(state: HistogramState): Array<{ le: number; count: number }> {
    let running = 0;
    return [...this.buckets, Infinity].map((le, i) => ({ le, count: (running += state.counts[i]!) }));
  }

  toPrometheus(): string {
    let text = this.header();
    for (const { labels, state } of this.entries()) {
      for (const { le, count } of this.cumulative(state)) {
        text += `${this.name}_bucket${formatLabels({ ...labels, le: formatNumber(le) })} ${count}\n`;
      }
      text += `${this.name}_sum${formatLabels(labels)} ${formatNumber(state.sum)}\n`;
      text += `${this.name}_count${formatLabels(labels)} ${state.count}\n`;
    }
    return text;
  }
}

/** Any metric of a {@link MetricsRegistry}. */
export type AnyMetric = Counter | Gauge | Histogram;

/**
 * Holds metrics by name. `counter`, `gauge` and `histogram` return the metric of that name,
 * creating it on first use, so several workers can share a registry. {@link toPrometheus}
 * renders every metric in the Prometheus text exposition format (0.0.4).
 */
export class MetricsRegistry {
  private readonly metrics = new Map<string, AnyMetric>();

  /**
   * The counter `name`, created on first use.
   * @throws TypeError for an invalid name, or when `name` exists as another type or with other labels.
   */
  counter(name: string, help: string, labelNames: readonly string[] = []): Counter {
    return this.register(name, 'counter', labelNames, () => new Counter(name, help, [...labelNames]));
  }

  /** The gauge `name`, created on first use. @throws TypeError as {@link counter} does */
  gauge(name: string, help: string, labelNames: readonly string[] = []): Gauge {
    return this.register(name, 'gauge', labelNames, () => new Gauge(name, help, [...labelNames]));
  }

  /**
   * The histogram `name`, created on first use, with bucket upper bounds `buckets` (ascending;
   * `+Inf` is implied). @default buckets {@link DEFAULT_LATENCY_BUCKETS} (seconds)
   * @throws TypeError as {@link counter} does, or for buckets that are not ascending finite numbers.
   */
  histogram(name: string, help: string, labelNames: readonly string[] = [], buckets: readonly number[] = DEFAULT_LATENCY_BUCKETS): Histogram {
    return this.register(name, 'histogram', labelNames, () => new Histogram(name, help, [...labelNames], buckets));
  }

  /** The metric named `name`, if one is registered. */
  get(name: string): AnyMetric | undefined {
    return this.metrics.get(name);
  }

  /** Every registered metric, in registration order. */
  list(): AnyMetric[] {
    return [...this.metrics.values()];
  }

  /** Every metric in the Prometheus text exposition format, version 0.0.4. */
  toPrometheus(): string {
    return this.list()
      .map((metric) => metric.toPrometheus())
      .join('');
  }

  private register<M extends AnyMetric>(name: string, type: M['type'], labelNames: readonly string[], create: () => M): M {
    if (typeof name !== 'string' || !METRIC_NAME.test(name)) {
      throw new TypeError(`Invalid metric name: ${JSON.stringify(name)} (letters, digits, '_' and ':', not starting with a digit)`);
    }
    for (const label of labelNames) {
      if (typeof label !== 'string' || !LABEL_NAME.test(label) || label.startsWith('__')) {
        throw new TypeError(`Invalid label name of metric ${name}: ${JSON.stringify(label)} (letters, digits and '_', not starting with a digit or '__')`);
      }
    }
    if (new Set(labelNames).size !== labelNames.length) throw new TypeError(`Metric ${name} has a label listed twice: ${labelNames.join(', ')}`);
    const existing = this.metrics.get(name);
    if (existing) {
      if (existing.type !== type) throw new TypeError(`Metric ${name} is already registered as a ${existing.type}, not a ${type}`);
      if (existing.labelNames.join(',') !== labelNames.join(',')) {
        throw new TypeError(`Metric ${name} is already registered with labels [${existing.labelNames.join(', ')}], not [${labelNames.join(', ')}]`);
      }
      return existing as M;
    }
    const metric = create();
    this.metrics.set(name, metric);
    return metric;
  }
}

/** The Content-Type of {@link MetricsRegistry.toPrometheus}'s text. */
export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

function formatLabels(labels: Labels): string {
  const entries = Object.entries(labels);
  if (entries.length === 0) return '';
  return `{${entries.map(([name, value]) => `${name}="${escapeLabelValue(value)}"`).join(',')}}`;
}

function formatNumber(value: number): string {
  if (value === Infinity) return '+Inf';
  if (value === -Infinity) return '-Inf';
  if (Number.isNaN(value)) return 'NaN';
  return String(value);
}

function escapeLabelValue(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

function escapeHelp(help: string): string {
  return help.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}
