/**
 * Settings documents end to end: each construct synthesized at the scale of a real fleet, its
 * document deployed into moto as CloudFormation would write it (deploy-time values replaced by
 * stand-ins as long as real ones), and the construct's own handler reading it at cold start
 * through the fault proxy, which counts the SSM calls.
 *
 * moto gaps: it enforces no IAM, so the grant of ssm:GetParametersByPath on exactly the
 * function's path is asserted on the template (test/private/handler-settings.test.ts); and no
 * CloudFormation, so the order of writes during a stack update is played by the tests.
 */
import { execFile } from 'node:child_process';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { DeleteParameterCommand, GetParameterCommand, PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { App, Fn, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as eks from 'aws-cdk-lib/aws-eks';
import {
  ConfigDriftDetector, ConfigMapSyncer, CrossRegionSecretReplicator, HealthCheck, KubernetesCluster, MultiRegionPipeline, SecretSelection,
} from '../../src';
import { SyncEnv } from '../../src/configmap-syncer/contract';
import { DriftEnv } from '../../src/drift-detector/contract';
import { PipelineEnv } from '../../src/multi-region-pipeline/contract';
import { SETTINGS_CHUNK_MAGIC, SETTINGS_DOCUMENT_ENV } from '../../src/private/settings-contract';
import { ReplicatorEnv } from '../../src/secret-replicator/contract';
import { startFakeCodePipeline } from '../harness/fake-codepipeline';
import { FaultProxy, startFaultProxy } from '../harness/fault-proxy';
import { applyEnv, MotoServer, REPO_ROOT, startMotoServer } from '../harness/moto';
import { deployedSettings, DeployedSettings, putParameters, StandIn } from '../harness/settings-document';
import { OutputCapture, SecretsWorld } from '../harness/world';
import { minimalProps, newPipelineStack } from '../multi-region-pipeline/util';

const PRIMARY = 'us-east-1';
/** GetParametersByPath returns at most 10 parameters a page. */
const PAGE = 10;

let moto: MotoServer;
let proxy: FaultProxy;
let ssm: SSMClient;
let world: SecretsWorld;
const output = new OutputCapture();
const savedEnv = { ...process.env };
let handlers: {
  replicator: typeof import('../../lambda-src/secret-replicator/handler');
  syncer: typeof import('../../lambda-src/configmap-syncer/handler');
  drift: typeof import('../../lambda-src/drift-detector/handler');
  pipeline: typeof import('../../lambda-src/multi-region-pipeline/handler');
  settings: typeof import('../../lambda-src/shared/settings');
};

beforeAll(async () => {
  moto = await startMotoServer();
  proxy = await startFaultProxy({ target: moto.endpoint, seed: 12 });
  Object.assign(process.env, {
    AWS_ENDPOINT_URL: proxy.endpoint,
    AWS_ACCESS_KEY_ID: 'testing',
    AWS_SECRET_ACCESS_KEY: 'testing',
    AWS_REGION: PRIMARY,
    POWERTOOLS_METRICS_NAMESPACE: 'Test/Settings',
    POWERTOOLS_SERVICE_NAME: 'settings-under-test',
  });
  delete process.env.AWS_SESSION_TOKEN;
  delete process.env.AWS_PROFILE;
  ssm = new SSMClient({ region: PRIMARY, endpoint: moto.endpoint, credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' } });
  world = new SecretsWorld(moto.endpoint);
  // Imported only now: Powertools reads POWERTOOLS_* when a handler module loads.
  /* eslint-disable @typescript-eslint/no-require-imports */
  handlers = {
    replicator: require('../../lambda-src/secret-replicator/handler'),
    syncer: require('../../lambda-src/configmap-syncer/handler'),
    drift: require('../../lambda-src/drift-detector/handler'),
    pipeline: require('../../lambda-src/multi-region-pipeline/handler'),
    settings: require('../../lambda-src/shared/settings'),
  };
  /* eslint-enable @typescript-eslint/no-require-imports */
  output.start();
}, 120_000);

afterAll(async () => {
  output.stop();
  await proxy?.stop();
  await moto?.stop();
  process.env = savedEnv;
});

/** The function's environment as Lambda would set it, on top of the test's AWS configuration. */
function lambdaEnv(deployed: DeployedSettings): NodeJS.ProcessEnv {
  return { ...process.env, ...deployed.environment };
}

function pathReads(): number {
  return proxy.stats().byOperation[`ssm:${PRIMARY}:GetParametersByPath`]?.forwarded ?? 0;
}

function functionIdOf(template: any, prefix: string): string {
  const ids = Object.keys(template.Resources).filter((k) => template.Resources[k].Type === 'AWS::Lambda::Function' && k.startsWith(prefix));
  expect(ids).toHaveLength(1);
  return ids[0];
}

/** base64 text of `length` characters, like an EKS cluster's certificateAuthority.data. */
function caData(seed: number, length: number): string {
  return Buffer.from(Array.from({ length: Math.ceil(length * 0.75) }, (_, i) => (seed * 31 + i * 7) % 256)).toString('base64').slice(0, length);
}

/** Ends a stand-in lookup: fails on any deploy-time value the test did not expect. */
function standInFrom(table: Record<string, string>): StandIn {
  return (intrinsic) => {
    const key = JSON.stringify(intrinsic);
    const found = Object.entries(table).find(([k]) => key.includes(k));
    if (!found) throw new Error(`no stand-in for ${key}`);
    return found[1];
  };
}

describe('the replicator with 2,000 named secrets', () => {
  const NAMES = Array.from({ length: 2000 }, (_, i) => `fleet/service-${String(i).padStart(4, '0')}/config`);
  let deployed: DeployedSettings;
  let keyArn: string;

  beforeAll(async () => {
    keyArn = await world.create(PRIMARY, 'settings-test/provenance-key', world.newValue('hmac-key-material-0123456789abcdef0123456789'));
    for (const name of [NAMES[0], NAMES[999], NAMES[1999]]) await world.create(PRIMARY, name, world.newValue(name));
    const stack = new Stack(new App(), 'FleetStack', { env: { region: PRIMARY } });
    new CrossRegionSecretReplicator(stack, 'Replicator', { secrets: SecretSelection.fromNames(...NAMES), replicaRegions: ['eu-west-1'] });
    const template = Template.fromStack(stack).toJSON();
    deployed = deployedSettings(template, functionIdOf(template, 'Replicator'), standInFrom({ ReplicatorProvenanceKey: keyArn }));
    await putParameters(ssm, deployed.parameters);
  }, 120_000);

  test('synthesizes with the selection in a settings document and an environment far under 4 KB', () => {
    expect(deployed.environment[ReplicatorEnv.SELECTION]).toBeUndefined();
    expect(deployed.reference!.variables).toEqual([ReplicatorEnv.REPLICA_TARGETS, ReplicatorEnv.SELECTION]);
    const size = Object.entries(deployed.environment).reduce((sum, [k, v]) => sum + k.length + Buffer.byteLength(v), 0);
    expect(size).toBeLessThan(1024);
    expect(deployed.parameters.length).toBeGreaterThan(10);
  });

  test('reads the document once per cold start and replicates by the 2,000 names', async () => {
    proxy.resetStats();
    const handler = handlers.replicator.createHandler(lambdaEnv(deployed));
    expect(pathReads()).toBe(0);
    const first = await handler({ action: 'test_sync' }) as any;
    expect(pathReads()).toBe(Math.ceil(deployed.parameters.length / PAGE));
    // Three of the named secrets exist in the primary (and the provenance key, which is not named).
    expect(first).toMatchObject({ action: 'test_sync', secrets: 3, dryRun: true, failures: [] });
    await handler({ action: 'test_sync' });
    await handler({ action: 'connectivity_test' });
    expect(pathReads()).toBe(Math.ceil(deployed.parameters.length / PAGE));

    // A second execution environment (cold start) reads it once more.
    await handlers.replicator.createHandler(lambdaEnv(deployed))({ action: 'connectivity_test' });
    expect(pathReads()).toBe(2 * Math.ceil(deployed.parameters.length / PAGE));
    const settings = handlers.replicator.readSettings(await handlers.settings.loadSettings(lambdaEnv(deployed)));
    expect(settings.selection.rules.flatMap((r) => r.names ?? [])).toEqual(NAMES);
  }, 120_000);

  test('fails loudly (value-free) while a chunk is missing, and reads the document again on the next invocation', async () => {
    const victim = deployed.parameters[3];
    await ssm.send(new DeleteParameterCommand({ Name: victim.name }));
    const from = output.lines.length;
    const handler = handlers.replicator.createHandler(lambdaEnv(deployed));
    await expect(handler({ action: 'connectivity_test' })).rejects.toThrow(
      `the settings document ${deployed.reference!.path} lacks 1 of its ${deployed.parameters.length} parameters (${victim.name}): `
      + 'it was deleted, or this deployment has not written it; redeploy the stack if it does not appear');
    const logged = output.lines.slice(from).filter((l) => l.includes('handler settings could not be loaded'));
    expect(logged).toHaveLength(1);
    expect(JSON.parse(logged[0])).toMatchObject({ level: 'ERROR', errorName: 'SettingsDocumentError' });
    expect(output.lines.slice(from).join('\n')).not.toContain('fleet/service-');

    await putParameters(ssm, [victim]);
    proxy.resetStats();
    await expect(handler({ action: 'connectivity_test' })).resolves.toMatchObject({ action: 'connectivity_test' });
    expect(pathReads()).toBe(Math.ceil(deployed.parameters.length / PAGE));
  }, 60_000);

  test('fails loudly when a chunk carries another deployment\'s version', async () => {
    const victim = deployed.parameters[1];
    const other = '0123456789abcdef0123';
    const data = victim.value.slice(victim.value.indexOf('\n'));
    await ssm.send(new PutParameterCommand({ Name: victim.name, Value: `${SETTINGS_CHUNK_MAGIC} ${other} 1/${deployed.parameters.length}${data}`, Type: 'String', Overwrite: true }));
    try {
      await expect(handlers.replicator.createHandler(lambdaEnv(deployed))({ action: 'connectivity_test' })).rejects.toThrow(
        `the settings document parameter ${victim.name} carries version ${other}, but this function was deployed with version `
        + `${deployed.reference!.version}: it belongs to another deployment (a stack update in progress, or a changed parameter); the invocation is retried`);
    } finally {
      await putParameters(ssm, [victim]);
    }
  }, 60_000);

  test('refuses a chunk not written by this library and a document that is not JSON', async () => {
    const victim = deployed.parameters[0];
    try {
      await ssm.send(new PutParameterCommand({ Name: victim.name, Value: 'hand-written', Type: 'String', Overwrite: true }));
      await expect(handlers.settings.loadSettings(lambdaEnv(deployed))).rejects.toThrow(
        `the settings document parameter ${victim.name} does not start with "${SETTINGS_CHUNK_MAGIC} <version> <index>/<count>"; it was not written by this library`);
      await ssm.send(new PutParameterCommand({ Name: victim.name, Value: `${victim.value.split('\n')[0]}\n{"broken`, Type: 'String', Overwrite: true }));
      await expect(handlers.settings.loadSettings(lambdaEnv(deployed))).rejects.toThrow(`the settings document ${deployed.reference!.path} is not valid JSON`);
    } finally {
      await putParameters(ssm, [victim]);
    }
  }, 60_000);

  test('retries SSM throttling while reading the document', async () => {
    proxy.addRule({ service: 'ssm', operation: 'GetParametersByPath', fault: 'throttle', times: 3 });
    try {
      const env = await handlers.settings.loadSettings(lambdaEnv(deployed));
      expect(JSON.parse(env[ReplicatorEnv.SELECTION]!).rules[0].names).toHaveLength(2000);
    } finally {
      proxy.clearRules();
    }
  }, 60_000);

  /**
   * Real concurrency: another OS process rewrites the chunks in place with another deployment's
   * document, in an order drawn from a seeded PRNG, while this process loads repeatedly. Every load
   * is either exactly this deployment's document or a SettingsDocumentError; never a mixture.
   */
  test('never builds a handler from a mixture of two deployments\' chunks (two processes)', async () => {
    const seed = 20261207;
    const otherNames = NAMES.map((n) => n.replace('fleet/', 'other/'));
    const stack = new Stack(new App(), 'FleetStack', { env: { region: PRIMARY } });
    new CrossRegionSecretReplicator(stack, 'Replicator', { secrets: SecretSelection.fromNames(...otherNames), replicaRegions: ['eu-west-1'] });
    const template = Template.fromStack(stack).toJSON();
    const other = deployedSettings(template, functionIdOf(template, 'Replicator'), standInFrom({ ReplicatorProvenanceKey: keyArn }));
    const n = Math.min(other.parameters.length, deployed.parameters.length);
    // The other deployment's chunks, written under this deployment's names (a partial, hand-made or stale write).
    const writes = other.parameters.slice(0, n).map((p, i) => ({ name: deployed.parameters[i].name, value: p.value }));
    const restores = deployed.parameters.slice(0, n).map((p) => ({ name: p.name, value: p.value }));
    const writer = promisify(execFile)(process.execPath, [path.join(__dirname, 'settings-writer.js'), moto.endpoint, String(seed), JSON.stringify({ writes, restores, rounds: 6 })], { cwd: REPO_ROOT });

    const outcomes = { ours: 0, refused: 0 };
    const expected = NAMES;
    let done = false;
    writer.finally(() => { done = true; }).catch(() => undefined);
    try {
      while (!done || outcomes.ours + outcomes.refused < 5) {
        try {
          const env = await handlers.settings.loadSettings(lambdaEnv(deployed));
          expect(JSON.parse(env[ReplicatorEnv.SELECTION]!).rules[0].names).toEqual(expected);
          outcomes.ours++;
        } catch (e) {
          if ((e as Error).name !== 'SettingsDocumentError') throw e;
          expect((e as Error).message).toMatch(/carries version [0-9a-f]{20}, but this function was deployed with version/);
          outcomes.refused++;
        }
      }
      await writer;
    } catch (e) {
      throw new Error(`writer seed ${seed}: ${(e as Error).message}`);
    } finally {
      await putParameters(ssm, deployed.parameters);
    }
    expect(outcomes.ours + outcomes.refused).toBeGreaterThanOrEqual(5);
    expect(outcomes.refused).toBeGreaterThan(0);
    const restored = await ssm.send(new GetParameterCommand({ Name: deployed.parameters[0].name }));
    expect(restored.Parameter?.Value).toBe(deployed.parameters[0].value);
  }, 180_000);
});

describe('the ConfigMap syncer with 50 targets and EKS-sized CAs', () => {
  test('synthesizes 50 targets across clusters and namespaces, and its handler reads every endpoint and CA', async () => {
    const stack = new Stack(new App(), 'SyncStack', { env: { region: PRIMARY } });
    const remote = Array.from({ length: 25 }, (_, i) => KubernetesCluster.fromClusterAttributes({
      clusterName: `fleet-${i}`,
      region: ['eu-west-1', 'ap-southeast-2', 'us-west-2'][i % 3],
      clusterEndpoint: `https://${String(i).padStart(32, 'A')}.gr7.eu-west-1.eks.amazonaws.com`,
      clusterCertificateAuthorityData: caData(i, 1900),
    }));
    // Same-region clusters of this app: endpoint and CA are deploy-time values (imports).
    const imported = Array.from({ length: 5 }, (_, i) => KubernetesCluster.fromCluster(eks.Cluster.fromClusterAttributes(stack, `Imported${i}`, {
      clusterName: `local-${i}`,
      clusterEndpoint: Fn.importValue(`local-${i}-endpoint`),
      clusterCertificateAuthorityData: Fn.importValue(`local-${i}-ca`),
    })));
    const targets = [
      ...remote.map((cluster) => ({ cluster, namespace: 'app' })),
      ...imported.flatMap((cluster) => ['team-a', 'team-b', 'team-c', 'team-d', 'team-e'].map((namespace) => ({ cluster, namespace }))),
    ];
    expect(targets).toHaveLength(50);
    new ConfigMapSyncer(stack, 'Syncer', { parameterPath: '/app/prod', configMapName: 'app-config', targets });
    const template = Template.fromStack(stack).toJSON();
    const table: Record<string, string> = {};
    for (let i = 0; i < 5; i++) {
      table[`"local-${i}-endpoint"`] = `https://${String(i).padStart(32, 'L')}.gr7.us-east-1.eks.amazonaws.com`;
      table[`"local-${i}-ca"`] = caData(100 + i, 2000);
    }
    const deployed = deployedSettings(template, functionIdOf(template, 'Syncer'), standInFrom(table));
    expect(deployed.environment[SyncEnv.TARGETS]).toBeUndefined();
    await putParameters(ssm, deployed.parameters);

    proxy.resetStats();
    const handler = handlers.syncer.createHandler(lambdaEnv(deployed));
    const ignored = { 'source': 'aws.ssm', 'detail-type': 'Parameter Store Change', 'detail': { name: '/elsewhere/x', operation: 'Update' } };
    await expect(handler(ignored)).resolves.toMatchObject({ action: 'ignored' });
    await expect(handler(ignored)).resolves.toMatchObject({ action: 'ignored' });
    expect(pathReads()).toBe(Math.ceil(deployed.parameters.length / PAGE));

    const settings = handlers.syncer.readSettings(await handlers.settings.loadSettings(lambdaEnv(deployed)));
    expect(settings.targets).toHaveLength(50);
    expect(settings.targets.map((t) => t.cluster.certificateAuthorityData)).toEqual([
      ...remote.map((_, i) => caData(i, 1900)),
      ...[0, 1, 2, 3, 4].flatMap((i) => Array(5).fill(caData(100 + i, 2000))),
    ]);
    expect(settings.targets[30].cluster.endpoint).toBe(table['"local-1-endpoint"']);
  }, 120_000);
});

describe('the drift detector with many parameter paths and ConfigMaps', () => {
  test('synthesizes 300 parameter paths and 20 ConfigMap scopes with CAs, and its handler reads them', async () => {
    const stack = new Stack(new App(), 'DriftStack', { env: { region: PRIMARY } });
    const parameterPaths = Array.from({ length: 300 }, (_, i) => `/fleet/service-${i}/config`);
    const cluster = (name: string, region: string, i: number) => KubernetesCluster.fromClusterAttributes({
      clusterName: name, region, clusterEndpoint: `https://${String(i).padStart(32, 'D')}.gr7.${region}.eks.amazonaws.com`, clusterCertificateAuthorityData: caData(i, 1450),
    });
    const configMaps = Array.from({ length: 20 }, (_, i) => ({
      primaryCluster: cluster(`primary-${i}`, PRIMARY, i),
      replicaClusters: [cluster(`replica-${i}`, 'eu-west-1', 50 + i)],
      names: ['app-config', 'feature-flags'],
    }));
    new ConfigDriftDetector(stack, 'Detector', { replicaRegions: ['eu-west-1'], parameterPaths, configMaps });
    const template = Template.fromStack(stack).toJSON();
    const deployed = deployedSettings(template, functionIdOf(template, 'Detector'), standInFrom({ DetectorReportBucket: 'drift-reports' }));
    expect(deployed.reference!.variables).toEqual(expect.arrayContaining([DriftEnv.PARAMETER_PATHS, DriftEnv.CONFIGMAP_SCOPES]));
    await putParameters(ssm, deployed.parameters);

    proxy.resetStats();
    const settings = handlers.drift.readSettings(await handlers.settings.loadSettings(lambdaEnv(deployed)));
    expect(pathReads()).toBe(Math.ceil(deployed.parameters.length / PAGE));
    expect(settings.parameterPaths).toEqual(parameterPaths);
    expect(settings.configMapScopes).toHaveLength(20);
    expect(settings.configMapScopes[7].replicas[0].certificateAuthorityData).toBe(caData(57, 1450));
    expect(settings.reportBucket).toBe('drift-reports');
    // The handler builds from the document (validation included) on its first invocation only.
    const handler = handlers.drift.createHandler(lambdaEnv(deployed));
    await expect(handler({ action: 'unknown' })).rejects.toThrow(/^unknown action "unknown"/);
    await expect(handler({ action: 'unknown' })).rejects.toThrow(/^unknown action "unknown"/);
    expect(pathReads()).toBe(2 * Math.ceil(deployed.parameters.length / PAGE));
  }, 120_000);
});

describe('the pipeline with many health checks', () => {
  test('synthesizes 150 health checks, and its health-check function reads them', async () => {
    const stack = newPipelineStack();
    const healthChecks = Array.from({ length: 150 }, (_, i) => HealthCheck.http(`https://service-${i}.{region}.example.com/health`, { name: `service-${i}` }));
    new MultiRegionPipeline(stack, 'Pipeline', { ...minimalProps(), healthChecks });
    const template = Template.fromStack(stack).toJSON();
    const deployed = deployedSettings(template, functionIdOf(template, 'PipelineHealthCheck'));
    expect(deployed.environment[PipelineEnv.HEALTH_CHECKS]).toBeUndefined();
    await putParameters(ssm, deployed.parameters);
    const env = await handlers.settings.loadSettings(lambdaEnv(deployed));
    expect(handlers.pipeline.readHealthChecks(env).map((c) => c.url)).toEqual(healthChecks.map((c) => c.url));
    // The watcher's own (small) settings stay in its environment.
    const watcher = deployedSettings(template, functionIdOf(template, 'PipelineWatcher'));
    expect(watcher.reference).toBeUndefined();
    expect(watcher.environment[PipelineEnv.REGIONAL_STAGES]).toBeDefined();
  }, 120_000);

  test('reports a CodePipeline job failed, not timed out, while its settings document is missing', async () => {
    const fake = await startFakeCodePipeline();
    const stack = newPipelineStack();
    const healthChecks = Array.from({ length: 150 }, (_, i) => HealthCheck.http(`https://missing-${i}.{region}.example.com/health`, { name: `missing-${i}` }));
    new MultiRegionPipeline(stack, 'Pipeline', { ...minimalProps(), healthChecks });
    const template = Template.fromStack(stack).toJSON();
    const deployed = deployedSettings(template, functionIdOf(template, 'PipelineHealthCheck'));
    const restore = applyEnv({ AWS_ENDPOINT_URL_CODEPIPELINE: fake.endpoint });
    try {
      const handler = handlers.pipeline.createHandler(lambdaEnv(deployed));
      await expect(handler({ 'CodePipeline.job': { id: 'job-1' } })).resolves.toEqual({ jobId: 'job-1', outcome: 'failed', reason: 'settings' });
      expect(fake.calls.map((c) => c.operation)).toEqual(['PutJobFailureResult']);
      expect(fake.calls[0].input).toMatchObject({ jobId: 'job-1', failureDetails: { type: 'JobFailed' } });
      expect(fake.calls[0].input.failureDetails.message).toMatch(/^the health-check function could not read its settings: the settings document \/cdk-cross-region-config\/.* lacks \d+ of its \d+ parameters/);
    } finally {
      restore();
      await fake.stop();
    }
  }, 120_000);
});

/** A one-part settings document of `variables`, written to moto under `name`; returns the function's environment. */
async function handWrittenDocument(name: string, variables: Record<string, unknown>, version = 'v0123456789abcdef'): Promise<NodeJS.ProcessEnv> {
  const documentPath = `/cdk-cross-region-config/HandStack/${name}/${version}`;
  await ssm.send(new PutParameterCommand({
    Name: `${documentPath}/0`, Value: `${SETTINGS_CHUNK_MAGIC} ${version} 0/1\n${JSON.stringify(variables)}`, Type: 'String', Overwrite: true,
  }));
  return { ...process.env, [SETTINGS_DOCUMENT_ENV]: JSON.stringify({ path: documentPath, version, chunks: 1, variables: Object.keys(variables) }) };
}

function healthCheck(url: string, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return { name: 'api', url, expectedStatuses: [200], consecutiveSuccesses: 1, maxAttempts: 1, intervalSeconds: 0, timeoutSeconds: 1, ...overrides };
}

describe('a configuration error in a settings document', () => {
  // Stands for a value that must never be repeated (a URL may carry a token in its path).
  const MARKER = 'tok-7f3a9c1e-marker';
  const bad = [healthCheck(`https://${MARKER}.example.com/health`, { expectedStatuses: [] })];
  const expected = 'environment variable HEALTH_CHECKS[0] must have expectedStatuses, a non-empty array of HTTP statuses';

  test('is reported with its whole, value-free message, as from the environment', async () => {
    // Environment mode: the cold start fails with the message.
    expect(() => handlers.pipeline.createHandler({ ...process.env, [PipelineEnv.ROLE]: 'health-check', [PipelineEnv.HEALTH_CHECKS]: JSON.stringify(bad) }))
      .toThrow(expected);

    // Document mode: the job fails with the same message, and the log carries it (not just "Error").
    const env = { ...(await handWrittenDocument('BadChecks', { [PipelineEnv.HEALTH_CHECKS]: bad })), [PipelineEnv.ROLE]: 'health-check' };
    const fake = await startFakeCodePipeline();
    const restore = applyEnv({ AWS_ENDPOINT_URL_CODEPIPELINE: fake.endpoint });
    const from = output.lines.length;
    try {
      const handler = handlers.pipeline.createHandler(env);
      await expect(handler({ 'CodePipeline.job': { id: 'job-bad' } })).resolves.toEqual({ jobId: 'job-bad', outcome: 'failed', reason: 'settings' });
      expect(fake.calls).toEqual([{
        operation: 'PutJobFailureResult',
        input: { jobId: 'job-bad', failureDetails: { type: 'JobFailed', message: `the health-check function could not read its settings: ${expected}` } },
      }]);
      const logged = output.lines.slice(from).filter((l) => l.includes('handler settings could not be loaded'));
      expect(logged).toHaveLength(1);
      expect(JSON.parse(logged[0])).toMatchObject({ level: 'ERROR', errorName: 'ConfigurationError', errorMessage: expected });
      // Not an event of a job: thrown whole.
      await expect(handler({})).rejects.toThrow(expected);
      const everything = [...output.lines.slice(from), JSON.stringify(fake.calls)].join('\n');
      expect(everything).not.toContain(MARKER);
    } finally {
      restore();
      await fake.stop();
    }
  }, 60_000);

  test('a required variable missing from the document is logged whole', async () => {
    const env = await handWrittenDocument('DriftMissing', { UNRELATED: 1 });
    const from = output.lines.length;
    const handler = handlers.settings.withSettings(env, (complete) => {
      handlers.pipeline.readHealthChecks(complete);
      return async () => 'built';
    });
    await expect(handler({})).rejects.toThrow('environment variable HEALTH_CHECKS is required but not set');
    const logged = output.lines.slice(from).filter((l) => l.includes('handler settings could not be loaded'));
    expect(JSON.parse(logged[0])).toMatchObject({ errorName: 'ConfigurationError', errorMessage: 'environment variable HEALTH_CHECKS is required but not set' });
  });
});

describe('settings read from a document have a bounded lifetime', () => {
  const LIFETIME = 300_000;

  test('is five minutes by default', () => {
    expect(handlers.settings.SETTINGS_LIFETIME_MS).toBe(LIFETIME);
  });

  test('a value rewritten in place (same version) is used after the lifetime; within it, the document is not read again', async () => {
    const write = (url: string) => handWrittenDocument('Rewritten', { [PipelineEnv.HEALTH_CHECKS]: [healthCheck(url)] });
    const env = await write('https://old.example.com/health');
    let clock = 1_000_000;
    let builds = 0;
    const handler = handlers.settings.withSettings(env, (complete) => {
      builds++;
      const checks = handlers.pipeline.readHealthChecks(complete);
      return async () => checks[0].url;
    }, { now: () => clock });

    proxy.resetStats();
    expect(await handler({})).toBe('https://old.example.com/health');
    expect(pathReads()).toBe(1);
    await write('https://new.example.com/health');
    clock += LIFETIME - 1;
    expect(await handler({})).toBe('https://old.example.com/health');
    expect(pathReads()).toBe(1);
    clock += 1;
    expect(await handler({})).toBe('https://new.example.com/health');
    expect(pathReads()).toBe(2);
    expect(builds).toBe(2);

    // Unchanged after another lifetime: read, but the handler is not rebuilt.
    clock += LIFETIME;
    expect(await handler({})).toBe('https://new.example.com/health');
    expect(pathReads()).toBe(3);
    expect(builds).toBe(2);

    // A document that cannot be read, or that no longer validates, leaves the settings read before in use.
    const from = output.lines.length;
    await ssm.send(new DeleteParameterCommand({ Name: `${JSON.parse(env[SETTINGS_DOCUMENT_ENV]!).path}/0` }));
    clock += LIFETIME;
    expect(await handler({})).toBe('https://new.example.com/health');
    expect(pathReads()).toBe(4);
    clock += LIFETIME - 1;
    expect(await handler({})).toBe('https://new.example.com/health');
    expect(pathReads()).toBe(4);
    await handWrittenDocument('Rewritten', { [PipelineEnv.HEALTH_CHECKS]: [healthCheck('https://bad.example.com/', { maxAttempts: 0 })] });
    clock += 1;
    expect(await handler({})).toBe('https://new.example.com/health');
    expect(pathReads()).toBe(5);
    const warned = output.lines.slice(from).filter((l) => l.includes('handler settings could not be read again')).map((l) => JSON.parse(l));
    expect(warned.map((w) => [w.level, w.errorName])).toEqual([['WARN', 'SettingsDocumentError'], ['WARN', 'ConfigurationError']]);
    expect(warned[1].errorMessage).toBe('environment variable HEALTH_CHECKS[0] must have an integer maxAttempts of at least 1');
  }, 60_000);

  test('invariant over seeded random rewrites and clock steps: each invocation sees the document as of the last read, read exactly when the lifetime ran out', async () => {
    for (const seed of [12345, 67890, 424242]) {
      // Park-Miller minimal standard generator.
      let state = seed;
      const random = () => {
        state = (state * 48271) % 2147483647;
        return state / 2147483647;
      };
      let version = 0;
      const write = () => handWrittenDocument(`Random${seed}`, { [PipelineEnv.HEALTH_CHECKS]: [healthCheck(`https://v${version}.example.com/`)] });
      const env = await write();
      let clock = 0;
      const handler = handlers.settings.withSettings(env, (complete) => {
        const checks = handlers.pipeline.readHealthChecks(complete);
        return async () => checks[0].url;
      }, { now: () => clock });
      proxy.resetStats();
      let lastRead: number | undefined;
      let seen = -1;
      let reads = 0;
      try {
        for (let step = 0; step < 25; step++) {
          if (random() < 0.4) {
            version++;
            await write();
          }
          // Steps at and around the lifetime's end, and anywhere up to two lifetimes.
          const steps = [0, 1, LIFETIME - 1, LIFETIME, Math.floor(random() * 2 * LIFETIME)];
          clock += steps[Math.floor(random() * steps.length)];
          if (lastRead === undefined || clock - lastRead >= LIFETIME) {
            lastRead = clock;
            seen = version;
            reads++;
          }
          expect(await handler({})).toBe(`https://v${seen}.example.com/`);
          expect(pathReads()).toBe(reads);
        }
      } catch (e) {
        throw new Error(`Park-Miller seed ${seed}: ${(e as Error).message}`);
      }
    }
  }, 120_000);
});

test('a function without a settings document is configured from its environment at cold start, as before', () => {
  expect(() => handlers.replicator.createHandler({ AWS_REGION: PRIMARY })).toThrow('environment variable REPLICA_TARGETS is required but not set');
  expect(() => handlers.replicator.createHandler({ AWS_REGION: PRIMARY, [SETTINGS_DOCUMENT_ENV]: '{"path":"/elsewhere"}' })).toThrow(
    'environment variable SETTINGS_DOCUMENT must be JSON {"path" below /cdk-cross-region-config, "version", "chunks" (at least 1), "variables"}');
});

describe('settings documents are not application configuration', () => {
  beforeAll(async () => {
    await ssm.send(new PutParameterCommand({ Name: '/cdk-cross-region-config/AppStack/AppStackSyncerSettings0A1B2C3D/0123456789abcdef0123/0', Value: `${SETTINGS_CHUNK_MAGIC} 0123456789abcdef0123 0/1\n{}`, Type: 'String', Overwrite: true }));
    await ssm.send(new PutParameterCommand({ Name: '/cdk-cross-region-config-app/log_level', Value: 'info', Type: 'String', Overwrite: true }));
  });

  test('the drift detector never compares them, even under a path that covers them', async () => {
    /* eslint-disable @typescript-eslint/no-require-imports */
    const { ParametersScope } = require('../../lambda-src/shared/comparison/parameters') as typeof import('../../lambda-src/shared/comparison/parameters');
    const { RunDigest } = require('../../lambda-src/shared/comparison/digest') as typeof import('../../lambda-src/shared/comparison/digest');
    const { ClientCache } = require('../../lambda-src/shared/clients') as typeof import('../../lambda-src/shared/clients');
    /* eslint-enable @typescript-eslint/no-require-imports */
    const scope = new ParametersScope({
      clients: new ClientCache(PRIMARY), primaryRegion: PRIMARY, replicaRegions: ['eu-west-1'], path: '/', digest: new RunDigest(), keepForRemediation: false, excludedNames: new Set(),
    });
    const names = [...(await scope.read({ region: PRIMARY }, 'primary')).items.keys()];
    expect(names).toContain('/cdk-cross-region-config-app/log_level');
    expect(names.filter((n) => n.startsWith('/cdk-cross-region-config/'))).toEqual([]);
  });

  test('the ConfigMap syncer never syncs them, even from a path that covers them', async () => {
    /* eslint-disable @typescript-eslint/no-require-imports */
    const { readSource } = require('../../lambda-src/configmap-syncer/source') as typeof import('../../lambda-src/configmap-syncer/source');
    const { ClientCache } = require('../../lambda-src/shared/clients') as typeof import('../../lambda-src/shared/clients');
    /* eslint-enable @typescript-eslint/no-require-imports */
    const source = await readSource(new ClientCache(PRIMARY), { primaryRegion: PRIMARY, parameterPath: '/' });
    const keys = [...source.entries.keys()];
    expect(keys).toContain('cdk-cross-region-config-app.log_level');
    expect(keys.filter((k) => k.startsWith('cdk-cross-region-config.'))).toEqual([]);
  });
});
