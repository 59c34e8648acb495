import { App, Duration, Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as cw_actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as eks from 'aws-cdk-lib/aws-eks';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sns from 'aws-cdk-lib/aws-sns';
import { AwsSolutionsChecks } from 'cdk-nag';
import { Construct } from 'constructs';
import { ConfigMapSyncer, ConfigMapSyncerProps, KubernetesCluster } from '../../src';
import { SyncEnv, SyncTargetConfig } from '../../src/configmap-syncer/contract';
import { handlerEnvironment, newStack, PRIMARY, resourcesAllowed, statementsAllowing } from '../secret-replicator/util';

const REMOTE = KubernetesCluster.fromClusterAttributes({ clusterName: 'app-eu', region: 'eu-west-1' });
/** Statements other than the run lease's and the self-invocation of HandOverPolicy (tested on their own). */
const LEASE = ':parameter/cdk-cross-region-config/runs/';
const notLease = (x: unknown) => !JSON.stringify(x).includes(LEASE);
const MINIMAL: ConfigMapSyncerProps = {
  parameterPath: '/app/prod/config',
  projectName: 'genai-demo',
  environmentName: 'production',
  targets: [{ cluster: REMOTE }],
};

function synth(props: ConfigMapSyncerProps = MINIMAL, stack: Stack = newStack()) {
  const syncer = new ConfigMapSyncer(stack, 'Syncer', props);
  return { stack, syncer, template: Template.fromStack(stack) };
}

function env(template: Template): Record<string, any> {
  return handlerEnvironment(template);
}

/** The handler's targets as the handler reads them (tokens resolved to CloudFormation). */
function targetsOf(stack: Stack, template: Template): SyncTargetConfig[] {
  const value = env(template)[SyncEnv.TARGETS];
  return typeof value === 'string' ? JSON.parse(value) : JSON.parse(JSON.stringify(stack.resolve(value)));
}

/** A cluster of the test stack's region and account, imported with its API server. */
function localCluster(scope: Construct, clusterName: string = 'app-us'): eks.ICluster {
  return eks.Cluster.fromClusterAttributes(scope, `Cluster-${clusterName}`, {
    clusterName,
    clusterEndpoint: 'https://ABC.gr7.us-east-1.eks.amazonaws.com',
    clusterCertificateAuthorityData: 'Y2E=',
  });
}

/** The EventBridge rule with the given construct id under the syncer. */
function rule(template: Template, id: string): any {
  const rules = Object.entries(template.findResources('AWS::Events::Rule')).filter(([logicalId]) => logicalId.startsWith(`Syncer${id}`));
  expect(rules).toHaveLength(1);
  return (rules[0][1] as any).Properties;
}

describe('defaults', () => {
  const { stack, syncer, template } = synth();

  test('runs the bundled handler on nodejs22.x, arm64, traced, with the seed\'s 256 MiB and 5 minutes', () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      Runtime: 'nodejs22.x',
      MemorySize: 256,
      Timeout: 300,
      Architectures: ['arm64'],
      TracingConfig: { Mode: 'Active' },
      LoggingConfig: Match.objectLike({ LogFormat: 'JSON' }),
      DeadLetterConfig: { TargetArn: Match.anyValue() },
    });
    template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', { MaximumRetryAttempts: 2, MaximumEventAgeInSeconds: 7200 });
  });

  test('keeps logs for three months and dead letters for 14 days', () => {
    template.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 90 });
    template.hasResourceProperties('AWS::SQS::Queue', { MessageRetentionPeriod: 1_209_600, SqsManagedSseEnabled: true });
  });

  test('syncs every 5 minutes with {"action":"sync"}, retried twice then dead-lettered', () => {
    const schedule = rule(template, 'Schedule');
    expect(schedule.ScheduleExpression).toBe('rate(5 minutes)');
    expect(schedule.Targets).toEqual([expect.objectContaining({
      Input: '{"action":"sync"}',
      DeadLetterConfig: { Arn: expect.anything() },
      RetryPolicy: { MaximumRetryAttempts: 2, MaximumEventAgeInSeconds: 7200 },
    })]);
  });

  test('syncs on Parameter Store changes of the path and every parameter below it', () => {
    const parameterRule = rule(template, 'ParameterRule');
    expect(parameterRule.EventPattern).toEqual({
      'source': ['aws.ssm'],
      'detail-type': ['Parameter Store Change'],
      'detail': { name: ['/app/prod/config', { prefix: '/app/prod/config/' }] },
    });
    expect(parameterRule.Targets).toEqual([expect.objectContaining({
      DeadLetterConfig: { Arn: expect.anything() },
      RetryPolicy: { MaximumRetryAttempts: 2, MaximumEventAgeInSeconds: 7200 },
    })]);
    expect(parameterRule.Targets[0].Input).toBeUndefined();
    expect(syncer.parameterRule).toBeDefined();
    expect(syncer.secretRule).toBeUndefined();
  });

  test('passes the settings to the handler: sensitive keys excluded, conflicts not forced, every key', () => {
    expect(env(template)).toMatchObject({
      [SyncEnv.PRIMARY_REGION]: PRIMARY,
      [SyncEnv.SOURCE_PARAMETER_PATH]: '/app/prod/config',
      [SyncEnv.EXCLUDE_SENSITIVE_KEYS]: 'true',
      [SyncEnv.FORCE_CONFLICTS]: 'false',
      [SyncEnv.METRIC_NAMESPACE]: 'CrossRegionConfig/ConfigMapSync',
      [SyncEnv.SERVICE_NAME]: syncer.serviceName,
    });
    expect(env(template)[SyncEnv.INCLUDE_KEYS]).toBeUndefined();
    expect(env(template)[SyncEnv.SOURCE_SECRET_ARN]).toBeUndefined();
  });

  test('writes the seed\'s <project>-<environment>-config in the default namespace, without creating it', () => {
    expect(targetsOf(stack, template)).toEqual([{
      cluster: { name: 'app-eu', region: 'eu-west-1' },
      namespace: 'default',
      configMapName: 'genai-demo-production-config',
      createNamespace: false,
    }]);
  });

  test('may only read parameters under the path, in the primary region', () => {
    const statements = statementsAllowing(template, 'ssm:GetParametersByPath').filter(notLease);
    expect(statements).toHaveLength(1);
    expect(statements[0].Action).toBe('ssm:GetParametersByPath');
    expect(JSON.stringify(statements[0].Resource)).toBe(JSON.stringify([
      { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, `:ssm:${PRIMARY}:`, { Ref: 'AWS::AccountId' }, ':parameter/app/prod/config']] },
      { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, `:ssm:${PRIMARY}:`, { Ref: 'AWS::AccountId' }, ':parameter/app/prod/config/*']] },
    ]));
    expect(statementsAllowing(template, 'secretsmanager:GetSecretValue')).toEqual([]);
    expect(statementsAllowing(template, 'kms:Decrypt')).toEqual([]);
    expect(statementsAllowing(template, 'ssm:PutParameter').filter(notLease)).toEqual([]);
  });

  test('creates the sync-failure, full-pass age, error, throttle and dead-letter alarms', () => {
    expect(syncer.alarms).toHaveLength(5);
    template.resourceCountIs('AWS::CloudWatch::Alarm', 5);
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'SyncFailure',
      Namespace: 'CrossRegionConfig/ConfigMapSync',
      Statistic: 'Sum',
      Period: 300,
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      EvaluationPeriods: 1,
      DatapointsToAlarm: 1,
      TreatMissingData: 'notBreaching',
      Dimensions: [{ Name: 'service', Value: syncer.serviceName }],
      AlarmDescription: Match.stringLikeRegexp('forceConflicts'),
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'Errors', Namespace: 'AWS/Lambda', Statistic: 'Sum', Period: 300, Threshold: 1 });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'Throttles', Namespace: 'AWS/Lambda', Statistic: 'Sum', Period: 300, Threshold: 1 });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'ApproximateNumberOfMessagesVisible', Namespace: 'AWS/SQS', Statistic: 'Maximum', Period: 300, Threshold: 1,
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'RunPartial', Namespace: 'CrossRegionConfig/ConfigMapSync', Statistic: 'Minimum', Period: 600, TreatMissingData: 'breaching',
    });
    expect(syncer.syncFailuresAlarm).toBeDefined();
    expect(syncer.fullPassAgeAlarm).toBeDefined();
    expect(syncer.errorsAlarm).toBeDefined();
    expect(syncer.throttlesAlarm).toBeDefined();
    expect(syncer.deadLetterAlarm).toBeDefined();
  });

  test('creates no settings parameter', () => {
    template.resourceCountIs('AWS::SSM::Parameter', 0);
    expect(syncer.configParameter).toBeUndefined();
  });

  test('lists the commands that grant access to a cluster it cannot modify: namespace-scoped edit', () => {
    expect(syncer.clusterAccessCommands).toHaveLength(1);
    const commands = stack.resolve(syncer.clusterAccessCommands[0]);
    expect(JSON.stringify(commands)).toContain('aws eks create-access-entry --cluster-name app-eu --region eu-west-1');
    expect(JSON.stringify(commands)).toContain('cluster-access-policy/AmazonEKSEditPolicy --access-scope type=namespace,namespaces=default');
    template.resourceCountIs('AWS::EKS::AccessEntry', 0);
    Annotations.fromStack(stack).hasWarning('/TestStack/Syncer', Match.stringLikeRegexp('cannot grant the role .* access to the EKS cluster app-eu in eu-west-1'));
  });

  test('may describe a cluster given without its API server', () => {
    expect(JSON.stringify(resourcesAllowed(template, 'eks:DescribeCluster'))).toContain(':eks:eu-west-1:');
  });

  test('exposes its resources', () => {
    expect(syncer.primaryRegion).toBe(PRIMARY);
    expect(syncer.metricNamespace).toBe('CrossRegionConfig/ConfigMapSync');
    expect(syncer.handler).toBeDefined();
    expect(syncer.role).toBeDefined();
    expect(syncer.logGroup).toBeDefined();
    expect(syncer.deadLetterQueue).toBeDefined();
    expect(syncer.schedule).toBeDefined();
  });
});

