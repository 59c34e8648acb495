/**
 * The shipped handler bundles (assets/, built by `npx projen bundle` before the tests) load and run
 * in a fresh Node process of the Lambda runtime's major against moto server: the tests above run
 * the TypeScript sources, this proves the minified ES-module bundles behave the same.
 */
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { ConfigWorld } from './drift-detector/world';
import { awsTestEnv, MotoServer, REPO_ROOT, startMotoServer } from './harness/moto';
import { SyncEnv } from '../src/configmap-syncer/contract';
import { DriftEnv } from '../src/drift-detector/contract';
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
});

afterAll(() => moto?.stop());

test('the bundles exist and run on the Lambda runtime\'s Node major', () => {
  expect(process.versions.node.split('.')[0]).toBe('22');
  for (const name of ['secret-replicator', 'drift-detector', 'configmap-syncer']) expect(fs.statSync(bundle(name)).size).toBeGreaterThan(100_000);
});

test('the replicator bundle runs a dry-run reconcile', async () => {
  const result = await invoke(bundle('secret-replicator'), {
    [ReplicatorEnv.PRIMARY_REGION]: 'us-east-1',
    [ReplicatorEnv.REPLICA_TARGETS]: '[{"region":"eu-west-1"}]',
    [ReplicatorEnv.SELECTION]: '{"rules":[{"namePrefixes":["smoke/app/"]}]}',
    [ReplicatorEnv.PROVENANCE_KEY_SECRET_ARN]: keyArn,
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
      // Nothing listens on port 9: the target fails on its own, as an unreachable cluster does.
      cluster: { name: 'nowhere', region: 'eu-west-1', endpoint: 'https://127.0.0.1:9', certificateAuthorityData: Buffer.from(CA).toString('base64') },
      namespace: 'default',
      configMapName: 'smoke-config',
      createNamespace: false,
    }]),
  }, { action: 'test_sync' });
  expect(result.targets).toEqual([expect.objectContaining({ cluster: 'nowhere', outcome: 'failed', errorName: 'ECONNREFUSED' })]);
});

/** PEM-shaped CA data: never used, since the connection is refused before any TLS handshake. */
const CA = `-----BEGIN CERTIFICATE-----
MIIBdzCCAR2gAwIBAgIUQ2lUk5s8RbS3xHXo2mBv8uG7pWswCgYIKoZIzj0EAwIw
ETEPMA0GA1UEAwwGc21va2UxMB4XDTI2MTEyODAwMDAwMFoXDTM2MTEyNTAwMDAw
MFowETEPMA0GA1UEAwwGc21va2UxMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE
-----END CERTIFICATE-----
`;
