import { Duration, Token } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import { fail } from './validation';

/**
 * One reading of EventBridge schedule expressions for every construct: the rate of a `rate(...)`
 * schedule, the shortest gap between two runs of a `cron(...)` schedule, and the minimum interval
 * each construct accepts.
 */

const RATE = /^rate\((\d+) (minute|hour|day)s?\)$/;
const SECONDS_PER_UNIT = { minute: 60, hour: 3_600, day: 86_400 } as const;
const MINUTES_PER_DAY = 1_440;

/** A `rate(...)` schedule's amount and unit; `undefined` for cron, one-time and deploy-time schedules. */
export function parseRate(schedule: events.Schedule): { amount: number; unit: 'minute' | 'hour' | 'day' } | undefined {
  const match = RATE.exec(schedule.expressionString);
  return match ? { amount: Number(match[1]), unit: match[2] as 'minute' | 'hour' | 'day' } : undefined;
}

/** A `rate(...)` schedule's interval in seconds; `undefined` for any other schedule. */
export function rateSeconds(schedule: events.Schedule): number | undefined {
  const rate = parseRate(schedule);
  return rate ? rate.amount * SECONDS_PER_UNIT[rate.unit] : undefined;
}

/** The short form of a rate schedule (`rate(1 hour)` as `1h`, as in the settings documents); the expression otherwise. */
export function intervalLabel(schedule: events.Schedule): string {
  const rate = parseRate(schedule);
  return rate ? `${rate.amount}${rate.unit[0]}` : schedule.expressionString;
}

/**
 * The shortest time between two runs of `schedule`, in seconds, or `undefined` when it cannot be
 * told at synth (a deploy-time value, a one-time `at(...)` schedule, or a cron field this reader
 * does not parse).
 *
 * For `cron(minutes hours day-of-month month day-of-week year)` the runs of one day are the
 * minutes × hours fields; when every day runs (day-of-month and day-of-week `*` or `?`) the gap from
 * the day's last run to the next day's first counts too. Restricted days only lengthen gaps across
 * midnight, so they are left out rather than guessed.
 */
export function minimumIntervalSeconds(schedule: events.Schedule): number | undefined {
  const expression = schedule.expressionString;
  if (Token.isUnresolved(expression)) return undefined;
  const rate = rateSeconds(schedule);
  if (rate !== undefined) return rate;
  const cron = /^cron\((\S+) (\S+) (\S+) (\S+) (\S+)(?: (\S+))?\)$/.exec(expression);
  if (!cron) return undefined;
  const minutes = cronField(cron[1], 0, 59);
  const hours = cronField(cron[2], 0, 23);
  if (!minutes || !hours) return undefined;
  const times = hours.flatMap((h) => minutes.map((m) => h * 60 + m)).sort((a, b) => a - b);
  const everyDay = [cron[3], cron[5]].every((f) => f === '*' || f === '?');
  let gap = everyDay ? MINUTES_PER_DAY - times[times.length - 1] + times[0] : Infinity;
  for (let i = 1; i < times.length; i++) gap = Math.min(gap, times[i] - times[i - 1]);
  return Number.isFinite(gap) ? gap * 60 : undefined;
}

/**
 * The longest time between two runs of `schedule`, in seconds, or `undefined` when it cannot be told
 * at synth: a deploy-time value, a one-time schedule, a cron field this reader does not parse, or a
 * cron schedule that does not run every day (its longest gap depends on the calendar).
 */
export function maximumIntervalSeconds(schedule: events.Schedule): number | undefined {
  const expression = schedule.expressionString;
  if (Token.isUnresolved(expression)) return undefined;
  const rate = rateSeconds(schedule);
  if (rate !== undefined) return rate;
  const cron = /^cron\((\S+) (\S+) (\S+) (\S+) (\S+)(?: (\S+))?\)$/.exec(expression);
  if (!cron) return undefined;
  const everyDay = [cron[3], cron[5]].every((f) => f === '*' || f === '?') && cron[4] === '*' && (cron[6] === undefined || cron[6] === '*');
  const minutes = cronField(cron[1], 0, 59);
  const hours = cronField(cron[2], 0, 23);
  if (!everyDay || !minutes || !hours) return undefined;
  const times = hours.flatMap((h) => minutes.map((m) => h * 60 + m)).sort((a, b) => a - b);
  let gap = MINUTES_PER_DAY - times[times.length - 1] + times[0];
  for (let i = 1; i < times.length; i++) gap = Math.max(gap, times[i] - times[i - 1]);
  return gap * 60;
}

/** The values of a cron minutes or hours field (`*`, `5`, `1-5`, `0/15`, `*\/10`, `10-50/20`, lists), or `undefined`. */
function cronField(field: string, min: number, max: number): number[] | undefined {
  const values = new Set<number>();
  for (const part of field.split(',')) {
    const match = /^(\*|\d+)(?:-(\d+))?(?:\/(\d+))?$/.exec(part);
    if (!match) return undefined;
    const start = match[1] === '*' ? min : Number(match[1]);
    const end = match[2] !== undefined ? Number(match[2]) : (match[1] === '*' || match[3] !== undefined ? max : start);
    const step = match[3] !== undefined ? Number(match[3]) : 1;
    if (start < min || end > max || start > end || step < 1) return undefined;
    for (let v = start; v <= end; v += step) values.add(v);
  }
  return [...values];
}

/**
 * Fails when `schedule` can run more often than once every `minimum` (a construct's handler's
 * default timeout): a run would start while the previous one may still be running, and overlapping
 * runs repeat each other's work, compete for the same API quotas and multiply cost. `minimum` is
 * named in the message with `reason`, e.g. `schedule must run at most once every 15 minutes (...),
 * but got "rate(1 minute)"`.
 */
export function validateScheduleInterval(prop: string, schedule: events.Schedule, minimum: Duration, reason: string): void {
  const interval = minimumIntervalSeconds(schedule);
  if (interval === undefined || minimum.isUnresolved()) return;
  if (interval < minimum.toSeconds()) {
    fail(prop, `must run at most once every ${minimum.toHumanString()} (${reason})`, schedule.expressionString);
  }
}
