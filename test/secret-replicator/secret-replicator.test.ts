import { CfnResource, Duration, Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import {
  handlerEnvironment,
  MINIMAL_PROPS,
  newStack,
  policyStatements,
  PRIMARY,
  resourcesAllowed,
  secretArn,
  statementsAllowing,
  synth,
} from './util';
import { ConfigDriftDetector, ConflictPolicy, CrossRegionSecretReplicator, SecretSelection } from '../../src';

describe('CrossRegionSecretReplicator handler', () => {
  test('runs on nodejs22.x, arm64, 512 MiB, 10 minutes and active tracing by default', () => {
    const { template } = synth();
    template.hasResourceProperties('AWS::Lambda::Function', {
      Runtime: 'nodejs22.x',
      Architectures: ['arm64'],
      MemorySize: 512,
      Timeout: 600,
      TracingConfig: { Mode: 'Active' },
      Handler: 'index.handler',
    });
  });

  test('uses the given memory size, timeout and function name', () => {
    const { template } = synth({ memorySize: 1024, timeout: Duration.minutes(3), functionName: 'prod-secret-replicator' });
    template.hasResourceProperties('AWS::Lambda::Function', {
      MemorySize: 1024,
      Timeout: 180,
      FunctionName: 'prod-secret-replicator',
    });
  });

  test('writes JSON logs to its own log group kept for three months by default', () => {
    const { template } = synth();
    template.hasResourceProperties('AWS::Lambda::Function', {
      LoggingConfig: {
        LogFormat: 'JSON',
        ApplicationLogLevel: 'INFO',
        SystemLogLevel: 'INFO',
        LogGroup: { Ref: Match.stringLikeRegexp('^ReplicatorLogGroup') },
      },
    });
    template.hasResource('AWS::Logs::LogGroup', {
      Properties: { RetentionInDays: 90 },
      DeletionPolicy: 'Retain',
    });
  });

  test('keeps logs for logRetention', () => {
    const { template } = synth({ logRetention: logs.RetentionDays.ONE_YEAR });
    template.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 365 });
  });

  test('sends failed async invocations to an encrypted, TLS-only dead-letter queue kept for 14 days', () => {
    const { template } = synth();
    template.hasResourceProperties('AWS::SQS::Queue', {
      SqsManagedSseEnabled: true,
      MessageRetentionPeriod: 1_209_600,
    });
    template.hasResourceProperties('AWS::Lambda::Function', {
      DeadLetterConfig: { TargetArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^ReplicatorDeadLetterQueue'), 'Arn'] } },
    });
    template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
      MaximumRetryAttempts: 2,
      MaximumEventAgeInSeconds: 7200,
    });
    template.hasResourceProperties('AWS::SQS::QueuePolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([Match.objectLike({
          Effect: 'Deny',
          Action: 'sqs:*',
          Condition: { Bool: { 'aws:SecureTransport': 'false' } },
        })]),
      },
    });
  });

  test('sets every environment variable of the handler contract', () => {
    const { template, replicator, stack } = synth();
    expect(handlerEnvironment(template)).toEqual({
      PRIMARY_REGION: PRIMARY,
      REPLICA_TARGETS: JSON.stringify([{ region: 'eu-west-1' }]),
      SECRET_SELECTION: JSON.stringify({ rules: [{ names: ['app/db'] }] }),
      CONFLICT_POLICY: 'PRIMARY_WINS',
      REPLICATE_TAGS: 'true',
      PROPAGATE_DELETIONS: 'false',
      DELETION_RECOVERY_WINDOW_DAYS: '7',
      PROVENANCE_KEY_SECRET_ARN: stack.resolve(replicator.provenanceKey.secretArn),
      POWERTOOLS_METRICS_NAMESPACE: 'CrossRegionConfig',
      POWERTOOLS_SERVICE_NAME: replicator.serviceName,
      AWS_NODEJS_CONNECTION_REUSE_ENABLED: '1',
    });
  });

  test('passes the conflict policy, tag and deletion settings to the handler', () => {
    const { template } = synth({
      conflictPolicy: ConflictPolicy.SKIP_AND_ALARM,
      replicateTags: false,
      propagateDeletions: true,
      deletionRecoveryWindow: Duration.days(30),
      metricNamespace: 'MyApp/Secrets',
    });
    expect(handlerEnvironment(template)).toMatchObject({
      CONFLICT_POLICY: 'SKIP_AND_ALARM',
      REPLICATE_TAGS: 'false',
      PROPAGATE_DELETIONS: 'true',
      DELETION_RECOVERY_WINDOW_DAYS: '30',
      POWERTOOLS_METRICS_NAMESPACE: 'MyApp/Secrets',
    });
  });

  test('names a deterministic service per construct, used as the metric dimension', () => {
    const stack = newStack();
    const first = new CrossRegionSecretReplicator(stack, 'First', MINIMAL_PROPS);
    const second = new CrossRegionSecretReplicator(stack, 'Second', MINIMAL_PROPS);
    expect(first.serviceName).toMatch(/^TestStackFirst[0-9A-F]{8}$/);
    expect(second.serviceName).not.toEqual(first.serviceName);
    expect(first.serviceName.length).toBeLessThanOrEqual(64);
    expect(first.primaryRegion).toBe(PRIMARY);
  });

  test('replicates to KMS keys by ARN and by alias, and to other accounts through roles', () => {
    const keyArn = 'arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab';
    const { template } = synth({
      replicaRegions: ['eu-west-1', 'eu-central-1', 'ap-southeast-1'],
      replicaKmsKeys: [
        { region: 'eu-west-1', keyArn },
        { region: 'eu-central-1', aliasName: 'alias/secrets' },
      ],
      crossAccountReplicas: [
        { region: 'us-east-1', roleArn: 'arn:aws:iam::444455556666:role/replica-writer' },
        { region: 'us-west-2', roleArn: 'arn:aws:iam::444455556666:role/replica-writer', aliasName: 'alias/dr' },
      ],
    });
    expect(JSON.parse(handlerEnvironment(template).REPLICA_TARGETS as string)).toEqual([
      { region: 'eu-west-1', kmsKeyId: keyArn },
      { region: 'eu-central-1', kmsKeyId: 'alias/secrets' },
      { region: 'ap-southeast-1' },
      { region: 'us-east-1', roleArn: 'arn:aws:iam::444455556666:role/replica-writer' },
      { region: 'us-west-2', kmsKeyId: 'alias/dr', roleArn: 'arn:aws:iam::444455556666:role/replica-writer' },
    ]);
  });

  test('exposes its resources', () => {
    const { replicator } = synth({ parameterPrefix: '/app/prod' });
    expect(replicator.handler.runtime.name).toBe('nodejs22.x');
    expect(replicator.role.roleArn).toBeDefined();
    expect(replicator.logGroup).toBeDefined();
    expect(replicator.deadLetterQueue).toBeDefined();
    expect(replicator.provenanceKey).toBeDefined();
    expect(replicator.rule).toBeDefined();
    expect(replicator.schedule).toBeDefined();
    expect(replicator.configParameter).toBeDefined();
    expect(replicator.alarms).toHaveLength(5);
  });
});

