// Starts the Redis Cluster of the `cluster` project (unless DURABULL_TEST_REDIS_CLUSTER already
// names one) and hands its nodes to the tests.
//
// The nodes go into DURABULL_CLUSTER_PROJECT_NODES, which only this project's setup.ts turns into
// DURABULL_TEST_REDIS_CLUSTER: a root `jest` run executes every project's global setup in one
// process whose environment all projects' tests inherit, so exporting DURABULL_TEST_REDIS_CLUSTER
// here would move the single-Redis `integration` project onto the cluster too.
import { formatNodes, start } from '../../tools/scripts/redis-cluster.mjs';

export default async function globalSetup() {
  if (process.env.DURABULL_TEST_REDIS_CLUSTER) {
    process.env.DURABULL_CLUSTER_PROJECT_NODES = process.env.DURABULL_TEST_REDIS_CLUSTER;
    process.stderr.write(`\ncluster tests: using DURABULL_TEST_REDIS_CLUSTER=${process.env.DURABULL_TEST_REDIS_CLUSTER}\n`);
    return;
  }
  const cluster = await start();
  globalThis.__durabullRedisCluster = cluster;
  process.env.DURABULL_CLUSTER_PROJECT_NODES = formatNodes(cluster.nodes);
  process.stderr.write(`\ncluster tests: started a Redis Cluster on ${formatNodes(cluster.nodes)} (pids ${cluster.pids.join(', ')})\n`);
}
