/**
 * Deadline-aware drift scans against moto server: every invocation gets a tiny, random deadline
 * (the Lambda context is driven by the test), so a scan stops between its scopes with scope reads
 * in flight and hands the rest over. The continuations the handler sends are queued by the test
 * and delivered in order, some twice (Lambda's asynchronous invocations are at-least-once), and a
 * manual check from another execution environment sometimes races a continuation.
 *
 * Each case builds a seeded inventory (a secret selection and a dozen parameter paths in one
 * primary and two replica regions, with missing, changed and extra replicas) and scans it twice:
 * once by a bounded handler through its chain of continuations, once by an unbounded handler in one
 * invocation. Invariants:
 * - the bounded scan's report equals the unbounded one's: the same drifts in the same order, the
 *   same scopes (each exactly once, in order), the same counts;
 * - every (item, replica region) pair is compared exactly once per scan: the invocations'
 *   `processed` and the `ItemsProcessed` metric add up to the report's `itemsCompared`;
 * - `RunPartial` is 1 for every invocation that handed over and 0 for the last;
 *   `OldestUnprocessedItemAge` is 0 only for the last;
 * - the per-scan metrics (`DriftCount`, `HasDrift`, `ItemsCompared`) are emitted once, by the
 *   invocation that completes the scan, and equal the unbounded scan's: a partial invocation never
 *   sets or clears `HasDrift`;
 * - a duplicated continuation and a racing manual check do nothing while the scan is in progress;
 * - the parts kept between invocations are deleted when the scan completes; no value is logged.
 *
 * HANDOVER_SEED sets the first case's PRNG sequence number (default: time-based; printed), and
 * HANDOVER_CASES (default 3) how many cases run. A failure names the case's sequence number.
 */
import { ConfigWorld, inParallel, reportSchemaErrors } from './world';
import { DriftEnv } from '../../src/drift-detector/contract';
import { startMotoServer } from '../harness/moto';
import { OutputCapture } from '../harness/world';

const PRIMARY = 'us-east-1';
const REPLICAS = ['eu-west-1', 'ap-southeast-2'];
const BUCKET = 'drift-hand-over';
const FIRST_CASE = Number(process.env.HANDOVER_SEED ?? (Date.now() % 1_000_000));
const CASES = Number(process.env.HANDOVER_CASES ?? 3);
/** Parameter paths per case: with the secret selection, 13 scopes to spread over the invocations. */
const PATHS = 12;
/** Invocation deadlines (ms): the budget keeps half of a deadline this short, so each compares one to a few scopes. */
const MAX_DEADLINE_MS = 250;

let moto: Awaited<ReturnType<typeof startMotoServer>>;
let world: ConfigWorld;
const output = new OutputCapture();
const results: string[] = [];
const savedEnv = { ...process.env };
/** Per case: invocations, duplicate continuations refused, racing checks refused (printed at the end). */
const tallies: string[] = [];

/* eslint-disable @typescript-eslint/no-require-imports -- loaded after the environment points at moto */
let createHandler: any;
/* eslint-enable @typescript-eslint/no-require-imports */

beforeAll(async () => {
  process.stderr.write(`drift hand-over cases ${FIRST_CASE} to ${FIRST_CASE + CASES - 1} (rerun one with HANDOVER_SEED=<n> HANDOVER_CASES=1)\n`);
  moto = await startMotoServer();
  Object.assign(process.env, {
    AWS_ENDPOINT_URL: moto.endpoint,
    AWS_ACCESS_KEY_ID: 'testing',
    AWS_SECRET_ACCESS_KEY: 'testing',
    AWS_REGION: PRIMARY,
    [DriftEnv.METRIC_NAMESPACE]: 'Test/ConfigurationDrift',
  });
  delete process.env.AWS_SESSION_TOKEN;
  delete process.env.AWS_PROFILE;
  world = new ConfigWorld(moto.endpoint);
  await world.createBucket(PRIMARY, BUCKET);
  /* eslint-disable @typescript-eslint/no-require-imports */
  ({ createHandler } = require('../../lambda-src/drift-detector/handler'));
  /* eslint-enable @typescript-eslint/no-require-imports */
  output.start();
}, 120_000);

afterAll(async () => {
  output.stop();
  process.stderr.write(`${tallies.join('\n')}\n`);
  await moto?.stop();
  process.env = savedEnv;
});

