import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { acknowledgeNagFindingUntilFixed, NIST_800_53_R5 } from './nag';

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
  /** Revokes the acknowledgement that an alarm has no action, once it has one. */
  private readonly revokeWithoutActionAcks: Array<() => void> = [];

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
    } else {
      this.revokeWithoutActionAcks.push(acknowledgeNagFindingUntilFixed(alarm, {
        id: `${NIST_800_53_R5}-CloudWatchAlarmAction`,
        reason: 'Where an alarm notifies is the application\'s choice (alarmActions, or addAlarmAction() on the construct); without an action '
          + 'it still changes state on the construct\'s dashboard and in the CloudWatch console.',
      }));
    }
    this.created.push(alarm);
    return alarm;
  }

  /** Adds actions to every alarm, including alarms added later. */
  public addAlarmAction(...actions: cloudwatch.IAlarmAction[]): void {
    this.actions.push(...actions);
    if (actions.length > 0) {
      this.revokeWithoutActionAcks.splice(0).forEach((revoke) => revoke());
    }
    for (const alarm of this.created) {
      alarm.addAlarmAction(...actions);
    }
  }
}

/** Period of the alarms of this library that count events: five minutes (`--period 300`). */
export const ALARM_PERIOD = Duration.minutes(5);

/** An alarm that goes off on the first event of a period: `>= threshold` in 1 of 1 datapoints. */
export const AT_LEAST_ONCE = {
  evaluationPeriods: 1,
  datapointsToAlarm: 1,
  comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
} as const;

/** Operator-facing descriptions of the three alarms every handler of this library has. */
export interface HandlerAlarmDescriptions {
  /** What an `Errors` datapoint means for this handler, and what to do. */
  readonly errors: string;
  /** What a `Throttles` datapoint means for this handler, and what to do. */
  readonly throttles: string;
  /** What a message in the dead-letter queue means for this handler, and what to do. */
  readonly deadLetter: string;
}

/** The handler alarms `addHandlerAlarms()` created; all `undefined` when alarms are disabled. */
export interface HandlerAlarms {
  readonly errorsAlarm?: cloudwatch.Alarm;
  readonly throttlesAlarm?: cloudwatch.Alarm;
  readonly deadLetterAlarm?: cloudwatch.Alarm;
}

/**
 * Adds `ErrorsAlarm`, `ThrottlesAlarm` and `DeadLetterAlarm` (each `>= 1` in 5 minutes, 1 of 1
 * datapoints), in that order: the alarms every handler of this library has, with its own words.
 */
export function addHandlerAlarms(
  alarms: AlarmSet, handler: lambda.IFunction, deadLetterQueue: sqs.IQueue, descriptions: HandlerAlarmDescriptions,
): HandlerAlarms {
  const errorsAlarm = alarms.add({
    id: 'ErrorsAlarm',
    metric: handler.metricErrors({ statistic: cloudwatch.Stats.SUM, period: ALARM_PERIOD }),
    threshold: 1, // invocations that ended in an error, per 5 minutes
    ...AT_LEAST_ONCE,
    description: descriptions.errors,
  });
  const throttlesAlarm = alarms.add({
    id: 'ThrottlesAlarm',
    metric: handler.metricThrottles({ statistic: cloudwatch.Stats.SUM, period: ALARM_PERIOD }),
    threshold: 1, // throttled invocations, per 5 minutes
    ...AT_LEAST_ONCE,
    description: descriptions.throttles,
  });
  const deadLetterAlarm = alarms.add({
    id: 'DeadLetterAlarm',
    metric: deadLetterQueue.metricApproximateNumberOfMessagesVisible({ statistic: cloudwatch.Stats.MAXIMUM, period: ALARM_PERIOD }),
    threshold: 1, // messages waiting in the dead-letter queue
    ...AT_LEAST_ONCE,
    description: descriptions.deadLetter,
  });
  return { errorsAlarm, throttlesAlarm, deadLetterAlarm };
}
