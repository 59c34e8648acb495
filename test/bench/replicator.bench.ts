/**
 * Benchmark: the replicator's real handler bundle reconciling 500 secrets from us-east-1 to two
 * replica regions against moto server. Not a test: it measures and prints.
 *
 *   npx projen bench           (runs on the Lambda runtime's Node major)
 *
 * Reports API calls per secret (counted by the proxy in front of moto, per operation), secrets/s,
 * handler CPU and peak memory (in a child process running only the bundle), the bundle size, and
 * the bundle's cold-load time next to loading the bare SDK clients it contains.
 *
 * Then the event path, per changed secret: one warm execution environment handles a CloudTrail
 * event for each of BENCH_EVENTS secrets (create, value update, duplicate, rotation rollback, tag
 * change), and the Secrets Manager calls per event are reported by operation.
 *
 * BENCH_BUNDLE=<path> measures another build of the handler (e.g. the previous release's) with the
 * same harness, for before/after figures.
 */
import { execFile, execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { DescribeSecretCommand, PutSecretValueCommand, TagResourceCommand, UpdateSecretVersionStageCommand } from '@aws-sdk/client-secrets-manager';
import { mapSettled } from '../../lambda-src/shared/concurrency';
import { ReplicatorEnv } from '../../src/secret-replicator/contract';
import { startFaultProxy } from '../harness/fault-proxy';
import { REPO_ROOT, startMotoServer } from '../harness/moto';
import { cloudTrailEvent, SecretsWorld } from '../harness/world';

const SECRETS = Number(process.env.BENCH_SECRETS ?? 500);
const PRIMARY = 'us-east-1';
const REPLICAS = ['eu-west-1', 'ap-southeast-2'];
const BUNDLE = process.env.BENCH_BUNDLE ?? path.join(REPO_ROOT, 'assets', 'lambda-src', 'secret-replicator', 'index.lambda', 'index.js');
/** Secrets changed one event each on the event path. */
const EVENTS = Number(process.env.BENCH_EVENTS ?? 50);
/** Cold loads measured per variant; the median is reported. */
const LOAD_SAMPLES = 7;

interface RunResult {
  summary: { outcomes: Record<string, number>; failures: unknown[] };
  wallMs: number;
  cpuUserMs: number;
  cpuSystemMs: number;
  maxRssMiB: number;
}

/**
 * Runs one handler invocation in a fresh Node process that loads only the bundle. Asynchronous:
 * the fault proxy counting the calls lives in this process and must keep serving.
 */
async function runBundle(env: NodeJS.ProcessEnv, payload: unknown): Promise<RunResult> {
  const script = `
    const started = process.hrtime.bigint();
    const { handler } = require(${JSON.stringify(BUNDLE)});
    const cpu0 = process.cpuUsage();
    const t0 = process.hrtime.bigint();
    handler(${JSON.stringify(payload)}).then((summary) => {
      const wallMs = Number(process.hrtime.bigint() - t0) / 1e6;
      const cpu = process.cpuUsage(cpu0);
      process.stderr.write('BENCH' + JSON.stringify({ summary, wallMs, cpuUserMs: cpu.user / 1e3, cpuSystemMs: cpu.system / 1e3,
        maxRssMiB: process.resourceUsage().maxRSS / 1024 }) + '\\n');
    }, (e) => { console.error(e.name); process.exit(1); });`;
  // Logs and EMF go to stdout (ignored here); the measurement line goes to stderr.
  const { stderr } = await promisify(execFile)(process.execPath, ['-e', script], { env, maxBuffer: 256 * 1024 * 1024 });
  const line = stderr.split('\n').find((l) => l.startsWith('BENCH'));
  if (!line) throw new Error('benchmark child printed no result');
  return JSON.parse(line.slice('BENCH'.length));
}

/**
 * Runs the handler over `payloads` in order in one fresh Node process (one warm execution
 * environment); a failed invocation is counted, not fatal.
 */
async function runBundleEvents(env: NodeJS.ProcessEnv, payloads: unknown[]): Promise<{ failed: number; outcomes: Record<string, number> }> {
  const script = `
    const { handler } = require(${JSON.stringify(BUNDLE)});
    const payloads = JSON.parse(process.env.BENCH_PAYLOADS);
    (async () => {
      let failed = 0; const outcomes = {};
      for (const p of payloads) {
        try {
          const r = await handler(p);
          for (const [k, v] of Object.entries(r.outcomes ?? {})) outcomes[k] = (outcomes[k] ?? 0) + v;
        } catch { failed++; }
      }
      process.stderr.write('BENCH' + JSON.stringify({ failed, outcomes }) + '\\n');
    })();`;
  const { stderr } = await promisify(execFile)(process.execPath, ['-e', script], {
    env: { ...env, BENCH_PAYLOADS: JSON.stringify(payloads) }, maxBuffer: 256 * 1024 * 1024,
  });
  const line = stderr.split('\n').find((l) => l.startsWith('BENCH'));
  if (!line) throw new Error('benchmark child printed no result');
  return JSON.parse(line.slice('BENCH'.length));
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

function loadTimeMs(code: string, env: NodeJS.ProcessEnv): number {
  const samples: number[] = [];
  for (let i = 0; i < LOAD_SAMPLES; i++) {
    const out = execFileSync(process.execPath, ['-e', `const t=process.hrtime.bigint();${code};console.log(Number(process.hrtime.bigint()-t)/1e6)`], { cwd: REPO_ROOT, env, stdio: ['ignore', 'pipe', 'ignore'] });
    samples.push(Number(out.toString().trim()));
  }
  return median(samples);
}

async function main() {
  if (!fs.existsSync(BUNDLE)) throw new Error(`bundle not found at ${BUNDLE}: run "npx projen bundle" first`);
  const moto = await startMotoServer();
  const proxy = await startFaultProxy({ target: moto.endpoint });
  try {
    const world = new SecretsWorld(moto.endpoint);
    const keyArn = await world.create(PRIMARY, 'bench/provenance-key', world.newValue('k'.repeat(64)));
    await mapSettled(Array.from({ length: SECRETS }, (_, i) => i), 16, (i) =>
      world.create(PRIMARY, `bench/app/secret-${String(i).padStart(4, '0')}`, world.newValue(`v${i}`), { description: `secret ${i}`, tags: { team: 'bench' } }));

    const env: NodeJS.ProcessEnv = {
      PATH: process.env.PATH,
      AWS_ENDPOINT_URL: proxy.endpoint,
      AWS_ACCESS_KEY_ID: 'testing',
      AWS_SECRET_ACCESS_KEY: 'testing',
      AWS_REGION: PRIMARY,
      [ReplicatorEnv.PRIMARY_REGION]: PRIMARY,
      [ReplicatorEnv.REPLICA_TARGETS]: JSON.stringify(REPLICAS.map((region) => ({ region }))),
      [ReplicatorEnv.SELECTION]: JSON.stringify({ rules: [{ namePrefixes: ['bench/app/'] }] }),
      [ReplicatorEnv.PROVENANCE_KEY_SECRET_ARN]: keyArn,
      [ReplicatorEnv.METRIC_NAMESPACE]: 'CrossRegionConfig',
      [ReplicatorEnv.SERVICE_NAME]: 'bench',
    };

    const measure = async (label: string, payload: unknown) => {
      proxy.resetStats();
      const r = await runBundle(env, payload);
      const stats = proxy.stats();
      const byOp: Record<string, number> = {};
      for (const [key, counts] of Object.entries(stats.byOperation)) {
        const op = key.split(':')[2];
        byOp[op] = (byOp[op] ?? 0) + counts.forwarded;
      }
      return {
        run: label,
        outcomes: r.summary.outcomes,
        failures: r.summary.failures.length,
        apiCalls: stats.forwarded,
        apiCallsPerSecret: +(stats.forwarded / SECRETS).toFixed(3),
        callsByOperation: byOp,
        wallMs: Math.round(r.wallMs),
        secretsPerSecond: Math.round(SECRETS / (r.wallMs / 1000)),
        cpuMsPerSecret: +((r.cpuUserMs + r.cpuSystemMs) / SECRETS).toFixed(2),
        maxRssMiB: Math.round(r.maxRssMiB),
      };
    };

    const initial = await measure(`initial copy (${REPLICAS.length} x ${SECRETS} creates)`, { action: 'reconcile' });
    const steady = await measure('steady state (nothing to do)', { action: 'reconcile' });
    for (let i = 0; i < SECRETS; i += 10) {
      await world.client(PRIMARY).send(new PutSecretValueCommand({
        SecretId: `bench/app/secret-${String(i).padStart(4, '0')}`, SecretString: world.newValue(`changed${i}`),
      }));
    }
    const tenth = await measure('10% changed', { action: 'reconcile' });

    // The event path, per changed secret, in one warm execution environment. The environment
    // reads the provenance key once (one GetSecretValue), which is not a per-event cost.
    const eventNames = Array.from({ length: EVENTS }, (_, i) => `bench/app/event-${String(i).padStart(4, '0')}`);
    const eventRun = async (label: string, prepare: (name: string) => Promise<unknown>) => {
      const payloads: unknown[] = [];
      for (const name of eventNames) payloads.push(await prepare(name));
      proxy.resetStats();
      const r = await runBundleEvents(env, payloads);
      // The provenance key's GetSecretValue is taken off: once per environment, not per event.
      const byOp: Record<string, number> = { GetSecretValue: -1 };
      for (const [k, counts] of Object.entries(proxy.stats().byOperation)) {
        const [service, , op] = k.split(':');
        if (service === 'secretsmanager') byOp[op] = (byOp[op] ?? 0) + counts.forwarded;
      }
      const perEvent = Object.fromEntries(Object.entries(byOp).filter(([, n]) => n > 0).map(([op, n]) => [op, +(n / EVENTS).toFixed(2)]));
      const calls = Object.values(byOp).reduce((a, b) => a + b, 0);
      return {
        path: label, callsPerEvent: +(calls / EVENTS).toFixed(2), callsByOperation: perEvent, outcomes: r.outcomes, failedInvocations: r.failed,
      };
    };
    const sm = world.client(PRIMARY);
    const eventPath = [
      (await eventRun('create (CreateSecret)', async (name) =>
        cloudTrailEvent('CreateSecret', await world.create(PRIMARY, name, world.newValue('e0'), { tags: { team: 'bench' } })))),
      (await eventRun('value update (PutSecretValue)', async (name) => {
        await sm.send(new PutSecretValueCommand({ SecretId: name, SecretString: world.newValue('e1') }));
        return cloudTrailEvent('PutSecretValue', name);
      })),
      (await eventRun('duplicate event (nothing to do)', async (name) => cloudTrailEvent('PutSecretValue', name))),
      (await eventRun('rotation rollback (UpdateSecretVersionStage)', async (name) => {
        const d = await sm.send(new DescribeSecretCommand({ SecretId: name }));
        const stages = d.VersionIdsToStages ?? {};
        const current = Object.keys(stages).find((v) => stages[v].includes('AWSCURRENT'));
        const previous = Object.keys(stages).find((v) => stages[v].includes('AWSPREVIOUS'));
        await sm.send(new UpdateSecretVersionStageCommand({ SecretId: name, VersionStage: 'AWSCURRENT', MoveToVersionId: previous, RemoveFromVersionId: current }));
        return cloudTrailEvent('UpdateSecretVersionStage', name);
      })),
      (await eventRun('metadata only (TagResource)', async (name) => {
        await sm.send(new TagResourceCommand({ SecretId: name, Tags: [{ Key: 'tier', Value: 'gold' }] }));
        return cloudTrailEvent('TagResource', name);
      })),
    ];

    const report = {
      secrets: SECRETS,
      replicaRegions: REPLICAS.length,
      node: process.version,
      bundleBytes: fs.statSync(BUNDLE).size,
      coldLoadMs: {
        bundle: +loadTimeMs(`require(${JSON.stringify(BUNDLE)})`, env).toFixed(1),
        bareSdkClients: +loadTimeMs("require('@aws-sdk/client-secrets-manager');require('@aws-sdk/client-sts');require('@aws-sdk/credential-providers')", env).toFixed(1),
      },
      runs: [initial, steady, tenth],
      eventPath,
    };
    console.log(JSON.stringify(report, null, 2));
  } finally {
    await proxy.stop();
    await moto.stop();
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
