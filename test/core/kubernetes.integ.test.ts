/**
 * The shared Kubernetes access code against two real kube-apiservers ("clusters" in us-east-1 and
 * eu-west-1) that authenticate IAM principals through an EKS-like token webhook backed by moto's
 * STS, with RBAC standing in for EKS access policies. Runs on the Lambda runtime's Node major.
 */
import { randomUUID } from 'node:crypto';
import { DescribeClusterCommand, EKSClient } from '@aws-sdk/client-eks';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import type { KubernetesAccess as KubernetesAccessType, KubernetesApiError as KubernetesApiErrorType } from '../../lambda-src/shared/kubernetes';
import type { KubernetesClusterConfig } from '../../src/private/kubernetes-contract';
import { closedLocalPort, KubeCluster, startKubeCluster, StsKeyring } from '../harness/kube';
import { applyEnv, awsTestEnv, MotoServer, startMotoServer } from '../harness/moto';
import { OutputCapture } from '../harness/world';

const ACCOUNT = '123456789012';
const ROLE_NAME = 'config-syncer';
/** The Kubernetes user EKS makes of the Lambda role: the role's IAM ARN. */
const ROLE_ARN = `arn:aws:iam::${ACCOUNT}:role/${ROLE_NAME}`;
const MANAGER = 'cross-region-config';
const OTHER_MANAGER = 'team-controller';
const MINUTE = 60_000;

/** Modules under test, loaded after the environment is set (Powertools reads it at import). */
let KubernetesAccess: typeof KubernetesAccessType;
let KubernetesApiError: typeof KubernetesApiErrorType;
let ClientCache: typeof import('../../lambda-src/shared/clients').ClientCache;

let moto: MotoServer;
let restoreEnv: () => void;
let east: KubeCluster;
let west: KubeCluster;
const keyring = new StsKeyring();
const output = new OutputCapture();
/** Every ConfigMap value a test writes: none may appear in a log line or an error. */
const values: string[] = [];
/** Every error message and serialised error the code under test produced. */
const errors: string[] = [];
/** Accesses to close after the tests (keep-alive sockets). */
const accesses: KubernetesAccessType[] = [];

/** A fresh, recognisable ConfigMap value, registered for the leak scan. */
function value(label: string): string {
  const v = `${label}-${randomUUID()}-Qx7`;
  values.push(v);
  return v;
}

/** A clock tests can move; starts at the real time. */
class TestClock {
  offsetMs = 0;
  readonly now = () => new Date(Date.now() + this.offsetMs);
}

function newAccess(clock = new TestClock(), requestTimeoutMs?: number): KubernetesAccessType {
  const access = new KubernetesAccess(new ClientCache('us-east-1'), { now: clock.now, requestTimeoutMs });
  accesses.push(access);
  return access;
}

/** Awaits a rejection, records it for the leak scan and returns it as a KubernetesApiError. */
async function apiError(promise: Promise<unknown>): Promise<KubernetesApiErrorType> {
  let caught: unknown;
  try {
    await promise;
  } catch (e) {
    caught = e;
  }
  if (caught === undefined) throw new Error('expected the call to fail, but it succeeded');
  errors.push(String(caught), (caught as Error).stack ?? '', JSON.stringify(caught));
  expect(caught).toBeInstanceOf(KubernetesApiError);
  return caught as KubernetesApiErrorType;
}

