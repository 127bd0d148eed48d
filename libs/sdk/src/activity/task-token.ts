// An activity attempt's task token (`activity.info().taskToken`): what an AsyncActivityHandle
// needs to reach that one attempt from anywhere, as Temporal's server-side `Task` token does.

/** What a task token names: one attempt of one activity of one run, in one namespace. */
export interface TaskTokenFields {
  namespace: string;
  workflowId: string;
  runId: string;
  /** The activity's ActivityTaskScheduled event id (its key in the run's state). */
  scheduledEventId: number;
  /** The attempt the token was issued to: a later attempt makes it stale. */
  attempt: number;
  activityId: string;
}

/** Token format version: a token is `base64url(JSON [version, namespace, workflowId, runId, scheduledEventId, attempt, activityId])`. */
const VERSION = 1;

/**
 * Encodes a task token: base64url of a JSON array `[1, namespace, workflowId, runId,
 * scheduledEventId, attempt, activityId]`. Not a secret: anyone who can reach the namespace's
 * Redis can act on its runs anyway; the token only names the attempt.
 */
export function encodeTaskToken(fields: TaskTokenFields): string {
  const { namespace, workflowId, runId, scheduledEventId, attempt, activityId } = fields;
  return Buffer.from(JSON.stringify([VERSION, namespace, workflowId, runId, scheduledEventId, attempt, activityId])).toString('base64url');
}

/**
 * Decodes a task token.
 * @throws TypeError naming the token when it is not one (`error deserializing task token`, as
 *   Temporal's server says).
 */
export function decodeTaskToken(token: string): TaskTokenFields {
  const invalid = () => new TypeError(`Invalid task token ${JSON.stringify(token)}: error deserializing task token`);
  if (typeof token !== 'string' || !/^[A-Za-z0-9_-]+$/.test(token)) throw invalid();
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
  } catch {
    throw invalid();
  }
  if (!Array.isArray(parsed) || parsed.length !== 7 || parsed[0] !== VERSION) throw invalid();
  const [, namespace, workflowId, runId, scheduledEventId, attempt, activityId] = parsed as unknown[];
  const isString = (value: unknown): value is string => typeof value === 'string' && value.length > 0;
  const isCount = (value: unknown): value is number => Number.isSafeInteger(value) && (value as number) > 0;
  if (!isString(namespace) || !isString(workflowId) || !isString(runId) || !isString(activityId) || !isCount(scheduledEventId) || !isCount(attempt)) {
    throw invalid();
  }
  return { namespace, workflowId, runId, scheduledEventId, attempt, activityId };
}
