/**
 * Deadline-aware syncs of many target ConfigMaps against moto server (the source, the run lease)
 * and a real kube-apiserver: every invocation gets a tiny, random deadline (the Lambda context is
 * driven by the test), so a sync stops with target applies in flight and hands the remaining
 * targets over. The continuations the handler sends are queued by the test and delivered in
 * order, some twice; a manual sync and a change event from another execution environment
 * sometimes race a continuation.
 *
 * Invariants, per case:
 * - after the chain, every target holds exactly the source's keys, as after one unbounded sync of
 *   an identical set of targets, and the outcomes per target are the same (`applied`);
 * - every target is synced exactly once per sync: the invocations' targets, concatenated, are the
 *   configured targets in order; `ItemsProcessed` and `SyncSuccess` add up to the number of targets;
 * - `RunPartial` is 1 for every invocation that handed over and 0 for the last;
 * - a duplicated continuation does nothing, a racing manual sync does nothing, and a racing change
 *   event fails with `RunInProgress` (so Lambda retries it);
 * - a second bounded sync finds every target `unchanged`; no source value is logged.
 *
 * HANDOVER_SEED sets the first case's PRNG sequence number (default: time-based; printed), and
 * HANDOVER_CASES (default 2) how many cases run.
 */
import { randomUUID } from 'node:crypto';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import type { SyncTargetConfig } from '../../src/configmap-syncer/contract';
import { SyncEnv } from '../../src/configmap-syncer/contract';
import { ConfigWorld } from '../drift-detector/world';
import { KubeCluster, startKubeCluster, StsKeyring } from '../harness/kube';
import { applyEnv, awsTestEnv, MotoServer, startMotoServer } from '../harness/moto';
import { OutputCapture } from '../harness/world';

const ACCOUNT = '123456789012';
const ROLE_ARN = `arn:aws:iam::${ACCOUNT}:role/configmap-syncer-hand-over`;
const REGION = 'us-east-1';
const NS = 'fleet';
const PATH = '/fleet/config';
const FIRST_CASE = Number(process.env.HANDOVER_SEED ?? (Date.now() % 1_000_000));
const CASES = Number(process.env.HANDOVER_CASES ?? 2);
/** Invocation deadlines (ms): the budget keeps half, so each invocation syncs one to a few targets. */
const MAX_DEADLINE_MS = 80;

let moto: MotoServer;
let cluster: KubeCluster;
let world: ConfigWorld;
let restoreEnv: () => void;
const keyring = new StsKeyring();
const output = new OutputCapture();
const values: string[] = [];
const results: string[] = [];
const tallies: string[] = [];
const expected: Record<string, string> = {};
let createHandler: any;

function value(label: string): string {
  const v = `${label}-${randomUUID()}`;
  values.push(v);
  return v;
}

beforeAll(async () => {
  process.stderr.write(`syncer hand-over cases ${FIRST_CASE} to ${FIRST_CASE + CASES - 1} (rerun one with HANDOVER_SEED=<n> HANDOVER_CASES=1)\n`);
  moto = await startMotoServer();
  restoreEnv = applyEnv({ ...awsTestEnv(moto.endpoint, REGION), POWERTOOLS_METRICS_NAMESPACE: 'Test/ConfigMapSyncHandOver' });
  // The Lambda's credentials: a session of its execution role, which the cluster's webhook verifies.
  const assumed = await new STSClient({ region: REGION }).send(new AssumeRoleCommand({ RoleArn: ROLE_ARN, RoleSessionName: 'hand-over' }));
  const credentials = {
    accessKeyId: assumed.Credentials!.AccessKeyId!,
    secretAccessKey: assumed.Credentials!.SecretAccessKey!,
    sessionToken: assumed.Credentials!.SessionToken!,
  };
  keyring.register(credentials);
  Object.assign(process.env, {
    AWS_ACCESS_KEY_ID: credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
    AWS_SESSION_TOKEN: credentials.sessionToken,
    AWS_ENDPOINT_URL_STS: moto.endpoint,
  });
  world = new ConfigWorld(moto.endpoint);
  const started = startKubeCluster({ name: 'fleet', region: REGION, motoEndpoint: moto.endpoint, keyring });
  for (const key of ['log_level', 'cache_ttl', 'pool_size']) {
    expected[key] = value(key);
    await world.putParameter(REGION, `${PATH}/${key}`, expected[key]);
  }
  cluster = await started;
  await cluster.grant(NS, ROLE_ARN, 'edit');
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  ({ createHandler } = require('../../lambda-src/configmap-syncer/handler'));
  output.start();
}, 300_000);

