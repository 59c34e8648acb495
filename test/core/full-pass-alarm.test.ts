import { Duration, Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as events from 'aws-cdk-lib/aws-events';
import { ConfigMapSyncer, ConfigParityCheck, KubernetesCluster } from '../../src';
import { newStack } from '../secret-replicator/util';

/**
 * The "no complete pass" alarm of the handlers whose scheduled runs hand over (the ConfigMap
 * syncer and the parity check's schedule): RunPartial's Minimum over one threshold-long period is
 * 0 when a pass completed, 1 when runs only handed over, missing when nothing ran.
 */
const REMOTE = KubernetesCluster.fromClusterAttributes({ clusterName: 'app-eu', region: 'eu-west-1' });
const syncer = (props: { schedule?: events.Schedule; fullPassAlarmThreshold?: Duration; createAlarms?: boolean } = {}, stack: Stack = newStack()) =>
  ({ stack, construct: new ConfigMapSyncer(stack, 'Syncer', { parameterPath: '/app/prod/config', projectName: 'p', environmentName: 'e', targets: [{ cluster: REMOTE }], ...props }) });
const parity = (props: { schedule?: events.Schedule; fullPassAlarmThreshold?: Duration; createAlarms?: boolean } = {}, stack: Stack = newStack()) =>
  ({ stack, construct: new ConfigParityCheck(stack, 'Parity', { regions: ['eu-west-1'], parameterPaths: ['/app/prod'], ...props }) });

function passAlarm(stack: Stack): Record<string, any> {
  const alarms = Object.values(Template.fromStack(stack).findResources('AWS::CloudWatch::Alarm'))
    .filter((r: any) => r.Properties.MetricName === 'RunPartial');
  expect(alarms).toHaveLength(1);
  return (alarms[0] as any).Properties;
}

describe.each([
  ['ConfigMapSyncer', syncer, 600, 'TestStack/Syncer'],
  ['ConfigParityCheck', parity, 1800, 'TestStack/Parity'],
] as const)('%s fullPassAgeAlarm', (_name, build, defaultPeriod, path) => {
  test('by default goes off when no pass completed in twice the schedule\'s interval; runs that only hand over, or none, are breaching', () => {
    const { stack, construct } = build();
    expect(construct.fullPassAgeAlarm).toBeDefined();
    expect(construct.alarms).toContain(construct.fullPassAgeAlarm);
    expect(passAlarm(stack)).toMatchObject({
      Statistic: 'Minimum',
      Period: defaultPeriod,
      Threshold: 1,
      EvaluationPeriods: 1,
      DatapointsToAlarm: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      TreatMissingData: 'breaching',
    });
  });

  test('follows the schedule and takes fullPassAlarmThreshold', () => {
    expect(passAlarm(build({ schedule: events.Schedule.rate(Duration.hours(1)) }).stack)).toMatchObject({ Period: 7200 });
    expect(passAlarm(build({ fullPassAlarmThreshold: Duration.minutes(45) }).stack)).toMatchObject({ Period: 2700 });
  });

  test('fails synth on a threshold outside 10 minutes to 1 day, naming the construct, the prop and the value', () => {
    expect(() => build({ fullPassAlarmThreshold: Duration.minutes(3) }))
      .toThrow(`${path}: fullPassAlarmThreshold must be a whole number of minutes from 10 to 1440, but got "3 minutes"`);
  });

  test('is not created without alarms', () => {
    expect(build({ createAlarms: false }).construct.fullPassAgeAlarm).toBeUndefined();
  });
});

describe('a threshold the schedule cannot meet', () => {
  test('warns when the given threshold is less than twice the gap between two runs, naming the least that works', () => {
    const { stack } = syncer({ schedule: events.Schedule.rate(Duration.hours(1)), fullPassAlarmThreshold: Duration.minutes(10) });
    Annotations.fromStack(stack).hasWarning('/TestStack/Syncer', Match.stringLikeRegexp(
      'fullPassAlarmThreshold is 10 minutes, less than twice the 1 hour between two syncs.*Set it to at least 2 hours'));
    const parityDefault = parity({ fullPassAlarmThreshold: Duration.minutes(10) });
    Annotations.fromStack(parityDefault.stack).hasWarning('/TestStack/Parity', Match.stringLikeRegexp('less than twice the 15 minutes'));
  });

  test('does not warn for a threshold of at least twice the gap', () => {
    const { stack } = syncer({ schedule: events.Schedule.rate(Duration.hours(1)), fullPassAlarmThreshold: Duration.hours(2) });
    Annotations.fromStack(stack).hasNoWarning('*', Match.stringLikeRegexp('fullPassAlarmThreshold'));
  });

  test('says that a daily schedule needs to run more often (the threshold cannot exceed a day)', () => {
    const { stack } = syncer({ schedule: events.Schedule.rate(Duration.days(1)), fullPassAlarmThreshold: Duration.days(1) });
    Annotations.fromStack(stack).hasWarning('/TestStack/Syncer', Match.stringLikeRegexp('run the schedule at least every 12 hours'));
    const derived = syncer({ schedule: events.Schedule.rate(Duration.days(1)) });
    const warnings = Annotations.fromStack(derived.stack).findWarning('/TestStack/Syncer', Match.stringLikeRegexp('evaluates at most one day'));
    expect(warnings).toHaveLength(1);
    expect(JSON.stringify(warnings)).not.toContain('or set fullPassAlarmThreshold');
  });
});
