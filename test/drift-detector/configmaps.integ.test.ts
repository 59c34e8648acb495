/**
 * The drift detector handler comparing ConfigMaps between two real kube-apiservers ("clusters" in
 * us-east-1 and eu-west-1) that authenticate the handler's IAM role through an EKS-like token
 * webhook backed by moto's STS, with RBAC standing in for EKS access policies. Runs on the Lambda
 * runtime's Node major.
 */
import { randomUUID } from 'node:crypto';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { ConfigWorld, reportSchemaErrors } from './world';
import { DriftEnv } from '../../src/drift-detector/contract';
import { KubeCluster, startKubeCluster, StsKeyring } from '../harness/kube';
import { applyEnv, awsTestEnv, MotoServer, startMotoServer } from '../harness/moto';
import { OutputCapture, recordingHandlers } from '../harness/world';

const ACCOUNT = '123456789012';
const ROLE_ARN = `arn:aws:iam::${ACCOUNT}:role/drift-detector`;
const NS = 'apps';
const BUCKET = 'configmap-drift-reports';

type Handler = (event: unknown) => Promise<any>;

let moto: MotoServer;
let restoreEnv: () => void;
let blue: KubeCluster;
let green: KubeCluster;
let world: ConfigWorld;
const keyring = new StsKeyring();
const output = new OutputCapture();
const values: string[] = [];
const results: string[] = [];
let createHandler: (env: NodeJS.ProcessEnv) => Handler;

function value(label: string): string {
  const v = `${label}-${randomUUID()}-Kq3`;
  values.push(v);
  return v;
}

function env(overrides: Record<string, string> = {}): NodeJS.ProcessEnv {
  return {
    ...process.env,
    [DriftEnv.PRIMARY_REGION]: 'us-east-1',
    [DriftEnv.REPLICA_TARGETS]: '[]',
    [DriftEnv.CONFIGMAP_SCOPES]: JSON.stringify([{ primary: blue.config, replicas: [green.config], namespace: NS, names: ['app-config', 'feature-flags', 'in-sync'] }]),
    [DriftEnv.IGNORE_RULES]: JSON.stringify([{ kind: 'configmap', namePattern: `${NS}/app-config`, keyPattern: 'region' }]),
    [DriftEnv.GRACE_WINDOW_SECONDS]: '0',
    [DriftEnv.REPORT_EXTRA_ITEMS]: 'true',
    [DriftEnv.REPORT_BUCKET]: BUCKET,
    [DriftEnv.ACCOUNT_ID]: ACCOUNT,
    ...overrides,
  };
}

const drifts = (result: any) => result.drifts.map((d: any) => `${d.name} ${d.driftType} ${d.replicaRegion} ${d.replicaCluster}`
  + (d.details ? ` ${d.details.map((x: any) => `${x.field}:${x.change}`).join(',')}` : '')
  + (d.failure ? ` ${d.failure.location}:${d.failure.errorName}` : ''));