/** mulberry32: a small, well-distributed 32-bit PRNG; returns numbers in [0, 1). */
/* eslint-disable no-bitwise -- a PRNG is bit arithmetic */
function mulberry32(n: number): () => number {
  let a = n >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
/* eslint-enable no-bitwise */

/** Creates case `n`'s inventory: every item in the primary, replicas missing, changed or extra at random. */
async function seedInventory(n: number, rng: () => number): Promise<{ secretPrefix: string; paths: string[] }> {
  const secretPrefix = `dh${n}/`;
  const paths = Array.from({ length: PATHS }, (_, k) => `/dh${n}/path${String(k).padStart(2, '0')}`);
  const jobs: Array<() => Promise<unknown>> = [];
  const place = (create: (region: string, value: string) => Promise<unknown>, label: string) => {
    const value = world.newValue(label);
    jobs.push(() => create(PRIMARY, value));
    for (const region of REPLICAS) {
      const roll = rng();
      if (roll < 0.1) continue; // missing in the replica
      const replicaValue = roll < 0.2 ? world.newValue(`${label}-local-edit`) : value;
      jobs.push(() => create(region, replicaValue));
    }
  };
  const secrets = 5 + Math.floor(rng() * 20);
  for (let i = 0; i < secrets; i++) place((region, value) => world.create(region, `${secretPrefix}s${i}`, value), 'secret');
  for (const path of paths) {
    const count = Math.floor(rng() * 9);
    for (let i = 0; i < count; i++) place((region, value) => world.putParameter(region, `${path}/p${i}`, value), 'parameter');
    if (rng() < 0.2) {
      const extra = world.newValue('extra');
      jobs.push(() => world.putParameter(REPLICAS[Math.floor(rng() * REPLICAS.length)], `${path}/zz-extra`, extra));
    }
  }
  await inParallel(jobs, 16, (job) => job().then(() => undefined));
  return { secretPrefix, paths };
}

function env(seeded: { secretPrefix: string; paths: string[] }, service: string, prefix: string): NodeJS.ProcessEnv {
  return {
    ...process.env,
    [DriftEnv.PRIMARY_REGION]: PRIMARY,
    [DriftEnv.REPLICA_TARGETS]: JSON.stringify(REPLICAS.map((region) => ({ region }))),
    [DriftEnv.SECRET_SELECTION]: JSON.stringify({ rules: [{ namePrefixes: [seeded.secretPrefix] }] }),
    [DriftEnv.PARAMETER_PATHS]: JSON.stringify(seeded.paths),
    [DriftEnv.GRACE_WINDOW_SECONDS]: '0',
    [DriftEnv.REPORT_EXTRA_ITEMS]: 'true',
    [DriftEnv.REPORT_BUCKET]: BUCKET,
    [DriftEnv.REPORT_PREFIX]: prefix,
    [DriftEnv.REMEDIATION_MODE]: 'OFF',
    [DriftEnv.SERVICE_NAME]: service,
  };
}

/** A Lambda context whose deadline is `deadlineMs` from now. */
function tinyContext(deadlineMs: number) {
  const deadline = Date.now() + deadlineMs;
  return { getRemainingTimeInMillis: () => deadline - Date.now() };
}

/** What is compared of a drift: everything but the time it was detected. */
function driftShape(d: any): unknown {
  const { detectedAt, ...rest } = d;
  return rest;
}

async function report(location: string): Promise<any> {
  const key = location.replace(`s3://${BUCKET}/`, '');
  return JSON.parse(await world.objectText(PRIMARY, BUCKET, key));
}

/** Sums an EMF metric over the documents emitted since `from` (without per-dimension documents). */
function emfSum(from: number, name: string): number[] {
  return output.emf(from)
    .filter((d) => d[name] !== undefined && d.ResourceType === undefined && d.ReplicaRegion === undefined)
    .flatMap((d) => [d[name]].flat());
}

const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);

