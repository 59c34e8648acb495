/**
 * The shipped handler bundles (assets/, built by `npx projen bundle` before the tests) load and run
 * in a fresh Node process of the Lambda runtime's major against moto server: the tests above run
 * the TypeScript sources, this proves the minified ES-module bundles behave the same.
 */
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { ConfigWorld } from './drift-detector/world';
import { FakeCodePipeline, startFakeCodePipeline } from './harness/fake-codepipeline';
import { closedLocalPort } from './harness/kube';
import { awsTestEnv, MotoServer, REPO_ROOT, startMotoServer } from './harness/moto';
import { SyncEnv } from '../src/configmap-syncer/contract';
import { DriftEnv } from '../src/drift-detector/contract';
import { PipelineEnv } from '../src/multi-region-pipeline/contract';
import { ParameterReplicatorEnv } from '../src/parameter-replicator/contract';
import { ParityEnv } from '../src/parity-check/contract';
import { ReplicatorEnv } from '../src/secret-replicator/contract';

const run = promisify(execFile);
const bundle = (name: string) => path.join(REPO_ROOT, 'assets', 'lambda-src', name, 'index.lambda', 'index.js');

let moto: MotoServer;
let world: ConfigWorld;
let keyArn: string;

/** Invokes a bundle's `handler` once in a child process; returns its result. */
async function invoke(file: string, env: Record<string, string | undefined>, payload: unknown): Promise<any> {
  const script = `require(${JSON.stringify(file)}).handler(${JSON.stringify(payload)})`
    + '.then((r) => process.stderr.write("RESULT" + JSON.stringify(r) + "\\n"), (e) => { process.stderr.write("ERROR" + e.name + "\\n"); process.exit(1); })';
  const { stderr } = await run(process.execPath, ['-e', script], { env: { PATH: process.env.PATH, ...awsTestEnv(moto.endpoint), ...env } });
  const line = stderr.split('\n').find((l) => l.startsWith('RESULT'));
  return JSON.parse(line!.slice('RESULT'.length));
}

beforeAll(async () => {
  moto = await startMotoServer();
  world = new ConfigWorld(moto.endpoint);
  keyArn = await world.create('us-east-1', 'smoke/provenance-key', world.newValue('hmac-key-material-0123456789abcdef0123456789'));
  await world.createBucket('us-east-1', 'smoke-reports');
  await world.putParameter('us-east-1', '/smoke/only-in-primary', world.newValue('smoke'));
  // The parity check's own path: a parameter holding its declared value in eu-west-1, and one missing there.
  await world.putParameter('us-east-1', '/smoke-parity/endpoint', 'https://api.us-east-1.example.com');
  await world.putParameter('eu-west-1', '/smoke-parity/endpoint', 'https://api.eu-west-1.example.com');
  await world.putParameter('us-east-1', '/smoke-parity/missing', world.newValue('smoke'));
});

afterAll(() => moto?.stop());

test('the bundles exist and run on the Lambda runtime\'s Node major', () => {
  expect(process.versions.node.split('.')[0]).toBe('22');
  for (const name of ['secret-replicator', 'drift-detector', 'configmap-syncer', 'multi-region-pipeline', 'parameter-replicator', 'parity-check']) {
    expect(fs.statSync(bundle(name)).size).toBeGreaterThan(100_000);
  }
});

test('the ConfigMap syncer bundle, with the Kubernetes client in it, stays within 2.5 MB', () => {
  // The budget of issue 14: the client's unused packages are stubbed out (.projenrc.ts).
  expect(fs.statSync(bundle('configmap-syncer')).size).toBeLessThanOrEqual(2_500_000);
});

test('the replicator bundle runs a dry-run reconcile', async () => {
  const result = await invoke(bundle('secret-replicator'), {
    [ReplicatorEnv.PRIMARY_REGION]: 'us-east-1',
    [ReplicatorEnv.REPLICA_TARGETS]: '[{"region":"eu-west-1"}]',
    [ReplicatorEnv.SELECTION]: '{"rules":[{"namePrefixes":["smoke/app/"]}]}',
    [ReplicatorEnv.PROVENANCE_KEY_SECRET_ARN]: keyArn,
    // Names the replicator's run records since deadline-aware runs (the construct always sets it).
    [ReplicatorEnv.SERVICE_NAME]: 'smoke-replicator',
  }, { action: 'test_sync' });
  expect(result).toMatchObject({ action: 'test_sync', secrets: 0, dryRun: true });
});

