/**
 * Benchmark: the initial copy of a large selection (BENCH_FLEET_SECRETS, default 20,000 secrets)
 * from us-east-1 into two replica regions on moto server, by the secret replicator's reconciliation
 * working as a chain of deadline-bound invocations. Not a test: it measures and prints.
 *
 *   npx projen bench     (or: node -r ts-node/register test/bench/fleet-scale.bench.ts)
 *
 * Time is compressed by BENCH_QUOTA_SCALE (default 2): the pacer allows that many times the
 * documented request quotas and each invocation gets the 10-minute default timeout divided by the
 * same factor, so an invocation does as much work as it would at the real quotas and the pass
 * takes as many invocations; only the wall clock shrinks. moto answers far faster than the quotas
 * allow, so the paced rate, not moto, sets the pace (the report says how close it came).
 *
 * Reports wall time, invocations, items per invocation, AWS calls per secret by operation (counted
 * by the proxy in front of moto), the achieved write rate per region against the paced rate, and
 * the extrapolation to 100,000 and 500,000 secrets at the real quotas.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { CreateSecretCommand } from '@aws-sdk/client-secrets-manager';
import { ReplicatorEnv } from '../../src/secret-replicator/contract';
import { startFaultProxy } from '../harness/fault-proxy';
import { REPO_ROOT, startMotoServer } from '../harness/moto';
import { SecretsWorld } from '../harness/world';

const SECRETS = Number(process.env.BENCH_FLEET_SECRETS ?? 20_000);
const SCALE = Number(process.env.BENCH_QUOTA_SCALE ?? 2);
const PRIMARY = 'us-east-1';
const REPLICAS = ['eu-west-1', 'ap-southeast-2'];
/** The replicator's default timeout (10 minutes). */
const REAL_TIMEOUT_MS = 600_000;
/** Secrets created in the primary at once while setting up. */
const SETUP_CONCURRENCY = 8;

/**
 * CreateSecret in the primary, again after moto's threaded server answers a concurrent request with
 * an HTML error page (a deserialization error); an earlier attempt that did land is fine.
 */
async function createRetried(world: SecretsWorld, name: string, value: string): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await world.client(PRIMARY).send(new CreateSecretCommand({ Name: name, SecretString: value }));
      return;
    } catch (e) {
      if ((e as Error).name === 'ResourceExistsException') return;
      if (attempt >= 5) {
        const body = (e as any).$response?.body;
        process.stderr.write(`seeding ${name} failed ${attempt} times (HTTP ${(e as any).$metadata?.httpStatusCode}): ${String(body ?? '').slice(0, 300)}\n`);
        throw e;
      }
      await new Promise((r) => setTimeout(r, 100 * attempt));
    }
  }
}

