/**
 * Deadline-aware reconciliation of the secret replicator against moto server, through the fault
 * proxy: every invocation gets a tiny, random deadline (the Lambda context is driven by the test),
 * so passes stop and hand over mid-page, between the replica regions of one secret and with writes
 * in flight. The continuations the handler sends are queued by the test, delivered in order, and
 * some of them delivered twice (Lambda's asynchronous invocations are at-least-once); in the
 * second phase another invocation (a schedule, a manual run) races the chain.
 *
 * Each case builds two identical selections in the primary: one reconciled by the bounded handler
 * through its chain of continuations, one by an unbounded handler in a single run. Invariants:
 * - the final replicas of both selections are equal (value, description, tags) and equal the primary;
 * - a pass works every (secret, replica region) pair exactly once: its invocations' `processed`
 *   add up to the pairs of the selection, and (initial copy, no races) their outcomes add up to the
 *   unbounded run's outcomes exactly, with every replica created once;
 * - metrics add up: `ItemsProcessed` sums to the pairs, `RunPartial` is 1 for every invocation that
 *   handed over and 0 for the last, `OldestUnprocessedItemAge` is 0 only when the pass completed,
 *   and the pass summary's totals equal the sum of its invocations' summaries;
 * - a duplicated continuation and a racing run never work at the same time as the chain;
 * - both ways of knowing the replicas are used: listing them, and (when the listing takes more than
 *   its share of a budget this small) describing each replica as its pair is worked.
 *
 * HANDOVER_SEED sets the first case's PRNG sequence number (default: time-based; printed), and
 * HANDOVER_CASES (default 4) how many cases run. A failure names the case's sequence number.
 */
import * as fs from 'node:fs';
import { DeleteSecretCommand, UpdateSecretCommand } from '@aws-sdk/client-secrets-manager';
import { SSMClient } from '@aws-sdk/client-ssm';
import { ReplicatorEnv } from '../../src/secret-replicator/contract';
import { startFaultProxy } from '../harness/fault-proxy';
import { startMotoServer } from '../harness/moto';
import { OutputCapture, SecretsWorld } from '../harness/world';

const PRIMARY = 'us-east-1';
const REPLICAS = ['eu-west-1', 'ap-southeast-2'];
const FIRST_CASE = Number(process.env.HANDOVER_SEED ?? (Date.now() % 1_000_000));
const CASES = Number(process.env.HANDOVER_CASES ?? 4);
/** Invocation deadlines (ms): the budget keeps half of a deadline this short, so each does a few dozen pairs. */
const MIN_DEADLINE_MS = 300;
const MAX_DEADLINE_MS = 1200;
/** Held on each replica write, so that writes are in flight when a deadline passes. */
const WRITE_DELAY_MS = 12;
const WRITE_OPERATIONS = new Set(['CreateSecret', 'PutSecretValue', 'UpdateSecret', 'TagResource', 'UntagResource']);

let moto: Awaited<ReturnType<typeof startMotoServer>>;
let proxy: Awaited<ReturnType<typeof startFaultProxy>>;
let world: SecretsWorld;
let keyArn: string;
const output = new OutputCapture();
const savedEnv = { ...process.env };
/** Replica writes forwarded and not yet answered. */
let writesInFlight = 0;

/* eslint-disable @typescript-eslint/no-require-imports -- loaded after the environment points at the proxy */
let createHandler: any;
let defaultMarginMs: (remainingMs: number) => number;
let Pacer: any;
let RunLease: any;
/* eslint-enable @typescript-eslint/no-require-imports */

