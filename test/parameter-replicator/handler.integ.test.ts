/**
 * The parameter replicator handler end to end against moto server (one primary, two replica
 * regions), through the fault-injecting proxy. Runs on the Lambda runtime's Node major.
 *
 * moto gaps, each covered here by a stand-in or named where it matters:
 * - moto accepts values of any length in any tier and lets an Advanced parameter become Standard:
 *   the fault proxy's `ssmStandIns.tierLimits` answers as Parameter Store does.
 * - moto enforces no IAM and no KMS: a SecureString "encrypted" under any key id decrypts; the tests
 *   check the key id each replica records, not a KMS policy.
 * - moto does not check that an `aws:ec2:image` value names an AMI of that region.
 * - moto reports `LastModifiedUser` as "N/A" (the handler does not use it: provenance is the HMAC tag).
 * - moto emits no EventBridge events: the tests hand the handler `Parameter Store Change` events.
 */
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { CreateSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { LabelParameterVersionCommand, RemoveTagsFromResourceCommand } from '@aws-sdk/client-ssm';
import { contractEnv, linesWithValues, parameterEvent, ParametersWorld } from './world';
import { ParameterProvenanceTag, ParameterReplicatorEnv as Env } from '../../src/parameter-replicator/contract';
import { SETTINGS_CHUNK_MAGIC, SETTINGS_DOCUMENT_ENV } from '../../src/private/settings-contract';
import { FaultProxy, startFaultProxy } from '../harness/fault-proxy';
import { awsTestEnv, MotoServer, REPO_ROOT, startMotoServer } from '../harness/moto';
import { OutputCapture } from '../harness/world';

const PRIMARY = 'us-east-1';
const REPLICAS = ['eu-west-1', 'ap-southeast-2'];
const SERVICE = 'ParameterReplicatorUnderTest';
const BUNDLE = path.join(REPO_ROOT, 'assets', 'lambda-src', 'parameter-replicator', 'index.lambda', 'index.js');
const HMAC_KEY = 'parameter-provenance-key-0123456789abcdef0123456789';

type Handler = (event: unknown) => Promise<any>;

let moto: MotoServer;
let proxy: FaultProxy;
let world: ParametersWorld;
let keyArn: string;
const output = new OutputCapture();
const savedEnv = { ...process.env };
let createHandler: (env: NodeJS.ProcessEnv, options?: any) => Handler;
let testNumber = 0;
/** Writes the handler reported and `checkedWrites` found holding the expected value. */
let checkedWriteCount = 0;

/** The environment of a handler replicating `path` (each test its own path). */
function env(paths: string[], overrides: Record<string, string> = {}): NodeJS.ProcessEnv {
  return {
    ...process.env,
    [Env.PRIMARY_REGION]: PRIMARY,
    [Env.REPLICA_TARGETS]: JSON.stringify(REPLICAS.map((region) => ({ region }))),
    [Env.SELECTION]: JSON.stringify({ paths }),
    [Env.CONFLICT_POLICY]: 'PRIMARY_WINS',
    [Env.REPLICATE_TAGS]: 'true',
    [Env.PROPAGATE_DELETIONS]: 'false',
    [Env.WRITES_PER_SECOND]: '50',
    [Env.PROVENANCE_KEY_SECRET_ARN]: keyArn,
    ...overrides,
  };
}

/** A fresh path for one test. */
function freshPath(): string {
  return `/it${++testNumber}`;
}

beforeAll(async () => {
  moto = await startMotoServer();
  proxy = await startFaultProxy({ target: moto.endpoint, seed: 17, ssmStandIns: { tierLimits: true } });
  Object.assign(process.env, {
    AWS_ENDPOINT_URL: proxy.endpoint,
    AWS_ACCESS_KEY_ID: 'testing',
    AWS_SECRET_ACCESS_KEY: 'testing',
    AWS_REGION: PRIMARY,
    [Env.METRIC_NAMESPACE]: 'CrossRegionConfig',
    [Env.SERVICE_NAME]: SERVICE,
  });
  delete process.env.AWS_SESSION_TOKEN;
  delete process.env.AWS_PROFILE;
  world = new ParametersWorld(moto.endpoint);
  const sm = new SecretsManagerClient({ region: PRIMARY, endpoint: moto.endpoint, credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' } });
  keyArn = (await sm.send(new CreateSecretCommand({ Name: 'cross-region-config/parameter-provenance-key', SecretString: HMAC_KEY }))).ARN!;
  world.values.add(HMAC_KEY);
  // Imported only now: Powertools reads POWERTOOLS_* when the module loads.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  createHandler = checkedWrites(require('../../lambda-src/parameter-replicator/handler').createHandler);
  output.start();
}, 60_000);

afterAll(async () => {
  output.stop();
  await proxy?.stop();
  await moto?.stop();
  process.env = savedEnv;
});

afterEach(() => proxy.clearRules());

/**
 * Wraps the handler factory so that every invocation's reported writes are checked at once: a
 * (parameter, region) reported `created`, `updated` or `conflict-overwritten` holds the primary's
 * current value, or the override declared for the region (no test changes a primary while an
 * in-process handler runs).
 */
function checkedWrites(factory: (env: NodeJS.ProcessEnv, options?: any) => Handler): (env: NodeJS.ProcessEnv, options?: any) => Handler {
  return (handlerEnv, options) => {
    const handler = factory(handlerEnv, options);
    let overrides: Array<{ name: string; region: string; value: string }> = JSON.parse(handlerEnv[Env.OVERRIDES] ?? '[]');
    let targets: Array<{ region: string; roleArn?: string }> = JSON.parse(handlerEnv[Env.REPLICA_TARGETS] ?? '[]');
    return async (event) => {
      if (handlerEnv[SETTINGS_DOCUMENT_ENV]) {
        // The growable settings are in the document (one chunk in these tests).
        const ref = JSON.parse(handlerEnv[SETTINGS_DOCUMENT_ENV]!);
        const chunk = (await world.get(PRIMARY, `${ref.path}/0`))!.Value;
        const variables = JSON.parse(chunk.slice(chunk.indexOf('\n') + 1));
        overrides = variables[Env.OVERRIDES] ?? [];
        targets = variables[Env.REPLICA_TARGETS] ?? [];
      }
      const mark = output.lines.length;
      const summary = await handler(event);
      // The engine logs every write it reports ('replica written', value-free).
      const written = output.lines.slice(mark).filter((l) => l.includes('"replica written"')).map((l) => JSON.parse(l));
      for (const w of written) {
        const target: { region: string; roleArn?: string } = targets.find((t) => t.region === w.region
          && (w.account === undefined || t.roleArn?.includes(w.account))) ?? { region: w.region };
        const expected = overrides.find((o) => o.name === w.parameterName && o.region === w.region)?.value
          ?? (await world.get(PRIMARY, w.parameterName))?.Value;
        const actual = (await world.get(w.region, w.parameterName, target.roleArn))?.Value;
        if (actual === undefined || actual !== expected) {
          const where = `${w.region}${target.roleArn ? ' (other account)' : ''}`;
          throw new Error(`${w.parameterName} was reported ${w.outcome} in ${where}, but does not hold the expected value`);
        }
        checkedWriteCount++;
      }
      return summary;
    };
  };
}

/** The replica holds exactly `value` (and the type) in `region`. */
async function expectReplica(region: string, name: string, value: string, type = 'String'): Promise<void> {
  const got = await world.get(region, name);
  if (got === undefined) throw new Error(`${name} is missing in ${region}`);
  if (got.Value !== value) throw new Error(`${name} in ${region} holds another value (${got.Value.length} characters, expected ${value.length})`);
  expect(got.Type).toBe(type);
}

function metric(name: string, region: string | undefined, mark: number): number {
  return output.metricSum(name, region ? { service: SERVICE, ReplicaRegion: region } : { service: SERVICE }, mark);
}

describe('events', () => {
  test('create: value, type, description, allowed pattern, tier and tags reach every replica region, with provenance', async () => {
    const root = freshPath();
    const name = `${root}/db/url`;
    const value = world.newValue('create');
    await world.put(PRIMARY, { Name: name, Value: value, Description: 'the database url', AllowedPattern: '^pv-.*$', Tags: [{ Key: 'team', Value: 'core' }] });
    const handler = createHandler(env([root]));
    const mark = output.lines.length;

    const summary = await handler(parameterEvent(name, 'Create'));

    expect(summary.outcomes).toEqual({ created: 2 });
    for (const region of REPLICAS) {
      await expectReplica(region, name, value);
      const current = await world.current(region, name);
      expect(current?.Description).toBe('the database url');
      expect(current?.AllowedPattern).toBe('^pv-.*$');
      expect(current?.Tier).toBe('Standard');
      const tags = await world.tags(region, name);
      expect(tags.team).toBe('core');
      expect(tags[ParameterProvenanceTag.SOURCE_REGION]).toBe(PRIMARY);
      expect(tags[ParameterProvenanceTag.SOURCE_VERSION]).toBe('1');
      expect(tags[ParameterProvenanceTag.CONTENT_HMAC]).toMatch(/^[0-9a-f]{64}$/);
      expect(metric('ReplicatedParameters', region, mark)).toBe(1);
      expect(metric('ReplicationLatency', region, mark)).toBeGreaterThanOrEqual(0);
    }
    expect(metric('ReplicatedParameters', undefined, mark)).toBe(2);
  });

  test('update: a new value, then a description-only change, then an untagged tag', async () => {
    const root = freshPath();
    const name = `${root}/feature`;
    await world.put(PRIMARY, { Name: name, Value: world.newValue('u1'), Tags: [{ Key: 'owner', Value: 'a' }] });
    const handler = createHandler(env([root]));
    await handler(parameterEvent(name, 'Create'));

    const v2 = world.newValue('u2');
    await world.put(PRIMARY, { Name: name, Value: v2, Overwrite: true });
    expect((await handler(parameterEvent(name))).outcomes).toEqual({ updated: 2 });
    for (const region of REPLICAS) await expectReplica(region, name, v2);

    await world.put(PRIMARY, { Name: name, Value: v2, Overwrite: true, Description: 'now described' });
    expect((await handler(parameterEvent(name))).outcomes).toEqual({ 'metadata-updated': 2 });
    for (const region of REPLICAS) expect((await world.current(region, name))?.Description).toBe('now described');

    await world.client(PRIMARY).send(new RemoveTagsFromResourceCommand({ ResourceType: 'Parameter', ResourceId: name, TagKeys: ['owner'] }));
    expect((await handler(parameterEvent(name))).outcomes).toEqual({ 'metadata-updated': 2 });
    for (const region of REPLICAS) expect((await world.tags(region, name)).owner).toBeUndefined();
    // Nothing left to do: the same event again writes nothing.
    expect((await handler(parameterEvent(name))).outcomes).toEqual({ 'in-sync': 2 });
  });

  test('StringList keeps its type and its list', async () => {
    const root = freshPath();
    const name = `${root}/hosts`;
    const value = `${world.newValue('a')},${world.newValue('b')},${world.newValue('c')}`;
    await world.put(PRIMARY, { Name: name, Value: value, Type: 'StringList' });
    await createHandler(env([root]))(parameterEvent(name, 'Create', 'StringList'));
    for (const region of REPLICAS) await expectReplica(region, name, value, 'StringList');
  });

  test('SecureString: each replica region encrypts under its own key; alias/aws/ssm by default', async () => {
    const root = freshPath();
    const name = `${root}/password`;
    const value = world.newValue('secure');
    await world.put(PRIMARY, { Name: name, Value: value, Type: 'SecureString', KeyId: 'alias/primary-key' });
    const targets = [{ region: 'eu-west-1', kmsKeyId: 'alias/eu-replicas' }, { region: 'ap-southeast-2' }];
    await createHandler(env([root], { [Env.REPLICA_TARGETS]: JSON.stringify(targets) }))(parameterEvent(name, 'Create', 'SecureString'));
    for (const region of REPLICAS) await expectReplica(region, name, value, 'SecureString');
    expect((await world.current('eu-west-1', name))?.KeyId).toBe('alias/eu-replicas');
    expect((await world.current('ap-southeast-2', name))?.KeyId).toBe('alias/aws/ssm');
  });

  test('4 KB and 8 KB boundaries: exactly 4,096 bytes in Standard and 8,192 in Advanced are copied', async () => {
    const root = freshPath();
    const standard = `${root}/standard`;
    const advanced = `${root}/advanced`;
    // Multi-byte characters count as bytes: 2,048 two-byte characters are 4,096 bytes.
    const fourKb = world.newValue('s', 4096 - 2048) + 'é'.repeat(1024);
    expect(Buffer.byteLength(fourKb)).toBe(4096 - 2048 + 2048);
    const eightKb = world.newValue('a', 8192);
    await world.put(PRIMARY, { Name: standard, Value: fourKb });
    await world.put(PRIMARY, { Name: advanced, Value: eightKb, Tier: 'Advanced' });
    const handler = createHandler(env([root]));
    expect((await handler(parameterEvent(standard, 'Create'))).outcomes).toEqual({ created: 2 });
    expect((await handler(parameterEvent(advanced, 'Create'))).outcomes).toEqual({ created: 2 });
    for (const region of REPLICAS) {
      await expectReplica(region, standard, fourKb);
      await expectReplica(region, advanced, eightKb);
      expect((await world.current(region, advanced))?.Tier).toBe('Advanced');
    }
  });

  test('tier mismatch: a value too long for the replica region\'s tier is a clear, metered, value-free failure; the other region is written', async () => {
    const root = freshPath();
    const name = `${root}/big`;
    const value = world.newValue('big', 4097);
    await world.put(PRIMARY, { Name: name, Value: value, Tier: 'Advanced' });
    const targets = [{ region: 'eu-west-1', tier: 'Standard' }, { region: 'ap-southeast-2' }];
    const handler = createHandler(env([root], { [Env.REPLICA_TARGETS]: JSON.stringify(targets) }));
    const mark = output.lines.length;

    // A failure no retry can mend does not fail the invocation (a retry would fail the same way).
    const summary = await handler(parameterEvent(name, 'Create'));

    expect(summary.outcomes).toEqual({ failed: 1, created: 1 });
    expect(summary.failures).toEqual([expect.objectContaining({ region: 'eu-west-1', errorName: 'ValueTooLargeForTier', permanent: true })]);
    expect(await world.get('eu-west-1', name)).toBeUndefined();
    await expectReplica('ap-southeast-2', name, value);
    expect(metric('ReplicationFailures', 'eu-west-1', mark)).toBe(1);
    const logged = output.lines.slice(mark).filter((l) => l.includes('ValueTooLargeForTier'));
    expect(logged.join('\n')).toContain('4097 bytes, more than the Standard tier of the replica in eu-west-1 allows (4096 bytes)');
  });

  test('tier mismatch: an Advanced replica is never asked to become Standard (Parameter Store refuses it)', async () => {
    const root = freshPath();
    const name = `${root}/was-advanced`;
    await world.put(PRIMARY, { Name: name, Value: world.newValue('t1') });
    for (const region of REPLICAS) await world.put(region, { Name: name, Value: world.newValue('old'), Tier: 'Advanced' });
    const v = world.newValue('t2');
    await world.put(PRIMARY, { Name: name, Value: v, Overwrite: true });
    const summary = await createHandler(env([root]))(parameterEvent(name));
    expect(summary.failures).toEqual([]);
    for (const region of REPLICAS) {
      await expectReplica(region, name, v);
      expect((await world.current(region, name))?.Tier).toBe('Advanced');
    }
  });

  test('overrides: the declared value is written in its region, the primary\'s elsewhere; aws:ec2:image only through an override', async () => {
    const root = freshPath();
    const endpoint = `${root}/endpoint`;
    const ami = `${root}/ami`;
    await world.put(PRIMARY, { Name: endpoint, Value: world.newValue('ep') });
    await world.put(PRIMARY, { Name: ami, Value: 'ami-0123456789abcdef0', DataType: 'aws:ec2:image' });
    const euEndpoint = world.newValue('eu-endpoint');
    const overrides = [
      { name: endpoint, region: 'eu-west-1', value: euEndpoint },
      { name: ami, region: 'eu-west-1', value: 'ami-0fedcba9876543210' },
    ];
    const handler = createHandler(env([root], { [Env.OVERRIDES]: JSON.stringify(overrides) }));
    const mark = output.lines.length;

    expect((await handler(parameterEvent(endpoint))).outcomes).toEqual({ created: 2 });
    const amiSummary = await handler(parameterEvent(ami));

    await expectReplica('eu-west-1', endpoint, euEndpoint);
    await expectReplica('ap-southeast-2', endpoint, (await world.get(PRIMARY, endpoint))!.Value);
    const euAmi = await world.get('eu-west-1', ami);
    expect(euAmi).toEqual(expect.objectContaining({ Value: 'ami-0fedcba9876543210', DataType: 'aws:ec2:image' }));
    // No override for ap-southeast-2: never copied verbatim, reported.
    expect(await world.get('ap-southeast-2', ami)).toBeUndefined();
    expect(amiSummary.failures).toEqual([expect.objectContaining({ region: 'ap-southeast-2', errorName: 'RegionalValueWithoutOverride', permanent: true })]);
    expect(metric('ReplicationFailures', 'ap-southeast-2', mark)).toBe(1);

    // The override is the expected value: a reconciliation finds both regions in agreement.
    const again = await handler({ action: 'reconcile' });
    expect(again.outcomes['in-sync']).toBe(3);
  });

  test('out-of-order and duplicate events converge on the primary\'s current value, with one replica version per change seen', async () => {
    const root = freshPath();
    const name = `${root}/ordered`;
    const handler = createHandler(env([root]));
    const v1 = world.newValue('o1');
    await world.put(PRIMARY, { Name: name, Value: v1 });
    const created = parameterEvent(name, 'Create');
    const v2 = world.newValue('o2');
    await world.put(PRIMARY, { Name: name, Value: v2, Overwrite: true });
    const v3 = world.newValue('o3');
    await world.put(PRIMARY, { Name: name, Value: v3, Overwrite: true });

    // The newest event first, then the older ones, each twice.
    const outcomes = [];
    for (const event of [parameterEvent(name), created, created, parameterEvent(name), parameterEvent(name)]) {
      outcomes.push((await handler(event)).outcomes);
    }
    expect(outcomes[0]).toEqual({ created: 2 });
    for (const later of outcomes.slice(1)) expect(later).toEqual({ 'in-sync': 2 });
    for (const region of REPLICAS) {
      await expectReplica(region, name, v3);
      expect((await world.history(region, name)).length).toBe(1);
    }
  });

  test('concurrent duplicate deliveries in one process write each replica once or twice, and leave it in agreement', async () => {
    const root = freshPath();
    const name = `${root}/dup`;
    const value = world.newValue('dup');
    await world.put(PRIMARY, { Name: name, Value: value });
    const a = createHandler(env([root]));
    const b = createHandler(env([root]));
    const results = await Promise.all([a(parameterEvent(name)), b(parameterEvent(name)), a(parameterEvent(name))]);
    for (const r of results) expect(r.failures).toEqual([]);
    for (const region of REPLICAS) await expectReplica(region, name, value);
  });

  test.each(['PRIMARY_WINS', 'SKIP_AND_ALARM'])('%s: a replica edited in its own region is a conflict', async (policy) => {
    const root = freshPath();
    const name = `${root}/edited`;
    const handler = createHandler(env([root], { [Env.CONFLICT_POLICY]: policy }));
    const v1 = world.newValue('e1');
    await world.put(PRIMARY, { Name: name, Value: v1 });
    await handler(parameterEvent(name, 'Create'));
    const human = world.newValue('human');
    await world.put('eu-west-1', { Name: name, Value: human, Overwrite: true });
    const mark = output.lines.length;

    const event = await handler(parameterEvent(name));
    const reconciled = await handler({ action: 'reconcile' });

    expect(metric('Conflicts', 'ap-southeast-2', mark)).toBe(0);
    if (policy === 'SKIP_AND_ALARM') {
      expect(event.outcomes).toEqual({ 'conflict-skipped': 1, 'in-sync': 1 });
      expect(reconciled.outcomes).toEqual({ 'conflict-skipped': 1, 'in-sync': 1 });
      expect(metric('Conflicts', 'eu-west-1', mark)).toBe(2);
      await expectReplica('eu-west-1', name, human);
    } else {
      expect(event.outcomes).toEqual({ 'conflict-overwritten': 1, 'in-sync': 1 });
      expect(reconciled.outcomes).toEqual({ 'in-sync': 2 });
      expect(metric('Conflicts', 'eu-west-1', mark)).toBe(1);
      await expectReplica('eu-west-1', name, v1);
    }
  });

  test.each(['PRIMARY_WINS', 'SKIP_AND_ALARM'])('%s: the replicator\'s own older copy is repaired without a conflict, even when its tags were overtaken', async (policy) => {
    const root = freshPath();
    const name = `${root}/own`;
    const handler = createHandler(env([root], { [Env.CONFLICT_POLICY]: policy }));
    await world.put(PRIMARY, { Name: name, Value: world.newValue('own1') });
    await handler(parameterEvent(name, 'Create'));
    // Events lost: the primary moves on twice.
    await world.put(PRIMARY, { Name: name, Value: world.newValue('own2'), Overwrite: true });
    const v3 = world.newValue('own3');
    await world.put(PRIMARY, { Name: name, Value: v3, Overwrite: true });
    // In eu-west-1 a concurrent run's tag write overtook the value it describes.
    await world.tag('eu-west-1', name, { [ParameterProvenanceTag.CONTENT_HMAC]: '0'.repeat(64) });
    const mark = output.lines.length;

    const summary = await handler({ action: 'reconcile' });

    expect(summary.outcomes).toEqual({ updated: 2 });
    expect(metric('Conflicts', undefined, mark)).toBe(0);
    for (const region of REPLICAS) await expectReplica(region, name, v3);
  });
});

describe('between two OS processes running the shipped bundle', () => {
  beforeAll(() => {
    if (!fs.existsSync(BUNDLE)) throw new Error(`bundle not found at ${BUNDLE}: run "npx projen bundle" first`);
    const built = fs.statSync(BUNDLE).mtimeMs;
    const sources = ['lambda-src/parameter-replicator', 'lambda-src/shared/parameters', 'lambda-src/shared'].flatMap((dir) =>
      fs.readdirSync(path.join(REPO_ROOT, dir)).filter((f) => f.endsWith('.ts')).map((f) => path.join(REPO_ROOT, dir, f)));
    const newer = sources.filter((f) => fs.statSync(f).mtimeMs > built);
    if (newer.length > 0) throw new Error(`the bundle is older than ${path.relative(REPO_ROOT, newer[0])}: run "npx projen bundle" first`);
  });

  function runProcess(appId: string, handlerEnv: NodeJS.ProcessEnv, payload: unknown): Promise<any> {
    const script = `require(${JSON.stringify(BUNDLE)}).handler(${JSON.stringify(payload)})`
      + '.then((r) => process.stderr.write("RESULT" + JSON.stringify(r) + "\\n"), (e) => process.stderr.write("RESULT" + JSON.stringify({ error: e.name }) + "\\n"))';
    const childEnv = {
      PATH: process.env.PATH,
      ...awsTestEnv(proxy.endpoint),
      ...contractEnv(handlerEnv),
      AWS_SDK_UA_APP_ID: appId,
      [Env.METRIC_NAMESPACE]: 'CrossRegionConfig',
      [Env.SERVICE_NAME]: SERVICE,
    };
    return new Promise((resolve, reject) => {
      execFile(process.execPath, ['-e', script], { env: childEnv as NodeJS.ProcessEnv, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
        output.lines.push(...stdout.split('\n').filter((l) => l !== ''), ...stderr.split('\n').filter((l) => l !== ''));
        const line = stderr.split('\n').find((l) => l.startsWith('RESULT'));
        if (!line) reject(err ?? new Error('child printed no result'));
        else resolve(JSON.parse(line.slice('RESULT'.length)));
      });
    });
  }

  test('the slower writer\'s older copy lands last; it sees the primary moved on and writes again: no conflict, agreement without a reconciliation', async () => {
    const root = freshPath();
    const name = `${root}/raced`;
    const handlerEnv = env([root]);
    await world.put(PRIMARY, { Name: name, Value: world.newValue('r1') });
    await createHandler(handlerEnv)(parameterEvent(name, 'Create'));
    await world.put(PRIMARY, { Name: name, Value: world.newValue('r2'), Overwrite: true });

    // Writer A reads v2; the proxy holds its replica value writes until writer B has finished.
    let bDone!: () => void;
    const bFinished = new Promise<void>((resolve) => { bDone = resolve; });
    proxy.addDelay({ userAgent: 'app/writer-a', operation: 'PutParameter', delayMs: 200, until: bFinished });
    proxy.resetStats();
    const a = runProcess('writer-a', handlerEnv, parameterEvent(name));
    for (let waited = 0; (proxy.stats().byOperation['ssm:eu-west-1:GetParameter']?.forwarded ?? 0) < 1; waited += 20) {
      if (waited > 20_000) throw new Error('writer A never read the replica');
      await new Promise((r) => setTimeout(r, 20));
    }
    const v3 = world.newValue('r3');
    await world.put(PRIMARY, { Name: name, Value: v3, Overwrite: true });
    const mark = output.lines.length;
    const b = await runProcess('writer-b', handlerEnv, parameterEvent(name)).finally(() => bDone());
    expect(b.failures).toEqual([]);
    const aResult = await a;

    expect(aResult.failures).toEqual([]);
    for (const region of REPLICAS) await expectReplica(region, name, v3);
    expect(metric('Conflicts', undefined, mark)).toBe(0);
    // A's last round wrote the current value or found it there (which, depends on how far A got
    // in ap-southeast-2 before B wrote it): never a conflict, never a failure.
    expect(Object.keys(aResult.outcomes).every((o) => ['updated', 'in-sync', 'stale-skipped'].includes(o))).toBe(true);
    expect(Object.values(aResult.outcomes as Record<string, number>).reduce((x, y) => x + y, 0)).toBe(2);
    // A wrote its stale copy to eu-west-1 after B had finished, and then the current value again.
    expect(proxy.stats().byOperation['ssm:eu-west-1:PutParameter']?.forwarded).toBeGreaterThanOrEqual(3);
  }, 60_000);
});

describe('deletion', () => {
  test('off: the replica stays when the primary is deleted', async () => {
    const root = freshPath();
    const name = `${root}/kept`;
    const handler = createHandler(env([root]));
    const value = world.newValue('kept');
    await world.put(PRIMARY, { Name: name, Value: value });
    await handler(parameterEvent(name, 'Create'));
    await world.delete(PRIMARY, name);
    expect((await handler(parameterEvent(name, 'Delete'))).outcomes).toEqual({ 'deletion-not-propagated': 2 });
    expect((await handler({ action: 'reconcile' })).outcomes).toEqual({ 'deletion-not-propagated': 2 });
    for (const region of REPLICAS) await expectReplica(region, name, value);
  });

  test('on: replicas of a deleted primary are deleted, by event and by reconciliation; a parameter made in the replica region is kept', async () => {
    const root = freshPath();
    const handler = createHandler(env([root], { [Env.PROPAGATE_DELETIONS]: 'true' }));
    const byEvent = `${root}/by-event`;
    const bySchedule = `${root}/by-schedule`;
    const local = `${root}/local-only`;
    for (const name of [byEvent, bySchedule]) {
      await world.put(PRIMARY, { Name: name, Value: world.newValue('del') });
      await handler(parameterEvent(name, 'Create'));
    }
    const localValue = world.newValue('local');
    await world.put('eu-west-1', { Name: local, Value: localValue });
    await world.delete(PRIMARY, byEvent);
    await world.delete(PRIMARY, bySchedule);

    expect((await handler(parameterEvent(byEvent, 'Delete'))).outcomes).toEqual({ deleted: 2 });
    const reconciled = await handler({ action: 'reconcile' });
    expect(reconciled.outcomes).toEqual({ 'deleted': 2, 'deletion-not-propagated': 1 });
    for (const region of REPLICAS) {
      expect(await world.get(region, byEvent)).toBeUndefined();
      expect(await world.get(region, bySchedule)).toBeUndefined();
    }
    await expectReplica('eu-west-1', local, localValue);
  });

  test('on, SKIP_AND_ALARM: a replica edited in its region is not deleted; a primary recreated before the event is replicated', async () => {
    const root = freshPath();
    const handler = createHandler(env([root], { [Env.PROPAGATE_DELETIONS]: 'true', [Env.CONFLICT_POLICY]: 'SKIP_AND_ALARM' }));
    const name = `${root}/edited-then-deleted`;
    await world.put(PRIMARY, { Name: name, Value: world.newValue('d1') });
    await handler(parameterEvent(name, 'Create'));
    const human = world.newValue('d-human');
    await world.put('eu-west-1', { Name: name, Value: human, Overwrite: true });
    await world.delete(PRIMARY, name);
    expect((await handler(parameterEvent(name, 'Delete'))).outcomes).toEqual({ 'conflict-skipped': 1, 'deleted': 1 });
    await expectReplica('eu-west-1', name, human);

    const back = `${root}/back`;
    await world.put(PRIMARY, { Name: back, Value: world.newValue('b1') });
    await handler(parameterEvent(back, 'Create'));
    await world.delete(PRIMARY, back);
    const again = world.newValue('b2');
    await world.put(PRIMARY, { Name: back, Value: again });
    // The Delete event arrives after the parameter came back: it is replicated, not deleted.
    expect((await handler(parameterEvent(back, 'Delete'))).outcomes).toEqual({ updated: 2 });
    for (const region of REPLICAS) await expectReplica(region, back, again);
  });
});

test('a primary deleted and created again starts its versions anew: its replica is updated, not taken for a newer copy', async () => {
  const root = freshPath();
  const name = `${root}/reborn`;
  const handler = createHandler(env([root]));
  await world.put(PRIMARY, { Name: name, Value: world.newValue('r1') });
  await handler(parameterEvent(name, 'Create'));
  for (let i = 0; i < 3; i++) {
    await world.put(PRIMARY, { Name: name, Value: world.newValue('rn'), Overwrite: true });
    await handler(parameterEvent(name));
  }
  expect((await world.tags('eu-west-1', name))[ParameterProvenanceTag.SOURCE_VERSION]).toBe('4');
  await world.delete(PRIMARY, name);
  const again = world.newValue('reborn');
  await world.put(PRIMARY, { Name: name, Value: again });
  expect((await handler(parameterEvent(name, 'Create'))).outcomes).toEqual({ updated: 2 });
  for (const region of REPLICAS) await expectReplica(region, name, again);
});

test('selection by path, name pattern, tags and excluded path, for events and the reconciliation', async () => {
  const root = freshPath();
  const selection = { paths: [root], namePatterns: [`${root}/*/url`, `${root}/db/**`], tags: { replicate: 'yes' }, excludedPaths: [`${root}/db/local`] };
  const handler = createHandler(env([root], { [Env.SELECTION]: JSON.stringify(selection) }));
  const tagged = [{ Key: 'replicate', Value: 'yes' }];
  const cases: Array<[string, boolean, typeof tagged | undefined]> = [
    [`${root}/web/url`, true, tagged],
    [`${root}/db/a/b`, true, tagged],
    [`${root}/web/key`, false, tagged],
    [`${root}/web2/url`, false, [{ Key: 'replicate', Value: 'no' }]],
    [`${root}/api/url`, false, undefined],
    [`${root}/db/local/x`, false, tagged],
  ];
  for (const [name, , tags] of cases) await world.put(PRIMARY, { Name: name, Value: world.newValue('sel'), ...(tags ? { Tags: tags } : {}) });
  for (const [name, selected] of cases) expect((await handler(parameterEvent(name, 'Create'))).outcomes).toEqual(selected ? { created: 2 } : {});
  await world.put(PRIMARY, { Name: `${root}/late/url`, Value: world.newValue('sel-late'), Tags: tagged });
  expect((await handler({ action: 'reconcile' })).outcomes).toEqual({ 'in-sync': 4, 'created': 2 });
  for (const [name, selected] of [...cases, [`${root}/late/url`, true] as const]) {
    for (const region of REPLICAS) expect(await world.get(region, name) !== undefined).toBe(selected);
  }
});

test('a label change is a change event too: labels are not replicated, the replica is checked and left in agreement; a new replica key is applied', async () => {
  const root = freshPath();
  const name = `${root}/labelled`;
  const value = world.newValue('label');
  await world.put(PRIMARY, { Name: name, Value: value, Type: 'SecureString' });
  await createHandler(env([root]))(parameterEvent(name, 'Create', 'SecureString'));
  await world.client(PRIMARY).send(new LabelParameterVersionCommand({ Name: name, ParameterVersion: 1, Labels: ['stable'] }));
  expect((await createHandler(env([root]))(parameterEvent(name, 'LabelParameterVersion'))).outcomes).toEqual({ 'in-sync': 2 });
  for (const region of REPLICAS) expect((await world.current(region, name))?.Labels ?? []).toEqual([]);

  // The deployment now names a key for eu-west-1: the next event re-encrypts the replica there.
  const targets = [{ region: 'eu-west-1', kmsKeyId: 'alias/eu-new' }, { region: 'ap-southeast-2' }];
  const summary = await createHandler(env([root], { [Env.REPLICA_TARGETS]: JSON.stringify(targets) }))(parameterEvent(name));
  expect(summary.outcomes).toEqual({ 'metadata-updated': 1, 'in-sync': 1 });
  expect((await world.current('eu-west-1', name))?.KeyId).toBe('alias/eu-new');
  await expectReplica('eu-west-1', name, value, 'SecureString');
});

describe('targets and failures', () => {
  test('cross-account: replicas are written through the assumed role into the other account', async () => {
    const root = freshPath();
    const name = `${root}/x-account`;
    const roleArn = 'arn:aws:iam::111111111111:role/replica-writer';
    const value = world.newValue('xacct');
    await world.put(PRIMARY, { Name: name, Value: value });
    const targets = [{ region: 'eu-west-1' }, { region: 'eu-west-1', roleArn }];
    const summary = await createHandler(env([root], { [Env.REPLICA_TARGETS]: JSON.stringify(targets) }))(parameterEvent(name, 'Create'));
    expect(summary.outcomes).toEqual({ created: 2 });
    expect(summary.failures).toEqual([]);
    expect((await world.get('eu-west-1', name, roleArn))?.Value).toBe(value);
    expect((await world.tags('eu-west-1', name, roleArn))[ParameterProvenanceTag.SOURCE_REGION]).toBe(PRIMARY);
    // The home account's replica and the other account's are different parameters.
    await expectReplica('eu-west-1', name, value);
  });

  test('one region down, then repaired: the event fails (retried), the reconciliation counts it, the next one converges', async () => {
    const root = freshPath();
    const names = [`${root}/a`, `${root}/b`, `${root}/c`];
    for (const name of names) await world.put(PRIMARY, { Name: name, Value: world.newValue('down') });
    const handler = createHandler(env([root]));
    proxy.addRule({ region: 'ap-southeast-2', service: 'ssm', fault: 'connection-refused' });
    const mark = output.lines.length;

    await expect(handler(parameterEvent(names[0], 'Create'))).rejects.toThrow(`replication of ${names[0]} failed in ap-southeast-2`);
    const down = await handler({ action: 'reconcile' });
    expect(down.outcomes).toEqual({ 'failed': 3, 'in-sync': 1, 'created': 2 });
    await expectReplica('eu-west-1', names[2], (await world.get(PRIMARY, names[2]))!.Value);
    expect(metric('ReplicationFailures', 'ap-southeast-2', mark)).toBe(4);
    expect(metric('SecondsSinceFullSync', 'eu-west-1', mark)).toBe(0);
    // ap-southeast-2 never agreed in this environment: no datapoint (breaching), and no total.
    expect(output.emf(mark).filter((d) => d.SecondsSinceFullSync !== undefined && d.ReplicaRegion === 'ap-southeast-2')).toEqual([]);
    expect(output.emf(mark).filter((d) => d.SecondsSinceFullSync !== undefined && d.ReplicaRegion === undefined)).toEqual([]);

    proxy.clearRules();
    const mark2 = output.lines.length;
    const repaired = await handler({ action: 'reconcile' });
    expect(repaired.failures).toEqual([]);
    expect(repaired.outcomes).toEqual({ 'created': 3, 'in-sync': 3 });
    for (const name of names) for (const region of REPLICAS) await expectReplica(region, name, (await world.get(PRIMARY, name))!.Value);
    expect(metric('SecondsSinceFullSync', undefined, mark2)).toBe(0);
  }, 120_000);

  test('30% throttling on every Parameter Store call: every replica is written, throttles are counted', async () => {
    const root = freshPath();
    const names = Array.from({ length: 25 }, (_, i) => `${root}/t${String(i).padStart(2, '0')}`);
    for (const name of names) await world.put(PRIMARY, { Name: name, Value: world.newValue('thr') });
    const handler = createHandler(env([root]));
    proxy.addRule({ service: 'ssm', fault: 'throttle', probability: 0.3 });
    const mark = output.lines.length;

    const summary = await handler({ action: 'reconcile' });
    // TooManyUpdates (concurrent updates of one parameter) is retried by the handler itself.
    proxy.clearRules();
    proxy.addRule({ service: 'ssm', operation: 'PutParameter', fault: 'too-many-updates', probability: 0.3 });
    proxy.addRule({ service: 'ssm', operation: 'AddTagsToResource', fault: 'too-many-updates', probability: 0.3 });
    for (const name of names.slice(0, 8)) await world.put(PRIMARY, { Name: name, Value: world.newValue('thr2'), Overwrite: true });
    const injectedBefore = proxy.stats().injected;
    const events = await Promise.all(names.slice(0, 8).map((name) => handler(parameterEvent(name))));

    expect(summary.failures).toEqual([]);
    expect(summary.outcomes).toEqual({ created: 50 });
    for (const event of events) expect(event.failures).toEqual([]);
    expect(proxy.stats().injected).toBeGreaterThan(injectedBefore);
    for (const name of names) for (const region of REPLICAS) await expectReplica(region, name, (await world.get(PRIMARY, name))!.Value);
    expect(metric('ThrottledRequests', undefined, mark)).toBeGreaterThan(0);
    expect(proxy.stats().injected).toBeGreaterThan(20);
  }, 180_000);

  test.each([
    ['null', null],
    ['an array', [1, 2]],
    ['an unknown action', { action: 'drop_tables' }],
    ['an action that is not a string', { action: 42 }],
    ['another service\'s event', { 'source': 'aws.s3', 'detail-type': 'Object Created', 'detail': {} }],
    ['no detail', { 'source': 'aws.ssm', 'detail-type': 'Parameter Store Change' }],
    ['no operation', { 'source': 'aws.ssm', 'detail-type': 'Parameter Store Change', 'detail': { name: '/x' } }],
    ['no name', { 'source': 'aws.ssm', 'detail-type': 'Parameter Store Change', 'detail': { operation: 'Update' } }],
    ['a name too long', { 'source': 'aws.ssm', 'detail-type': 'Parameter Store Change', 'detail': { operation: 'Update', name: '/n'.repeat(2000) } }],
  ])('malformed: %s fails the invocation with a clear error, is counted, and echoes no value', async (_label, payload) => {
    const handler = createHandler(env([freshPath()]));
    const secretish = world.newValue('payload');
    const withValue = payload && typeof payload === 'object' && !Array.isArray(payload) ? { ...payload, value: secretish } : payload;
    const mark = output.lines.length;
    await expect(handler(withValue)).rejects.toThrow(/unsupported payload|unknown action|carries no/);
    expect(metric('ReplicationFailures', undefined, mark)).toBe(1);
    expect(linesWithValues(output.lines.slice(mark), new Set([secretish]))).toBe(0);
  });

  test('an operation that changes nothing is ignored; a name outside the selection and a settings document are never replicated', async () => {
    const root = freshPath();
    const handler = createHandler(env(['/']));
    const ignored = await handler({ 'source': 'aws.ssm', 'detail-type': 'Parameter Store Change', 'detail': { operation: 'Archive', name: `${root}/x` } });
    expect(ignored.action).toBe('ignored');
    const settings = '/cdk-cross-region-config/Stack/Fn/abc/0';
    await world.put(PRIMARY, { Name: settings, Value: world.newValue('settings'), Overwrite: true });
    expect((await handler(parameterEvent(settings))).outcomes).toEqual({});
    const outside = createHandler(env([`${root}/only`]));
    await world.put(PRIMARY, { Name: `${root}/other`, Value: world.newValue('outside') });
    expect((await outside(parameterEvent(`${root}/other`))).outcomes).toEqual({});
    for (const region of REPLICAS) {
      expect(await world.get(region, settings)).toBeUndefined();
      expect(await world.get(region, `${root}/other`)).toBeUndefined();
    }
  });
});

describe('manual actions and the reconciliation', () => {
  test('test_sync writes nothing and emits no metric; reconcile then writes exactly what test_sync reported', async () => {
    const root = freshPath();
    for (let i = 0; i < 4; i++) await world.put(PRIMARY, { Name: `${root}/p${i}`, Value: world.newValue('dry') });
    const handler = createHandler(env([root]));
    proxy.resetStats();
    const mark = output.lines.length;
    const dry = await handler({ action: 'test_sync' });
    expect(dry).toEqual(expect.objectContaining({ dryRun: true, outcomes: { 'would-create': 8 } }));
    const writes = Object.entries(proxy.stats().byOperation).filter(([k]) => /PutParameter|AddTags|DeleteParameter/.test(k));
    expect(writes).toEqual([]);
    expect(output.emf(mark).filter((d) => d.ReplicatedParameters !== undefined || d.SecondsSinceFullSync !== undefined)).toEqual([]);
    expect((await handler({ action: 'reconcile' })).outcomes).toEqual({ created: 8 });
  });

  test('connectivity_test reports each region and the provenance key, and writes nothing', async () => {
    const handler = createHandler(env([freshPath()]));
    const report = await handler({ action: 'connectivity_test' });
    expect(report.regions.map((r: any) => [r.region, r.role, r.reachable])).toEqual([[PRIMARY, 'primary', true], ...REPLICAS.map((r) => [r, 'replica', true])]);
    for (const region of report.regions) expect(region.checks.every((c: any) => c.ok)).toBe(true);
  });

  test('steady state costs the lower bound: ⌈N/10⌉ reads in the primary and per region, no writes but the run lease\'s; a scheduled event reconciles', async () => {
    const root = freshPath();
    const n = 23;
    for (let i = 0; i < n; i++) await world.put(PRIMARY, { Name: `${root}/s${String(i).padStart(2, '0')}`, Value: world.newValue('steady') });
    const handler = createHandler(env([root]));
    expect((await handler({ 'detail-type': 'Scheduled Event', 'source': 'aws.events' })).outcomes).toEqual({ created: 2 * n });
    proxy.resetStats();
    const steady = await handler({ action: 'reconcile' });
    expect(steady.outcomes).toEqual({ 'in-sync': 2 * n });
    const calls = Object.fromEntries(Object.entries(proxy.stats().byOperation).map(([k, v]) => [k, v.forwarded + v.injected]));
    const pages = Math.ceil(n / 10);
    // The run lease (lambda-src/shared/lease.ts), whatever the selection's size: its records are
    // listed to find the latest (one page), the next one is created and then released, and the
    // older ones are listed and deleted.
    const lease = { GetParametersByPath: 2, GetParameter: 2, PutParameter: 2, DeleteParameters: 1 };
    expect(calls).toEqual({
      [`ssm:${PRIMARY}:GetParametersByPath`]: pages + lease.GetParametersByPath,
      [`ssm:${PRIMARY}:GetParameter`]: lease.GetParameter,
      [`ssm:${PRIMARY}:PutParameter`]: lease.PutParameter,
      [`ssm:${PRIMARY}:DeleteParameters`]: lease.DeleteParameters,
      ...Object.fromEntries(REPLICAS.map((r) => [`ssm:${r}:GetParametersByPath`, pages])),
    });
  });

  test('a reconciliation stops where shouldContinue says and resumes from its cursor', async () => {
    const root = freshPath();
    for (let i = 0; i < 6; i++) await world.put(PRIMARY, { Name: `${root}/c${i}`, Value: world.newValue('cur') });
    // Told to stop at once, every region still works one pair, so a chain always moves forward.
    const first = await createHandler(env([root]), { shouldContinue: () => false })({ action: 'reconcile' });
    expect(first.complete).toBe(false);
    expect(first.cursor).toEqual({ regions: REPLICAS.map((region, targetIndex) => ({ targetIndex, region, after: `${root}/c0` })) });
    expect(first.outcomes).toEqual({ created: REPLICAS.length });

    const rest = await createHandler(env([root]))({ action: 'reconcile', cursor: first.cursor });
    expect(rest.complete).toBe(true);
    // The rest of every region (c1 to c5).
    expect(rest.outcomes).toEqual({ created: 5 * REPLICAS.length });
    for (let i = 0; i < 6; i++) for (const region of REPLICAS) await expectReplica(region, `${root}/c${i}`, (await world.get(PRIMARY, `${root}/c${i}`))!.Value);
  });

  test('a cursor of the one-region-at-a-time releases resumes that region and the later ones only', async () => {
    const root = freshPath();
    for (let i = 0; i < 6; i++) await world.put(PRIMARY, { Name: `${root}/c${i}`, Value: world.newValue('old') });
    const last = REPLICAS.length - 1;
    const run = await createHandler(env([root]))({ action: 'reconcile', cursor: { targetIndex: last, after: `${root}/c2` } });
    expect(run.complete).toBe(true);
    expect(run.outcomes).toEqual({ created: 3 });
    for (let i = 0; i < 6; i++) {
      for (const [t, region] of REPLICAS.entries()) {
        expect({ i, region, exists: (await world.get(region, `${root}/c${i}`)) !== undefined }).toEqual({ i, region, exists: t === last && i > 2 });
      }
    }
    // A cursor that names a region the targets do not hold there is refused, counted and logged.
    await expect(createHandler(env([root]))({ action: 'reconcile', cursor: { regions: [{ targetIndex: 0, region: 'sa-east-1' }] } }))
      .rejects.toThrow('cursor names region sa-east-1 at targetIndex 0, which the replica targets no longer hold there');
  });
});

describe('settings and the cross-region-config document', () => {
  test('growable settings read from a settings document; its own parameters are never replicated, even with the path "/"', async () => {
    const root = freshPath();
    const name = `${root}/from-document`;
    const euValue = world.newValue('doc-override');
    await world.put(PRIMARY, { Name: name, Value: world.newValue('doc') });
    const version = `v${testNumber}abcdef`;
    const docPath = `/cdk-cross-region-config/Stack/ParamReplicator/${version}`;
    const variables = {
      [Env.REPLICA_TARGETS]: REPLICAS.map((region) => ({ region })),
      [Env.SELECTION]: { paths: ['/'], namePatterns: [`${root}/**`, '/cdk-cross-region-config/**'] },
      [Env.OVERRIDES]: [{ name, region: 'eu-west-1', value: euValue }],
    };
    await world.put(PRIMARY, { Name: `${docPath}/0`, Value: `${SETTINGS_CHUNK_MAGIC} ${version} 0/1\n${JSON.stringify(variables)}` });
    const base = env(['/unused']);
    for (const v of Object.keys(variables)) delete base[v];
    const handler = createHandler({
      ...base,
      [SETTINGS_DOCUMENT_ENV]: JSON.stringify({ path: docPath, version, chunks: 1, variables: Object.keys(variables) }),
    });

    expect((await handler(parameterEvent(name, 'Create'))).outcomes).toEqual({ created: 2 });
    await expectReplica('eu-west-1', name, euValue);
    expect((await handler(parameterEvent(`${docPath}/0`))).outcomes).toEqual({});
    const reconciled = await handler({ action: 'reconcile' });
    expect(reconciled.failures).toEqual([]);
    for (const region of REPLICAS) expect(await world.get(region, `${docPath}/0`)).toBeUndefined();
  });

  test('lastSyncTimestamp moves after a run in which every region agreed, and not after a skipped conflict', async () => {
    const root = freshPath();
    const name = `${root}/synced`;
    const config = `${root}-config/cross-region-config`;
    const stale = '2020-01-01T00:00:00Z';
    const document = { primaryRegion: PRIMARY, replicationRegions: [...REPLICAS].reverse(), lastSyncTimestamp: stale, syncInterval: 'PT6H' };
    await world.put(PRIMARY, { Name: config, Value: JSON.stringify(document) });
    await world.put(PRIMARY, { Name: name, Value: world.newValue('ls') });
    const handler = createHandler(env([root], { [Env.CONFIG_PARAMETER_NAME]: config, [Env.CONFLICT_POLICY]: 'SKIP_AND_ALARM' }));
    const stamp = async () => JSON.parse((await world.get(PRIMARY, config))!.Value).lastSyncTimestamp as string;

    await world.put('eu-west-1', { Name: name, Value: world.newValue('ls-human') });
    await handler({ action: 'reconcile' });
    expect(await stamp()).toBe(stale);

    await world.delete('eu-west-1', name);
    const before = Date.now();
    expect((await handler({ action: 'reconcile' })).failures).toEqual([]);
    expect(Date.parse(await stamp())).toBeGreaterThanOrEqual(Math.floor(before / 1000) * 1000);
    expect(JSON.parse((await world.get(PRIMARY, config))!.Value).syncInterval).toBe('PT6H');
  });
});

test('no log line, metric or result holds a parameter value', () => {
  // Values longer than 40 characters are searched by their distinctive first 40.
  const needles = new Set([...world.values].map((v) => (v.length > 40 ? v.slice(0, 40) : v)).filter((v) => v.length >= 12));
  expect(needles.size).toBeGreaterThan(50);
  expect(output.lines.length).toBeGreaterThan(100);
  expect(linesWithValues(output.lines, needles)).toBe(0);
  // And every write reported done was found holding its value (see checkedWrites).
  expect(checkedWriteCount).toBeGreaterThan(100);
});
