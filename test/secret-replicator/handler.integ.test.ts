/**
 * The replicator handler end to end against moto server (one primary, two replica regions),
 * through a fault-injecting proxy. Runs on the Lambda runtime's Node major.
 */
import { tmpdir } from 'node:os';
import {
  DescribeSecretCommand,
  PutSecretValueCommand,
  SecretsManagerClient,
  RestoreSecretCommand,
  DeleteSecretCommand,
  TagResourceCommand,
  UntagResourceCommand,
  UpdateSecretCommand,
  UpdateSecretVersionStageCommand,
} from '@aws-sdk/client-secrets-manager';
import { GetParameterCommand, PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { fromTemporaryCredentials } from '@aws-sdk/credential-providers';
import { App, CfnElement, Stack } from 'aws-cdk-lib';
import { CrossRegionSecretReplicator, CrossRegionSecretReplicatorProps, SecretSelection } from '../../src';
import { ProvenanceTag, ReplicatorEnv } from '../../src/secret-replicator/contract';
import { startFaultProxy } from '../harness/fault-proxy';
import { EvaluationGroup, evaluateGroups } from '../harness/iam-evaluation';
import { IamRecorder, RecordedCall } from '../harness/iam-recorder';
import { startMotoServer } from '../harness/moto';
import { cloudTrailEvent, OutputCapture, recordingHandlers, SecretsWorld } from '../harness/world';

const PRIMARY = 'us-east-1';
const REPLICAS = ['eu-west-1', 'ap-southeast-2'];
/** The `service` of the handler: the evaluated stacks' own, so that the run lease's parameter path is the one their policies name. */
let SERVICE = 'ReplicatorUnderTest';
const KEY_NAME = 'cross-region-config/provenance-key';

type Handler = (event: unknown) => Promise<any>;

let moto: Awaited<ReturnType<typeof startMotoServer>>;
let proxy: Awaited<ReturnType<typeof startFaultProxy>>;
let world: SecretsWorld;
let keyArn: string;
let recorder: IamRecorder;
/** The deployment id the stacks evaluated by the IAM test give the handler (they share stack name and construct path). */
let deploymentId: string;
const output = new OutputCapture();
const results: string[] = [];
const savedEnv = { ...process.env };

/** Handler module, imported after the environment points the SDK at the proxy. */
let createHandler: (env: NodeJS.ProcessEnv) => Handler;

function baseEnv(overrides: Record<string, string> = {}): NodeJS.ProcessEnv {
  return {
    ...process.env,
    [ReplicatorEnv.PRIMARY_REGION]: PRIMARY,
    [ReplicatorEnv.REPLICA_TARGETS]: JSON.stringify(REPLICAS.map((region) => ({ region }))),
    [ReplicatorEnv.SELECTION]: JSON.stringify({ rules: [{ namePrefixes: ['app/'] }, { tags: { replicate: 'yes' } }] }),
    [ReplicatorEnv.CONFLICT_POLICY]: 'PRIMARY_WINS',
    [ReplicatorEnv.REPLICATE_TAGS]: 'true',
    [ReplicatorEnv.PROPAGATE_DELETIONS]: 'false',
    [ReplicatorEnv.PROVENANCE_KEY_SECRET_ARN]: keyArn,
    [ReplicatorEnv.DEPLOYMENT_ID]: deploymentId,
    ...overrides,
  };
}

beforeAll(async () => {
  moto = await startMotoServer();
  proxy = await startFaultProxy({ target: moto.endpoint, seed: 7 });
  recorder = new IamRecorder(moto.endpoint);
  recorder.attach(proxy);
  SERVICE = evaluationStack().replicator.serviceName;
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
  world = new SecretsWorld(moto.endpoint);
  deploymentId = evaluationStack().replicator.deploymentId!;
  keyArn = await world.create(PRIMARY, KEY_NAME, world.newValue('hmac-key-material-0123456789abcdef0123456789'));
  // Imported only now: Powertools reads POWERTOOLS_* when the handler module loads.
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

/** The primary's AWSCURRENT version id. */
async function primaryCurrent(name: string): Promise<string | undefined> {
  const d = await world.describe(PRIMARY, name);
  return Object.keys(d?.VersionIdsToStages ?? {}).find((v) => d!.VersionIdsToStages![v].includes('AWSCURRENT'));
}

/**
 * The primary version the replica's AWSCURRENT is this replicator's copy of (checked against
 * `candidate`, or the primary's AWSCURRENT), or `undefined` when it is not a copy of it.
 */
async function replicaCopyOf(region: string, name: string, sourceArn: string, candidate?: string): Promise<string | undefined> {
  /* eslint-disable @typescript-eslint/no-require-imports */
  const { ReplicaVersionIds } = require('../../lambda-src/shared/secrets/version-id');
  const { KeyedHasher } = require('../../lambda-src/shared/hmac');
  /* eslint-enable @typescript-eslint/no-require-imports */
  const ids = new ReplicaVersionIds(new KeyedHasher(await world.value(PRIMARY, KEY_NAME) as string));
  const d = await world.describe(region, name);
  const current = Object.keys(d?.VersionIdsToStages ?? {}).find((v) => d!.VersionIdsToStages![v].includes('AWSCURRENT'));
  const source = candidate ?? await primaryCurrent(name);
  return source !== undefined && ids.isCopyOf(current, sourceArn, source, { region }) ? source : undefined;
}

describe('event-driven replication', () => {
  let handler: Handler;
  beforeAll(() => {
    handler = createHandler(baseEnv());
  });

  test('replicates a created secret with its description and tags to every replica region', async () => {
    const arn = await world.create(PRIMARY, 'app/db', world.newValue('db'), { description: 'primary database', tags: { team: 'payments' } });

    const summary = await handler(cloudTrailEvent('CreateSecret', arn));

    expect(summary.outcomes).toEqual({ created: 2 });
    await world.expectSameValue('app/db', PRIMARY, ...REPLICAS);
    for (const region of REPLICAS) {
      const d = await world.describe(region, 'app/db');
      expect(d?.Description).toBe('primary database');
      const tags = await world.tags(region, 'app/db');
      expect(tags.team).toBe('payments');
      expect(tags[ProvenanceTag.SOURCE_REGION]).toBe(PRIMARY);
      expect(tags[ProvenanceTag.SOURCE_ARN]).toBe(arn);
      // The copied version is in the replica's version id, not in tags.
      expect(tags[ProvenanceTag.CONTENT_HMAC]).toBeUndefined();
      expect(tags[ProvenanceTag.REPLICA_VERSION_ID]).toBeUndefined();
      expect(await replicaCopyOf(region, 'app/db', arn)).toBe(await primaryCurrent('app/db'));
    }
  });

  test('replicates an updated value and does not write again for a duplicate event', async () => {
    await world.client(PRIMARY).send(new PutSecretValueCommand({ SecretId: 'app/db', SecretString: world.newValue('db-v2') }));
    const event = cloudTrailEvent('PutSecretValue', 'app/db');

    expect((await handler(event)).outcomes).toEqual({ updated: 2 });
    await world.expectSameValue('app/db', PRIMARY, ...REPLICAS);
    const versionsBefore = await world.versionCount('eu-west-1', 'app/db');

    expect((await handler(event)).outcomes).toEqual({ 'in-sync': 2 });
    expect(await world.versionCount('eu-west-1', 'app/db')).toBe(versionsBefore);
  });

  test('replicates a rotation that moves AWSCURRENT to a new version', async () => {
    const sm = world.client(PRIMARY);
    const before = await world.describe(PRIMARY, 'app/db');
    const current = Object.keys(before!.VersionIdsToStages!).find((v) => before!.VersionIdsToStages![v].includes('AWSCURRENT'))!;
    const pending = await sm.send(new PutSecretValueCommand({ SecretId: 'app/db', SecretString: world.newValue('rotated'), VersionStages: ['AWSPENDING'] }));
    await sm.send(new UpdateSecretVersionStageCommand({ SecretId: 'app/db', VersionStage: 'AWSCURRENT', MoveToVersionId: pending.VersionId, RemoveFromVersionId: current }));

    expect((await handler(cloudTrailEvent('UpdateSecretVersionStage', 'app/db'))).outcomes).toEqual({ updated: 2 });
    await world.expectSameValue('app/db', PRIMARY, ...REPLICAS);
    for (const region of REPLICAS) {
      expect(await replicaCopyOf(region, 'app/db', before!.ARN!, pending.VersionId!)).toBe(pending.VersionId);
    }
  });

  test('mirrors tag changes without copying the value again', async () => {
    const sm = world.client(PRIMARY);
    await sm.send(new TagResourceCommand({ SecretId: 'app/db', Tags: [{ Key: 'tier', Value: 'gold' }] }));
    await sm.send(new UntagResourceCommand({ SecretId: 'app/db', TagKeys: ['team'] }));
    const versionsBefore = await world.versionCount('ap-southeast-2', 'app/db');

    expect((await handler(cloudTrailEvent('TagResource', 'app/db'))).outcomes).toEqual({ 'metadata-updated': 2 });
    for (const region of REPLICAS) {
      const tags = await world.tags(region, 'app/db');
      expect(tags.tier).toBe('gold');
      expect(tags.team).toBeUndefined();
    }
    expect(await world.versionCount('ap-southeast-2', 'app/db')).toBe(versionsBefore);
  });

  test('replicates binary values and values of the 64 KiB maximum', async () => {
    const binary = world.newBinary(4096);
    const big = world.newValue('big').padEnd(65_536, 'x');
    const binArn = await world.create(PRIMARY, 'app/binary', binary);
    const bigArn = await world.create(PRIMARY, 'app/big', big);

    await handler(cloudTrailEvent('CreateSecret', binArn));
    await handler(cloudTrailEvent('CreateSecret', bigArn, { field: 'aRN' }));

    for (const region of REPLICAS) {
      await world.expectValue(region, 'app/binary', binary);
      await world.expectValue(region, 'app/big', big);
    }
  });

  test('handles names with /_+=.@- and unicode descriptions', async () => {
    const name = 'app/svc_a+b=c.d@e-f';
    const description = 'Base de données — 東京 ✓';
    const arn = await world.create(PRIMARY, name, world.newValue('odd'), { description });

    expect((await handler(cloudTrailEvent('CreateSecret', arn))).outcomes).toEqual({ created: 2 });
    for (const region of REPLICAS) {
      expect((await world.describe(region, name))?.Description).toBe(description);
    }
    await world.expectSameValue(name, PRIMARY, ...REPLICAS);
  });

  test('ignores secrets outside the selection and failed API calls', async () => {
    const arn = await world.create(PRIMARY, 'other/thing', world.newValue('other'));
    expect((await handler(cloudTrailEvent('CreateSecret', arn))).outcomes).toEqual({});
    expect(await world.describe('eu-west-1', 'other/thing')).toBeUndefined();
    expect((await handler(cloudTrailEvent('PutSecretValue', 'app/db', { errorCode: 'AccessDenied' }))).action).toBe('ignored');
  });

  test('selects by tag', async () => {
    const arn = await world.create(PRIMARY, 'tagged/thing', world.newValue('tagged'), { tags: { replicate: 'yes' } });
    expect((await handler(cloudTrailEvent('CreateSecret', arn, { field: 'name' }))).outcomes).toEqual({ created: 2 });
    // The deployment's provenance tag, by which IAM lets only this deployment write the replica.
    for (const region of REPLICAS) expect((await world.tags(region, 'tagged/thing'))[ProvenanceTag.DEPLOYMENT]).toBe(deploymentId);
  });
});

describe('ordering', () => {
  test('a stale event never overwrites a newer replica', async () => {
    const handler = createHandler(baseEnv());
    const old = new Date(Date.now() - 60_000);
    await world.create(PRIMARY, 'app/ordered', world.newValue('v1'));
    await world.client(PRIMARY).send(new PutSecretValueCommand({ SecretId: 'app/ordered', SecretString: world.newValue('v2') }));

    await handler(cloudTrailEvent('PutSecretValue', 'app/ordered'));
    const versions = await world.versionCount('eu-west-1', 'app/ordered');
    // The CreateSecret event for v1 arrives last.
    expect((await handler(cloudTrailEvent('CreateSecret', 'app/ordered', { time: old, field: 'name' }))).outcomes).toEqual({ 'in-sync': 2 });

    await world.expectSameValue('app/ordered', PRIMARY, ...REPLICAS);
    expect(await world.versionCount('eu-west-1', 'app/ordered')).toBe(versions);
  });

  test('a slower concurrent writer holding an older read skips instead of going back', async () => {
    /* eslint-disable @typescript-eslint/no-require-imports */
    const { SecretReplicator } = require('../../lambda-src/shared/secrets/replicator');
    const { readSettings } = require('../../lambda-src/secret-replicator/handler');
    const { ClientCache } = require('../../lambda-src/shared/clients');
    const { KeyedHasher } = require('../../lambda-src/shared/hmac');
    /* eslint-enable @typescript-eslint/no-require-imports */
    const key = await world.value(PRIMARY, KEY_NAME) as string;
    const replicator = new SecretReplicator(readSettings(baseEnv()), new ClientCache(PRIMARY), new KeyedHasher(key));
    await world.create(PRIMARY, 'app/race', world.newValue('race-v1'));
    const slowRead = await replicator.readPrimary('app/race');
    await new Promise((r) => setTimeout(r, 5));
    const v2 = world.newValue('race-v2');
    await world.client(PRIMARY).send(new PutSecretValueCommand({ SecretId: 'app/race', SecretString: v2 }));
    await replicator.syncOne('app/race');

    const late = await replicator.apply(slowRead, { region: 'eu-west-1' }, await replicator.describeReplica({ region: 'eu-west-1' }, 'app/race'), false);

    expect(late.outcome).toBe('stale-skipped');
    await world.expectValue('eu-west-1', 'app/race', v2);
  });
});

describe('conflicts', () => {
  test('primary wins: a locally changed replica is overwritten and the conflict counted', async () => {
    const handler = createHandler(baseEnv());
    const arn = await world.create(PRIMARY, 'app/conflict-pw', world.newValue('pw'));
    await handler(cloudTrailEvent('CreateSecret', arn));
    await world.client('eu-west-1').send(new PutSecretValueCommand({ SecretId: 'app/conflict-pw', SecretString: world.newValue('local-edit') }));
    const mark = output.lines.length;

    const summary = await handler(cloudTrailEvent('PutSecretValue', 'app/conflict-pw'));

    expect(summary.outcomes).toEqual({ 'conflict-overwritten': 1, 'in-sync': 1 });
    await world.expectSameValue('app/conflict-pw', PRIMARY, 'eu-west-1');
    expect(output.metricSum('Conflicts', { service: SERVICE, ReplicaRegion: 'eu-west-1' }, mark)).toBe(1);
  });

  test('skip and alarm: a locally changed replica is left alone and a Conflicts metric emitted', async () => {
    const handler = createHandler(baseEnv({ [ReplicatorEnv.CONFLICT_POLICY]: 'SKIP_AND_ALARM' }));
    const arn = await world.create(PRIMARY, 'app/conflict-skip', world.newValue('skip'));
    await handler(cloudTrailEvent('CreateSecret', arn));
    const local = world.newValue('local-edit');
    await world.client('ap-southeast-2').send(new PutSecretValueCommand({ SecretId: 'app/conflict-skip', SecretString: local }));
    await world.client(PRIMARY).send(new PutSecretValueCommand({ SecretId: 'app/conflict-skip', SecretString: world.newValue('skip-v2') }));
    const mark = output.lines.length;

    const summary = await handler({ action: 'reconcile' });

    expect(summary.outcomes['conflict-skipped']).toBe(1);
    await world.expectValue('ap-southeast-2', 'app/conflict-skip', local);
    await world.expectSameValue('app/conflict-skip', PRIMARY, 'eu-west-1');
    expect(output.metricSum('Conflicts', { service: SERVICE, ReplicaRegion: 'ap-southeast-2' }, mark)).toBe(1);
    expect(output.metricSum('Conflicts', { service: SERVICE }, mark)).toBe(1);
  });

  test('an unmanaged secret with the same name in a replica region is a conflict', async () => {
    const handler = createHandler(baseEnv({ [ReplicatorEnv.CONFLICT_POLICY]: 'SKIP_AND_ALARM' }));
    const theirs = world.newValue('theirs');
    await world.create('eu-west-1', 'app/preexisting', theirs);
    const arn = await world.create(PRIMARY, 'app/preexisting', world.newValue('ours'));

    const summary = await handler(cloudTrailEvent('CreateSecret', arn));

    expect(summary.outcomes).toEqual({ 'conflict-skipped': 1, 'created': 1 });
    await world.expectValue('eu-west-1', 'app/preexisting', theirs);
  });
});

describe('replicas deleted in their own region', () => {
  test('skip and alarm leaves a locally deleted replica deleted and counts a conflict', async () => {
    const handler = createHandler(baseEnv({ [ReplicatorEnv.CONFLICT_POLICY]: 'SKIP_AND_ALARM' }));
    const arn = await world.create(PRIMARY, 'app/deleted-locally-skip', world.newValue('dls'));
    await handler(cloudTrailEvent('CreateSecret', arn));
    await world.client('eu-west-1').send(new DeleteSecretCommand({ SecretId: 'app/deleted-locally-skip', RecoveryWindowInDays: 7 }));

    expect((await handler(cloudTrailEvent('PutSecretValue', 'app/deleted-locally-skip'))).outcomes).toEqual({ 'conflict-skipped': 1, 'in-sync': 1 });
    expect((await world.describe('eu-west-1', 'app/deleted-locally-skip'))?.DeletedDate).toBeDefined();
  });

  test('primary wins restores a locally deleted replica and counts a conflict', async () => {
    const handler = createHandler(baseEnv());
    const arn = await world.create(PRIMARY, 'app/deleted-locally-pw', world.newValue('dlp'));
    await handler(cloudTrailEvent('CreateSecret', arn));
    await world.client('eu-west-1').send(new DeleteSecretCommand({ SecretId: 'app/deleted-locally-pw', RecoveryWindowInDays: 7 }));
    const mark = output.lines.length;

    expect((await handler(cloudTrailEvent('PutSecretValue', 'app/deleted-locally-pw'))).outcomes).toEqual({ 'conflict-overwritten': 1, 'in-sync': 1 });
    expect((await world.describe('eu-west-1', 'app/deleted-locally-pw'))?.DeletedDate).toBeUndefined();
    await world.expectSameValue('app/deleted-locally-pw', PRIMARY, 'eu-west-1');
    expect(output.metricSum('Conflicts', { service: SERVICE, ReplicaRegion: 'eu-west-1' }, mark)).toBe(1);
  });
});

describe('deletion', () => {
  test('is not propagated by default', async () => {
    const handler = createHandler(baseEnv());
    const arn = await world.create(PRIMARY, 'app/keep-replicas', world.newValue('keep'));
    await handler(cloudTrailEvent('CreateSecret', arn));
    await world.client(PRIMARY).send(new DeleteSecretCommand({ SecretId: arn, RecoveryWindowInDays: 7 }));

    expect((await handler(cloudTrailEvent('DeleteSecret', arn))).outcomes).toEqual({ 'deletion-not-propagated': 2 });
    expect((await world.describe('eu-west-1', 'app/keep-replicas'))?.DeletedDate).toBeUndefined();
  });

  test('is propagated when opted in, and a restore restores the replicas', async () => {
    const handler = createHandler(baseEnv({ [ReplicatorEnv.PROPAGATE_DELETIONS]: 'true' }));
    const arn = await world.create(PRIMARY, 'app/delete-me', world.newValue('del'));
    await handler(cloudTrailEvent('CreateSecret', arn));
    await world.client(PRIMARY).send(new DeleteSecretCommand({ SecretId: arn, RecoveryWindowInDays: 7 }));

    expect((await handler(cloudTrailEvent('DeleteSecret', arn))).outcomes).toEqual({ deleted: 2 });
    for (const region of REPLICAS) expect((await world.describe(region, 'app/delete-me'))?.DeletedDate).toBeDefined();

    await world.client(PRIMARY).send(new RestoreSecretCommand({ SecretId: arn }));
    // The replicator deleted these replicas itself, so restoring them is no conflict.
    expect((await handler(cloudTrailEvent('RestoreSecret', arn))).outcomes).toEqual({ 'metadata-updated': 2 });
    for (const region of REPLICAS) expect((await world.describe(region, 'app/delete-me'))?.DeletedDate).toBeUndefined();
    await world.expectSameValue('app/delete-me', PRIMARY, ...REPLICAS);
  });

  test('a force-deleted primary propagates by name', async () => {
    const handler = createHandler(baseEnv({ [ReplicatorEnv.PROPAGATE_DELETIONS]: 'true' }));
    const arn = await world.create(PRIMARY, 'app/force-gone', world.newValue('gone'));
    await handler(cloudTrailEvent('CreateSecret', arn));
    await world.client(PRIMARY).send(new DeleteSecretCommand({ SecretId: arn, ForceDeleteWithoutRecovery: true }));

    expect((await handler(cloudTrailEvent('DeleteSecret', arn))).outcomes).toEqual({ deleted: 2 });
  });

  test.each([
    ['with a recovery window, by event', 'event', 7],
    ['with a recovery window, by reconciliation', 'reconcile', 7],
    // Not by event without a recovery window: the primary is gone, and IAM scoped by the selection's
    // tags denies DescribeSecret on it, which the handler reads as "not selected".
  ] as const)('of a tag-selected secret without tag replication is propagated (%s)', async (_label, path, windowDays) => {
    // The replicas carry only provenance tags, so the selection's tags cannot be read from them: the
    // deployment tag says this deployment wrote them, which it does only for selected secrets.
    const name = `tagged/delete-untagged-${path}-${windowDays}`;
    const handler = createHandler(baseEnv({
      [ReplicatorEnv.PROPAGATE_DELETIONS]: 'true',
      [ReplicatorEnv.REPLICATE_TAGS]: 'false',
      [ReplicatorEnv.SELECTION]: JSON.stringify({ rules: [{ tags: { replicate: 'yes', case: name } }] }),
    }));
    const arn = await world.create(PRIMARY, name, world.newValue('del-untagged'), { tags: { replicate: 'yes', case: name } });
    expect((await handler(cloudTrailEvent('CreateSecret', arn))).outcomes).toEqual({ created: 2 });
    for (const region of REPLICAS) {
      const tags = await world.tags(region, name);
      expect(tags.replicate).toBeUndefined();
      expect(tags[ProvenanceTag.DEPLOYMENT]).toBe(deploymentId);
    }
    await world.client(PRIMARY).send(new DeleteSecretCommand({ SecretId: arn, RecoveryWindowInDays: windowDays }));

    const summary = await handler(path === 'event' ? cloudTrailEvent('DeleteSecret', arn) : { action: 'reconcile' });

    expect(summary.outcomes).toEqual({ deleted: 2 });
    for (const region of REPLICAS) expect((await world.describe(region, name))?.DeletedDate).toBeDefined();
  });

  test('is not propagated to a replica without this deployment\'s tag: a skipped conflict, nothing written', async () => {
    const name = 'tagged/delete-foreign';
    const handler = createHandler(baseEnv({
      [ReplicatorEnv.PROPAGATE_DELETIONS]: 'true',
      [ReplicatorEnv.SELECTION]: JSON.stringify({ rules: [{ tags: { replicate: 'yes', case: name } }] }),
    }));
    const arn = await world.create(PRIMARY, name, world.newValue('del-foreign'), { tags: { replicate: 'yes', case: name } });
    expect((await handler(cloudTrailEvent('CreateSecret', arn))).outcomes).toEqual({ created: 2 });
    // As an earlier release left it: the same provenance, no deployment tag.
    await world.client('eu-west-1').send(new UntagResourceCommand({ SecretId: name, TagKeys: [ProvenanceTag.DEPLOYMENT] }));
    await world.client(PRIMARY).send(new DeleteSecretCommand({ SecretId: arn, RecoveryWindowInDays: 7 }));
    proxy.resetStats();

    const summary = await handler({ action: 'reconcile' });

    expect(summary.outcomes).toEqual({ 'deleted': 1, 'conflict-skipped': 1 });
    expect(replicaWrites('eu-west-1')).toEqual({});
    expect((await world.describe('eu-west-1', name))?.DeletedDate).toBeUndefined();
    expect((await world.describe('ap-southeast-2', name))?.DeletedDate).toBeDefined();
  });
});

describe('failures', () => {
  test('one unreachable replica region: the other converges, the failure is counted, the event fails for retry, reconcile repairs', async () => {
    const handler = createHandler(baseEnv());
    const arn = await world.create(PRIMARY, 'app/partial', world.newValue('partial'));
    proxy.addRule({ region: 'ap-southeast-2', fault: 'connection-refused' });
    const mark = output.lines.length;

    await expect(handler(cloudTrailEvent('CreateSecret', arn))).rejects.toThrow('replication of app/partial failed in ap-southeast-2');

    await world.expectSameValue('app/partial', PRIMARY, 'eu-west-1');
    expect(await world.describe('ap-southeast-2', 'app/partial')).toBeUndefined();
    expect(output.metricSum('ReplicationFailures', { service: SERVICE, ReplicaRegion: 'ap-southeast-2' }, mark)).toBe(1);

    proxy.clearRules();
    const summary = await handler({ action: 'reconcile' });
    expect(summary.failures).toEqual([]);
    await world.expectSameValue('app/partial', PRIMARY, ...REPLICAS);
  });

  test('an unreachable region during reconcile counts one failure per secret and the rest completes', async () => {
    const handler = createHandler(baseEnv());
    await world.client(PRIMARY).send(new UpdateSecretCommand({ SecretId: 'app/partial', SecretString: world.newValue('partial-v2') }));
    proxy.addRule({ region: 'eu-west-1', fault: 'server-error' });

    const summary = await handler({ action: 'reconcile' });

    expect(summary.failures.length).toBe(summary.secrets);
    expect(new Set(summary.failures.map((f: any) => f.region))).toEqual(new Set(['eu-west-1']));
    await world.expectSameValue('app/partial', PRIMARY, 'ap-southeast-2');
  });

  test('converges under 30% injected ThrottlingException', async () => {
    const handler = createHandler(baseEnv());
    for (let i = 0; i < 12; i++) await world.create(PRIMARY, `app/throttled-${i}`, world.newValue(`t${i}`));
    proxy.resetStats();
    proxy.addRule({ fault: 'throttle', probability: 0.3 });

    const summary = await handler({ action: 'reconcile' });

    expect(summary.failures).toEqual([]);
    expect(proxy.stats().injected).toBeGreaterThan(10);
    for (let i = 0; i < 12; i++) await world.expectSameValue(`app/throttled-${i}`, PRIMARY, ...REPLICAS);
  });
});

describe('the cross-region-config document', () => {
  const NAME = '/genai-demo/production/global/secrets/cross-region-config';
  const ssm = () => new SSMClient({ region: PRIMARY, endpoint: moto.endpoint });
  const document = async () => JSON.parse((await ssm().send(new GetParameterCommand({ Name: NAME }))).Parameter!.Value!);
  // Only this block's secrets: the other blocks leave skipped conflicts and unpropagated deletions,
  // after which the regions rightly do not count as in agreement.
  const stampEnv = (name: string) => baseEnv({
    [ReplicatorEnv.CONFIG_PARAMETER_NAME]: name,
    [ReplicatorEnv.SELECTION]: JSON.stringify({ rules: [{ namePrefixes: ['stamp/'] }] }),
  });

  beforeAll(async () => {
    await ssm().send(new PutParameterCommand({
      Name: NAME,
      Type: 'String',
      Value: JSON.stringify({ primaryRegion: PRIMARY, replicationRegions: REPLICAS, syncEnabled: true, lastSyncTimestamp: null }),
    }));
  });

  test('keeps lastSyncTimestamp at the last sync that succeeded everywhere, and only then', async () => {
    const handler = createHandler(stampEnv(NAME));
    await world.create(PRIMARY, 'stamp/db', world.newValue('stamped'));

    await handler({ action: 'test_sync' });
    expect((await document()).lastSyncTimestamp).toBeNull();

    proxy.addRule({ region: 'eu-west-1', fault: 'server-error' });
    await handler({ action: 'reconcile' });
    expect((await document()).lastSyncTimestamp).toBeNull();

    proxy.clearRules();
    const before = Date.now();
    await handler({ action: 'reconcile' });
    const stamped = await document();
    expect(stamped.lastSyncTimestamp).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/);
    expect(Date.parse(stamped.lastSyncTimestamp)).toBeGreaterThanOrEqual(Math.floor(before / 1000) * 1000);
    // The rest of the document is left as it was.
    expect(stamped).toMatchObject({ primaryRegion: PRIMARY, replicationRegions: REPLICAS, syncEnabled: true });
  });

  test('a parameter it cannot write does not fail the replication', async () => {
    const handler = createHandler(stampEnv('/missing/global/secrets/cross-region-config'));
    const mark = output.lines.length;
    const summary = await handler({ action: 'reconcile' });
    expect(summary.failures).toEqual([]);
    expect(output.lines.slice(mark).some((l) => l.includes('lastSyncTimestamp not updated') && l.includes('ParameterNotFound'))).toBe(true);
  });
});

describe('manual actions', () => {
  test('test_sync reports what a reconcile would do without writing', async () => {
    const handler = createHandler(baseEnv());
    await world.create(PRIMARY, 'app/dry', world.newValue('dry'));

    const mark = output.lines.length;

    const summary = await handler({ action: 'test_sync' });

    expect(output.emf(mark)).toEqual([]);
    expect(summary.dryRun).toBe(true);
    expect(summary.outcomes['would-create']).toBe(2);
    expect(await world.describe('eu-west-1', 'app/dry')).toBeUndefined();
  });

  test('connectivity_test reports reachability and permission checks per region', async () => {
    const handler = createHandler(baseEnv());
    proxy.addRule({ region: 'ap-southeast-2', fault: 'connection-refused' });

    const report = await handler({ action: 'connectivity_test' });

    const byRegion = Object.fromEntries(report.regions.map((r: any) => [r.region, r]));
    expect(byRegion[PRIMARY].reachable).toBe(true);
    expect(byRegion[PRIMARY].checks.every((c: any) => c.ok)).toBe(true);
    expect(byRegion['eu-west-1'].reachable).toBe(true);
    expect(byRegion['ap-southeast-2'].reachable).toBe(false);
    expect(byRegion['ap-southeast-2'].checks.some((c: any) => c.ok)).toBe(false);
  });

  test('rejects an unknown action with a clear error', async () => {
    const handler = createHandler(baseEnv());
    await expect(handler({ action: 'sync_everything' })).rejects.toThrow('unknown action "sync_everything"; expected one of test_sync, connectivity_test, reconcile');
  });

  test('fails at cold start naming a missing variable', () => {
    expect(() => createHandler(baseEnv({ [ReplicatorEnv.PRIMARY_REGION]: '' }))).toThrow('environment variable PRIMARY_REGION is required but not set');
  });
});

describe('cross-account targets', () => {
  test('writes through the target role into the other account', async () => {
    const roleArn = 'arn:aws:iam::111111111111:role/replica-writer';
    const handler = createHandler(baseEnv({
      [ReplicatorEnv.REPLICA_TARGETS]: JSON.stringify([{ region: 'eu-west-1' }, { region: 'eu-west-1', roleArn }]),
    }));
    const arn = await world.create(PRIMARY, 'app/shared-with-partner', world.newValue('partner'));

    expect((await handler(cloudTrailEvent('CreateSecret', arn))).outcomes).toEqual({ created: 2 });

    // Read back as the other account: moto maps an assumed role's credentials to its account.
    const partner = new SecretsManagerClient({
      region: 'eu-west-1',
      endpoint: moto.endpoint,
      credentials: fromTemporaryCredentials({
        params: { RoleArn: roleArn, RoleSessionName: 'verify' },
        clientConfig: { region: PRIMARY, endpoint: moto.endpoint, credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' } },
      }),
    });
    const described = await partner.send(new DescribeSecretCommand({ SecretId: 'app/shared-with-partner' }));
    expect(described.ARN).toMatch(/^arn:aws:secretsmanager:eu-west-1:111111111111:secret:app\/shared-with-partner-/);
    expect((await world.describe('eu-west-1', 'app/shared-with-partner'))?.ARN).toMatch(/:123456789012:/);
  });
});

/**
 * The stacks that deploy the configurations the tests above run the handler with: every call the
 * handler made must be allowed by its role's synthesized policies (test/harness/iam-evaluation.ts
 * says which authorizations AWS implies and how they are mapped).
 */
function evaluationStack(props: Partial<CrossRegionSecretReplicatorProps> = {}): { app: App; stack: Stack; replicator: CrossRegionSecretReplicator } {
  const app = new App();
  const stack = new Stack(app, 'IamEvaluation', { env: { account: '123456789012', region: PRIMARY } });
  const replicator = new CrossRegionSecretReplicator(stack, 'Replicator', {
    secrets: SecretSelection.anyOf(SecretSelection.byNamePrefix('app/'), SecretSelection.byTags({ replicate: 'yes' })),
    replicaRegions: REPLICAS,
    crossAccountReplicas: [{ region: 'eu-west-1', roleArn: 'arn:aws:iam::111111111111:role/replica-writer' }],
    ...props,
  });
  return { app, stack, replicator };
}

function deployedConfigurations(calls: RecordedCall[]): EvaluationGroup[] {
  const groups: Array<{ role: string; props: Partial<CrossRegionSecretReplicatorProps>; tests: (test: string) => boolean }> = [
    {
      role: 'replicator (document, unwritable prefix)',
      props: { secrets: SecretSelection.byNamePrefix('stamp/'), parameterPrefix: '/missing' },
      tests: (t) => t.startsWith('the cross-region-config document a parameter it cannot write'),
    },
    {
      role: 'replicator (document)',
      props: { secrets: SecretSelection.byNamePrefix('stamp/'), parameterPrefix: '/genai-demo/production' },
      tests: (t) => t.startsWith('the cross-region-config document'),
    },
    { role: 'replicator (propagated deletions)', props: { propagateDeletions: true }, tests: (t) => t.startsWith('deletion') },
    { role: 'replicator (prefix or tags)', props: {}, tests: () => true },
  ];
  const claimed = new Set<RecordedCall>();
  return groups.map((group) => {
    const { app, stack, replicator } = evaluationStack(group.props);
    const own = calls.filter((c) => !claimed.has(c) && group.tests(c.test ?? ''));
    own.forEach((c) => claimed.add(c));
    const prefix = (group.props.secrets ? 'stamp/' : 'app/');
    return {
      role: group.role,
      calls: own,
      // Events cannot be narrowed by tags, so the handler reads the secret an event names and takes
      // AccessDenied for "not selected" (replicator.ts syncOne).
      expectDenied: (c) => c.test?.includes('event (readable)') && c.region === 'eu-west-1' && c.action === 'secretsmanager:DescribeSecret'
        ? 'a replica of another deployment, read as a caller allowed to read it would (IAM denies this role)'
        : c.region === PRIMARY && c.action.startsWith('secretsmanager:') && c.resource !== '*'
        && !c.resource.includes(`:secret:${prefix}`) && c.resourceTags?.replicate !== 'yes' && !c.resource.startsWith(keyArn.slice(0, -7))
          ? 'a primary secret outside the selection, read because events cannot be narrowed by tags'
          : undefined,
      target: {
        template: app.synth().getStackByName(stack.stackName).template,
        roleLogicalId: stack.getLogicalId(replicator.role.node.defaultChild as CfnElement),
        references: { [stack.getLogicalId(replicator.provenanceKey.node.defaultChild as CfnElement)]: keyArn },
        region: PRIMARY,
      },
    };
  });
}

/** Write requests that reached Secrets Manager in `region` since the last `proxy.resetStats()`, by operation. */
function replicaWrites(region: string): Record<string, number> {
  const writes = ['CreateSecret', 'UpdateSecret', 'PutSecretValue', 'TagResource', 'UntagResource', 'DeleteSecret', 'RestoreSecret'];
  const counts: Record<string, number> = {};
  for (const [key, c] of Object.entries(proxy.stats().byOperation)) {
    const [service, r, operation] = key.split(':');
    if (service === 'secretsmanager' && r === region && writes.includes(operation) && c.forwarded > 0) counts[operation] = c.forwarded;
  }
  return counts;
}

describe('replicas of another deployment', () => {
  // Where IAM scopes replica writes by the deployment tag (tag selections), a replica that does not
  // carry this deployment's tag cannot be written: one left by an earlier release (no deployment
  // tag) or written by another deployment (another deploymentId, e.g. after a stack rename). moto
  // enforces no IAM, so it would accept the writes; the handler must not attempt them.
  const kinds = [
    ['without a deployment tag', undefined],
    ['with another deployment\'s tag', 'OtherStack.c8f0e1d2a3b4c5d6e7f8091a2b3c4d5e6f708192a3'],
  ] as const;
  // reconcile: the replica is listed with its tags. event (readable): DescribeSecret answers, as it does
  // for a caller that may read the replica (the drift detector's remediation passes what it read).
  // event (IAM stand-in): DescribeSecret is denied, as IAM denies it on a replica of another
  // deployment; the handler takes the name as absent, CreateSecret meets the existing secret
  // (ResourceExistsException, nothing changes) and the target is a skipped conflict.
  const paths = ['reconcile', 'event (readable)', 'event (IAM stand-in)'] as const;
  const cases = (['PRIMARY_WINS', 'SKIP_AND_ALARM'] as const).flatMap((policy) => kinds.flatMap(([kind, otherDeployment]) =>
    paths.map((path) => [policy, kind, path, otherDeployment] as const)));

  test.each(cases)('%s, a replica %s, %s: skipped conflict, nothing written; the first copy elsewhere is created', async (policy, _kind, path, otherDeployment) => {
    const name = `tagged/foreign-${cases.findIndex((c) => c[0] === policy && c[3] === otherDeployment && c[2] === path)}`;
    const handler = createHandler(baseEnv({
      [ReplicatorEnv.CONFLICT_POLICY]: policy,
      [ReplicatorEnv.SELECTION]: JSON.stringify({ rules: [{ tags: { replicate: 'yes', case: name } }] }),
    }));
    const arn = await world.create(PRIMARY, name, world.newValue('foreign-primary'), { tags: { replicate: 'yes', case: name } });
    const theirs = world.newValue('foreign-replica');
    const theirTags = {
      [ProvenanceTag.SOURCE_REGION]: PRIMARY,
      [ProvenanceTag.SOURCE_ARN]: arn,
      [ProvenanceTag.KMS_KEY]: 'aws/secretsmanager',
      ...(otherDeployment ? { [ProvenanceTag.DEPLOYMENT]: otherDeployment } : {}),
      replicate: 'yes',
    };
    await world.create('eu-west-1', name, theirs, { tags: theirTags });
    if (path === 'event (IAM stand-in)') proxy.addRule({ region: 'eu-west-1', operation: 'DescribeSecret', fault: 'access-denied' });
    proxy.resetStats();
    const mark = output.lines.length;

    const summary = await handler(path === 'reconcile' ? { action: 'reconcile' } : cloudTrailEvent('CreateSecret', arn));

    expect(summary.outcomes).toEqual({ 'conflict-skipped': 1, 'created': 1 });
    expect(summary.failures).toEqual([]);
    // CreateSecret is the one write the stand-in path attempts (AWS answers ResourceExistsException).
    expect(replicaWrites('eu-west-1')).toEqual(path === 'event (IAM stand-in)' ? { CreateSecret: 1 } : {});
    await world.expectValue('eu-west-1', name, theirs);
    expect(await world.tags('eu-west-1', name)).toEqual(theirTags);
    // The first copy in the other region is created, with this deployment's tag.
    await world.expectSameValue(name, PRIMARY, 'ap-southeast-2');
    expect((await world.tags('ap-southeast-2', name))[ProvenanceTag.DEPLOYMENT]).toBe(deploymentId);
    expect(output.metricSum('Conflicts', { service: SERVICE, ReplicaRegion: 'eu-west-1' }, mark)).toBe(1);
    expect(output.metricSum('ReplicationFailures', { service: SERVICE }, mark)).toBe(0);
    if (path !== 'event (IAM stand-in)') {
      expect(output.lines.slice(mark).some((l) => l.includes('replica belongs to another deployment or predates deployment tags')
        && l.includes(name) && l.includes('eu-west-1'))).toBe(true);
    }

    // The same again: counted on every run, never a failure, still nothing written.
    proxy.resetStats();
    const again = await handler(path === 'reconcile' ? { action: 'reconcile' } : cloudTrailEvent('PutSecretValue', arn));
    expect(again.outcomes).toEqual({ 'conflict-skipped': 1, 'in-sync': 1 });
    expect(replicaWrites('eu-west-1')).toEqual(path === 'event (IAM stand-in)' ? { CreateSecret: 1 } : {});
  });

  test('invariant over seeded random mixes of replicas, policies, paths and primary changes: foreign replicas never written, the rest converge', async () => {
    const seed = Number(process.env.FOREIGN_REPLICA_SEED ?? 20261207);
    // mulberry32: a tiny, well-distributed 32-bit PRNG; numbers in [0, 1).
    /* eslint-disable no-bitwise -- the algorithm is defined in 32-bit integer arithmetic */
    let state = seed >>> 0;
    const random = () => {
      state = (state + 0x6d2b79f5) >>> 0;
      let t = Math.imul(state ^ (state >>> 15), state | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
    };
    /* eslint-enable no-bitwise */
    const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)];
    const caseTag = `mix-${seed}`;
    const selection = JSON.stringify({ rules: [{ tags: { replicate: 'yes', case: caseTag } }] });
    const foreign = new Map<string, { value: string; tags: Record<string, string> }>();
    const names: string[] = [];
    try {
      for (let i = 0; i < 4; i++) {
        const name = `tagged/mix-${seed}-${i}`;
        names.push(name);
        const arn = await world.create(PRIMARY, name, world.newValue('mix'), { tags: { replicate: 'yes', case: caseTag } });
        for (const region of REPLICAS) {
          const kind = pick(['absent', 'absent', 'no deployment tag', 'other deployment'] as const);
          if (kind === 'absent') continue;
          const tags = {
            [ProvenanceTag.SOURCE_REGION]: PRIMARY,
            [ProvenanceTag.SOURCE_ARN]: arn,
            [ProvenanceTag.KMS_KEY]: 'aws/secretsmanager',
            ...(kind === 'other deployment' ? { [ProvenanceTag.DEPLOYMENT]: 'OtherStack.c8aa' } : {}),
          };
          const value = world.newValue('mix-foreign');
          await world.create(region, name, value, { tags });
          foreign.set(`${region}|${name}`, { value, tags });
        }
      }
      for (let round = 0; round < 6; round++) {
        const policy = pick(['PRIMARY_WINS', 'SKIP_AND_ALARM'] as const);
        const handler = createHandler(baseEnv({ [ReplicatorEnv.CONFLICT_POLICY]: policy, [ReplicatorEnv.SELECTION]: selection }));
        const changed = pick(names);
        if (random() < 0.5) await world.client(PRIMARY).send(new PutSecretValueCommand({ SecretId: changed, SecretString: world.newValue('mix-v') }));
        proxy.resetStats();
        const mark = output.lines.length;
        const touched = random() < 0.5 ? names : [changed];
        const summary = await handler(touched.length > 1 ? { action: 'reconcile' } : cloudTrailEvent('PutSecretValue', changed));

        expect(summary.failures).toEqual([]);
        const expectedConflicts = touched.flatMap((n) => REPLICAS.filter((r) => foreign.has(`${r}|${n}`))).length;
        expect(summary.outcomes['conflict-skipped'] ?? 0).toBe(expectedConflicts);
        expect(output.metricSum('Conflicts', { service: SERVICE }, mark)).toBe(expectedConflicts);
        for (const region of REPLICAS) {
          // Nothing reached a foreign replica: value and tags are as its writer left them.
          for (const n of names.filter((x) => foreign.has(`${region}|${x}`))) {
            await world.expectValue(region, n, foreign.get(`${region}|${n}`)!.value);
            expect(await world.tags(region, n)).toEqual(foreign.get(`${region}|${n}`)!.tags);
          }
          for (const n of touched.filter((x) => !foreign.has(`${region}|${x}`))) {
            await world.expectSameValue(n, PRIMARY, region);
            expect((await world.tags(region, n))[ProvenanceTag.DEPLOYMENT]).toBe(deploymentId);
          }
        }
      }
    } catch (e) {
      throw new Error(`FOREIGN_REPLICA_SEED=${seed}: ${(e as Error).message}`);
    }
  });

  test('a write IAM denies on a tag-selected replica is a skipped conflict, not a failure', async () => {
    // The replica carried this deployment's tag when read, but the write is denied (the tag was
    // changed in between): the fault proxy's access-denied stands in for IAM.
    const name = 'tagged/denied-write';
    const handler = createHandler(baseEnv({ [ReplicatorEnv.SELECTION]: JSON.stringify({ rules: [{ tags: { replicate: 'yes', case: name } }] }) }));
    const arn = await world.create(PRIMARY, name, world.newValue('denied-v1'), { tags: { replicate: 'yes', case: name } });
    expect((await handler(cloudTrailEvent('CreateSecret', arn))).outcomes).toEqual({ created: 2 });
    await world.client(PRIMARY).send(new PutSecretValueCommand({ SecretId: arn, SecretString: world.newValue('denied-v2') }));
    proxy.addRule({ region: 'eu-west-1', operation: 'UpdateSecret', fault: 'access-denied' });
    const mark = output.lines.length;

    const summary = await handler(cloudTrailEvent('PutSecretValue', arn));

    expect(summary.outcomes).toEqual({ 'conflict-skipped': 1, 'updated': 1 });
    expect(output.metricSum('Conflicts', { service: SERVICE, ReplicaRegion: 'eu-west-1' }, mark)).toBe(1);
    expect(output.metricSum('ReplicationFailures', { service: SERVICE }, mark)).toBe(0);
  });

  test('a KMS denial on a tag-selected replica stays a failure: it is no other deployment\'s replica', async () => {
    // Secrets Manager answers AccessDeniedException ("Access to KMS is not allowed") when it may not
    // use the replica's key; moto checks no KMS permission, so a client wrapper stands in for it.
    /* eslint-disable @typescript-eslint/no-require-imports */
    const { SecretReplicator } = require('../../lambda-src/shared/secrets/replicator');
    const { readSettings } = require('../../lambda-src/secret-replicator/handler');
    const { ClientCache } = require('../../lambda-src/shared/clients');
    const { KeyedHasher } = require('../../lambda-src/shared/hmac');
    /* eslint-enable @typescript-eslint/no-require-imports */
    class KmsDeniedInEuWest1 extends ClientCache {
      constructor(homeRegion: string) {
        super(homeRegion);
      }
      get(type: any, target: { region: string }): any {
        const client = super.get(type, target);
        if (target.region !== 'eu-west-1') return client;
        return {
          send: async (command: any) => {
            if (command.constructor.name === 'UpdateSecretCommand') {
              throw Object.assign(new Error('Access to KMS is not allowed'), { name: 'AccessDeniedException' });
            }
            return client.send(command);
          },
        };
      }
    }
    const name = 'tagged/kms-denied';
    const settings = readSettings(baseEnv({ [ReplicatorEnv.SELECTION]: JSON.stringify({ rules: [{ tags: { replicate: 'yes', case: name } }] }) }));
    const key = await world.value(PRIMARY, KEY_NAME) as string;
    const replicator = new SecretReplicator(settings, new KmsDeniedInEuWest1(PRIMARY), new KeyedHasher(key));
    const arn = await world.create(PRIMARY, name, world.newValue('kms-v1'), { tags: { replicate: 'yes', case: name } });
    expect((await replicator.syncOne(arn)).map((r: any) => r.outcome)).toEqual(['created', 'created']);
    await world.client(PRIMARY).send(new PutSecretValueCommand({ SecretId: arn, SecretString: world.newValue('kms-v2') }));

    const second = await replicator.syncOne(arn);

    expect(second.map((r: any) => [r.region, r.outcome, r.errorName])).toEqual([
      ['eu-west-1', 'failed', 'AccessDeniedException'], ['ap-southeast-2', 'updated', undefined],
    ]);
  });
});

describe('IAM', () => {
  test('every call the handler made is allowed by the synthesized role policies of its configuration', async () => {
    const calls = await recorder.calls();
    expect(calls.length).toBeGreaterThan(100);
    await recorder.writeJsonLines(`${process.env.IAM_RECORDING_DIR ?? tmpdir()}/iam-calls-secret-replicator.jsonl`);
    const { summary, failures } = await evaluateGroups(deployedConfigurations(calls));
    output.stop();
    console.log([...summary, ...failures.map((f) => `  ${f}`)].join('\n'));
    output.start();
    expect(failures).toEqual([]);
  }, 120_000);
});

describe('secrecy', () => {
  test('no secret value appears in any log line, metric or result of the run', () => {
    expect(world.issuedValues.length).toBeGreaterThan(20);
    const all = [...output.lines, ...results].join('\n');
    const leaked = world.issuedValues.filter((v) => all.includes(v));
    // Report only how many leaked, never which (that would print them).
    expect(leaked.length).toBe(0);
    expect(output.logs().length).toBeGreaterThan(10);
  });
});