afterAll(async () => {
  output.stop();
  process.stderr.write(`${tallies.join('\n')}\n`);
  await cluster?.stop();
  await moto?.stop();
  restoreEnv?.();
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

function targets(prefix: string, count: number): SyncTargetConfig[] {
  return Array.from({ length: count }, (_, i) => ({
    cluster: cluster.config, namespace: NS, configMapName: `${prefix}-${String(i).padStart(2, '0')}`, createNamespace: false,
  }));
}

function env(service: string, list: SyncTargetConfig[]): NodeJS.ProcessEnv {
  return {
    ...process.env,
    POWERTOOLS_SERVICE_NAME: service,
    [SyncEnv.PRIMARY_REGION]: REGION,
    [SyncEnv.SOURCE_PARAMETER_PATH]: PATH,
    [SyncEnv.TARGETS]: JSON.stringify(list),
  };
}

function tinyContext(deadlineMs: number) {
  const deadline = Date.now() + deadlineMs;
  return { getRemainingTimeInMillis: () => deadline - Date.now() };
}

const parameterChange = () => ({
  'version': '0',
  'id': randomUUID(),
  'detail-type': 'Parameter Store Change',
  'source': 'aws.ssm',
  'account': ACCOUNT,
  'time': new Date().toISOString(),
  'region': REGION,
  'resources': [`arn:aws:ssm:${REGION}:${ACCOUNT}:parameter${PATH}/log_level`],
  'detail': { name: `${PATH}/log_level`, type: 'String', operation: 'Update' },
});

/** Values of an EMF metric in the documents since `from`, without the per-cluster documents. */
function emf(from: number, name: string): number[] {
  return output.emf(from).filter((d) => d[name] !== undefined && d.Cluster === undefined).flatMap((d) => [d[name]].flat());
}
const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);

/** Drives one sync through its continuations; returns every invocation's summary. */
async function boundedSync(label: string, rng: () => number, list: SyncTargetConfig[], service: string): Promise<{ hops: any[]; from: number }> {
  const queue: any[] = [];
  const handler = createHandler(env(service, list), { invoker: { invokeAsync: async (p: any) => void queue.push(JSON.parse(JSON.stringify(p))) } });
  const intruder = createHandler(env(service, list), { invoker: { invokeAsync: async () => { throw new Error('the racer must not hand over'); } } });
  const from = output.lines.length;
  const hops: any[] = [];
  let duplicates = 0;
  let races = 0;
  let event: any = { action: 'sync' };
  for (let i = 0; ; i++) {
    if (i > 60) throw new Error(`${label}: the sync did not complete in 60 invocations`);
    const deadline = i === 0 ? 1 : Math.floor(rng() * MAX_DEADLINE_MS);
    const race = event.continuation ? rng() : 1;
    const racer = race < 0.15
      ? intruder({ action: 'sync' }, tinyContext(60_000)).then((r: any) => ({ r }))
      : race < 0.3 ? intruder(parameterChange(), tinyContext(60_000)).then((r: any) => ({ r }), (e: Error) => ({ e })) : undefined;
    const [result, raced] = await Promise.all([handler(event, tinyContext(deadline)), racer]);
    hops.push(result);
    results.push(JSON.stringify(result));
    if (raced) {
      // The lease is held by, or handed over to, this continuation: the racer does nothing.
      expect({ label, raced: raced.r?.skipped ?? raced.e?.name }).toEqual({ label, raced: race < 0.15 ? 'lease-held' : 'RunInProgress' });
      races++;
    }
    if (event.continuation && rng() < 0.3) {
      const again = await handler(JSON.parse(JSON.stringify(event)), tinyContext(60_000));
      expect({ label, again: again.skipped }).toEqual({ label, again: 'stale-continuation' });
      duplicates++;
    }
    const next = queue.shift();
    if (next === undefined) break;
    event = next;
  }
  tallies.push(`${label}: ${hops.length} invocations, ${duplicates} duplicate continuations and ${races} racing invocations refused`);
  return { hops, from };
}

describe('a sync of more targets than one invocation handles', () => {
  for (let c = 0; c < CASES; c++) {
    const n = FIRST_CASE + c;
    test(`case ${n}: hands the remaining targets over and ends as one unbounded sync`, async () => {
      const rng = mulberry32(n);
      const label = `case ${n}`;
      const count = 8 + Math.floor(rng() * 9);
      const bounded = targets(`b${n}`, count);
      const unboundedTargets = targets(`u${n}`, count);

      const unbounded = await createHandler(env(`SyncUnbounded${n}`, unboundedTargets))({ action: 'sync' });
      expect({ label, partial: unbounded.partial, outcomes: unbounded.targets.map((t: any) => t.outcome) })
        .toEqual({ label, partial: false, outcomes: unboundedTargets.map(() => 'applied') });

      const first = await boundedSync(label, rng, bounded, `SyncBounded${n}`);
      const hops = first.hops;
      expect(hops.length).toBeGreaterThan(1);
      expect({ label, partial: hops.map((h) => h.partial) }).toEqual({ label, partial: hops.map((_, i) => i < hops.length - 1) });
      // Each target exactly once, in order, with the unbounded sync's outcome.
      expect({ label, synced: hops.flatMap((h) => h.targets.map((t: any) => `${t.configMapName} ${t.outcome}`)) })
        .toEqual({ label, synced: bounded.map((t) => `${t.configMapName} applied`) });
      for (const t of [...bounded, ...unboundedTargets]) {
        expect({ label, name: t.configMapName, data: (await cluster.admin.getConfigMap(NS, t.configMapName))?.data })
          .toEqual({ label, name: t.configMapName, data: expected });
      }
      expect({
        label,
        items: sum(emf(first.from, 'ItemsProcessed')),
        partialRuns: sum(emf(first.from, 'RunPartial')),
        invocations: emf(first.from, 'RunPartial').length,
        successes: sum(emf(first.from, 'SyncSuccess')),
        failures: sum(emf(first.from, 'SyncFailure')),
      }).toEqual({ label, items: count, partialRuns: hops.length - 1, invocations: hops.length, successes: count, failures: 0 });

      // A second sync changes nothing and again syncs each target once.
      const second = await boundedSync(`${label} (again)`, rng, bounded, `SyncBounded${n}`);
      expect({ label, synced: second.hops.flatMap((h) => h.targets.map((t: any) => `${t.configMapName} ${t.outcome}`)) })
        .toEqual({ label, synced: bounded.map((t) => `${t.configMapName} unchanged`) });
    }, 300_000);
  }
});

test('no source value appears in a log line or a result', () => {
  const haystacks = [...output.lines, ...results];
  expect(values.filter((v) => haystacks.some((h) => h.includes(v)))).toEqual([]);
});