beforeAll(async () => {
  moto = await startMotoServer();
  restoreEnv = applyEnv({ ...awsTestEnv(moto.endpoint, 'us-east-1'), POWERTOOLS_LOG_LEVEL: 'DEBUG', POWERTOOLS_SERVICE_NAME: 'KubernetesAccessTest' });

  // The Lambda's credentials: a session of its execution role, as Lambda hands them out.
  const assumed = await new STSClient({ region: 'us-east-1' }).send(new AssumeRoleCommand({
    RoleArn: ROLE_ARN, RoleSessionName: 'config-syncer-function',
  }));
  const credentials = {
    accessKeyId: assumed.Credentials!.AccessKeyId!,
    secretAccessKey: assumed.Credentials!.SecretAccessKey!,
    sessionToken: assumed.Credentials!.SessionToken!,
  };
  keyring.register(credentials);
  process.env.AWS_ACCESS_KEY_ID = credentials.accessKeyId;
  process.env.AWS_SECRET_ACCESS_KEY = credentials.secretAccessKey;
  process.env.AWS_SESSION_TOKEN = credentials.sessionToken;

  [east, west] = await Promise.all([
    startKubeCluster({ name: 'orders-use1', region: 'us-east-1', motoEndpoint: moto.endpoint, keyring }),
    startKubeCluster({ name: 'orders-euw1', region: 'eu-west-1', motoEndpoint: moto.endpoint, keyring }),
  ]);
  for (const cluster of [east, west]) {
    await cluster.grant('team-a', ROLE_ARN, 'edit');
    await cluster.grant('team-view', ROLE_ARN, 'view');
    await cluster.admin.createNamespace('no-access');
  }

  /* eslint-disable @typescript-eslint/no-require-imports */
  ({ KubernetesAccess, KubernetesApiError } = require('../../lambda-src/shared/kubernetes'));
  ({ ClientCache } = require('../../lambda-src/shared/clients'));
  /* eslint-enable @typescript-eslint/no-require-imports */
  output.start();
});

afterAll(async () => {
  output.stop();
  accesses.forEach((a) => a.close());
  await Promise.all([east?.stop(), west?.stop()]);
  await moto?.stop();
  restoreEnv?.();
});

describe('authentication', () => {
  test('authenticates with an EKS token that the webhook verifies against STS', async () => {
    const client = await newAccess().client(east.config);
    const stsCallsBefore = east.webhook.stsCalls;

    expect(await client.listConfigMaps('team-a')).toEqual([]);

    expect(east.webhook.stsCalls).toBeGreaterThan(stsCallsBefore);
    expect(east.webhook.reviews.at(-1)).toMatchObject({ authenticated: true, username: ROLE_ARN });
  });

  test('reuses one client per cluster', async () => {
    const access = newAccess();
    const client = await access.client(west.config);

    expect(await access.client(west.config)).toBe(client);
    expect(await access.client(east.config)).not.toBe(client);
    expect(await client.getConfigMap('team-a', 'absent')).toBeUndefined();
  });

  test('fails with Unauthorized, after one fresh token, when the token is for another cluster', async () => {
    // The name of the east cluster, pointed at the west API server: the token is signed for
    // x-k8s-aws-id "orders-use1", the west webhook verifies it as "orders-euw1".
    const misdirected: KubernetesClusterConfig = { ...west.config, name: east.name };
    const reviewsBefore = west.webhook.reviews.length;

    const error = await apiError((await newAccess().client(misdirected)).listConfigMaps('team-a'));

    expect(error).toMatchObject({ statusCode: 401, reason: 'Unauthorized', message: 'LIST configmaps/team-a: 401 Unauthorized' });
    const reviews = west.webhook.reviews.slice(reviewsBefore);
    expect(reviews.map((r) => r.reason)).toEqual(['SignatureDoesNotMatch', 'SignatureDoesNotMatch']);
  });

  test('mints a new token once the clock passes the token lifetime', async () => {
    const clock = new TestClock();
    const client = await newAccess(clock).client(east.config);
    await client.listConfigMaps('team-a');

    // 15 minutes later, for the client and the cluster alike: the old token is now expired.
    clock.offsetMs = 15 * MINUTE;
    east.webhook.setClockSkewMs(15 * MINUTE);
    try {
      await client.listConfigMaps('team-a');
    } finally {
      east.webhook.setClockSkewMs(0);
    }

    const last = east.webhook.reviews.at(-1)!;
    expect(last.authenticated).toBe(true);
    expect(last.signedAt!.getTime()).toBeGreaterThan(Date.now() + 14 * MINUTE);
  });

  test('replaces a token the cluster considers expired (401) with a fresh one and succeeds', async () => {
    // The client's clock starts 5 minutes behind, so its first token matches none used before.
    const clock = new TestClock();
    clock.offsetMs = -5 * MINUTE;
    const access = newAccess(clock);
    // Mint that token through a request that never reaches the cluster (nothing listens on the
    // endpoint): the apiserver caches successful reviews for 10 s, so a token it has accepted
    // would stay accepted whatever the webhook said now.
    const unreachable = { ...east.config, endpoint: east.endpoint.replace(/:\d+$/, `:${await closedLocalPort()}`) };
    expect((await apiError((await access.client(unreachable)).listConfigMaps('team-a'))).reason).toBe('ECONNREFUSED');

    // 10 minutes later the client still trusts its 14-minute token; the cluster, whose clock is
    // 10 minutes ahead of the client's, sees it 20 minutes old (and a fresh one 10 minutes old).
    clock.offsetMs = 5 * MINUTE;
    east.webhook.setClockSkewMs(15 * MINUTE);
    const reviewsBefore = east.webhook.reviews.length;
    try {
      await (await access.client(east.config)).listConfigMaps('team-a');
    } finally {
      east.webhook.setClockSkewMs(0);
    }

    expect(east.webhook.reviews.slice(reviewsBefore).map((r) => r.reason ?? 'accepted')).toEqual(['Expired', 'accepted']);
  });

  test('never accepts a server whose certificate does not chain to the cluster CA', async () => {
    const wrongCa = { ...east.config, certificateAuthorityData: west.certificateAuthorityData };

    const error = await apiError((await newAccess().client(wrongCa)).listConfigMaps('team-a'));

    expect(error.statusCode).toBe(0);
    expect(error.reason).toMatch(/CERT|SELF_SIGNED|UNABLE_TO_VERIFY/);
  });

  test('resolves endpoint and CA with eks:DescribeCluster once per cluster', async () => {
    const eks = mockClient(EKSClient);
    try {
      eks.on(DescribeClusterCommand, { name: west.name }).resolves({
        cluster: { name: west.name, endpoint: west.endpoint, certificateAuthority: { data: west.certificateAuthorityData } },
      });
      const access = newAccess();

      const client = await access.client({ name: west.name, region: west.region });
      await client.listConfigMaps('team-a');
      await access.client({ name: west.name, region: west.region });

      expect(eks.commandCalls(DescribeClusterCommand)).toHaveLength(1);
    } finally {
      eks.restore();
    }
  });
});

