import { Duration } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as events from 'aws-cdk-lib/aws-events';
import { ConfigDriftDetector, ConfigDriftDetectorProps } from '../../src';
import { newStack } from '../secret-replicator/util';

const MINIMAL: ConfigDriftDetectorProps = { replicaRegions: ['eu-west-1'], parameterPaths: ['/app/prod'] };

function synth(props: Partial<ConfigDriftDetectorProps> = {}) {
  const stack = newStack();
  const detector = new ConfigDriftDetector(stack, 'Detector', { ...MINIMAL, ...props });
  return { stack, detector, template: Template.fromStack(stack) };
}

function fullScanAlarm(template: Template): Record<string, any> {
  const alarms = Object.values(template.findResources('AWS::CloudWatch::Alarm'))
    .filter((r: any) => r.Properties.MetricName === 'HasDrift' && r.Properties.Statistic === 'SampleCount');
  expect(alarms).toHaveLength(1);
  return (alarms[0] as any).Properties;
}

describe('fullScanAgeAlarm: no complete scan within the threshold', () => {
  test('by default, goes off when no scan completed in twice the hourly schedule, and missing data is breaching', () => {
    const { detector, template } = synth();
    expect(detector.fullScanAgeAlarm).toBeDefined();
    expect(detector.alarms).toContain(detector.fullScanAgeAlarm);
    expect(fullScanAlarm(template)).toMatchObject({
      Namespace: 'CrossRegionConfig/ConfigurationDrift',
      Period: 7200,
      EvaluationPeriods: 1,
      DatapointsToAlarm: 1,
      Threshold: 1,
      ComparisonOperator: 'LessThanThreshold',
      TreatMissingData: 'breaching',
    });
    expect(fullScanAlarm(template).AlarmDescription).toMatch(/^No drift scan has completed for 2 hours/);
  });

  test('follows the schedule, and takes fullScanAlarmThreshold', () => {
    expect(fullScanAlarm(synth({ schedule: events.Schedule.rate(Duration.hours(4)) }).template)).toMatchObject({ Period: 28_800 });
    expect(fullScanAlarm(synth({ schedule: events.Schedule.rate(Duration.hours(24)) }).template)).toMatchObject({ Period: 86_400 });
    expect(fullScanAlarm(synth({ fullScanAlarmThreshold: Duration.minutes(90) }).template)).toMatchObject({ Period: 5400 });
  });

  test('warns when the schedule has no fixed daily interval, naming the prop', () => {
    const { stack, template } = synth({ schedule: events.Schedule.cron({ minute: '0', hour: '3', weekDay: 'MON-FRI' }) });
    expect(fullScanAlarm(template)).toMatchObject({ Period: 43_200 });
    Annotations.fromStack(stack).hasWarning('*', Match.stringLikeRegexp('the full-scan age alarm cannot double it.*Set fullScanAlarmThreshold'));
    // A daily scan: twice its gap exceeds a day, so the alarm waits one day and says so.
    const daily = synth({ schedule: events.Schedule.cron({ minute: '0', hour: '3' }) });
    expect(fullScanAlarm(daily.template)).toMatchObject({ Period: 86_400 });
    Annotations.fromStack(daily.stack).hasWarning('*', Match.stringLikeRegexp('full-scan age alarm evaluates at most one day.*without a scan'));
  });

  test('fails synth on a threshold outside 10 minutes to 1 day, naming the construct, the prop and the value', () => {
    expect(() => synth({ fullScanAlarmThreshold: Duration.minutes(5) })).toThrow(/^TestStack\/Detector: fullScanAlarmThreshold must be a whole number of minutes from 10 to 1440, but got "5 minutes"$/);
    expect(() => synth({ fullScanAlarmThreshold: Duration.days(2) })).toThrow(/^TestStack\/Detector: fullScanAlarmThreshold must be a whole number of minutes from 10 to 1440/);
  });

  test('is not created without alarms', () => {
    const { detector, template } = synth({ createAlarms: false });
    expect(detector.fullScanAgeAlarm).toBeUndefined();
    template.resourceCountIs('AWS::CloudWatch::Alarm', 0);
  });
});