describe('sources', () => {
  test('reads a secret of the stack, and syncs on its Secrets Manager change events', () => {
    const stack = newStack();
    const key = new kms.Key(stack, 'SecretKey');
    const secret = new secretsmanager.Secret(stack, 'Source', { encryptionKey: key });
    const { syncer, template } = synth({ ...MINIMAL, parameterPath: undefined, sourceSecret: secret }, stack);
    const secretRef = { Ref: stack.getLogicalId(secret.node.defaultChild as secretsmanager.CfnSecret) };

    expect(env(template)[SyncEnv.SOURCE_SECRET_ARN]).toEqual(secretRef);
    expect(env(template)[SyncEnv.SOURCE_PARAMETER_PATH]).toBeUndefined();
    expect(resourcesAllowed(template, 'secretsmanager:GetSecretValue')).toEqual([secretRef]);
    expect(statementsAllowing(template, 'ssm:GetParametersByPath').filter(notLease)).toEqual([]);
    expect(syncer.parameterRule).toBeUndefined();

    const pattern = rule(template, 'SecretRule').EventPattern;
    expect(pattern.source).toEqual(['aws.secretsmanager']);
    expect(pattern['detail-type']).toEqual(['AWS API Call via CloudTrail', 'AWS Service Event via CloudTrail']);
    expect(pattern.detail.eventSource).toEqual(['secretsmanager.amazonaws.com']);
    expect(pattern.detail.eventName).toEqual(expect.arrayContaining(['PutSecretValue', 'UpdateSecret', 'RotationSucceeded']));
    expect(pattern.detail.errorCode).toEqual([{ exists: false }]);
    expect(pattern.detail.$or).toHaveLength(3);
    expect(pattern.detail.$or[0].requestParameters.secretId).toContainEqual(secretRef);
    expect(pattern.detail.$or[2].additionalEventData.SecretId).toContainEqual(secretRef);

    // The secret's key, through Secrets Manager only (Secret.grantRead).
    template.hasResourceProperties('AWS::KMS::Key', {
      KeyPolicy: {
        Statement: Match.arrayWith([Match.objectLike({
          Action: 'kms:Decrypt',
          Condition: { StringEquals: { 'kms:ViaService': `secretsmanager.${PRIMARY}.amazonaws.com` } },
          Principal: { AWS: { 'Fn::GetAtt': [stack.getLogicalId(syncer.role.node.defaultChild as iam.CfnRole), 'Arn'] } },
        })]),
      },
    });
  });

  test('matches a secret imported by name by its name and any ARN of that name', () => {
    const stack = newStack();
    const secret = secretsmanager.Secret.fromSecretNameV2(stack, 'Source', 'app/config');
    const { template } = synth({ ...MINIMAL, sourceSecret: secret }, stack);
    const ids = rule(template, 'SecretRule').EventPattern.detail.$or[0].requestParameters.secretId;
    expect(ids[0]).toBe('app/config');
    expect(JSON.stringify(ids[1])).toContain(':secret:app/config-');
    expect(ids[1].prefix).toBeDefined();
    expect(JSON.stringify(env(template)[SyncEnv.SOURCE_SECRET_ARN])).toContain(':secret:app/config');
    expect(env(template)[SyncEnv.SOURCE_PARAMETER_PATH]).toBe('/app/prod/config');
  });

  test('may decrypt with the source keys only through Systems Manager and Secrets Manager in the primary region', () => {
    const stack = newStack();
    const key = kms.Key.fromKeyArn(stack, 'Key', 'arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab');
    const secret = secretsmanager.Secret.fromSecretCompleteArn(stack, 'Source', 'arn:aws:secretsmanager:us-east-1:111122223333:secret:app/config-AbCdEf');
    const { template } = synth({ ...MINIMAL, sourceSecret: secret, sourceEncryptionKeys: [key] }, stack);
    const decrypt = statementsAllowing(template, 'kms:Decrypt');
    expect(decrypt).toHaveLength(1);
    expect(decrypt[0].Resource).toBe(key.keyArn);
    expect(decrypt[0].Condition).toEqual({ StringEquals: { 'kms:ViaService': ['ssm.us-east-1.amazonaws.com', 'secretsmanager.us-east-1.amazonaws.com'] } });
  });

  test('may decrypt with the source keys only through Systems Manager when parameters are the only source', () => {
    const stack = newStack();
    const key = new kms.Key(stack, 'ParameterKey');
    const { template } = synth({ ...MINIMAL, sourceEncryptionKeys: [key] }, stack);
    expect(statementsAllowing(template, 'kms:Decrypt')[0].Condition).toEqual({ StringEquals: { 'kms:ViaService': ['ssm.us-east-1.amazonaws.com'] } });
  });
});