beforeAll(async () => {
  // Printed before the output capture starts, so it shows in the test output.
  process.stderr.write(`hand-over cases ${FIRST_CASE} to ${FIRST_CASE + CASES - 1} (rerun one with HANDOVER_SEED=<n> HANDOVER_CASES=1)\n`);
  moto = await startMotoServer();
  proxy = await startFaultProxy({ target: moto.endpoint, seed: FIRST_CASE });
  proxy.observe({
    before: async (request) => {
      if (WRITE_OPERATIONS.has(request.id.operation) && request.id.region !== PRIMARY) writesInFlight++;
      return undefined;
    },
    after: (request) => {
      if (WRITE_OPERATIONS.has(request.id.operation) && request.id.region !== PRIMARY) writesInFlight--;
    },
  });
  Object.assign(process.env, {
    AWS_ENDPOINT_URL: proxy.endpoint,
    AWS_ACCESS_KEY_ID: 'testing',
    AWS_SECRET_ACCESS_KEY: 'testing',
    AWS_REGION: PRIMARY,
    [ReplicatorEnv.METRIC_NAMESPACE]: 'CrossRegionConfig',
    [ReplicatorEnv.SERVICE_NAME]: 'HandOver',
  });
  delete process.env.AWS_SESSION_TOKEN;
  delete process.env.AWS_PROFILE;
  world = new SecretsWorld(moto.endpoint);
  keyArn = await world.create(PRIMARY, 'handover/provenance-key', world.newValue('hmac-key-material-0123456789abcdef0123456789'));
  /* eslint-disable @typescript-eslint/no-require-imports */
  ({ createHandler } = require('../../lambda-src/secret-replicator/handler'));
  ({ defaultMarginMs } = require('../../lambda-src/shared/run-budget'));
  ({ Pacer } = require('../../lambda-src/shared/pacing'));
  ({ RunLease } = require('../../lambda-src/shared/lease'));
  /* eslint-enable @typescript-eslint/no-require-imports */
  output.start();
}, 120_000);

afterAll(async () => {
  output.stop();
  await proxy?.stop();
  await moto?.stop();
  process.env = savedEnv;
});

afterEach(() => proxy.clearRules());

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

function env(prefix: string, service: string): NodeJS.ProcessEnv {
  return {
    ...process.env,
    [ReplicatorEnv.PRIMARY_REGION]: PRIMARY,
    [ReplicatorEnv.REPLICA_TARGETS]: JSON.stringify(REPLICAS.map((region) => ({ region }))),
    [ReplicatorEnv.SELECTION]: JSON.stringify({ rules: [{ namePrefixes: [prefix] }] }),
    [ReplicatorEnv.CONFLICT_POLICY]: 'PRIMARY_WINS',
    [ReplicatorEnv.REPLICATE_TAGS]: 'true',
    [ReplicatorEnv.PROPAGATE_DELETIONS]: 'true',
    [ReplicatorEnv.PROVENANCE_KEY_SECRET_ARN]: keyArn,
    [ReplicatorEnv.SERVICE_NAME]: service,
  };
}

/** What the test saw of each invocation's stop. */
interface StopTally {
  midPage: number;
  midRegion: number;
  midWrite: number;
  duplicatesRefused: number;
  racesRefused: number;
  /** Hand-overs after the replicas were described pair by pair (their listing took too much of the budget). */
  describing: number;
}

/** A Lambda context whose deadline is `deadlineMs` from now; records whether writes were in flight when the budget ran out. */
function tinyContext(deadlineMs: number, onStop: (inFlight: number) => void) {
  const deadline = Date.now() + deadlineMs;
  const margin = defaultMarginMs(deadlineMs);
  let stopped = false;
  return {
    getRemainingTimeInMillis: () => {
      const remaining = deadline - Date.now();
      if (!stopped && remaining <= margin) {
        stopped = true;
        onStop(writesInFlight);
      }
      return remaining;
    },
  };
}

/** Counts of an outcome map added. */
function addCounts(into: Record<string, number>, from: Record<string, number>): void {
  for (const [k, v] of Object.entries(from)) into[k] = (into[k] ?? 0) + v;
}

interface PassRecord {
  readonly summaries: any[];
  /** The summaries of the pass that completed (the one the final summary names). */
  readonly completed: any[];
  readonly emfFrom: number;
}

/**
 * Drives one pass of `handler` through its continuations with random deadlines. Continuations are
 * delivered in order, some twice; with `race`, another handler instance (another execution
 * environment) sometimes sends `{"action":"reconcile"}` while an invocation of the chain runs.
 */
