import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { addHandlerAlarms, AlarmSet, AT_LEAST_ONCE } from '../core/alarms';

/**
 * The drift detector's alarms, built only from the construct's `metricXxx()` methods and its
 * resources' metric methods. Internal; not exported from the package.
 */


/** What the alarms are built from. */
export interface DriftAlarmSources {
  readonly handler: lambda.IFunction;
  readonly deadLetterQueue: sqs.IQueue;
  /** Period of the scan alarms: the scan interval, so every period holds one scan. */
  readonly scanPeriod: Duration;
  readonly alertThreshold: number;
  readonly driftCount: (options: cloudwatch.MetricOptions) => cloudwatch.IMetric;
  readonly scanFailures: (options: cloudwatch.MetricOptions) => cloudwatch.IMetric;
  /** Set when auto-remediation writes (APPLY). */
  readonly remediationFailures?: (options: cloudwatch.MetricOptions) => cloudwatch.IMetric;
  /** `HasDrift`: one datapoint per complete scan. */
  readonly hasDrift: (options: cloudwatch.MetricOptions) => cloudwatch.IMetric;
  /** How long the detector may go without a complete scan (`fullScanAlarmThreshold`). */
  readonly fullScanThreshold: Duration;
}

/** The alarms `createDriftAlarms()` created; all `undefined` when alarms are disabled. */
export interface DriftAlarms {
  readonly driftAlarm?: cloudwatch.Alarm;
  readonly scanFailuresAlarm?: cloudwatch.Alarm;
  readonly remediationFailuresAlarm?: cloudwatch.Alarm;
  readonly fullScanAgeAlarm?: cloudwatch.Alarm;
  readonly errorsAlarm?: cloudwatch.Alarm;
  readonly throttlesAlarm?: cloudwatch.Alarm;
  readonly deadLetterAlarm?: cloudwatch.Alarm;
}

/** Creates the detector's alarms in `alarms` (which knows whether alarms are enabled). */
export function createDriftAlarms(alarms: AlarmSet, sources: DriftAlarmSources): DriftAlarms {
  const rescan = 'Invoke the function with {"action":"manual_check"} to scan again now.';
  const scanPeriod = sources.scanPeriod;

  const driftAlarm = alarms.add({
    id: 'DriftAlarm',
    // Maximum: a manual check in the same period must not add to the scheduled one.
    metric: sources.driftCount({ statistic: cloudwatch.Stats.MAXIMUM, period: scanPeriod }),
    threshold: sources.alertThreshold, // drifted items in one scan
    ...AT_LEAST_ONCE,
    // A period without a scan (a late schedule) keeps the last state rather than clearing the alarm.
    treatMissingData: cloudwatch.TreatMissingData.IGNORE,
    description: `Configuration drift detected across regions: at least ${sources.alertThreshold} item(s) in a replica region differ from the primary. `
      + 'The latest report (latest.json under the report prefix of the report bucket) lists each item, its drift type and the command that fixes it; '
      + 'DriftCount with the ResourceType and ReplicaRegion dimensions shows where. ' + rescan,
  });

  const scanFailuresAlarm = alarms.add({
    id: 'ScanFailuresAlarm',
    metric: sources.scanFailures({ statistic: cloudwatch.Stats.MAXIMUM, period: scanPeriod }),
    threshold: 1, // regions, clusters or items that could not be read in one scan
    ...AT_LEAST_ONCE,
    treatMissingData: cloudwatch.TreatMissingData.IGNORE,
    description: 'The drift detector could not read a region, a cluster or an item, so it could not compare it (drift may be hidden). '
      + 'The report\'s SCAN_FAILED entries name what failed, the error, and commands to diagnose (usually IAM, a KMS key policy, '
      + 'or an EKS access entry or RBAC binding). ' + rescan,
  });

  const remediationFailuresAlarm = sources.remediationFailures ? alarms.add({
    id: 'RemediationFailuresAlarm',
    metric: sources.remediationFailures({ statistic: cloudwatch.Stats.MAXIMUM, period: scanPeriod }),
    threshold: 1, // drifted items auto-remediation could not repair in one scan
    ...AT_LEAST_ONCE,
    treatMissingData: cloudwatch.TreatMissingData.IGNORE,
    description: 'Auto-remediation could not repair at least one drifted item. The report\'s autoRemediation fields name the item and error '
      + '(usually IAM, KMS, or a ConfigMap key owned by another field manager); the remediation commands in the report fix it by hand.',
  }) : undefined;

  const fullScanAgeAlarm = alarms.add({
    id: 'FullScanAgeAlarm',
    // One period as long as the threshold: a scan at least every half threshold puts a datapoint in
    // every period. Only a complete scan emits HasDrift (an invocation that hands over does not), so
    // an empty period means no scan finished: not run, failing, or handing over without end.
    metric: sources.hasDrift({ statistic: cloudwatch.Stats.SAMPLE_COUNT, period: sources.fullScanThreshold }),
    threshold: 1, // complete scans in the period
    evaluationPeriods: 1,
    datapointsToAlarm: 1,
    comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
    treatMissingData: cloudwatch.TreatMissingData.BREACHING,
    description: `No drift scan has completed for ${sources.fullScanThreshold.toHumanString()}, so drift would go unreported. `
      + 'Check the schedule rule, the function\'s errors and timeout, and its log group: a scan larger than one invocation hands over '
      + '(RunPartial = 1) and completes in a later one; OldestUnprocessedItemAge shows how long a scan has been running. '
      + 'A new deployment shows this until its first scan. ' + rescan,
  });

  const { errorsAlarm, throttlesAlarm, deadLetterAlarm } = addHandlerAlarms(alarms, sources.handler, sources.deadLetterQueue, {
    errors: 'The drift detector function failed (for example it could not write the report). Check its log group for the error; '
      + 'scheduled scans are retried twice and then sent to the dead-letter queue. ' + rescan,
    throttles: 'The drift detector function was throttled, so a scan was delayed. Check the account\'s Lambda concurrency. ' + rescan,
    deadLetter: 'Scheduled drift scans failed after retries and are in the dead-letter queue (the messages hold the schedule\'s event, never values). '
      + 'Fix the cause from the function\'s log group, purge the queue, then ' + rescan.charAt(0).toLowerCase() + rescan.slice(1),
  });

  return { driftAlarm, scanFailuresAlarm, remediationFailuresAlarm, fullScanAgeAlarm, errorsAlarm, throttlesAlarm, deadLetterAlarm };
}