describe('targets', () => {
  test('creates a namespace-scoped edit access entry for a cluster of the stack, and needs no command', () => {
    const stack = newStack();
    const { syncer, template } = synth({ ...MINIMAL, targets: [{ cluster: KubernetesCluster.fromCluster(localCluster(stack)), namespace: 'app' }] }, stack);
    const entries = Object.values(template.findResources('AWS::EKS::AccessEntry')) as any[];
    expect(entries).toHaveLength(1);
    expect(entries[0].Properties.ClusterName).toBe('app-us');
    expect(entries[0].Properties.PrincipalArn).toEqual({ 'Fn::GetAtt': [expect.stringMatching(/^SyncerRole/), 'Arn'] });
    expect(entries[0].Properties.KubernetesGroups).toBeUndefined();
    expect(entries[0].Properties.AccessPolicies).toEqual([{
      PolicyArn: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':eks::aws:cluster-access-policy/AmazonEKSEditPolicy']] },
      AccessScope: { Type: 'namespace', Namespaces: ['app'] },
    }]);
    expect(syncer.clusterAccessCommands).toEqual([]);
    expect(targetsOf(stack, template)[0].cluster).toEqual({
      name: 'app-us', region: PRIMARY, endpoint: 'https://ABC.gr7.us-east-1.eks.amazonaws.com', certificateAuthorityData: 'Y2E=',
    });
    expect(statementsAllowing(template, 'eks:DescribeCluster')).toEqual([]);
    Annotations.fromStack(stack).hasNoWarning('/TestStack/Syncer', Match.anyValue());
  });

  test('shares one access entry between the namespaces of one cluster', () => {
    const stack = newStack();
    const cluster = KubernetesCluster.fromCluster(localCluster(stack));
    const { template } = synth({
      ...MINIMAL,
      targets: [{ cluster, namespace: 'app' }, { cluster, namespace: 'jobs' }, { cluster, namespace: 'jobs', configMapName: 'jobs-config' }],
    }, stack);
    const entries = Object.values(template.findResources('AWS::EKS::AccessEntry')) as any[];
    expect(entries).toHaveLength(1);
    expect(entries[0].Properties.AccessPolicies[0].AccessScope).toEqual({ Type: 'namespace', Namespaces: ['app', 'jobs'] });
    expect(targetsOf(stack, template).map((t) => `${t.namespace}/${t.configMapName}`))
      .toEqual(['app/genai-demo-production-config', 'jobs/genai-demo-production-config', 'jobs/jobs-config']);
  });

  test('names ConfigMaps by target, then by the syncer\'s defaults, then by project and environment', () => {
    const stack = newStack();
    const { template } = synth({
      parameterPath: '/app/prod/config',
      namespace: 'platform',
      configMapName: 'shared-config',
      projectName: 'ignored',
      environmentName: 'ignored',
      targets: [
        { cluster: REMOTE },
        { cluster: KubernetesCluster.fromClusterAttributes({ clusterName: 'app-ap', region: 'ap-southeast-1' }), namespace: 'app', configMapName: 'app-config' },
      ],
    }, stack);
    expect(targetsOf(stack, template).map((t) => [t.cluster.region, t.namespace, t.configMapName]))
      .toEqual([['eu-west-1', 'platform', 'shared-config'], ['ap-southeast-1', 'app', 'app-config']]);
  });

  test('createNamespace puts a local access entry in the namespace-creator group and warns with the kubectl grant', () => {
    const stack = newStack();
    const { syncer, template } = synth({
      ...MINIMAL, targets: [{ cluster: KubernetesCluster.fromCluster(localCluster(stack)), namespace: 'app', createNamespace: true }],
    }, stack);
    template.hasResourceProperties('AWS::EKS::AccessEntry', { KubernetesGroups: ['cross-region-config-namespace-creators'] });
    expect(targetsOf(stack, template)[0].createNamespace).toBe(true);
    expect(syncer.clusterAccessCommands).toHaveLength(1);
    const commands = syncer.clusterAccessCommands[0].split('\n');
    expect(commands).toEqual([
      'aws eks update-kubeconfig --name app-us --region us-east-1',
      'kubectl create clusterrole cross-region-config-namespace-creator --verb=get,create,patch --resource=namespaces --dry-run=client -o yaml | kubectl apply -f -',
      'kubectl create clusterrolebinding cross-region-config-namespace-creator --clusterrole=cross-region-config-namespace-creator '
        + '--group=cross-region-config-namespace-creators --dry-run=client -o yaml | kubectl apply -f -',
    ]);
    Annotations.fromStack(stack).hasWarning('/TestStack/Syncer', Match.stringLikeRegexp(
      'createNamespace needs a cluster-scoped grant[\\s\\S]*kubectl create clusterrole cross-region-config-namespace-creator[\\s\\S]*namespaceCreationNeedsClusterGrant'));
  });

  test('createNamespace on a cluster it cannot modify adds the access entry group to the setup commands', () => {
    const stack = newStack();
    const { syncer } = synth({ ...MINIMAL, targets: [{ cluster: REMOTE, createNamespace: true }] }, stack);
    const commands = JSON.stringify(stack.resolve(syncer.clusterAccessCommands[0]));
    expect(commands).toContain('aws eks create-access-entry --cluster-name app-eu --region eu-west-1');
    expect(commands).toContain('aws eks update-access-entry --cluster-name app-eu --region eu-west-1 --principal-arn ');
    expect(commands).toContain('--kubernetes-groups cross-region-config-namespace-creators');
    expect(commands).toContain('kubectl create clusterrolebinding');
    Annotations.fromStack(stack).hasWarning('/TestStack/Syncer', Match.stringLikeRegexp(
      'update-access-entry --cluster-name app-eu --region eu-west-1 --principal-arn "\\$ROLE_ARN"[\\s\\S]*where ROLE_ARN is the ARN of the syncer\'s role'));
  });

  test('warns about createNamespace with placeholders for a cluster name known only at deploy time', () => {
    const stack = newStack();
    const cluster = new eks.Cluster(stack, 'Cluster', {
      version: eks.KubernetesVersion.V1_32,
      authenticationMode: eks.AuthenticationMode.API,
      defaultCapacity: 0,
      kubectlLayer: lambda.LayerVersion.fromLayerVersionArn(stack, 'KubectlLayer', 'arn:aws:lambda:us-east-1:111122223333:layer:kubectl:1'),
    });
    synth({ ...MINIMAL, targets: [{ cluster: KubernetesCluster.fromCluster(cluster), createNamespace: true }] }, stack);
    Annotations.fromStack(stack).hasWarning('/TestStack/Syncer', Match.stringLikeRegexp('update-kubeconfig --name "\\$CLUSTER_NAME"[\\s\\S]*where CLUSTER_NAME is the name of the cluster'));
  });
});