describe('authorization', () => {
  test('fails with Forbidden in a namespace without an access policy', async () => {
    const client = await newAccess().client(east.config);

    const error = await apiError(client.listConfigMaps('no-access'));

    expect(error).toMatchObject({ statusCode: 403, reason: 'Forbidden', message: 'LIST configmaps/no-access: 403 Forbidden' });
  });

  test('reads but cannot write with the view policy', async () => {
    const client = await newAccess().client(west.config);
    await west.admin.applyConfigMap('team-view', 'readable', { mode: value('mode') }, OTHER_MANAGER);

    expect((await client.getConfigMap('team-view', 'readable'))?.name).toBe('readable');
    const error = await apiError(client.applyConfigMap({ namespace: 'team-view', name: 'readable', data: { mode: value('m') }, fieldManager: MANAGER }));
    expect(error).toMatchObject({ statusCode: 403, reason: 'Forbidden' });
  });

  test('creates a namespace when allowed, and leaves an existing one alone', async () => {
    const client = await newAccess().client(east.config);
    await expect(apiError(client.ensureNamespace('created-by-syncer', MANAGER))).resolves.toMatchObject({ reason: 'Forbidden' });

    await east.grantNamespaces(ROLE_ARN);
    const teamABefore = (await east.admin.request('GET', '/api/v1/namespaces/team-a')).body;
    await client.ensureNamespace('created-by-syncer', MANAGER);
    await client.ensureNamespace('created-by-syncer', MANAGER);
    await client.ensureNamespace('team-a', MANAGER);

    expect(await east.admin.namespaceExists('created-by-syncer')).toBe(true);
    const teamAAfter = (await east.admin.request('GET', '/api/v1/namespaces/team-a')).body;
    expect(teamAAfter.metadata.resourceVersion).toBe(teamABefore.metadata.resourceVersion);
  });
});

