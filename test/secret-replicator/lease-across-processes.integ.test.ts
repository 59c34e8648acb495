/**
 * The secret replicator's run lease between two OS processes, each running the shipped bundle
 * (assets/, `npx projen bundle`) as a long-lived execution environment, against moto server through
 * the fault proxy. The test drives each invocation's deadline (tiny, random) and plays Lambda's
 * Invoke API: the bundle's own continuation invoker (`LambdaSelfInvoker`) queues its continuations
 * at a stand-in endpoint (`AWS_ENDPOINT_URL_LAMBDA`), and the test delivers each one to either
 * process, some a second time to the other process while the first is still working (Lambda's
 * asynchronous invocations are at-least-once), some to both at the same instant.
 *
 * Each case starts two reconciliations of the same replicator, one per process, a few milliseconds
 * apart (an initial copy, then again after changes in the primary), and finally delivers a late copy
 * of a continuation of the first pass. Invariants:
 * - at most one process holds the lease at any moment: every replica write of a process falls
 *   between that process's taking of the lease (a create-only record, observed at the proxy) and
 *   the next taking by anyone, and no two writes of different processes overlap in time;
 * - of the two reconciliations started together, one works the pass and the other reports
 *   `skipped: "lease-held"` and writes nothing;
 * - a continuation delivered to the other process while the first copy works, and a late copy of a
 *   continuation of a pass that has finished (even after another pass ran), are refused as
 *   `stale-continuation` and write nothing; of two copies delivered at once exactly one works;
 * - the pass's invocations form one chain (one run id, hops 0..n, only the last complete), every
 *   (secret, replica region) pair is worked once: `processed` and `ItemsProcessed` add up to the
 *   pairs, each replica is created by exactly one CreateSecret call, each changed secret is written
 *   once per region;
 * - after both processes finish, every replica's value equals the primary's;
 * - no secret value appears in the processes' output or results.
 *
 * SECRET_PROCESS_RACE_SEED sets the first case's PRNG sequence number (default: time-based; printed),
 * SECRET_PROCESS_RACE_CASES (default 3) how many cases run. A failure names the case's number.
 *
 * moto gap: moto answers every Lambda Invoke by running the function in Docker; the stand-in
 * endpoint here answers as Lambda does for InvocationType Event (202 Accepted, the payload queued)
 * and checks that the request is SigV4-signed for the `lambda` service.
 */
