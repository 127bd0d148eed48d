/** Scenario names, in the order a run executes them. */
export const SCENARIO_NAMES = ['latency', 'throughput', 'fanout', 'long-history', 'open-workflows', 'forever', 'replication', 'cluster'] as const;

/** One of {@link SCENARIO_NAMES}. */
export type ScenarioName = (typeof SCENARIO_NAMES)[number];

/** `full` is the benchmark; `tiny` runs every scenario in seconds so CI keeps it working. */
export type Size = 'tiny' | 'full';

/** How big each scenario is. `reps` are alternating Durabull/baseline repetitions after `warmup`. */
export interface SizeProfile {
  /** One-activity workflows awaited one at a time; `runs` in total, split over `reps`. */
  latency: { runs: number; reps: number; warmup: number };
  /**
   * `workflows` one-activity workflows started at once, for each worker-process count. Each
   * side's warm-up batches are as large, so the first repetition does not pay for the processes'
   * first growth to that many runs in flight (BENCHMARKS.md, "The warm-up").
   */
  throughput: { workflows: number; reps: number; warmup: number; processes: number[] };
  /** One workflow starting `activities` activities at once. */
  fanout: { activities: number; reps: number; warmup: number };
  /** One workflow running `activities` activities in sequence; `window` activities at each end. */
  longHistory: { activities: number; reps: number; window: number };
  /** `workflows` workflows parked on a `sleep` timer. Measured once: it is about memory. */
  openWorkflows: { workflows: number; sleep: string; warmup: number };
  /**
   * One workflow looping on a timer for `iterations` iterations, continuing as new every
   * `perRun`. Measured once: it is about memory staying flat.
   */
  forever: { iterations: number; perRun: number };
  /**
   * On a primary with one replica: `runs` one-activity workflows one at a time and `workflows`
   * at once, with durability off, with `{ replicas: 1 }`, and as raw chains.
   */
  replication: { runs: number; workflows: number; reps: number; warmup: number };
  /** On a 3-primary Redis Cluster: `workflows` one-activity workflows at once, `reps` times. */
  cluster: { workflows: number; reps: number; warmup: number };
}

/** The sizes of the issue: full for BENCHMARKS.md, tiny for the Jest spec. */
export const SIZES: Record<Size, SizeProfile> = {
  full: {
    latency: { runs: 1000, reps: 5, warmup: 50 },
    throughput: { workflows: 2000, reps: 21, warmup: 2000, processes: [1, 2] },
    fanout: { activities: 100, reps: 30, warmup: 3 },
    longHistory: { activities: 1000, reps: 5, window: 100 },
    openWorkflows: { workflows: 10_000, sleep: '60s', warmup: 20 },
    forever: { iterations: 10_000, perRun: 500 },
    replication: { runs: 600, workflows: 1000, reps: 3, warmup: 50 },
    cluster: { workflows: 1000, reps: 3, warmup: 200 },
  },
  tiny: {
    latency: { runs: 5, reps: 1, warmup: 1 },
    throughput: { workflows: 20, reps: 1, warmup: 20, processes: [1, 2] },
    fanout: { activities: 10, reps: 1, warmup: 1 },
    longHistory: { activities: 20, reps: 1, window: 5 },
    openWorkflows: { workflows: 50, sleep: '60s', warmup: 2 },
    forever: { iterations: 30, perRun: 10 },
    replication: { runs: 3, workflows: 10, reps: 1, warmup: 1 },
    cluster: { workflows: 60, reps: 1, warmup: 5 },
  },
};

/** The profile of `size` with `reps` (when given) replacing every scenario's repetitions. */
export function sizeProfile(size: Size, reps?: number): SizeProfile {
  const base = SIZES[size];
  if (reps === undefined) return base;
  return {
    latency: { ...base.latency, reps },
    throughput: { ...base.throughput, reps },
    fanout: { ...base.fanout, reps },
    longHistory: { ...base.longHistory, reps },
    openWorkflows: base.openWorkflows,
    forever: base.forever,
    replication: { ...base.replication, reps },
    cluster: { ...base.cluster, reps },
  };
}

/**
 * Worker concurrency of both sides: Durabull's defaults, given explicitly so the baseline's
 * BullMQ workers get the same.
 */
export const TUNING = {
  maxConcurrentActivityTaskExecutions: 100,
  maxConcurrentWorkflowTaskExecutions: 100,
  maxCachedWorkflows: 1000,
} as const;
