import { App, CfnElement, Duration, Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as cw_actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as eks from 'aws-cdk-lib/aws-eks';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sns from 'aws-cdk-lib/aws-sns';
import { AwsSolutionsChecks } from 'cdk-nag';
import {
  ConfigDriftDetector, ConfigDriftDetectorProps, ConflictPolicy, CrossRegionSecretReplicator, DriftIgnoreRule, DriftRemediation, DriftResourceType,
  KubernetesCluster,
  SecretSelection,
} from '../../src';
import { DriftEnv } from '../../src/drift-detector/contract';
import { handlerEnvironment, newStack, PRIMARY, resourcesAllowed, statementsAllowing } from '../secret-replicator/util';

/** Statements and resources other than the run lease's own records (HandOverPolicy, tested on their own). */
const LEASE = ':parameter/cdk-cross-region-config/runs/';
const notLease = (x: unknown) => !JSON.stringify(x).includes(LEASE);
const MINIMAL: ConfigDriftDetectorProps = { replicaRegions: ['eu-west-1'], parameterPaths: ['/app/prod'] };

function synth(props: ConfigDriftDetectorProps = MINIMAL, stack: Stack = newStack()) {
  const detector = new ConfigDriftDetector(stack, 'Detector', props);
  return { stack, detector, template: Template.fromStack(stack) };
}

function env(template: Template): Record<string, any> {
  return handlerEnvironment(template);
}

describe('defaults', () => {
  const { detector, template } = synth();

  test('runs the bundled handler on nodejs22.x with the seed\'s 512 MiB and 15 minutes', () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      Runtime: 'nodejs22.x', MemorySize: 512, Timeout: 900, Architectures: ['arm64'], TracingConfig: { Mode: 'Active' },
    });
  });

  test('scans hourly with {"action":"scheduled_check"}', () => {
    template.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'rate(1 hour)',
      Targets: [Match.objectLike({ Input: '{"action":"scheduled_check"}', DeadLetterConfig: Match.anyValue(), RetryPolicy: { MaximumRetryAttempts: 2, MaximumEventAgeInSeconds: 7200 } })],
    });
  });

  test('creates an encrypted, SSL-only, private report bucket whose reports expire after 30 days', () => {
    template.hasResourceProperties('AWS::S3::Bucket', {
      BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] },
      PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true },
      LifecycleConfiguration: { Rules: [Match.objectLike({ ExpirationInDays: 30, Status: 'Enabled' })] },
    });
    template.hasResourceProperties('AWS::S3::BucketPolicy', {
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]) },
    });
  });

  test('passes the settings to the handler: 10-minute grace window, no remediation, no extra items', () => {
    expect(env(template)).toMatchObject({
      [DriftEnv.PRIMARY_REGION]: PRIMARY,
      [DriftEnv.REPLICA_TARGETS]: '[{"region":"eu-west-1"}]',
      [DriftEnv.PARAMETER_PATHS]: '["/app/prod"]',
      [DriftEnv.GRACE_WINDOW_SECONDS]: '600',
      [DriftEnv.REMEDIATION_MODE]: 'OFF',
      [DriftEnv.REPORT_EXTRA_ITEMS]: 'false',
      [DriftEnv.REPORT_PREFIX]: 'drift-reports/',
      [DriftEnv.METRIC_NAMESPACE]: 'CrossRegionConfig/ConfigurationDrift',
      [DriftEnv.SERVICE_NAME]: detector.serviceName,
    });
    expect(env(template)[DriftEnv.SECRET_SELECTION]).toBeUndefined();
  });

  test('creates the drift, scan-failure, full-scan age and handler alarms, and no remediation alarm', () => {
    expect(detector.alarms).toHaveLength(6);
    expect(detector.remediationFailuresAlarm).toBeUndefined();
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'DriftCount',
      Namespace: 'CrossRegionConfig/ConfigurationDrift',
      Statistic: 'Maximum',
      Period: 3600,
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      EvaluationPeriods: 1,
      TreatMissingData: 'ignore',
      Dimensions: [{ Name: 'service', Value: detector.serviceName }],
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'ScanFailures', Threshold: 1 });
  });

  test('may only read parameters under the path, in the primary and replica regions', () => {
    const resources = JSON.stringify(resourcesAllowed(template, 'ssm:GetParametersByPath'));
    for (const region of [PRIMARY, 'eu-west-1']) {
      expect(resources).toContain(`:ssm:${region}:`);
    }
    expect(resources).toContain(':parameter/app/prod"');
    expect(resources).toContain(':parameter/app/prod/*"');
    expect(statementsAllowing(template, 'ssm:PutParameter').filter(notLease)).toEqual([]);
  });

  test('may only put objects under the report prefix', () => {
    expect(JSON.stringify(resourcesAllowed(template, 's3:PutObject'))).toContain('/drift-reports/*');
  });

  test('may invoke itself, keep its run lease and read back and delete the parts of a scan in progress, in policies the function does not depend on', () => {
    const stack = newStack();
    const subject = new ConfigDriftDetector(stack, 'Detector', MINIMAL);
    const own = Template.fromStack(stack);
    const handlerId = stack.getLogicalId(subject.handler.node.defaultChild as CfnElement);
    const policies = (name: string) => own.findResources('AWS::IAM::Policy', { Properties: { PolicyName: Match.stringLikeRegexp(name) } });
    const handOver = Object.values(policies('HandOverPolicy')) as any[];
    expect(handOver).toHaveLength(1);
    const statements = JSON.stringify(handOver[0].Properties.PolicyDocument.Statement);
    expect(handOver[0].Properties.PolicyDocument.Statement).toContainEqual({ Action: 'lambda:InvokeFunction', Effect: 'Allow', Resource: { 'Fn::GetAtt': [handlerId, 'Arn'] } });
    expect(statements).toContain(`${LEASE}${subject.serviceName}/*`);
    const parts = Object.entries(policies('ScanPartsPolicy')) as Array<[string, any]>;
    expect(parts).toHaveLength(1);
    expect(parts[0][1].Properties.PolicyDocument.Statement).toHaveLength(1);
    expect(parts[0][1].Properties.PolicyDocument.Statement[0].Action).toEqual(['s3:GetObject', 's3:DeleteObject']);
    expect(JSON.stringify(parts[0][1].Properties.PolicyDocument.Statement[0].Resource)).toContain('/drift-reports/parts/*');
    const dependsOn = own.toJSON().Resources[handlerId].DependsOn ?? [];
    for (const id of [...Object.keys(policies('HandOverPolicy')), parts[0][0]]) expect(dependsOn).not.toContain(id);
  });

  test('has a metric method for each run metric', () => {
    const stack = newStack();
    const subject = new ConfigDriftDetector(stack, 'Detector', MINIMAL);
    const shown = [subject.metricItemsProcessed(), subject.metricRunPartial(), subject.metricOldestUnprocessedItemAge()]
      .map((m) => `${m.metricName} ${m.statistic} ${m.period.toMinutes()} ${JSON.stringify(m.dimensions)}`);
    expect(shown).toEqual([
      `ItemsProcessed Sum 60 {"service":"${subject.serviceName}"}`,
      `RunPartial Maximum 60 {"service":"${subject.serviceName}"}`,
      `OldestUnprocessedItemAge Maximum 60 {"service":"${subject.serviceName}"}`,
    ]);
  });
});