describe('ConfigMaps', () => {
  test('applies, reads, lists and deletes a ConfigMap', async () => {
    const client = await newAccess().client(east.config);
    const data = { endpoint: value('endpoint'), mode: value('mode') };

    const applied = await client.applyConfigMap({
      namespace: 'team-a', name: 'app-settings', data, labels: { app: 'orders' }, annotations: { owner: 'platform' }, fieldManager: MANAGER,
    });
    const read = await client.getConfigMap('team-a', 'app-settings');
    const listed = await client.listConfigMaps('team-a', { labelSelector: 'app=orders' });

    expect(applied).toMatchObject({ namespace: 'team-a', name: 'app-settings', data, labels: { app: 'orders' }, annotations: { owner: 'platform' }, binaryDataKeys: [] });
    expect(read).toMatchObject({ data, uid: applied.uid, resourceVersion: applied.resourceVersion });
    expect(read!.managedFields).toEqual([expect.objectContaining({ manager: MANAGER, operation: 'Apply' })]);
    expect(listed.map((c) => c.name)).toEqual(['app-settings']);
    expect(await client.deleteConfigMap('team-a', 'app-settings')).toBe(true);
    expect(await client.getConfigMap('team-a', 'app-settings')).toBeUndefined();
    expect(await client.deleteConfigMap('team-a', 'app-settings')).toBe(false);
  });

  test('lists every ConfigMap across pages', async () => {
    const client = await newAccess().client(west.config);
    await west.grant('paged', ROLE_ARN, 'view');
    const names = Array.from({ length: 230 }, (_, i) => `cm-${String(i).padStart(3, '0')}`);
    for (let i = 0; i < names.length; i += 25) {
      await Promise.all(names.slice(i, i + 25).map((name) => west.admin.applyConfigMap('paged', name, { n: name }, OTHER_MANAGER)));
    }

    const listed = await client.listConfigMaps('paged');

    // 230 objects are three pages of 100: every one comes back, once.
    expect(listed.map((c) => c.name).sort()).toEqual(names);
  });

  test('reads binaryData keys without their bytes', async () => {
    const client = await newAccess().client(east.config);
    await east.admin.apply('/api/v1/namespaces/team-a/configmaps/with-binary', {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'with-binary', namespace: 'team-a' },
      data: { text: 'plain' },
      binaryData: { blob: Buffer.from('bytes').toString('base64') },
    }, OTHER_MANAGER);

    const read = await client.getConfigMap('team-a', 'with-binary');

    expect(read).toMatchObject({ data: { text: 'plain' }, binaryDataKeys: ['blob'] });
  });
});

