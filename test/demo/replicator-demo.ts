/**
 * The Quick start main job: synthesizes the example three-region app, then runs the replicator's
 * real handler bundle (the Lambda asset from the synthesized cloud assembly) end to end against
 * moto server, printing what happens. Secret values are never printed: only names, versions,
 * HMAC-prefixed provenance and timings.
 */
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { CreateAliasCommand, CreateKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import { PutSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { Template } from 'aws-cdk-lib/assertions';
import { ProvenanceTag, REPLICA_REGION_DIMENSION, ReplicatorEnv, ReplicatorMetric } from '../../src/secret-replicator/contract';
import { startFaultProxy } from '../harness/fault-proxy';
import { startMotoServer } from '../harness/moto';
import { cloudTrailEvent, SecretsWorld } from '../harness/world';
import { buildExampleApp, EXAMPLE_PRIMARY, EXAMPLE_REPLICAS } from '../integ/integ.secret-replicator';

const SECRET = 'prod/app/database';

function step(title: string): void {
  console.log(`\n== ${title}`);
}

function elapsed(start: bigint): string {
  return `${(Number(process.hrtime.bigint() - start) / 1e6).toFixed(0)} ms`;
}

/** Sums one metric over the EMF documents in `lines` for one replica region. */
function metricSum(lines: string[], name: string, region: string): number {
  return lines.filter((l) => l.includes('"_aws"')).map((l) => JSON.parse(l))
    .filter((doc) => doc[REPLICA_REGION_DIMENSION] === region && typeof doc[name] === 'number')
    .reduce((sum, doc) => sum + doc[name], 0);
}

async function main() {
  // 1. Synthesize the example app.
  step('Synthesizing the example three-region app');
  const t0 = process.hrtime.bigint();
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'crc-demo-'));
  const { app, stack } = buildExampleApp(outdir);
  const assembly = app.synth();
  const template = Template.fromStack(stack);
  const resources = template.toJSON().Resources as Record<string, { Type: string; Properties?: any }>;
  const counts: Record<string, number> = {};
  for (const r of Object.values(resources)) counts[r.Type] = (counts[r.Type] ?? 0) + 1;
  console.log(`stack ${stack.stackName} (${EXAMPLE_PRIMARY} -> ${EXAMPLE_REPLICAS.join(', ')}) synthesized in ${elapsed(t0)} to ${outdir}`);
  for (const [type, n] of Object.entries(counts).sort()) console.log(`  ${String(n).padStart(2)} x ${type}`);

  // The function's environment and code exactly as synthesized.
  const fnId = stack.getLogicalId(stack.replicator.handler.node.defaultChild as any);
  const fn = resources[fnId].Properties;
  const assetDir = path.join(assembly.directory, fs.readdirSync(assembly.directory).find((d) => d.startsWith('asset.') && fs.existsSync(path.join(assembly.directory, d, 'index.js')))!);
  const bundle = path.join(assetDir, 'index.js');
  console.log(`handler: ${fn.Runtime} on ${fn.Architectures.join(',')}, ${fn.MemorySize} MB, ${fn.Timeout} s; bundle ${(fs.statSync(bundle).size / 1024).toFixed(0)} KiB at ${path.relative(outdir, bundle)}`);

  // 2. A local AWS: moto server behind the fault-injecting proxy.
  step('Starting the local AWS emulator (moto server, one process for every region)');
  const moto = await startMotoServer();
  const proxy = await startFaultProxy({ target: moto.endpoint });
  try {
    const world = new SecretsWorld(moto.endpoint);
    const kms = new KMSClient({ region: 'eu-west-1', endpoint: moto.endpoint, credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' } });
    const key = await kms.send(new CreateKeyCommand({ Description: 'app secrets (eu-west-1)' }));
    await kms.send(new CreateAliasCommand({ AliasName: 'alias/app-secrets', TargetKeyId: key.KeyMetadata!.KeyId }));
    const keyArn = await world.create(EXAMPLE_PRIMARY, 'demo/provenance-key', world.newValue('provenance-key-material-0123456789abcdef0123456789abcdef'));
    console.log(`moto at ${moto.endpoint}; KMS alias/app-secrets created in eu-west-1; provenance key stands in for the stack's generated secret`);

    // Literal environment values from the template; the provenance key ARN is a deploy-time reference.
    const env: NodeJS.ProcessEnv = {
      PATH: process.env.PATH,
      AWS_ENDPOINT_URL: proxy.endpoint,
      AWS_ACCESS_KEY_ID: 'testing',
      AWS_SECRET_ACCESS_KEY: 'testing',
      AWS_REGION: EXAMPLE_PRIMARY,
    };
    for (const [name, value] of Object.entries(fn.Environment.Variables as Record<string, unknown>)) {
      if (typeof value === 'string') env[name] = value;
    }
    env[ReplicatorEnv.PROVENANCE_KEY_SECRET_ARN] = keyArn;

    const logLines: string[] = [];
    const invoke = async (label: string, payload: unknown): Promise<any> => {
      const started = process.hrtime.bigint();
      const script = `require(${JSON.stringify(bundle)}).handler(${JSON.stringify(payload)})
        .then((r) => process.stderr.write('RESULT' + JSON.stringify(r) + '\\n'), (e) => { process.stderr.write('ERROR' + e.message + '\\n'); process.exitCode = 1; });`;
      const { stdout, stderr } = await promisify(execFile)(process.execPath, ['-e', script], { env, maxBuffer: 64 * 1024 * 1024 })
        .catch((e: { stdout: string; stderr: string }) => e);
      logLines.push(...stdout.split('\n').filter(Boolean));
      const line = stderr.split('\n').find((l) => l.startsWith('RESULT') || l.startsWith('ERROR'))!;
      if (line.startsWith('ERROR')) {
        console.log(`${label}: invocation failed in ${elapsed(started)}: "${line.slice(5)}" (Lambda retries it, then dead-letters it)`);
        return undefined;
      }
      const result = JSON.parse(line.slice('RESULT'.length));
      const what = result.outcomes ? JSON.stringify(result.outcomes)
        : (result.regions as any[]).map((r) => `${r.region} ${r.reachable ? 'reachable' : 'UNREACHABLE'} (${r.checks.filter((c: any) => c.ok).length}/${r.checks.length} checks ok)`).join('; ');
      console.log(`${label}: ${what} in ${elapsed(started)} (cold start included)`);
      return result;
    };
    const show = async () => {
      for (const region of EXAMPLE_REPLICAS) {
        const d = await world.describe(region, SECRET);
        const tags = await world.tags(region, SECRET);
        const current = Object.entries(d?.VersionIdsToStages ?? {}).find(([, s]) => s.includes('AWSCURRENT'))?.[0];
        console.log(`  ${region}: version ${current?.slice(0, 8)}…, kms ${tags[ProvenanceTag.KMS_KEY]}, content-hmac ${tags[ProvenanceTag.CONTENT_HMAC]?.slice(0, 12)}…, source version ${tags[ProvenanceTag.SOURCE_VERSION_ID]?.slice(0, 8)}…`);
      }
    };

    step(`Writing ${SECRET} in the primary region and delivering its CloudTrail event`);
    const arn = await world.create(EXAMPLE_PRIMARY, SECRET, world.newValue('db'), { description: 'application database', tags: { team: 'payments' } });
    console.log(`  ${EXAMPLE_PRIMARY}: created ${arn}`);
    await invoke('CreateSecret event', cloudTrailEvent('CreateSecret', arn));
    await show();
    await world.expectSameValue(SECRET, EXAMPLE_PRIMARY, ...EXAMPLE_REPLICAS);
    console.log('  values match in every region (compared in memory, not shown)');

    step('Rotating the value in the primary region');
    await world.client(EXAMPLE_PRIMARY).send(new PutSecretValueCommand({ SecretId: SECRET, SecretString: world.newValue('db-rotated') }));
    await invoke('PutSecretValue event', cloudTrailEvent('PutSecretValue', SECRET));
    await invoke('the same event delivered twice', cloudTrailEvent('PutSecretValue', SECRET));
    await show();

    step('Someone edits the replica in ap-southeast-2 directly: a conflict');
    await world.client('ap-southeast-2').send(new PutSecretValueCommand({ SecretId: SECRET, SecretString: world.newValue('local-edit') }));
    await invoke('scheduled reconcile (primary wins)', { action: 'reconcile' });
    await show();
    await world.expectSameValue(SECRET, EXAMPLE_PRIMARY, ...EXAMPLE_REPLICAS);
    const conflicts = metricSum(logLines, ReplicatorMetric.CONFLICTS, 'ap-southeast-2');
    console.log(`  conflict resolved: the replica holds the primary value again; Conflicts{ReplicaRegion=ap-southeast-2} = ${conflicts}`);

    step('A replica region becomes unreachable, then recovers');
    proxy.addRule({ region: 'eu-west-1', fault: 'connection-refused' });
    await world.client(EXAMPLE_PRIMARY).send(new PutSecretValueCommand({ SecretId: SECRET, SecretString: world.newValue('db-v3') }));
    await invoke('PutSecretValue event during the outage', cloudTrailEvent('PutSecretValue', SECRET)).catch(() => undefined);
    proxy.clearRules();
    await invoke('next scheduled reconcile', { action: 'reconcile' });
    await world.expectSameValue(SECRET, EXAMPLE_PRIMARY, ...EXAMPLE_REPLICAS);
    console.log('  every region converged');

    step('Operator checks');
    await invoke('{"action":"connectivity_test"}', { action: 'connectivity_test' });
    await invoke('{"action":"test_sync"} (dry run)', { action: 'test_sync' });

    const emf = logLines.filter((l) => l.includes('"_aws"')).length;
    const leaked = world.issuedValues.filter((v) => logLines.some((l) => l.includes(v))).length;
    console.log(`\nDone: ${proxy.stats().forwarded} AWS API calls served; ${logLines.length} handler log lines (${emf} EMF metric documents) scanned, ${leaked} secret values found in them.`);
    console.log(`In AWS the same bundle runs as ${fn.Runtime}; its metrics land in CloudWatch namespace ${env[ReplicatorEnv.METRIC_NAMESPACE]} and the Parameter Store document at /genai-demo/production/global/secrets/cross-region-config.`);
    if (leaked > 0) process.exitCode = 1;
  } finally {
    await proxy.stop();
    await moto.stop();
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
