import { Duration } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as ssm from 'aws-cdk-lib/aws-ssm';
import { environmentOf, MINIMAL_PROPS, newStack, parameterArn, statementsOf, synth } from './util';
import { ConflictPolicy, CrossRegionParameterReplicator, ParameterOverride, ParameterSelection } from '../../src';

const actionsOf = (s: Record<string, any>) => [s.Action].flat();
/** A statement on the run lease's own records (HandOverPolicy). */
const isRunLease = (s: Record<string, any>) => JSON.stringify(s.Resource).includes(':parameter/cdk-cross-region-config/runs/');
const statementWith = (template: Template, action: string, region: string) => statementsOf(template)
  .filter((s) => actionsOf(s).includes(action) && JSON.stringify(s.Resource).includes(`:${region}:`) && !isRunLease(s));

describe('CrossRegionParameterReplicator defaults', () => {
  const { replicator, template } = synth();
  const env = environmentOf(template);

  test('passes the primary region, selection and replica targets to the handler', () => {
    expect(env).toMatchObject({
      PRIMARY_REGION: 'us-east-1',
      PARAMETER_SELECTION: JSON.stringify({ paths: ['/app/prod'] }),
      REPLICA_TARGETS: JSON.stringify([{ region: 'eu-west-1' }]),
    });
  });

  test('primary wins, tags are copied, deletions are not propagated, 2 writes per second', () => {
    expect(env).toMatchObject({ CONFLICT_POLICY: 'PRIMARY_WINS', REPLICATE_TAGS: 'true', PROPAGATE_DELETIONS: 'false', WRITES_PER_SECOND: '2' });
    expect(replicator.conflictPolicy).toBe(ConflictPolicy.PRIMARY_WINS);
  });

  test('declares no overrides, no settings parameter and no deployment tag', () => {
    expect(env).not.toHaveProperty('PARAMETER_OVERRIDES');
    expect(env).not.toHaveProperty('CONFIG_PARAMETER_NAME');
    expect(env).not.toHaveProperty('DEPLOYMENT_ID');
    expect(replicator.configParameter).toBeUndefined();
    template.resourceCountIs('AWS::SSM::Parameter', 0);
  });

  test('metrics go to the CrossRegionConfig namespace with a stable service name', () => {
    expect(env.POWERTOOLS_METRICS_NAMESPACE).toBe('CrossRegionConfig');
    expect(env.POWERTOOLS_SERVICE_NAME).toBe(replicator.serviceName);
    expect(replicator.serviceName).toMatch(/^TestStackReplicator[0-9A-F]{8}$/);
  });

  test('a nodejs22.x arm64 handler with 512 MiB and a 15-minute timeout', () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      Runtime: 'nodejs22.x', Architectures: ['arm64'], MemorySize: 512, Timeout: 900,
    });
  });

  test('the provenance key secret is generated and read by the handler only through its ARN', () => {
    template.hasResourceProperties('AWS::SecretsManager::Secret', {
      GenerateSecretString: { PasswordLength: 64, ExcludePunctuation: true, IncludeSpace: false, RequireEachIncludedType: true },
    });
    expect(env.PROVENANCE_KEY_SECRET_ARN).toEqual({ Ref: expect.stringMatching(/^ReplicatorProvenanceKey/) });
  });

  test('reconciles every 6 hours with {"action":"reconcile"}', () => {
    template.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'rate(6 hours)',
      Targets: [Match.objectLike({ Input: '{"action":"reconcile"}', RetryPolicy: { MaximumRetryAttempts: 2, MaximumEventAgeInSeconds: 7200 } })],
    });
  });

  test('receives the native Parameter Store Change events of the selected paths (no CloudTrail)', () => {
    template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: {
        'source': ['aws.ssm'],
        'detail-type': ['Parameter Store Change'],
        'detail': { operation: ['Create', 'Update', 'Delete', 'LabelParameterVersion'], name: [{ prefix: '/app/prod/' }] },
      },
      Targets: [Match.objectLike({ DeadLetterConfig: Match.anyValue() })],
    });
  });

  test('reads the path in the primary region and writes it in each replica region, nothing else', () => {
    // The run lease's records are checked in 'may invoke itself and keep its run lease'.
    const ssmStatements = statementsOf(template).filter((s) => actionsOf(s).some((a) => a.startsWith('ssm:')) && !isRunLease(s));
    expect(ssmStatements).toEqual([
      {
        Effect: 'Allow',
        Action: ['ssm:GetParametersByPath', 'ssm:GetParameter', 'ssm:GetParameterHistory', 'ssm:ListTagsForResource', 'ssm:GetParameters'],
        Resource: [parameterArn('us-east-1', 'app/prod'), parameterArn('us-east-1', 'app/prod/*')],
      },
      {
        Effect: 'Allow',
        Action: ['ssm:GetParametersByPath', 'ssm:GetParameter', 'ssm:GetParameterHistory', 'ssm:ListTagsForResource',
          'ssm:PutParameter', 'ssm:AddTagsToResource', 'ssm:RemoveTagsFromResource'],
        Resource: [parameterArn('eu-west-1', 'app/prod'), parameterArn('eu-west-1', 'app/prod/*')],
      },
    ]);
  });

  test('no KMS, STS or DeleteParameter permission, and "*" only for X-Ray', () => {
    const all = statementsOf(template);
    expect(all.filter((s) => actionsOf(s).some((a) => /^(kms|sts):/.test(a) || a === 'ssm:DeleteParameter'))).toEqual([]);
    expect(all.filter((s) => s.Resource === '*').flatMap(actionsOf)).toEqual(['xray:PutTraceSegments', 'xray:PutTelemetryRecords']);
  });

  test('creates five alarms (no conflicts alarm with PRIMARY_WINS), exposed by name', () => {
    template.resourceCountIs('AWS::CloudWatch::Alarm', 5);
    expect(replicator.alarms).toEqual([replicator.errorsAlarm, replicator.throttlesAlarm, replicator.deadLetterAlarm,
      replicator.replicationFailuresAlarm, replicator.fullSyncAgeAlarm]);
    expect(replicator.conflictsAlarm).toBeUndefined();
  });

  test('the full-sync age alarm doubles the 6-hour schedule and treats missing data as breaching', () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'SecondsSinceFullSync',
      Statistic: 'Maximum',
      Period: 43_200,
      Threshold: 43_200,
      EvaluationPeriods: 1,
      ComparisonOperator: 'GreaterThanThreshold',
      TreatMissingData: 'breaching',
    });
  });

  test('exposes its props', () => {
    expect(replicator.primaryRegion).toBe('us-east-1');
    expect(replicator.replicaRegions).toEqual(['eu-west-1']);
    expect(replicator.targetRegions).toEqual(['eu-west-1']);
    expect(replicator.parameters.paths).toEqual(['/app/prod']);
    expect(replicator.overrides).toEqual([]);
    expect(replicator.metricNamespace).toBe('CrossRegionConfig');
  });
});

