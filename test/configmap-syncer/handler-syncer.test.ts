/**
 * The syncer's core against in-memory clusters and mocked SSM and Secrets Manager: what each
 * outcome means, namespace creation, failure isolation and when an invocation fails. The real
 * protocol is exercised by handler.integ.test.ts.
 */
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { GetParametersByPathCommand, SSMClient } from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import { createHandler } from '../../lambda-src/configmap-syncer/handler';
import { ClusterClients, ConfigMapApi, ConfigMapSyncer, SyncerSettings } from '../../lambda-src/configmap-syncer/syncer';
import { ClientCache } from '../../lambda-src/shared/clients';
import { ApplyConfigMapRequest, ConfigMapObject, KubernetesApiError } from '../../lambda-src/shared/kubernetes';
import type { KubernetesClusterConfig, SyncTargetConfig } from '../../src/configmap-syncer/contract';
import { CONTENT_HASH_ANNOTATION, SyncEnv } from '../../src/configmap-syncer/contract';
import { OutputCapture } from '../harness/world';

const ARN = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:app/prod/config-AbC123';
const PATH = '/app/prod/config';
const BLUE: KubernetesClusterConfig = { name: 'blue', region: 'us-east-1' };
const GREEN: KubernetesClusterConfig = { name: 'green', region: 'eu-west-1' };

/** One in-memory cluster: namespaces and ConfigMaps, with resourceVersions as the apiserver keeps them. */
class FakeCluster implements ConfigMapApi {
  readonly namespaces = new Set<string>(['apps']);
  readonly configMaps = new Map<string, ConfigMapObject>();
  readonly calls: string[] = [];
  private version = 100;

  async getConfigMap(namespace: string, name: string): Promise<ConfigMapObject | undefined> {
    this.calls.push(`get ${namespace}/${name}`);
    return this.configMaps.get(`${namespace}/${name}`);
  }

  async applyConfigMap(request: ApplyConfigMapRequest): Promise<ConfigMapObject> {
    const { namespace, name } = request;
    this.calls.push(`apply ${namespace}/${name}${request.dryRun ? ' dryRun' : ''}${request.force ? ' force' : ''}`);
    if (!this.namespaces.has(namespace)) throw new KubernetesApiError(`PATCH configmaps/${namespace}/${name}`, { statusCode: 404, reason: 'NotFound' });
    const before = this.configMaps.get(`${namespace}/${name}`);
    const after: ConfigMapObject = {
      namespace,
      name,
      data: { ...request.data },
      annotations: { ...request.annotations },
      labels: {},
      binaryDataKeys: [],
      resourceVersion: before?.resourceVersion ?? '',
      uid: before?.uid ?? 'uid',
      managedFields: [],
    };
    const content = (cm: ConfigMapObject) => JSON.stringify([cm.data, cm.annotations]);
    const changed = !before || content(before) !== content(after);
    if (request.dryRun) return after;
    const stored = changed ? { ...after, resourceVersion: String(++this.version) } : before!;
    this.configMaps.set(`${namespace}/${name}`, stored);
    return stored;
  }

  async ensureNamespace(name: string): Promise<void> {
    this.calls.push(`ensureNamespace ${name}`);
    this.namespaces.add(name);
  }
}

class FakeClusters implements ClusterClients {
  readonly clusters = new Map<string, FakeCluster>([['blue', new FakeCluster()], ['green', new FakeCluster()]]);
  readonly unreachable = new Set<string>();

  async client(cluster: KubernetesClusterConfig): Promise<ConfigMapApi> {
    if (this.unreachable.has(cluster.name)) throw Object.assign(new Error('cluster not found'), { name: 'ResourceNotFoundException', $metadata: { httpStatusCode: 404 } });
    return this.of(cluster.name);
  }

  of(name: string): FakeCluster {
    return this.clusters.get(name)!;
  }
}

const ssm = mockClient(SSMClient);
const secrets = mockClient(SecretsManagerClient);
const output = new OutputCapture();
let clusters: FakeClusters;

function target(cluster: KubernetesClusterConfig, overrides: Partial<SyncTargetConfig> = {}): SyncTargetConfig {
  return { cluster, namespace: 'apps', configMapName: 'app-config', createNamespace: false, ...overrides };
}

function settings(overrides: Partial<SyncerSettings> = {}): SyncerSettings {
  return {
    primaryRegion: 'us-east-1',
    parameterPath: PATH,
    secretArn: ARN,
    targets: [target(BLUE), target(GREEN)],
    includeKeys: [],
    excludeSensitiveKeys: true,
    forceConflicts: false,
    ...overrides,
  };
}

