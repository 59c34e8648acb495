/**
 * The replicator's ordering and idempotency guarantees end to end against moto server, through the
 * fault proxy with its Secrets Manager stand-ins on: rotation rollbacks, write races (also between
 * two OS processes running the shipped bundle), AWSPENDING, the guard against writes that do not
 * land, the calls each path costs, bounded echoes, lastSyncTimestamp under an unpropagated
 * deletion, SecondsSinceFullSync, and AccessDenied on a replica that does not exist yet.
 *
 * Invariant checked throughout: after a run reports success for a secret, each replica's
 * AWSCURRENT value equals the primary's AWSCURRENT value and its version id is the replicator's
 * copy of exactly that primary version.
 */
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  BatchGetSecretValueCommand,
  CreateSecretCommand,
  DeleteSecretCommand,
  GetSecretValueCommand,
  PutSecretValueCommand,
  SecretsManagerClient,
  TagResourceCommand,
  UpdateSecretCommand,
  UpdateSecretVersionStageCommand,
} from '@aws-sdk/client-secrets-manager';
import { GetParameterCommand, PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { ReplicatorEnv } from '../../src/secret-replicator/contract';
import { startFaultProxy } from '../harness/fault-proxy';
import { awsTestEnv, REPO_ROOT, startMotoServer } from '../harness/moto';
import { cloudTrailEvent, OutputCapture, recordingHandlers, SecretsWorld } from '../harness/world';

const PRIMARY = 'us-east-1';
const REPLICAS = ['eu-west-1', 'ap-southeast-2'];
const SERVICE = 'ReplicatorOrdering';
const KEY_NAME = 'cross-region-config/provenance-key';
const BUNDLE = path.join(REPO_ROOT, 'assets', 'lambda-src', 'secret-replicator', 'index.lambda', 'index.js');

type Handler = (event: unknown) => Promise<any>;

let moto: Awaited<ReturnType<typeof startMotoServer>>;
let proxy: Awaited<ReturnType<typeof startFaultProxy>>;
let world: SecretsWorld;
let keyArn: string;
let key: string;
const output = new OutputCapture();
const results: string[] = [];
const savedEnv = { ...process.env };
let createHandler: (env: NodeJS.ProcessEnv) => Handler;
/* eslint-disable @typescript-eslint/no-require-imports */
const { KeyedHasher } = require('../../lambda-src/shared/hmac');
const { ReplicaVersionIds } = require('../../lambda-src/shared/secrets/version-id');
/* eslint-enable @typescript-eslint/no-require-imports */

function baseEnv(overrides: Record<string, string> = {}): NodeJS.ProcessEnv {
  return {
    ...process.env,
    [ReplicatorEnv.PRIMARY_REGION]: PRIMARY,
    [ReplicatorEnv.REPLICA_TARGETS]: JSON.stringify(REPLICAS.map((region) => ({ region }))),
    [ReplicatorEnv.SELECTION]: JSON.stringify({ rules: [{ namePrefixes: ['rot/'] }] }),
    [ReplicatorEnv.CONFLICT_POLICY]: 'PRIMARY_WINS',
    [ReplicatorEnv.PROVENANCE_KEY_SECRET_ARN]: keyArn,
    ...overrides,
  };
}

beforeAll(async () => {
  moto = await startMotoServer();
  proxy = await startFaultProxy({ target: moto.endpoint, seed: 11, standIns: { awsCurrentReads: true, singleCurrentStage: true } });
  Object.assign(process.env, {
    AWS_ENDPOINT_URL: proxy.endpoint,
    AWS_ACCESS_KEY_ID: 'testing',
    AWS_SECRET_ACCESS_KEY: 'testing',
    AWS_REGION: PRIMARY,
    [ReplicatorEnv.METRIC_NAMESPACE]: 'CrossRegionConfig',
    [ReplicatorEnv.SERVICE_NAME]: SERVICE,
  });
  delete process.env.AWS_SESSION_TOKEN;
  delete process.env.AWS_PROFILE;
  // The world writes through the proxy too, so its primary rollbacks get the stage stand-in.
  world = new SecretsWorld(proxy.endpoint);
  key = world.newValue('hmac-key-material-0123456789abcdef0123456789');
  keyArn = await world.create(PRIMARY, KEY_NAME, key);
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  createHandler = recordingHandlers(require('../../lambda-src/secret-replicator/handler').createHandler, results);
  output.start();
});

afterAll(async () => {
  output.stop();
  await proxy?.stop();
  await moto?.stop();
  process.env = savedEnv;
});

afterEach(() => proxy.clearRules());

const sm = (region: string) => world.client(region);

async function stages(region: string, name: string): Promise<Record<string, string[]>> {
  return (await world.describe(region, name))?.VersionIdsToStages ?? {};
}

async function currentVersion(region: string, name: string): Promise<string | undefined> {
  return Object.entries(await stages(region, name)).find(([, s]) => s.includes('AWSCURRENT'))?.[0];
}

/** Asserts the invariant for `name` in every replica region, without printing values. */
async function expectInvariant(name: string): Promise<void> {
  const ids = new ReplicaVersionIds(new KeyedHasher(key));
  const primary = await world.describe(PRIMARY, name);
  const source = await currentVersion(PRIMARY, name);
  for (const region of REPLICAS) {
    await world.expectSameValue(name, PRIMARY, region);
    const replicaCurrent = await currentVersion(region, name);
    if (!ids.isCopyOf(replicaCurrent, primary!.ARN, source, { region })) {
      throw new Error(`replica of ${name} in ${region}: AWSCURRENT ${replicaCurrent} is not the replicator's copy of ${source}`);
    }
  }
}

/** Secrets Manager calls the proxy forwarded since `proxy.resetStats()`, by operation (all regions). */
function callsByOperation(): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, counts] of Object.entries(proxy.stats().byOperation)) {
    const [service, , op] = k.split(':');
    if (service === 'secretsmanager' && counts.forwarded > 0) out[op] = (out[op] ?? 0) + counts.forwarded;
  }
  return out;
}
const total = (calls: Record<string, number>) => Object.values(calls).reduce((a, b) => a + b, 0);