beforeAll(async () => {
  moto = await startMotoServer();
  restoreEnv = applyEnv({
    ...awsTestEnv(moto.endpoint, 'us-east-1'),
    POWERTOOLS_SERVICE_NAME: 'ConfigMapDriftTest',
    POWERTOOLS_METRICS_NAMESPACE: 'Test/ConfigurationDrift',
  });
  // The Lambda's credentials: a session of its execution role, as Lambda hands them out.
  const assumed = await new STSClient({ region: 'us-east-1' }).send(new AssumeRoleCommand({ RoleArn: ROLE_ARN, RoleSessionName: 'drift-detector' }));
  const credentials = {
    accessKeyId: assumed.Credentials!.AccessKeyId!,
    secretAccessKey: assumed.Credentials!.SecretAccessKey!,
    sessionToken: assumed.Credentials!.SessionToken!,
  };
  keyring.register(credentials);
  world = new ConfigWorld(moto.endpoint);
  await world.createBucket('us-east-1', BUCKET);
  Object.assign(process.env, {
    AWS_ACCESS_KEY_ID: credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
    AWS_SESSION_TOKEN: credentials.sessionToken,
  });

  [blue, green] = await Promise.all([
    startKubeCluster({ name: 'blue', region: 'us-east-1', motoEndpoint: moto.endpoint, keyring }),
    startKubeCluster({ name: 'green', region: 'eu-west-1', motoEndpoint: moto.endpoint, keyring }),
  ]);
  await Promise.all([blue.grant(NS, ROLE_ARN, 'edit'), green.grant(NS, ROLE_ARN, 'edit')]);

  // The primary: three ConfigMaps, written by the team's own controller.
  const flags = value('flags');
  const same = { a: value('same-a'), b: value('same-b') };
  await blue.admin.applyConfigMap(NS, 'app-config', { log_level: value('log'), cache_ttl: value('ttl'), region: value('us') }, 'team-controller');
  await blue.admin.applyConfigMap(NS, 'feature-flags', { beta: flags }, 'team-controller');
  await blue.admin.applyConfigMap(NS, 'in-sync', same, 'team-controller');
  // The replica: app-config differs in cache_ttl (a drift), region (ignored) and has a local key; no feature-flags.
  const primaryApp = (await blue.admin.getConfigMap(NS, 'app-config')).data;
  await green.admin.applyConfigMap(NS, 'app-config', {
    log_level: primaryApp.log_level, cache_ttl: value('ttl-local'), region: value('eu'), local_only: value('local'),
  }, 'team-controller');
  await green.admin.applyConfigMap(NS, 'in-sync', same, 'team-controller');

  // eslint-disable-next-line @typescript-eslint/no-require-imports
  createHandler = recordingHandlers(require('../../lambda-src/drift-detector/handler').createHandler, results);
  output.start();
}, 300_000);

afterAll(async () => {
  output.stop();
  await Promise.all([blue?.stop(), green?.stop()]);
  await moto?.stop();
  restoreEnv?.();
});

test('reports a changed key and a missing ConfigMap by key name, honouring key ignore rules', async () => {
  const result = await createHandler(env())({ action: 'manual_check' });
  expect(drifts(result)).toEqual([
    `${NS}/app-config VALUE_MISMATCH eu-west-1 green key:cache_ttl:changed,key:local_only:extra`,
    `${NS}/feature-flags MISSING_IN_REPLICA eu-west-1 green`,
  ]);
  expect(result.drifts[0]).toMatchObject({ primaryCluster: 'blue', replicaCluster: 'green', kind: 'configmap' });
  expect(result.summary).toMatchObject({ itemsCompared: 3, byResourceType: { configmap: 2 }, byReplicaRegion: { 'eu-west-1': 2 } });
  const report = JSON.parse(await world.objectText('us-east-1', BUCKET, 'drift-reports/latest.json'));
  expect(reportSchemaErrors(report)).toEqual([]);
  expect(result.drifts[1].remediation.commands.at(-1)).toContain(`kubectl --context arn:aws:eks:us-east-1:${ACCOUNT}:cluster/blue -n ${NS} get configmap feature-flags`);
});

test('defers a ConfigMap changed in the primary within the grace window (its managedFields time)', async () => {
  // managedFields times are whole seconds: let the other ConfigMaps age past a 3-second window first.
  await new Promise((r) => setTimeout(r, 4_500));
  await blue.admin.applyConfigMap(NS, 'feature-flags', { beta: value('flags-v2') }, 'team-controller');
  const result = await createHandler(env({ [DriftEnv.GRACE_WINDOW_SECONDS]: '3' }))({ action: 'manual_check' });
  expect(result.deferred.map((d: any) => d.name)).toEqual([`${NS}/feature-flags`]);
  expect(drifts(result)).toEqual([`${NS}/app-config VALUE_MISMATCH eu-west-1 green key:cache_ttl:changed,key:local_only:extra`]);
});