async function boundedPass(
  handler: any, intruder: any, rng: () => number, queue: any[], tally: StopTally, race: boolean, label: string,
): Promise<PassRecord> {
  const emfFrom = output.lines.length;
  const summaries: any[] = [];
  let event: any = { action: 'reconcile' };
  for (let i = 0; ; i++) {
    if (i > 400) throw new Error(`${label}: the pass did not complete in 400 invocations`);
    const deadline = MIN_DEADLINE_MS + Math.floor(rng() * (MAX_DEADLINE_MS - MIN_DEADLINE_MS));
    const context = tinyContext(deadline, (inFlight) => {
      if (inFlight > 0) tally.midWrite++;
    });
    const racing = race && rng() < 0.3 ? (async () => {
      await new Promise((r) => setTimeout(r, Math.floor(rng() * 40)));
      return intruder({ action: 'reconcile' }, { getRemainingTimeInMillis: () => 60_000 });
    })() : undefined;
    const [result, raced] = await Promise.all([handler(event, context), racing]);
    summaries.push(result);
    if (raced !== undefined) {
      // Never two runs at once: the racer did nothing, or the chain's invocation did nothing.
      expect({ label, both: result.skipped === undefined && raced.skipped === undefined }).toEqual({ label, both: false });
      if (raced.skipped) tally.racesRefused++;
      else summaries.push(raced);
    }
    const delivered = event;
    if (delivered.continuation && result.skipped === undefined && rng() < 0.25) {
      // At-least-once delivery: the same continuation again, after it was worked.
      const again = await handler(JSON.parse(JSON.stringify(delivered)), tinyContext(deadline, () => undefined));
      expect({ label, skipped: again.skipped }).toEqual({ label, skipped: 'stale-continuation' });
      tally.duplicatesRefused++;
    }
    const next = queue.shift();
    if (next === undefined) break;
    const position = next.continuation.cursor.position;
    if (position.done > 0) tally.midPage++;
    if (position.done % REPLICAS.length !== 0) tally.midRegion++;
    if (position.describeReplicas) tally.describing++;
    event = next;
  }
  const last = summaries.filter((s) => s.pass).at(-1);
  expect({ label, complete: last?.pass?.complete }).toEqual({ label, complete: true });
  const completed = summaries.filter((s) => s.pass?.runId === last.pass.runId);
  return { summaries, completed, emfFrom };
}

/** The replicas of `suffix` under `prefix`: value, description and user tags per region. */
async function replicaState(prefix: string, suffix: string): Promise<unknown[]> {
  const out: unknown[] = [];
  for (const region of [PRIMARY, ...REPLICAS]) {
    const d = await world.describe(region, `${prefix}${suffix}`);
    const tags = Object.fromEntries((d?.Tags ?? []).filter((t: any) => !t.Key.startsWith('cross-region-config:')).map((t: any) => [t.Key, t.Value]));
    out.push({ exists: d !== undefined && !d.DeletedDate, value: d && !d.DeletedDate ? await world.value(region, `${prefix}${suffix}`) : undefined, description: d?.Description, tags });
  }
  return out;
}

/** Asserts that the pass's invocations add up: processed, outcomes and the run metrics. */
function expectPassAddsUp(label: string, pass: PassRecord, pairs: number): Record<string, number> {
  const hops = pass.completed;
  const final = hops.at(-1);
  const outcomes: Record<string, number> = {};
  for (const s of hops) addCounts(outcomes, s.outcomes);
  const processed = hops.reduce((n, s) => n + s.processed, 0);
  expect({ label, processed, passProcessed: final.pass.processed, outcomes: final.pass.outcomes })
    .toEqual({ label, processed: pairs, passProcessed: pairs, outcomes });
  expect({ label, partial: hops.map((s) => s.partial) }).toEqual({ label, partial: hops.map((_, i) => i < hops.length - 1) });
  // Two invocations running at once (a race) may flush into one EMF document: values are then arrays.
  const docs = output.emf(pass.emfFrom);
  const values = (name: string): number[] => docs.flatMap((d) => (d[name] === undefined ? [] : [d[name]].flat()));
  const sum = (name: string) => values(name).reduce((n, v) => n + v, 0);
  if (process.env.HANDOVER_DEBUG) fs.appendFileSync(process.env.HANDOVER_DEBUG, `${label}: items ${JSON.stringify(values('ItemsProcessed'))} summaries ${JSON.stringify(pass.summaries.map((s) => [s.processed, s.skipped, s.pass?.hop, s.pass?.runId?.slice(0, 4)]))}\n`);
  // Every invocation that worked (also those of a pass a racing run replaced) reports its items.
  expect({ label, items: sum('ItemsProcessed') }).toEqual({ label, items: pass.summaries.filter((s) => s.pass).reduce((n, s) => n + s.processed, 0) });
  expect({ label, partialRuns: sum('RunPartial') }).toEqual({ label, partialRuns: pass.summaries.filter((s) => s.pass && s.partial).length });
  expect({ label, runPartial: values('RunPartial').at(-1), oldest: values('OldestUnprocessedItemAge').at(-1) }).toEqual({ label, runPartial: 0, oldest: 0 });
  // SecondsSinceFullSync is reported by every invocation that worked, so the full-sync alarm sees a pass that never ends.
  expect({ label, ages: values('SecondsSinceFullSync').length > 0 }).toEqual({ label, ages: true });
  return outcomes;
}