describe('moto gaps the proxy stands in for', () => {
  const motoClient = (region: string) => new SecretsManagerClient({ region, endpoint: moto.endpoint, credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' } });

  async function rolledBack(name: string) {
    const c = motoClient(PRIMARY);
    const v1 = world.newValue('gap-v1');
    await world.create(PRIMARY, name, v1);
    const first = (await world.describe(PRIMARY, name))!;
    const v1Id = Object.keys(first.VersionIdsToStages!)[0];
    const second = await c.send(new PutSecretValueCommand({ SecretId: name, SecretString: world.newValue('gap-v2') }));
    await c.send(new UpdateSecretVersionStageCommand({ SecretId: name, VersionStage: 'AWSCURRENT', MoveToVersionId: v1Id, RemoveFromVersionId: second.VersionId }));
    return { c, v1, v1Id, v2Id: second.VersionId! };
  }

  test('gap: after UpdateSecretVersionStage moto reads the earlier version in BatchGetSecretValue and unstaged GetSecretValue; the proxy reads AWSCURRENT', async () => {
    const { c, v1Id, v2Id } = await rolledBack('gap/batch');
    const direct = await c.send(new BatchGetSecretValueCommand({ SecretIdList: ['gap/batch'] }));
    expect(direct.SecretValues![0].VersionId).toBe(v2Id); // moto: the stale default version
    expect((await c.send(new GetSecretValueCommand({ SecretId: 'gap/batch' }))).VersionId).toBe(v2Id);
    const viaProxy = await sm(PRIMARY).send(new BatchGetSecretValueCommand({ SecretIdList: ['gap/batch'] }));
    expect(viaProxy.SecretValues![0].VersionId).toBe(v1Id); // Secrets Manager: AWSCURRENT
    expect((await sm(PRIMARY).send(new GetSecretValueCommand({ SecretId: 'gap/batch' }))).VersionId).toBe(v1Id);
  });

  test('gap: after a stage move moto\'s next value write leaves two versions labelled AWSCURRENT; the proxy keeps one', async () => {
    const { c } = await rolledBack('gap/labels');
    await c.send(new PutSecretValueCommand({ SecretId: 'gap/labels', SecretString: world.newValue('gap-v3') }));
    const labelled = (s: Record<string, string[]>) => Object.values(s).filter((l) => l.includes('AWSCURRENT')).length;
    expect(labelled(await stages(PRIMARY, 'gap/labels'))).toBe(2); // moto
    await rolledBack('gap/labels-proxied');
    const written = await sm(PRIMARY).send(new PutSecretValueCommand({ SecretId: 'gap/labels-proxied', SecretString: world.newValue('gap-v3') }));
    const after = await stages(PRIMARY, 'gap/labels-proxied');
    expect(labelled(after)).toBe(1); // Secrets Manager
    expect(after[written.VersionId!]).toContain('AWSCURRENT');
    expect(Object.values(after).filter((l) => l.includes('AWSPREVIOUS'))).toHaveLength(1);
  });

  test('gap (undocumented answer): a repeated ClientRequestToken is ignored, and moto answers UpdateSecret with the current version id, PutSecretValue with the token', async () => {
    const c = motoClient(PRIMARY);
    const x = world.newValue('tok-x');
    await world.create(PRIMARY, 'gap/token', world.newValue('tok-0'));
    const token = 'repeat-token-0123456789abcdef0123456789';
    await c.send(new UpdateSecretCommand({ SecretId: 'gap/token', SecretString: x, ClientRequestToken: token }));
    const later = await c.send(new PutSecretValueCommand({ SecretId: 'gap/token', SecretString: world.newValue('tok-y') }));

    const repeatedUpdate = await c.send(new UpdateSecretCommand({ SecretId: 'gap/token', SecretString: x, ClientRequestToken: token }));
    const repeatedPut = await c.send(new PutSecretValueCommand({ SecretId: 'gap/token', SecretString: x, ClientRequestToken: token }));

    // As AWS documents, the writes are ignored, so AWSCURRENT does not move back: a "used up" token.
    expect(await currentVersion(PRIMARY, 'gap/token')).toBe(later.VersionId);
    // AWS does not document the answer; moto's differs by operation. The replicator never repeats a
    // token, and its guard accepts no answer but the token it sent.
    expect(repeatedUpdate.VersionId).toBe(later.VersionId);
    expect(repeatedPut.VersionId).toBe(token);
  });

  test('gap: moto lets a repeated token overwrite an AWSPENDING version with another value; AWS rejects it', async () => {
    const c = motoClient(PRIMARY);
    await world.create(PRIMARY, 'gap/pending', world.newValue('p0'));
    const token = 'pending-token-0123456789abcdef01234567';
    await c.send(new PutSecretValueCommand({ SecretId: 'gap/pending', SecretString: world.newValue('p1'), ClientRequestToken: token, VersionStages: ['AWSPENDING'] }));
    await expect(c.send(new PutSecretValueCommand({ SecretId: 'gap/pending', SecretString: world.newValue('p2'), ClientRequestToken: token, VersionStages: ['AWSPENDING'] })))
      .resolves.toBeDefined(); // AWS: "the request fails because you can't modify a secret version"
  });

  test('gap: moto enforces no IAM; the proxy answers AccessDeniedException where a test needs it', async () => {
    proxy.addRule({ region: 'eu-west-1', operation: 'DescribeSecret', fault: 'access-denied', times: 1 });
    await expect(world.describe('eu-west-1', 'anything')).rejects.toMatchObject({ name: 'AccessDeniedException' });
  });
});

describe('1. rotation rollback', () => {
  test('AWSPENDING is never replicated; completing the rotation and rolling it back both are, each as a new replica version', async () => {
    const handler = createHandler(baseEnv());
    const v1 = world.newValue('rot-v1');
    const arn = await world.create(PRIMARY, 'rot/db', v1);
    expect((await handler(cloudTrailEvent('CreateSecret', arn))).outcomes).toEqual({ created: 2 });
    const v1Id = (await currentVersion(PRIMARY, 'rot/db'))!;
    const firstCopy = await currentVersion('eu-west-1', 'rot/db');

    // Rotation step 1: AWSPENDING only. The replicas must not get it.
    const pendingValue = world.newValue('rot-pending');
    const pending = await sm(PRIMARY).send(new PutSecretValueCommand({ SecretId: 'rot/db', SecretString: pendingValue, VersionStages: ['AWSPENDING'] }));
    expect((await handler(cloudTrailEvent('PutSecretValue', 'rot/db'))).outcomes).toEqual({ 'in-sync': 2 });
    for (const region of REPLICAS) expect(await world.versionCount(region, 'rot/db')).toBe(1);

    // Rotation finishes: AWSCURRENT moves to the pending version.
    await sm(PRIMARY).send(new UpdateSecretVersionStageCommand({ SecretId: 'rot/db', VersionStage: 'AWSCURRENT', MoveToVersionId: pending.VersionId, RemoveFromVersionId: v1Id }));
    expect((await handler(cloudTrailEvent('UpdateSecretVersionStage', 'rot/db'))).outcomes).toEqual({ updated: 2 });
    await expectInvariant('rot/db');

    // Rollback: AWSCURRENT back to v1.
    await sm(PRIMARY).send(new UpdateSecretVersionStageCommand({ SecretId: 'rot/db', VersionStage: 'AWSCURRENT', MoveToVersionId: v1Id, RemoveFromVersionId: pending.VersionId }));
    const mark = output.lines.length;
    expect((await handler(cloudTrailEvent('UpdateSecretVersionStage', 'rot/db'))).outcomes).toEqual({ updated: 2 });
    await expectInvariant('rot/db');
    for (const region of REPLICAS) await world.expectValue(region, 'rot/db', v1);
    // A new version, not the first copy of v1 (whose token would have been "used up").
    expect(await currentVersion('eu-west-1', 'rot/db')).not.toBe(firstCopy);
    expect(output.metricSum('Conflicts', { service: SERVICE }, mark)).toBe(0);
  });

  test('a rollback found by the reconciliation is replicated too (BatchGetSecretValue reads AWSCURRENT)', async () => {
    const handler = createHandler(baseEnv());
    const v1 = world.newValue('recon-v1');
    const arn = await world.create(PRIMARY, 'rot/recon', v1);
    await handler(cloudTrailEvent('CreateSecret', arn));
    const v1Id = (await currentVersion(PRIMARY, 'rot/recon'))!;
    const v2 = await sm(PRIMARY).send(new PutSecretValueCommand({ SecretId: 'rot/recon', SecretString: world.newValue('recon-v2') }));
    await handler({ action: 'reconcile' });
    await sm(PRIMARY).send(new UpdateSecretVersionStageCommand({ SecretId: 'rot/recon', VersionStage: 'AWSCURRENT', MoveToVersionId: v1Id, RemoveFromVersionId: v2.VersionId }));

    const summary = await handler({ action: 'reconcile' });

    expect(summary.failures).toEqual([]);
    await expectInvariant('rot/recon');
    for (const region of REPLICAS) await world.expectValue(region, 'rot/recon', v1);
  });

  test('a write Secrets Manager ignores is never reported as written: the event fails for retry and dead-lettering, the reconciliation counts a failure, and the next run repairs', async () => {
    const handler = createHandler(baseEnv());
    const arn = await world.create(PRIMARY, 'rot/ignored', world.newValue('ign-v1'));
    await handler(cloudTrailEvent('CreateSecret', arn));
    await sm(PRIMARY).send(new PutSecretValueCommand({ SecretId: 'rot/ignored', SecretString: world.newValue('ign-v2') }));
    proxy.addRule({ region: 'eu-west-1', operation: 'UpdateSecret', fault: 'ignore-write' });
    const mark = output.lines.length;

    await expect(handler(cloudTrailEvent('PutSecretValue', 'rot/ignored'))).rejects.toThrow('replication of rot/ignored failed in eu-west-1');
    const summary = await handler({ action: 'reconcile' });

    expect(summary.failures.filter((f: any) => f.secretName === 'rot/ignored')).toEqual([
      expect.objectContaining({ region: 'eu-west-1', outcome: 'failed', errorName: 'ReplicaWriteNotApplied' }),
    ]);
    const written = output.logs(mark).filter((l) => l.message === 'replica written' && l.secretName === 'rot/ignored');
    expect(written.map((l) => l.region)).toEqual(['ap-southeast-2']);
    expect(output.metricSum('ReplicationFailures', { service: SERVICE, ReplicaRegion: 'eu-west-1' }, mark)).toBe(2);
    expect(output.metricSum('ReplicatedSecrets', { service: SERVICE, ReplicaRegion: 'eu-west-1' }, mark)).toBe(0);

    proxy.clearRules();
    expect((await handler({ action: 'reconcile' })).failures).toEqual([]);
    await expectInvariant('rot/ignored');
  });
});

describe('2. races are not conflicts', () => {
  /** Settings that select exactly `name`, so a reconciliation sees no other test's secrets. */
  const only = (name: string, policy: string) => baseEnv({
    [ReplicatorEnv.CONFLICT_POLICY]: policy,
    [ReplicatorEnv.SELECTION]: JSON.stringify({ rules: [{ names: [name] }] }),
  });

  /** Two replicators in one process: A read v2 and described the replicas before B wrote v3; A's write lands last. */
  async function lostRace(name: string, policy: string) {
    /* eslint-disable @typescript-eslint/no-require-imports */
    const { SecretReplicator } = require('../../lambda-src/shared/secrets/replicator');
    const { readSettings } = require('../../lambda-src/secret-replicator/handler');
    const { ClientCache } = require('../../lambda-src/shared/clients');
    /* eslint-enable @typescript-eslint/no-require-imports */
    const settings = readSettings(only(name, policy));
    const a = new SecretReplicator(settings, new ClientCache(PRIMARY), new KeyedHasher(key));
    const b = new SecretReplicator(settings, new ClientCache(PRIMARY), new KeyedHasher(key));
    await world.create(PRIMARY, name, world.newValue('race-v1'));
    await b.syncOne(name);
    await sm(PRIMARY).send(new PutSecretValueCommand({ SecretId: name, SecretString: world.newValue('race-v2') }));
    const readByA = await a.readPrimaryValue(name);
    const describedByA = await Promise.all(REPLICAS.map((region) => a.describeReplica({ region }, name)));
    await new Promise((r) => setTimeout(r, 5));
    await sm(PRIMARY).send(new PutSecretValueCommand({ SecretId: name, SecretString: world.newValue('race-v3') }));
    expect((await b.syncOne(name, { change: 'value' })).map((r: any) => r.outcome)).toEqual(['updated', 'updated']);
    const late = await Promise.all(REPLICAS.map((region, i) => a.apply(readByA, { region }, describedByA[i], false)));
    // A's write landed (it was AWSCURRENT when written); it is only out of date.
    expect(late.map((r: any) => r.outcome)).toEqual(['updated', 'updated']);
  }

  test.each(['PRIMARY_WINS', 'SKIP_AND_ALARM'])('%s: a replica the replicator itself left on an older version is repaired without a conflict', async (policy) => {
    const name = `rot/race-${policy.toLowerCase()}`;
    await lostRace(name, policy);
    const handler = createHandler(only(name, policy));
    const mark = output.lines.length;

    const summary = await handler({ action: 'reconcile' });

    expect(summary.failures).toEqual([]);
    await expectInvariant(name);
    expect(output.metricSum('Conflicts', { service: SERVICE }, mark)).toBe(0);
    expect((await handler({ action: 'reconcile' })).outcomes['conflict-skipped']).toBeUndefined();
  });

  test.each(['PRIMARY_WINS', 'SKIP_AND_ALARM'])('%s: a human edit in a replica region is still a conflict', async (policy) => {
    const name = `rot/human-${policy.toLowerCase()}`;
    const handler = createHandler(only(name, policy));
    await handler(cloudTrailEvent('CreateSecret', await world.create(PRIMARY, name, world.newValue('h1'))));
    const edit = world.newValue('human');
    await sm('eu-west-1').send(new PutSecretValueCommand({ SecretId: name, SecretString: edit }));
    const mark = output.lines.length;

    const summary = await handler({ action: 'reconcile' });

    expect(output.metricSum('Conflicts', { service: SERVICE, ReplicaRegion: 'eu-west-1' }, mark)).toBe(1);
    if (policy === 'SKIP_AND_ALARM') {
      expect(summary.outcomes['conflict-skipped']).toBe(1);
      await world.expectValue('eu-west-1', name, edit);
    } else {
      expect(summary.outcomes['conflict-overwritten']).toBe(1);
      await expectInvariant(name);
    }
  });

  describe('between two OS processes running the shipped bundle', () => {
    beforeAll(() => {
      if (!fs.existsSync(BUNDLE)) throw new Error(`bundle not found at ${BUNDLE}: run "npx projen bundle" first`);
      const built = fs.statSync(BUNDLE).mtimeMs;
      const sources = ['lambda-src/secret-replicator', 'lambda-src/shared'].flatMap((dir) =>
        fs.readdirSync(path.join(REPO_ROOT, dir)).filter((f) => f.endsWith('.ts')).map((f) => path.join(REPO_ROOT, dir, f)));
      const newer = sources.filter((f) => fs.statSync(f).mtimeMs > built);
      if (newer.length > 0) throw new Error(`the bundle is older than ${path.relative(REPO_ROOT, newer[0])}: run "npx projen bundle" first`);
    });

    /** Runs the bundle's handler once in a child process; resolves with its result or `{ error }`. */
    function runProcess(appId: string, env: NodeJS.ProcessEnv, payload: unknown): Promise<any> {
      const script = `require(${JSON.stringify(BUNDLE)}).handler(${JSON.stringify(payload)})`
        + '.then((r) => process.stderr.write("RESULT" + JSON.stringify(r) + "\\n"), (e) => process.stderr.write("RESULT" + JSON.stringify({ error: e.name }) + "\\n"))';
      const childEnv = { PATH: process.env.PATH, ...awsTestEnv(proxy.endpoint), ...pick(env), AWS_SDK_UA_APP_ID: appId };
      return new Promise((resolve, reject) => {
        execFile(process.execPath, ['-e', script], { env: childEnv as NodeJS.ProcessEnv, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
          results.push(stdout, stderr);
          output.lines.push(...stdout.split('\n').filter((l) => l !== ''));
          const line = stderr.split('\n').find((l) => l.startsWith('RESULT'));
          if (!line) reject(err ?? new Error('child printed no result'));
          else resolve(JSON.parse(line.slice('RESULT'.length)));
        });
      });
    }

    const pick = (env: NodeJS.ProcessEnv) => Object.fromEntries(Object.entries(env).filter(([k]) =>
      (Object.values(ReplicatorEnv) as string[]).includes(k)));

    const replicaDescribes = () => REPLICAS.reduce((n, region) => n + (proxy.stats().byOperation[`secretsmanager:${region}:DescribeSecret`]?.forwarded ?? 0), 0);

    test.each(['PRIMARY_WINS', 'SKIP_AND_ALARM'])('%s: the slower writer lands last; the next reconciliation repairs it without a conflict', async (policy) => {
      const name = `rot/proc-${policy.toLowerCase()}`;
      const env = only(name, policy);
      const handler = createHandler(env);
      await handler(cloudTrailEvent('CreateSecret', await world.create(PRIMARY, name, world.newValue('p1'))));
      await sm(PRIMARY).send(new PutSecretValueCommand({ SecretId: name, SecretString: world.newValue('p2') }));

      // Writer A reads v2 and describes the replicas; the proxy holds its replica writes until
      // writer B has finished (and 200 ms more), so A's older copy lands last.
      let bDone!: () => void;
      const bFinished = new Promise<void>((resolve) => { bDone = resolve; });
      proxy.addDelay({ userAgent: 'app/writer-a', operation: 'UpdateSecret', delayMs: 200, until: bFinished });
      proxy.resetStats();
      const a = runProcess('writer-a', env, cloudTrailEvent('PutSecretValue', name));
      for (let waited = 0; replicaDescribes() < REPLICAS.length; waited += 20) {
        if (waited > 20_000) throw new Error('writer A never described the replicas');
        await new Promise((r) => setTimeout(r, 20));
      }
      // Writer B reads v3 and writes it while A's writes are held.
      await sm(PRIMARY).send(new PutSecretValueCommand({ SecretId: name, SecretString: world.newValue('p3') }));
      const b = await runProcess('writer-b', env, cloudTrailEvent('PutSecretValue', name)).finally(() => bDone());
      expect(b.outcomes).toEqual({ updated: 2 });
      const aResult = await a;
      expect(aResult.outcomes).toEqual({ updated: 2 });
      // A's older copy is what the replicas now hold.
      await expect(world.expectSameValue(name, PRIMARY, 'eu-west-1')).rejects.toThrow('differs');

      const mark = output.lines.length;
      const repaired = await runProcess('reconciler', env, { action: 'reconcile' });
      expect(repaired.failures).toEqual([]);
      expect(repaired.outcomes['conflict-skipped']).toBeUndefined();
      await expectInvariant(name);
      expect(output.metricSum('Conflicts', { service: SERVICE }, mark)).toBe(0);
    });
  });
});

describe('4. Secrets Manager calls per changed secret (R = 2 replica regions)', () => {
  let handler: Handler;
  // Only this block's secret, so the reconciliation below has exactly nothing to do.
  const calls = { [ReplicatorEnv.SELECTION]: JSON.stringify({ rules: [{ namePrefixes: ['calls/'] }] }) };
  beforeAll(async () => {
    handler = createHandler(baseEnv(calls));
    await handler({ action: 'reconcile' }); // reads the provenance key once per execution environment
  });

  async function measure(run: () => Promise<unknown>) {
    proxy.resetStats();
    await run();
    return callsByOperation();
  }

  test('create: DescribeSecret and GetSecretValue in the primary, DescribeSecret and CreateSecret per region (2 + 2R = 6)', async () => {
    const arn = await world.create(PRIMARY, 'calls/db', world.newValue('c1'), { tags: { team: 'calls' } });
    const counted = await measure(() => handler(cloudTrailEvent('CreateSecret', arn)));
    expect(counted).toEqual({ DescribeSecret: 3, GetSecretValue: 1, CreateSecret: 2 });
  });

  test('value update: GetSecretValue in the primary, DescribeSecret and UpdateSecret per region (1 + 2R = 5)', async () => {
    await sm(PRIMARY).send(new PutSecretValueCommand({ SecretId: 'calls/db', SecretString: world.newValue('c2') }));
    const counted = await measure(() => handler(cloudTrailEvent('PutSecretValue', 'calls/db')));
    expect(counted).toEqual({ GetSecretValue: 1, DescribeSecret: 2, UpdateSecret: 2 });
    expect(total(counted)).toBe(1 + 2 * REPLICAS.length);
    await expectInvariant('calls/db');
  });

  test('duplicate event: GetSecretValue and DescribeSecret per region (1 + R = 3)', async () => {
    const counted = await measure(() => handler(cloudTrailEvent('PutSecretValue', 'calls/db')));
    expect(counted).toEqual({ GetSecretValue: 1, DescribeSecret: 2 });
  });

  test('rollback: as a value update (1 + 2R = 5)', async () => {
    const s = await stages(PRIMARY, 'calls/db');
    const current = Object.keys(s).find((v) => s[v].includes('AWSCURRENT'));
    const previous = Object.keys(s).find((v) => s[v].includes('AWSPREVIOUS'));
    await sm(PRIMARY).send(new UpdateSecretVersionStageCommand({ SecretId: 'calls/db', VersionStage: 'AWSCURRENT', MoveToVersionId: previous, RemoveFromVersionId: current }));
    const counted = await measure(() => handler(cloudTrailEvent('UpdateSecretVersionStage', 'calls/db')));
    expect(counted).toEqual({ GetSecretValue: 1, DescribeSecret: 2, UpdateSecret: 2 });
    await expectInvariant('calls/db');
  });

  test('metadata only (a tag added): DescribeSecret in the primary, DescribeSecret and TagResource per region (1 + 2R = 5)', async () => {
    await sm(PRIMARY).send(new TagResourceCommand({ SecretId: 'calls/db', Tags: [{ Key: 'tier', Value: 'gold' }] }));
    const counted = await measure(() => handler(cloudTrailEvent('TagResource', 'calls/db')));
    expect(counted).toEqual({ DescribeSecret: 3, TagResource: 2 });
  });

  test('reconcile with nothing to do: one ListSecrets page in the primary and per region, no value read', async () => {
    const counted = await measure(() => handler({ action: 'reconcile' }));
    expect(counted).toEqual({ ListSecrets: 1 + REPLICAS.length });
  });

  test('a selection by tags costs one DescribeSecret more on a value update (2 + 2R = 6)', async () => {
    const tagged = createHandler(baseEnv({ [ReplicatorEnv.SELECTION]: JSON.stringify({ rules: [{ tags: { team: 'calls' } }] }) }));
    await tagged({ action: 'test_sync' });
    await sm(PRIMARY).send(new PutSecretValueCommand({ SecretId: 'calls/db', SecretString: world.newValue('c3') }));
    const counted = await measure(() => tagged(cloudTrailEvent('PutSecretValue', 'calls/db')));
    expect(counted).toEqual({ GetSecretValue: 1, DescribeSecret: 3, UpdateSecret: 2 });
  });
});

describe('5. manual invocations', () => {
  test('an unknown action of 1 MiB is echoed as a sanitized prefix of at most 64 characters', async () => {
    const handler = createHandler(baseEnv());
    const huge = `evil\u0000\n${'x'.repeat(1024 * 1024)}`;
    const mark = output.lines.length;
    const error = await handler({ action: huge }).then(() => undefined, (e: Error) => e);
    expect(error?.message).toBe(`unknown action "evil??${'x'.repeat(58)}" (first 64 of 1048582 characters); `
      + 'expected one of test_sync, connectivity_test, reconcile');
    expect(output.lines.slice(mark).every((l) => l.length < 4096)).toBe(true);
  });

  test('an unknown event name is echoed the same way', async () => {
    const handler = createHandler(baseEnv());
    const event = cloudTrailEvent('PutSecretValue', 'rot/db');
    (event.detail as any).eventName = 'y'.repeat(100_000);
    const summary = await handler(event);
    expect(summary.action).toBe('ignored');
    const logged = output.logs().filter((l) => l.message === 'event ignored').pop();
    expect(logged?.reason.length).toBeLessThan(160);
  });
});

describe('6. lastSyncTimestamp', () => {
  const NAME = '/rot/production/global/secrets/cross-region-config';
  const ssm = () => new SSMClient({ region: PRIMARY, endpoint: moto.endpoint });

  test('moves while a selected primary is pending deletion and deletions are not propagated (an intended difference)', async () => {
    await ssm().send(new PutParameterCommand({
      Name: NAME, Type: 'String', Value: JSON.stringify({ primaryRegion: PRIMARY, replicationRegions: REPLICAS, lastSyncTimestamp: null }),
    }));
    const handler = createHandler(baseEnv({
      [ReplicatorEnv.CONFIG_PARAMETER_NAME]: NAME,
      [ReplicatorEnv.SELECTION]: JSON.stringify({ rules: [{ namePrefixes: ['lastsync/'] }] }),
    }));
    const arn = await world.create(PRIMARY, 'lastsync/kept', world.newValue('kept'));
    await world.create(PRIMARY, 'lastsync/live', world.newValue('live'));
    await handler(cloudTrailEvent('CreateSecret', arn));
    await sm(PRIMARY).send(new DeleteSecretCommand({ SecretId: arn, RecoveryWindowInDays: 7 }));

    const summary = await handler({ action: 'reconcile' });

    expect(summary.outcomes).toMatchObject({ 'deletion-not-propagated': 2, 'created': 2 });
    const doc = JSON.parse((await ssm().send(new GetParameterCommand({ Name: NAME }))).Parameter!.Value!);
    expect(doc.lastSyncTimestamp).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/);
  });
});

describe('7. SecondsSinceFullSync', () => {
  const selection = { [ReplicatorEnv.SELECTION]: JSON.stringify({ rules: [{ namePrefixes: ['fullsync/'] }] }) };

  test('every reconciliation emits 0 per region that fully agreed, and the total', async () => {
    const handler = createHandler(baseEnv(selection));
    await world.create(PRIMARY, 'fullsync/a', world.newValue('fa'));
    const mark = output.lines.length;
    await handler({ action: 'reconcile' });
    for (const region of REPLICAS) expect(output.metricSum('SecondsSinceFullSync', { service: SERVICE, ReplicaRegion: region }, mark)).toBe(0);
    expect(output.emf(mark).filter((d) => 'SecondsSinceFullSync' in d && !('ReplicaRegion' in d))).toHaveLength(1);
  });

  test('a region that stops agreeing reports its age where known, and leaves the total without a datapoint where not', async () => {
    const warm = createHandler(baseEnv(selection));
    await warm({ action: 'reconcile' });
    await new Promise((r) => setTimeout(r, 1100));
    await sm(PRIMARY).send(new PutSecretValueCommand({ SecretId: 'fullsync/a', SecretString: world.newValue('fb') }));
    proxy.addRule({ region: 'eu-west-1', fault: 'server-error' });

    let mark = output.lines.length;
    await warm({ action: 'reconcile' });
    const age = output.metricSum('SecondsSinceFullSync', { service: SERVICE, ReplicaRegion: 'eu-west-1' }, mark);
    expect(age).toBeGreaterThanOrEqual(1);
    expect(output.metricSum('SecondsSinceFullSync', { service: SERVICE, ReplicaRegion: 'ap-southeast-2' }, mark)).toBe(0);

    // A fresh execution environment has never seen eu-west-1 agree: no datapoint for it, no total.
    const cold = createHandler(baseEnv(selection));
    mark = output.lines.length;
    await cold({ action: 'reconcile' });
    const docs = output.emf(mark).filter((d) => 'SecondsSinceFullSync' in d);
    expect(docs.map((d) => d.ReplicaRegion)).toEqual(['ap-southeast-2']);
  });

  test('a dry run emits nothing', async () => {
    const handler = createHandler(baseEnv(selection));
    const mark = output.lines.length;
    await handler({ action: 'test_sync' });
    expect(output.emf(mark)).toEqual([]);
  });
});

describe('8. AccessDenied on a replica that does not exist yet (tag-scoped IAM)', () => {
  test('is read as absent: the replica is created and nothing is dead-lettered', async () => {
    const handler = createHandler(baseEnv());
    const arn = await world.create(PRIMARY, 'rot/denied', world.newValue('denied'));
    proxy.addRule({ operation: 'DescribeSecret', region: 'eu-west-1', fault: 'access-denied' });

    const summary = await handler(cloudTrailEvent('CreateSecret', arn));

    expect(summary.outcomes).toEqual({ created: 2 });
    proxy.clearRules();
    await expectInvariant('rot/denied');
  });

  test('a foreign secret holding the name is a conflict, not a failure', async () => {
    const handler = createHandler(baseEnv());
    const theirs = world.newValue('foreign');
    await world.create('eu-west-1', 'rot/foreign', theirs);
    const arn = await world.create(PRIMARY, 'rot/foreign', world.newValue('ours'));
    proxy.addRule({ operation: 'DescribeSecret', region: 'eu-west-1', fault: 'access-denied' });
    const mark = output.lines.length;

    const summary = await handler(cloudTrailEvent('CreateSecret', arn));

    expect(summary.outcomes).toEqual({ 'conflict-skipped': 1, 'created': 1 });
    expect(output.metricSum('Conflicts', { service: SERVICE, ReplicaRegion: 'eu-west-1' }, mark)).toBe(1);
    proxy.clearRules();
    await world.expectValue('eu-west-1', 'rot/foreign', theirs);
  });
});

describe('a primary without an AWSCURRENT value', () => {
  test('is never taken for a deleted one: its replicas stay, and the target counts as failed', async () => {
    const handler = createHandler(baseEnv({ [ReplicatorEnv.PROPAGATE_DELETIONS]: 'true' }));
    const created = await sm(PRIMARY).send(new CreateSecretCommand({ Name: 'rot/no-value' }));
    // A replica of it from before, carrying the replicator's tags.
    await sm('eu-west-1').send(new CreateSecretCommand({
      Name: 'rot/no-value',
      SecretString: world.newValue('old-copy'),
      Tags: [{ Key: 'cross-region-config:source-arn', Value: created.ARN }, { Key: 'cross-region-config:source-region', Value: PRIMARY }],
    }));

    for (const event of [cloudTrailEvent('CreateSecret', created.ARN!), cloudTrailEvent('PutSecretValue', 'rot/no-value')]) {
      await expect(handler(event)).rejects.toThrow('replication of rot/no-value failed');
    }
    expect((await world.describe('eu-west-1', 'rot/no-value'))?.DeletedDate).toBeUndefined();
  });
});

describe('secrecy', () => {
  test('no secret value appears in any log line, metric or result, in this process or the child processes', () => {
    expect(world.issuedValues.length).toBeGreaterThan(30);
    const all = [...output.lines, ...results].join('\n');
    const leaked = world.issuedValues.filter((v) => all.includes(v));
    // Report only how many leaked, never which (that would print them).
    expect(leaked.length).toBe(0);
    expect(output.logs().length).toBeGreaterThan(20);
  });
});