const syncer = (s: SyncerSettings = settings()) => new ConfigMapSyncer(s, new ClientCache('us-east-1'), clusters);
const outcomes = (summary: { targets: Array<{ cluster: string; outcome: string; errorName?: string }> }) =>
  summary.targets.map((t) => `${t.cluster} ${t.outcome}${t.errorName ? ` ${t.errorName}` : ''}`);

beforeEach(() => {
  ssm.reset();
  secrets.reset();
  clusters = new FakeClusters();
  // Two pages of parameters, and a secret that overrides one of them.
  ssm.on(GetParametersByPathCommand, { NextToken: undefined }).resolves({
    Parameters: [{ Name: `${PATH}/log_level`, Value: 'info' }, { Name: `${PATH}/db/pool`, Value: '10' }],
    NextToken: 'page-2',
  });
  ssm.on(GetParametersByPathCommand, { NextToken: 'page-2' }).resolves({
    Parameters: [{ Name: `${PATH}/max_connections`, Value: '100' }, { Name: `${PATH}/db/password`, Value: 'pw-value-1', Type: 'SecureString' }],
  });
  secrets.on(GetSecretValueCommand).resolves({ SecretString: JSON.stringify({ max_connections: 200, session_timeout: '30m', nested: { a: 1 } }) });
  output.lines.length = 0;
  output.start();
});

afterEach(() => output.stop());

test('reads every page and the secret, and applies the selected keys to every target', async () => {
  const summary = await syncer().sync({ action: 'sync', trigger: 'sync' });

  expect(outcomes(summary)).toEqual(['blue applied', 'green applied']);
  expect(summary.targets[0]).toEqual({
    cluster: 'blue', region: 'us-east-1', namespace: 'apps', configMapName: 'app-config', outcome: 'applied', keys: 4, keysExcluded: ['db.password'],
  });
  const cm = clusters.of('green').configMaps.get('apps/app-config')!;
  expect(cm.data).toEqual({ 'db.pool': '10', 'log_level': 'info', 'max_connections': '200', 'session_timeout': '30m' });
  expect(cm.annotations[CONTENT_HASH_ANNOTATION]).toMatch(/^[0-9a-f]{64}$/);
  expect(ssm.commandCalls(GetParametersByPathCommand).map((c) => c.args[0].input)).toEqual([
    { Path: PATH, Recursive: true, WithDecryption: true, MaxResults: 10, NextToken: undefined },
    { Path: PATH, Recursive: true, WithDecryption: true, MaxResults: 10, NextToken: 'page-2' },
  ]);
  const logs = output.logs();
  expect(logs.find((l) => l.message.startsWith('keys of the secret take precedence'))?.keys).toEqual(['max_connections']);
  expect(logs.find((l) => l.message.startsWith('secret keys skipped'))?.keys).toEqual(['nested']);
  expect(logs.find((l) => l.message.startsWith('source keys refused'))).toMatchObject({ keys: ['db.password'], reasons: { 'db.password': 'name' } });
  expect(output.lines.join('\n')).not.toContain('pw-value-1');
});

test('reports unchanged when the apply changes nothing', async () => {
  await syncer().sync({ action: 'sync', trigger: 'sync' });
  const again = await syncer().sync({ action: 'sync', trigger: 'sync' });
  expect(outcomes(again)).toEqual(['blue unchanged', 'green unchanged']);
});

test('creates the namespace first when asked, but not on a dry run', async () => {
  const s = settings({ targets: [target(BLUE, { namespace: 'new-ns', createNamespace: true }), target(GREEN, { namespace: 'new-ns' })] });

  const dry = await syncer(s).sync({ action: 'test_sync', trigger: 'test_sync' });
  expect(outcomes(dry)).toEqual(['blue would-apply', 'green failed NotFound']);
  expect(clusters.of('blue').namespaces.has('new-ns')).toBe(false);

  const real = await syncer(s).sync({ action: 'sync', trigger: 'sync' });
  expect(outcomes(real)).toEqual(['blue applied', 'green failed NotFound']);
  expect(clusters.of('blue').calls).toEqual([
    'get new-ns/app-config', 'apply new-ns/app-config dryRun', 'ensureNamespace new-ns', 'get new-ns/app-config', 'apply new-ns/app-config',
  ]);
});

test('a dry run compares what the apply would give with what is there', async () => {
  await syncer().sync({ action: 'sync', trigger: 'sync' });
  expect(outcomes(await syncer().sync({ action: 'test_sync', trigger: 'test_sync' }))).toEqual(['blue would-be-unchanged', 'green would-be-unchanged']);

  secrets.on(GetSecretValueCommand).resolves({ SecretString: JSON.stringify({ session_timeout: '45m' }) });
  const dry = await syncer().sync({ action: 'test_sync', trigger: 'test_sync' });
  expect(outcomes(dry)).toEqual(['blue would-apply', 'green would-apply']);
  expect(clusters.of('blue').configMaps.get('apps/app-config')!.data.session_timeout).toBe('30m');
});

