import { Duration, Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cloudwatchActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as events from 'aws-cdk-lib/aws-events';
import * as sns from 'aws-cdk-lib/aws-sns';
import { MINIMAL_PROPS, newStack, synth } from './util';
import { ConflictPolicy, CrossRegionSecretReplicator } from '../../src';

/** The alarm resource created for the construct id `<id>` of the replicator. */
function alarmProperties(template: Template, id: string): Record<string, any> {
  const alarms = template.findResources('AWS::CloudWatch::Alarm');
  const entry = Object.entries(alarms).find(([logicalId]) => logicalId.startsWith(`Replicator${id}`));
  expect(entry).toBeDefined();
  return (entry![1] as any).Properties;
}

describe('CrossRegionSecretReplicator alarms', () => {
  test('alarms on handler errors (Sum >= 1 in 5 minutes)', () => {
    const { template } = synth();
    expect(alarmProperties(template, 'ErrorsAlarm')).toEqual({
      Namespace: 'AWS/Lambda',
      MetricName: 'Errors',
      Dimensions: [{ Name: 'FunctionName', Value: { Ref: expect.stringMatching(/^ReplicatorHandler/) } }],
      Statistic: 'Sum',
      Period: 300,
      Threshold: 1,
      EvaluationPeriods: 1,
      DatapointsToAlarm: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      TreatMissingData: 'notBreaching',
      ActionsEnabled: true,
      AlarmDescription: expect.stringContaining('{"action":"reconcile"}'),
    });
  });

  test('alarms on handler throttles (Sum >= 1 in 5 minutes)', () => {
    const { template } = synth();
    expect(alarmProperties(template, 'ThrottlesAlarm')).toMatchObject({
      Namespace: 'AWS/Lambda',
      MetricName: 'Throttles',
      Statistic: 'Sum',
      Period: 300,
      Threshold: 1,
      EvaluationPeriods: 1,
      DatapointsToAlarm: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      TreatMissingData: 'notBreaching',
      AlarmDescription: expect.stringContaining('concurrency'),
    });
  });

  test('alarms on messages in the dead-letter queue (Maximum >= 1)', () => {
    const { template } = synth();
    expect(alarmProperties(template, 'DeadLetterAlarm')).toMatchObject({
      Namespace: 'AWS/SQS',
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [expect.stringMatching(/^ReplicatorDeadLetterQueue/), 'QueueName'] } }],
      Statistic: 'Maximum',
      Period: 300,
      Threshold: 1,
      EvaluationPeriods: 1,
      DatapointsToAlarm: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      TreatMissingData: 'notBreaching',
      AlarmDescription: expect.stringContaining('dead-letter queue'),
    });
  });

  test('alarms on failed replica writes (Sum >= 1 in 5 minutes)', () => {
    const { template, replicator } = synth();
    expect(alarmProperties(template, 'ReplicationFailuresAlarm')).toMatchObject({
      Namespace: 'CrossRegionConfig',
      MetricName: 'ReplicationFailures',
      Dimensions: [{ Name: 'service', Value: replicator.serviceName }],
      Statistic: 'Sum',
      Period: 300,
      Threshold: 1,
      EvaluationPeriods: 1,
      DatapointsToAlarm: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      TreatMissingData: 'notBreaching',
      AlarmDescription: expect.stringContaining('ReplicaRegion'),
    });
  });

  test('alarms on conflicts only with SKIP_AND_ALARM', () => {
    const primaryWins = synth();
    expect(primaryWins.replicator.conflictsAlarm).toBeUndefined();
    primaryWins.template.resourceCountIs('AWS::CloudWatch::Alarm', 5);

    const { template, replicator } = synth({ conflictPolicy: ConflictPolicy.SKIP_AND_ALARM });
    template.resourceCountIs('AWS::CloudWatch::Alarm', 6);
    expect(replicator.alarms).toHaveLength(6);
    expect(alarmProperties(template, 'ConflictsAlarm')).toMatchObject({
      Namespace: 'CrossRegionConfig',
      MetricName: 'Conflicts',
      Dimensions: [{ Name: 'service', Value: replicator.serviceName }],
      Statistic: 'Sum',
      Period: 300,
      Threshold: 1,
      EvaluationPeriods: 1,
      DatapointsToAlarm: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      TreatMissingData: 'notBreaching',
      AlarmDescription: expect.stringContaining('SKIP_AND_ALARM'),
    });
  });

  test('exposes every alarm by name and in alarms', () => {
    const { replicator } = synth({ conflictPolicy: ConflictPolicy.SKIP_AND_ALARM });
    expect(replicator.alarms).toEqual([
      replicator.errorsAlarm,
      replicator.throttlesAlarm,
      replicator.deadLetterAlarm,
      replicator.replicationFailuresAlarm,
      replicator.fullSyncAgeAlarm,
      replicator.conflictsAlarm,
    ]);
  });

  test('alarms when a region has not fully agreed, or no reconciliation reported, for twice the reconciliation interval', () => {
    const { template, replicator } = synth();
    expect(alarmProperties(template, 'FullSyncAgeAlarm')).toEqual({
      Namespace: 'CrossRegionConfig',
      MetricName: 'SecondsSinceFullSync',
      Dimensions: [{ Name: 'service', Value: replicator.serviceName }],
      Statistic: 'Maximum',
      Unit: 'Seconds',
      Period: 43_200, // 12 hours: twice the default 6-hour schedule
      Threshold: 43_200, // seconds
      EvaluationPeriods: 1,
      DatapointsToAlarm: 1,
      ComparisonOperator: 'GreaterThanThreshold',
      TreatMissingData: 'breaching',
      ActionsEnabled: true,
      AlarmDescription: expect.stringContaining('No data means the scheduled reconciliation did not run'),
    });
  });

  test('derives the full-sync threshold from the longest gap of a rate() or daily cron() schedule, and takes fullSyncAlarmThreshold', () => {
    const hourly = synth({ reconciliationSchedule: events.Schedule.rate(Duration.minutes(30)) });
    expect(alarmProperties(hourly.template, 'FullSyncAgeAlarm')).toMatchObject({ Period: 3600, Threshold: 3600 });
    // Runs at 00:00, 04:00 and 08:00: the longest gap is 16 hours overnight, so the alarm waits a day (capped).
    const uneven = synth({ reconciliationSchedule: events.Schedule.cron({ minute: '0', hour: '0,4,8' }) });
    expect(alarmProperties(uneven.template, 'FullSyncAgeAlarm')).toMatchObject({ Period: 86_400, Threshold: 86_400 });
    const sixHourly = synth({ reconciliationSchedule: events.Schedule.cron({ minute: '15', hour: '0/6' }) });
    expect(alarmProperties(sixHourly.template, 'FullSyncAgeAlarm')).toMatchObject({ Period: 43_200, Threshold: 43_200 });
    Annotations.fromStack(sixHourly.stack).hasNoWarning('*', Match.anyValue());
    // A daily cron: twice its gap exceeds a day, so the alarm is capped at one day (not 12 hours, which would go off between runs).
    const daily = synth({ reconciliationSchedule: events.Schedule.cron({ minute: '0', hour: '3' }) });
    expect(alarmProperties(daily.template, 'FullSyncAgeAlarm')).toMatchObject({ Period: 86_400, Threshold: 86_400 });
    Annotations.fromStack(daily.stack).hasWarning('*', Match.stringLikeRegexp('full-sync alarm evaluates at most one day'));
    const custom = synth({ fullSyncAlarmThreshold: Duration.hours(3) });
    expect(alarmProperties(custom.template, 'FullSyncAgeAlarm')).toMatchObject({ Period: 10_800, Threshold: 10_800 });
  });

  test('warns for a cron() schedule that does not run every day, whose longest gap depends on the calendar', () => {
    const { template, stack } = synth({ reconciliationSchedule: events.Schedule.cron({ minute: '0', hour: '3', weekDay: 'MON-FRI' }) });
    expect(alarmProperties(template, 'FullSyncAgeAlarm')).toMatchObject({ Period: 43_200, Threshold: 43_200 });
    Annotations.fromStack(stack).hasWarning('*', Match.stringLikeRegexp('does not run at a fixed interval every day.*Set fullSyncAlarmThreshold'));
  });

  test('caps the derived full-sync threshold at one day, with a warning', () => {
    const { template, stack } = synth({ reconciliationSchedule: events.Schedule.rate(Duration.days(1)) });
    expect(alarmProperties(template, 'FullSyncAgeAlarm')).toMatchObject({ Period: 86_400, Threshold: 86_400 });
    Annotations.fromStack(stack).hasWarning('*', Match.stringLikeRegexp('full-sync alarm evaluates at most one day'));
  });

  test('fails if fullSyncAlarmThreshold is not whole minutes from 10 minutes to 1 day', () => {
    expect(() => synth({ fullSyncAlarmThreshold: Duration.minutes(5) })).toThrow(/fullSyncAlarmThreshold must be a whole number of minutes from 10 to 1440/);
    expect(() => synth({ fullSyncAlarmThreshold: Duration.days(2) })).toThrow(/fullSyncAlarmThreshold must be a whole number of minutes from 10 to 1440/);
    expect(() => synth({ fullSyncAlarmThreshold: Duration.seconds(630) })).toThrow(/fullSyncAlarmThreshold/);
  });

  test('creates no alarm when createAlarms is false', () => {
    const { template, replicator } = synth({ createAlarms: false, conflictPolicy: ConflictPolicy.SKIP_AND_ALARM });
    template.resourceCountIs('AWS::CloudWatch::Alarm', 0);
    expect(replicator.alarms).toEqual([]);
    expect(replicator.errorsAlarm).toBeUndefined();
    expect(replicator.throttlesAlarm).toBeUndefined();
    expect(replicator.deadLetterAlarm).toBeUndefined();
    expect(replicator.replicationFailuresAlarm).toBeUndefined();
    expect(replicator.fullSyncAgeAlarm).toBeUndefined();
    expect(replicator.conflictsAlarm).toBeUndefined();
    const topic = sns.Topic.fromTopicArn(Stack.of(replicator), 'Topic', 'arn:aws:sns:us-east-1:111122223333:ops');
    expect(() => replicator.addAlarmAction(new cloudwatchActions.SnsAction(topic))).not.toThrow();
  });

  test('sends every alarm to alarmActions and to actions added later', () => {
    const stack = newStack();
    const onCall = new sns.Topic(stack, 'OnCall');
    const audit = new sns.Topic(stack, 'Audit');
    const replicator = new CrossRegionSecretReplicator(stack, 'Replicator', {
      ...MINIMAL_PROPS,
      conflictPolicy: ConflictPolicy.SKIP_AND_ALARM,
      alarmActions: [new cloudwatchActions.SnsAction(onCall)],
    });
    replicator.addAlarmAction(new cloudwatchActions.SnsAction(audit));
    const template = Template.fromStack(stack);
    const alarms = Object.values(template.findResources('AWS::CloudWatch::Alarm')) as any[];
    expect(alarms).toHaveLength(6);
    for (const alarm of alarms) {
      expect(alarm.Properties.AlarmActions).toEqual([{ Ref: expect.stringMatching(/^OnCall/) }, { Ref: expect.stringMatching(/^Audit/) }]);
    }
  });
});