describe('with a replicator', () => {
  test('never compares the replicator\'s own settings parameter, which it rewrites after every full sync', () => {
    const stack = newStack();
    const replicator = new CrossRegionSecretReplicator(stack, 'Replicator', {
      secrets: SecretSelection.byNamePrefix('prod/'), replicaRegions: ['eu-west-1'], parameterPrefix: '/app/prod',
    });
    new ConfigDriftDetector(stack, 'Detector', { replicator, parameterPaths: ['/app'], parameterPrefix: '/app/drift' });
    const variables = Object.values(Template.fromStack(stack).findResources('AWS::Lambda::Function'))
      .map((f: any) => f.Properties.Environment.Variables).find((v: any) => v[DriftEnv.REMEDIATION_MODE]);
    expect(stack.resolve(variables[DriftEnv.EXCLUDED_PARAMETERS])).toEqual({
      'Fn::Join': ['', ['["/app/drift/global/secrets/drift-detection-config","', { Ref: stack.getLogicalId(replicator.configParameter!.node.defaultChild as CfnElement) }, '"]']],
    });
  });

  function withReplicator(props: Partial<ConfigDriftDetectorProps> = {}) {
    const stack = newStack();
    const replicator = new CrossRegionSecretReplicator(stack, 'Replicator', {
      secrets: SecretSelection.byNamePrefix('prod/'),
      replicaRegions: ['eu-west-1', 'ap-southeast-1'],
      replicaKmsKeys: [{ region: 'eu-west-1', aliasName: 'alias/secrets' }],
    });
    const detector = new ConfigDriftDetector(stack, 'Detector', { replicator, ...props });
    return { stack, replicator, detector, template: Template.fromStack(stack) };
  }

  test('compares the replicator\'s secrets in its replica regions with its replica keys', () => {
    const { detector, template } = withReplicator();
    const variables = Object.values(template.findResources('AWS::Lambda::Function'))
      .map((f: any) => f.Properties.Environment.Variables).find((v: any) => v[DriftEnv.REMEDIATION_MODE]);
    expect(JSON.parse(variables[DriftEnv.SECRET_SELECTION])).toEqual({ rules: [{ namePrefixes: ['prod/'] }] });
    expect(JSON.parse(variables[DriftEnv.REPLICA_TARGETS])).toEqual([{ region: 'eu-west-1', kmsKeyId: 'alias/secrets' }, { region: 'ap-southeast-1' }]);
    expect(detector.replicaRegions).toEqual(['eu-west-1', 'ap-southeast-1']);
    expect(detector.resourceTypes).toEqual(['secret']);
  });

  test('uses the replicator\'s provenance key for auto-remediation', () => {
    const { replicator, detector } = withReplicator({ autoRemediation: DriftRemediation.APPLY });
    expect(detector.provenanceKey).toBe(replicator.provenanceKey);
  });

  test('may read the selected secrets in every region and list them only there', () => {
    const { template } = withReplicator();
    const reads = JSON.stringify(statementsAllowing(template, 'secretsmanager:BatchGetSecretValue'));
    expect(reads).toContain('"aws:RequestedRegion":["us-east-1","eu-west-1","ap-southeast-1"]');
  });

  test('may decrypt replica secrets with their customer managed keys even without remediation, and resolve key aliases', () => {
    const { template } = withReplicator();
    const detectorStatements = Object.entries(template.findResources('AWS::IAM::Policy'))
      .filter(([id]) => id.startsWith('DetectorRole'))
      .flatMap(([, policy]: [string, any]) => policy.Properties.PolicyDocument.Statement as any[]);
    const allowing = (action: string) => detectorStatements.filter((st) => ([] as string[]).concat(st.Action).includes(action));
    const decrypt = allowing('kms:Decrypt');
    expect(decrypt).toHaveLength(1);
    expect(decrypt[0].Action).toBe('kms:Decrypt');
    expect(decrypt[0].Condition).toEqual({
      'ForAnyValue:StringEquals': { 'kms:ResourceAliases': 'alias/secrets' },
      'StringEquals': { 'kms:ViaService': 'secretsmanager.eu-west-1.amazonaws.com' },
    });
    expect(JSON.stringify(allowing('kms:DescribeKey'))).toContain(':kms:eu-west-1:');
    expect(allowing('kms:Encrypt')).toHaveLength(0);
  });

  test('inherits the replicator\'s source keys and never compares its provenance key, which it only reads to remediate', () => {
    const stack = newStack();
    const key = new kms.Key(stack, 'SourceKey');
    const replicator = new CrossRegionSecretReplicator(stack, 'Replicator', {
      secrets: SecretSelection.byTags({ replicate: 'yes' }),
      replicaRegions: ['eu-west-1'],
      sourceEncryptionKeys: [key],
      conflictPolicy: ConflictPolicy.SKIP_AND_ALARM,
      replicateTags: false,
    });
    new ConfigDriftDetector(stack, 'Detector', { replicator });
    const template = Template.fromStack(stack);
    const variables = Object.values(template.findResources('AWS::Lambda::Function'))
      .map((f: any) => f.Properties.Environment.Variables).find((v: any) => v[DriftEnv.REMEDIATION_MODE]);
    expect(variables[DriftEnv.PROVENANCE_KEY_SECRET_ARN]).toEqual({ Ref: expect.stringMatching(/^ReplicatorProvenanceKey/) });
    expect(variables[DriftEnv.REMEDIATION_CONFLICT_POLICY]).toBe('SKIP_AND_ALARM');
    expect(variables[DriftEnv.REMEDIATION_REPLICATE_TAGS]).toBe('false');
    const decrypt = statementsAllowing(template, 'kms:Decrypt').filter((st) => JSON.stringify(st).includes('SourceKey'));
    expect(decrypt.length).toBeGreaterThanOrEqual(2); // the replicator's and the detector's
    const detectorPolicies = Object.entries(template.findResources('AWS::IAM::Policy')).filter(([id]) => id.startsWith('DetectorRole'));
    expect(JSON.stringify(detectorPolicies)).not.toContain('ReplicatorProvenanceKey');
  });

  test('narrowing replicaRegions keeps only the replicator\'s keys of those regions', () => {
    const { detector } = withReplicator({ replicaRegions: ['ap-southeast-1'] });
    expect(detector.replicaRegions).toEqual(['ap-southeast-1']);
  });

  test('fails if the replicator is in another region', () => {
    const app = new App();
    const replicator = new CrossRegionSecretReplicator(newStack(app, 'eu-central-1'), 'Replicator', {
      secrets: SecretSelection.byNamePrefix('prod/'), replicaRegions: ['eu-west-1'],
    });
    expect(() => new ConfigDriftDetector(new Stack(app, 'Other', { env: { region: PRIMARY } }), 'Detector', { replicator }))
      .toThrow('replicator must be in the detector\'s region us-east-1, but got "eu-central-1"');
  });
});

