/**
 * Deadline-aware parity checks against moto server, through the fault proxy.
 *
 * The scheduled check of every region gets a tiny, random deadline per invocation (the Lambda
 * context is driven by the test), so it stops and hands over between the scopes of one region
 * (secrets, each parameter path) and between regions. The continuations it sends are queued by the
 * test, delivered in order, some twice (Lambda's asynchronous invocations are at-least-once), and
 * sometimes raced by another scheduled run from another execution environment. Invariants, against
 * one unbounded run over the same world:
 * - every region gets the unbounded run's verdict and `ConfigParity`, `ParityDifferences` and
 *   `ParityUnreadable`, published once per region;
 * - every (region, scope) is compared exactly once per pass: the invocations' `scopes` add up to
 *   regions × scopes, and their `processed` (pairs compared) to the unbounded run's;
 * - `ItemsProcessed` sums to the pairs compared, `RunPartial` is 1 for every invocation that handed
 *   over and 0 for the last, `OldestUnprocessedItemAge` is 0 only at the end;
 * - a duplicated continuation or a racing run never works at the same time as the chain.
 *
 * A check with a caller waiting for its answer (direct, ARC Region switch step, pipeline rule)
 * never hands over: when the invocation's time runs out it answers FAIL, incomplete, saying why.
 *
 * moto gaps: none beyond the parity check's own (see handler.integ.test.ts).
 *
 * PARITY_HANDOVER_SEED sets the first case's PRNG sequence number (default: time-based; printed),
 * and PARITY_HANDOVER_CASES (default 3) how many cases run. A failure names the case's number.
 */
import * as fs from 'node:fs';
import { CreateSecretCommand, DeleteSecretCommand } from '@aws-sdk/client-secrets-manager';
import { ParityEnv } from '../../src/parity-check/contract';
import { ConfigWorld } from '../drift-detector/world';
import { FakeCodePipeline, startFakeCodePipeline } from '../harness/fake-codepipeline';
import { startFaultProxy } from '../harness/fault-proxy';
import { startMotoServer } from '../harness/moto';
import { OutputCapture } from '../harness/world';

const PRIMARY = 'us-east-1';
const REGIONS = ['eu-west-1', 'ap-southeast-2'];
const FIRST_CASE = Number(process.env.PARITY_HANDOVER_SEED ?? (Date.now() % 1_000_000));
const CASES = Number(process.env.PARITY_HANDOVER_CASES ?? 3);
/** Parameter paths per case: with the secrets, each region has this many scopes plus one. */
const PATHS = 4;
/** Invocation deadlines (ms): the budget keeps half of a deadline this short, so each compares a scope or two. */
const MIN_DEADLINE_MS = 60;
const MAX_DEADLINE_MS = 400;
/** Held on each read of a scope, so that a scope takes a noticeable share of a deadline. */
const READ_DELAY_MS = 20;
const READ_OPERATIONS = ['GetParametersByPath', 'ListSecrets', 'BatchGetSecretValue'];
const NAMESPACE = 'Test/ParityHandOver';

let moto: Awaited<ReturnType<typeof startMotoServer>>;
let proxy: Awaited<ReturnType<typeof startFaultProxy>>;
let codepipeline: FakeCodePipeline;
let world: ConfigWorld;
const output = new OutputCapture();
const savedEnv = { ...process.env };

/* eslint-disable @typescript-eslint/no-require-imports -- loaded after the environment points at the proxy */
let createHandler: any;
/* eslint-enable @typescript-eslint/no-require-imports */

beforeAll(async () => {
  process.stderr.write(`parity hand-over cases ${FIRST_CASE} to ${FIRST_CASE + CASES - 1} (rerun one with PARITY_HANDOVER_SEED=<n> PARITY_HANDOVER_CASES=1)\n`);
  moto = await startMotoServer();
  proxy = await startFaultProxy({ target: moto.endpoint, seed: FIRST_CASE });
  codepipeline = await startFakeCodePipeline();
  Object.assign(process.env, {
    AWS_ENDPOINT_URL: proxy.endpoint,
    AWS_ENDPOINT_URL_CODEPIPELINE: codepipeline.endpoint,
    AWS_ACCESS_KEY_ID: 'testing',
    AWS_SECRET_ACCESS_KEY: 'testing',
    AWS_REGION: PRIMARY,
    [ParityEnv.METRIC_NAMESPACE]: NAMESPACE,
    [ParityEnv.SERVICE_NAME]: 'ParityHandOver',
  });
  delete process.env.AWS_SESSION_TOKEN;
  delete process.env.AWS_PROFILE;
  world = new ConfigWorld(moto.endpoint);
  /* eslint-disable @typescript-eslint/no-require-imports */
  ({ createHandler } = require('../../lambda-src/parity-check/handler'));
  /* eslint-enable @typescript-eslint/no-require-imports */
  output.start();
}, 120_000);

