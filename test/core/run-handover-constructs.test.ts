import { CfnResource, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { ConfigParityCheck, CrossRegionParameterReplicator, ParameterSelection, SecretSelection } from '../../src';
import { newStack } from '../secret-replicator/util';

/**
 * The hand-over wiring of the parameter replicator and the parity check (the secret replicator's is
 * in test/secret-replicator): a policy of its own that lets the handler invoke itself and keep its
 * run lease, and the run metrics.
 */

type WithRun = (CrossRegionParameterReplicator | ConfigParityCheck) & {
  metricItemsProcessed(props?: cloudwatch.MetricOptions): cloudwatch.Metric;
  metricRunPartial(props?: cloudwatch.MetricOptions): cloudwatch.Metric;
  metricOldestUnprocessedItemAge(props?: cloudwatch.MetricOptions): cloudwatch.Metric;
};

const constructs: Array<[string, (stack: Stack) => WithRun, string]> = [
  ['CrossRegionParameterReplicator', (stack) => new CrossRegionParameterReplicator(stack, 'Replicator', {
    parameters: ParameterSelection.fromPaths(['/app/prod']), replicaRegions: ['eu-west-1'],
  }), 'CrossRegionConfig'],
  ['ConfigParityCheck', (stack) => new ConfigParityCheck(stack, 'Parity', {
    regions: ['eu-west-1'], secrets: SecretSelection.fromNames('prod/db'), parameterPaths: ['/app/prod'],
  }), 'CrossRegionConfig/ConfigParity'],
];

describe.each(constructs)('%s hand-over', (_name, create, namespace) => {
  test('may invoke itself and keep its run lease, in a policy of its own that the function does not depend on', () => {
    const stack = newStack();
    const construct = create(stack);
    const template = Template.fromStack(stack);
    const handlerId = stack.getLogicalId(construct.handler.node.defaultChild as CfnResource);
    const roleId = stack.getLogicalId(construct.role.node.defaultChild as CfnResource);
    const lease = `:parameter/cdk-cross-region-config/runs/${construct.serviceName}`;
    const policies = template.findResources('AWS::IAM::Policy', { Properties: { PolicyName: Match.stringLikeRegexp('HandOverPolicy') } });
    expect(Object.keys(policies)).toHaveLength(1);
    const [policyId, policy] = Object.entries(policies)[0] as [string, any];
    expect(policy.Properties.Roles).toEqual([{ Ref: roleId }]);
    const statements = policy.Properties.PolicyDocument.Statement;
    expect(statements).toHaveLength(3);
    expect(statements).toContainEqual({ Action: 'lambda:InvokeFunction', Effect: 'Allow', Resource: { 'Fn::GetAtt': [handlerId, 'Arn'] } });
    const text = JSON.stringify(statements);
    expect(text).toContain('"Action":["ssm:GetParameter","ssm:PutParameter","ssm:DeleteParameters"]');
    expect(text).toContain(`${lease}/*`);
    expect(text).toContain(`"ssm:GetParametersByPath","Effect":"Allow","Resource":{"Fn::Join":["",["arn:",{"Ref":"AWS::Partition"},":ssm:us-east-1:",{"Ref":"AWS::AccountId"},"${lease}"]]}`);
    expect(template.toJSON().Resources[handlerId].DependsOn ?? []).not.toContain(policyId);
  });

  test.each<[string, (c: WithRun) => cloudwatch.Metric, string, string | undefined]>([
    ['ItemsProcessed', (c) => c.metricItemsProcessed(), 'Sum', 'Count'],
    ['RunPartial', (c) => c.metricRunPartial(), 'Maximum', 'Count'],
    ['OldestUnprocessedItemAge', (c) => c.metricOldestUnprocessedItemAge(), 'Maximum', 'Seconds'],
  ])('metric%s: namespace, the service dimension only, statistic and unit, over 5 minutes', (metricName, metric, statistic, unit) => {
    const stack = newStack();
    const construct = create(stack);
    const stat = stack.resolve(metric(construct).toMetricConfig().metricStat);
    const period = metric(construct).period;
    expect(stat).toMatchObject({
      namespace, metricName, statistic, dimensions: [{ name: 'service', value: construct.serviceName }], unitFilter: unit,
    });
    expect(period.toSeconds()).toBe(300);
  });
});