test('a namespace the role may not read is a scan failure per ConfigMap (a real 403), not a missing one', async () => {
  await green.admin.createNamespace('locked');
  await blue.grant('locked', ROLE_ARN, 'view');
  await blue.admin.applyConfigMap('locked', 'secret-ish', { k: value('locked') }, 'team-controller');
  const result = await createHandler(env({
    [DriftEnv.CONFIGMAP_SCOPES]: JSON.stringify([{ primary: blue.config, replicas: [green.config], namespace: 'locked', names: ['secret-ish'] }]),
  }))({ action: 'manual_check' });
  expect(drifts(result)).toEqual(['locked/secret-ish SCAN_FAILED eu-west-1 green replica:Forbidden']);
  expect(result.drifts[0].failure.httpStatus).toBe(403);
});

test('dry-run remediation asks the API server and changes nothing; apply creates what is missing and reports conflicts', async () => {
  const before = await green.admin.getConfigMap(NS, 'app-config');
  const dry = await createHandler(env({ [DriftEnv.REMEDIATION_MODE]: 'DRY_RUN' }))({ action: 'manual_check' });
  expect(dry.drifts.map((d: any) => `${d.name} ${d.autoRemediation.status} ${d.autoRemediation.errorName ?? ''}`.trim())).toEqual([
    // cache_ttl belongs to another field manager in the replica: server-side apply refuses to take it.
    `${NS}/app-config failed Conflict`,
    `${NS}/feature-flags would-repair`,
  ]);
  expect(await green.admin.getConfigMap(NS, 'feature-flags')).toBeUndefined();
  expect((await green.admin.getConfigMap(NS, 'app-config')).metadata.resourceVersion).toBe(before.metadata.resourceVersion);

  const applied = await createHandler(env({ [DriftEnv.REMEDIATION_MODE]: 'APPLY' }))({ action: 'manual_check' });
  expect(applied.summary).toMatchObject({ remediated: 1, remediationFailures: 1 });
  const created = await green.admin.getConfigMap(NS, 'feature-flags');
  expect(created.data).toEqual((await blue.admin.getConfigMap(NS, 'feature-flags')).data);
  expect(created.metadata.managedFields.map((f: any) => f.manager)).toEqual(['cross-region-config']);
  // The conflicting ConfigMap is untouched, and the next scan still reports it.
  expect((await green.admin.getConfigMap(NS, 'app-config')).metadata.resourceVersion).toBe(before.metadata.resourceVersion);
  const after = await createHandler(env())({ action: 'manual_check' });
  expect(drifts(after)).toEqual([`${NS}/app-config VALUE_MISMATCH eu-west-1 green key:cache_ttl:changed,key:local_only:extra`]);
});

test('an unreachable replica cluster is a scan failure for its scope; the report is still written', async () => {
  await green.stop();
  const result = await createHandler(env())({ action: 'manual_check' });
  expect(drifts(result)).toEqual([`${NS}/* SCAN_FAILED eu-west-1 green replica:ECONNREFUSED`]);
  expect(result.scopes[0].replicas).toEqual([{ region: 'eu-west-1', cluster: 'green', status: 'failed', errorName: 'ECONNREFUSED' }]);
  expect(result.reportLocation).toMatch(/^s3:\/\//);
});

test('no ConfigMap value appears in any log line, metric, result or report', async () => {
  const reports: string[] = [];
  for (const key of await world.keys('us-east-1', BUCKET, 'drift-reports/')) reports.push(await world.objectText('us-east-1', BUCKET, key));
  const haystacks = [...output.lines, ...results, ...reports];
  expect(haystacks.length).toBeGreaterThan(10);
  expect(values.filter((v) => haystacks.some((h) => h.includes(v)))).toEqual([]);
});