describe('a reconciliation larger than one invocation', () => {
  const tally: StopTally = { midPage: 0, midRegion: 0, midWrite: 0, duplicatesRefused: 0, racesRefused: 0, describing: 0 };

  for (let c = FIRST_CASE; c < FIRST_CASE + CASES; c++) {
    test(`hands over with random deadlines and ends where one unbounded run ends (case ${c})`, async () => {
      const rng = mulberry32(c);
      const label = `case ${c}`;
      const bounded = `hb${c}/`;
      const unbounded = `hu${c}/`;
      const queue: any[] = [];
      const invoker = { invokeAsync: async (payload: unknown) => { queue.push(JSON.parse(JSON.stringify(payload))); } };
      // Two execution environments of the bounded construct (same service, same lease); one unbounded construct.
      const handler = createHandler(env(bounded, `HandOverBounded${c}`), undefined, { invoker });
      const intruder = createHandler(env(bounded, `HandOverBounded${c}`), undefined, { invoker });
      const reference = createHandler(env(unbounded, `HandOverUnbounded${c}`), undefined, { invoker: { invokeAsync: async () => { throw new Error('the unbounded run handed over'); } } });
      for (const operation of WRITE_OPERATIONS) proxy.addDelay({ operation, delayMs: WRITE_DELAY_MS });

      // GIVEN more than one ListSecrets page of secrets, the same in both selections
      const count = 101 + Math.floor(rng() * 90);
      const suffixes = Array.from({ length: count }, (_, i) => `s${String(i).padStart(3, '0')}`);
      for (const suffix of suffixes) {
        const value = world.newValue(suffix);
        const extra = { description: `d-${suffix}`, tags: { team: `t${Math.floor(rng() * 3)}` } };
        await world.create(PRIMARY, `${bounded}${suffix}`, value, extra);
        await world.create(PRIMARY, `${unbounded}${suffix}`, value, extra);
      }
      const pairs = count * REPLICAS.length;

      // WHEN the initial copy runs as a chain of tiny invocations, and as one unbounded run
      const first = await boundedPass(handler, intruder, rng, queue, tally, false, `${label}, initial copy`);
      const firstOutcomes = expectPassAddsUp(`${label}, initial copy`, first, pairs);
      const ref = await reference({ action: 'reconcile' });
      // THEN every pair was worked exactly once: the outcomes equal the single run's, all creates
      expect({ label, outcomes: firstOutcomes }).toEqual({ label, outcomes: ref.outcomes });
      expect({ label, created: firstOutcomes.created }).toEqual({ label, created: pairs });
      const written = output.logs().filter((l) => l.message === 'replica written' && String(l.secretName).startsWith(bounded));
      const keys = written.map((l) => `${l.secretName}|${l.region}`);
      expect({ label, writes: keys.length, distinct: new Set(keys).size }).toEqual({ label, writes: pairs, distinct: pairs });

      // GIVEN changes in the primary: new values, edited descriptions, deletions (the same in both)
      const changed = suffixes.filter(() => rng() < 0.2);
      const deleted = suffixes.filter((s) => !changed.includes(s) && rng() < 0.05);
      for (const suffix of changed) {
        const value = world.newValue(`${suffix}-v2`);
        for (const prefix of [bounded, unbounded]) {
          await world.client(PRIMARY).send(new UpdateSecretCommand({ SecretId: `${prefix}${suffix}`, SecretString: value, Description: `d2-${suffix}` }));
        }
      }
      for (const suffix of deleted) {
        for (const prefix of [bounded, unbounded]) {
          await world.client(PRIMARY).send(new DeleteSecretCommand({ SecretId: `${prefix}${suffix}`, RecoveryWindowInDays: 7 }));
        }
      }

      // WHEN the next pass runs as a chain, raced by runs from another environment
      const second = await boundedPass(handler, intruder, rng, queue, tally, true, `${label}, changes`);
      expectPassAddsUp(`${label}, changes`, second, pairs);
      const ref2 = await reference({ action: 'reconcile' });
      expect(ref2.partial).toBe(false);

      // THEN both selections end the same, equal to the primary
      for (const suffix of suffixes) {
        const a = await replicaState(bounded, suffix);
        const b = await replicaState(unbounded, suffix);
        expect({ label, suffix, state: a }).toEqual({ label, suffix, state: b });
        const primary = (a as any[])[0];
        for (const replica of (a as any[]).slice(1)) {
          expect({ label, suffix, exists: replica.exists, value: replica.value })
            .toEqual({ label, suffix, exists: primary.exists, value: primary.value });
        }
      }
    }, 600_000);
  }

  test('hand-overs happened mid-page, between the regions of one secret and with writes in flight; duplicates and races were refused', () => {
    if (process.env.HANDOVER_DEBUG) fs.appendFileSync(process.env.HANDOVER_DEBUG, `tally ${JSON.stringify(tally)}\n`);
    expect(tally.midPage).toBeGreaterThan(0);
    expect(tally.midRegion).toBeGreaterThan(0);
    expect(tally.midWrite).toBeGreaterThan(0);
    expect(tally.duplicatesRefused).toBeGreaterThan(0);
    expect(tally.describing).toBeGreaterThan(0);
  });
});