describe('a drift scan that outgrows its invocation', () => {
  for (let c = 0; c < CASES; c++) {
    const n = FIRST_CASE + c;
    test(`case ${n}: hands over between scopes and reports exactly what one unbounded scan reports`, async () => {
      const rng = mulberry32(n);
      const label = `case ${n}`;
      const seeded = await seedInventory(n, rng);

      // The unbounded scan: one invocation without a deadline.
      const unboundedFrom = output.lines.length;
      const unbounded = await createHandler(env(seeded, `Unbounded${n}`, `unbounded${n}/`))({ action: 'manual_check' });
      expect({ label, partial: unbounded.partial, complete: unbounded.pass.complete }).toEqual({ label, partial: false, complete: true });
      const expected = await report(unbounded.reportLocation);
      const unboundedMetrics = {
        driftCount: sum(emfSum(unboundedFrom, 'DriftCount')),
        hasDrift: sum(emfSum(unboundedFrom, 'HasDrift')),
        itemsCompared: sum(emfSum(unboundedFrom, 'ItemsCompared')),
      };

      // The bounded scan: a chain of continuations with tiny deadlines.
      const queue: any[] = [];
      const invoker = { invokeAsync: async (payload: any) => void queue.push(JSON.parse(JSON.stringify(payload))) };
      const boundedEnv = env(seeded, `Bounded${n}`, `bounded${n}/`);
      const handler = createHandler(boundedEnv, undefined, { invoker });
      // Another execution environment of the same function: its own instance, the same lease.
      const intruder = createHandler(boundedEnv, undefined, { invoker: { invokeAsync: async () => { throw new Error('the racer must not hand over'); } } });
      const boundedFrom = output.lines.length;
      const hops: any[] = [];
      let duplicates = 0;
      let races = 0;
      let event: any = { action: 'manual_check' };
      for (let i = 0; ; i++) {
        if (i > 60) throw new Error(`${label}: the scan did not complete in 60 invocations`);
        // The first invocation's deadline is (almost) gone at once: it compares one scope and hands over.
        const deadline = i === 0 ? 1 : Math.floor(rng() * MAX_DEADLINE_MS);
        const racing = event.continuation && rng() < 0.3;
        const [result, raced] = await Promise.all([
          handler(event, tinyContext(deadline)),
          racing ? intruder({ action: 'manual_check' }, tinyContext(60_000)) : undefined,
        ]);
        hops.push(result);
        if (raced !== undefined) {
          // The lease is held or handed over to this continuation: the racer does nothing.
          expect({ label, raced: raced.skipped }).toEqual({ label, raced: 'lease-held' });
          races++;
        }
        if (event.continuation && rng() < 0.3) {
          const again = await handler(JSON.parse(JSON.stringify(event)), tinyContext(60_000));
          expect({ label, again: again.skipped }).toEqual({ label, again: 'stale-continuation' });
          duplicates++;
        }
        const next = queue.shift();
        if (next === undefined) break;
        expect({ label, queued: queue.length }).toEqual({ label, queued: 0 });
        event = next;
      }
      tallies.push(`${label}: ${hops.length} invocations, ${duplicates} duplicate continuations and ${races} racing checks refused`);

      // Every invocation but the last handed over; the last completed the scan.
      expect({ label, partial: hops.map((h) => h.partial) }).toEqual({ label, partial: hops.map((_, i) => i < hops.length - 1) });
      expect(hops.length).toBeGreaterThan(1);
      expect({ label, hops: hops.map((h) => h.pass.hop) }).toEqual({ label, hops: hops.map((_, i) => i) });
      const final = hops.at(-1);
      const actual = await report(final.reportLocation);
      expect(reportSchemaErrors(actual)).toEqual([]);

      // The same report as one unbounded scan.
      expect({ label, drifts: actual.drifts.map(driftShape) }).toEqual({ label, drifts: expected.drifts.map(driftShape) });
      expect({ label, scopes: actual.scopes }).toEqual({ label, scopes: expected.scopes });
      expect({ label, summary: actual.summary }).toEqual({ label, summary: expected.summary });
      expect({ label, runId: actual.runId, startedAt: actual.startedAt })
        .toEqual({ label, runId: hops[0].runId, startedAt: hops[0].pass.startedAt });

      // Each scope compared by exactly one invocation; the pairs add up.
      expect({ label, scopes: sum(hops.map((h) => h.pass.scopesCompared)), labels: new Set(actual.scopes.map((s: any) => s.label)).size })
        .toEqual({ label, scopes: PATHS + 1, labels: PATHS + 1 });
      expect({ label, processed: sum(hops.map((h) => h.processed)) }).toEqual({ label, processed: actual.summary.itemsCompared });

      // The run metrics add up; the per-scan metrics come once, from the last invocation.
      expect({
        label,
        items: sum(emfSum(boundedFrom, 'ItemsProcessed')),
        partialRuns: sum(emfSum(boundedFrom, 'RunPartial')),
        ages: emfSum(boundedFrom, 'OldestUnprocessedItemAge').map((age, i, all) => (i === all.length - 1 ? age === 0 : age >= 0)),
        invocations: emfSum(boundedFrom, 'RunPartial').length,
        scanMetrics: {
          driftCount: sum(emfSum(boundedFrom, 'DriftCount')),
          hasDrift: sum(emfSum(boundedFrom, 'HasDrift')),
          itemsCompared: sum(emfSum(boundedFrom, 'ItemsCompared')),
        },
        scanDocuments: emfSum(boundedFrom, 'HasDrift').length,
      }).toEqual({
        label,
        items: actual.summary.itemsCompared,
        partialRuns: hops.length - 1,
        ages: hops.map(() => true),
        invocations: hops.length,
        scanMetrics: unboundedMetrics,
        scanDocuments: 1,
      });
      expect({ label, driftCount: unboundedMetrics.driftCount }).toEqual({ label, driftCount: expected.summary.driftCount });

      // The parts are gone; the dated report and latest.json stay.
      expect({ label, parts: await world.keys(PRIMARY, BUCKET, `bounded${n}/parts/`) }).toEqual({ label, parts: [] });
      expect(await world.keys(PRIMARY, BUCKET, `bounded${n}/latest.json`)).toEqual([`bounded${n}/latest.json`]);
      results.push(JSON.stringify(hops), JSON.stringify(actual));
    }, 300_000);
  }
});