describe('server-side apply', () => {
  test('prunes keys it applied before and keeps keys another manager owns', async () => {
    const client = await newAccess().client(east.config);
    const [a, b, theirs] = [value('a'), value('b'), value('theirs')];
    await client.applyConfigMap({ namespace: 'team-a', name: 'shared', data: { a, b }, fieldManager: MANAGER });
    await east.admin.applyConfigMap('team-a', 'shared', { theirs }, OTHER_MANAGER);

    const result = await client.applyConfigMap({ namespace: 'team-a', name: 'shared', data: { a }, fieldManager: MANAGER });

    expect(result.data).toEqual({ a, theirs });
    expect(result.managedFields.map((m) => m.manager).sort()).toEqual([MANAGER, OTHER_MANAGER].sort());
  });

  test('fails with Conflict naming the other manager, and takes the key over with force', async () => {
    const client = await newAccess().client(west.config);
    const theirs = value('theirs');
    const ours = value('ours');
    await west.admin.applyConfigMap('team-a', 'contested', { region: theirs }, OTHER_MANAGER);

    const error = await apiError(client.applyConfigMap({ namespace: 'team-a', name: 'contested', data: { region: ours }, fieldManager: MANAGER }));
    expect(error).toMatchObject({ statusCode: 409, reason: 'Conflict', conflictingManagers: [OTHER_MANAGER] });
    expect(error.message).toBe(`PATCH configmaps/team-a/contested: 409 Conflict (conflicting managers: ${OTHER_MANAGER}; fields: .data.region)`);
    expect((await west.admin.getConfigMap('team-a', 'contested')).data.region).toBe(theirs);

    const forced = await client.applyConfigMap({ namespace: 'team-a', name: 'contested', data: { region: ours }, fieldManager: MANAGER, force: true });

    expect(forced.data.region).toBe(ours);
    const owners = forced.managedFields.filter((m) => JSON.stringify(m.fieldsV1 ?? {}).includes('f:region')).map((m) => m.manager);
    expect(owners).toEqual([MANAGER]);
  });

  test('changes nothing on a dry run', async () => {
    const client = await newAccess().client(east.config);
    const before = value('before');
    const after = value('after');
    await client.applyConfigMap({ namespace: 'team-a', name: 'dry', data: { k: before }, fieldManager: MANAGER });

    const preview = await client.applyConfigMap({ namespace: 'team-a', name: 'dry', data: { k: after }, fieldManager: MANAGER, dryRun: true });
    const created = await client.applyConfigMap({ namespace: 'team-a', name: 'dry-new', data: { k: after }, fieldManager: MANAGER, dryRun: true });

    expect(preview.data.k).toBe(after);
    expect(created.name).toBe('dry-new');
    expect((await east.admin.getConfigMap('team-a', 'dry')).data.k).toBe(before);
    expect(await east.admin.getConfigMap('team-a', 'dry-new')).toBeUndefined();
  });

  test('fails cleanly, without the value, when the data is over 1 MiB', async () => {
    const client = await newAccess().client(west.config);
    // Over the 1 MiB ConfigMap limit (422 from validation), and over the 3 MiB request body limit
    // (413 before any decoding); both start with a recognisable value for the leak scan.
    const overConfigMapLimit = value('big').padEnd(1024 * 1024 + 1024, 'z');
    const overRequestLimit = value('huge').padEnd(3 * 1024 * 1024 + 1024, 'z');

    const invalid = await apiError(client.applyConfigMap({ namespace: 'team-a', name: 'too-big', data: { payload: overConfigMapLimit }, fieldManager: MANAGER }));
    const tooLarge = await apiError(client.applyConfigMap({ namespace: 'team-a', name: 'too-big', data: { payload: overRequestLimit }, fieldManager: MANAGER }));

    expect(invalid).toMatchObject({ statusCode: 422, reason: 'Invalid', fields: ['[]'] });
    expect(invalid.message).toBe('PATCH configmaps/team-a/too-big: 422 Invalid (fields: [] FieldValueTooLong)');
    expect(tooLarge).toMatchObject({ statusCode: 413, reason: 'RequestEntityTooLarge', message: 'PATCH configmaps/team-a/too-big: 413 RequestEntityTooLarge' });
    expect(await west.admin.getConfigMap('team-a', 'too-big')).toBeUndefined();
  });
});

describe('failure isolation', () => {
  test('a stopped cluster fails with ECONNREFUSED while the other keeps working', async () => {
    const access = newAccess(new TestClock(), 2_000);
    const [eastClient, westClient] = [await access.client(east.config), await access.client(west.config)];
    const v = value('still-works');

    await west.stop();
    const error = await apiError(westClient.listConfigMaps('team-a'));
    await eastClient.applyConfigMap({ namespace: 'team-a', name: 'isolated', data: { v }, fieldManager: MANAGER });

    expect(error).toMatchObject({ statusCode: 0, reason: 'ECONNREFUSED', message: 'LIST configmaps/team-a: ECONNREFUSED' });
    expect((await eastClient.getConfigMap('team-a', 'isolated'))?.data.v).toBe(v);
  });
});

describe('leak scan', () => {
  test('no ConfigMap value appears in any log line or error', () => {
    const logged = output.lines.join('\n');
    const raised = errors.join('\n');
    // Sanity: the scan sees what the code under test logs and raises.
    expect(output.logs().length).toBeGreaterThan(0);
    expect(errors.length).toBeGreaterThan(0);
    const leaked = values.filter((v) => logged.includes(v) || raised.includes(v));
    expect(leaked).toEqual([]);
  });
});
