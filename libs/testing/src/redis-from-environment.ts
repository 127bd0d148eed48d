import type { RedisConnectionOption } from '@durabull/sdk';

/**
 * Environment variable naming a Redis Cluster for the tests: its nodes as `host:port`, separated
 * by commas (`127.0.0.1:7000,127.0.0.1:7001,127.0.0.1:7002`). Set, it wins over `REDIS_URL`.
 */
export const REDIS_CLUSTER_ENV = 'DURABULL_TEST_REDIS_CLUSTER';

/** Parses `host:port[,host:port...]` (the form of {@link REDIS_CLUSTER_ENV}). */
export function parseClusterNodes(value: string): Array<{ host: string; port: number }> {
  const nodes = value
    .split(',')
    .map((node) => node.trim())
    .filter(Boolean)
    .map((node) => {
      const colon = node.lastIndexOf(':');
      const host = node.slice(0, colon);
      const port = Number(node.slice(colon + 1));
      if (colon <= 0 || !Number.isInteger(port) || port <= 0 || port > 65535) {
        throw new TypeError(`Invalid ${REDIS_CLUSTER_ENV} node ${JSON.stringify(node)} (expected host:port)`);
      }
      return { host, port };
    });
  if (nodes.length === 0) throw new TypeError(`${REDIS_CLUSTER_ENV} lists no node (expected host:port,host:port,...)`);
  return nodes;
}

/**
 * The `redis` option the tests use, from the environment: the cluster of
 * `DURABULL_TEST_REDIS_CLUSTER` when it is set, else `REDIS_URL` (undefined when neither is set,
 * which `Client.connect` takes as 127.0.0.1:6379). The one place that decides which Redis the
 * tests and their worker processes talk to.
 */
export function redisFromEnvironment(env: NodeJS.ProcessEnv = process.env): RedisConnectionOption | undefined {
  const cluster = env[REDIS_CLUSTER_ENV]?.trim();
  if (cluster) return { cluster: parseClusterNodes(cluster) };
  return env['REDIS_URL'] || undefined;
}

/** Which Redis {@link redisFromEnvironment} points at, for error messages. */
export function describeRedisFromEnvironment(env: NodeJS.ProcessEnv = process.env): string {
  const cluster = env[REDIS_CLUSTER_ENV]?.trim();
  if (cluster) return `the Redis Cluster of ${REDIS_CLUSTER_ENV} (${cluster})`;
  return env['REDIS_URL'] ? `REDIS_URL (${env['REDIS_URL']})` : 'Redis on 127.0.0.1:6379 (REDIS_URL is not set)';
}