describe('CrossRegionSecretReplicator VPC placement', () => {
  test('runs in the private subnets of the vpc with AWSLambdaVPCAccessExecutionRole', () => {
    const stack = newStack();
    const vpc = new ec2.Vpc(stack, 'Vpc', { maxAzs: 2 });
    new CrossRegionSecretReplicator(stack, 'Replicator', { ...MINIMAL_PROPS, vpc });
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::Lambda::Function', {
      VpcConfig: {
        SubnetIds: [{ Ref: Match.stringLikeRegexp('^VpcPrivateSubnet1') }, { Ref: Match.stringLikeRegexp('^VpcPrivateSubnet2') }],
        SecurityGroupIds: [{ 'Fn::GetAtt': [Match.stringLikeRegexp('^ReplicatorHandlerSecurityGroup'), 'GroupId'] }],
      },
    });
    template.hasResourceProperties('AWS::IAM::Role', {
      ManagedPolicyArns: [{
        'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole']],
      }],
    });
  });

  test('uses the given subnets and security groups', () => {
    const stack = newStack();
    const vpc = new ec2.Vpc(stack, 'Vpc', { maxAzs: 2 });
    const securityGroup = new ec2.SecurityGroup(stack, 'Sg', { vpc });
    new CrossRegionSecretReplicator(stack, 'Replicator', {
      ...MINIMAL_PROPS,
      vpc,
      vpcSubnets: { subnets: [vpc.privateSubnets[1]] },
      securityGroups: [securityGroup],
    });
    Template.fromStack(stack).hasResourceProperties('AWS::Lambda::Function', {
      VpcConfig: {
        SubnetIds: [{ Ref: Match.stringLikeRegexp('^VpcPrivateSubnet2') }],
        SecurityGroupIds: [{ 'Fn::GetAtt': [Match.stringLikeRegexp('^Sg'), 'GroupId'] }],
      },
    });
  });

  test('attaches no managed policy outside a VPC', () => {
    const { template } = synth();
    template.hasResourceProperties('AWS::IAM::Role', {
      AssumeRolePolicyDocument: {
        Statement: [{ Action: 'sts:AssumeRole', Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' } }],
      },
      ManagedPolicyArns: Match.absent(),
    });
  });
});