describe('options', () => {
  test('passes includeKeys, excludeSensitiveKeys and forceConflicts, and warns when sensitive keys are synced', () => {
    const stack = newStack();
    const { template } = synth({
      ...MINIMAL,
      includeKeys: ['log_level', 'cache_ttl', 'max_connections', 'session_timeout', 'feature.*'],
      excludeSensitiveKeys: false,
      forceConflicts: true,
    }, stack);
    expect(env(template)).toMatchObject({
      [SyncEnv.INCLUDE_KEYS]: '["log_level","cache_ttl","max_connections","session_timeout","feature.*"]',
      [SyncEnv.EXCLUDE_SENSITIVE_KEYS]: 'false',
      [SyncEnv.FORCE_CONFLICTS]: 'true',
    });
    Annotations.fromStack(stack).hasWarning('/TestStack/Syncer', Match.stringLikeRegexp('excludeSensitiveKeys is false.*sensitiveKeysNotExcluded'));
  });

  test('syncs on a custom schedule', () => {
    const { template } = synth({ ...MINIMAL, schedule: events.Schedule.rate(Duration.hours(1)) });
    expect(rule(template, 'Schedule').ScheduleExpression).toBe('rate(1 hour)');
  });

  test('sizes and names the function, keeps logs as asked, and publishes metrics under the given namespace', () => {
    const { template } = synth({
      ...MINIMAL,
      memorySize: 512,
      timeout: Duration.minutes(10),
      functionName: 'configmap-syncer',
      logRetention: logs.RetentionDays.ONE_MONTH,
      metricNamespace: 'MyApp/ConfigMaps',
    });
    template.hasResourceProperties('AWS::Lambda::Function', { MemorySize: 512, Timeout: 600, FunctionName: 'configmap-syncer' });
    template.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 30 });
    expect(env(template)[SyncEnv.METRIC_NAMESPACE]).toBe('MyApp/ConfigMaps');
    template.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'SyncFailure', Namespace: 'MyApp/ConfigMaps' });
  });

  test('runs in the given VPC to reach private endpoints', () => {
    const stack = newStack();
    const vpc = new ec2.Vpc(stack, 'Vpc', { maxAzs: 2 });
    const { template } = synth({ ...MINIMAL, vpc, vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS } }, stack);
    template.hasResourceProperties('AWS::Lambda::Function', { VpcConfig: { SubnetIds: Match.anyValue(), SecurityGroupIds: Match.anyValue() } });
    template.hasResourceProperties('AWS::IAM::Role', {
      ManagedPolicyArns: [{ 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole']] }],
    });
  });

  test('writes the seed\'s configmap-sync-config document, agentless', () => {
    const stack = newStack();
    const { syncer, template } = synth({
      ...MINIMAL,
      parameterPrefix: '/genai-demo/production',
      includeKeys: ['log_level', 'cache_ttl'],
      targets: [
        { cluster: REMOTE },
        { cluster: KubernetesCluster.fromClusterAttributes({ clusterName: 'app-ap', region: 'ap-southeast-1' }), namespace: 'app', createNamespace: true },
      ],
    }, stack);
    expect(syncer.configParameter).toBeDefined();
    const parameter = Object.values(template.findResources('AWS::SSM::Parameter'))[0] as any;
    expect(parameter.Properties.Name).toBe('/genai-demo/production/global/secrets/configmap-sync-config');
    expect(parameter.Properties.Type).toBe('String');
    const value = stack.resolve(parameter.Properties.Value);
    const roleArn = { 'Fn::GetAtt': [stack.getLogicalId(syncer.role.node.defaultChild as iam.CfnRole), 'Arn'] };
    const literal = JSON.parse((value['Fn::Join'][1] as unknown[]).map((part) => (typeof part === 'string' ? part : 'ROLE_ARN')).join(''));
    expect(literal).toEqual({
      enabled: true,
      namespace: 'default',
      configMapName: 'genai-demo-production-config',
      syncInterval: '5m',
      excludeSensitiveKeys: true,
      includeKeys: ['log_level', 'cache_ttl'],
      kubernetesServiceAccount: null,
      handlerRoleArn: 'ROLE_ARN',
      targetClusters: ['eu-west-1/app-eu', 'ap-southeast-1/app-ap'],
      targets: [
        { cluster: 'eu-west-1/app-eu', namespace: 'default', configMapName: 'genai-demo-production-config', createNamespace: false },
        { cluster: 'ap-southeast-1/app-ap', namespace: 'app', configMapName: 'genai-demo-production-config', createNamespace: true },
      ],
      forceConflicts: false,
    });
    expect(JSON.stringify(value['Fn::Join'][1])).toContain(JSON.stringify(roleArn));
  });

  test('records every key and the schedule expression in the settings document when they are not a rate', () => {
    const stack = newStack();
    const { template } = synth({
      ...MINIMAL,
      parameterPrefix: '/genai-demo/production',
      configMapName: 'app-config',
      schedule: events.Schedule.cron({ minute: '0' }),
    }, stack);
    const value = stack.resolve((Object.values(template.findResources('AWS::SSM::Parameter'))[0] as any).Properties.Value);
    const literal = JSON.parse((value['Fn::Join'][1] as unknown[]).map((part) => (typeof part === 'string' ? part : 'x')).join(''));
    expect(literal).toMatchObject({ configMapName: 'app-config', syncInterval: 'cron(0 * * * ? *)', includeKeys: ['*'] });
  });

  test('routes every alarm to the given actions, and to actions added later', () => {
    const stack = newStack();
    const topic = new sns.Topic(stack, 'Topic');
    const later = new sns.Topic(stack, 'Later');
    const syncer = new ConfigMapSyncer(stack, 'Syncer', { ...MINIMAL, alarmActions: [new cw_actions.SnsAction(topic)] });
    syncer.addAlarmAction(new cw_actions.SnsAction(later));
    const alarms = Object.values(Template.fromStack(stack).findResources('AWS::CloudWatch::Alarm'));
    expect(alarms).toHaveLength(5);
    for (const alarm of alarms) {
      expect((alarm as any).Properties.AlarmActions).toEqual([
        { Ref: stack.getLogicalId(topic.node.defaultChild as sns.CfnTopic) },
        { Ref: stack.getLogicalId(later.node.defaultChild as sns.CfnTopic) },
      ]);
    }
  });

  test('creates no alarm when createAlarms is false, and warns about ignored actions', () => {
    const stack = newStack();
    const topic = new sns.Topic(stack, 'Topic');
    const { syncer, template } = synth({ ...MINIMAL, createAlarms: false, alarmActions: [new cw_actions.SnsAction(topic)] }, stack);
    expect(syncer.alarms).toEqual([]);
    expect(syncer.syncFailuresAlarm).toBeUndefined();
    expect(syncer.errorsAlarm).toBeUndefined();
    template.resourceCountIs('AWS::CloudWatch::Alarm', 0);
    Annotations.fromStack(stack).hasWarning('/TestStack/Syncer', Match.stringLikeRegexp('alarmActions are ignored.*alarmActionsIgnored'));
  });

  test('grants manual syncs', () => {
    const stack = newStack();
    const syncer = new ConfigMapSyncer(stack, 'Syncer', MINIMAL);
    const operator = new iam.Role(stack, 'Operator', { assumedBy: new iam.AccountRootPrincipal() });
    syncer.grantInvoke(operator);
    const template = Template.fromStack(stack);
    const operatorId = stack.getLogicalId(operator.node.defaultChild as any);
    const operatorPolicies = Object.values(template.findResources('AWS::IAM::Policy')).filter((p: any) => JSON.stringify(p.Properties.Roles).includes(operatorId));
    const invoke = operatorPolicies.flatMap((p: any) => p.Properties.PolicyDocument.Statement).filter((s: any) => [s.Action].flat().includes('lambda:InvokeFunction'));
    expect(invoke).toHaveLength(1);
    expect(JSON.stringify(invoke[0].Resource)).toContain(stack.getLogicalId(syncer.handler.node.defaultChild as any));
  });

  test('may invoke itself and keep its run lease, in a policy of its own that the function does not depend on', () => {
    const stack = newStack();
    const syncer = new ConfigMapSyncer(stack, 'Syncer', MINIMAL);
    const template = Template.fromStack(stack);
    const handlerId = stack.getLogicalId(syncer.handler.node.defaultChild as any);
    const policies = template.findResources('AWS::IAM::Policy', { Properties: { PolicyName: Match.stringLikeRegexp('HandOverPolicy') } });
    expect(Object.keys(policies)).toHaveLength(1);
    const [policyId, policy] = Object.entries(policies)[0] as [string, any];
    expect(policy.Properties.PolicyDocument.Statement).toContainEqual({ Action: 'lambda:InvokeFunction', Effect: 'Allow', Resource: { 'Fn::GetAtt': [handlerId, 'Arn'] } });
    expect(JSON.stringify(policy.Properties.PolicyDocument.Statement)).toContain(`${LEASE}${syncer.serviceName}/*`);
    expect(template.toJSON().Resources[handlerId].DependsOn ?? []).not.toContain(policyId);
  });

  test('has a metric method for each run metric', () => {
    const stack = newStack();
    const syncer = new ConfigMapSyncer(stack, 'Syncer', MINIMAL);
    const shown = [syncer.metricItemsProcessed(), syncer.metricRunPartial(), syncer.metricOldestUnprocessedItemAge()]
      .map((m) => `${m.metricName} ${m.statistic} ${m.period.toMinutes()} ${JSON.stringify(m.dimensions)}`);
    expect(shown).toEqual([
      `ItemsProcessed Sum 5 {"service":"${syncer.serviceName}"}`,
      `RunPartial Maximum 5 {"service":"${syncer.serviceName}"}`,
      `OldestUnprocessedItemAge Maximum 5 {"service":"${syncer.serviceName}"}`,
    ]);
  });
});

