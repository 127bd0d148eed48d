import type { Cluster, Redis } from 'ioredis';
import type { Logger } from '../logger';

/**
 * Warns once, as BullMQ does, when Redis' `maxmemory-policy` is not `noeviction`: a full Redis
 * would then silently drop keys, runs, histories and queued tasks among them. Says nothing when
 * `CONFIG GET` is refused (managed Redis services often disable it). Never throws.
 */
export async function warnOnEvictionPolicy(redis: Redis | Cluster, logger: Logger): Promise<void> {
  const nodes = 'nodes' in redis ? redis.nodes('master') : [redis];
  const policies = await Promise.all(
    nodes.map(async (node) => {
      try {
        const [, policy] = (await node.config('GET', 'maxmemory-policy')) as string[];
        return policy;
      } catch {
        return undefined;
      }
    }),
  );
  const policy = policies.find((found) => found !== undefined && found !== 'noeviction');
  if (policy === undefined) return;
  logger.warn(
    `Redis maxmemory-policy is "${policy}"; it should be "noeviction": when Redis is full it may evict Durabull's runs, histories and queued tasks`,
    { maxmemoryPolicy: policy },
  );
}