test('the drift detector bundle scans, reports and writes its report', async () => {
  const result = await invoke(bundle('drift-detector'), {
    [DriftEnv.PRIMARY_REGION]: 'us-east-1',
    [DriftEnv.REPLICA_TARGETS]: '[{"region":"eu-west-1"}]',
    [DriftEnv.PARAMETER_PATHS]: '["/smoke"]',
    [DriftEnv.GRACE_WINDOW_SECONDS]: '0',
    [DriftEnv.REPORT_BUCKET]: 'smoke-reports',
  }, { action: 'manual_check' });
  expect(result.drifts.map((d: any) => `${d.name} ${d.driftType} ${d.replicaRegion}`)).toEqual(['/smoke/only-in-primary MISSING_IN_REPLICA eu-west-1']);
  expect(await world.keys('us-east-1', 'smoke-reports', 'drift-reports/latest.json')).toEqual(['drift-reports/latest.json']);
});

test('the ConfigMap syncer bundle reads its source and reports an unreachable cluster without writing', async () => {
  const result = await invoke(bundle('configmap-syncer'), {
    [SyncEnv.PRIMARY_REGION]: 'us-east-1',
    [SyncEnv.SOURCE_PARAMETER_PATH]: '/smoke',
    [SyncEnv.TARGETS]: JSON.stringify([{
      // Nothing listens on the port: the target fails on its own, as an unreachable cluster does.
      cluster: { name: 'nowhere', region: 'eu-west-1', endpoint: `https://127.0.0.1:${await closedLocalPort()}`, certificateAuthorityData: Buffer.from(CA).toString('base64') },
      namespace: 'default',
      configMapName: 'smoke-config',
      createNamespace: false,
    }]),
  }, { action: 'test_sync' });
  expect(result.targets).toEqual([expect.objectContaining({ cluster: 'nowhere', outcome: 'failed', errorName: 'ECONNREFUSED' })]);
});

test('the parameter replicator bundle runs a dry-run reconcile that would create the missing replica and writes nothing', async () => {
  const result = await invoke(bundle('parameter-replicator'), {
    [ParameterReplicatorEnv.PRIMARY_REGION]: 'us-east-1',
    [ParameterReplicatorEnv.REPLICA_TARGETS]: '[{"region":"eu-west-1"}]',
    [ParameterReplicatorEnv.SELECTION]: '{"paths":["/smoke"]}',
    [ParameterReplicatorEnv.CONFLICT_POLICY]: 'PRIMARY_WINS',
    [ParameterReplicatorEnv.PROVENANCE_KEY_SECRET_ARN]: keyArn,
    [ParameterReplicatorEnv.SERVICE_NAME]: 'smoke-parameter-replicator',
  }, { action: 'test_sync' });
  expect(result).toMatchObject({ action: 'test_sync', dryRun: true, outcomes: { 'would-create': 1 } });
  expect(await world.parameter('eu-west-1', '/smoke/only-in-primary')).toBeUndefined();
});

test('the parity check bundle honours a declared per-region value and blocks on the missing parameter by name', async () => {
  const result = await invoke(bundle('parity-check'), {
    [ParityEnv.PRIMARY_REGION]: 'us-east-1',
    [ParityEnv.TARGETS]: '[{"region":"eu-west-1"}]',
    [ParityEnv.PARAMETER_PATHS]: '["/smoke-parity"]',
    [ParityEnv.PARAMETER_OVERRIDES]: JSON.stringify([{ name: '/smoke-parity/endpoint', region: 'eu-west-1', value: 'https://api.eu-west-1.example.com' }]),
    [ParityEnv.GRACE_WINDOW_SECONDS]: '0',
  }, { action: 'check', region: 'eu-west-1' });
  expect(result).toMatchObject({ targetRegion: 'eu-west-1', verdict: 'FAIL', complete: true, compared: 2 });
  expect(result.differences).toEqual([{ kind: 'parameter', name: '/smoke-parity/missing', driftType: 'MISSING_IN_REPLICA' }]);
});

/** PEM-shaped CA data: never used, since the connection is refused before any TLS handshake. */
const CA = `-----BEGIN CERTIFICATE-----
MIIBdzCCAR2gAwIBAgIUQ2lUk5s8RbS3xHXo2mBv8uG7pWswCgYIKoZIzj0EAwIw
ETEPMA0GA1UEAwwGc21va2UxMB4XDTI2MTEyODAwMDAwMFoXDTM2MTEyNTAwMDAw
MFowETEPMA0GA1UEAwwGc21va2UxMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE
-----END CERTIFICATE-----
`;

