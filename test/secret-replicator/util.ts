import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { CrossRegionSecretReplicator, CrossRegionSecretReplicatorProps, SecretSelection } from '../../src';

/** Primary region of the test stacks. */
export const PRIMARY = 'us-east-1';

/** The smallest valid props. */
export const MINIMAL_PROPS: CrossRegionSecretReplicatorProps = {
  secrets: SecretSelection.fromNames('app/db'),
  replicaRegions: ['eu-west-1'],
};

/** A stack in `PRIMARY` (account left to deploy time, like most consumer stacks). */
export function newStack(app: App = new App(), region: string = PRIMARY): Stack {
  return new Stack(app, 'TestStack', { env: { region } });
}

/** A stack with one replicator built from `overrides` on top of `MINIMAL_PROPS`. */
export function synth(overrides: Partial<CrossRegionSecretReplicatorProps> = {}): {
  stack: Stack;
  replicator: CrossRegionSecretReplicator;
  template: Template;
} {
  const stack = newStack();
  const replicator = new CrossRegionSecretReplicator(stack, 'Replicator', { ...MINIMAL_PROPS, ...overrides });
  return { stack, replicator, template: Template.fromStack(stack) };
}

/** `Fn::Join` CloudFormation renders for a secret ARN (pattern) in `region` of the stack's account. */
export function secretArn(region: string, resourceName: string): unknown {
  return {
    'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, `:secretsmanager:${region}:`, { Ref: 'AWS::AccountId' }, `:secret:${resourceName}`]],
  };
}

/** A policy statement as CloudFormation renders it. */
export interface Statement {
  readonly Action: string | string[];
  readonly Effect: string;
  readonly Resource: unknown;
  readonly Condition?: Record<string, Record<string, unknown>>;
}

/** Every statement of every IAM policy in the template. */
export function policyStatements(template: Template): Statement[] {
  return Object.values(template.findResources('AWS::IAM::Policy'))
    .flatMap((policy: any) => policy.Properties.PolicyDocument.Statement as Statement[]);
}

/** The statements that allow `action`. */
export function statementsAllowing(template: Template, action: string): Statement[] {
  return policyStatements(template).filter((s) => ([] as string[]).concat(s.Action).includes(action));
}

/** Every resource of the statements that allow `action`. */
export function resourcesAllowed(template: Template, action: string): unknown[] {
  return statementsAllowing(template, action).flatMap((s) => ([] as unknown[]).concat(s.Resource));
}

/** The handler's environment variables. */
export function handlerEnvironment(template: Template): Record<string, unknown> {
  const functions = Object.values(template.findResources('AWS::Lambda::Function'));
  expect(functions).toHaveLength(1);
  return (functions[0] as any).Properties.Environment.Variables;
}

/** The `detail` of the CloudTrail event rule's pattern. */
export function eventPatternDetail(template: Template): Record<string, any> {
  const rules = Object.values(template.findResources('AWS::Events::Rule', { Properties: { EventPattern: {} } }));
  expect(rules).toHaveLength(1);
  return (rules[0] as any).Properties.EventPattern.detail;
}
