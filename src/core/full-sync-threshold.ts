import { Annotations, Duration } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import { Construct } from 'constructs';
import { maximumIntervalSeconds } from '../private/schedule';
import { validateWholeDuration, WARNING } from '../private/validation';

/**
 * The threshold of a replicator's full-sync age alarm (`fullSyncAlarmThreshold`): given, or twice
 * the longest gap of its reconciliation schedule. Shared by the secret and parameter replicators.
 * Internal.
 */

/** The shortest and longest `fullSyncAlarmThreshold`, in minutes: one alarm period of at most a day. */
const MIN_FULL_SYNC_THRESHOLD_MINUTES = 10;
const MAX_FULL_SYNC_THRESHOLD_MINUTES = 24 * 60;
/** Without a `rate()` schedule to double: twice the default interval of 6 hours. */
const DEFAULT_FULL_SYNC_THRESHOLD = Duration.hours(12);

/** `fullSyncAlarmThreshold`, validated, or its default for `schedule`. */
export function fullSyncAlarmThreshold(scope: Construct, given: Duration | undefined, schedule: events.Schedule): Duration {
  if (given !== undefined) {
    const minutes = validateWholeDuration('fullSyncAlarmThreshold', given, 'minutes', MIN_FULL_SYNC_THRESHOLD_MINUTES, MAX_FULL_SYNC_THRESHOLD_MINUTES);
    return minutes === undefined ? given : Duration.minutes(minutes);
  }
  const seconds = maximumIntervalSeconds(schedule);
  if (seconds === undefined) {
    Annotations.of(scope).addWarningV2(`${WARNING}fullSyncAlarmThresholdUnknown`,
      `The reconciliation schedule ${schedule.expressionString} does not run at a fixed interval every day, so the full-sync alarm cannot `
      + `double it: it is set to ${DEFAULT_FULL_SYNC_THRESHOLD.toHumanString()}. Set fullSyncAlarmThreshold to at least twice the longest `
      + 'gap between two reconciliations, or the alarm goes off between runs.');
    return DEFAULT_FULL_SYNC_THRESHOLD;
  }
  const interval = Duration.seconds(seconds);
  const twice = Math.ceil(interval.toSeconds() * 2 / 60);
  if (twice > MAX_FULL_SYNC_THRESHOLD_MINUTES) {
    Annotations.of(scope).addWarningV2(`${WARNING}fullSyncAlarmThresholdCapped`,
      `The reconciliation runs every ${interval.toHumanString()}, but the full-sync alarm evaluates at most one day: it is set to 1 day and `
      + 'goes off in a day without a reconciliation. Reconcile at least every 12 hours, or set fullSyncAlarmThreshold.');
  }
  return Duration.minutes(Math.max(MIN_FULL_SYNC_THRESHOLD_MINUTES, Math.min(twice, MAX_FULL_SYNC_THRESHOLD_MINUTES)));
}