import { ChildProcess, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { UpdateSecretCommand } from '@aws-sdk/client-secrets-manager';
import { SSMClient } from '@aws-sdk/client-ssm';
import { RunLease } from '../../lambda-src/shared/lease';
import { RUN_LEASE_PATH_PREFIX } from '../../src/core/run-contract';
import { ReplicatorEnv } from '../../src/secret-replicator/contract';
import { FaultProxy, startFaultProxy } from '../harness/fault-proxy';
import { awsTestEnv, MotoServer, REPO_ROOT, startMotoServer } from '../harness/moto';
import { SecretsWorld } from '../harness/world';

const PRIMARY = 'us-east-1';
const REPLICAS = ['eu-west-1', 'ap-southeast-2'];
const FIRST_CASE = Number(process.env.SECRET_PROCESS_RACE_SEED ?? (Date.now() % 1_000_000));
const CASES = Number(process.env.SECRET_PROCESS_RACE_CASES ?? 3);
/** Invocation deadlines (ms): the budget keeps half of a deadline this short, so each works a handful of pairs. */
const MIN_DEADLINE_MS = 200;
const MAX_DEADLINE_MS = 700;
/** Largest gap between the two reconciliations started together (ms). */
const MAX_START_GAP_MS = 25;
/** Held on each replica write, so that writes are in flight when a deadline passes or a duplicate arrives. */
const WRITE_DELAY_MS = 25;
const WRITE_OPERATIONS = new Set(['CreateSecret', 'PutSecretValue', 'UpdateSecret', 'TagResource', 'UntagResource', 'DeleteSecret', 'RestoreSecret']);
const BUNDLE = path.join(REPO_ROOT, 'assets', 'lambda-src', 'secret-replicator', 'index.lambda', 'index.js');

let moto: MotoServer;
let proxy: FaultProxy;
let world: SecretsWorld;
let keyArn: string;
let lambda: LambdaStandIn;

/** A replica write as the proxy saw it. */
interface WriteSeen {
  readonly app: string;
  readonly operation: string;
  readonly region: string;
  /** `Name` or `SecretId` of the request. */
  readonly secret: string;
  readonly start: number;
  end?: number;
}

/** A create-only write of a lease record (`Overwrite` false) that succeeded: the lease was taken. */
interface LeaseTaken {
  readonly app: string;
  readonly path: string;
  readonly generation: number;
  /** When the request reached the proxy and when its answer came back. */
  readonly start: number;
  readonly end: number;
}

const writes: WriteSeen[] = [];
const taken: LeaseTaken[] = [];

/**
 * The `AWS_SDK_UA_APP_ID` of a request's user agent (`app/<id>`): each process has its own, letters
 * and digits only (Powertools appends `-PT-...` to it).
 */
function appOf(headers: http.IncomingHttpHeaders): string {
  const ua = `${headers['user-agent'] ?? ''} ${headers['x-amz-user-agent'] ?? ''}`;
  return /app\/([A-Za-z0-9]+)/.exec(ua)?.[1] ?? 'unknown';
}

/** The stand-in for Lambda's Invoke API: queues each Event invocation by function name. */
interface LambdaStandIn {
  readonly endpoint: string;
  readonly queues: Map<string, any[]>;
  /** Requests that were not an Event invocation signed for Lambda. */
  readonly refused: string[];
  stop(): Promise<void>;
}

async function startLambdaStandIn(): Promise<LambdaStandIn> {
  const queues = new Map<string, any[]>();
  const refused: string[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const match = /^\/2015-03-31\/functions\/([^/]+)\/invocations$/.exec(req.url ?? '');
      const signed = String(req.headers.authorization ?? '').includes('/lambda/aws4_request');
      if (req.method !== 'POST' || !match || req.headers['x-amz-invocation-type'] !== 'Event' || !signed) {
        refused.push(`${req.method} ${req.url}`);
        res.writeHead(400, { 'x-amzn-errortype': 'InvalidRequestContentException' }).end();
        return;
      }
      const name = decodeURIComponent(match[1]);
      if (!queues.has(name)) queues.set(name, []);
      queues.get(name)!.push(JSON.parse(Buffer.concat(chunks).toString('utf8')));
      res.writeHead(202).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    queues,
    refused,
    stop: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

beforeAll(async () => {
  // Printed first, so it shows in the test output.
  process.stderr.write(`secret process-race cases ${FIRST_CASE} to ${FIRST_CASE + CASES - 1} (rerun one with SECRET_PROCESS_RACE_SEED=<n> SECRET_PROCESS_RACE_CASES=1)\n`);
  if (!fs.existsSync(BUNDLE)) throw new Error(`bundle not found at ${BUNDLE}: run "npx projen bundle" first`);
  const built = fs.statSync(BUNDLE).mtimeMs;
  const sources = ['lambda-src/secret-replicator', 'lambda-src/shared'].flatMap((dir) =>
    fs.readdirSync(path.join(REPO_ROOT, dir)).filter((f) => f.endsWith('.ts')).map((f) => path.join(REPO_ROOT, dir, f)));
  const newer = sources.filter((f) => fs.statSync(f).mtimeMs > built);
  if (newer.length > 0) throw new Error(`the bundle is older than ${path.relative(REPO_ROOT, newer[0])}: run "npx projen bundle" first`);

  moto = await startMotoServer();
  proxy = await startFaultProxy({ target: moto.endpoint, seed: FIRST_CASE });
  proxy.observe({
    before: async (request) => {
      const { operation, region, service } = request.id;
      const now = Date.now();
      if (service === 'secretsmanager' && region !== PRIMARY && WRITE_OPERATIONS.has(operation)) {
        const body = JSON.parse(request.body.toString('utf8') || '{}');
        const seen: WriteSeen = { app: appOf(request.headers), operation, region, secret: String(body.Name ?? body.SecretId), start: now };
        writes.push(seen);
        return seen;
      }
      return now;
    },
    after: (request, response, before) => {
      const now = Date.now();
      if (typeof before === 'object' && before !== null) {
        (before as WriteSeen).end = now;
        return;
      }
      if (request.id.service !== 'ssm' || request.id.operation !== 'PutParameter' || response.status !== 200) return;
      const body = JSON.parse(request.body.toString('utf8'));
      const name = String(body.Name);
      if (body.Overwrite || !name.startsWith(`${RUN_LEASE_PATH_PREFIX}/`)) return;
      const cut = name.lastIndexOf('/');
      const generation = Number(name.slice(cut + 1));
      taken.push({ app: appOf(request.headers), path: name.slice(0, cut), generation, start: before as number, end: now });
    },
  });
  for (const operation of WRITE_OPERATIONS) proxy.addDelay({ operation, delayMs: WRITE_DELAY_MS });
  lambda = await startLambdaStandIn();
  world = new SecretsWorld(moto.endpoint);
  keyArn = await world.create(PRIMARY, 'process-race/provenance-key', world.newValue('hmac-key-material-0123456789abcdef0123456789'));
}, 120_000);

afterAll(async () => {
  await lambda?.stop();
  await proxy?.stop();
  await moto?.stop();
});

/** mulberry32: a small, well-distributed 32-bit PRNG; returns numbers in [0, 1). */
/* eslint-disable no-bitwise -- a PRNG is bit arithmetic */
function mulberry32(n: number): () => number {
  let a = n >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
/* eslint-enable no-bitwise */

/** What the bundle reads from its environment in a process of case `c`. */
function processEnv(app: string, prefix: string, service: string, functionName: string): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    ...awsTestEnv(proxy.endpoint),
    AWS_SDK_UA_APP_ID: app,
    AWS_LAMBDA_FUNCTION_NAME: functionName,
    AWS_ENDPOINT_URL_LAMBDA: lambda.endpoint,
    [ReplicatorEnv.PRIMARY_REGION]: PRIMARY,
    [ReplicatorEnv.REPLICA_TARGETS]: JSON.stringify(REPLICAS.map((region) => ({ region }))),
    [ReplicatorEnv.SELECTION]: JSON.stringify({ rules: [{ namePrefixes: [prefix] }] }),
    [ReplicatorEnv.CONFLICT_POLICY]: 'PRIMARY_WINS',
    [ReplicatorEnv.REPLICATE_TAGS]: 'true',
    [ReplicatorEnv.PROVENANCE_KEY_SECRET_ARN]: keyArn,
    [ReplicatorEnv.METRIC_NAMESPACE]: 'CrossRegionConfig',
    [ReplicatorEnv.SERVICE_NAME]: service,
  } as NodeJS.ProcessEnv;
}

/**
 * One Lambda execution environment: a Node process that loads the bundle once and runs one
 * invocation at a time, each with the deadline the test gives it.
 */
class Environment {
  static async start(app: string, env: NodeJS.ProcessEnv): Promise<Environment> {
    const script = `const { handler } = require(${JSON.stringify(BUNDLE)});
process.on('message', (m) => {
  const deadline = Date.now() + m.deadlineMs;
  handler(m.event, { getRemainingTimeInMillis: () => deadline - Date.now() })
    .then((result) => process.send({ id: m.id, result }), (e) => process.send({ id: m.id, result: { error: e.name } }));
});
process.send({ ready: true });`;
    const child = spawn(process.execPath, ['-e', script], { env, stdio: ['ignore', 'pipe', 'pipe', 'ipc'] });
    const environment = new Environment(app, child);
    await new Promise<void>((resolve, reject) => {
      child.once('message', () => resolve());
      child.once('exit', (code) => reject(new Error(`process ${app} exited (${code}) before it was ready: ${environment.lines.join('\n').slice(0, 2000)}`)));
    });
    return environment;
  }

  /** Every line the process wrote (logs and EMF). */
  readonly lines: string[] = [];
  /** Every result, for the leak scan. */
  readonly results: any[] = [];
  private readonly pending = new Map<number, (result: any) => void>();
  private nextId = 0;
  busy = false;

  private constructor(readonly app: string, private readonly child: ChildProcess) {
    const collect = (chunk: Buffer) => this.lines.push(...chunk.toString('utf8').split('\n').filter((l) => l !== ''));
    child.stdout!.on('data', collect);
    child.stderr!.on('data', collect);
    child.on('message', (m: any) => {
      if (m.id === undefined) return;
      this.results.push(m.result);
      this.pending.get(m.id)?.(m.result);
      this.pending.delete(m.id);
    });
  }

  /** Invokes the handler with `event` after `delayMs`, with `deadlineMs` to run. */
  async invoke(event: unknown, deadlineMs: number, delayMs = 0): Promise<any> {
    if (delayMs > 0) await new Promise((r) => setTimeout(r, delayMs));
    if (this.busy) throw new Error(`process ${this.app} is still running an invocation`);
    this.busy = true;
    const id = this.nextId++;
    const result = new Promise<any>((resolve) => this.pending.set(id, resolve));
    this.child.send({ id, event, deadlineMs });
    return result.finally(() => { this.busy = false; });
  }

  /** EMF documents the process emitted. */
  emf(): Array<Record<string, any>> {
    return this.lines.filter((l) => l.includes('"_aws"')).map((l) => JSON.parse(l));
  }

  /** Structured log records the process wrote. */
  logs(): Array<Record<string, any>> {
    return this.lines.filter((l) => l.startsWith('{') && l.includes('"level"')).map((l) => JSON.parse(l));
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise((resolve) => this.child.once('exit', resolve));
    this.child.kill('SIGTERM');
    await exited;
  }
}

/** What the test saw across cases. */
interface Tally {
  hops: number;
  duplicatesWhileWorking: number;
  simultaneousCopies: number;
  lateCopies: number;
}

/** One invocation as the driver delivered it. */
interface Delivery {
  readonly app: string;
  readonly kind: 'start' | 'continuation' | 'duplicate' | 'simultaneous' | 'late';
  readonly result: any;
}

/** Waits until `done()` holds, polling; throws naming `what` after `timeoutMs`. */
async function until(done: () => boolean, what: string, timeoutMs = 20_000): Promise<void> {
  for (const started = Date.now(); !done();) {
    if (Date.now() - started > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 2));
  }
}

/**
 * Starts a reconciliation in both processes a few milliseconds apart, then delivers the chain of
 * continuations the winner sends: each to a random process, some again to the other process while
 * the first copy works, some to both at once. Returns every delivery and the continuations sent.
 */
async function racingPass(
  rng: () => number, envs: readonly Environment[], queue: any[], tally: Tally, label: string,
): Promise<{ deliveries: Delivery[]; continuations: any[] }> {
  const deliveries: Delivery[] = [];
  const continuations: any[] = [];
  const deadline = () => MIN_DEADLINE_MS + Math.floor(rng() * (MAX_DEADLINE_MS - MIN_DEADLINE_MS));
  const gaps = envs.map(() => Math.floor(rng() * MAX_START_GAP_MS));
  const started = await Promise.all(envs.map((e, i) => e.invoke({ action: 'reconcile' }, deadline(), gaps[i])));
  started.forEach((result, i) => deliveries.push({ app: envs[i].app, kind: 'start', result }));
  for (let i = 0; queue.length > 0; i++) {
    if (i > 200) throw new Error(`${label}: the pass did not complete in 200 invocations`);
    const event = queue.shift();
    continuations.push(event);
    const first = rng() < 0.5 ? 0 : 1;
    const [target, other] = [envs[first], envs[1 - first]];
    // The first continuation of a pass always gets a copy while it works; the others at random.
    const mode = i === 0 ? 0.5 : rng();
    if (mode < 0.2) {
      // Two copies at the same instant, one to each process.
      tally.simultaneousCopies++;
      const [a, b] = await Promise.all([target.invoke(event, deadline()), other.invoke(structuredClone(event), deadline())]);
      deliveries.push({ app: target.app, kind: 'simultaneous', result: a }, { app: other.app, kind: 'simultaneous', result: b });
      continue;
    }
    const mark = taken.length;
    const main = target.invoke(event, deadline());
    let settled = false;
    void main.finally(() => { settled = true; });
    let duplicate: Promise<any> | undefined;
    if (mode < 0.6) {
      // The same continuation again, to the other process, once the first copy holds the lease.
      await until(() => settled || taken.slice(mark).some((t) => t.app === target.app), `${label}: ${target.app} to take the lease`);
      if (!settled) tally.duplicatesWhileWorking++;
      duplicate = other.invoke(structuredClone(event), deadline());
    }
    const [result, copy] = await Promise.all([main, duplicate]);
    deliveries.push({ app: target.app, kind: 'continuation', result });
    if (duplicate) deliveries.push({ app: other.app, kind: 'duplicate', result: copy });
  }
  return { deliveries, continuations };
}

/** Sorted `name|region` keys of the `replica written` log records of `envs` since `marks`. */
function writtenPairs(envs: readonly Environment[], marks: readonly number[], prefix: string): string[] {
  return envs.flatMap((e, i) => e.lines.slice(marks[i]).filter((l) => l.includes('"replica written"')).map((l) => JSON.parse(l)))
    .filter((l) => String(l.secretName).startsWith(prefix))
    .map((l) => `${l.secretName}|${l.region}`)
    .sort();
}

/**
 * Asserts that the lease excluded: every replica write since `writesFrom` happened while its process
 * held the lease `leasePath` (between its taking and the next taking by anyone), and no two writes of
 * different processes overlap.
 */
function expectExclusion(label: string, leasePath: string, writesFrom: number, apps: readonly string[]): void {
  const ours = writes.slice(writesFrom).filter((w) => apps.includes(w.app));
  const takings = taken.filter((t) => t.path === leasePath).sort((a, b) => a.generation - b.generation);
  // Generations are taken in order, one each.
  expect({ label, generations: takings.map((t) => t.generation) })
    .toEqual({ label, generations: takings.map((_, i) => takings[0].generation + i) });
  const outside = ours.filter((w) => {
    const holder = takings.filter((t) => t.end <= w.start).at(-1);
    const next = takings.find((t) => t.generation > (holder?.generation ?? 0));
    return holder?.app !== w.app || (next !== undefined && next.start < w.end!);
  }).map((w) => `${w.app} ${w.operation} ${w.region}`);
  expect({ label, writesOutsideLease: outside }).toEqual({ label, writesOutsideLease: [] });
  const overlapping: string[] = [];
  for (const a of ours) {
    for (const b of ours) {
      if (a.app < b.app && a.start < b.end! && b.start < a.end!) overlapping.push(`${a.app}/${b.app}`);
    }
  }
  expect({ label, overlapping }).toEqual({ label, overlapping: [] });
}

/**
 * Asserts the pass's invocations: one start worked and the other found the lease held, every first
 * delivery of a continuation worked, every copy delivered after it was refused as stale, and of two
 * copies delivered together exactly one worked. Returns the invocations that worked, in order.
 */
function expectOneChain(label: string, deliveries: readonly Delivery[], pairs: number): any[] {
  const starts = deliveries.filter((d) => d.kind === 'start');
  expect({ label, starts: starts.map((d) => d.result.skipped ?? d.result.error ?? 'worked').sort() })
    .toEqual({ label, starts: ['lease-held', 'worked'] });
  const loser = starts.find((d) => d.result.skipped)!;
  expect({ label, loser: { processed: loser.result.processed, outcomes: loser.result.outcomes, pass: loser.result.pass } })
    .toEqual({ label, loser: { processed: 0, outcomes: {}, pass: undefined } });
  for (const d of deliveries.filter((x) => x.kind === 'continuation')) {
    expect({ label, continuation: d.result.skipped ?? d.result.error ?? 'worked' }).toEqual({ label, continuation: 'worked' });
  }
  for (const d of deliveries.filter((x) => x.kind === 'duplicate')) {
    expect({ label, duplicate: d.result.skipped ?? d.result.error ?? 'worked', processed: d.result.processed })
      .toEqual({ label, duplicate: 'stale-continuation', processed: 0 });
  }
  const together = deliveries.filter((d) => d.kind === 'simultaneous');
  for (let i = 0; i < together.length; i += 2) {
    const outcomes = [together[i], together[i + 1]].map((d) => d.result.skipped ?? d.result.error ?? 'worked').sort();
    // The copy that loses the race to take the lease learns it is stale (its own pass holds it).
    expect({ label, simultaneous: outcomes }).toEqual({ label, simultaneous: ['stale-continuation', 'worked'] });
  }
  const worked = deliveries.filter((d) => d.result.pass !== undefined).map((d) => d.result);
  const runIds = new Set(worked.map((r) => r.pass.runId));
  expect({ label, runs: runIds.size, hops: worked.map((r) => r.pass.hop) }).toEqual({ label, runs: 1, hops: worked.map((_, i) => i) });
  expect({ label, complete: worked.map((r) => r.pass.complete) }).toEqual({ label, complete: worked.map((_, i) => i === worked.length - 1) });
  const processed = worked.reduce((n, r) => n + r.processed, 0);
  expect({ label, processed, passProcessed: worked.at(-1).pass.processed }).toEqual({ label, processed: pairs, passProcessed: pairs });
  return worked;
}

/** Sum of `metric` over the EMF documents of `env` since line `from`. */
function metricSum(env: Environment, from: number, metric: string): number {
  return env.lines.slice(from).filter((l) => l.includes('"_aws"')).map((l) => JSON.parse(l))
    .flatMap((d) => (d[metric] === undefined ? [] : [d[metric]].flat()))
    .reduce((n: number, v: number) => n + v, 0);
}

/** Asserts that the metrics of each process add up to what its invocations report. */
function expectMetricsAddUp(
  label: string, envs: readonly Environment[], marks: readonly number[], deliveries: readonly Delivery[], pairs: number,
): void {
  let items = 0;
  envs.forEach((env, i) => {
    const own = deliveries.filter((d) => d.app === env.app && d.result.pass !== undefined).map((d) => d.result);
    const sum = metricSum(env, marks[i], 'ItemsProcessed');
    items += sum;
    expect({ label, app: env.app, items: sum, partial: metricSum(env, marks[i], 'RunPartial') })
      .toEqual({ label, app: env.app, items: own.reduce((n, r) => n + r.processed, 0), partial: own.filter((r) => r.partial).length });
  });
  expect({ label, items }).toEqual({ label, items: pairs });
}

describe('reconciliations of one secret replicator in two OS processes', () => {
  const tally: Tally = { hops: 0, duplicatesWhileWorking: 0, simultaneousCopies: 0, lateCopies: 0 };
  const allEnvs: Environment[] = [];

  afterAll(async () => {
    await Promise.all(allEnvs.map((e) => e.stop()));
  });

  for (let c = FIRST_CASE; c < FIRST_CASE + CASES; c++) {
    test(`one works at a time, the other is refused, the replicas converge (case ${c})`, async () => {
      const rng = mulberry32(c);
      const label = `case ${c}`;
      const prefix = `pr${c}/`;
      const service = `SecretProcessRace${c}`;
      const functionName = `secret-process-race-${c}`;
      const leasePath = `${RUN_LEASE_PATH_PREFIX}/${service}`;
      const queue: any[] = [];
      lambda.queues.set(functionName, queue);

      // GIVEN a selection of secrets in the primary, and two execution environments of the replicator
      const count = 20 + Math.floor(rng() * 30);
      const names = Array.from({ length: count }, (_, i) => `${prefix}s${String(i).padStart(3, '0')}`);
      for (const name of names) await world.create(PRIMARY, name, world.newValue('race'), { description: `d-${name}` });
      const pairs = count * REPLICAS.length;
      const envs = await Promise.all(['a', 'b'].map((p) => Environment.start(`race${c}${p}`, processEnv(`race${c}${p}`, prefix, service, functionName))));
      allEnvs.push(...envs);
      const apps = envs.map((e) => e.app);

      // WHEN both start the initial copy at (nearly) the same time
      let marks = envs.map((e) => e.lines.length);
      let writesFrom = writes.length;
      const first = await racingPass(rng, envs, queue, tally, `${label}, initial copy`);

      // THEN one chain worked every pair once, the other start did nothing, never two at once
      const firstWorked = expectOneChain(`${label}, initial copy`, first.deliveries, pairs);
      tally.hops += firstWorked.length;
      expect({ label, outcomes: firstWorked.at(-1).pass.outcomes }).toEqual({ label, outcomes: { created: pairs } });
      expectExclusion(`${label}, initial copy`, leasePath, writesFrom, apps);
      const creates = writes.slice(writesFrom).filter((w) => apps.includes(w.app) && w.operation === 'CreateSecret').map((w) => `${w.secret}|${w.region}`).sort();
      expect({ label, creates: creates.length, distinct: new Set(creates).size }).toEqual({ label, creates: pairs, distinct: pairs });
      const expectedPairs = names.flatMap((n) => REPLICAS.map((r) => `${n}|${r}`)).sort();
      expect({ label, written: writtenPairs(envs, marks, prefix) }).toEqual({ label, written: expectedPairs });
      expectMetricsAddUp(`${label}, initial copy`, envs, marks, first.deliveries, pairs);

      // GIVEN new values for some secrets in the primary
      const changed = names.filter(() => rng() < 0.35);
      for (const name of changed) {
        await world.client(PRIMARY).send(new UpdateSecretCommand({ SecretId: name, SecretString: world.newValue('race-v2') }));
      }

      // WHEN both start the next reconciliation at (nearly) the same time
      marks = envs.map((e) => e.lines.length);
      writesFrom = writes.length;
      const second = await racingPass(rng, envs, queue, tally, `${label}, changes`);

      // THEN again one chain, each changed secret written once per region and nothing else
      const secondWorked = expectOneChain(`${label}, changes`, second.deliveries, pairs);
      tally.hops += secondWorked.length;
      expect({ label, updated: secondWorked.at(-1).pass.outcomes.updated ?? 0 }).toEqual({ label, updated: changed.length * REPLICAS.length });
      expectExclusion(`${label}, changes`, leasePath, writesFrom, apps);
      expect({ label, written: writtenPairs(envs, marks, prefix) })
        .toEqual({ label, written: changed.flatMap((n) => REPLICAS.map((r) => `${n}|${r}`)).sort() });
      expectMetricsAddUp(`${label}, changes`, envs, marks, second.deliveries, pairs);

      // WHEN a continuation of the first pass arrives late (Lambda retried it), after another pass ran
      if (first.continuations.length > 0) {
        writesFrom = writes.length;
        const late = first.continuations[Math.floor(rng() * first.continuations.length)];
        const target = envs[Math.floor(rng() * 2)];
        const result = await target.invoke(structuredClone(late), MAX_DEADLINE_MS);
        tally.lateCopies++;
        // THEN it is refused and writes nothing, and sends no continuation of its own
        expect({ label, late: result.skipped ?? result.error ?? 'worked', processed: result.processed })
          .toEqual({ label, late: 'stale-continuation', processed: 0 });
        expect({ label, writes: writes.slice(writesFrom).filter((w) => apps.includes(w.app)).length, queued: queue.length })
          .toEqual({ label, writes: 0, queued: 0 });
      }

      // THEN every replica equals the primary (values compared without printing them)
      for (const name of names) await world.expectSameValue(name, PRIMARY, ...REPLICAS);
      await Promise.all(envs.map((e) => e.stop()));
    }, 120_000);
  }

  test('hand-overs happened and copies were delivered while the first copy worked; the stand-in refused nothing', () => {
    process.stderr.write(`secret process-race tally ${JSON.stringify(tally)}\n`);
    expect(tally.hops).toBeGreaterThan(CASES * 2);
    expect(tally.duplicatesWhileWorking).toBeGreaterThan(0);
    expect(lambda.refused).toEqual([]);
  });

  test('no secret value appears in the output or results of either process', () => {
    const text = allEnvs.flatMap((e) => [...e.lines, ...e.results.map((r) => JSON.stringify(r))]);
    expect(text.length).toBeGreaterThan(50);
    const leaks = text.filter((l) => world.issuedValues.some((v) => l.includes(v))).length;
    expect(leaks).toBe(0);
  });
});

describe('the run lease, in one process', () => {
  const lease = (service: string, now: () => number) => new RunLease(
    new SSMClient({ region: PRIMARY, endpoint: moto.endpoint, credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' } }),
    `${RUN_LEASE_PATH_PREFIX}/${service}`, now);

  test('of two copies of a continuation that both read the hand-over before either writes, the one that loses is stale', async () => {
    const l = lease('CopiesTogether', Date.now);
    const held = await l.acquire({ owner: 'pass-p', hop: 0 }, 60_000);
    if (held.kind !== 'held') throw new Error('the first run did not take the lease');
    expect(await l.handOver(held, 60_000)).toBe(true);
    for (let hop = 1; hop <= 5; hop++) {
      const copies = await Promise.all([l.acquire({ owner: 'pass-p', hop }, 60_000), l.acquire({ owner: 'pass-p', hop }, 60_000)]);
      expect(copies.map((c) => (c.kind === 'held' ? 'held' : c.reason)).sort()).toEqual(['held', 'stale']);
      expect(await l.handOver(copies.find((c) => c.kind === 'held') as any, 60_000)).toBe(true);
    }
  });

  test('a continuation is stale once another run took the lease after its hand-over expired, while that run holds it and after it finished', async () => {
    let now = 5_000_000;
    const l = lease('LateContinuation', () => now);
    const p0 = await l.acquire({ owner: 'pass-p', hop: 0 }, 60_000);
    if (p0.kind !== 'held') throw new Error('pass P did not take the lease');
    expect(await l.handOver(p0, 30_000)).toBe(true);
    // The continuation of hop 1 is not delivered in time: the hand-over expires and pass Q starts.
    now += 30_000 + 10_000;
    const q0 = await l.acquire({ owner: 'pass-q', hop: 0 }, 60_000);
    expect(q0.kind).toBe('held');
    expect(await l.acquire({ owner: 'pass-p', hop: 1 }, 60_000)).toMatchObject({ kind: 'busy', reason: 'stale' });
    await l.release(q0 as any);
    expect(await l.acquire({ owner: 'pass-p', hop: 1 }, 60_000)).toMatchObject({ kind: 'busy', reason: 'stale' });
    // A continuation whose own pass handed over and expired, with nobody since, still continues it.
    const r0 = await l.acquire({ owner: 'pass-r', hop: 0 }, 60_000);
    expect(await l.handOver(r0 as any, 30_000)).toBe(true);
    now += 30_000 + 10_000;
    expect(await l.acquire({ owner: 'pass-r', hop: 1 }, 60_000)).toMatchObject({ kind: 'held' });
  });
});