describe('CrossRegionSecretReplicator metrics', () => {
  test('counts replicated secrets in the namespace with the service dimension', () => {
    const { replicator, stack } = synth();
    const metric = replicator.metricReplicatedSecrets();
    expect(metric.namespace).toBe('CrossRegionConfig');
    expect(metric.metricName).toBe('ReplicatedSecrets');
    expect(metric.statistic).toBe('Sum');
    expect(metric.period.toSeconds()).toBe(300);
    expect(stack.resolve(metric.dimensions)).toEqual({ service: replicator.serviceName });
  });

  test('adds the ReplicaRegion dimension for one region', () => {
    const { replicator } = synth({ replicaRegions: ['eu-west-1', 'ap-southeast-1'] });
    const metric = replicator.metricReplicationFailures({ replicaRegion: 'ap-southeast-1' });
    expect(metric.metricName).toBe('ReplicationFailures');
    expect(metric.dimensions).toEqual({ service: replicator.serviceName, ReplicaRegion: 'ap-southeast-1' });
  });

  test('accepts a cross-account region as replicaRegion', () => {
    const { replicator } = synth({ crossAccountReplicas: [{ region: 'us-west-2', roleArn: 'arn:aws:iam::444455556666:role/w' }] });
    expect(replicator.metricConflicts({ replicaRegion: 'us-west-2' }).dimensions).toMatchObject({ ReplicaRegion: 'us-west-2' });
  });

  test('counts conflicts', () => {
    const { replicator } = synth({ metricNamespace: 'MyApp/Secrets' });
    const metric = replicator.metricConflicts();
    expect(metric.namespace).toBe('MyApp/Secrets');
    expect(replicator.metricNamespace).toBe('MyApp/Secrets');
    expect(metric.metricName).toBe('Conflicts');
    expect(metric.statistic).toBe('Sum');
  });

  test('exposes the default namespace', () => {
    expect(synth().replicator.metricNamespace).toBe('CrossRegionConfig');
  });

  test('measures the seconds since the last full sync at Maximum, per region or the oldest region', () => {
    const { replicator } = synth();
    const metric = replicator.metricSecondsSinceFullSync();
    expect(metric.metricName).toBe('SecondsSinceFullSync');
    expect(metric.statistic).toBe('Maximum');
    expect(metric.unit).toBe(cloudwatch.Unit.SECONDS);
    expect(replicator.metricSecondsSinceFullSync({ replicaRegion: 'eu-west-1' }).dimensions).toMatchObject({ ReplicaRegion: 'eu-west-1' });
  });

  test('measures replication latency in milliseconds at p99', () => {
    const { replicator } = synth();
    const metric = replicator.metricReplicationLatency();
    expect(metric.metricName).toBe('ReplicationLatency');
    expect(metric.statistic).toBe('p99');
    expect(metric.unit).toBe(cloudwatch.Unit.MILLISECONDS);
  });

  test('applies the caller\'s statistic, period and label but keeps namespace and dimensions', () => {
    const { replicator } = synth();
    const metric = replicator.metricReplicationLatency({
      statistic: 'p50',
      period: Duration.minutes(1),
      label: 'median latency',
      dimensionsMap: { service: 'other', Extra: 'x' },
    });
    expect(metric.statistic).toBe('p50');
    expect(metric.period.toMinutes()).toBe(1);
    expect(metric.label).toBe('median latency');
    expect(metric.namespace).toBe('CrossRegionConfig');
    expect(metric.dimensions).toEqual({ service: replicator.serviceName, Extra: 'x' });
  });

  test('can be graphed and alarmed on by consumers', () => {
    const stack = newStack();
    const replicator = new CrossRegionSecretReplicator(stack, 'Replicator', MINIMAL_PROPS);
    new cloudwatch.Alarm(stack, 'LatencyAlarm', {
      metric: replicator.metricReplicationLatency({ replicaRegion: 'eu-west-1' }),
      threshold: 60_000, // milliseconds
      evaluationPeriods: 3,
    });
    Template.fromStack(stack).hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'ReplicationLatency',
      ExtendedStatistic: 'p99',
      Unit: 'Milliseconds',
      Dimensions: Match.arrayWith([{ Name: 'ReplicaRegion', Value: 'eu-west-1' }]),
    });
  });
});