describe('CrossRegionSecretReplicator events', () => {
  test('reconciles every 6 hours by default with {"action":"reconcile"}', () => {
    const { template } = synth();
    template.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'rate(6 hours)',
      Targets: [Match.objectLike({
        Arn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^ReplicatorHandler'), 'Arn'] },
        Input: '{"action":"reconcile"}',
        DeadLetterConfig: { Arn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^ReplicatorDeadLetterQueue'), 'Arn'] } },
        RetryPolicy: { MaximumRetryAttempts: 2, MaximumEventAgeInSeconds: 7200 },
      })],
    });
  });

  test('reconciles on the given schedule', () => {
    const { template } = synth({ reconciliationSchedule: events.Schedule.cron({ minute: '15', hour: '3' }) });
    template.hasResourceProperties('AWS::Events::Rule', { ScheduleExpression: 'cron(15 3 * * ? *)' });
  });

  test('sends Secrets Manager CloudTrail events to the handler with the dead-letter queue', () => {
    const { template } = synth();
    template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: {
        'source': ['aws.secretsmanager'],
        'detail-type': ['AWS API Call via CloudTrail', 'AWS Service Event via CloudTrail'],
        'detail': Match.objectLike({
          eventSource: ['secretsmanager.amazonaws.com'],
          eventName: [
            'CreateSecret', 'PutSecretValue', 'UpdateSecret', 'UpdateSecretVersionStage', 'RotateSecret',
            'RotationSucceeded', 'TagResource', 'UntagResource', 'DeleteSecret', 'RestoreSecret',
          ],
          // Failed calls changed nothing.
          errorCode: [{ exists: false }],
        }),
      },
      Targets: [Match.objectLike({
        Arn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^ReplicatorHandler'), 'Arn'] },
        Input: Match.absent(),
        DeadLetterConfig: { Arn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^ReplicatorDeadLetterQueue'), 'Arn'] } },
        RetryPolicy: { MaximumRetryAttempts: 2, MaximumEventAgeInSeconds: 7200 },
      })],
    });
  });

  test('lets EventBridge invoke the handler and write to the dead-letter queue', () => {
    const { template } = synth();
    template.resourceCountIs('AWS::Lambda::Permission', 2);
    template.hasResourceProperties('AWS::Lambda::Permission', {
      Action: 'lambda:InvokeFunction',
      Principal: 'events.amazonaws.com',
      SourceArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^ReplicatorRule'), 'Arn'] },
    });
    template.hasResourceProperties('AWS::SQS::QueuePolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([Match.objectLike({
          Action: 'sqs:SendMessage',
          Principal: { Service: 'events.amazonaws.com' },
          Condition: { ArnEquals: { 'aws:SourceArn': { 'Fn::GetAtt': [Match.stringLikeRegexp('^ReplicatorRule'), 'Arn'] } } },
        })]),
      },
    });
  });
});