describe('the pipeline bundle', () => {
  let codepipeline: FakeCodePipeline;
  let app: http.Server;
  let appUrl: string;
  const job = (userParameters: unknown) => ({ 'CodePipeline.job': { id: 'job-1', data: { actionConfiguration: { configuration: { UserParameters: JSON.stringify(userParameters) } } } } });

  beforeAll(async () => {
    codepipeline = await startFakeCodePipeline({
      GetJobDetails: { jobDetails: { id: 'job-1', data: { pipelineContext: { pipelineName: 'smoke', pipelineExecutionId: '11111111-2222-3333-4444-555555555555', stage: { name: 'eu-west-1-shift-to-green' }, action: { name: 'SwitchTo-green' } } } } },
      GetPipelineExecution: { pipelineExecution: { pipelineName: 'smoke', pipelineExecutionId: '11111111-2222-3333-4444-555555555555', status: 'InProgress', executionType: 'STANDARD' } },
    });
    app = http.createServer((req, res) => res.writeHead(req.url === '/eu-west-1/green/health' ? 200 : 404).end('ok'));
    await new Promise<void>((resolve) => app.listen(0, '127.0.0.1', resolve));
    appUrl = `http://127.0.0.1:${(app.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await codepipeline?.stop();
    await new Promise((resolve) => app?.close(resolve));
  });
  beforeEach(() => codepipeline.calls.splice(0));

  test('the health check passes a healthy slot and reports the job to CodePipeline', async () => {
    const result = await invoke(bundle('multi-region-pipeline'), {
      AWS_ENDPOINT_URL_CODEPIPELINE: codepipeline.endpoint,
      [PipelineEnv.ROLE]: 'health-check',
      [PipelineEnv.HEALTH_CHECKS]: JSON.stringify([{ name: 'api', url: `${appUrl}/{region}/{slot}/health`, expectedStatuses: [200], consecutiveSuccesses: 2, maxAttempts: 3, intervalSeconds: 0, timeoutSeconds: 2 }]),
    }, job({ region: 'eu-west-1', slot: 'green' }));
    expect(result).toMatchObject({ region: 'eu-west-1', slot: 'green', passed: true });
    expect(codepipeline.calls).toEqual([{ operation: 'PutJobSuccessResult', input: expect.objectContaining({ jobId: 'job-1' }) }]);
  });

  test('the traffic switch writes the live slot to SSM (moto) and reports the job', async () => {
    const result = await invoke(bundle('multi-region-pipeline'), {
      AWS_ENDPOINT_URL_CODEPIPELINE: codepipeline.endpoint,
      [PipelineEnv.ROLE]: 'traffic-switch',
      [PipelineEnv.TRAFFIC_SWITCH]: JSON.stringify({ type: 'ssm-parameter', parameterName: '/smoke/{region}/live-slot' }),
    }, job({ region: 'eu-west-1', slot: 'green' }));
    expect(result).toMatchObject({ region: 'eu-west-1', liveSlot: 'green', changed: true });
    expect((await world.parameter('eu-west-1', '/smoke/eu-west-1/live-slot'))?.value).toBe('green');
    expect(codepipeline.calls.map((c) => c.operation)).toEqual(['GetJobDetails', 'GetPipelineExecution', 'PutJobSuccessResult']);
  });

  test('the watcher counts a failed execution', async () => {
    const result = await invoke(bundle('multi-region-pipeline'), {
      AWS_ENDPOINT_URL_CODEPIPELINE: codepipeline.endpoint,
      [PipelineEnv.ROLE]: 'pipeline-watcher',
      [PipelineEnv.PIPELINE_NAME]: 'smoke',
      [PipelineEnv.REGIONAL_STAGES]: JSON.stringify([{ region: 'us-east-1', stages: ['us-east-1'], rollbackStages: ['us-east-1'] }]),
      [PipelineEnv.COORDINATED_ROLLBACK]: 'false',
    }, {
      'version': '0',
      'id': 'e1',
      'detail-type': 'CodePipeline Pipeline Execution State Change',
      'source': 'aws.codepipeline',
      'account': '111111111111',
      'time': '2026-11-28T10:00:00Z',
      'region': 'us-east-1',
      'resources': ['arn:aws:codepipeline:us-east-1:111111111111:smoke'],
      'detail': { 'pipeline': 'smoke', 'execution-id': '11111111-2222-3333-4444-555555555555', 'state': 'FAILED', 'version': 1 },
    });
    expect(result).toMatchObject({ action: 'execution-failed' });
  });
});
