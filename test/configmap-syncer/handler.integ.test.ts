/**
 * The ConfigMapSyncer handler against moto (SSM, Secrets Manager, STS) and two real kube-apiservers
 * ("clusters" blue in us-east-1 and green in eu-west-1) that authenticate the handler's IAM role
 * through an EKS-like token webhook backed by moto's STS, with RBAC standing in for EKS access
 * policies. The tests run in order and share the clusters' state. Runs on the Lambda runtime's
 * Node major.
 */
import { createHash, randomUUID } from 'node:crypto';
import { tmpdir } from 'node:os';
import { PutSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { DeleteParameterCommand, PutParameterCommand } from '@aws-sdk/client-ssm';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { App, CfnElement, Stack } from 'aws-cdk-lib';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import type { createHandler as CreateHandler, SyncerDependencies } from '../../lambda-src/configmap-syncer/handler';
import type { SyncSummary } from '../../lambda-src/configmap-syncer/syncer';
import type { KubernetesAccess as KubernetesAccessType } from '../../lambda-src/shared/kubernetes';
import { ConfigMapSyncer, KubernetesCluster } from '../../src';
import type { KubernetesClusterConfig, SyncTargetConfig } from '../../src/configmap-syncer/contract';
import { CONFIGMAP_FIELD_MANAGER, CONTENT_HASH_ANNOTATION, SyncEnv } from '../../src/configmap-syncer/contract';
import { handlerServiceName } from '../../src/core/bundled-handler';
import { ConfigWorld, inParallel } from '../drift-detector/world';
import { FaultProxy, startFaultProxy } from '../harness/fault-proxy';
import { EvaluationGroup, evaluateGroups } from '../harness/iam-evaluation';
import { IamRecorder } from '../harness/iam-recorder';
import { closedLocalPort, KubeCluster, startKubeCluster, StsKeyring } from '../harness/kube';
import { applyEnv, awsTestEnv, MotoServer, startMotoServer } from '../harness/moto';
import { cloudTrailEvent, OutputCapture, recordingHandlers } from '../harness/world';

const ACCOUNT = '123456789012';
const ROLE_ARN = `arn:aws:iam::${ACCOUNT}:role/configmap-syncer`;
const REGION = 'us-east-1';
const NS = 'apps';
const CM = 'app-config';
const PATH = '/app/prod/config';
const SECRET_NAME = 'app/prod/config';
const OTHER_MANAGER = 'team-controller';
/** The service name (and so the run lease path) of the construct the IAM evaluation synthesizes, IamEvaluation/Syncer. */
const SERVICE = handlerServiceName(new Construct(new Stack(new App(), 'IamEvaluation'), 'Syncer'));
const METRIC_NAMESPACE = 'Test/ConfigMapSync';
const MINUTE = 60_000;

let moto: MotoServer;
/** Between the handler and moto, so every AWS call it makes is recorded for the IAM evaluation. */
let proxy: FaultProxy;
let recorder: IamRecorder;
let restoreEnv: () => void;
let blue: KubeCluster;
let green: KubeCluster;
let world: ConfigWorld;
let secretArn: string;
const keyring = new StsKeyring();
const output = new OutputCapture();
/** Every source value the tests create: none may appear in a log line, a result or an error. */
const values: string[] = [];
/** Every result and error the handler produced. */
const results: string[] = [];
/** The source's secret, as the tests change it. Holds values: never print it. */
let secretJson: Record<string, unknown>;
/** What every target ConfigMap should hold (the syncer's keys), as the tests change the source. */
const expected: Record<string, string> = {};
let rawCreateHandler: typeof CreateHandler;
let KubernetesAccess: typeof KubernetesAccessType;
let ClientCache: typeof import('../../lambda-src/shared/clients').ClientCache;

/** A fresh, recognisable value, registered for the leak scan. Lowercase and a UUID: ordinary config to the heuristic. */
function value(label: string): string {
  const v = `${label}-${randomUUID()}`;
  values.push(v);
  return v;
}

function target(cluster: KubeCluster, overrides: Partial<SyncTargetConfig> = {}): SyncTargetConfig {
  return { cluster: cluster.config, namespace: NS, configMapName: CM, createNamespace: false, ...overrides };
}

function env(overrides: Record<string, string> = {}, targets: SyncTargetConfig[] = [target(blue), target(green)]): NodeJS.ProcessEnv {
  return {
    ...process.env,
    [SyncEnv.PRIMARY_REGION]: REGION,
    [SyncEnv.SOURCE_PARAMETER_PATH]: PATH,
    [SyncEnv.SOURCE_SECRET_ARN]: secretArn,
    [SyncEnv.TARGETS]: JSON.stringify(targets),
    ...overrides,
  };
}

/** A handler as Lambda would build it at cold start, recording its results and errors. */
function handler(environment: NodeJS.ProcessEnv, dependencies: SyncerDependencies = {}): (event: unknown) => Promise<SyncSummary> {
  return recordingHandlers((e) => rawCreateHandler(e, dependencies), results)(environment);
}

const outcomes = (summary: SyncSummary) => summary.targets.map((t) => `${t.cluster} ${t.namespace}/${t.configMapName} ${t.outcome}${t.errorName ? ` ${t.errorName}` : ''}`);
const parameterChange = (name: string) => ({
  'version': '0',
  'id': randomUUID(),
  'detail-type': 'Parameter Store Change',
  'source': 'aws.ssm',
  'account': ACCOUNT,
  'time': new Date().toISOString(),
  'region': REGION,
  'resources': [`arn:aws:ssm:${REGION}:${ACCOUNT}:parameter${name}`],
  'detail': { name, type: 'String', operation: 'Update' },
});
const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
/** The content hash as the issue defines it: SHA-256 of the JSON of the data with sorted keys (no integer-like keys here). */
const expectedHash = () => sha256(JSON.stringify(Object.fromEntries(Object.entries(expected).sort(([a], [b]) => (a < b ? -1 : 1)))));

async function putParameter(name: string, v: string, type: 'String' | 'SecureString' = 'String'): Promise<void> {
  await world.putParameter(REGION, `${PATH}/${name}`, v, type);
}

async function putSecret(json: Record<string, unknown>): Promise<void> {
  secretJson = json;
  await world.client(REGION).send(new PutSecretValueCommand({ SecretId: secretArn, SecretString: JSON.stringify(json) }));
}

async function data(cluster: KubeCluster, name = CM, namespace = NS): Promise<Record<string, string> | undefined> {
  return (await cluster.admin.getConfigMap(namespace, name))?.data;
}

beforeAll(async () => {
  moto = await startMotoServer();
  restoreEnv = applyEnv({
    ...awsTestEnv(moto.endpoint, REGION),
    POWERTOOLS_SERVICE_NAME: SERVICE,
    POWERTOOLS_METRICS_NAMESPACE: METRIC_NAMESPACE,
  });
  // The Lambda's credentials: a session of its execution role, as Lambda hands them out.
  const assumed = await new STSClient({ region: REGION }).send(new AssumeRoleCommand({ RoleArn: ROLE_ARN, RoleSessionName: 'configmap-syncer' }));
  const credentials = {
    accessKeyId: assumed.Credentials!.AccessKeyId!,
    secretAccessKey: assumed.Credentials!.SecretAccessKey!,
    sessionToken: assumed.Credentials!.SessionToken!,
  };
  keyring.register(credentials);
  proxy = await startFaultProxy({ target: moto.endpoint });
  recorder = new IamRecorder(moto.endpoint, credentials.accessKeyId);
  recorder.attach(proxy);
  world = new ConfigWorld(moto.endpoint);
  Object.assign(process.env, {
    AWS_ACCESS_KEY_ID: credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
    AWS_SESSION_TOKEN: credentials.sessionToken,
    AWS_ENDPOINT_URL: proxy.endpoint,
    // EKS tokens are presigned STS URLs the API servers' webhook verifies with moto: sign them for moto.
    AWS_ENDPOINT_URL_STS: moto.endpoint,
  });

  const clusters = Promise.all([
    startKubeCluster({ name: 'blue', region: 'us-east-1', motoEndpoint: moto.endpoint, keyring }),
    startKubeCluster({ name: 'green', region: 'eu-west-1', motoEndpoint: moto.endpoint, keyring }),
  ]);

  // The source: parameters below the path, and a secret whose max_connections wins over the parameter's.
  Object.assign(expected, { 'log_level': value('log'), 'cache_ttl': value('ttl'), 'db.pool': value('pool') });
  await Promise.all([
    putParameter('log_level', expected.log_level),
    putParameter('cache_ttl', expected.cache_ttl),
    putParameter('db/pool', expected['db.pool']),
    putParameter('max_connections', value('max-connections-parameter')),
  ]);
  secretJson = {
    'max_connections': value('max-connections'),
    'session_timeout': value('session'),
    'retries': 3,
    'feature_beta': true,
    'nested': { inner: value('nested') },
    'bad key': value('bad-key'),
  };
  Object.assign(expected, { max_connections: secretJson.max_connections, session_timeout: secretJson.session_timeout, retries: '3', feature_beta: 'true' });
  secretArn = await world.create(REGION, SECRET_NAME, JSON.stringify(secretJson));

  [blue, green] = await clusters;
  await Promise.all([blue.grant(NS, ROLE_ARN, 'edit'), green.grant(NS, ROLE_ARN, 'edit')]);

  /* eslint-disable @typescript-eslint/no-require-imports */
  rawCreateHandler = require('../../lambda-src/configmap-syncer/handler').createHandler;
  ({ KubernetesAccess } = require('../../lambda-src/shared/kubernetes'));
  ({ ClientCache } = require('../../lambda-src/shared/clients'));
  /* eslint-enable @typescript-eslint/no-require-imports */
  output.start();
}, 300_000);

afterAll(async () => {
  output.stop();
  await Promise.all([blue?.stop(), green?.stop()]);
  await proxy?.stop();
  await moto?.stop();
  restoreEnv?.();
});

test('syncs the selected source keys to the ConfigMap in both clusters, then finds them in sync', async () => {
  const mark = output.lines.length;

  const result = await handler(env())({ action: 'sync' });

  expect(outcomes(result)).toEqual([`blue ${NS}/${CM} applied`, `green ${NS}/${CM} applied`]);
  expect(result.targets[1]).toEqual({
    cluster: 'green', region: 'eu-west-1', namespace: NS, configMapName: CM, outcome: 'applied', keys: 7, keysExcluded: [],
  });
  for (const cluster of [blue, green]) {
    const cm = await cluster.admin.getConfigMap(NS, CM);
    expect(cm.data).toEqual(expected);
    expect(cm.metadata.annotations[CONTENT_HASH_ANNOTATION]).toBe(expectedHash());
    expect(cm.metadata.managedFields.map((f: any) => `${f.manager} ${f.operation}`)).toEqual([`${CONFIGMAP_FIELD_MANAGER} Apply`]);
  }
  // Keys left out are named in the logs: a non-scalar secret value, an invalid key, the overridden parameter.
  const logs = output.logs(mark);
  expect(logs.find((l) => l.message.startsWith('secret keys skipped'))?.keys).toEqual(['nested']);
  expect(logs.find((l) => l.message.startsWith('source keys skipped: not valid ConfigMap keys'))?.keys).toEqual(['bad key']);
  expect(logs.find((l) => l.message.startsWith('keys of the secret take precedence'))?.keys).toEqual(['max_connections']);

  const again = await handler(env())({ action: 'sync' });
  expect(outcomes(again)).toEqual([`blue ${NS}/${CM} unchanged`, `green ${NS}/${CM} unchanged`]);
});

test('a parameter change adds, changes and removes keys; the removed key is pruned from the ConfigMaps', async () => {
  expected['feature.new_checkout'] = value('checkout');
  expected.log_level = value('log-v2');
  delete expected.cache_ttl;
  await putParameter('feature/new_checkout', expected['feature.new_checkout']);
  await putParameter('log_level', expected.log_level);
  await world.ssm(REGION).send(new DeleteParameterCommand({ Name: `${PATH}/cache_ttl` }));

  const result = await handler(env())(parameterChange(`${PATH}/cache_ttl`));

  expect(result).toMatchObject({ action: 'sync', trigger: 'Parameter Store Change' });
  expect(outcomes(result)).toEqual([`blue ${NS}/${CM} applied`, `green ${NS}/${CM} applied`]);
  for (const cluster of [blue, green]) {
    const cm = await cluster.admin.getConfigMap(NS, CM);
    expect(cm.data).toEqual(expected);
    expect(cm.data.cache_ttl).toBeUndefined();
    expect(cm.metadata.annotations[CONTENT_HASH_ANNOTATION]).toBe(expectedHash());
  }
});

test('keeps a key another field manager added to the ConfigMap', async () => {
  const note = value('note');
  await green.admin.applyConfigMap(NS, CM, { team_note: note }, OTHER_MANAGER);

  const result = await handler(env())({ action: 'sync' });

  expect(outcomes(result)).toEqual([`blue ${NS}/${CM} unchanged`, `green ${NS}/${CM} unchanged`]);
  expect(await data(green)).toEqual({ ...expected, team_note: note });
  expect(await data(blue)).toEqual(expected);
});

test('reports a conflict over a key another manager took, and takes it back only with FORCE_CONFLICTS', async () => {
  const note = (await data(green))!.team_note;
  const theirs = value('theirs');
  // The other team's controller forces its own log_level (keeping its team_note).
  await green.admin.applyConfigMap(NS, CM, { team_note: note, log_level: theirs }, OTHER_MANAGER, true);

  const refused = await handler(env())({ action: 'sync' });

  expect(outcomes(refused)).toEqual([`blue ${NS}/${CM} unchanged`, `green ${NS}/${CM} failed Conflict`]);
  expect(refused.targets[1]).toMatchObject({ httpStatus: 409, conflictingManagers: [OTHER_MANAGER] });
  expect(refused.targets[1].errorMessage).toBe(`PATCH configmaps/${NS}/${CM}: 409 Conflict (conflicting managers: ${OTHER_MANAGER}; fields: .data.log_level)`);
  expect((await data(green))!.log_level).toBe(theirs);

  const forced = await handler(env({ [SyncEnv.FORCE_CONFLICTS]: 'true' }))({ action: 'sync' });

  expect(outcomes(forced)).toEqual([`blue ${NS}/${CM} unchanged`, `green ${NS}/${CM} applied`]);
  const cm = await green.admin.getConfigMap(NS, CM);
  expect(cm.data).toEqual({ ...expected, team_note: note });
  const owners = cm.metadata.managedFields.filter((m: any) => JSON.stringify(m.fieldsV1 ?? {}).includes('"f:log_level"')).map((m: any) => m.manager);
  expect(owners).toEqual([CONFIGMAP_FIELD_MANAGER]);
});

test('refuses keys whose names or values look sensitive: named in the summary and logs, their values nowhere', async () => {
  const sensitive = {
    dbPassword: value('db-password'),
    apiToken: value('api-token'),
    urlPassword: value('url-password'),
    pemBody: `MIIEv${value('pem-body').replace(/-/g, '')}`,
    accessKeyId: `AKIA${randomUUID().replace(/-/g, '').slice(0, 16).toUpperCase()}`,
    jwtPayload: Buffer.from(JSON.stringify({ sub: value('jwt-sub') })).toString('base64url'),
  };
  values.push(...Object.values(sensitive));
  await putParameter('db/password', sensitive.dbPassword, 'SecureString');
  await putSecret({
    ...secretJson,
    api_token: sensitive.apiToken,
    upstream_url: `https://orders:${sensitive.urlPassword}@upstream.internal/v1`,
    tls_bundle: `-----BEGIN PRIVATE KEY-----\n${sensitive.pemBody}\n-----END PRIVATE KEY-----`,
    deploy_hint: `use ${sensitive.accessKeyId} for the deployment`,
    callback_payload: `eyJhbGciOiJIUzI1NiJ9.${sensitive.jwtPayload}.c2lnbmF0dXJl`,
  });
  const mark = output.lines.length;

  const result = await handler(env())(cloudTrailEvent('PutSecretValue', secretArn));

  const refused = ['api_token', 'callback_payload', 'db.password', 'deploy_hint', 'tls_bundle', 'upstream_url'];
  expect(result).toMatchObject({ action: 'sync', trigger: 'PutSecretValue' });
  expect(outcomes(result)).toEqual([`blue ${NS}/${CM} unchanged`, `green ${NS}/${CM} unchanged`]);
  expect(result.targets.map((t) => t.keysExcluded)).toEqual([refused, refused]);
  for (const cluster of [blue, green]) {
    const synced = Object.entries((await data(cluster))!);
    expect(synced.filter(([k]) => refused.includes(k)).map(([k]) => k)).toEqual([]);
    expect(synced.filter(([, v]) => Object.values(sensitive).some((s) => v.includes(s))).map(([k]) => k)).toEqual([]);
  }
  const log = output.logs(mark).find((l) => l.message.startsWith('source keys refused'));
  expect(log).toMatchObject({
    level: 'WARN',
    keys: refused,
    reasons: {
      'api_token': 'name',
      'db.password': 'name',
      'upstream_url': 'url-credentials',
      'tls_bundle': 'private-key',
      'deploy_hint': 'aws-access-key-id',
      'callback_payload': 'jwt',
    },
  });
  const seen = [...output.lines.slice(mark), ...results].join('\n');
  expect(Object.values(sensitive).filter((s) => seen.includes(s))).toEqual([]);
});

test('refuses data over the 1 MiB ConfigMap limit with a clear error and writes nothing', async () => {
  // 130 advanced parameters of 8,100 bytes: about 1.05 MB, each value well within its own 8 KB limit.
  const names = Array.from({ length: 130 }, (_, i) => `/app/big/chunk_${String(i).padStart(3, '0')}`);
  await inParallel(names, 10, async (name) => {
    await world.ssm(REGION).send(new PutParameterCommand({ Name: name, Value: value('chunk').padEnd(8_100, 'x'), Type: 'String', Tier: 'Advanced' }));
  });
  const big = [target(blue, { configMapName: 'big-config' }), target(green, { configMapName: 'big-config' })];

  const result = await handler(env({ [SyncEnv.SOURCE_PARAMETER_PATH]: '/app/big', [SyncEnv.SOURCE_SECRET_ARN]: '' }, big))({ action: 'sync' });

  expect(outcomes(result)).toEqual([`blue ${NS}/big-config failed ConfigMapTooLarge`, `green ${NS}/big-config failed ConfigMapTooLarge`]);
  expect(result.targets[0].keys).toBe(130);
  expect(result.targets[0].errorMessage).toMatch(/^the selected keys hold 105\d{4} bytes \(130 keys\), over the 1044480 bytes a ConfigMap can take \(1 MiB less 4096 bytes for metadata\)/);
  expect(await data(blue, 'big-config')).toBeUndefined();
  expect(await data(green, 'big-config')).toBeUndefined();
});

test('a target namespace without an access grant fails with Forbidden (403) while the other target syncs', async () => {
  await blue.admin.createNamespace('locked');
  expected.log_level = value('log-v3');
  await putParameter('log_level', expected.log_level);
  const targets = [target(blue, { namespace: 'locked' }), target(green)];

  // A change event with a failure fails the invocation (Lambda retries, then dead-letters), after syncing the rest.
  await expect(handler(env({}, targets))(parameterChange(`${PATH}/log_level`))).rejects.toThrow(
    `sync after Parameter Store Change failed for 1 of 2 targets: us-east-1/blue locked/${CM} (Forbidden)`);
  expect((await data(green))!.log_level).toBe(expected.log_level);

  // The schedule's sync reports the failure and returns.
  const result = await handler(env({}, targets))({ action: 'sync' });
  expect(outcomes(result)).toEqual([`blue locked/${CM} failed Forbidden`, `green ${NS}/${CM} unchanged`]);
  expect(result.targets[0]).toMatchObject({ httpStatus: 403, errorMessage: `GET configmaps/locked/${CM}: 403 Forbidden` });
});

test('an unreachable cluster fails with ECONNREFUSED while the other syncs', async () => {
  await green.stop();
  expected['feature.new_checkout'] = value('checkout-v2');
  await putParameter('feature/new_checkout', expected['feature.new_checkout']);

  const result = await handler(env())({ action: 'sync' });

  expect(outcomes(result)).toEqual([`blue ${NS}/${CM} applied`, `green ${NS}/${CM} failed ECONNREFUSED`]);
  expect(result.targets[1].httpStatus).toBeUndefined();
  expect(await data(blue)).toEqual(expected);
});

test('replaces a token the cluster rejects as expired (401) with a fresh one, and syncs', async () => {
  expected.log_level = value('log-v4');
  await putParameter('log_level', expected.log_level);
  // The handler's clock starts 5 minutes behind, so its first token matches none the cluster saw.
  let offsetMs = -5 * MINUTE;
  const access = new KubernetesAccess(new ClientCache(REGION), { now: () => new Date(Date.now() + offsetMs) });
  try {
    // Mint that token through a request that never reaches the cluster: the apiserver caches
    // successful reviews for 10 s, so a token it had accepted would stay accepted.
    const unreachable: KubernetesClusterConfig = { ...blue.config, endpoint: blue.endpoint.replace(/:\d+$/, `:${await closedLocalPort()}`) };
    await expect((await access.client(unreachable)).getConfigMap(NS, CM)).rejects.toMatchObject({ reason: 'ECONNREFUSED' });

    // 10 minutes later the handler still trusts its 14-minute token; the cluster, whose clock is 10
    // minutes ahead of the handler's, sees it 20 minutes old (and a fresh one 10 minutes old).
    offsetMs = 5 * MINUTE;
    blue.webhook.setClockSkewMs(15 * MINUTE);
    const reviewsBefore = blue.webhook.reviews.length;
    let result: SyncSummary;
    try {
      result = await handler(env({}, [target(blue)]), { kubernetes: access })({ action: 'sync' });
    } finally {
      blue.webhook.setClockSkewMs(0);
    }

    expect(outcomes(result)).toEqual([`blue ${NS}/${CM} applied`]);
    expect(blue.webhook.reviews.slice(reviewsBefore).map((r) => r.reason ?? 'accepted')).toEqual(['Expired', 'accepted']);
    expect((await data(blue))!.log_level).toBe(expected.log_level);
  } finally {
    access.close();
  }
});

test('recreates a ConfigMap deleted out of band on the next sync', async () => {
  const deleted = await blue.admin.request('DELETE', `/api/v1/namespaces/${NS}/configmaps/${CM}`);
  expect(deleted.status).toBe(200);

  const result = await handler(env({}, [target(blue)]))({ action: 'sync' });

  expect(outcomes(result)).toEqual([`blue ${NS}/${CM} applied`]);
  const cm = await blue.admin.getConfigMap(NS, CM);
  expect(cm.data).toEqual(expected);
  expect(cm.metadata.annotations[CONTENT_HASH_ANNOTATION]).toBe(expectedHash());
});

test('test_sync shows what would change and changes nothing', async () => {
  const targets = [target(blue), target(blue, { configMapName: 'preview-config' })];
  const mark = output.lines.length;

  const inSync = await handler(env({}, targets))({ action: 'test_sync' });
  expect(outcomes(inSync)).toEqual([`blue ${NS}/${CM} would-be-unchanged`, `blue ${NS}/preview-config would-apply`]);

  const before = await blue.admin.getConfigMap(NS, CM);
  const pending = value('log-v5');
  await putParameter('log_level', pending);
  const changed = await handler(env({}, targets))({ action: 'test_sync' });

  expect(changed).toMatchObject({ action: 'test_sync', trigger: 'test_sync' });
  expect(outcomes(changed)).toEqual([`blue ${NS}/${CM} would-apply`, `blue ${NS}/preview-config would-apply`]);
  const after = await blue.admin.getConfigMap(NS, CM);
  expect(after.metadata.resourceVersion).toBe(before.metadata.resourceVersion);
  expect(after.data.log_level).toBe(expected.log_level);
  expect(await data(blue, 'preview-config')).toBeUndefined();
  expect(output.emf(mark)).toEqual([]);
  expected.log_level = pending;
});

test('emits SyncSuccess, SyncFailure and KeysExcluded in total and per cluster', async () => {
  const mark = output.lines.length;

  const result = await handler(env())({ action: 'sync' });

  expect(outcomes(result)).toEqual([`blue ${NS}/${CM} applied`, `green ${NS}/${CM} failed ECONNREFUSED`]);
  const total = { service: SERVICE };
  const perCluster = (cluster: string) => ({ service: SERVICE, Cluster: cluster });
  expect(output.metricSum('SyncSuccess', total, mark)).toBe(1);
  expect(output.metricSum('SyncFailure', total, mark)).toBe(1);
  expect(output.metricSum('KeysExcluded', total, mark)).toBe(12);
  expect(output.metricSum('SyncSuccess', perCluster('us-east-1/blue'), mark)).toBe(1);
  expect(output.metricSum('SyncFailure', perCluster('us-east-1/blue'), mark)).toBe(0);
  expect(output.metricSum('SyncFailure', perCluster('eu-west-1/green'), mark)).toBe(1);
  expect(output.metricSum('SyncSuccess', perCluster('eu-west-1/green'), mark)).toBe(0);
  expect(output.metricSum('KeysExcluded', perCluster('us-east-1/blue'), mark)).toBe(6);
  expect(output.metricSum('KeysExcluded', perCluster('eu-west-1/green'), mark)).toBe(6);
  for (const doc of output.emf(mark)) expect(doc._aws.CloudWatchMetrics[0].Namespace).toBe(METRIC_NAMESPACE);
});

test('refuses an HTTP Basic credential and a scheme-less user:password@host under innocent names: they never reach a ConfigMap', async () => {
  const sensitive = { basicPassword: value('basic-password'), hostPassword: value('host-password') };
  const basicToken = Buffer.from(`deploy:${sensitive.basicPassword}`).toString('base64');
  values.push(...Object.values(sensitive), basicToken);
  await putSecret({
    ...secretJson,
    upstream_header: `Basic ${basicToken}`,
    proxy_header: `Authorization: Basic ${basicToken}`,
    database_target: `orders:${sensitive.hostPassword}@db.internal:5432`,
  });
  const mark = output.lines.length;

  // The green cluster is down since the unreachable-cluster test; the blue one shows the outcome.
  const result = await handler(env({}, [target(blue)]))(cloudTrailEvent('PutSecretValue', secretArn));

  const refused = ['database_target', 'proxy_header', 'upstream_header'];
  expect(outcomes(result)).toEqual([`blue ${NS}/${CM} unchanged`]);
  expect(result.targets[0].keysExcluded).toEqual(expect.arrayContaining(refused));
  for (const cluster of [blue]) {
    const synced = Object.entries((await data(cluster))!);
    expect(synced.filter(([k]) => refused.includes(k)).map(([k]) => k)).toEqual([]);
    expect(synced.filter(([, v]) => [...Object.values(sensitive), basicToken].some((s) => v.includes(s))).map(([k]) => k)).toEqual([]);
  }
  const log = output.logs(mark).find((l) => l.message.startsWith('source keys refused'));
  expect(log).toMatchObject({
    level: 'WARN',
    keys: expect.arrayContaining(refused),
    reasons: { upstream_header: 'basic-credentials', proxy_header: 'basic-credentials', database_target: 'userinfo-credentials' },
  });
  const seen = [...output.lines.slice(mark), ...results].join('\n');
  expect([...Object.values(sensitive), basicToken].filter((s) => seen.includes(s))).toEqual([]);
});
/**
 * The stacks that deploy the configurations the tests above run the handler with: every AWS call it
 * made must be allowed by its role's synthesized policies (test/harness/iam-evaluation.ts says which
 * authorizations AWS implies and how they are mapped). Kubernetes calls go to the API servers and
 * are authorized there (the access grants of this suite).
 */
async function deployedConfigurations(): Promise<EvaluationGroup[]> {
  const calls = await recorder.calls();
  const groups = [
    { role: 'configmap syncer (large parameter path)', props: { parameterPath: '/app/big' }, tests: (t: string) => t.startsWith('refuses data over') },
    { role: 'configmap syncer', props: { parameterPath: PATH, withSecret: true }, tests: () => true },
  ];
  const claimed = new Set<unknown>();
  return groups.map((group) => {
    const app = new App();
    const stack = new Stack(app, 'IamEvaluation', { env: { account: ACCOUNT, region: REGION } });
    const syncer = new ConfigMapSyncer(stack, 'Syncer', {
      parameterPath: group.props.parameterPath,
      ...(group.props.withSecret ? { sourceSecret: secretsmanager.Secret.fromSecretCompleteArn(stack, 'Source', secretArn) } : {}),
      projectName: 'genai-demo',
      environmentName: 'production',
      targets: [
        { cluster: KubernetesCluster.fromClusterAttributes({ clusterName: 'blue', region: 'us-east-1' }), namespace: NS, configMapName: CM },
        { cluster: KubernetesCluster.fromClusterAttributes({ clusterName: 'green', region: 'eu-west-1' }), namespace: NS, configMapName: CM },
      ],
    });
    const own = calls.filter((c) => !claimed.has(c) && group.tests(c.test ?? ''));
    own.forEach((c) => claimed.add(c));
    return {
      role: group.role,
      calls: own,
      target: {
        template: app.synth().getStackByName(stack.stackName).template,
        roleLogicalId: stack.getLogicalId(syncer.role.node.defaultChild as CfnElement),
        region: REGION,
      },
    };
  });
}

test('every AWS call the handler made is allowed by the synthesized role policies of its configuration', async () => {
  expect((await recorder.calls()).length).toBeGreaterThan(10);
  await recorder.writeJsonLines(`${process.env.IAM_RECORDING_DIR ?? tmpdir()}/iam-calls-configmap-syncer.jsonl`);
  const { summary, failures } = await evaluateGroups(await deployedConfigurations());
  output.stop();
  console.log([...summary, ...failures.map((f) => `  ${f}`)].join('\n'));
  output.start();
  expect(failures).toEqual([]);
}, 120_000);

test('no source value (sensitive or not) appears in any log line, metric, result or error', () => {
  const haystacks = [...output.lines, ...results];
  // Sanity: the scan sees the logs (which name keys) and both results and errors.
  expect(output.logs().some((l) => JSON.stringify(l).includes('db.password'))).toBe(true);
  expect(results.some((r) => r.includes('Forbidden'))).toBe(true);
  expect(results.length).toBeGreaterThan(10);
  expect(values.filter((v) => haystacks.some((h) => h.includes(v)))).toEqual([]);
});
