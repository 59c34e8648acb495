/**
 * Benchmark: the parameter replicator's real handler bundle reconciling BENCH_PARAMETERS (2,000)
 * parameters from us-east-1 to two replica regions against moto server. Not a test: it measures
 * and prints.
 *
 *   npx projen bench           (runs on the Lambda runtime's Node major)
 *
 * Three reconciliations, each in a fresh Node process that loads only the bundle: the initial
 * copy, the steady state (nothing changed) and 10% of the primaries changed. For each: Parameter
 * Store calls by operation (counted by the proxy in front of moto) against the lower bound, wall
 * time, handler CPU per parameter and peak memory (max RSS).
 *
 * Lower bounds, N parameters, R replica regions, C changed: reading is ⌈N/10⌉ GetParametersByPath
 * pages in the primary and R·⌈N/10⌉ in the replica regions; writing is R·N PutParameter for the
 * initial copy, none in the steady state and R·C when C changed.
 *
 * The handler paces its writes (WRITES_PER_SECOND per replica region, 2 by default) and works the
 * replica regions concurrently; the bench raises the pace to BENCH_WRITES_PER_SECOND (1000) to
 * measure the handler rather than the pacing, and prints how long the default pace would take (the
 * busiest region's paced writes at 2 a second).
 */
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { CreateSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { mapSettled } from '../../lambda-src/shared/concurrency';
import { DEFAULT_WRITES_PER_SECOND, ParameterReplicatorEnv as Env } from '../../src/parameter-replicator/contract';
import { startFaultProxy } from '../harness/fault-proxy';
import { REPO_ROOT, startMotoServer } from '../harness/moto';

const N = Number(process.env.BENCH_PARAMETERS ?? 2000);
const CHANGED = Math.ceil(N / 10);
const PRIMARY = 'us-east-1';
const REPLICAS = ['eu-west-1', 'ap-southeast-2'];
const R = REPLICAS.length;
const WRITES_PER_SECOND = Number(process.env.BENCH_WRITES_PER_SECOND ?? 1000);
const BUNDLE = process.env.BENCH_BUNDLE ?? path.join(REPO_ROOT, 'assets', 'lambda-src', 'parameter-replicator', 'index.lambda', 'index.js');

interface RunResult {
  summary: { outcomes: Record<string, number>; failures: unknown[] };
  wallMs: number;
  cpuUserMs: number;
  cpuSystemMs: number;
  maxRssMiB: number;
}

async function runBundle(env: NodeJS.ProcessEnv, payload: unknown): Promise<RunResult> {
  const script = `
    const { handler } = require(${JSON.stringify(BUNDLE)});
    const cpu0 = process.cpuUsage();
    const t0 = process.hrtime.bigint();
    handler(${JSON.stringify(payload)}).then((summary) => {
      const wallMs = Number(process.hrtime.bigint() - t0) / 1e6;
      const cpu = process.cpuUsage(cpu0);
      process.stderr.write('BENCH' + JSON.stringify({ summary, wallMs, cpuUserMs: cpu.user / 1e3, cpuSystemMs: cpu.system / 1e3,
        maxRssMiB: process.resourceUsage().maxRSS / 1024 }) + '\\n');
    }, (e) => { console.error(e.name); process.exit(1); });`;
  const { stderr } = await promisify(execFile)(process.execPath, ['-e', script], { env, maxBuffer: 512 * 1024 * 1024 });
  const line = stderr.split('\n').find((l) => l.startsWith('BENCH'));
  if (!line) throw new Error('benchmark child printed no result');
  return JSON.parse(line.slice('BENCH'.length));
}

async function main(): Promise<void> {
  if (!fs.existsSync(BUNDLE)) throw new Error(`bundle not found at ${BUNDLE}: run "npx projen bundle" first`);
  const moto = await startMotoServer();
  const proxy = await startFaultProxy({ target: moto.endpoint });
  try {
    const credentials = { accessKeyId: 'testing', secretAccessKey: 'testing' };
    const sm = new SecretsManagerClient({ region: PRIMARY, endpoint: moto.endpoint, credentials });
    const keyArn = (await sm.send(new CreateSecretCommand({ Name: 'bench/key', SecretString: 'bench-provenance-key-0123456789abcdef0123' }))).ARN!;
    const ssm = new SSMClient({ region: PRIMARY, endpoint: moto.endpoint, credentials });
    const names = Array.from({ length: N }, (_, i) => `/bench/app${i % 20}/param-${String(i).padStart(5, '0')}`);
    const seedStarted = Date.now();
    const types = ['String', 'StringList', 'SecureString'] as const;
    await mapSettled(names, 16, (name, i) => ssm.send(new PutParameterCommand({
      Name: name, Type: types[i % 3], Value: `value-${i}-${'x'.repeat(i % 200)}`, Description: `parameter ${i}`,
    })));
    console.log(`seeded ${N} parameters in ${((Date.now() - seedStarted) / 1000).toFixed(1)} s`);

    const env: NodeJS.ProcessEnv = {
      PATH: process.env.PATH,
      AWS_ENDPOINT_URL: proxy.endpoint,
      AWS_ACCESS_KEY_ID: 'testing',
      AWS_SECRET_ACCESS_KEY: 'testing',
      AWS_REGION: PRIMARY,
      [Env.PRIMARY_REGION]: PRIMARY,
      [Env.REPLICA_TARGETS]: JSON.stringify(REPLICAS.map((region) => ({ region }))),
      [Env.SELECTION]: JSON.stringify({ paths: ['/bench'] }),
      [Env.PROVENANCE_KEY_SECRET_ARN]: keyArn,
      [Env.WRITES_PER_SECOND]: String(WRITES_PER_SECOND),
      [Env.METRIC_NAMESPACE]: 'Bench',
      [Env.SERVICE_NAME]: 'bench',
    };

    const pages = Math.ceil(N / 10);
    const phase = async (label: string, writesLowerBound: number) => {
      proxy.resetStats();
      const r = await runBundle(env, { action: 'reconcile' });
      const calls: Record<string, number> = {};
      const pacedByRegion: Record<string, number> = {};
      for (const [key, counts] of Object.entries(proxy.stats().byOperation)) {
        const [service, region, op] = key.split(':');
        if (service !== 'ssm') continue;
        calls[op] = (calls[op] ?? 0) + counts.forwarded + counts.injected;
        if (REPLICAS.includes(region) && ['PutParameter', 'AddTagsToResource', 'RemoveTagsFromResource', 'DeleteParameter'].includes(op)) {
          pacedByRegion[region] = (pacedByRegion[region] ?? 0) + counts.forwarded + counts.injected;
        }
      }
      const total = Object.values(calls).reduce((a, b) => a + b, 0);
      const writes = (calls.PutParameter ?? 0);
      const pacedWrites = writes + (calls.AddTagsToResource ?? 0) + (calls.RemoveTagsFromResource ?? 0) + (calls.DeleteParameter ?? 0);
      const lowerBound = (R + 1) * pages + writesLowerBound;
      console.log(JSON.stringify({
        phase: label,
        parameters: N,
        replicaRegions: R,
        outcomes: r.summary.outcomes,
        failures: r.summary.failures.length,
        ssmCalls: calls,
        ssmCallsTotal: total,
        lowerBound: { reads: (R + 1) * pages, putParameter: writesLowerBound, total: lowerBound },
        callsOverLowerBound: +(total / lowerBound).toFixed(2),
        putParameterOverLowerBound: writesLowerBound === 0 ? writes : +(writes / writesLowerBound).toFixed(2),
        wallS: +(r.wallMs / 1000).toFixed(1),
        cpuMsPerParameter: +((r.cpuUserMs + r.cpuSystemMs) / N).toFixed(2),
        maxRssMiB: +r.maxRssMiB.toFixed(0),
        // Every paced write (values and tags); at the default pace per region, the regions worked concurrently.
        pacedWrites,
        wallAtDefaultPaceS: Math.ceil(Math.max(0, ...Object.values(pacedByRegion)) / DEFAULT_WRITES_PER_SECOND),
      }));
    };

    await phase('initial copy', R * N);
    await phase('steady state', 0);
    const changedNames = names.filter((_, i) => i % 10 === 3);
    await mapSettled(changedNames, 16, (name, i) => ssm.send(new PutParameterCommand({ Name: name, Value: `changed-${i}`, Overwrite: true })));
    await phase(`${changedNames.length} changed (10%)`, R * CHANGED);
    console.log(`bundle ${(fs.statSync(BUNDLE).size / 1024).toFixed(0)} KiB`);
  } finally {
    await proxy.stop();
    await moto.stop();
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