afterAll(async () => {
  output.stop();
  await proxy?.stop();
  await codepipeline?.stop();
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

function env(root: string, service: string): NodeJS.ProcessEnv {
  return {
    ...process.env,
    [ParityEnv.PRIMARY_REGION]: PRIMARY,
    [ParityEnv.TARGETS]: JSON.stringify(REGIONS.map((region) => ({ region }))),
    [ParityEnv.SECRET_SELECTION]: JSON.stringify({ rules: [{ namePrefixes: [`${root}/`] }] }),
    [ParityEnv.PARAMETER_PATHS]: JSON.stringify(Array.from({ length: PATHS }, (_, i) => `/${root}/path${i}`)),
    [ParityEnv.GRACE_WINDOW_SECONDS]: '0',
    [ParityEnv.SERVICE_NAME]: service,
  };
}

/** A Lambda context with `deadlineMs` left now. */
function tinyContext(deadlineMs: number) {
  const deadline = Date.now() + deadlineMs;
  return { getRemainingTimeInMillis: () => deadline - Date.now() };
}

interface StopTally {
  handOvers: number;
  midRegion: number;
  betweenRegions: number;
  duplicatesRefused: number;
  racesRefused: number;
}

/** EMF documents of output lines from..to (the `service` dimension is the process's POWERTOOLS_SERVICE_NAME, the same for every handler here). */
function emfBetween(from: number, to: number): Array<Record<string, any>> {
  return output.emf(from).slice(0, output.emf(from).length - output.emf(to).length);
}

/** Per region: ConfigParity, ParityDifferences, ParityUnreadable with the TargetRegion dimension, in EMF documents from..to. */
function regionMetrics(from: number, to: number): Record<string, number[]> {
  const out: Record<string, number[]> = {};
  for (const d of emfBetween(from, to)) {
    if (d.TargetRegion === undefined) continue;
    for (const name of ['ConfigParity', 'ParityDifferences', 'ParityUnreadable']) {
      if (d[name] !== undefined) (out[`${d.TargetRegion} ${name}`] ??= []).push(...[d[name]].flat());
    }
  }
  return out;
}

describe('the scheduled check of every region, larger than one invocation', () => {
  const tally: StopTally = { handOvers: 0, midRegion: 0, betweenRegions: 0, duplicatesRefused: 0, racesRefused: 0 };

  for (let c = FIRST_CASE; c < FIRST_CASE + CASES; c++) {
    test(`hands over with random deadlines and publishes what one unbounded run publishes (case ${c})`, async () => {
      const rng = mulberry32(c);
      const label = `case ${c}`;
      const root = `ph${c}`;
      const boundedService = `ParityBounded${c}`;
      const queue: any[] = [];
      const invoker = { invokeAsync: async (payload: unknown) => { queue.push(JSON.parse(JSON.stringify(payload))); } };
      const handler = createHandler(env(root, boundedService), { invoker });
      const intruder = createHandler(env(root, boundedService), { invoker });
      const reference = createHandler(env(root, `ParityUnbounded${c}`), {
        invoker: { invokeAsync: async () => { throw new Error('the unbounded run handed over'); } },
      });

      // GIVEN secrets and parameters in every region, some missing or different in a region
      const secrets = 5 + Math.floor(rng() * 10);
      for (let i = 0; i < secrets; i++) {
        const value = world.newValue(`${root}-s${i}`);
        for (const region of [PRIMARY, ...REGIONS]) {
          if (region !== PRIMARY && rng() < 0.1) continue;
          await world.client(region).send(new CreateSecretCommand({ Name: `${root}/s${i}`, SecretString: value }));
        }
      }
      for (let p = 0; p < PATHS; p++) {
        const count = 1 + Math.floor(rng() * 12);
        for (let i = 0; i < count; i++) {
          const name = `/${root}/path${p}/q${i}`;
          const value = world.newValue(`${root}-p${p}-${i}`);
          for (const region of [PRIMARY, ...REGIONS]) {
            const roll = rng();
            if (region !== PRIMARY && roll < 0.05) continue;
            await world.putParameter(region, name, region !== PRIMARY && roll < 0.1 ? world.newValue('local') : value);
          }
        }
      }

      // WHEN the scheduled check runs as one unbounded invocation
      const refFrom = output.lines.length;
      const ref = await reference({ 'detail-type': 'Scheduled Event', 'source': 'aws.events' });
      const refTo = output.lines.length;
      expect(ref.partial).toBe(false);
      expect(ref.scopes).toBe(REGIONS.length * (PATHS + 1));

      // AND as a chain of tiny invocations, duplicated and raced
      for (const operation of READ_OPERATIONS) proxy.addDelay({ operation, delayMs: READ_DELAY_MS });
      const from = output.lines.length;
      const summaries: any[] = [];
      let event: any = { 'detail-type': 'Scheduled Event', 'source': 'aws.events' };
      for (let i = 0; ; i++) {
        if (i > 200) throw new Error(`${label}: the check did not complete in 200 invocations`);
        const deadline = MIN_DEADLINE_MS + Math.floor(rng() * (MAX_DEADLINE_MS - MIN_DEADLINE_MS));
        const racing = rng() < 0.2 ? (async () => {
          await new Promise((r) => setTimeout(r, Math.floor(rng() * 30)));
          return intruder({ action: 'check_all' }, tinyContext(60_000));
        })() : undefined;
        const [result, raced] = await Promise.all([handler(event, tinyContext(deadline)), racing]);
        summaries.push(result);
        if (raced !== undefined) {
          expect({ label, both: result.skipped === undefined && raced.skipped === undefined }).toEqual({ label, both: false });
          if (raced.skipped) tally.racesRefused++;
          else summaries.push(raced);
        }
        if (event.continuation && result.skipped === undefined && rng() < 0.25) {
          const again = await handler(JSON.parse(JSON.stringify(event)), tinyContext(deadline));
          expect({ label, skipped: again.skipped }).toEqual({ label, skipped: 'stale-continuation' });
          tally.duplicatesRefused++;
        }
        const next = queue.shift();
        if (next === undefined) break;
        const position = next.continuation.cursor.position;
        tally.handOvers++;
        if (position.scope > 0) tally.midRegion++;
        else if (position.region > 0) tally.betweenRegions++;
        event = next;
      }
      const to = output.lines.length;
      proxy.clearRules();

      // THEN the pass that completed compared every (region, scope) once and judged every region as the unbounded run did
      const last = summaries.filter((s) => s.pass).at(-1);
      expect({ label, complete: last.pass.complete }).toEqual({ label, complete: true });
      const hops = summaries.filter((s) => s.pass?.runId === last.pass.runId);
      expect({ label, scopes: hops.reduce((n, s) => n + s.scopes, 0), passScopes: last.pass.scopes })
        .toEqual({ label, scopes: REGIONS.length * (PATHS + 1), passScopes: REGIONS.length * (PATHS + 1) });
      expect({ label, processed: hops.reduce((n, s) => n + s.processed, 0), passProcessed: last.pass.processed, compared: last.pass.compared })
        .toEqual({ label, processed: ref.processed, passProcessed: ref.processed, compared: ref.pass.compared });
      expect({ label, verdicts: last.pass.verdicts }).toEqual({ label, verdicts: ref.pass.verdicts });
      expect({ label, partial: hops.map((s) => s.partial) }).toEqual({ label, partial: hops.map((_, i) => i < hops.length - 1) });
      const judged = hops.flatMap((s) => s.results.map((r: any) => [r.targetRegion, r.verdict, r.compared, r.differences.length]));
      const expected = ref.results.map((r: any) => [r.targetRegion, r.verdict, r.compared, r.differences.length]);
      expect({ label, judged }).toEqual({ label, judged: expected });
      // Each region's parity metrics once, equal to the unbounded run's (a racing run that won publishes its own pass instead).
      const raced = summaries.some((s) => s.pass && s.pass.runId !== last.pass.runId);
      const published = regionMetrics(refFrom, refTo);
      expect(Object.keys(published)).toHaveLength(REGIONS.length * 3);
      if (!raced) expect({ label, metrics: regionMetrics(from, to) }).toEqual({ label, metrics: published });

      const docs = emfBetween(from, to);
      const values = (name: string): number[] => docs.flatMap((d) => (d[name] === undefined ? [] : [d[name]].flat()));
      const sum = (name: string) => values(name).reduce((n, v) => n + v, 0);
      const worked = summaries.filter((s) => s.pass);
      expect({ label, items: sum('ItemsProcessed') }).toEqual({ label, items: worked.reduce((n, s) => n + s.processed, 0) });
      expect({ label, partialRuns: sum('RunPartial') }).toEqual({ label, partialRuns: worked.filter((s) => s.partial).length });
      expect({ label, runPartial: values('RunPartial').at(-1), oldest: values('OldestUnprocessedItemAge').at(-1) }).toEqual({ label, runPartial: 0, oldest: 0 });

      // Clean up the secrets so that later cases' listings stay small.
      for (let i = 0; i < secrets; i++) {
        for (const region of [PRIMARY, ...REGIONS]) {
          await world.client(region).send(new DeleteSecretCommand({ SecretId: `${root}/s${i}`, ForceDeleteWithoutRecovery: true })).catch(() => undefined);
        }
      }
    }, 300_000);
  }

  test('hand-overs happened inside a region and between regions; duplicates were refused', () => {
    // The output capture holds stderr: the tally goes to a file when asked for.
    if (process.env.PARITY_HANDOVER_TALLY) fs.writeFileSync(process.env.PARITY_HANDOVER_TALLY, JSON.stringify(tally));
    expect(tally.midRegion).toBeGreaterThan(0);
    expect(tally.betweenRegions).toBeGreaterThan(0);
    expect(tally.duplicatesRefused).toBeGreaterThan(0);
  });
});

describe('a check with a caller waiting for the answer', () => {
  const root = 'sync';
  const stale = { getRemainingTimeInMillis: () => 0 };
  let handler: any;

  beforeAll(async () => {
    const value = world.newValue('sync');
    for (const region of [PRIMARY, ...REGIONS]) {
      await world.client(region).send(new CreateSecretCommand({ Name: `${root}/a`, SecretString: value }));
      for (let p = 0; p < PATHS; p++) await world.putParameter(region, `/${root}/path${p}/x`, value);
    }
    handler = createHandler(env(root, 'ParitySync'), { invoker: { invokeAsync: async () => { throw new Error('a synchronous check handed over'); } } });
  });

  test('passes when the invocation has time', async () => {
    const result = await handler({ action: 'check', region: REGIONS[0] }, tinyContext(120_000));
    expect(result).toMatchObject({ verdict: 'PASS', complete: true, compared: 1 + PATHS });
  });

  test('answers FAIL, incomplete, with the reason first, when the time runs out (direct)', async () => {
    const result = await handler({ action: 'check', region: REGIONS[0] }, stale);
    expect(result).toMatchObject({ verdict: 'FAIL', complete: false });
    expect(result.summary).toMatch(new RegExp(`^Config parity of ${REGIONS[0]} with ${PRIMARY}: FAIL - the check ran out of time after 0 of its scopes`));
    expect(result.summary).toContain('fails closed');
  });

  test('fails the ARC Region switch step with that reason', async () => {
    await expect(handler({ PlanArn: 'arn:aws:arc-region-switch::123456789012:plan/p', StepName: `ConfigParity-${REGIONS[1]}` }, stale))
      .rejects.toMatchObject({ name: 'ConfigParityError', message: expect.stringContaining('ran out of time') });
  });

  test('fails the pipeline rule\'s job with that reason, and never hands over', async () => {
    const before = codepipeline.calls.length;
    const answer = await handler({
      'CodePipeline.job': { id: 'job-out-of-time', data: { actionConfiguration: { configuration: { UserParameters: JSON.stringify({ region: REGIONS[0] }) } } } },
    }, stale);
    expect(answer.reported).toBe('FAIL');
    const calls = codepipeline.calls.slice(before);
    expect(calls.map((c) => c.operation)).toEqual(['PutJobFailureResult']);
    expect(calls[0].input.failureDetails.message).toContain('ran out of time');
  });
});