describe('CrossRegionSecretReplicator IAM', () => {
  test('may invoke itself and keep its run lease, in a policy of its own that the function does not depend on', () => {
    const { stack, template, replicator } = synth();
    const handlerId = stack.getLogicalId(replicator.handler.node.defaultChild as CfnResource);
    const roleId = stack.getLogicalId(replicator.role.node.defaultChild as CfnResource);
    const lease = `:parameter/cdk-cross-region-config/runs/${replicator.serviceName}`;
    const policies = template.findResources('AWS::IAM::Policy', { Properties: { PolicyName: Match.stringLikeRegexp('HandOverPolicy') } });
    expect(Object.keys(policies)).toHaveLength(1);
    const [policyId, policy] = Object.entries(policies)[0] as [string, any];
    expect(policy.Properties.Roles).toEqual([{ Ref: roleId }]);
    const statements = JSON.stringify(policy.Properties.PolicyDocument.Statement);
    expect(policy.Properties.PolicyDocument.Statement).toContainEqual({ Action: 'lambda:InvokeFunction', Effect: 'Allow', Resource: { 'Fn::GetAtt': [handlerId, 'Arn'] } });
    expect(statements).toContain(`${lease}/*`);
    expect(statements).toContain(`"ssm:GetParametersByPath","Effect":"Allow","Resource":{"Fn::Join":["",["arn:",{"Ref":"AWS::Partition"},":ssm:us-east-1:",{"Ref":"AWS::AccountId"},"${lease}"]]}`);
    expect(template.toJSON().Resources[handlerId].DependsOn ?? []).not.toContain(policyId);
  });

  test('reads the selected secrets in the primary region only', () => {
    const { template } = synth({ secrets: SecretSelection.anyOf(SecretSelection.fromNames('app/db'), SecretSelection.byNamePrefix('prod/')) });
    expect(statementsAllowing(template, 'secretsmanager:GetSecretValue')).toContainEqual({
      Action: ['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret'],
      Effect: 'Allow',
      Resource: [secretArn(PRIMARY, 'app/db-??????'), secretArn(PRIMARY, 'prod/*')],
    });
  });

  test('reads the provenance key', () => {
    const { template } = synth();
    expect(statementsAllowing(template, 'secretsmanager:GetSecretValue')).toContainEqual({
      Action: ['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret'],
      Effect: 'Allow',
      Resource: { Ref: expect.stringMatching(/^ReplicatorProvenanceKey/) },
    });
  });

  test('lists secrets on "*" only in the regions it works in', () => {
    const { template } = synth({ replicaRegions: ['eu-west-1', 'ap-southeast-1'] });
    expect(statementsAllowing(template, 'secretsmanager:ListSecrets')).toEqual([{
      Action: ['secretsmanager:ListSecrets', 'secretsmanager:BatchGetSecretValue'],
      Effect: 'Allow',
      Resource: '*',
      Condition: { StringEquals: { 'aws:RequestedRegion': [PRIMARY, 'eu-west-1', 'ap-southeast-1'] } },
    }]);
  });

  test('writes replicas only in each replica region, under the selected names', () => {
    const { template } = synth({ replicaRegions: ['eu-west-1', 'ap-southeast-1'] });
    expect(statementsAllowing(template, 'secretsmanager:CreateSecret')).toEqual([{
      Action: [
        'secretsmanager:CreateSecret',
        'secretsmanager:UpdateSecret',
        'secretsmanager:DescribeSecret',
        'secretsmanager:TagResource',
        'secretsmanager:UntagResource',
        'secretsmanager:RestoreSecret',
      ],
      Effect: 'Allow',
      Resource: [secretArn('eu-west-1', 'app/db-??????'), secretArn('ap-southeast-1', 'app/db-??????')],
    }]);
  });

  test('deletes replicas only when propagateDeletions is set', () => {
    expect(statementsAllowing(synth().template, 'secretsmanager:DeleteSecret')).toEqual([]);
    expect(resourcesAllowed(synth({ propagateDeletions: true }).template, 'secretsmanager:DeleteSecret'))
      .toEqual([secretArn('eu-west-1', 'app/db-??????')]);
  });

  test('uses replica KMS keys by ARN through Secrets Manager in their region', () => {
    const keyArn = 'arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab';
    const { template } = synth({ replicaKmsKeys: [{ region: 'eu-west-1', keyArn }] });
    expect(statementsAllowing(template, 'kms:GenerateDataKey')).toEqual([{
      Action: ['kms:Encrypt', 'kms:Decrypt', 'kms:GenerateDataKey'],
      Effect: 'Allow',
      Resource: keyArn,
      Condition: { StringEquals: { 'kms:ViaService': 'secretsmanager.eu-west-1.amazonaws.com' } },
    }]);
  });

  test('uses replica KMS keys by alias through kms:ResourceAliases', () => {
    const { template } = synth({ replicaKmsKeys: [{ region: 'eu-west-1', aliasName: 'alias/secrets' }] });
    expect(statementsAllowing(template, 'kms:GenerateDataKey')).toEqual([{
      Action: ['kms:Encrypt', 'kms:Decrypt', 'kms:GenerateDataKey'],
      Effect: 'Allow',
      Resource: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':kms:eu-west-1:', { Ref: 'AWS::AccountId' }, ':key/*']] },
      Condition: {
        'ForAnyValue:StringEquals': { 'kms:ResourceAliases': 'alias/secrets' },
        'StringEquals': { 'kms:ViaService': 'secretsmanager.eu-west-1.amazonaws.com' },
      },
    }]);
  });

  test('needs no KMS permission for the aws/secretsmanager key', () => {
    const { template } = synth({ replicaKmsKeys: [{ region: 'eu-west-1', aliasName: 'alias/aws/secretsmanager' }] });
    expect(statementsAllowing(template, 'kms:GenerateDataKey')).toEqual([]);
    expect(JSON.parse(handlerEnvironment(template).REPLICA_TARGETS as string)).toEqual([
      { region: 'eu-west-1', kmsKeyId: 'alias/aws/secretsmanager' },
    ]);
  });

  test('uses the China partition domain for kms:ViaService in China regions', () => {
    const stack = newStack(undefined, 'cn-north-1');
    new CrossRegionSecretReplicator(stack, 'Replicator', {
      ...MINIMAL_PROPS,
      replicaRegions: ['cn-northwest-1'],
      replicaKmsKeys: [{ region: 'cn-northwest-1', aliasName: 'alias/secrets' }],
    });
    expect(statementsAllowing(Template.fromStack(stack), 'kms:GenerateDataKey')[0].Condition).toMatchObject({
      StringEquals: { 'kms:ViaService': 'secretsmanager.cn-northwest-1.amazonaws.com.cn' },
    });
  });

  test('decrypts primary secrets with sourceEncryptionKeys only through Secrets Manager', () => {
    const stack = newStack();
    const key = new kms.Key(stack, 'SourceKey');
    new CrossRegionSecretReplicator(stack, 'Replicator', { ...MINIMAL_PROPS, sourceEncryptionKeys: [key] });
    const template = Template.fromStack(stack);
    expect(statementsAllowing(template, 'kms:Decrypt')).toEqual([{
      Action: 'kms:Decrypt',
      Effect: 'Allow',
      Resource: { 'Fn::GetAtt': [expect.stringMatching(/^SourceKey/), 'Arn'] },
      Condition: { StringEquals: { 'kms:ViaService': `secretsmanager.${PRIMARY}.amazonaws.com` } },
    }]);
  });

  test('needs no KMS permission by default', () => {
    const { template } = synth();
    expect(policyStatements(template).filter((s) => JSON.stringify(s.Action).includes('kms:'))).toEqual([]);
  });

  test('assumes the roles of cross-account replicas', () => {
    const { template } = synth({
      crossAccountReplicas: [
        { region: 'eu-west-1', roleArn: 'arn:aws:iam::444455556666:role/replica-writer' },
        { region: 'us-west-2', roleArn: 'arn:aws:iam::444455556666:role/replica-writer' },
        { region: 'us-west-2', roleArn: 'arn:aws:iam::777788889999:role/replica-writer' },
      ],
    });
    expect(statementsAllowing(template, 'sts:AssumeRole')).toEqual([{
      Action: 'sts:AssumeRole',
      Effect: 'Allow',
      Resource: ['arn:aws:iam::444455556666:role/replica-writer', 'arn:aws:iam::777788889999:role/replica-writer'],
    }]);
  });

  test('grants lambda:InvokeFunction for manual invocations', () => {
    const stack = newStack();
    const replicator = new CrossRegionSecretReplicator(stack, 'Replicator', MINIMAL_PROPS);
    const operator = new iam.Role(stack, 'Operator', { assumedBy: new iam.AccountRootPrincipal() });
    replicator.grantInvoke(operator);
    Template.fromStack(stack).hasResourceProperties('AWS::IAM::Policy', {
      Roles: [{ Ref: Match.stringLikeRegexp('^Operator') }],
      PolicyDocument: {
        Statement: [Match.objectLike({
          Action: 'lambda:InvokeFunction',
          Resource: Match.arrayWith([{ 'Fn::GetAtt': [Match.stringLikeRegexp('^ReplicatorHandler'), 'Arn'] }]),
        })],
      },
    });
  });
});