describe('pacing', () => {
  test('a throttled region slows down and the reconciliation still converges', async () => {
    const prefix = 'paced/';
    const pacer = new Pacer({ share: 1 });
    const handler = createHandler(env(prefix, 'Paced'), undefined, { pacer, invoker: { invokeAsync: async () => undefined } });
    for (let i = 0; i < 30; i++) await world.create(PRIMARY, `${prefix}p${i}`, world.newValue('paced'));
    proxy.addRule({ region: 'eu-west-1', operation: 'CreateSecret', fault: 'throttle', probability: 0.3 });
    const summary = await handler({ action: 'reconcile' });
    expect(summary.outcomes).toEqual({ created: 60 });
    const lane = pacer.stats().find((s: any) => s.group === 'secretsmanager:CreateSecret' && s.region === 'eu-west-1');
    const calm = pacer.stats().find((s: any) => s.group === 'secretsmanager:CreateSecret' && s.region === 'ap-southeast-2');
    expect(lane.throttles).toBeGreaterThan(0);
    // Every attempt is paced, retries included.
    expect(lane.calls).toBe(30 + lane.throttles);
    expect(calm.throttles).toBe(0);
  }, 120_000);
});

describe('run lease on Parameter Store', () => {
  const ssm = () => new SSMClient({ region: PRIMARY });

  test('one of two runs that start together holds the lease; a hand-over admits exactly its next hop once', async () => {
    let now = 1_000_000;
    const lease = new RunLease(ssm(), '/cdk-cross-region-config/runs/LeaseTest', () => now);
    const [a, b] = await Promise.all([lease.acquire({ owner: 'pass-a', hop: 0 }, 60_000), lease.acquire({ owner: 'pass-b', hop: 0 }, 60_000)]);
    expect([a.kind, b.kind].sort()).toEqual(['busy', 'held']);
    const held = a.kind === 'held' ? a : b;
    const owner = held.owner;
    expect(await lease.handOver(held, 30_000)).toBe(true);
    // A new pass may not start while the hand-over is pending.
    expect((await lease.acquire({ owner: 'pass-c', hop: 0 }, 60_000)).kind).toBe('busy');
    // Two deliveries of the continuation: one holds, the other is refused.
    const [c1, c2] = await Promise.all([lease.acquire({ owner, hop: 1 }, 60_000), lease.acquire({ owner, hop: 1 }, 60_000)]);
    expect([c1.kind, c2.kind].sort()).toEqual(['busy', 'held']);
    const hop1 = (c1.kind === 'held' ? c1 : c2) as any;
    // A late copy of hop 0 or 1 is stale.
    expect(await lease.acquire({ owner, hop: 1 }, 60_000)).toMatchObject({ kind: 'busy', reason: 'stale' });
    expect(await lease.acquire({ owner, hop: 0 }, 60_000)).toMatchObject({ kind: 'busy', reason: 'stale' });
    // Once the holder's lease has passed (it died), a new pass takes the next generation.
    now += 60_000 + 10_000;
    const taken = await lease.acquire({ owner: 'pass-d', hop: 0 }, 60_000);
    expect(taken).toMatchObject({ kind: 'held', generation: hop1.generation + 1 });
    // The dead holder can no longer hand over or release.
    expect(await lease.handOver(hop1, 30_000)).toBe(false);
    await lease.release(taken);
    expect((await lease.acquire({ owner: 'pass-e', hop: 0 }, 60_000)).kind).toBe('held');
  });
});