describe('metrics', () => {
  const stack = newStack();
  const local = KubernetesCluster.fromCluster(localCluster(stack));
  const { syncer } = synth({ ...MINIMAL, targets: [{ cluster: REMOTE }, { cluster: local }] }, stack);

  test('are the totals by default: sums of successes and failures, the most keys excluded in one sync, over 5 minutes', () => {
    for (const [metric, name, statistic] of [
      [syncer.metricSyncSuccess(), 'SyncSuccess', 'Sum'],
      [syncer.metricSyncFailure(), 'SyncFailure', 'Sum'],
      [syncer.metricKeysExcluded(), 'KeysExcluded', 'Maximum'],
    ] as const) {
      expect(metric.metricName).toBe(name);
      expect(metric.statistic).toBe(statistic);
      expect(metric.namespace).toBe('CrossRegionConfig/ConfigMapSync');
      expect(metric.period.toSeconds()).toBe(300);
      expect(metric.unit).toBe('Count');
      expect(stack.resolve(metric.dimensions)).toEqual({ service: syncer.serviceName });
    }
  });

  test('are per cluster with the Cluster dimension <region>/<name>', () => {
    expect(stack.resolve(syncer.metricSyncFailure({ cluster: REMOTE }).dimensions)).toEqual({ service: syncer.serviceName, Cluster: 'eu-west-1/app-eu' });
    const sameCluster = KubernetesCluster.fromClusterAttributes({ clusterName: 'app-us', region: PRIMARY });
    expect(stack.resolve(syncer.metricSyncSuccess({ cluster: sameCluster }).dimensions)).toEqual({ service: syncer.serviceName, Cluster: 'us-east-1/app-us' });
  });

  test('take the caller\'s statistic and period', () => {
    const metric = syncer.metricKeysExcluded({ statistic: 'Sum', period: Duration.hours(1) });
    expect(metric.statistic).toBe('Sum');
    expect(metric.period.toSeconds()).toBe(3600);
  });

  test('fail if the cluster is not a target', () => {
    expect(() => syncer.metricSyncFailure({ cluster: KubernetesCluster.fromClusterAttributes({ clusterName: 'other', region: 'eu-west-1' }) }))
      .toThrow('ConfigMapSyncMetricOptions.cluster must be a target cluster ["eu-west-1/app-eu","us-east-1/app-us"], but got "eu-west-1/other"');
  });
});