describe('with a replicator that selects by tags', () => {
  function tagged(replicateTags: boolean, autoRemediation: DriftRemediation = DriftRemediation.OFF) {
    const stack = newStack();
    const sourceKey = new kms.Key(stack, 'SourceKey');
    const replicator = new CrossRegionSecretReplicator(stack, 'Replicator', {
      secrets: SecretSelection.byTags({ replicate: 'yes' }),
      replicaRegions: ['eu-west-1'],
      replicateTags,
      sourceEncryptionKeys: [sourceKey],
    });
    const detector = new ConfigDriftDetector(stack, 'Detector', { replicator, autoRemediation, parameterPaths: ['/app/prod'] });
    return { replicator, detector, template: Template.fromStack(stack) };
  }
  const replicaRead = (template: Template) => statementsAllowing(template, 'secretsmanager:GetSecretValue')
    .filter((st) => JSON.stringify(st.Resource).includes(':secretsmanager:eu-west-1:'));

  test('reads the replicas by the replicator\'s provenance tags, not the selected tags, whether or not tags are replicated', () => {
    for (const replicateTags of [true, false]) {
      const { replicator, detector, template } = tagged(replicateTags);
      expect(detector.deploymentId).toBe(replicator.deploymentId);
      expect(replicaRead(template).map((st) => st.Condition)).toEqual([{
        StringEquals: {
          'secretsmanager:ResourceTag/cross-region-config:source-region': PRIMARY,
          'secretsmanager:ResourceTag/cross-region-config:deployment': replicator.deploymentId,
        },
      }]);
    }
  });

  test('APPLY writes the replicator\'s deployment id into the handler\'s environment', () => {
    const { replicator, template } = tagged(true, DriftRemediation.APPLY);
    const variables = Object.values(template.findResources('AWS::Lambda::Function'))
      .map((f: any) => f.Properties.Environment.Variables).find((v: any) => v[DriftEnv.REMEDIATION_MODE]);
    expect(variables[DriftEnv.DEPLOYMENT_ID]).toBe(replicator.deploymentId);
    // The replicator's role and the detector's: both create only replicas tagged as this deployment's.
    expect(statementsAllowing(template, 'secretsmanager:CreateSecret').map((st) => st.Condition)).toEqual([1, 2].map(() => ({
      StringEquals: {
        'aws:RequestTag/cross-region-config:source-region': PRIMARY,
        'aws:RequestTag/cross-region-config:deployment': replicator.deploymentId,
      },
    })));
  });

  test('decrypts with the source keys through Secrets Manager and, for the parameter paths, Parameter Store in the primary region', () => {
    const { template } = tagged(true);
    expect(statementsAllowing(template, 'kms:Decrypt').map((st) => st.Condition)).toContainEqual({
      StringEquals: { 'kms:ViaService': [`secretsmanager.${PRIMARY}.amazonaws.com`, `ssm.${PRIMARY}.amazonaws.com`] },
    });
  });
});

