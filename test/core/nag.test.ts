import { App, ArnFormat, Aws, Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { AwsSolutionsChecks } from 'cdk-nag';
import { acknowledgeNagFindings, flattenReference, managedPolicyFinding, wildcardResourceFinding } from '../../src/core/nag';

function roleWithWildcards() {
  const app = new App();
  const stack = new Stack(app, 'S', { env: { region: 'eu-west-1' } });
  const role = new iam.Role(stack, 'Role', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
  const prefixArn = stack.formatArn({ service: 'secretsmanager', resource: 'secret', resourceName: 'prod/*', arnFormat: ArnFormat.COLON_RESOURCE_NAME });
  role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['secretsmanager:ListSecrets'], resources: ['*'] }));
  role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['secretsmanager:GetSecretValue'], resources: [prefixArn] }));
  const managed = iam.ManagedPolicy.fromAwsManagedPolicyName('service-role/AWSLambdaVPCAccessExecutionRole');
  role.addManagedPolicy(managed);
  return { app, stack, role, prefixArn, managed };
}

function findingIds(app: App): string[] {
  return new AwsSolutionsChecks().validateScope(app).violations.map((v) => v.ruleName);
}

describe('nag acknowledgements', () => {
  test('compute the exact ids cdk-nag reports for wildcard resources and managed policies', () => {
    const { app, role, prefixArn, managed } = roleWithWildcards();
    expect(findingIds(app).sort()).toEqual([
      managedPolicyFinding(role, managed.managedPolicyArn),
      wildcardResourceFinding(role, '*'),
      wildcardResourceFinding(role, prefixArn),
    ].sort());
    expect(wildcardResourceFinding(role, prefixArn)).toBe(
      'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:secretsmanager:eu-west-1:<AWS::AccountId>:secret:prod/*]');
  });

  test('silence exactly the acknowledged findings, including ids with several "::"', () => {
    const { app, role, prefixArn, managed } = roleWithWildcards();
    acknowledgeNagFindings(role,
      { id: wildcardResourceFinding(role, '*'), reason: 'ListSecrets supports no resource-level permissions.' },
      { id: wildcardResourceFinding(role, prefixArn), reason: 'The selection is a name prefix.' },
    );
    expect(findingIds(app)).toEqual([managedPolicyFinding(role, managed.managedPolicyArn)]);
    acknowledgeNagFindings(role, { id: managedPolicyFinding(role, managed.managedPolicyArn), reason: 'VPC access needs it.' });
    expect(findingIds(app)).toEqual([]);
  });

  test('record acknowledgements with their reasons in the Validations metadata', () => {
    const { role } = roleWithWildcards();
    acknowledgeNagFindings(role,
      { id: 'AwsSolutions-L1', reason: 'Pinned runtime.' },
      { id: 'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:x]', reason: 'Scoped.' },
    );
    const recorded = role.node.metadata
      .filter((m) => m.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
      .reduce((all, m) => ({ ...all, ...(m.data as Record<string, string>) }), {} as Record<string, string>);
    expect(recorded).toEqual({
      'annotation::AwsSolutions-L1': 'Pinned runtime.',
      'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:x]': 'Scoped.',
    });
  });

  test('fail if an acknowledgement has no reason', () => {
    const { role } = roleWithWildcards();
    expect(() => acknowledgeNagFindings(role, { id: 'AwsSolutions-L1', reason: ' ' })).toThrow(
      'acknowledgement of AwsSolutions-L1 must have a reason, but got " "');
  });
});

describe('flattenReference', () => {
  test('flattens CloudFormation references the way cdk-nag does', () => {
    const stack = new Stack(new App(), 'S');
    expect(flattenReference(stack.resolve(`arn:${Aws.PARTITION}:x:${Aws.ACCOUNT_ID}`))).toBe('arn:<AWS::Partition>:x:<AWS::AccountId>');
    expect(flattenReference({ 'Fn::GetAtt': ['Queue', 'Arn'] })).toBe('<Queue.Arn>');
    expect(flattenReference({ 'Fn::Sub': 'arn:${AWS::Partition}:y' })).toBe('arn:<AWS::Partition>:y');
    expect(flattenReference({ 'Fn::ImportValue': 'Exported' })).toBe('Exported');
    expect(flattenReference(undefined)).toBe('');
    expect(flattenReference({ 'Fn::Select': [0, ['a']] })).toBe('{"Fn::Select":[0,["a"]]}');
  });
});
