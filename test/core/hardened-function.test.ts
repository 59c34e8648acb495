import { App, Duration, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { hardenedFunction, HardenedFunctionProps } from '../../src/core/hardened-function';

function build(overrides: Partial<HardenedFunctionProps> = {}, stack: Stack = new Stack(new App(), 'S', { env: { region: 'eu-west-1' } })) {
  const hardened = hardenedFunction(stack, { memorySize: 256, timeout: Duration.minutes(5), description: 'Test handler', ...overrides });
  new lambda.Function(stack, 'Handler', {
    ...hardened.options,
    runtime: lambda.Runtime.NODEJS_22_X,
    handler: 'index.handler',
    code: lambda.Code.fromInline('exports.handler = async () => undefined;'),
  });
  return { stack, hardened, template: Template.fromStack(stack) };
}

describe('hardenedFunction', () => {
  test('returns options for a traced arm64 function with JSON logs, explicit memory and timeout', () => {
    const { template } = build();
    template.hasResourceProperties('AWS::Lambda::Function', {
      Architectures: ['arm64'],
      MemorySize: 256,
      Timeout: 300,
      TracingConfig: { Mode: 'Active' },
      Description: 'Test handler',
      LoggingConfig: { LogFormat: 'JSON', LogGroup: { Ref: Match.stringLikeRegexp('^LogGroup') } },
      DeadLetterConfig: { TargetArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^DeadLetterQueue'), 'Arn'] } },
      Role: { 'Fn::GetAtt': [Match.stringLikeRegexp('^Role'), 'Arn'] },
    });
    template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', { MaximumRetryAttempts: 2, MaximumEventAgeInSeconds: 7200 });
  });

  test('creates the role, log group and queue under stable ids', () => {
    const { hardened } = build();
    expect(hardened.role.node.id).toBe('Role');
    expect(hardened.logGroup.node.id).toBe('LogGroup');
    expect(hardened.deadLetterQueue.node.id).toBe('DeadLetterQueue');
  });

  test('gives the role only log writes, dead-letter sends and tracing', () => {
    const { template } = build();
    template.hasResourceProperties('AWS::IAM::Role', {
      AssumeRolePolicyDocument: { Statement: [{ Action: 'sts:AssumeRole', Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' } }] },
      ManagedPolicyArns: Match.absent(),
    });
    const policy = Object.values(template.findResources('AWS::IAM::Policy'))[0] as any;
    expect(policy.Properties.PolicyDocument.Statement).toEqual([
      { Action: ['logs:CreateLogStream', 'logs:PutLogEvents'], Effect: 'Allow', Resource: { 'Fn::GetAtt': [expect.stringMatching(/^LogGroup/), 'Arn'] } },
      { Action: 'sqs:SendMessage', Effect: 'Allow', Resource: { 'Fn::GetAtt': [expect.stringMatching(/^DeadLetterQueue/), 'Arn'] } },
      { Action: ['xray:PutTraceSegments', 'xray:PutTelemetryRecords'], Effect: 'Allow', Resource: '*' },
    ]);
  });

  test('keeps logs three months by default and retains the log group', () => {
    build().template.hasResource('AWS::Logs::LogGroup', { Properties: { RetentionInDays: 90 }, DeletionPolicy: 'Retain' });
    build({ logRetention: logs.RetentionDays.ONE_WEEK }).template.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 7 });
  });

  test('creates an SQS-encrypted, TLS-only dead-letter queue kept 14 days', () => {
    const { template } = build();
    template.hasResourceProperties('AWS::SQS::Queue', { SqsManagedSseEnabled: true, MessageRetentionPeriod: 1_209_600 });
    template.hasResourceProperties('AWS::SQS::QueuePolicy', {
      PolicyDocument: { Statement: [Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })] },
    });
  });

  test('uses the given async retries, event age and function name', () => {
    const { template } = build({ retryAttempts: 0, maxEventAge: Duration.hours(1), functionName: 'my-handler' });
    template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', { MaximumRetryAttempts: 0, MaximumEventAgeInSeconds: 3600 });
    template.hasResourceProperties('AWS::Lambda::Function', { FunctionName: 'my-handler' });
  });

  test('places the function in the vpc with AWSLambdaVPCAccessExecutionRole', () => {
    const stack = new Stack(new App(), 'S', { env: { region: 'eu-west-1' } });
    const vpc = new ec2.Vpc(stack, 'Vpc', { maxAzs: 2 });
    const { template } = build({ vpc }, stack);
    template.hasResourceProperties('AWS::Lambda::Function', {
      VpcConfig: { SubnetIds: Match.arrayWith([{ Ref: Match.stringLikeRegexp('^VpcPrivateSubnet1') }]) },
    });
    template.hasResourceProperties('AWS::IAM::Role', {
      ManagedPolicyArns: [{ 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole']] }],
    });
  });

  test('fails if memorySize is out of Lambda\'s range', () => {
    expect(() => build({ memorySize: 20_000 })).toThrow('memorySize must be an integer from 128 to 10240 MiB, but got 20000');
  });

  test('fails if timeout is not whole seconds up to 15 minutes', () => {
    expect(() => build({ timeout: Duration.millis(1500) })).toThrow('timeout must be a whole number of seconds from 1 to 900, but got "1 second 500 millis"');
  });

  test('names props with the given prefix in messages', () => {
    expect(() => build({ memorySize: 1, propPrefix: 'handler.' })).toThrow('handler.memorySize must be an integer from 128 to 10240 MiB, but got 1');
  });

  test('fails if retryAttempts is more than Lambda allows', () => {
    expect(() => build({ retryAttempts: 3 })).toThrow('retryAttempts must be an integer from 0 to 2, but got 3');
  });

  test('fails if maxEventAge is out of Lambda\'s range', () => {
    expect(() => build({ maxEventAge: Duration.hours(7) })).toThrow('maxEventAge must be a whole number of seconds from 60 to 21600, but got "7 hours"');
  });

  test('fails if securityGroups is set without vpc', () => {
    const stack = new Stack(new App(), 'S', { env: { region: 'eu-west-1' } });
    const sg = ec2.SecurityGroup.fromSecurityGroupId(stack, 'Sg', 'sg-12345678');
    expect(() => build({ securityGroups: [sg] }, stack)).toThrow('vpc must be set when vpcSubnets or securityGroups is set, but got undefined');
  });
});

describe('hardenedFunction security options', () => {
  function secureBuild(stack: Stack = new Stack(new App(), 'S', { env: { region: 'eu-west-1' } })) {
    const logsKey = new kms.Key(stack, 'LogsKey', { enableKeyRotation: true });
    const queueKey = new kms.Key(stack, 'QueueKey', { enableKeyRotation: true });
    const built = build({ logGroupEncryptionKey: logsKey, deadLetterQueueEncryptionKey: queueKey, reservedConcurrentExecutions: 3 }, stack);
    return { ...built, logsKey, queueKey };
  }
  const keyStatements = (template: Template, keyId: string): any[] =>
    (template.toJSON().Resources[keyId].Properties.KeyPolicy.Statement as any[]);

  test('encrypts the log group with the log-group key, which CloudWatch Logs of the region may use for this account\'s log groups', () => {
    const { stack, template, logsKey } = secureBuild();
    const logsKeyId = stack.getLogicalId(logsKey.node.defaultChild as kms.CfnKey);
    template.hasResourceProperties('AWS::Logs::LogGroup', { KmsKeyId: { 'Fn::GetAtt': [logsKeyId, 'Arn'] } });
    expect(keyStatements(template, logsKeyId)).toContainEqual({
      Action: ['kms:Encrypt*', 'kms:Decrypt*', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:Describe*'],
      Condition: {
        ArnLike: {
          'kms:EncryptionContext:aws:logs:arn': {
            'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':logs:eu-west-1:', { Ref: 'AWS::AccountId' }, ':log-group:*']],
          },
        },
      },
      Effect: 'Allow',
      Principal: { Service: 'logs.eu-west-1.amazonaws.com' },
      Resource: '*',
    });
  });

  test('encrypts the dead-letter queue with its key, which the role and EventBridge rules of this account and region may use', () => {
    const { stack, template, queueKey } = secureBuild();
    const queueKeyId = stack.getLogicalId(queueKey.node.defaultChild as kms.CfnKey);
    template.hasResourceProperties('AWS::SQS::Queue', { KmsMasterKeyId: { 'Fn::GetAtt': [queueKeyId, 'Arn'] } });
    expect(keyStatements(template, queueKeyId)).toContainEqual({
      Action: ['kms:GenerateDataKey', 'kms:Decrypt'],
      Condition: {
        ArnLike: {
          'aws:SourceArn': { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':events:eu-west-1:', { Ref: 'AWS::AccountId' }, ':rule/*']] },
        },
      },
      Effect: 'Allow',
      Principal: { Service: 'events.amazonaws.com' },
      Resource: '*',
    });
    const policy = Object.values(template.findResources('AWS::IAM::Policy'))[0] as any;
    expect(policy.Properties.PolicyDocument.Statement).toContainEqual({
      Action: ['kms:GenerateDataKey', 'kms:Decrypt'], Effect: 'Allow', Resource: { 'Fn::GetAtt': [queueKeyId, 'Arn'] },
    });
  });

  test('names the CloudWatch Logs principal of the stack\'s partition', () => {
    const { stack, template, logsKey } = secureBuild(new Stack(new App(), 'S', { env: { region: 'cn-north-1' } }));
    const principals = keyStatements(template, stack.getLogicalId(logsKey.node.defaultChild as kms.CfnKey)).map((st) => st.Principal);
    expect(principals).toContainEqual({ Service: 'logs.cn-north-1.amazonaws.com.cn' });
  });

  test('reserves concurrency', () => {
    secureBuild().template.hasResourceProperties('AWS::Lambda::Function', { ReservedConcurrentExecutions: 3 });
    build().template.hasResourceProperties('AWS::Lambda::Function', { ReservedConcurrentExecutions: Match.absent() });
  });

  test('leaves an imported key\'s policy alone', () => {
    const stack = new Stack(new App(), 'S', { env: { region: 'eu-west-1' } });
    const imported = kms.Key.fromKeyArn(stack, 'Imported', 'arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab');
    const { template } = build({ logGroupEncryptionKey: imported, deadLetterQueueEncryptionKey: imported }, stack);
    template.resourceCountIs('AWS::KMS::Key', 0);
    template.hasResourceProperties('AWS::Logs::LogGroup', { KmsKeyId: imported.keyArn });
  });

  test.each([0, -1, 2.5])('fails if reservedConcurrentExecutions is %p', (value) => {
    expect(() => build({ reservedConcurrentExecutions: value })).toThrow(
      `reservedConcurrentExecutions must be an integer of at least 1 (0 would stop the handler from running), but got ${value}`);
  });
});