describe('auto-remediation', () => {
  test('APPLY adds the write permissions, a provenance key and the remediation alarm', () => {
    const { detector, template } = synth({
      ...MINIMAL, secrets: SecretSelection.fromNames('app/db'), autoRemediation: DriftRemediation.APPLY,
    });
    expect(env(template)[DriftEnv.REMEDIATION_MODE]).toBe('APPLY');
    expect(env(template)[DriftEnv.PROVENANCE_KEY_SECRET_ARN]).toEqual({ Ref: expect.stringMatching(/ProvenanceKey/) });
    expect(JSON.stringify(resourcesAllowed(template, 'ssm:PutParameter'))).toContain(':ssm:eu-west-1:');
    expect(JSON.stringify(resourcesAllowed(template, 'ssm:PutParameter').filter(notLease))).not.toContain(`:ssm:${PRIMARY}:`);
    expect(JSON.stringify(resourcesAllowed(template, 'secretsmanager:CreateSecret'))).toContain(':secretsmanager:eu-west-1:');
    expect(detector.remediationFailuresAlarm).toBeDefined();
  });

  test('DRY_RUN writes nothing', () => {
    const { template } = synth({ ...MINIMAL, autoRemediation: DriftRemediation.DRY_RUN });
    expect(statementsAllowing(template, 'ssm:PutParameter').filter(notLease)).toEqual([]);
  });
});

