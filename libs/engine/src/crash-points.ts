/**
 * Fault injection for the crash-safety suite, off unless `DURABULL_CRASH_POINT` is set.
 * `DURABULL_CRASH_POINT=afterCommit:completeActivityTask` kills the process with SIGKILL right
 * after that script committed and before its tasks are dispatched; `...@3` does so on the third
 * time the point is reached. Several points may be given, separated by commas.
 */
const hits = new Map<string, number>();
/** Read once: the processes it is meant for get it in their environment at start. */
const setting = process.env['DURABULL_CRASH_POINT'];

export function crashPoint(name: string): void {
  if (!setting) return;
  for (const entry of setting.split(',')) {
    const [point, nth = '1'] = entry.trim().split('@');
    if (point !== name) continue;
    const count = (hits.get(name) ?? 0) + 1;
    hits.set(name, count);
    if (count === Number(nth)) process.kill(process.pid, 'SIGKILL');
  }
}
