import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { CrossRegionParameterReplicator, CrossRegionParameterReplicatorProps, ParameterSelection } from '../../src';

/** Primary region of the test stacks. */
export const PRIMARY = 'us-east-1';

/** The smallest valid props. */
export const MINIMAL_PROPS: CrossRegionParameterReplicatorProps = {
  parameters: ParameterSelection.fromPaths(['/app/prod']),
  replicaRegions: ['eu-west-1'],
};

/** A stack in `PRIMARY` (account left to deploy time, like most consumer stacks). */
export function newStack(app: App = new App(), region: string = PRIMARY, account?: string): Stack {
  return new Stack(app, 'TestStack', { env: { region, account } });
}

/** A stack with one parameter replicator built from `overrides` on top of `MINIMAL_PROPS`. */
export function synth(overrides: Partial<CrossRegionParameterReplicatorProps> = {}, stack: Stack = newStack()): {
  stack: Stack;
  replicator: CrossRegionParameterReplicator;
  template: Template;
} {
  const replicator = new CrossRegionParameterReplicator(stack, 'Replicator', { ...MINIMAL_PROPS, ...overrides });
  return { stack, replicator, template: Template.fromStack(stack) };
}

/** The handler's environment variables. */
export function environmentOf(template: Template): Record<string, any> {
  const [fn] = Object.values(template.findResources('AWS::Lambda::Function'));
  return fn.Properties.Environment.Variables;
}

/** Every statement of the handler role's policies. */
export function statementsOf(template: Template): Array<Record<string, any>> {
  return Object.values(template.findResources('AWS::IAM::Policy')).flatMap((p: any) => p.Properties.PolicyDocument.Statement);
}

/** A parameter ARN (pattern) in `region` of the stack's account, as CloudFormation renders it. */
export function parameterArn(region: string, resourceName: string): unknown {
  return { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, `:ssm:${region}:`, { Ref: 'AWS::AccountId' }, `:parameter/${resourceName}`]] };
}