async function main(): Promise<void> {
  const moto = await startMotoServer();
  const proxy = await startFaultProxy({ target: moto.endpoint });
  const world = new SecretsWorld(moto.endpoint);
  Object.assign(process.env, {
    AWS_ENDPOINT_URL: proxy.endpoint,
    AWS_ACCESS_KEY_ID: 'testing',
    AWS_SECRET_ACCESS_KEY: 'testing',
    AWS_REGION: PRIMARY,
    [ReplicatorEnv.METRIC_NAMESPACE]: 'CrossRegionConfig',
    [ReplicatorEnv.SERVICE_NAME]: 'FleetBench',
    POWERTOOLS_LOG_LEVEL: 'WARN',
    POWERTOOLS_METRICS_DISABLED: 'true',
  });
  delete process.env.AWS_SESSION_TOKEN;
  delete process.env.AWS_PROFILE;
  /* eslint-disable @typescript-eslint/no-require-imports -- loaded after the environment points at the proxy */
  const { createHandler } = require('../../lambda-src/secret-replicator/handler');
  const { Pacer, DOCUMENTED_QUOTAS, DEFAULT_QUOTA_SHARE } = require('../../lambda-src/shared/pacing');
  /* eslint-enable @typescript-eslint/no-require-imports */
  try {
    const keyArn = await world.create(PRIMARY, 'fleet/provenance-key', world.newValue('hmac-key-material-0123456789abcdef0123456789'));
    const setupStarted = Date.now();
    let next = 0;
    await Promise.all(Array.from({ length: SETUP_CONCURRENCY }, async () => {
      while (next < SECRETS) {
        const i = next++;
        await createRetried(world, `fleet/s${String(i).padStart(6, '0')}`, `v-${i}-Zq9`);
      }
    }));
    const setupMs = Date.now() - setupStarted;

    const quotas = DOCUMENTED_QUOTAS.map((q: any) => ({ ...q, perSecond: q.perSecond * SCALE }));
    const pacer = new Pacer({ quotas });
    const queue: any[] = [];
    const handler = createHandler({
      ...process.env,
      [ReplicatorEnv.PRIMARY_REGION]: PRIMARY,
      [ReplicatorEnv.REPLICA_TARGETS]: JSON.stringify(REPLICAS.map((region) => ({ region }))),
      [ReplicatorEnv.SELECTION]: JSON.stringify({ rules: [{ namePrefixes: ['fleet/s'] }] }),
      [ReplicatorEnv.PROVENANCE_KEY_SECRET_ARN]: keyArn,
    }, undefined, { pacer, invoker: { invokeAsync: async (payload: unknown) => { queue.push(JSON.parse(JSON.stringify(payload))); } } });

    proxy.resetStats();
    const timeoutMs = REAL_TIMEOUT_MS / SCALE;
    const hops: Array<{ processed: number; wallMs: number; describing: boolean }> = [];
    const started = Date.now();
    let event: any = { action: 'reconcile' };
    let last: any;
    for (;;) {
      const deadline = Date.now() + timeoutMs;
      const t0 = Date.now();
      last = await handler(event, { getRemainingTimeInMillis: () => deadline - Date.now() });
      hops.push({ processed: last.processed, wallMs: Date.now() - t0, describing: Boolean(event.continuation?.cursor?.position?.describeReplicas) });
      event = queue.shift();
      if (!event) break;
    }
    const wallMs = Date.now() - started;
    const stats = proxy.stats();
    const perSecret: Record<string, number> = {};
    for (const [key, counts] of Object.entries(stats.byOperation)) {
      const [service, , operation] = key.split(':');
      const name = `${service}:${operation}`;
      perSecret[name] = +(((perSecret[name] ?? 0) * SECRETS + counts.forwarded) / SECRETS).toFixed(4);
    }
    const createRate = (REPLICAS.length * SECRETS) / (wallMs / 1000);
    const pacedCreateRate = REPLICAS.length * 50 * SCALE * DEFAULT_QUOTA_SHARE;

    // Extrapolation at the real quotas: the pass is bound by CreateSecret (50 a second per region,
    // 80% of it used), regions in parallel; an invocation works (timeout - margin) of its 10 minutes,
    // less the per-invocation overhead measured here (scaled back to real time). The margin costs no
    // wall time: the next invocation starts as soon as the writes in flight finish.
    const realRate = 50 * DEFAULT_QUOTA_SHARE;
    const pacedWriteMs = (REPLICAS.length * SECRETS) / (pacedCreateRate / 1000);
    const overheadMs = Math.max(0, hops.reduce((n, h) => n + h.wallMs, 0) - pacedWriteMs) / hops.length * SCALE;
    const usableMs = REAL_TIMEOUT_MS - 90_000 - overheadMs;
    const extrapolate = (n: number) => {
      const writeSeconds = n / realRate;
      const invocations = Math.ceil((writeSeconds * 1000) / usableMs);
      return {
        secrets: n,
        createSecretCalls: n * REPLICAS.length,
        hours: +((writeSeconds + (invocations * overheadMs) / 1000) / 3600).toFixed(2),
        invocations,
        callsPerSecret: +Object.values(perSecret).reduce((a, b) => a + b, 0).toFixed(3),
      };
    };

    const report = {
      secrets: SECRETS,
      replicaRegions: REPLICAS.length,
      quotaScale: SCALE,
      invocationTimeoutMs: timeoutMs,
      setupSeconds: +(setupMs / 1000).toFixed(1),
      outcomes: last.pass?.outcomes,
      passComplete: last.pass?.complete,
      wallSeconds: +(wallMs / 1000).toFixed(1),
      invocations: hops.length,
      itemsPerInvocation: hops.map((h) => h.processed),
      invocationsDescribingReplicas: hops.filter((h) => h.describing).length,
      apiCalls: stats.forwarded,
      callsPerSecretByOperation: perSecret,
      callsPerSecret: +(stats.forwarded / SECRETS).toFixed(3),
      createSecretsPerSecond: +createRate.toFixed(1),
      pacedCreateSecretsPerSecond: pacedCreateRate,
      throttledByPacer: pacer.stats().filter((s: any) => s.throttles > 0),
      perInvocationOverheadMsAtRealQuotas: Math.round(overheadMs),
      extrapolation: [extrapolate(100_000), extrapolate(500_000)],
      node: process.version,
      commit: execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: REPO_ROOT }).toString().trim(),
    };
    process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
    const out = process.env.BENCH_OUT ?? path.join(os.tmpdir(), 'fleet-scale.bench.json');
    fs.writeFileSync(out, `${JSON.stringify(report, null, 2)}\n`);
  } finally {
    await proxy.stop();
    await moto.stop();
  }
}

main().catch((e) => {
  process.stderr.write(`${e?.stack ?? e}\n`);
  process.exit(1);
});