describe('options', () => {
  test('passes ignore rules, tag keys, grace window, extra items and a custom schedule', () => {
    const { template } = synth({
      ...MINIMAL,
      secrets: SecretSelection.byNamePrefix('prod/'),
      comparedTagKeys: ['team'],
      ignoreRules: [DriftIgnoreRule.parameters('/app/prod/regional/**'), DriftIgnoreRule.configMapKeys('default/*', 'region', { replicaRegions: ['eu-west-1'] })],
      graceWindow: Duration.minutes(2),
      reportExtraItems: true,
      schedule: events.Schedule.rate(Duration.minutes(30)),
    });
    expect(JSON.parse(env(template)[DriftEnv.IGNORE_RULES])).toEqual([
      { kind: 'parameter', namePattern: '/app/prod/regional/**' },
      { kind: 'configmap', namePattern: 'default/*', keyPattern: 'region', regions: ['eu-west-1'] },
    ]);
    expect(env(template)).toMatchObject({ [DriftEnv.COMPARED_TAG_KEYS]: '["team"]', [DriftEnv.GRACE_WINDOW_SECONDS]: '120', [DriftEnv.REPORT_EXTRA_ITEMS]: 'true' });
    template.hasResourceProperties('AWS::Events::Rule', { ScheduleExpression: 'rate(30 minutes)' });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'DriftCount', Period: 1800 });
  });

  test('writes reports to a given bucket and creates none', () => {
    const stack = newStack();
    const bucket = new s3.Bucket(stack, 'Reports');
    const { template } = synth({ ...MINIMAL, reportBucket: bucket, reportPrefix: 'drift/' }, stack);
    template.resourceCountIs('AWS::S3::Bucket', 1);
    expect(env(template)[DriftEnv.REPORT_BUCKET]).toEqual({ Ref: stack.getLogicalId(bucket.node.defaultChild as s3.CfnBucket) });
  });

  test('writes the seed\'s drift-detection-config document and never compares it', () => {
    const { template } = synth({ ...MINIMAL, parameterPrefix: '/app/prod', alertThreshold: 3 });
    template.hasResourceProperties('AWS::SSM::Parameter', {
      Name: '/app/prod/global/secrets/drift-detection-config',
      Value: JSON.stringify({
        enabled: true,
        checkInterval: '1h',
        alertThreshold: 3,
        autoRemediation: false,
        autoRemediationMode: 'OFF',
        includeSecrets: false,
        includeParameters: true,
        includeConfigMaps: false,
        retentionDays: 30,
      }),
    });
    expect(env(template)[DriftEnv.EXCLUDED_PARAMETERS]).toBe('["/app/prod/global/secrets/drift-detection-config"]');
    template.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'DriftCount', Threshold: 3 });
  });

  test('routes every alarm to the given actions', () => {
    const stack = newStack();
    const topic = new sns.Topic(stack, 'Topic');
    const { detector, template } = synth({ ...MINIMAL, alarmActions: [new cw_actions.SnsAction(topic)] }, stack);
    const alarms = Object.values(template.findResources('AWS::CloudWatch::Alarm'));
    expect(alarms).toHaveLength(detector.alarms.length);
    for (const alarm of alarms) {
      expect((alarm as any).Properties.AlarmActions).toEqual([{ Ref: stack.getLogicalId(topic.node.defaultChild as sns.CfnTopic) }]);
    }
  });

  test('creates no alarm when createAlarms is false, and warns about ignored actions', () => {
    const stack = newStack();
    const topic = new sns.Topic(stack, 'Topic');
    const { detector } = synth({ ...MINIMAL, createAlarms: false, alarmActions: [new cw_actions.SnsAction(topic)] }, stack);
    expect(detector.alarms).toEqual([]);
    Annotations.fromStack(stack).hasWarning('/TestStack/Detector', Match.stringLikeRegexp('alarmActions are ignored'));
  });

  test('metric methods give the split metrics', () => {
    const { stack, detector } = synth({ ...MINIMAL, secrets: SecretSelection.fromNames('a') });
    expect(stack.resolve(detector.metricDriftCount({ resourceType: DriftResourceType.PARAMETER }).dimensions)).toEqual({ service: detector.serviceName, ResourceType: 'parameter' });
    expect(stack.resolve(detector.metricHasDrift({ replicaRegion: 'eu-west-1' }).dimensions)).toEqual({ service: detector.serviceName, ReplicaRegion: 'eu-west-1' });
    expect(() => detector.metricDriftCount({ resourceType: DriftResourceType.CONFIGMAP }))
      .toThrow('DriftMetricOptions.resourceType must be one of the compared resource types ["secret","parameter"], but got "configmap"');
    expect(() => detector.metricDriftCount({ replicaRegion: 'us-west-2' }))
      .toThrow('DriftMetricOptions.replicaRegion must be one of the replica regions ["eu-west-1"], but got "us-west-2"');
  });

  test('grants report reads and manual scans', () => {
    const stack = newStack();
    const detector = new ConfigDriftDetector(stack, 'Detector', MINIMAL);
    const role = new iam.Role(stack, 'Reader', { assumedBy: new iam.AccountRootPrincipal() });
    detector.grantReadReports(role);
    detector.grantInvoke(role);
    const template = Template.fromStack(stack);
    expect(JSON.stringify(template.toJSON())).toContain('lambda:InvokeFunction');
    expect(JSON.stringify(resourcesAllowed(template, 's3:GetObject*'))).toContain('/drift-reports/*');
  });
});