describe('CrossRegionParameterReplicator props', () => {
  test('parameters: name globs, tags and excluded paths reach the handler; the rule stays narrowed to the paths', () => {
    const { template } = synth({
      parameters: ParameterSelection.fromPaths(['/app/prod', '/shared'], {
        namePatterns: ['/app/prod/**/endpoint'], tags: { replicate: 'true' }, excludedPaths: ['/app/prod/local'],
      }),
    });
    expect(JSON.parse(environmentOf(template).PARAMETER_SELECTION)).toEqual({
      paths: ['/app/prod', '/shared'], namePatterns: ['/app/prod/**/endpoint'], tags: { replicate: 'true' }, excludedPaths: ['/app/prod/local'],
    });
    template.hasResourceProperties('AWS::Events::Rule', { EventPattern: { detail: { name: [{ prefix: '/app/prod/' }, { prefix: '/shared/' }] } } });
    expect(statementWith(template, 'ssm:PutParameter', 'eu-west-1')[0].Resource).toEqual([
      parameterArn('eu-west-1', 'app/prod'), parameterArn('eu-west-1', 'app/prod/*'), parameterArn('eu-west-1', 'shared'), parameterArn('eu-west-1', 'shared/*'),
    ]);
  });

  test('parameters: the path "/" selects every parameter (parameter/*) and the rule matches every change', () => {
    const { template } = synth({ parameters: ParameterSelection.fromPaths(['/']) });
    expect(statementWith(template, 'ssm:PutParameter', 'eu-west-1')[0].Resource).toEqual(parameterArn('eu-west-1', '*'));
    template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: { detail: { operation: Match.anyValue(), name: Match.absent() } },
    });
  });

  test('replicaRegions: one write statement and one target per region', () => {
    const { template, replicator } = synth({ replicaRegions: ['eu-west-1', 'ap-southeast-2'] });
    expect(JSON.parse(environmentOf(template).REPLICA_TARGETS)).toEqual([{ region: 'eu-west-1' }, { region: 'ap-southeast-2' }]);
    expect(statementWith(template, 'ssm:PutParameter', 'eu-west-1')).toHaveLength(1);
    expect(statementWith(template, 'ssm:PutParameter', 'ap-southeast-2')).toHaveLength(1);
    expect(statementWith(template, 'ssm:PutParameter', 'us-east-1')).toHaveLength(0);
    expect(replicator.targetRegions).toEqual(['eu-west-1', 'ap-southeast-2']);
  });

  test('replicaKmsKeys: a key ARN is used through Parameter Store in its region only', () => {
    const keyArn = 'arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab';
    const { template } = synth({ replicaKmsKeys: [{ region: 'eu-west-1', keyArn }] });
    expect(JSON.parse(environmentOf(template).REPLICA_TARGETS)).toEqual([{ region: 'eu-west-1', kmsKeyId: keyArn }]);
    expect(statementsOf(template).filter((s) => actionsOf(s).includes('kms:Encrypt'))).toEqual([{
      Effect: 'Allow',
      Action: ['kms:Encrypt', 'kms:Decrypt', 'kms:GenerateDataKey'],
      Resource: keyArn,
      Condition: { StringEquals: { 'kms:ViaService': 'ssm.eu-west-1.amazonaws.com' } },
    }]);
  });

  test('replicaKmsKeys: an alias is allowed only on keys carrying it (kms:ResourceAliases)', () => {
    const { template } = synth({ replicaKmsKeys: [{ region: 'eu-west-1', aliasName: 'alias/parameters' }] });
    expect(JSON.parse(environmentOf(template).REPLICA_TARGETS)).toEqual([{ region: 'eu-west-1', kmsKeyId: 'alias/parameters' }]);
    const [kmsStatement] = statementsOf(template).filter((s) => actionsOf(s).includes('kms:Encrypt'));
    expect(kmsStatement.Condition).toEqual({
      'ForAnyValue:StringEquals': { 'kms:ResourceAliases': 'alias/parameters' },
      'StringEquals': { 'kms:ViaService': 'ssm.eu-west-1.amazonaws.com' },
    });
  });

  test('replicaKmsKeys: alias/aws/ssm, the default key, needs no KMS permission', () => {
    const { template } = synth({ replicaKmsKeys: [{ region: 'eu-west-1', aliasName: 'alias/aws/ssm' }] });
    expect(statementsOf(template).filter((s) => actionsOf(s).some((a) => a.startsWith('kms:')))).toEqual([]);
  });

  test('sourceEncryptionKeys: decrypt through Parameter Store in the primary region', () => {
    const stack = newStack();
    const key = new kms.Key(stack, 'SourceKey');
    const { template } = synth({ sourceEncryptionKeys: [key] }, stack);
    expect(statementsOf(template).filter((s) => actionsOf(s).includes('kms:Decrypt'))).toEqual([{
      Effect: 'Allow',
      Action: 'kms:Decrypt',
      Resource: { 'Fn::GetAtt': [stack.getLogicalId(key.node.defaultChild as kms.CfnKey), 'Arn'] },
      Condition: { StringEquals: { 'kms:ViaService': 'ssm.us-east-1.amazonaws.com' } },
    }]);
  });

  test('replicaTier: passed to every target', () => {
    const { template } = synth({ replicaTier: ssm.ParameterTier.ADVANCED, replicaRegions: ['eu-west-1', 'ap-southeast-2'] });
    expect(JSON.parse(environmentOf(template).REPLICA_TARGETS)).toEqual([{ region: 'eu-west-1', tier: 'Advanced' }, { region: 'ap-southeast-2', tier: 'Advanced' }]);
  });

  test('overrides: rendered per replica region into PARAMETER_OVERRIDES', () => {
    const { template, replicator } = synth({
      replicaRegions: ['eu-west-1', 'ap-southeast-2'],
      overrides: [
        ParameterOverride.template('/app/prod/endpoint', 'https://api.{region}.example.com'),
        ParameterOverride.forRegion('/app/prod/ami', 'ap-southeast-2', 'ami-0123456789abcdef0'),
      ],
    });
    expect(JSON.parse(environmentOf(template).PARAMETER_OVERRIDES)).toEqual([
      { name: '/app/prod/endpoint', region: 'eu-west-1', value: 'https://api.eu-west-1.example.com' },
      { name: '/app/prod/endpoint', region: 'ap-southeast-2', value: 'https://api.ap-southeast-2.example.com' },
      { name: '/app/prod/ami', region: 'ap-southeast-2', value: 'ami-0123456789abcdef0' },
    ]);
    expect(replicator.overrides).toHaveLength(2);
  });

  test('overrides: a cross-account region can have its own', () => {
    const { template } = synth({
      crossAccountReplicas: [{ region: 'us-west-2', roleArn: 'arn:aws:iam::444455556666:role/parameter-writer' }],
      overrides: [ParameterOverride.forRegion('/app/prod/bucket', 'us-west-2', 'bucket-us-west-2')],
    });
    expect(JSON.parse(environmentOf(template).PARAMETER_OVERRIDES)).toEqual([{ name: '/app/prod/bucket', region: 'us-west-2', value: 'bucket-us-west-2' }]);
  });

  test('conflictPolicy SKIP_AND_ALARM: passed to the handler, with a conflicts alarm', () => {
    const { template, replicator } = synth({ conflictPolicy: ConflictPolicy.SKIP_AND_ALARM });
    expect(environmentOf(template).CONFLICT_POLICY).toBe('SKIP_AND_ALARM');
    expect(replicator.conflictsAlarm).toBeDefined();
    template.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'Conflicts', Statistic: 'Sum', Threshold: 1, Period: 300 });
    template.resourceCountIs('AWS::CloudWatch::Alarm', 6);
  });

  test('propagateDeletions: DeleteParameter in replica regions only', () => {
    const { template } = synth({ propagateDeletions: true, replicaRegions: ['eu-west-1', 'ap-southeast-2'] });
    expect(environmentOf(template).PROPAGATE_DELETIONS).toBe('true');
    expect(statementWith(template, 'ssm:DeleteParameter', 'eu-west-1')).toHaveLength(1);
    expect(statementWith(template, 'ssm:DeleteParameter', 'ap-southeast-2')).toHaveLength(1);
    expect(statementWith(template, 'ssm:DeleteParameter', 'us-east-1')).toHaveLength(0);
  });

  test('replicateTags false', () => {
    expect(environmentOf(synth({ replicateTags: false }).template).REPLICATE_TAGS).toBe('false');
  });

  test('crossAccountReplicas: assume exactly the given roles; the handler writes through them', () => {
    const roleArn = 'arn:aws:iam::444455556666:role/parameter-writer';
    const { template, replicator } = synth({
      crossAccountReplicas: [
        { region: 'us-west-2', roleArn, aliasName: 'alias/parameters' },
        { region: 'us-east-1', roleArn },
      ],
    });
    expect(JSON.parse(environmentOf(template).REPLICA_TARGETS)).toEqual([
      { region: 'eu-west-1' }, { region: 'us-west-2', kmsKeyId: 'alias/parameters', roleArn }, { region: 'us-east-1', roleArn },
    ]);
    expect(statementsOf(template).filter((s) => actionsOf(s).includes('sts:AssumeRole'))).toEqual([{ Effect: 'Allow', Action: 'sts:AssumeRole', Resource: roleArn }]);
    // The other account's writes are its role's permissions, not this role's.
    expect(statementWith(template, 'ssm:PutParameter', 'us-west-2')).toHaveLength(0);
    expect(replicator.targetRegions).toEqual(['eu-west-1', 'us-west-2', 'us-east-1']);
  });

  test('maxWritesPerSecond', () => {
    expect(environmentOf(synth({ maxWritesPerSecond: 40 }).template).WRITES_PER_SECOND).toBe('40');
  });

  test('reconciliationSchedule and fullSyncAlarmThreshold', () => {
    const { template } = synth({ reconciliationSchedule: events.Schedule.rate(Duration.hours(1)) });
    template.hasResourceProperties('AWS::Events::Rule', { ScheduleExpression: 'rate(1 hour)' });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'SecondsSinceFullSync', Threshold: 7200 });
    synth({ fullSyncAlarmThreshold: Duration.hours(3) }).template
      .hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'SecondsSinceFullSync', Threshold: 10_800, Period: 10_800 });
  });

  test('parameterPrefix: the settings document, kept current by the handler', () => {
    const { template, replicator } = synth({ parameterPrefix: '/app/production' });
    const name = '/app/production/global/secrets/parameter-replication-config';
    expect(replicator.configParameter).toBeDefined();
    const [parameter] = Object.values(template.findResources('AWS::SSM::Parameter')) as any[];
    expect(parameter.Properties).toMatchObject({ Name: name, Type: 'String', Tier: 'Standard' });
    expect(JSON.parse(parameter.Properties.Value)).toEqual({
      primaryRegion: 'us-east-1',
      replicationRegions: ['eu-west-1'],
      parameterPaths: ['/app/prod'],
      syncEnabled: true,
      driftDetectionEnabled: false,
      lastSyncTimestamp: null,
      conflictPolicy: 'PRIMARY_WINS',
      propagateDeletions: false,
      reconciliationSchedule: 'rate(6 hours)',
    });
    expect(environmentOf(template).CONFIG_PARAMETER_NAME).toBe(name);
    const [logicalId] = Object.keys(template.findResources('AWS::SSM::Parameter'));
    expect(statementsOf(template).filter((s) => JSON.stringify(s.Resource).includes(logicalId))
      .map((s) => s.Action)).toEqual([['ssm:GetParameter', 'ssm:PutParameter']]);
  });

  test('metricNamespace, functionName, memorySize and timeout', () => {
    const { template } = synth({ metricNamespace: 'MyApp/Parameters', functionName: 'parameter-replicator', memorySize: 1024, timeout: Duration.minutes(5) });
    expect(environmentOf(template).POWERTOOLS_METRICS_NAMESPACE).toBe('MyApp/Parameters');
    template.hasResourceProperties('AWS::Lambda::Function', { FunctionName: 'parameter-replicator', MemorySize: 1024, Timeout: 300 });
  });

  test('createAlarms false creates no alarm; alarmActions reach every alarm, and addAlarmAction later ones', () => {
    const off = synth({ createAlarms: false });
    off.template.resourceCountIs('AWS::CloudWatch::Alarm', 0);
    expect(off.replicator.alarms).toEqual([]);

    const stack = newStack();
    const topic = new sns.Topic(stack, 'Topic');
    const replicator = new CrossRegionParameterReplicator(stack, 'Replicator', { ...MINIMAL_PROPS, alarmActions: [new actions.SnsAction(topic)] });
    const later = new sns.Topic(stack, 'Later');
    replicator.addAlarmAction(new actions.SnsAction(later));
    const alarms = Object.values(Template.fromStack(stack).findResources('AWS::CloudWatch::Alarm')) as any[];
    expect(alarms).toHaveLength(5);
    for (const alarm of alarms) expect(alarm.Properties.AlarmActions).toHaveLength(2);
  });

  test('grantInvoke allows manual actions', () => {
    const stack = newStack();
    const replicator = new CrossRegionParameterReplicator(stack, 'Replicator', MINIMAL_PROPS);
    const operator = new iam.Role(stack, 'Operator', { assumedBy: new iam.AccountRootPrincipal() });
    replicator.grantInvoke(operator);
    const policies = Object.values(Template.fromStack(stack).findResources('AWS::IAM::Policy')) as any[];
    expect(policies.some((p) => JSON.stringify(p.Properties.PolicyDocument).includes('lambda:InvokeFunction'))).toBe(true);
  });
});

