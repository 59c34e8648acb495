import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { AlarmDefinition, AlarmSet } from '../../src/core/alarms';

const metric = new cloudwatch.Metric({ namespace: 'Test', metricName: 'Failures', statistic: 'Sum' });

function definition(id: string, overrides: Partial<AlarmDefinition> = {}): AlarmDefinition {
  return {
    id,
    metric,
    threshold: 1, // failures per period
    evaluationPeriods: 3,
    datapointsToAlarm: 2,
    comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
    description: 'Failures happened; read the logs.',
    ...overrides,
  };
}

const action = (arn: string): cloudwatch.IAlarmAction => ({ bind: () => ({ alarmActionArn: arn }) });

describe('AlarmSet', () => {
  test('creates alarms with every operator-facing setting', () => {
    const stack = new Stack(new App(), 'S');
    const alarms = new AlarmSet(stack, true);
    const alarm = alarms.add(definition('FailuresAlarm'));
    expect(alarm).toBeDefined();
    Template.fromStack(stack).hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'Test',
      MetricName: 'Failures',
      Threshold: 1,
      EvaluationPeriods: 3,
      DatapointsToAlarm: 2,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      TreatMissingData: 'notBreaching',
      AlarmDescription: 'Failures happened; read the logs.',
      ActionsEnabled: true,
    });
  });

  test('keeps the given treatment of missing data', () => {
    const stack = new Stack(new App(), 'S');
    new AlarmSet(stack, true).add(definition('A', { treatMissingData: cloudwatch.TreatMissingData.BREACHING }));
    Template.fromStack(stack).hasResourceProperties('AWS::CloudWatch::Alarm', { TreatMissingData: 'breaching' });
  });

  test('applies actions to alarms created before and after they are added', () => {
    const stack = new Stack(new App(), 'S');
    const alarms = new AlarmSet(stack, true);
    alarms.add(definition('First'));
    alarms.addAlarmAction(action('arn:aws:sns:us-east-1:111122223333:a'));
    alarms.add(definition('Second'));
    alarms.addAlarmAction(action('arn:aws:sns:us-east-1:111122223333:b'));
    const created = Object.values(Template.fromStack(stack).findResources('AWS::CloudWatch::Alarm')) as any[];
    expect(created).toHaveLength(2);
    for (const alarm of created) {
      expect(alarm.Properties.AlarmActions).toEqual(['arn:aws:sns:us-east-1:111122223333:a', 'arn:aws:sns:us-east-1:111122223333:b']);
    }
    expect(alarms.alarms).toHaveLength(2);
  });

  test('creates nothing when disabled', () => {
    const stack = new Stack(new App(), 'S');
    const alarms = new AlarmSet(stack, false);
    expect(alarms.add(definition('A'))).toBeUndefined();
    alarms.addAlarmAction(action('arn:aws:sns:us-east-1:111122223333:a'));
    expect(alarms.alarms).toEqual([]);
    Template.fromStack(stack).resourceCountIs('AWS::CloudWatch::Alarm', 0);
  });

  test('fails if datapointsToAlarm exceeds evaluationPeriods', () => {
    const alarms = new AlarmSet(new Stack(new App(), 'S'), true);
    expect(() => alarms.add(definition('A', { evaluationPeriods: 1, datapointsToAlarm: 2 }))).toThrow(
      'A datapointsToAlarm must not exceed evaluationPeriods (1), but got 2');
  });
});
