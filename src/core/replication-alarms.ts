import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { addHandlerAlarms, AlarmSet, ALARM_PERIOD, AT_LEAST_ONCE } from './alarms';

/**
 * The alarms of a replicator (the secret and the parameter replicators): the handler's, failed
 * replica writes, no full agreement within the threshold, and conflicts left for an operator. Their
 * metrics, periods and thresholds are the same for both; each replicator words the descriptions
 * for what it copies. Built only from the construct's `metricXxx()` methods and its resources'
 * metric methods. Internal; not exported from the package.
 */

/** What the alarms are built from. */
export interface ReplicationAlarmSources {
  readonly handler: lambda.IFunction;
  readonly deadLetterQueue: sqs.IQueue;
  /** The replicator's `metricReplicationFailures()` */
  readonly replicationFailures: (options: cloudwatch.MetricOptions) => cloudwatch.IMetric;
  /** The replicator's `metricConflicts()` */
  readonly conflicts: (options: cloudwatch.MetricOptions) => cloudwatch.IMetric;
  /** The replicator's `metricSecondsSinceFullSync()` */
  readonly secondsSinceFullSync: (options: cloudwatch.MetricOptions) => cloudwatch.IMetric;
  /** `fullSyncAlarmThreshold` (or its default): also the alarm's period. */
  readonly fullSyncThreshold: Duration;
  /** Whether conflicts are left for an operator (`SKIP_AND_ALARM`). */
  readonly alarmOnConflicts: boolean;
}

/** The descriptions of a replicator's alarms; `reconcileHint` ends most of them. */
export interface ReplicationAlarmTexts {
  readonly errors: string;
  readonly throttles: string;
  readonly deadLetter: string;
  readonly replicationFailures: string;
  /** The full-sync age alarm's description for the threshold, written as `thresholdText`. */
  readonly fullSyncAge: (thresholdText: string) => string;
  readonly conflicts: string;
}

/** The alarms `createReplicationAlarms()` created; all `undefined` when alarms are disabled. */
export interface ReplicationAlarms {
  readonly errorsAlarm?: cloudwatch.Alarm;
  readonly throttlesAlarm?: cloudwatch.Alarm;
  readonly deadLetterAlarm?: cloudwatch.Alarm;
  readonly replicationFailuresAlarm?: cloudwatch.Alarm;
  readonly fullSyncAgeAlarm?: cloudwatch.Alarm;
  readonly conflictsAlarm?: cloudwatch.Alarm;
}

/** What every replicator alarm that asks for a reconciliation ends with. */
export const RECONCILE_HINT = 'After fixing the cause, invoke the function with {"action":"reconcile"} to bring every replica up to date.';

/** Creates a replicator's alarms in `alarms` (which knows whether alarms are enabled). */
export function createReplicationAlarms(alarms: AlarmSet, sources: ReplicationAlarmSources, texts: ReplicationAlarmTexts): ReplicationAlarms {
  const { errorsAlarm, throttlesAlarm, deadLetterAlarm } = addHandlerAlarms(alarms, sources.handler, sources.deadLetterQueue, {
    errors: texts.errors,
    throttles: texts.throttles,
    deadLetter: texts.deadLetter,
  });

  const replicationFailuresAlarm = alarms.add({
    id: 'ReplicationFailuresAlarm',
    metric: sources.replicationFailures({ statistic: cloudwatch.Stats.SUM, period: ALARM_PERIOD }),
    threshold: 1, // replica writes that failed after retries, per 5 minutes
    ...AT_LEAST_ONCE,
    description: texts.replicationFailures,
  });

  const fullSyncAgeAlarm = alarms.add({
    id: 'FullSyncAgeAlarm',
    // One period as long as the threshold: a reconciliation at least every half threshold puts a
    // datapoint in every period, so an empty period means the reconciliation stopped reporting.
    metric: sources.secondsSinceFullSync({ statistic: cloudwatch.Stats.MAXIMUM, period: sources.fullSyncThreshold }),
    threshold: sources.fullSyncThreshold.toSeconds(), // seconds since every selected item agreed in a replica region
    evaluationPeriods: 1,
    datapointsToAlarm: 1,
    comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
    treatMissingData: cloudwatch.TreatMissingData.BREACHING,
    description: texts.fullSyncAge(sources.fullSyncThreshold.toHumanString()),
  });

  const conflictsAlarm = sources.alarmOnConflicts ? alarms.add({
    id: 'ConflictsAlarm',
    metric: sources.conflicts({ statistic: cloudwatch.Stats.SUM, period: ALARM_PERIOD }),
    threshold: 1, // replicas found changed in their own region, per 5 minutes
    ...AT_LEAST_ONCE,
    description: texts.conflicts,
  }) : undefined;

  return { errorsAlarm, throttlesAlarm, deadLetterAlarm, replicationFailuresAlarm, fullSyncAgeAlarm, conflictsAlarm };
}

/** The words common to both replicators' full-sync age alarm after the first sentence. */
export function fullSyncAgeDetails(items: string): string {
  return `ReplicationFailures and Conflicts show why, and the log group names the ${items}. `
    + 'No data means the scheduled reconciliation did not run or did not finish (check the schedule rule, the function\'s errors and its timeout), '
    + 'or that a region has not agreed since the function started; a new deployment shows this until its first reconciliation. '
    + RECONCILE_HINT;
}