describe('a scan that cannot go on', () => {
  test('whose continuation cannot be queued reports the failure, keeps no parts, releases the lease and writes no report or drift metric', async () => {
    const seeded = await seedInventory(900_001, mulberry32(900_001));
    const broken = { invokeAsync: async () => { throw Object.assign(new Error('queue full'), { name: 'TooManyRequestsException' }); } };
    const from = output.lines.length;
    const first = await createHandler(env(seeded, 'BrokenChain', 'broken/'), undefined, { invoker: broken })({ action: 'manual_check' }, tinyContext(1));
    expect({ partial: first.partial, handOverFailed: first.pass.handOverFailed }).toEqual({ partial: true, handOverFailed: 'TooManyRequestsException' });
    expect(emfSum(from, 'RunPartial')).toEqual([1]);
    expect(emfSum(from, 'HasDrift')).toEqual([]);
    expect(await world.keys(PRIMARY, BUCKET, 'broken/')).toEqual([]);
    // The lease was released: the next check runs at once, whole.
    const next = await createHandler(env(seeded, 'BrokenChain', 'broken/'))({ action: 'manual_check' });
    expect({ partial: next.partial, skipped: next.skipped }).toEqual({ partial: false, skipped: undefined });
  }, 120_000);

  test('whose scopes changed since it started is dropped: nothing reported, its parts deleted, the lease released', async () => {
    const seeded = await seedInventory(900_002, mulberry32(900_002));
    const queue: any[] = [];
    const invoker = { invokeAsync: async (payload: any) => void queue.push(JSON.parse(JSON.stringify(payload))) };
    const first = await createHandler(env(seeded, 'Changed', 'changed/'), undefined, { invoker })({ action: 'manual_check' }, tinyContext(1));
    expect(first.partial).toBe(true);
    expect(await world.keys(PRIMARY, BUCKET, 'changed/parts/')).toHaveLength(1);
    const fewer = { ...seeded, paths: seeded.paths.slice(1) };
    const from = output.lines.length;
    const dropped = await createHandler(env(fewer, 'Changed', 'changed/'), undefined, { invoker })(queue.shift(), tinyContext(60_000));
    expect(dropped.skipped).toBe('settings-changed');
    // Dropped before comparing anything: no item worked, no drift metric.
    expect({ items: emfSum(from, 'ItemsProcessed'), hasDrift: emfSum(from, 'HasDrift') }).toEqual({ items: [], hasDrift: [] });
    expect(await world.keys(PRIMARY, BUCKET, 'changed/')).toEqual([]);
    const next = await createHandler(env(fewer, 'Changed', 'changed/'))({ action: 'manual_check' });
    expect(next.partial).toBe(false);
  }, 120_000);
});

test('no secret or parameter value appears in a log line, result or report', () => {
  const haystacks = [...output.lines, ...results];
  const leaks = world.issuedValues.filter((v) => haystacks.some((h) => h.includes(v)));
  expect(leaks).toEqual([]);
});
