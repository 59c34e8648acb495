/**
 * Randomized convergence of the secret replicator against moto server through the fault proxy
 * (Secrets Manager stand-ins on). Each case is a small world generated from a numbered PRNG
 * sequence (mulberry32): two secrets, two replica regions and two execution environments, and a
 * random interleaving of primary writes, rotations (AWSPENDING, completion), rollbacks, edits in a
 * replica region, change events delivered out of order, duplicated and concurrently by both
 * environments, region outages, ignored writes, and reconciliations.
 *
 * After a final reconciliation the invariant must hold for every secret: each replica's AWSCURRENT
 * value equals the primary's AWSCURRENT value, and its version id is the replicator's copy of
 * exactly that primary version. And no run may have reported a write that did not land: every
 * version id a "replica written" log line names exists in that replica, was reported once, and
 * holds the value of the primary version it names.
 *
 * CONVERGENCE_CASES (default 200) sets how many cases run; CONVERGENCE_CASE=<n> runs case n alone.
 * A failure names its case number, which reproduces it.
 */
import {
  GetSecretValueCommand,
  ListSecretVersionIdsCommand,
  PutSecretValueCommand,
  UpdateSecretVersionStageCommand,
} from '@aws-sdk/client-secrets-manager';
import type { ConflictPolicyName } from '../../src/secret-replicator/contract';
import { ReplicatorEnv } from '../../src/secret-replicator/contract';
import { startFaultProxy } from '../harness/fault-proxy';
import { startMotoServer } from '../harness/moto';
import { cloudTrailEvent, OutputCapture, SecretsWorld } from '../harness/world';

const PRIMARY = 'us-east-1';
const REPLICAS = ['eu-west-1', 'ap-southeast-2'];
const CASES = Number(process.env.CONVERGENCE_CASES ?? 200);
const ONLY_CASE = process.env.CONVERGENCE_CASE !== undefined ? Number(process.env.CONVERGENCE_CASE) : undefined;
/** Random actions per case: enough for rotations, rollbacks and races to overlap in a small world. */
const STEPS = 9;

let moto: Awaited<ReturnType<typeof startMotoServer>>;
let proxy: Awaited<ReturnType<typeof startFaultProxy>>;
let world: SecretsWorld;
let key: string;
let keyArn: string;
const output = new OutputCapture();
const savedEnv = { ...process.env };

/* eslint-disable @typescript-eslint/no-require-imports -- loaded after the environment points at the proxy */
let SecretReplicator: any;
let parseInvocation: any;
let ClientCache: any;
let JitteredRetryStrategy: any;
let KeyedHasher: any;
let ReplicaVersionIds: any;

beforeAll(async () => {
  moto = await startMotoServer();
  proxy = await startFaultProxy({ target: moto.endpoint, seed: 1, standIns: { awsCurrentReads: true, singleCurrentStage: true } });
  Object.assign(process.env, {
    AWS_ENDPOINT_URL: proxy.endpoint,
    AWS_ACCESS_KEY_ID: 'testing',
    AWS_SECRET_ACCESS_KEY: 'testing',
    AWS_REGION: PRIMARY,
    [ReplicatorEnv.METRIC_NAMESPACE]: 'CrossRegionConfig',
    [ReplicatorEnv.SERVICE_NAME]: 'Convergence',
  });
  delete process.env.AWS_SESSION_TOKEN;
  delete process.env.AWS_PROFILE;
  world = new SecretsWorld(proxy.endpoint);
  key = world.newValue('hmac-key-material-0123456789abcdef0123456789');
  keyArn = await world.create(PRIMARY, 'convergence/provenance-key', key);
  ({ SecretReplicator } = require('../../lambda-src/shared/secrets/replicator'));
  ({ parseInvocation } = require('../../lambda-src/secret-replicator/events'));
  ({ ClientCache } = require('../../lambda-src/shared/clients'));
  ({ JitteredRetryStrategy } = require('../../lambda-src/shared/retry'));
  ({ KeyedHasher } = require('../../lambda-src/shared/hmac'));
  ({ ReplicaVersionIds } = require('../../lambda-src/shared/secrets/version-id'));
  output.start();
});
/* eslint-enable @typescript-eslint/no-require-imports */

afterAll(async () => {
  output.stop();
  await proxy?.stop();
  await moto?.stop();
  process.env = savedEnv;
});

