/** The seed example's workflow, activities and parameters, for the demo (main.ts) and tests. */
export { YourActivities, YourParams, YourWorkflow } from './greeting';