describe('ConfigMaps', () => {
  test('creates a namespace-scoped view access entry for a cluster of the same stack, and commands for others', () => {
    const stack = newStack();
    const local = eks.Cluster.fromClusterAttributes(stack, 'Local', {
      clusterName: 'primary', clusterEndpoint: 'https://ABC.gr7.us-east-1.eks.amazonaws.com', clusterCertificateAuthorityData: 'Y2E=',
    });
    const { detector, template } = synth({
      configMaps: [{
        primaryCluster: KubernetesCluster.fromCluster(local),
        replicaClusters: [KubernetesCluster.fromClusterAttributes({ clusterName: 'replica', region: 'eu-west-1' })],
        names: ['app-config'],
      }],
    }, stack);
    const entries = Object.values(template.findResources('AWS::EKS::AccessEntry')) as any[];
    expect(entries).toHaveLength(1);
    expect(entries[0].Properties.ClusterName).toBe('primary');
    expect(entries[0].Properties.AccessPolicies).toHaveLength(1);
    expect(JSON.stringify(entries[0].Properties.AccessPolicies[0].PolicyArn)).toContain('cluster-access-policy/AmazonEKSViewPolicy');
    expect(entries[0].Properties.AccessPolicies[0].AccessScope).toEqual({ Type: 'namespace', Namespaces: ['default'] });
    expect(detector.clusterAccessCommands).toHaveLength(1);
    expect(detector.clusterAccessCommands[0]).toContain('aws eks create-access-entry --cluster-name replica --region eu-west-1');
    expect(detector.replicaRegions).toEqual(['eu-west-1']);
    const scopes = JSON.parse(JSON.stringify(stack.resolve(env(template)[DriftEnv.CONFIGMAP_SCOPES])));
    expect(JSON.stringify(scopes)).toContain('replica');
  });
});

describe('cdk-nag', () => {
  test('a consumer applying AwsSolutionsChecks sees no unacknowledged finding from the detector', () => {
    const app = new App();
    const stack = newStack(app);
    const replicator = new CrossRegionSecretReplicator(stack, 'Replicator', {
      secrets: SecretSelection.anyOf(SecretSelection.byNamePrefix('prod/'), SecretSelection.byTags({ replicate: 'yes' })),
      replicaRegions: ['eu-west-1'],
      replicaKmsKeys: [{ region: 'eu-west-1', aliasName: 'alias/secrets' }],
    });
    new ConfigDriftDetector(stack, 'Detector', {
      replicator,
      parameterPaths: ['/app/prod'],
      autoRemediation: DriftRemediation.APPLY,
      parameterPrefix: '/app/prod',
      encryptionKeyArns: ['arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab'],
    });
    const report = new AwsSolutionsChecks().validateScope(app);
    const ours = report.violations.flatMap((v) => v.violatingResources
      .filter((r) => r.constructPath?.startsWith('TestStack/Detector/'))
      .map((r) => `${v.ruleName} ${r.constructPath}`));
    expect(ours).toEqual([]);
  });
});