/** mulberry32: a small, well-distributed 32-bit PRNG; returns numbers in [0, 1). */
function mulberry32(n: number): () => number {
  /* eslint-disable no-bitwise -- the algorithm is defined in 32-bit integer arithmetic */
  let state = n >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = Math.imul(state ^ (state >>> 15), state | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
  /* eslint-enable no-bitwise */
}

/**
 * An execution environment: the replicator as the handler builds it, with fast retries (an outage
 * fails in milliseconds rather than the production backoff's seconds). Events are handled as the
 * handler does: parsed, synced, and failed (so Lambda retries them) when a region failed.
 */
function environment(names: string[], policy: ConflictPolicyName) {
  const clients = new ClientCache(PRIMARY, new JitteredRetryStrategy({ maxAttempts: 2, baseDelayMs: 1, maxDelayMs: 4 }));
  const replicator = new SecretReplicator({
    primaryRegion: PRIMARY,
    targets: REPLICAS.map((region) => ({ region })),
    selection: { rules: [{ names }] },
    conflictPolicy: policy,
    replicateTags: true,
    propagateDeletions: false,
    deletionRecoveryWindowDays: 7,
    provenanceKeySecretArn: keyArn,
  }, clients, new KeyedHasher(key), () => new Date(), false);
  return {
    async event(event: unknown): Promise<boolean> {
      const invocation = parseInvocation(event);
      const results = await replicator.syncOne(invocation.change.secretId, { change: invocation.change.kind });
      return results.every((r: any) => r.outcome !== 'failed');
    },
    async reconcile(): Promise<any[]> {
      return replicator.reconcile();
    },
  };
}

async function stagesOf(region: string, name: string): Promise<Record<string, string[]>> {
  return (await world.describe(region, name))?.VersionIdsToStages ?? {};
}
const labelled = (stages: Record<string, string[]>, label: string) => Object.keys(stages).find((v) => stages[v].includes(label));

async function runCase(n: number): Promise<void> {
  const random = mulberry32(n);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)];
  const policy: ConflictPolicyName = random() < 0.5 ? 'PRIMARY_WINS' : 'SKIP_AND_ALARM';
  const names = [`cv${n}/a`, `cv${n}/b`];
  const envs = [environment(names, policy), environment(names, policy)];
  const queue: unknown[] = [];
  const mark = output.lines.length;
  const sm = (region: string) => world.client(region);

  for (const name of names) {
    const arn = await world.create(PRIMARY, name, world.newValue(`cv${n}`));
    queue.push(cloudTrailEvent('CreateSecret', arn));
  }

  /** Delivers one queued event (any of them: EventBridge does not keep order) to an environment. */
  const deliver = async (env: ReturnType<typeof environment>) => {
    if (queue.length === 0) return;
    const index = Math.floor(random() * queue.length);
    const event = queue[index];
    // EventBridge delivers at least once: sometimes the event stays queued for a second delivery.
    if (random() >= 0.25) queue.splice(index, 1);
    const ok = await env.event(event).catch(() => false);
    // A failed invocation is retried by Lambda: the event comes back.
    if (!ok) queue.push(event);
  };

  /** Optionally takes a replica region down (or has it ignore writes) for the length of `run`. */
  const withTrouble = async (run: () => Promise<unknown>) => {
    const roll = random();
    if (roll < 0.15) proxy.addRule({ region: pick(REPLICAS), fault: 'server-error' });
    else if (roll < 0.22) proxy.addRule({ region: pick(REPLICAS), operation: 'UpdateSecret', fault: 'ignore-write' });
    try {
      await run();
    } finally {
      proxy.clearRules();
    }
  };

  for (let step = 0; step < STEPS; step++) {
    const roll = random();
    const name = pick(names);
    if (roll < 0.2) {
      await sm(PRIMARY).send(new PutSecretValueCommand({ SecretId: name, SecretString: world.newValue(`cv${n}-w`) }));
      queue.push(cloudTrailEvent('PutSecretValue', name));
    } else if (roll < 0.3) {
      // Rotation step: a new AWSPENDING version, never to be replicated as it is.
      await sm(PRIMARY).send(new PutSecretValueCommand({ SecretId: name, SecretString: world.newValue(`cv${n}-p`), VersionStages: ['AWSPENDING'] }));
      queue.push(cloudTrailEvent('PutSecretValue', name));
    } else if (roll < 0.42) {
      // Finish a rotation (AWSCURRENT to AWSPENDING) or roll back (AWSCURRENT to AWSPREVIOUS).
      const stages = await stagesOf(PRIMARY, name);
      const current = labelled(stages, 'AWSCURRENT');
      const pending = labelled(stages, 'AWSPENDING');
      const previous = labelled(stages, 'AWSPREVIOUS');
      const to = pending && pending !== current && random() < 0.6 ? pending : previous;
      if (to && to !== current) {
        await sm(PRIMARY).send(new UpdateSecretVersionStageCommand({ SecretId: name, VersionStage: 'AWSCURRENT', MoveToVersionId: to, RemoveFromVersionId: current }));
        if (to === pending) {
          await sm(PRIMARY).send(new UpdateSecretVersionStageCommand({ SecretId: name, VersionStage: 'AWSPENDING', RemoveFromVersionId: pending }));
        }
        queue.push(cloudTrailEvent(to === pending ? 'RotationSucceeded' : 'UpdateSecretVersionStage', name));
      }
    } else if (roll < 0.48) {
      // Someone edits a replica in its own region (a conflict: with SKIP_AND_ALARM it would stay, so only with PRIMARY_WINS).
      const region = pick(REPLICAS);
      if (policy === 'PRIMARY_WINS' && await world.describe(region, name)) {
        await sm(region).send(new PutSecretValueCommand({ SecretId: name, SecretString: world.newValue(`cv${n}-edit`) }));
      }
    } else if (roll < 0.75) {
      await withTrouble(() => deliver(pick(envs)));
    } else if (roll < 0.9) {
      // Two execution environments at once.
      await withTrouble(() => Promise.all([deliver(envs[0]), deliver(envs[1])]));
    } else {
      await withTrouble(() => pick(envs).reconcile());
    }
  }

  // Quiescence: no faults, one reconciliation by a fresh environment.
  proxy.clearRules();
  const final = await environment(names, policy).reconcile();
  const failed = final.filter((r: any) => r.outcome === 'failed');
  if (failed.length > 0) throw new Error(`final reconciliation failed: ${JSON.stringify(failed)}`);

  const ids = new ReplicaVersionIds(new KeyedHasher(key));
  for (const name of names) {
    const primary = await world.describe(PRIMARY, name);
    const source = labelled(primary!.VersionIdsToStages!, 'AWSCURRENT');
    for (const region of REPLICAS) {
      await world.expectSameValue(name, PRIMARY, region);
      const current = labelled(await stagesOf(region, name), 'AWSCURRENT');
      if (!ids.isCopyOf(current, primary!.ARN, source, { region })) {
        throw new Error(`${name} in ${region}: AWSCURRENT ${current} is not the replicator's copy of the primary's ${source}`);
      }
    }
  }

  // Every reported write landed: the version exists, was reported once, and holds the value it claims.
  const reported = output.logs(mark).filter((l) => l.message === 'replica written' && l.replicaVersionId && names.includes(l.secretName));
  const seen = new Set<string>();
  for (const r of reported) {
    const where = `${r.secretName} in ${r.region}: reported version ${r.replicaVersionId}`;
    if (seen.has(`${r.region}|${r.replicaVersionId}`)) throw new Error(`${where} was reported twice`);
    seen.add(`${r.region}|${r.replicaVersionId}`);
    const versions = await sm(r.region).send(new ListSecretVersionIdsCommand({ SecretId: r.secretName, IncludeDeprecated: true }));
    if (!versions.Versions?.some((v) => v.VersionId === r.replicaVersionId)) throw new Error(`${where} does not exist`);
    const primaryArn = (await world.describe(PRIMARY, r.secretName))!.ARN!;
    const claimed = ids.verify(r.replicaVersionId, primaryArn, { region: r.region });
    if (!claimed) throw new Error(`${where} is not a replicator version id`);
    const [copy, original] = await Promise.all([
      sm(r.region).send(new GetSecretValueCommand({ SecretId: r.secretName, VersionId: r.replicaVersionId })),
      sm(PRIMARY).send(new GetSecretValueCommand({ SecretId: r.secretName, VersionId: claimed.sourcePart })),
    ]);
    if (copy.SecretString !== original.SecretString) throw new Error(`${where} does not hold the value of primary version ${claimed.sourcePart}`);
  }
}

test(`converges from ${ONLY_CASE !== undefined ? `case ${ONLY_CASE}` : `${CASES} random interleavings`}, and reports only writes that landed`, async () => {
  const cases = ONLY_CASE !== undefined ? [ONLY_CASE] : Array.from({ length: CASES }, (_, i) => i + 1);
  let writes = 0;
  for (const n of cases) {
    const before = output.lines.length;
    try {
      await runCase(n);
    } catch (e) {
      proxy.clearRules();
      // Values never appear in these messages: only names, regions and version ids.
      throw new Error(`convergence case ${n} failed (rerun with CONVERGENCE_CASE=${n}): ${(e as Error).message}`);
    }
    writes += output.logs(before).filter((l) => l.message === 'replica written').length;
  }
  // The cases must actually exercise writes, not pass vacuously.
  expect(writes).toBeGreaterThan(cases.length * 2);
}, 600_000);

test('no secret value appears in any log line of the randomized runs', () => {
  const all = output.lines.join('\n');
  expect(world.issuedValues.length).toBeGreaterThan(10);
  expect(world.issuedValues.filter((v) => all.includes(v)).length).toBe(0);
});
