import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { addHandlerAlarms, AlarmSet, ALARM_PERIOD, AT_LEAST_ONCE } from '../core/alarms';

/**
 * The ConfigMap syncer's alarms, built only from the construct's `metricXxx()` methods and its
 * resources' metric methods. Internal; not exported from the package.
 */


/** What the alarms are built from. */
export interface SyncAlarmSources {
  readonly handler: lambda.IFunction;
  readonly deadLetterQueue: sqs.IQueue;
  readonly syncFailure: (options: cloudwatch.MetricOptions) => cloudwatch.IMetric;
}

/** The alarms `createSyncAlarms()` created; all `undefined` when alarms are disabled. */
export interface SyncAlarms {
  readonly syncFailuresAlarm?: cloudwatch.Alarm;
  readonly errorsAlarm?: cloudwatch.Alarm;
  readonly throttlesAlarm?: cloudwatch.Alarm;
  readonly deadLetterAlarm?: cloudwatch.Alarm;
}

/** Creates the syncer's alarms in `alarms` (which knows whether alarms are enabled). */
export function createSyncAlarms(alarms: AlarmSet, sources: SyncAlarmSources): SyncAlarms {
  const resync = 'Invoke the function with {"action":"test_sync"} to see what a sync would apply (a server-side dry run), '
    + 'or with {"action":"sync"} to sync every target now.';

  const syncFailuresAlarm = alarms.add({
    id: 'SyncFailuresAlarm',
    metric: sources.syncFailure({ statistic: cloudwatch.Stats.SUM, period: ALARM_PERIOD }),
    threshold: 1, // ConfigMaps that could not be written, per 5 minutes
    ...AT_LEAST_ONCE,
    // No data means no sync failed in the period (a failing target fails again on the next sync).
    treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    description: 'At least one ConfigMap could not be synced: the cluster was unreachable, the role was denied (EKS access entry, RBAC, '
      + 'or namespace creation without the cluster-scoped grant), another field manager owns a key (set forceConflicts to take it over), '
      + 'or the ConfigMap would be too large. SyncFailure with the Cluster dimension shows which cluster, and the function\'s log group '
      + 'names the target and the error. ' + resync,
  });

  const { errorsAlarm, throttlesAlarm, deadLetterAlarm } = addHandlerAlarms(alarms, sources.handler, sources.deadLetterQueue, {
    errors: 'The ConfigMap syncer function failed (for example it could not read the source parameters or secret). Check its log group '
      + 'for the error; scheduled and event-driven syncs are retried twice and then sent to the dead-letter queue. ' + resync,
    throttles: 'The ConfigMap syncer function was throttled, so a sync was delayed. Check the account\'s Lambda concurrency. ' + resync,
    deadLetter: 'Syncs failed after retries and are in the dead-letter queue (the messages hold the schedule\'s input or the change event, '
      + 'never values). Fix the cause from the function\'s log group, purge the queue, then invoke the function with {"action":"sync"}.',
  });

  return { syncFailuresAlarm, errorsAlarm, throttlesAlarm, deadLetterAlarm };
}

/** Creates the alarm on failed workload rollouts (only for a syncer whose targets name workloads). */
export function createRolloutAlarm(
  alarms: AlarmSet,
  rolloutsFailed: (options: cloudwatch.MetricOptions) => cloudwatch.IMetric,
): cloudwatch.Alarm | undefined {
  return alarms.add({
    id: 'RolloutFailuresAlarm',
    metric: rolloutsFailed({ statistic: cloudwatch.Stats.SUM, period: ALARM_PERIOD }),
    threshold: 1, // failed rollouts and workloads that could not be rolled, per 5 minutes
    ...AT_LEAST_ONCE,
    // No data means no rollout failed in the period (a workload that cannot be rolled fails again at the next sync).
    treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    description: 'A workload rollout did not complete within its timeout (later regions keep their pods until the data changes again), '
      + 'or a workload could not be read or patched (denied by RBAC, missing, or a field conflict). RolloutsFailed with the Cluster '
      + 'dimension shows which cluster; the function\'s log group names the workload. Fix the workload, then change the data (or '
      + 'roll it yourself with kubectl rollout restart); invoke the function with {"action":"test_sync"} to see which workloads would roll.',
  });
}