describe('CrossRegionSecretReplicator config parameter', () => {
  test('writes the settings parameter under parameterPrefix', () => {
    const { template, replicator, stack } = synth({
      parameterPrefix: '/genai-demo/production',
      replicaRegions: ['ap-northeast-1', 'ap-southeast-1'],
      crossAccountReplicas: [{ region: 'us-west-2', roleArn: 'arn:aws:iam::444455556666:role/replica-writer' }],
      conflictPolicy: ConflictPolicy.SKIP_AND_ALARM,
      propagateDeletions: true,
    });
    template.hasResourceProperties('AWS::SSM::Parameter', {
      Name: '/genai-demo/production/global/secrets/cross-region-config',
      Type: 'String',
      Tier: 'Standard',
    });
    const parameter = Object.values(template.findResources('AWS::SSM::Parameter'))[0] as any;
    expect(JSON.parse(parameter.Properties.Value)).toEqual({
      primaryRegion: PRIMARY,
      replicationRegions: ['ap-northeast-1', 'ap-southeast-1', 'us-west-2'],
      syncEnabled: true,
      driftDetectionEnabled: false,
      configMapSyncEnabled: false,
      lastSyncTimestamp: null,
      conflictPolicy: 'SKIP_AND_ALARM',
      propagateDeletions: true,
      reconciliationSchedule: 'rate(6 hours)',
    });
    expect(replicator.configParameter).toBeDefined();
    // The handler keeps lastSyncTimestamp current in that parameter, and may read and write only it.
    const fn = Object.values(template.findResources('AWS::Lambda::Function')).find((f: any) => f.Properties.Environment?.Variables?.CONFIG_PARAMETER_NAME) as any;
    expect(fn.Properties.Environment.Variables.CONFIG_PARAMETER_NAME).toBe('/genai-demo/production/global/secrets/cross-region-config');
    const parameterRef = { Ref: stack.getLogicalId(replicator.configParameter!.node.defaultChild as CfnResource) };
    expect(JSON.stringify(resourcesAllowed(template, 'ssm:PutParameter'))).toContain(JSON.stringify(parameterRef));
    // Besides the settings parameter, only the run lease's own records (HandOverPolicy).
    const others = resourcesAllowed(template, 'ssm:PutParameter').filter((r) => !JSON.stringify(r).includes(':parameter/cdk-cross-region-config/runs/'));
    expect(others).toHaveLength(1);
  });

  test('says in the document when a drift detector works with the replicator', () => {
    const stack = newStack();
    const replicator = new CrossRegionSecretReplicator(stack, 'Replicator', { ...MINIMAL_PROPS, parameterPrefix: '/app/prod' });
    new ConfigDriftDetector(stack, 'Detector', { replicator });
    const parameter = Object.values(Template.fromStack(stack).findResources('AWS::SSM::Parameter'))
      .find((p: any) => p.Properties.Name === '/app/prod/global/secrets/cross-region-config') as any;
    expect(JSON.parse(parameter.Properties.Value)).toMatchObject({ driftDetectionEnabled: true, configMapSyncEnabled: false });
  });

  test('writes no parameter by default', () => {
    const { template, replicator } = synth();
    template.resourceCountIs('AWS::SSM::Parameter', 0);
    expect(replicator.configParameter).toBeUndefined();
  });
});

