/**
 * The Durabull side of every scenario: one activity class and the workflows that call it. The
 * activities do no work of their own, so what is measured is the engine's overhead.
 */
import { performance } from 'node:perf_hooks';
import { Activity, WorkflowDefn, WorkflowRun, WorkflowSignal, activity, workflow } from '@durabull/sdk';
import type { ActivityOptions } from '@durabull/sdk';

/** Generous: a run that hits it is a bug to report, not a measurement. */
const ACTIVITY_OPTIONS: ActivityOptions = { startToCloseTimeout: '60s' };

/**
 * When each activity of a workflow ran (`performance.now()`), by workflow id: the long-history
 * scenario reads the time per activity from it. Only in-process workers record.
 */
export class StepRecorder {
  private readonly steps = new Map<string, number[]>();

  record(key: string): void {
    let list = this.steps.get(key);
    if (!list) this.steps.set(key, (list = []));
    list.push(performance.now());
  }

  /** The times recorded under `key`, forgotten afterwards. */
  take(key: string): number[] {
    const list = this.steps.get(key) ?? [];
    this.steps.delete(key);
    return list;
  }
}

/** The benchmark's activities. One instance serves every invocation of a worker. */
export class BenchActivities {
  constructor(private readonly recorder?: StepRecorder) {}

  /** Returns its input: the cheapest activity there is. */
  @Activity({ name: 'bench_echo' })
  async echo(input: string): Promise<string> {
    return input;
  }

  /** One step of a long workflow; notes when it ran. */
  @Activity({ name: 'bench_step' })
  async step(index: number): Promise<number> {
    this.recorder?.record(activity.info().workflowId);
    return index;
  }
}

/** One workflow, one activity: the unit of the latency and throughput scenarios. */
@WorkflowDefn({ name: 'BenchOneActivity' })
export class OneActivityWorkflow {
  @WorkflowRun()
  async run(input: string): Promise<string> {
    return await workflow.executeActivity(BenchActivities.prototype.echo, input, ACTIVITY_OPTIONS);
  }
}

/** Starts `count` activities at once and waits for all of them; returns how many completed. */
@WorkflowDefn({ name: 'BenchFanOut' })
export class FanOutWorkflow {
  @WorkflowRun()
  async run(count: number): Promise<number> {
    const handles: Array<Promise<string>> = [];
    for (let i = 0; i < count; i++) handles.push(workflow.startActivity(BenchActivities.prototype.echo, `item-${i}`, ACTIVITY_OPTIONS));
    return (await Promise.all(handles)).length;
  }
}

/** Runs `count` activities one after the other: its history grows to about 6 events per activity. */
@WorkflowDefn({ name: 'BenchSequence' })
export class SequenceWorkflow {
  @WorkflowRun()
  async run(count: number): Promise<number> {
    let last = -1;
    for (let i = 0; i < count; i++) last = await workflow.executeActivity(BenchActivities.prototype.step, i, ACTIVITY_OPTIONS);
    return last + 1;
  }
}

/** Parks on a durable timer: the open-workflows scenario starts thousands and measures memory. */
@WorkflowDefn({ name: 'BenchSleeper' })
export class SleeperWorkflow {
  @WorkflowRun()
  async run(duration: string): Promise<void> {
    await workflow.sleep(duration);
  }
}

/** Every benchmark workflow, for the workers. */
/**
 * A workflow that runs for ever, cut to `total` iterations: each iteration is a durable timer,
 * and every `perRun` iterations the run continues as new (the chain's history never grows past
 * one run's). At the end of its second run and of its last run it waits for the `proceed` signal,
 * so that its memory can be measured at two comparable moments.
 */
@WorkflowDefn({ name: 'BenchForever' })
export class ForeverWorkflow {
  private proceeding = false;

  @WorkflowRun()
  async run(done: number, total: number, perRun: number): Promise<number> {
    const end = Math.min(total, done + perRun);
    for (let i = done; i < end; i++) await workflow.sleep(1);
    if (end === Math.min(total, 2 * perRun) || end === total) await workflow.waitCondition(() => this.proceeding);
    if (end < total) workflow.continueAsNew(end, total, perRun);
    return end;
  }

  @WorkflowSignal()
  proceed(): void {
    this.proceeding = true;
  }
}

export const BENCH_WORKFLOWS = [OneActivityWorkflow, FanOutWorkflow, SequenceWorkflow, SleeperWorkflow, ForeverWorkflow];
