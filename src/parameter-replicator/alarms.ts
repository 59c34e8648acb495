import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { addHandlerAlarms, AlarmSet, ALARM_PERIOD, AT_LEAST_ONCE } from '../core/alarms';

/**
 * The parameter replicator's alarms, built only from the construct's `metricXxx()` methods and its
 * resources' metric methods. Internal; not exported from the package.
 */

/** What the alarms are built from. */
export interface ParameterReplicatorAlarmSources {
  readonly handler: lambda.IFunction;
  readonly deadLetterQueue: sqs.IQueue;
  /** `CrossRegionParameterReplicator.metricReplicationFailures()` */
  readonly replicationFailures: (options: cloudwatch.MetricOptions) => cloudwatch.IMetric;
  /** `CrossRegionParameterReplicator.metricConflicts()` */
  readonly conflicts: (options: cloudwatch.MetricOptions) => cloudwatch.IMetric;
  /** `CrossRegionParameterReplicator.metricSecondsSinceFullSync()` */
  readonly secondsSinceFullSync: (options: cloudwatch.MetricOptions) => cloudwatch.IMetric;
  /** `fullSyncAlarmThreshold` (or its default): also the alarm's period. */
  readonly fullSyncThreshold: Duration;
  /** Whether conflicts are left for an operator (`SKIP_AND_ALARM`). */
  readonly alarmOnConflicts: boolean;
}

/** The alarms `createParameterReplicatorAlarms()` created; all `undefined` when alarms are disabled. */
export interface ParameterReplicatorAlarms {
  readonly errorsAlarm?: cloudwatch.Alarm;
  readonly throttlesAlarm?: cloudwatch.Alarm;
  readonly deadLetterAlarm?: cloudwatch.Alarm;
  readonly replicationFailuresAlarm?: cloudwatch.Alarm;
  readonly fullSyncAgeAlarm?: cloudwatch.Alarm;
  readonly conflictsAlarm?: cloudwatch.Alarm;
}

/** Creates the parameter replicator's alarms in `alarms` (which knows whether alarms are enabled). */
export function createParameterReplicatorAlarms(alarms: AlarmSet, sources: ParameterReplicatorAlarmSources): ParameterReplicatorAlarms {
  const reconcileHint = 'After fixing the cause, invoke the function with {"action":"reconcile"} to bring every replica up to date.';

  const { errorsAlarm, throttlesAlarm, deadLetterAlarm } = addHandlerAlarms(alarms, sources.handler, sources.deadLetterQueue, {
    errors: 'The parameter replicator function failed at least once in 5 minutes. '
      + 'Check its log group for the error (parameter values are never logged); failed events are retried twice and then sent to the dead-letter queue. '
      + reconcileHint,
    throttles: 'The parameter replicator function was throttled in the last 5 minutes, so replication is delayed. '
      + 'Check the account\'s Lambda concurrency (unreserved concurrency and other functions\' usage). '
      + reconcileHint,
    deadLetter: 'Parameter Store change events could not be delivered to or processed by the parameter replicator and are in its dead-letter queue. '
      + 'Read the messages (they hold change events with parameter names, never values) to see which parameters are affected, fix the cause, '
      + 'then purge the queue and invoke the function with {"action":"reconcile"}. Messages are kept for 14 days.',
  });

  const replicationFailuresAlarm = alarms.add({
    id: 'ReplicationFailuresAlarm',
    metric: sources.replicationFailures({ statistic: cloudwatch.Stats.SUM, period: ALARM_PERIOD }),
    threshold: 1, // replica writes that failed after retries, per 5 minutes
    ...AT_LEAST_ONCE,
    description: 'At least one parameter could not be written to a replica region in 5 minutes. '
      + 'The ReplicationFailures metric with the ReplicaRegion dimension shows which region; the log group names the parameter and the reason '
      + '(IAM or a KMS key policy, an assumed role\'s trust policy, a value too long for the replica\'s tier, a regional data type such as '
      + 'aws:ec2:image without a declared override, or PutParameter throttling beyond the retries: see the README on raising the throughput quota). '
      + reconcileHint,
  });

  const thresholdText = sources.fullSyncThreshold.toHumanString();
  const fullSyncAgeAlarm = alarms.add({
    id: 'FullSyncAgeAlarm',
    // One period as long as the threshold: a reconciliation at least every half threshold puts a
    // datapoint in every period, so an empty period means the reconciliation stopped reporting.
    metric: sources.secondsSinceFullSync({ statistic: cloudwatch.Stats.MAXIMUM, period: sources.fullSyncThreshold }),
    threshold: sources.fullSyncThreshold.toSeconds(), // seconds since every selected parameter agreed in a replica region
    evaluationPeriods: 1,
    datapointsToAlarm: 1,
    comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
    treatMissingData: cloudwatch.TreatMissingData.BREACHING,
    description: `For more than ${thresholdText}, a replica region has not fully agreed with the primary (or its declared overrides) in any `
      + 'reconciliation, or no reconciliation reported at all. The SecondsSinceFullSync metric with the ReplicaRegion dimension shows which region; '
      + 'ReplicationFailures and Conflicts show why, and the log group names the parameters. '
      + 'No data means the scheduled reconciliation did not run or did not finish (check the schedule rule, the function\'s errors and its timeout), '
      + 'or that a region has not agreed since the function started; a new deployment shows this until its first reconciliation. '
      + reconcileHint,
  });

  const conflictsAlarm = sources.alarmOnConflicts ? alarms.add({
    id: 'ConflictsAlarm',
    metric: sources.conflicts({ statistic: cloudwatch.Stats.SUM, period: ALARM_PERIOD }),
    threshold: 1, // replicas found changed in their own region, per 5 minutes
    ...AT_LEAST_ONCE,
    description: 'A replica parameter was changed in its own region and the replicator left it as it is (conflict policy SKIP_AND_ALARM). '
      + 'The log group names the parameter and region. Decide which value wins: to keep the primary\'s (or the declared override), delete the '
      + 'replica or write the primary\'s value back with aws ssm put-parameter --overwrite and invoke the function with {"action":"reconcile"}; '
      + 'to keep the replica\'s, write that value to the primary parameter (or declare it as the region\'s override).',
  }) : undefined;

  return { errorsAlarm, throttlesAlarm, deadLetterAlarm, replicationFailuresAlarm, fullSyncAgeAlarm, conflictsAlarm };
}
