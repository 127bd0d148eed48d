// Runs before each test file of the `cluster` project: points @durabull/testing (and the worker
// processes the tests spawn, which inherit this environment) at the cluster of global-setup.mjs.
const nodes = process.env['DURABULL_CLUSTER_PROJECT_NODES'];
if (!nodes) {
  throw new Error('The cluster project runs through its global setup (jest --selectProjects cluster), which names the cluster\'s nodes');
}
process.env['DURABULL_TEST_REDIS_CLUSTER'] = nodes;
