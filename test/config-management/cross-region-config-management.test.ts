import { App, Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import { AwsSolutionsChecks } from 'cdk-nag';
import { CrossRegionConfigManagement, CrossRegionConfigManagementProps, KubernetesCluster, MultiRegionPipeline } from '../../src';
import { minimalProps as pipelineProps } from '../multi-region-pipeline/util';

/** The seed's example: a secrets stack in ap-east-2 replicating to two regions. */
function seedExample(overrides: Partial<CrossRegionConfigManagementProps> = {}, region = 'ap-east-2') {
  const app = new App();
  const stack = new Stack(app, 'SecretsStack', { env: { account: '111111111111', region } });
  const vpc = new ec2.Vpc(stack, 'Vpc', { maxAzs: 2 });
  const secretsManagerKey = new kms.Key(stack, 'SecretsKey', { enableKeyRotation: true });
  const alertingTopic = new sns.Topic(stack, 'Alerts', { masterKey: new kms.Key(stack, 'AlertsKey', { enableKeyRotation: true }), enforceSSL: true });
  const management = new CrossRegionConfigManagement(stack, 'Secrets', {
    environment: 'production',
    projectName: 'genai-demo',
    primaryRegion: region,
    vpc,
    secretsManagerKey,
    enableMultiRegion: true,
    replicationRegions: ['ap-northeast-1', 'ap-southeast-1'],
    alertingTopic,
    ...overrides,
  });
  return { app, stack, management, template: Template.fromStack(stack) };
}

/** Every parameter's JSON value by name; references in a value (an Fn::Join) become "<ref>". */
function documents(template: Template): Record<string, any> {
  const text = (value: any): string => typeof value === 'string' ? value
    : value['Fn::Join'] ? value['Fn::Join'][1].map((part: any) => typeof part === 'string' ? part : '<ref>').join(value['Fn::Join'][0]) : '<ref>';
  return Object.fromEntries(Object.values(template.findResources('AWS::SSM::Parameter'))
    .map((p: any) => [p.Properties.Name, JSON.parse(text(p.Properties.Value))]));
}

const functionNamed = (template: Template, name: string): any =>
  Object.values(template.findResources('AWS::Lambda::Function')).find((f: any) => f.Properties.FunctionName === name);
const CLUSTER = KubernetesCluster.fromClusterAttributes({ clusterName: 'genai-demo-tokyo', region: 'ap-northeast-1' });

describe('CrossRegionConfigManagement', () => {
  test('composes the replicator and the drift detector, named as in the seed', () => {
    const { management, template } = seedExample();
    expect(management.replicator).toBeDefined();
    expect(management.driftDetector).toBeDefined();
    expect(management.configMapSyncer).toBeUndefined();
    for (const name of ['genai-demo-production-cross-region-sync', 'genai-demo-production-drift-detection']) {
      template.hasResourceProperties('AWS::Lambda::Function', { FunctionName: name, VpcConfig: Match.anyValue() });
    }
    // The replicator selects the project's secrets, named as the seed names them, and may decrypt
    // them with the given key through Secrets Manager.
    expect(management.replicator!.replicaRegions).toEqual(['ap-northeast-1', 'ap-southeast-1']);
    const replicatorFn = functionNamed(template, 'genai-demo-production-cross-region-sync');
    expect(JSON.parse(replicatorFn.Properties.Environment.Variables.SECRET_SELECTION)).toEqual({ rules: [{ namePrefixes: ['production/genai-demo/'] }] });
    const decrypt = JSON.stringify(Object.values(template.findResources('AWS::IAM::Policy'))
      .filter((p: any) => JSON.stringify(p).includes('kms:Decrypt') && JSON.stringify(p).includes('secretsmanager.ap-east-2')));
    expect(decrypt).toContain('SecretsKey');
  });

  test('writes the seed\'s documents under /<projectName>/<environment>/global/secrets/', () => {
    const { template } = seedExample();
    const docs = documents(template);
    expect(Object.keys(docs).sort()).toEqual([
      '/genai-demo/production/global/secrets/configmap-sync-config',
      '/genai-demo/production/global/secrets/cross-region-config',
      '/genai-demo/production/global/secrets/drift-detection-config',
    ]);
    expect(docs['/genai-demo/production/global/secrets/cross-region-config']).toMatchObject({
      primaryRegion: 'ap-east-2',
      replicationRegions: ['ap-northeast-1', 'ap-southeast-1'],
      syncEnabled: true,
      driftDetectionEnabled: true,
      configMapSyncEnabled: false,
      lastSyncTimestamp: null,
    });
    expect(docs['/genai-demo/production/global/secrets/drift-detection-config']).toMatchObject({
      enabled: true, checkInterval: '1h', alertThreshold: 1, autoRemediation: false, includeSecrets: true, retentionDays: 30,
    });
    expect(docs['/genai-demo/production/global/secrets/configmap-sync-config']).toEqual({ enabled: false });
  });

  test('keeps lastSyncTimestamp of its cross-region-config document through the replicator', () => {
    const { template } = seedExample();
    const fn = functionNamed(template, 'genai-demo-production-cross-region-sync');
    expect(fn.Properties.Environment.Variables.CONFIG_PARAMETER_NAME).toBe('/genai-demo/production/global/secrets/cross-region-config');
  });

  test('routes every alarm of every piece to the alerting topic', () => {
    const { management, template } = seedExample();
    const alarms = Object.values(template.findResources('AWS::CloudWatch::Alarm')) as any[];
    expect(alarms.length).toBe(management.alarms.length);
    expect(alarms.length).toBeGreaterThan(6);
    alarms.forEach((a) => expect(a.Properties.AlarmActions).toEqual([{ Ref: expect.stringMatching(/^Alerts/) }]));
  });

  test('lets CloudWatch use the alerting topic\'s key, so notifications reach the encrypted topic', () => {
    const { template } = seedExample();
    const key = Object.entries(template.findResources('AWS::KMS::Key')).find(([id]) => id.startsWith('AlertsKey'))![1] as any;
    expect(key.Properties.KeyPolicy.Statement).toContainEqual(expect.objectContaining({
      Sid: 'AllowCloudWatchAlarmsToPublish',
      Principal: { Service: 'cloudwatch.amazonaws.com' },
      Action: ['kms:Decrypt', 'kms:GenerateDataKey*'],
    }));
  });

  test('adds the ConfigMap syncer when clusters are given, and says so in the documents', () => {
    const { management, template } = seedExample({
      configMapSync: {
        parameterPath: '/genai-demo/production/app',
        targets: [{ cluster: CLUSTER }],
        includeKeys: ['log_level', 'cache_ttl', 'max_connections', 'session_timeout'],
      },
    });
    expect(management.configMapSyncer).toBeDefined();
    template.hasResourceProperties('AWS::Lambda::Function', { FunctionName: 'genai-demo-production-configmap-sync' });
    const docs = documents(template);
    expect(docs['/genai-demo/production/global/secrets/cross-region-config'].configMapSyncEnabled).toBe(true);
    expect(docs['/genai-demo/production/global/secrets/configmap-sync-config']).toMatchObject({
      enabled: true,
      namespace: 'default',
      configMapName: 'genai-demo-production-config',
      syncInterval: '5m',
      excludeSensitiveKeys: true,
      includeKeys: ['log_level', 'cache_ttl', 'max_connections', 'session_timeout'],
    });
  });

  test('keeps the settings documents out of drift detection: they exist in the primary region only', () => {
    const { template } = seedExample({ driftDetection: { parameterPaths: ['/genai-demo/production'] } });
    const fn = functionNamed(template, 'genai-demo-production-drift-detection');
    expect(JSON.stringify(fn.Properties.Environment.Variables)).toContain('/genai-demo/production/global/secrets/**');
  });

  test('with enableMultiRegion false deploys nothing regional and says so', () => {
    const { management, template, stack } = seedExample({ enableMultiRegion: false, driftDetection: { parameterPaths: ['/x'] } });
    expect(management.replicator).toBeUndefined();
    expect(management.dashboard).toBeUndefined();
    for (const type of ['AWS::Lambda::Function', 'AWS::Events::Rule', 'AWS::CloudWatch::Alarm', 'AWS::SQS::Queue']) template.resourceCountIs(type, 0);
    const docs = documents(template);
    expect(docs['/genai-demo/production/global/secrets/cross-region-config']).toMatchObject({ syncEnabled: false, replicationRegions: [] });
    expect(docs['/genai-demo/production/global/secrets/drift-detection-config']).toEqual({ enabled: false });
    expect(docs['/genai-demo/production/global/secrets/configmap-sync-config']).toEqual({ enabled: false });
    Annotations.fromStack(stack).hasInfo('/SecretsStack/Secrets', Match.stringLikeRegexp('enableMultiRegion is false: no secret replicator'));
    Annotations.fromStack(stack).hasWarning('/SecretsStack/Secrets', Match.stringLikeRegexp('driftDetection ignored because enableMultiRegion is false'));
  });

  test('without drift detection writes a disabled drift-detection-config', () => {
    const { management, template, stack } = seedExample({ driftDetection: { enabled: false, parameterPaths: ['/x'] } });
    expect(management.driftDetector).toBeUndefined();
    expect(documents(template)['/genai-demo/production/global/secrets/drift-detection-config']).toEqual({ enabled: false });
    expect(documents(template)['/genai-demo/production/global/secrets/cross-region-config'].driftDetectionEnabled).toBe(false);
    Annotations.fromStack(stack).hasWarning('/SecretsStack/Secrets', Match.stringLikeRegexp('driftDetection options are ignored'));
  });

  test('keeps each document\'s logical id when pieces are turned on or off, so updates happen in place', () => {
    const ids = (template: Template) => Object.fromEntries(Object.entries(template.findResources('AWS::SSM::Parameter')).map(([id, p]: any) => [p.Properties.Name, id]));
    const on = ids(seedExample({ configMapSync: { parameterPath: '/p', targets: [{ cluster: CLUSTER }] } }).template);
    expect(ids(seedExample({ enableMultiRegion: false }).template)).toEqual(on);
    expect(ids(seedExample({ driftDetection: { enabled: false } }).template)).toEqual(on);
    expect(ids(seedExample().template)).toEqual(on);
    expect(Object.keys(on)).toHaveLength(3);
  });

  test('writes gitops-config for an attached pipeline of the same stack and routes its alarms', () => {
    const app = new App();
    const stack = new Stack(app, 'Everything', { env: { account: '111111111111', region: 'us-east-1' } });
    const pipeline = new MultiRegionPipeline(stack, 'Pipeline', pipelineProps());
    const topic = new sns.Topic(stack, 'Alerts', { masterKey: new kms.Key(stack, 'K') });
    const management = new CrossRegionConfigManagement(stack, 'Secrets', {
      environment: 'production', projectName: 'genai-demo', replicationRegions: ['eu-west-1'], alertingTopic: topic, pipeline,
    });
    const template = Template.fromStack(stack);
    expect(documents(template)['/genai-demo/production/global/secrets/gitops-config']).toMatchObject({
      pipelineName: pipeline.pipelineName, strategy: 'sequential', deploymentRegions: ['us-east-1', 'eu-west-1', 'ap-southeast-2'],
    });
    const pipelineAlarm = Object.entries(template.findResources('AWS::CloudWatch::Alarm')).find(([id]) => id.startsWith('PipelinePipelineFailedAlarm'))![1] as any;
    expect(pipelineAlarm.Properties.AlarmActions).toEqual([{ Ref: expect.stringMatching(/^Alerts/) }]);
    expect(management.alarms).toEqual(expect.arrayContaining(pipeline.alarms));
  });

  test('creates the dashboard of its pieces', () => {
    const { management, template } = seedExample();
    expect(management.dashboard).toBeDefined();
    template.hasResourceProperties('AWS::CloudWatch::Dashboard', { DashboardName: 'genai-demo-production-cross-region-config' });
  });

  test('a consumer applying AwsSolutionsChecks sees no unacknowledged finding from it', () => {
    const { app } = seedExample({ configMapSync: { parameterPath: '/genai-demo/production/app', targets: [{ cluster: CLUSTER }] } });
    const report = new AwsSolutionsChecks().validateScope(app);
    const ours = report.violations.flatMap((v) => v.violatingResources
      .filter((r) => r.constructPath?.startsWith('SecretsStack/Secrets/'))
      .map((r) => `${v.ruleName} ${r.constructPath}`));
    expect(ours).toEqual([]);
  });
});

describe('CrossRegionConfigManagement fails if', () => {
  test('the stack has no explicit region', () => {
    const stack = new Stack(new App(), 'Agnostic');
    expect(() => new CrossRegionConfigManagement(stack, 'Secrets', { environment: 'production', projectName: 'app', replicationRegions: ['eu-west-1'] }))
      .toThrow('CrossRegionConfigManagement needs a stack with an explicit region (env.region), but got an environment-agnostic stack');
  });
  test('projectName is not a name', () => {
    expect(() => seedExample({ projectName: 'genai demo' })).toThrow('projectName must be 1 to 40 of the characters A-Z a-z 0-9 _ -, starting with a letter or digit, but got "genai demo"');
  });
  test('environment is not a name', () => {
    expect(() => seedExample({ environment: 'prod/eu' })).toThrow('environment must be 1 to 40 of the characters A-Z a-z 0-9 _ -, starting with a letter or digit, but got "prod/eu"');
  });
  test('projectName and environment make a function name longer than Lambda allows', () => {
    expect(() => seedExample({ projectName: 'p'.repeat(30), environment: 'e'.repeat(20) }))
      .toThrow(`projectName and environment must together leave room for the function name "${'p'.repeat(30)}-${'e'.repeat(20)}-cross-region-sync" (at most 64 characters; 69 received)`);
  });
  test('primaryRegion is not the stack\'s region', () => {
    expect(() => seedExample({ primaryRegion: 'eu-west-1' }))
      .toThrow('primaryRegion must be the stack\'s region "ap-east-2" (every piece reads its sources in its stack\'s region), but got "eu-west-1"');
  });
  test('replicationRegions is empty while multi-region is on', () => {
    expect(() => seedExample({ replicationRegions: [] })).toThrow('replicationRegions must not be empty, but got []');
  });
  test('replicationRegions contains the primary region', () => {
    expect(() => seedExample({ replicationRegions: ['ap-east-2'] })).toThrow('replicationRegions must not contain the primary region "ap-east-2", but got ["ap-east-2"]');
  });
});

test('warns when an attached pipeline of another stack keeps its own alarm actions', () => {
  const app = new App();
  const env = { account: '111111111111', region: 'us-east-1' };
  const pipelineStack = new Stack(app, 'PipelineStack', { env });
  const pipeline = new MultiRegionPipeline(pipelineStack, 'Pipeline', pipelineProps());
  const stack = new Stack(app, 'Secrets', { env });
  new CrossRegionConfigManagement(stack, 'Secrets', {
    environment: 'production',
    projectName: 'app',
    replicationRegions: ['eu-west-1'],
    pipeline,
    alertingTopic: new sns.Topic(stack, 'Alerts', { masterKey: new kms.Key(stack, 'K') }),
  });
  Annotations.fromStack(stack).hasWarning('/Secrets/Secrets', Match.stringLikeRegexp('The pipeline\'s alarms are not routed to alertingTopic'));
  expect(documents(Template.fromStack(stack))['/app/production/global/secrets/gitops-config']).toMatchObject({ pipelineName: pipeline.pipelineName });
  // No dependency cycle between the two stacks.
  expect(() => app.synth()).not.toThrow();
});

test('warns when the alerting topic is not encrypted', () => {
  const app = new App();
  const stack = new Stack(app, 'S', { env: { region: 'us-east-1' } });
  new CrossRegionConfigManagement(stack, 'Secrets', {
    environment: 'production', projectName: 'app', replicationRegions: ['eu-west-1'], alertingTopic: new sns.Topic(stack, 'Plain'),
  });
  Annotations.fromStack(stack).hasWarning('/S/Secrets', Match.stringLikeRegexp('alertingTopic has no masterKey'));
});
