/**
 * The parity check comparing ConfigMaps between real kube-apiservers ("clusters" in us-east-1,
 * eu-west-1 and ap-southeast-2) that authenticate the handler's IAM role through an EKS-like token
 * webhook backed by moto's STS, with RBAC standing in for EKS access policies (read-only `view`).
 * A region's check reads the primary cluster and that region's cluster only.
 */
import { randomUUID } from 'node:crypto';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { ParityEnv } from '../../src/parity-check/contract';
import { KubeCluster, startKubeCluster, StsKeyring } from '../harness/kube';
import { applyEnv, awsTestEnv, MotoServer, startMotoServer } from '../harness/moto';
import { OutputCapture, recordingHandlers, TestHandler } from '../harness/world';

const ACCOUNT = '123456789012';
const ROLE_ARN = `arn:aws:iam::${ACCOUNT}:role/parity-check`;
const NS = 'apps';

let moto: MotoServer;
let restoreEnv: () => void;
let primary: KubeCluster;
let eu: KubeCluster;
let ap: KubeCluster;
const keyring = new StsKeyring();
const output = new OutputCapture();
const values: string[] = [];
const results: string[] = [];
let createHandler: (env: NodeJS.ProcessEnv) => TestHandler;

function value(label: string): string {
  const v = `${label}-${randomUUID()}-Pq7`;
  values.push(v);
  return v;
}

function env(): NodeJS.ProcessEnv {
  return {
    ...process.env,
    [ParityEnv.PRIMARY_REGION]: 'us-east-1',
    [ParityEnv.TARGETS]: JSON.stringify([{ region: 'eu-west-1' }, { region: 'ap-southeast-2' }]),
    [ParityEnv.CONFIGMAP_SCOPES]: JSON.stringify([{ primary: primary.config, replicas: [eu.config, ap.config], namespace: NS, names: ['app-config', 'flags'] }]),
    [ParityEnv.IGNORE_RULES]: JSON.stringify([{ kind: 'configmap', namePattern: `${NS}/app-config`, keyPattern: 'region' }]),
    [ParityEnv.GRACE_WINDOW_SECONDS]: '0',
  };
}

const names = (result: any) => result.differences.map((d: any) => `${d.name} ${d.driftType} ${d.cluster}${d.fields ? ` ${d.fields.join(',')}` : ''}`);

beforeAll(async () => {
  moto = await startMotoServer();
  restoreEnv = applyEnv({ ...awsTestEnv(moto.endpoint, 'us-east-1'), POWERTOOLS_SERVICE_NAME: 'ParityConfigMaps', POWERTOOLS_METRICS_NAMESPACE: 'Test/ConfigParity' });
  const assumed = await new STSClient({ region: 'us-east-1' }).send(new AssumeRoleCommand({ RoleArn: ROLE_ARN, RoleSessionName: 'parity-check' }));
  const credentials = {
    accessKeyId: assumed.Credentials!.AccessKeyId!,
    secretAccessKey: assumed.Credentials!.SecretAccessKey!,
    sessionToken: assumed.Credentials!.SessionToken!,
  };
  keyring.register(credentials);
  Object.assign(process.env, {
    AWS_ACCESS_KEY_ID: credentials.accessKeyId, AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey, AWS_SESSION_TOKEN: credentials.sessionToken,
  });
  [primary, eu, ap] = await Promise.all([
    startKubeCluster({ name: 'app-us', region: 'us-east-1', motoEndpoint: moto.endpoint, keyring }),
    startKubeCluster({ name: 'app-eu', region: 'eu-west-1', motoEndpoint: moto.endpoint, keyring }),
    startKubeCluster({ name: 'app-ap', region: 'ap-southeast-2', motoEndpoint: moto.endpoint, keyring }),
  ]);
  // Read-only access, as the construct grants it (AmazonEKSViewPolicy).
  await Promise.all([primary, eu, ap].map((c) => c.grant(NS, ROLE_ARN, 'view')));
  const app = { log_level: value('log'), cache_ttl: value('ttl') };
  const flags = { beta: value('flags') };
  await primary.admin.applyConfigMap(NS, 'app-config', { ...app, region: value('us') }, 'team-controller');
  await primary.admin.applyConfigMap(NS, 'flags', flags, 'team-controller');
  // eu-west-1 agrees (its own region key is an expected difference); ap-southeast-2 has a stale key and no flags.
  await eu.admin.applyConfigMap(NS, 'app-config', { ...app, region: value('eu') }, 'team-controller');
  await eu.admin.applyConfigMap(NS, 'flags', flags, 'team-controller');
  await ap.admin.applyConfigMap(NS, 'app-config', { ...app, cache_ttl: value('stale'), region: value('ap') }, 'team-controller');
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  createHandler = recordingHandlers(require('../../lambda-src/parity-check/handler').createHandler, results);
  output.start();
}, 300_000);

afterAll(async () => {
  output.stop();
  await Promise.all([primary?.stop(), eu?.stop(), ap?.stop()]);
  await moto?.stop();
  restoreEnv?.();
});

test('a region whose ConfigMaps agree passes; one with a changed key and a missing ConfigMap fails by name', async () => {
  const handler = createHandler(env());
  const euResult = await handler({ action: 'check', region: 'eu-west-1' });
  expect(euResult).toMatchObject({ verdict: 'PASS', compared: 2, differences: [] });
  const apResult = await handler({ action: 'check', region: 'ap-southeast-2' });
  expect(apResult.verdict).toBe('FAIL');
  expect(names(apResult)).toEqual([`${NS}/app-config VALUE_MISMATCH app-ap key:cache_ttl`, `${NS}/flags MISSING_IN_REPLICA app-ap`]);
  expect(apResult.summary).toContain(`configmap ${NS}/flags in cluster app-ap: MISSING_IN_REPLICA`);
});

test('after the repair the region passes', async () => {
  const data = (await primary.admin.getConfigMap(NS, 'app-config')).data;
  await ap.admin.applyConfigMap(NS, 'app-config', { ...data, region: value('ap-2') }, 'team-controller');
  await ap.admin.applyConfigMap(NS, 'flags', (await primary.admin.getConfigMap(NS, 'flags')).data, 'team-controller');
  expect((await createHandler(env())({ action: 'check', region: 'ap-southeast-2' })).verdict).toBe('PASS');
});

test('a cluster that cannot be reached fails the region closed', async () => {
  await ap.stop();
  const result = await createHandler(env())({ action: 'check', region: 'ap-southeast-2' });
  expect(result.verdict).toBe('FAIL');
  expect(result.differences.map((d: any) => d.driftType)).toEqual(['SCAN_FAILED']);
  expect((await createHandler(env())({ action: 'check', region: 'eu-west-1' })).verdict).toBe('PASS');
});

test('no ConfigMap value appears in any log line, metric or result', () => {
  const haystacks = [...output.lines, ...results];
  expect(haystacks.length).toBeGreaterThan(5);
  expect(values.filter((v) => haystacks.some((h) => h.includes(v)))).toEqual([]);
});
