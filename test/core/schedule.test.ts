import { App, CfnParameter, Duration, Stack } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import { at } from './messages';
import {
  ConfigDriftDetector, ConfigMapSyncer, CrossRegionSecretReplicator, KubernetesCluster, SecretSelection,
} from '../../src';
import { intervalLabel, maximumIntervalSeconds, minimumIntervalSeconds, rateSeconds } from '../../src/private/schedule';

/** mulberry32: a small seeded generator of numbers in [0, 1). */
function mulberry32(seed: number): () => number {
  /* eslint-disable no-bitwise -- the algorithm is defined in 32-bit integer arithmetic */
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = Math.imul(state ^ (state >>> 15), state | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
  /* eslint-enable no-bitwise */
}

describe('schedule reading', () => {
  test('reads the rate of rate(...) schedules in seconds and as the settings documents\' short form', () => {
    expect(rateSeconds(events.Schedule.rate(Duration.minutes(1)))).toBe(60);
    expect(rateSeconds(events.Schedule.rate(Duration.hours(6)))).toBe(21_600);
    expect(rateSeconds(events.Schedule.rate(Duration.days(2)))).toBe(172_800);
    expect(rateSeconds(events.Schedule.cron({ minute: '0' }))).toBeUndefined();
    expect(intervalLabel(events.Schedule.rate(Duration.hours(1)))).toBe('1h');
    expect(intervalLabel(events.Schedule.rate(Duration.minutes(5)))).toBe('5m');
    expect(intervalLabel(events.Schedule.expression('cron(0 * * * ? *)'))).toBe('cron(0 * * * ? *)');
  });

  test.each([
    ['cron(* * * * ? *)', 60],
    ['cron(0/5 * * * ? *)', 300],
    ['cron(*/10 * * * ? *)', 600],
    ['cron(0 * * * ? *)', 3_600],
    ['cron(0,30 8-17 ? * MON-FRI *)', 1_800],
    ['cron(0 8,20 * * ? *)', 43_200],
    // Every day: 23:55 and the next day's 00:05 are 10 minutes apart.
    ['cron(5,55 0,23 * * ? *)', 600],
    // Restricted days: the gap across midnight is not counted (consecutive days may not both run).
    ['cron(5,55 0,23 ? * MON *)', 3_000],
    ['cron(0 12 * * ? *)', 86_400],
  ])('finds the shortest gap between runs of %s', (expression, seconds) => {
    expect(minimumIntervalSeconds(events.Schedule.expression(expression))).toBe(seconds);
  });

  test.each([
    // A one-time schedule, an hours field this reader does not parse, and one run a day on some days only.
    'at(2030-01-01T00:00:00)', 'cron(0 12-x * * ? *)', 'cron(0 12 L * ? *)',
  ])('leaves what it cannot tell at synth alone: %s', (expression) => {
    expect(minimumIntervalSeconds(events.Schedule.expression(expression))).toBeUndefined();
  });

  test('leaves a deploy-time rate alone', () => {
    const minutes = new CfnParameter(new Stack(), 'Minutes', { type: 'Number' }).valueAsNumber;
    expect(minimumIntervalSeconds(events.Schedule.rate(Duration.minutes(minutes)))).toBeUndefined();
  });

  test('the shortest and longest gaps of random daily cron schedules equal a run-by-run count over two days', () => {
    const seed = Number(process.env.SCHEDULE_SEED ?? Date.now() % 1_000_000);
    const random = mulberry32(seed);
    const pick = (n: number) => Math.floor(random() * n);
    const field = (max: number): string => {
      const parts = Array.from({ length: 1 + pick(3) }, () => {
        switch (pick(4)) {
          case 0: return String(pick(max + 1));
          case 1: { const a = pick(max + 1); return `${a}-${a + pick(max + 1 - a)}`; }
          case 2: return `${pick(max + 1)}/${1 + pick(max)}`;
          default: return `*/${1 + pick(max)}`;
        }
      });
      return parts.join(',');
    };
    for (let i = 0; i < 300; i++) {
      const minutes = field(59);
      const hours = field(23);
      const expression = `cron(${minutes} ${hours} * * ? *)`;
      // Brute force: every minute of two days that matches both fields.
      const matches = (spec: string, value: number, max: number) => spec.split(',').some((part) => {
        const [range, step] = part.split('/');
        const [lo, hi] = range === '*' ? [0, max] : range.includes('-') ? range.split('-').map(Number) : [Number(range), step ? max : Number(range)];
        return value >= lo && value <= hi && (value - lo) % Number(step ?? 1) === 0;
      });
      const runs: number[] = [];
      for (let m = 0; m < 2 * 1_440; m++) {
        if (matches(minutes, m % 60, 59) && matches(hours, Math.floor((m % 1_440) / 60), 23)) runs.push(m);
      }
      const gaps = runs.slice(1).map((r, j) => r - runs[j]);
      const expected = gaps.length ? Math.min(...gaps) * 60 : undefined;
      const actual = minimumIntervalSeconds(events.Schedule.expression(expression));
      if (actual !== expected) {
        throw new Error(`schedule ${expression}: expected ${expected}, got ${actual} (SCHEDULE_SEED=${seed})`);
      }
      const longest = gaps.length ? Math.max(...gaps) * 60 : undefined;
      const actualLongest = maximumIntervalSeconds(events.Schedule.expression(expression));
      if (actualLongest !== longest) {
        throw new Error(`schedule ${expression}: expected a longest gap of ${longest}, got ${actualLongest} (SCHEDULE_SEED=${seed})`);
      }
    }
  });
});

describe('maximumIntervalSeconds', () => {
  test.each([
    ['rate(6 hours)', 21_600],
    ['cron(0 3 * * ? *)', 86_400],
    ['cron(0 0,4,8 * * ? *)', 57_600],
  ])('%s: %d seconds', (expression, seconds) => {
    expect(maximumIntervalSeconds(events.Schedule.expression(expression))).toBe(seconds);
  });

  test.each(['cron(0 3 ? * MON-FRI *)', 'cron(0 3 1 * ? *)', 'cron(0 3 * 1-6 ? *)', 'cron(0 3 * * ? 2027)', 'at(2027-01-01T00:00:00)'])(
    '%s: undefined (the longest gap depends on the calendar)', (expression) => {
      expect(maximumIntervalSeconds(events.Schedule.expression(expression))).toBeUndefined();
    });
});

const stack = () => new Stack(new App(), 'TestStack', { env: { region: 'us-east-1' } });
const secrets = SecretSelection.fromNames('app/db');
const cluster = KubernetesCluster.fromClusterAttributes({ clusterName: 'app-eu', region: 'eu-west-1' });
const everyMinute = events.Schedule.rate(Duration.minutes(1));
const cronEveryMinute = events.Schedule.cron({ minute: '*' });

describe('CrossRegionSecretReplicator reconciliationSchedule', () => {
  const build = (reconciliationSchedule: events.Schedule) => () =>
    new CrossRegionSecretReplicator(stack(), 'Replicator', { secrets, replicaRegions: ['eu-west-1'], reconciliationSchedule });

  test('fails if it runs every minute', () => {
    const message = (got: string) => at('TestStack/Replicator', 'reconciliationSchedule must run at most once every 10 minutes '
      + `(a reconciliation may take the handler's default timeout, and reconciliations must not overlap), but got "${got}"`);
    expect(build(everyMinute)).toThrow(message('rate(1 minute)'));
    expect(build(cronEveryMinute)).toThrow(message('cron(* * * * ? *)'));
  });

  test('accepts the minimum', () => {
    expect(build(events.Schedule.rate(Duration.minutes(10)))).not.toThrow();
  });
});

describe('ConfigDriftDetector schedule', () => {
  const build = (schedule: events.Schedule) => () =>
    new ConfigDriftDetector(stack(), 'Detector', { secrets, replicaRegions: ['eu-west-1'], schedule });

  test('fails if it runs every minute', () => {
    const message = (got: string) => at('TestStack/Detector',
      `schedule must run at most once every 15 minutes (a scan may take the handler's default timeout, and scans must not overlap), but got "${got}"`);
    expect(build(everyMinute)).toThrow(message('rate(1 minute)'));
    expect(build(cronEveryMinute)).toThrow(message('cron(* * * * ? *)'));
    expect(build(events.Schedule.cron({ minute: '0/10' }))).toThrow(message('cron(0/10 * * * ? *)'));
  });

  test('accepts the minimum', () => {
    expect(build(events.Schedule.rate(Duration.minutes(15)))).not.toThrow();
    expect(build(events.Schedule.cron({ minute: '0/15' }))).not.toThrow();
  });
});

describe('ConfigMapSyncer schedule', () => {
  const build = (schedule: events.Schedule) => () =>
    new ConfigMapSyncer(stack(), 'Syncer', { parameterPath: '/app/prod/config', configMapName: 'app-config', targets: [{ cluster }], schedule });

  test('fails if it runs every minute', () => {
    const message = (got: string) => at('TestStack/Syncer',
      `schedule must run at most once every 5 minutes (a sync may take the handler's default timeout, and syncs must not overlap), but got "${got}"`);
    expect(build(everyMinute)).toThrow(message('rate(1 minute)'));
    expect(build(cronEveryMinute)).toThrow(message('cron(* * * * ? *)'));
  });

  test('accepts the minimum', () => {
    expect(build(events.Schedule.rate(Duration.minutes(5)))).not.toThrow();
  });
});