describe('CrossRegionSecretReplicator warnings', () => {
  test('warns that deletionRecoveryWindow is ignored without propagateDeletions', () => {
    const { stack } = synth({ deletionRecoveryWindow: Duration.days(10) });
    Annotations.fromStack(stack).hasWarning('/TestStack/Replicator', Match.stringLikeRegexp('deletionRecoveryWindow is ignored'));
  });

  test('warns that alarmActions are ignored when createAlarms is false', () => {
    const stack = newStack();
    const topicAction = { bind: () => ({ alarmActionArn: 'arn:aws:sns:us-east-1:111122223333:ops' }) };
    new CrossRegionSecretReplicator(stack, 'Replicator', { ...MINIMAL_PROPS, createAlarms: false, alarmActions: [topicAction] });
    Annotations.fromStack(stack).hasWarning('/TestStack/Replicator', Match.stringLikeRegexp('alarmActions are ignored'));
  });

  test('warns about secret names that look like an ARN suffix', () => {
    const { stack } = synth({ secrets: SecretSelection.fromNames('app/db-abc123') });
    Annotations.fromStack(stack).hasWarning('/TestStack/Replicator', Match.stringLikeRegexp('end with a hyphen and six characters'));
  });

  test('emits no warning with the minimal props', () => {
    const { stack } = synth();
    Annotations.fromStack(stack).hasNoWarning('*', Match.anyValue());
  });
});

