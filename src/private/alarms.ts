import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { Construct } from 'constructs';

/** One alarm a construct wants, in the terms an operator reads. */
export interface AlarmDefinition {
  /** Construct id of the alarm (PascalCase, ends with `Alarm`); part of the API. */
  readonly id: string;
  /** Metric from one of the construct's `metricXxx()` methods (or its resources' methods). */
  readonly metric: cloudwatch.IMetric;
  /** Threshold in the metric's unit; the caller's comment says which unit. */
  readonly threshold: number;
  /** Number of periods the alarm looks back over. */
  readonly evaluationPeriods: number;
  /** Number of breaching periods within `evaluationPeriods` that trigger the alarm. */
  readonly datapointsToAlarm: number;
  /** How the metric is compared with the threshold. */
  readonly comparisonOperator: cloudwatch.ComparisonOperator;
  /**
   * How missing data is treated.
   * @default cloudwatch.TreatMissingData.NOT_BREACHING - no data means nothing happened
   */
  readonly treatMissingData?: cloudwatch.TreatMissingData;
  /** What the alarm means and what the operator should do, shown in the console and notifications. */
  readonly description: string;
}

/**
 * Builds a construct's alarms and keeps them together so that actions apply to all of them.
 * When disabled (`createAlarms: false`) it creates nothing and `add()` returns `undefined`.
 */
export class AlarmSet {
  private readonly created: cloudwatch.Alarm[] = [];
  private readonly actions: cloudwatch.IAlarmAction[] = [];

  /**
   * @param scope construct the alarms are created in
   * @param enabled whether alarms are created at all
   */
  constructor(private readonly scope: Construct, public readonly enabled: boolean) {}

  /** Every alarm created so far. */
  public get alarms(): cloudwatch.IAlarm[] {
    return [...this.created];
  }

  /** Creates the alarm (with every action added so far), or returns `undefined` when disabled. */
  public add(definition: AlarmDefinition): cloudwatch.Alarm | undefined {
    if (!this.enabled) {
      return undefined;
    }
    if (definition.datapointsToAlarm > definition.evaluationPeriods) {
      throw new Error(`${definition.id} datapointsToAlarm must not exceed evaluationPeriods (${definition.evaluationPeriods}), but got ${definition.datapointsToAlarm}`);
    }
    const alarm = new cloudwatch.Alarm(this.scope, definition.id, {
      metric: definition.metric,
      threshold: definition.threshold,
      evaluationPeriods: definition.evaluationPeriods,
      datapointsToAlarm: definition.datapointsToAlarm,
      comparisonOperator: definition.comparisonOperator,
      treatMissingData: definition.treatMissingData ?? cloudwatch.TreatMissingData.NOT_BREACHING,
      alarmDescription: definition.description,
      actionsEnabled: true,
    });
    if (this.actions.length > 0) {
      alarm.addAlarmAction(...this.actions);
    }
    this.created.push(alarm);
    return alarm;
  }

  /** Adds actions to every alarm, including alarms added later. */
  public addAlarmAction(...actions: cloudwatch.IAlarmAction[]): void {
    this.actions.push(...actions);
    for (const alarm of this.created) {
      alarm.addAlarmAction(...actions);
    }
  }
}
