import { IsString, Length } from 'class-validator';
import { Activity, WorkflowDefn, WorkflowRun, workflow } from '@durabull/sdk';

/** The activity's input: validated (class-validator) when the activity receives it. */
export class YourParams {
  @IsString()
  greeting!: string;

  @IsString()
  @Length(1, 100)
  name!: string;

  constructor(greeting: string, name: string) {
    this.greeting = greeting;
    this.name = name;
  }
}

export class YourActivities {
  @Activity({ name: 'your_activity' })
  async yourActivity(input: YourParams): Promise<string> {
    return `${input.greeting}, ${input.name}!`;
  }
}

@WorkflowDefn({ name: 'YourWorkflow' })
export class YourWorkflow {
  @WorkflowRun()
  async run(name: string): Promise<string> {
    return await workflow.executeActivity(YourActivities.prototype.yourActivity, new YourParams('Hello', name), {
      startToCloseTimeout: '10s',
    });
  }
}