describe('cdk-nag', () => {
  test('a consumer applying AwsSolutionsChecks sees no unacknowledged finding from the syncer', () => {
    const app = new App();
    const stack = newStack(app);
    const key = new kms.Key(stack, 'SourceKey', { enableKeyRotation: true });
    const secret = new secretsmanager.Secret(stack, 'Source', { encryptionKey: key });
    const vpc = new ec2.Vpc(stack, 'Vpc', { maxAzs: 2 });
    new ConfigMapSyncer(stack, 'Syncer', {
      parameterPath: '/app/prod/config',
      sourceSecret: secret,
      sourceEncryptionKeys: [key],
      projectName: 'genai-demo',
      environmentName: 'production',
      targets: [
        { cluster: KubernetesCluster.fromCluster(localCluster(stack)), createNamespace: true },
        { cluster: REMOTE, namespace: 'app' },
      ],
      parameterPrefix: '/genai-demo/production',
      vpc,
    });
    const report = new AwsSolutionsChecks().validateScope(app);
    const ours = report.violations.flatMap((v) => v.violatingResources
      .filter((r) => r.constructPath?.startsWith('TestStack/Syncer/'))
      .map((r) => `${v.ruleName} ${r.constructPath}`));
    expect(ours).toEqual([]);
  });

  test('the defaults are nag-clean too', () => {
    const app = new App();
    const stack = newStack(app);
    new ConfigMapSyncer(stack, 'Syncer', MINIMAL);
    const report = new AwsSolutionsChecks().validateScope(app);
    const ours = report.violations.flatMap((v) => v.violatingResources.filter((r) => r.constructPath?.startsWith('TestStack/Syncer/')).map(() => v.ruleName));
    expect(ours).toEqual([]);
  });
});