describe('ConflictPolicy', () => {
  test('has the wire names of the handler contract', () => {
    expect(ConflictPolicy.PRIMARY_WINS.name).toBe('PRIMARY_WINS');
    expect(ConflictPolicy.SKIP_AND_ALARM.name).toBe('SKIP_AND_ALARM');
    expect(`${ConflictPolicy.SKIP_AND_ALARM}`).toBe('SKIP_AND_ALARM');
  });
});

describe('CrossRegionSecretReplicator determinism', () => {
  test('synthesizes the same template twice', () => {
    const build = () => {
      const stack = newStack();
      new CrossRegionSecretReplicator(stack, 'Replicator', {
        secrets: SecretSelection.anyOf(
          SecretSelection.fromNames('app/db', 'app/api'),
          SecretSelection.byNamePrefix('prod/'),
          SecretSelection.byTags({ replicate: 'true', team: 'payments' }),
        ),
        replicaRegions: ['eu-west-1', 'ap-southeast-1'],
        replicaKmsKeys: [{ region: 'eu-west-1', aliasName: 'alias/secrets' }],
        crossAccountReplicas: [{ region: 'us-west-2', roleArn: 'arn:aws:iam::444455556666:role/replica-writer' }],
        conflictPolicy: ConflictPolicy.SKIP_AND_ALARM,
        parameterPrefix: '/app/prod',
      });
      return Template.fromStack(stack).toJSON();
    };
    expect(build()).toEqual(build());
  });

  test('is a construct of the stack it is created in', () => {
    const { stack, replicator } = synth();
    expect(Stack.of(replicator)).toBe(stack);
  });
});
