import { Counter, Gauge, Histogram, MetricsRegistry } from '@durabull/sdk';

describe('MetricsRegistry', () => {
  it('counts by labels and sums over a partial label filter', () => {
    const registry = new MetricsRegistry();
    const tasks = registry.counter('tasks_total', 'Tasks run.', ['queue', 'kind']);
    tasks.inc({ queue: 'a', kind: 'x' });
    tasks.inc({ queue: 'a', kind: 'y' }, 2);
    tasks.inc({ queue: 'b', kind: 'x' }, 4);
    expect(tasks.value({ queue: 'a', kind: 'x' })).toBe(1);
    expect(tasks.value({ queue: 'a' })).toBe(3);
    expect(tasks.value({ kind: 'x' })).toBe(5);
    expect(tasks.value()).toBe(7);
    expect(tasks.value({ queue: 'c' })).toBe(0);
    expect(registry.get('tasks_total')).toBe(tasks);
    expect(registry.counter('tasks_total', 'Tasks run.', ['queue', 'kind'])).toBe(tasks);
  });

  it('renders the Prometheus text format 0.0.4', () => {
    const registry = new MetricsRegistry();
    const counter = registry.counter('jobs_total', 'Jobs done.\nSecond "line" \\ here.', ['queue']);
    counter.inc({ queue: 'a"b\\c\nd' }, 3);
    counter.inc({ queue: 'plain' });
    registry.gauge('cache_size', 'Cached runs.').set({}, 4);
    const latency = registry.histogram('latency_seconds', 'Latency.', ['queue'], [0.1, 1]);
    latency.observe({ queue: 'a' }, 0.05);
    latency.observe({ queue: 'a' }, 0.5);
    latency.observe({ queue: 'a' }, 0.5);
    latency.observe({ queue: 'a' }, 7);
    expect(registry.toPrometheus()).toBe(
      [
        '# HELP jobs_total Jobs done.\\nSecond "line" \\\\ here.',
        '# TYPE jobs_total counter',
        'jobs_total{queue="a\\"b\\\\c\\nd"} 3',
        'jobs_total{queue="plain"} 1',
        '# HELP cache_size Cached runs.',
        '# TYPE cache_size gauge',
        'cache_size 4',
        '# HELP latency_seconds Latency.',
        '# TYPE latency_seconds histogram',
        'latency_seconds_bucket{queue="a",le="0.1"} 1',
        'latency_seconds_bucket{queue="a",le="1"} 3',
        'latency_seconds_bucket{queue="a",le="+Inf"} 4',
        'latency_seconds_sum{queue="a"} 8.05',
        'latency_seconds_count{queue="a"} 4',
        '',
      ].join('\n'),
    );
  });

  it('snapshots histograms merged over matching series', () => {
    const registry = new MetricsRegistry();
    const h = registry.histogram('h_seconds', 'H.', ['q'], [1, 2]);
    h.observe({ q: 'a' }, 0.5);
    h.observe({ q: 'b' }, 1.5);
    h.observe({ q: 'b' }, 3);
    expect(h.snapshot({ q: 'b' })).toEqual({
      count: 2,
      sum: 4.5,
      buckets: [
        { le: 1, count: 0 },
        { le: 2, count: 1 },
        { le: Infinity, count: 2 },
      ],
    });
    expect(h.snapshot().count).toBe(3);
    expect(h).toBeInstanceOf(Histogram);
  });

  it('gauges go up, down and are set', () => {
    const g = new MetricsRegistry().gauge('g', 'G.', ['q']);
    g.set({ q: 'a' }, 5);
    g.inc({ q: 'a' });
    g.dec({ q: 'a' }, 3);
    expect(g.value({ q: 'a' })).toBe(3);
    expect(g).toBeInstanceOf(Gauge);
  });

  it('refuses bad names, label sets, values and conflicting registrations, naming them', () => {
    const registry = new MetricsRegistry();
    expect(() => registry.counter('bad-name', 'x')).toThrow(
      new TypeError(`Invalid metric name: "bad-name" (letters, digits, '_' and ':', not starting with a digit)`),
    );
    expect(() => registry.counter('c', 'x', ['__reserved'])).toThrow(
      new TypeError(`Invalid label name of metric c: "__reserved" (letters, digits and '_', not starting with a digit or '__')`),
    );
    const c: Counter = registry.counter('c_total', 'x', ['queue']);
    expect(() => c.inc({ queue: 'a', other: 'b' })).toThrow(
      new TypeError('Metric c_total takes labels [queue], got [queue, other] (unknown: other)'),
    );
    expect(() => c.inc({})).toThrow(new TypeError('Metric c_total takes labels [queue], got [] (missing: queue)'));
    expect(() => c.inc({ queue: 'a' }, -1)).toThrow(new TypeError('Counter c_total cannot decrease (inc by -1)'));
    expect(() => c.value({ nope: 'x' })).toThrow(new TypeError('Metric c_total has no label(s) nope (its labels: queue)'));
    expect(() => registry.gauge('c_total', 'x', ['queue'])).toThrow(new TypeError('Metric c_total is already registered as a counter, not a gauge'));
    expect(() => registry.counter('c_total', 'x', ['kind'])).toThrow(
      new TypeError('Metric c_total is already registered with labels [queue], not [kind]'),
    );
    expect(() => registry.histogram('h', 'x', [], [2, 1])).toThrow(
      new TypeError('Histogram h: buckets must be finite numbers in increasing order, got [2,1]'),
    );
  });
});