describe('CrossRegionParameterReplicator metrics', () => {
  const { replicator, stack } = synth({ replicaRegions: ['eu-west-1', 'ap-southeast-2'] });
  const resolved = (m: cloudwatch.Metric) => stack.resolve(m.toMetricConfig().metricStat);

  test.each<[string, (o?: any) => cloudwatch.Metric, string, string]>([
    ['ReplicatedParameters', (o) => replicator.metricReplicatedParameters(o), 'Sum', 'ReplicatedParameters'],
    ['ReplicationFailures', (o) => replicator.metricReplicationFailures(o), 'Sum', 'ReplicationFailures'],
    ['Conflicts', (o) => replicator.metricConflicts(o), 'Sum', 'Conflicts'],
    ['ReplicationLatency', (o) => replicator.metricReplicationLatency(o), 'p99', 'ReplicationLatency'],
    ['SecondsSinceFullSync', (o) => replicator.metricSecondsSinceFullSync(o), 'Maximum', 'SecondsSinceFullSync'],
    ['ThrottledRequests', (o) => replicator.metricThrottledRequests(o), 'Sum', 'ThrottledRequests'],
  ])('%s: namespace, service dimension, statistic, per-region dimension', (_name, metric, statistic, metricName) => {
    const total = resolved(metric());
    expect(total).toMatchObject({ namespace: 'CrossRegionConfig', metricName, statistic, dimensions: [{ name: 'service', value: replicator.serviceName }] });
    expect(resolved(metric({ replicaRegion: 'ap-southeast-2' })).dimensions).toEqual([
      { name: 'ReplicaRegion', value: 'ap-southeast-2' }, { name: 'service', value: replicator.serviceName },
    ]);
  });

  test('fails if replicaRegion is not a replica region', () => {
    expect(() => replicator.metricConflicts({ replicaRegion: 'us-west-2' }))
      .toThrow('TestStack/Replicator: replicaRegion must be one of the replica regions ["eu-west-1","ap-southeast-2"], but got "us-west-2"');
  });
});

