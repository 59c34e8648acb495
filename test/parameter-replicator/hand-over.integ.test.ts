/**
 * Deadline-aware reconciliation of the parameter replicator against moto server, through the fault
 * proxy: every invocation gets a tiny, random deadline (the Lambda context is driven by the test),
 * so reconciliations stop and hand over inside a GetParametersByPath page, inside the names of
 * several replica regions at once (the three replica regions are worked concurrently) and with
 * writes in flight. The continuations the handler sends are queued by the
 * test, delivered in order, and some of them delivered twice (Lambda's asynchronous invocations are
 * at-least-once); in the second phase another invocation (a schedule, a manual run) races the chain.
 *
 * Each case builds two identical selections in the primary: one reconciled by the bounded handler
 * through its chain of continuations, one by an unbounded handler in a single run. Invariants:
 * - the final replicas of both selections are equal (value, type, user tags) and equal the primary
 *   (deletions propagated: a parameter deleted in the primary is gone from every replica);
 * - per replica region, the pairs worked are a prefix in name order: in the initial copy each
 *   region's writes, in the order they happened across the chain, are the selection's names in
 *   code-point order, each once; a region's position in the continuations only moves forward and a
 *   region that left the cursor (done) never comes back in the same reconciliation;
 * - a reconciliation works every (parameter, replica region) pair exactly once: its invocations'
 *   `processed` add up to the unbounded run's pairs, their outcomes add up to the unbounded run's
 *   outcomes, and in the initial copy every replica is written once;
 * - metrics add up: `ItemsProcessed` sums to the pairs worked, `RunPartial` is 1 for every
 *   invocation that handed over and 0 for the last, `OldestUnprocessedItemAge` is 0 only when the
 *   reconciliation completed;
 * - a duplicated continuation and a racing run never work at the same time as the chain, and of two
 *   reconciliations started at once in two OS processes (the shipped bundle) one works, the other
 *   finds the run lease held.
 *
 * PARAMETER_HANDOVER_SEED sets the first case's PRNG sequence number (default: time-based; printed),
 * and PARAMETER_HANDOVER_CASES (default 3) how many cases run. A failure names the case's number.
 */
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { CreateSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { contractEnv, linesWithValues, ParametersWorld } from './world';
import { ParameterReplicatorEnv as Env } from '../../src/parameter-replicator/contract';
import { FaultProxy, startFaultProxy } from '../harness/fault-proxy';
import { awsTestEnv, MotoServer, REPO_ROOT, startMotoServer } from '../harness/moto';
import { OutputCapture } from '../harness/world';

const PRIMARY = 'us-east-1';
const REPLICAS = ['eu-west-1', 'ap-southeast-2', 'us-west-2'];
const FIRST_CASE = Number(process.env.PARAMETER_HANDOVER_SEED ?? (Date.now() % 1_000_000));
const CASES = Number(process.env.PARAMETER_HANDOVER_CASES ?? 3);
/** Invocation deadlines (ms): the budget keeps half of a deadline this short, so each works a handful of pairs. */
const MIN_DEADLINE_MS = 250;
const MAX_DEADLINE_MS = 900;
/** Held on each replica write, so that writes are in flight when a deadline passes. */
const WRITE_DELAY_MS = 12;
const WRITE_OPERATIONS = new Set(['PutParameter', 'AddTagsToResource', 'RemoveTagsFromResource', 'DeleteParameter']);
/** GetParametersByPath returns at most 10 a page. */
const PAGE_SIZE = 10;
const HMAC_KEY = 'parameter-handover-key-0123456789abcdef0123456789';
const BUNDLE = path.join(REPO_ROOT, 'assets', 'lambda-src', 'parameter-replicator', 'index.lambda', 'index.js');

let moto: MotoServer;
let proxy: FaultProxy;
let world: ParametersWorld;
let keyArn: string;
const output = new OutputCapture();
const savedEnv = { ...process.env };
/** Replica writes forwarded and not yet answered, by region. */
const writesInFlight = new Map<string, number>();
const inFlightRegions = () => [...writesInFlight.values()].filter((n) => n > 0).length;

/* eslint-disable @typescript-eslint/no-require-imports -- loaded after the environment points at the proxy */
let createHandler: any;
let defaultMarginMs: (remainingMs: number) => number;
/* eslint-enable @typescript-eslint/no-require-imports */

beforeAll(async () => {
  // Printed before the output capture starts, so it shows in the test output.
  process.stderr.write(`parameter hand-over cases ${FIRST_CASE} to ${FIRST_CASE + CASES - 1} (rerun one with PARAMETER_HANDOVER_SEED=<n> PARAMETER_HANDOVER_CASES=1)\n`);
  moto = await startMotoServer();
  proxy = await startFaultProxy({ target: moto.endpoint, seed: FIRST_CASE, ssmStandIns: { tierLimits: true } });
  proxy.observe({
    before: async (request) => {
      const { operation, region } = request.id;
      if (WRITE_OPERATIONS.has(operation) && region !== PRIMARY) writesInFlight.set(region, (writesInFlight.get(region) ?? 0) + 1);
      return undefined;
    },
    after: (request) => {
      const { operation, region } = request.id;
      if (WRITE_OPERATIONS.has(operation) && region !== PRIMARY) writesInFlight.set(region, writesInFlight.get(region)! - 1);
    },
  });
  Object.assign(process.env, {
    AWS_ENDPOINT_URL: proxy.endpoint,
    AWS_ACCESS_KEY_ID: 'testing',
    AWS_SECRET_ACCESS_KEY: 'testing',
    AWS_REGION: PRIMARY,
    [Env.METRIC_NAMESPACE]: 'CrossRegionConfig',
    [Env.SERVICE_NAME]: 'ParameterHandOver',
  });
  delete process.env.AWS_SESSION_TOKEN;
  delete process.env.AWS_PROFILE;
  world = new ParametersWorld(moto.endpoint);
  const sm = new SecretsManagerClient({ region: PRIMARY, endpoint: moto.endpoint, credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' } });
  keyArn = (await sm.send(new CreateSecretCommand({ Name: 'cross-region-config/parameter-handover-key', SecretString: HMAC_KEY }))).ARN!;
  world.values.add(HMAC_KEY);
  /* eslint-disable @typescript-eslint/no-require-imports */
  ({ createHandler } = require('../../lambda-src/parameter-replicator/handler'));
  ({ defaultMarginMs } = require('../../lambda-src/shared/run-budget'));
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

function env(root: string, service: string, writesPerSecond = 200): NodeJS.ProcessEnv {
  return {
    ...process.env,
    [Env.PRIMARY_REGION]: PRIMARY,
    [Env.REPLICA_TARGETS]: JSON.stringify(REPLICAS.map((region) => ({ region }))),
    [Env.SELECTION]: JSON.stringify({ paths: [root] }),
    [Env.CONFLICT_POLICY]: 'PRIMARY_WINS',
    [Env.REPLICATE_TAGS]: 'true',
    [Env.PROPAGATE_DELETIONS]: 'true',
    [Env.WRITES_PER_SECOND]: String(writesPerSecond),
    [Env.PROVENANCE_KEY_SECRET_ARN]: keyArn,
    [Env.SERVICE_NAME]: service,
  };
}

/** What the test saw of each invocation's stop. */
interface StopTally {
  midPage: number;
  midRegion: number;
  /** Hand-overs with two or more regions stopped inside their names. */
  midSeveralRegions: number;
  /** Hand-overs with some regions done and others not (the next hop works only the rest). */
  someRegionsDone: number;
  midWrite: number;
  /** Stops with writes in flight in two or more regions. */
  midWriteSeveralRegions: number;
  duplicatesRefused: number;
  racesRefused: number;
}

/**
 * A Lambda context whose deadline is `deadlineMs` from now. `onStop` learns how many replica writes
 * were in flight at the moment the time left fell to the margin: the handler checks its budget only
 * between pairs, so a write in flight then is finished before the invocation stops. `done()` clears
 * the timer.
 */
function tinyContext(deadlineMs: number, onStop: (inFlight: number) => void) {
  const deadline = Date.now() + deadlineMs;
  const margin = defaultMarginMs(deadlineMs);
  const timer = setTimeout(() => onStop(inFlightRegions()), deadlineMs - margin);
  return {
    getRemainingTimeInMillis: () => deadline - Date.now(),
    done: () => clearTimeout(timer),
  };
}

function addCounts(into: Record<string, number>, from: Record<string, number>): void {
  for (const [k, v] of Object.entries(from)) into[k] = (into[k] ?? 0) + v;
}

interface PassRecord {
  readonly summaries: any[];
  /** The summaries of the reconciliation that completed (the one the last summary names). */
  readonly completed: any[];
  /** Output lines of the reconciliation: from `emfFrom` to `emfTo`. */
  readonly emfFrom: number;
  readonly emfTo: number;
}

/**
 * Drives one reconciliation of `handler` through its continuations with random deadlines.
 * Continuations are delivered in order, some twice; with `race`, another handler instance (another
 * execution environment) sometimes sends `{"action":"reconcile"}` while an invocation of the chain runs.
 */
async function boundedPass(
  handler: any, intruder: any, rng: () => number, queue: any[], names: () => string[], tally: StopTally, race: boolean, label: string,
): Promise<PassRecord> {
  const emfFrom = output.lines.length;
  const summaries: any[] = [];
  /** By reconciliation: each region's last position (`null` once done). */
  const positionsSeen = new Map<string, Map<string, string | null>>();
  let event: any = { action: 'reconcile' };
  for (let i = 0; ; i++) {
    if (i > 400) throw new Error(`${label}: the reconciliation did not complete in 400 invocations`);
    const deadline = MIN_DEADLINE_MS + Math.floor(rng() * (MAX_DEADLINE_MS - MIN_DEADLINE_MS));
    const context = tinyContext(deadline, (regions) => {
      if (regions > 0) tally.midWrite++;
      if (regions > 1) tally.midWriteSeveralRegions++;
    });
    const racing = race && rng() < 0.3 ? (async () => {
      await new Promise((r) => setTimeout(r, Math.floor(rng() * 40)));
      return intruder({ action: 'reconcile' }, { getRemainingTimeInMillis: () => 60_000 });
    })() : undefined;
    const [result, raced] = await Promise.all([handler(event, context), racing]);
    context.done();
    summaries.push(result);
    if (raced !== undefined) {
      // Never two runs at once: the racer did nothing, or the chain's invocation did nothing.
      expect({ label, both: result.skipped === undefined && raced.skipped === undefined }).toEqual({ label, both: false });
      if (raced.skipped) tally.racesRefused++;
      else summaries.push(raced);
    }
    if (event.continuation && result.skipped === undefined && rng() < 0.25) {
      // At-least-once delivery: the same continuation again, after it was worked.
      const late = tinyContext(deadline, () => undefined);
      const again = await handler(JSON.parse(JSON.stringify(event)), late);
      late.done();
      expect({ label, skipped: again.skipped }).toEqual({ label, skipped: 'stale-continuation' });
      tally.duplicatesRefused++;
    }
    const next = queue.shift();
    if (next === undefined) break;
    const { runId } = next.continuation;
    const positions: Array<{ targetIndex: number; region: string; after?: string }> = next.continuation.cursor.position.regions;
    const mid = positions.filter((p) => p.after !== undefined);
    if (mid.length > 0) tally.midRegion++;
    if (mid.length > 1) tally.midSeveralRegions++;
    if (positions.length < REPLICAS.length) tally.someRegionsDone++;
    if (mid.some((p) => names().filter((n) => n <= p.after!).length % PAGE_SIZE !== 0)) tally.midPage++;
    // Per region, the position only moves forward (every hop works at least one pair in each region
    // it resumes), and a region done never comes back in the same reconciliation.
    const seen = positionsSeen.get(runId) ?? new Map<string, string | null>();
    for (const [region, before] of seen) {
      const now = positions.find((p) => p.region === region);
      if (before === null) {
        expect({ label, region, back: now !== undefined }).toEqual({ label, region, back: false });
      } else if (now !== undefined) {
        expect({ label, region, forward: now.after !== undefined && now.after > before }).toEqual({ label, region, forward: true });
      }
    }
    for (const region of REPLICAS) {
      const now = positions.find((p) => p.region === region);
      seen.set(region, now === undefined ? null : now.after ?? '');
    }
    positionsSeen.set(runId, seen);
    event = next;
  }
  const last = summaries.filter((s) => s.pass).at(-1);
  expect({ label, complete: last?.pass?.complete }).toEqual({ label, complete: true });
  const completed = summaries.filter((s) => s.pass?.runId === last.pass.runId);
  return { summaries, completed, emfFrom, emfTo: output.lines.length };
}

/** What each region holds for `name`: existence, value, type and user tags. */
async function state(name: string): Promise<unknown[]> {
  const out: unknown[] = [];
  for (const region of [PRIMARY, ...REPLICAS]) {
    const p = await world.get(region, name);
    const tags = p ? Object.fromEntries(Object.entries(await world.tags(region, name)).filter(([k]) => !k.startsWith('cross-region-config:'))) : {};
    out.push({ exists: p !== undefined, value: p?.Value, type: p?.Type, tags });
  }
  return out;
}

/** Asserts that the reconciliation's invocations add up: processed, outcomes and the run metrics; returns the outcomes. */
function expectPassAddsUp(label: string, pass: PassRecord, pairs: number): Record<string, number> {
  const hops = pass.completed;
  const final = hops.at(-1);
  const outcomes: Record<string, number> = {};
  for (const s of hops) addCounts(outcomes, s.outcomes);
  const processed = hops.reduce((n, s) => n + s.processed, 0);
  expect({ label, processed, passProcessed: final.pass.processed, outcomes: final.pass.outcomes })
    .toEqual({ label, processed: pairs, passProcessed: pairs, outcomes });
  expect({ label, partial: hops.map((s) => s.partial) }).toEqual({ label, partial: hops.map((_, i) => i < hops.length - 1) });
  const docs = output.emf(pass.emfFrom).slice(0, output.emf(pass.emfFrom).length - output.emf(pass.emfTo).length);
  // Two invocations running at once (a race) may flush into one EMF document: values are then arrays.
  const values = (metric: string): number[] => docs.flatMap((d) => (d[metric] === undefined ? [] : [d[metric]].flat()));
  const sum = (metric: string) => values(metric).reduce((n, v) => n + v, 0);
  // Every invocation that worked (also those of a reconciliation a racing run replaced) reports its items.
  const worked = pass.summaries.filter((s) => s.pass);
  expect({ label, items: sum('ItemsProcessed') }).toEqual({ label, items: worked.reduce((n, s) => n + s.processed, 0) });
  expect({ label, partialRuns: sum('RunPartial') }).toEqual({ label, partialRuns: worked.filter((s) => s.partial).length });
  expect({ label, runPartial: values('RunPartial').at(-1), oldest: values('OldestUnprocessedItemAge').at(-1) }).toEqual({ label, runPartial: 0, oldest: 0 });
  // Every partial invocation reports a positive age only once a second has passed; none is negative.
  expect({ label, negative: values('OldestUnprocessedItemAge').filter((v) => v < 0) }).toEqual({ label, negative: [] });
  expect({ label, ages: values('SecondsSinceFullSync').length > 0 }).toEqual({ label, ages: true });
  return outcomes;
}

describe('a parameter reconciliation larger than one invocation', () => {
  const tally: StopTally = {
    midPage: 0, midRegion: 0, midSeveralRegions: 0, someRegionsDone: 0, midWrite: 0, midWriteSeveralRegions: 0, duplicatesRefused: 0, racesRefused: 0,
  };

  for (let c = FIRST_CASE; c < FIRST_CASE + CASES; c++) {
    test(`hands over with random deadlines and ends where one unbounded run ends (case ${c})`, async () => {
      const rng = mulberry32(c);
      const label = `case ${c}`;
      const bounded = `/phb${c}`;
      const unbounded = `/phu${c}`;
      const queue: any[] = [];
      const invoker = { invokeAsync: async (payload: unknown) => { queue.push(JSON.parse(JSON.stringify(payload))); } };
      // Two execution environments of the bounded construct (same service, same lease); one unbounded construct.
      const handler = createHandler(env(bounded, `ParamHandOverBounded${c}`), { invoker });
      const intruder = createHandler(env(bounded, `ParamHandOverBounded${c}`), { invoker });
      const reference = createHandler(env(unbounded, `ParamHandOverUnbounded${c}`), {
        invoker: { invokeAsync: async () => { throw new Error('the unbounded run handed over'); } },
      });
      for (const operation of WRITE_OPERATIONS) proxy.addDelay({ operation, delayMs: WRITE_DELAY_MS });

      // GIVEN several GetParametersByPath pages of parameters, the same in both selections
      const count = 21 + Math.floor(rng() * 25);
      const suffixes = Array.from({ length: count }, (_, i) => `p${String(i).padStart(3, '0')}`);
      for (const suffix of suffixes) {
        const value = world.newValue(suffix);
        const type = rng() < 0.2 ? 'StringList' : 'String';
        const tags = [{ Key: 'team', Value: `t${Math.floor(rng() * 3)}` }];
        for (const root of [bounded, unbounded]) await world.put(PRIMARY, { Name: `${root}/${suffix}`, Value: value, Type: type as any, Tags: tags });
      }
      const boundedNames = () => suffixes.map((s) => `${bounded}/${s}`).sort();
      const pairs = count * REPLICAS.length;

      // WHEN the initial copy runs as a chain of tiny invocations, and as one unbounded run
      const first = await boundedPass(handler, intruder, rng, queue, boundedNames, tally, false, `${label}, initial copy`);
      const firstOutcomes = expectPassAddsUp(`${label}, initial copy`, first, pairs);
      const ref = await reference({ action: 'reconcile' });
      // THEN every pair was worked exactly once: the outcomes equal the single run's, all creates
      expect({ label, outcomes: firstOutcomes }).toEqual({ label, outcomes: ref.outcomes });
      expect({ label, created: firstOutcomes.created }).toEqual({ label, created: pairs });
      const written = output.logs().filter((l) => l.message === 'replica written' && String(l.parameterName).startsWith(`${bounded}/`));
      const keys = written.map((l) => `${l.parameterName}|${l.region}`);
      expect({ label, writes: keys.length, distinct: new Set(keys).size }).toEqual({ label, writes: pairs, distinct: pairs });
      // Per region, a prefix in name order at every moment: the writes in the order they happened are the names sorted.
      for (const region of REPLICAS) {
        const order = written.filter((l) => l.region === region).map((l) => l.parameterName);
        expect({ label, region, order }).toEqual({ label, region, order: boundedNames() });
      }

      // GIVEN changes in the primary: new values, deletions (the same in both)
      const changed = suffixes.filter(() => rng() < 0.25);
      const deleted = suffixes.filter((s) => !changed.includes(s) && rng() < 0.1);
      for (const suffix of changed) {
        const value = world.newValue(`${suffix}-v2`);
        for (const root of [bounded, unbounded]) {
          const type = (await world.get(PRIMARY, `${root}/${suffix}`))!.Type;
          await world.put(PRIMARY, { Name: `${root}/${suffix}`, Value: value, Type: type as any, Overwrite: true });
        }
      }
      for (const suffix of deleted) for (const root of [bounded, unbounded]) await world.delete(PRIMARY, `${root}/${suffix}`);

      // WHEN the next reconciliation runs as a chain, raced by runs from another environment
      const second = await boundedPass(handler, intruder, rng, queue, boundedNames, tally, true, `${label}, changes`);
      const ref2 = await reference({ action: 'reconcile' });
      expect(ref2.partial).toBe(false);
      const ref2Pairs = Object.values(ref2.outcomes as Record<string, number>).reduce((n, v) => n + v, 0);
      // Every live parameter and every replica of a deleted one, in both regions.
      expect(ref2Pairs).toBe(pairs);
      const secondOutcomes = expectPassAddsUp(`${label}, changes`, second, ref2Pairs);
      // A racing run that won the lease worked the whole reconciliation itself: either way, one set of outcomes.
      expect({ label, outcomes: secondOutcomes }).toEqual({ label, outcomes: ref2.outcomes });

      // THEN both selections end the same, equal to the primary
      for (const suffix of suffixes) {
        const a = await state(`${bounded}/${suffix}`);
        const b = await state(`${unbounded}/${suffix}`);
        expect({ label, suffix, state: a }).toEqual({ label, suffix, state: b });
        const primary = (a as any[])[0];
        for (const replica of (a as any[]).slice(1)) {
          expect({ label, suffix, replica }).toEqual({ label, suffix, replica: primary });
        }
      }
    }, 600_000);
  }

  test('hand-overs happened mid-page, inside several regions at once and with writes in flight in several; duplicates and races were refused', () => {
    // The output capture holds stderr: the tally goes to a file when asked for.
    if (process.env.PARAMETER_HANDOVER_TALLY) fs.writeFileSync(process.env.PARAMETER_HANDOVER_TALLY, JSON.stringify(tally));
    expect(tally.midPage).toBeGreaterThan(0);
    expect(tally.midRegion).toBeGreaterThan(0);
    expect(tally.midSeveralRegions).toBeGreaterThan(0);
    expect(tally.midWrite).toBeGreaterThan(0);
    expect(tally.midWriteSeveralRegions).toBeGreaterThan(0);
    expect(tally.duplicatesRefused).toBeGreaterThan(0);
  });

  test('two reconciliations started at once in two OS processes running the shipped bundle: one works, the other finds the lease held', async () => {
    if (!fs.existsSync(BUNDLE)) throw new Error(`bundle not found at ${BUNDLE}: run "npx projen bundle" first`);
    const root = '/phprocesses';
    const service = 'ParamHandOverProcesses';
    const handlerEnv = env(root, service);
    const count = 12;
    for (let i = 0; i < count; i++) await world.put(PRIMARY, { Name: `${root}/x${String(i).padStart(2, '0')}`, Value: world.newValue('proc') });
    // Slow replica writes keep the first run working while the second starts.
    proxy.addDelay({ operation: 'PutParameter', delayMs: 60 });
    const run = (appId: string, delayMs: number): Promise<any> => new Promise((resolve, reject) => {
      const script = `setTimeout(() => require(${JSON.stringify(BUNDLE)}).handler({ action: 'reconcile' })`
        + '.then((r) => process.stderr.write("RESULT" + JSON.stringify(r) + "\\n"), (e) => process.stderr.write("RESULT" + JSON.stringify({ error: e.name }) + "\\n")), '
        + `${delayMs})`;
      const childEnv = {
        PATH: process.env.PATH,
        ...awsTestEnv(proxy.endpoint),
        ...contractEnv(handlerEnv),
        AWS_SDK_UA_APP_ID: appId,
        [Env.METRIC_NAMESPACE]: 'CrossRegionConfig',
        [Env.SERVICE_NAME]: service,
      };
      execFile(process.execPath, ['-e', script], { env: childEnv as NodeJS.ProcessEnv, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
        output.lines.push(...stdout.split('\n').filter((l) => l !== ''), ...stderr.split('\n').filter((l) => l !== ''));
        const line = stderr.split('\n').find((l) => l.startsWith('RESULT'));
        if (!line) reject(err ?? new Error('child printed no result'));
        else resolve(JSON.parse(line.slice('RESULT'.length)));
      });
    });
    const mark = output.lines.length;
    const results = await Promise.all([run('process-a', 0), run('process-b', 150)]);
    const worked = results.filter((r) => r.skipped === undefined);
    expect(results.map((r) => r.skipped ?? r.error ?? 'worked').sort()).toEqual(['lease-held', 'worked']);
    expect(worked[0].outcomes).toEqual({ created: count * REPLICAS.length });
    const written = output.lines.slice(mark).filter((l) => l.includes('"replica written"') && l.includes(`${root}/`));
    expect(written).toHaveLength(count * REPLICAS.length);
    for (let i = 0; i < count; i++) {
      const name = `${root}/x${String(i).padStart(2, '0')}`;
      const primary = await world.get(PRIMARY, name);
      for (const region of REPLICAS) {
        expect({ name, region, value: (await world.get(region, name))?.Value }).toEqual({ name, region, value: primary!.Value });
      }
    }
  }, 120_000);

  /** Names `${root}/p00`.. in the primary, each with a fresh value. */
  async function seed(root: string, count: number): Promise<string[]> {
    const names = Array.from({ length: count }, (_, i) => `${root}/p${String(i).padStart(2, '0')}`);
    for (const name of names) await world.put(PRIMARY, { Name: name, Value: world.newValue('conc') });
    return names;
  }

  /** Sum of a per-region metric over the EMF documents since `from`. */
  function regionMetric(name: string, region: string, from: number): number {
    const values = output.emf(from).filter((d) => d.ReplicaRegion === region && d[name] !== undefined).flatMap((d) => [d[name]].flat());
    return values.reduce((a: number, b: number) => a + b, 0);
  }

  test('replica regions are reconciled concurrently: a slow region does not hold the others back, and the next hop works only what is left', async () => {
    const root = '/phconcurrent';
    const [slow, ...fast] = ['ap-southeast-2', 'eu-west-1', 'us-west-2'];
    const names = await seed(root, 20);
    // Every Parameter Store call in one region takes 150 ms more.
    proxy.addDelay({ service: 'ssm', region: slow, delayMs: 150 });
    const forwarded: Array<{ region: string; at: number }> = [];
    proxy.observe({
      before: async (request) => {
        if (request.id.operation === 'PutParameter' && String(request.body).includes(`${root}/`)) forwarded.push({ region: request.id.region, at: Date.now() });
        return undefined;
      },
      after: () => undefined,
    });
    const queue: any[] = [];
    const handler = createHandler(env(root, 'ParamHandOverConcurrent'), { invoker: { invokeAsync: async (payload: unknown) => { queue.push(JSON.parse(JSON.stringify(payload))); } } });

    // WHEN one invocation has 1 s of working time (a 2 s deadline, half kept as margin)
    const context = tinyContext(2000, () => undefined);
    const first = await handler({ action: 'reconcile' }, context);
    context.done();

    // THEN the fast regions were copied to the end while the slow one worked part of its names
    expect(first.partial).toBe(true);
    expect(queue).toHaveLength(1);
    const positions = queue[0].continuation.cursor.position.regions;
    expect(positions.map((p: any) => p.region)).toEqual([slow]);
    const slowDone = names.filter((n) => n <= positions[0].after).length;
    expect(slowDone).toBeGreaterThan(0);
    expect(slowDone).toBeLessThan(names.length);
    expect(first.outcomes).toEqual({ created: fast.length * names.length + slowDone });
    for (const region of fast) expect(forwarded.filter((f) => f.region === region)).toHaveLength(names.length);
    // ... without waiting for it: us-west-2 comes after the slow region in the targets, so one after
    // another its writes would all follow the slow region's last write. (Whether the fast regions' writes
    // also end after the slow region's first write depends on the machine's speed, so it is not asserted.)
    const times = (region: string) => forwarded.filter((f) => f.region === region).map((f) => f.at);
    for (const region of fast) {
      expect({ region, beganBeforeSlowEnded: Math.min(...times(region)) < Math.max(...times(slow)) })
        .toEqual({ region, beganBeforeSlowEnded: true });
    }

    // WHEN the continuation runs, the regions already done are not listed again
    proxy.resetStats();
    const rest = await handler(queue.shift(), { getRemainingTimeInMillis: () => 60_000 });
    expect(rest.pass.complete).toBe(true);
    expect(rest.outcomes).toEqual({ created: names.length - slowDone });
    const listings = proxy.stats().byOperation;
    for (const region of fast) expect({ region, listed: listings[`ssm:${region}:GetParametersByPath`]?.forwarded ?? 0 }).toEqual({ region, listed: 0 });
    expect(listings[`ssm:${PRIMARY}:GetParametersByPath`]?.forwarded).toBeGreaterThan(0);
    for (const name of names) {
      const value = (await world.get(PRIMARY, name))!.Value;
      for (const region of REPLICAS) expect({ name, region, value: (await world.get(region, name))?.Value }).toEqual({ name, region, value });
    }
  }, 120_000);

  test('a region that fails is reported and metered; the other regions are reconciled to the end', async () => {
    const root = '/phfailing';
    const names = await seed(root, 14);
    const [listFails, writeFails, healthy] = REPLICAS;
    // One region cannot be listed (slowly), one refuses every write.
    proxy.addDelay({ service: 'ssm', region: listFails, delayMs: 300 });
    proxy.addRule({ service: 'ssm', region: listFails, operation: 'GetParametersByPath', fault: 'access-denied' });
    proxy.addRule({ service: 'ssm', region: writeFails, operation: 'PutParameter', fault: 'access-denied' });
    const mark = output.lines.length;
    const handler = createHandler(env(root, 'ParamHandOverFailing'), { invoker: { invokeAsync: async () => { throw new Error('no hand-over expected'); } } });
    const run = await handler({ action: 'reconcile' }, { getRemainingTimeInMillis: () => 60_000 });
    expect(run.pass.complete).toBe(true);
    expect(run.pass.agreed).toBe(false);
    expect(run.outcomes).toEqual({ created: names.length, failed: 2 * names.length });
    for (const region of [listFails, writeFails]) {
      expect({ region, failures: run.failures.filter((f: any) => f.region === region).length }).toEqual({ region, failures: names.length });
      expect({ region, metered: regionMetric('ReplicationFailures', region, mark) }).toEqual({ region, metered: names.length });
    }
    expect(regionMetric('ReplicationFailures', healthy, mark)).toBe(0);
    expect(output.logs().filter((l) => l.message === 'replica region could not be listed' && l.region === listFails).length).toBeGreaterThan(0);
    for (const name of names) {
      expect({ name, healthy: (await world.get(healthy, name))?.Value }).toEqual({ name, healthy: (await world.get(PRIMARY, name))!.Value });
      expect({ name, failing: (await world.get(writeFails, name)) === undefined }).toEqual({ name, failing: true });
    }
  }, 120_000);

  test('before handing over, every region with writes in flight reads the primaries it wrote again', async () => {
    const root = '/phrecheck';
    const names = await seed(root, 6);
    const target = names[0];
    const newer = world.newValue('newer');
    let changed = false;
    // The primary changes while the first replica write of its first parameter is on its way.
    proxy.observe({
      before: async (request) => {
        if (!changed && request.id.operation === 'PutParameter' && request.id.region !== PRIMARY && String(request.body).includes(`"${target}"`)) {
          changed = true;
          await world.put(PRIMARY, { Name: target, Value: newer, Overwrite: true });
        }
        return undefined;
      },
      after: () => undefined,
    });
    proxy.addDelay({ service: 'ssm', operation: 'PutParameter', delayMs: 30 });
    const queue: any[] = [];
    // Told to stop at once: each region works its first pair, then stops and hands over.
    const handler = createHandler(env(root, 'ParamHandOverRecheck'), {
      invoker: { invokeAsync: async (payload: unknown) => { queue.push(payload); } }, shouldContinue: () => false,
    });
    const first = await handler({ action: 'reconcile' }, { getRemainingTimeInMillis: () => 60_000 });
    expect(changed).toBe(true);
    expect(first.partial).toBe(true);
    expect(queue[0].continuation.cursor.position.regions).toEqual(REPLICAS.map((region, targetIndex) => ({ targetIndex, region, after: target })));
    // THEN at the hand-over every region holds the primary's newer value, not the listed one
    for (const region of REPLICAS) expect({ region, value: (await world.get(region, target))?.Value }).toEqual({ region, value: newer });
    expect(first.processed).toBe(REPLICAS.length);
  }, 120_000);

  test('a continuation in the cursor shape of the one-region-at-a-time releases resumes; one that does not fit the targets is dropped', async () => {
    const root = '/phlegacy';
    const service = 'ParamHandOverLegacy';
    const names = await seed(root, 8);
    const queue: any[] = [];
    const handler = createHandler(env(root, service), { invoker: { invokeAsync: async (payload: unknown) => { queue.push(payload); } } });
    // GIVEN a pass handed over by the earlier release in the middle of the second region (its lease record too)
    const { RunLease, leasePath } = require('../../lambda-src/shared/lease'); // eslint-disable-line @typescript-eslint/no-require-imports
    const { SSMClient } = require('@aws-sdk/client-ssm'); // eslint-disable-line @typescript-eslint/no-require-imports
    const lease = new RunLease(new SSMClient({ region: PRIMARY }), leasePath(service));
    const handOver = async (runId: string) => {
      const held = await lease.acquire({ owner: runId, hop: 0 }, 5 * 60_000);
      expect(held.kind).toBe('held');
      expect(await lease.handOver(held, 5 * 60_000)).toBe(true);
      return held.generation;
    };
    const legacy = (runId: string, generation: number, position: unknown) => ({
      action: 'reconcile',
      continuation: {
        runId,
        generation,
        hop: 1,
        passStartedAt: Date.now(),
        cursor: { position, processed: 11, totals: { outcomes: { created: 11 }, disagreed: [], lastAgreedAt: {} } },
      },
    });
    const resumed = await handler(legacy('legacy-run-1', await handOver('legacy-run-1'), { targetIndex: 1, after: names[2] }), { getRemainingTimeInMillis: () => 60_000 });
    // THEN it works the rest of that region and the whole of the later one
    expect(resumed.pass.complete).toBe(true);
    expect(resumed.outcomes).toEqual({ created: (names.length - 3) + names.length });
    expect(resumed.pass.processed).toBe(11 + (names.length - 3) + names.length);
    for (const name of names) {
      expect({ name, first: await world.get(REPLICAS[0], name) }).toEqual({ name, first: undefined });
      expect({ name, second: (await world.get(REPLICAS[1], name)) !== undefined }).toEqual({ name, second: name > names[2] });
    }

    // GIVEN a continuation naming a region the targets no longer hold at that index
    const mark = output.lines.length;
    const dropped = await handler(legacy('legacy-run-2', await handOver('legacy-run-2'), { regions: [{ targetIndex: 0, region: 'sa-east-1', after: names[1] }] }),
      { getRemainingTimeInMillis: () => 60_000 });
    expect(dropped.skipped).toBe('unusable-continuation');
    expect(output.logs().some((l) => l.message === 'continuation dropped; the next scheduled reconciliation starts over'
      && /sa-east-1/.test(l.reason))).toBe(true);
    expect(output.emf(mark).some((d) => d.ReplicationFailures !== undefined)).toBe(true);
    // ... and its lease is free at once: the next schedule starts over and copies everything.
    const next = await handler({ action: 'reconcile' }, { getRemainingTimeInMillis: () => 60_000 });
    expect(next.skipped).toBeUndefined();
    expect(next.pass.complete).toBe(true);
    expect(next.outcomes.created).toBe(names.length + 3);
  }, 120_000);

  test('no log line holds a value', () => {
    const needles = new Set([...world.values].map((v) => (v.length > 40 ? v.slice(0, 40) : v)));
    expect(output.lines.length).toBeGreaterThan(100);
    expect(linesWithValues(output.lines, needles)).toBe(0);
  });
});