test('passes FORCE_CONFLICTS on as server-side apply force', async () => {
  await syncer(settings({ forceConflicts: true })).sync({ action: 'sync', trigger: 'sync' });
  expect(clusters.of('blue').calls).toContain('apply apps/app-config force');
});

test('one target\'s failure does not stop the others', async () => {
  clusters.unreachable.add('blue');
  const summary = await syncer().sync({ action: 'sync', trigger: 'sync' });
  expect(outcomes(summary)).toEqual(['blue failed ResourceNotFoundException', 'green applied']);
  expect(summary.targets[0]).toMatchObject({ httpStatus: 404, keys: 4 });
  expect(summary.targets[0].errorMessage).toBeUndefined(); // an SDK message may quote input: never passed on
});

test('an unreadable source fails every target and touches no cluster', async () => {
  ssm.on(GetParametersByPathCommand).rejects(Object.assign(new Error('denied'), { name: 'AccessDeniedException' }));
  const summary = await syncer().sync({ action: 'sync', trigger: 'sync' });
  expect(outcomes(summary)).toEqual(['blue failed AccessDeniedException', 'green failed AccessDeniedException']);
  expect(clusters.of('blue').calls).toEqual([]);
});

test('a secret that is not a JSON object fails every target, without its value', async () => {
  secrets.on(GetSecretValueCommand).resolves({ SecretString: 'plain-text-secret-value' });
  const summary = await syncer().sync({ action: 'sync', trigger: 'sync' });
  expect(outcomes(summary)).toEqual(['blue failed SecretNotJsonObject', 'green failed SecretNotJsonObject']);
  expect(JSON.stringify(summary) + output.lines.join('\n')).not.toContain('plain-text-secret-value');
});

test('data over the 1 MiB limit fails every target with a clear error before any request', async () => {
  secrets.on(GetSecretValueCommand).resolves({ SecretString: JSON.stringify({ big: 'x'.repeat(1_048_576) }) });
  const summary = await syncer().sync({ action: 'sync', trigger: 'sync' });
  expect(outcomes(summary)).toEqual(['blue failed ConfigMapTooLarge', 'green failed ConfigMapTooLarge']);
  // 1 MiB of `big`, plus the keys and values of log_level, db.pool and max_connections.
  expect(summary.targets[0].errorMessage).toMatch(/^the selected keys hold 1048619 bytes \(4 keys\), over the 1044480 bytes a ConfigMap can take/);
  expect(clusters.of('blue').calls).toEqual([]);
});

describe('the handler', () => {
  const env = (overrides: Record<string, string> = {}): NodeJS.ProcessEnv => ({
    [SyncEnv.PRIMARY_REGION]: 'us-east-1',
    [SyncEnv.SOURCE_PARAMETER_PATH]: PATH,
    [SyncEnv.SOURCE_SECRET_ARN]: ARN,
    [SyncEnv.TARGETS]: JSON.stringify([target(BLUE), target(GREEN)]),
    ...overrides,
  });
  const parameterChange = { 'source': 'aws.ssm', 'detail-type': 'Parameter Store Change', 'detail': { name: `${PATH}/log_level`, operation: 'Update' } };

  test('a change event that failed anywhere throws once every target was tried', async () => {
    clusters.unreachable.add('blue');
    const handler = createHandler(env(), { kubernetes: clusters });
    await expect(handler(parameterChange)).rejects.toThrow(
      'sync after Parameter Store Change failed for 1 of 2 targets: us-east-1/blue apps/app-config (ResourceNotFoundException)');
    expect(clusters.of('green').configMaps.get('apps/app-config')?.data.log_level).toBe('info');
  });

  test('a scheduled sync reports failures without throwing', async () => {
    clusters.unreachable.add('blue');
    const summary = await createHandler(env(), { kubernetes: clusters })({ action: 'sync' });
    expect(outcomes(summary)).toEqual(['blue failed ResourceNotFoundException', 'green applied']);
    expect(summary).toMatchObject({ action: 'sync', trigger: 'sync', durationMs: expect.any(Number) });
  });

  test('an event about something else is ignored', async () => {
    const summary = await createHandler(env(), { kubernetes: clusters })({ ...parameterChange, detail: { name: '/other/path/x' } });
    expect(summary).toMatchObject({ action: 'ignored', trigger: 'Parameter Store Change', reason: 'the parameter is not below the source path', targets: [] });
    expect(ssm.calls()).toHaveLength(0);
  });

  test('an unknown payload throws', async () => {
    await expect(createHandler(env(), { kubernetes: clusters })({ hello: 'world' })).rejects.toThrow(/^unsupported invocation/);
  });
});
