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

/** How the threshold's warnings name the prop, the scheduled run and the alarm. */
export interface PassAlarmNaming {
  readonly prop: string;
  readonly run: string;
  readonly alarm: string;
}

const FULL_SYNC: PassAlarmNaming = { prop: 'fullSyncAlarmThreshold', run: 'reconciliation', alarm: 'full-sync alarm' };

/**
 * `fullSyncAlarmThreshold` (or, with `naming`, the same kind of threshold of another construct's
 * "a full pass has not completed" alarm), validated, or its default for `schedule`.
 */
export function fullSyncAlarmThreshold(
  scope: Construct, given: Duration | undefined, schedule: events.Schedule, naming: PassAlarmNaming = FULL_SYNC,
): Duration {
  const { prop, run, alarm } = naming;
  const seconds = maximumIntervalSeconds(schedule);
  if (given !== undefined) {
    const minutes = validateWholeDuration(prop, given, 'minutes', MIN_FULL_SYNC_THRESHOLD_MINUTES, MAX_FULL_SYNC_THRESHOLD_MINUTES);
    if (minutes !== undefined && seconds !== undefined && minutes * 60 < 2 * seconds) {
      // One alarm period as long as the threshold holds at least one run only when it is twice the gap.
      Annotations.of(scope).addWarningV2(`${WARNING}${prop}BelowSchedule`,
        `${prop} is ${given.toHumanString()}, less than twice the ${Duration.seconds(seconds).toHumanString()} between two ${run}s: `
        + `some alarm periods hold no ${run}, and the ${alarm} goes off between runs. Set it to at least `
        + `${Duration.minutes(Math.ceil(2 * seconds / 60)).toHumanString()}${2 * seconds > MAX_FULL_SYNC_THRESHOLD_MINUTES * 60
          ? ' (more than its maximum of 1 day: run the schedule at least every 12 hours)' : ''}.`);
    }
    return minutes === undefined ? given : Duration.minutes(minutes);
  }
  if (seconds === undefined) {
    Annotations.of(scope).addWarningV2(`${WARNING}${prop}Unknown`,
      `The ${run} schedule ${schedule.expressionString} does not run at a fixed interval every day, so the ${alarm} cannot `
      + `double it: it is set to ${DEFAULT_FULL_SYNC_THRESHOLD.toHumanString()}. Set ${prop} to at least twice the longest `
      + `gap between two ${run}s, or the alarm goes off between runs; a schedule with gaps longer than 12 hours (for example `
      + 'weekdays only) cannot have this alarm without it going off in them.');
    return DEFAULT_FULL_SYNC_THRESHOLD;
  }
  const interval = Duration.seconds(seconds);
  const twice = Math.ceil(interval.toSeconds() * 2 / 60);
  if (twice > MAX_FULL_SYNC_THRESHOLD_MINUTES) {
    Annotations.of(scope).addWarningV2(`${WARNING}${prop}Capped`,
      `The ${run} runs every ${interval.toHumanString()}, but the ${alarm} evaluates at most one day: it is set to 1 day and `
      + `goes off in a day without a ${run}. Run it at least every 12 hours.`);
  }
  return Duration.minutes(Math.max(MIN_FULL_SYNC_THRESHOLD_MINUTES, Math.min(twice, MAX_FULL_SYNC_THRESHOLD_MINUTES)));
}