describe('CrossRegionParameterReplicator dashboard widgets', () => {
  test('a header, the per-region graphs, the handler and the alarms, 24 units wide', () => {
    const { replicator, stack } = synth({ replicaRegions: ['eu-west-1', 'ap-southeast-2'] });
    const widgets = replicator.dashboardWidgets();
    const json = JSON.stringify(stack.resolve(widgets.map((w) => w.toJson())));
    for (const title of ['Parameters written to replicas', 'Replica writes that failed', 'conflicts', 'Parameter Store requests throttled',
      'Replication latency p99', 'last full sync', 'Parameter replicator function', 'Parameter replicator alarms']) {
      expect(json).toContain(title);
    }
    expect(json).toContain('ap-southeast-2');
  });
});

describe('CrossRegionParameterReplicator warnings', () => {
  test('a pattern over EventBridge\'s 2048-character quota falls back to every change, with a warning', () => {
    const paths = Array.from({ length: 60 }, (_, i) => `/application-${i}/production/configuration`);
    const { stack, template } = synth({ parameters: ParameterSelection.fromPaths(paths) });
    Annotations.fromStack(stack).hasWarning('/TestStack/Replicator', Match.stringLikeRegexp('the rule matches every Parameter Store change'));
    template.hasResourceProperties('AWS::Events::Rule', { EventPattern: { detail: { name: Match.absent() } } });
  });

  test('a cron() schedule that skips days warns and uses a 12-hour full-sync threshold', () => {
    const { stack, template } = synth({ reconciliationSchedule: events.Schedule.cron({ minute: '0', hour: '3', weekDay: 'MON' }) });
    Annotations.fromStack(stack).hasWarning('/TestStack/Replicator', Match.stringLikeRegexp('does not run at a fixed interval every day'));
    template.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'SecondsSinceFullSync', Threshold: 43_200 });
  });
});
