/**
 * The shared machinery of deadline-aware runs: the run budget, the ordered bounded map that stops
 * starting work, the quota pacer, the continuation payload and the self-invoker's request.
 */
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  CONTINUATION_KEY, handOver, HopLimitReached, lambdaEndpoint, LambdaSelfInvoker, mapWhile, MAX_HOPS, nextHop, readContinuation, startPass,
} from '../../lambda-src/shared/continuation';
import { Pacer } from '../../lambda-src/shared/pacing';
import { defaultMarginMs, RunBudget } from '../../lambda-src/shared/run-budget';

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

describe('RunBudget', () => {
  test('stops starting work once the time left falls to the margin, and stays stopped', () => {
    let remaining = 10_000;
    const budget = new RunBudget(() => remaining, 1_000);
    expect(budget.shouldStartMore()).toBe(true);
    remaining = 1_000;
    expect(budget.shouldStartMore()).toBe(false);
    remaining = 50_000; // a clock that jumps back does not restart a run that stopped
    expect(budget.shouldStartMore()).toBe(false);
    expect(budget.exhausted).toBe(true);
  });

  test('an extra stop condition (a lease about to run out) stops it too', () => {
    let leaseEnding = false;
    const budget = RunBudget.unbounded();
    budget.stopWhen(() => leaseEnding);
    expect(budget.shouldStartMore()).toBe(true);
    leaseEnding = true;
    expect(budget.shouldStartMore()).toBe(false);
  });

  test('keeps 15% of the invocation, at least 15 s and at most 90 s, never more than half of it', () => {
    expect(defaultMarginMs(600_000)).toBe(90_000);
    expect(defaultMarginMs(900_000)).toBe(90_000);
    expect(defaultMarginMs(200_000)).toBe(30_000);
    expect(defaultMarginMs(60_000)).toBe(15_000);
    expect(defaultMarginMs(400)).toBe(200);
    const budget = RunBudget.fromContext({ getRemainingTimeInMillis: () => 600_000 });
    expect(budget.marginMs).toBe(90_000);
  });
});

describe('mapWhile', () => {
  test('the items started are always a prefix, all of them settled (seeded random stops and durations)', async () => {
    const seed = Number(process.env.MAP_WHILE_SEED ?? 20);
    for (let c = seed; c < seed + 40; c++) {
      const rng = mulberry32(c);
      const items = Array.from({ length: 1 + Math.floor(rng() * 60) }, (_, i) => i);
      const stopAfter = Math.floor(rng() * (items.length + 5));
      let asked = 0;
      const started: number[] = [];
      const finished = new Set<number>();
      const results = await mapWhile(items, 1 + Math.floor(rng() * 8), () => asked++ < stopAfter, async (item) => {
        started.push(item);
        await new Promise((r) => setTimeout(r, Math.floor(rng() * 3)));
        finished.add(item);
        if (item % 7 === 3) throw new Error(`item ${item} failed`);
        return item * 2;
      });
      const label = `case ${c}`;
      expect({ label, started: [...started].sort((a, b) => a - b) }).toEqual({ label, started: items.slice(0, results.length) });
      expect({ label, all: results.every((r, i) => finished.has(i) && (r.status === 'fulfilled' ? r.value === i * 2 : i % 7 === 3)) })
        .toEqual({ label, all: true });
      expect({ label, atMost: results.length <= Math.min(items.length, stopAfter) }).toEqual({ label, atMost: true });
    }
  });
});

describe('Pacer', () => {
  function fakeClock() {
    let now = 0;
    const sleeps: number[] = [];
    return {
      now: () => now,
      sleep: async (ms: number) => { sleeps.push(ms); now += ms; },
      sleeps,
      advance: (ms: number) => { now += ms; },
    };
  }

  test('spaces the calls of one quota group in one region at the share of the quota', async () => {
    const clock = fakeClock();
    const pacer = new Pacer({ share: 0.8, now: clock.now, sleep: clock.sleep });
    for (let i = 0; i < 41; i++) await pacer.acquire('secretsmanager', 'eu-west-1', i % 2 ? 'PutSecretValue' : 'UpdateSecret');
    // 41 calls at 40 a second: the 41st leaves one second after the first.
    expect(clock.now()).toBe(1000);
    // Another region, another group and an unpaced operation do not wait.
    const before = clock.now();
    await pacer.acquire('secretsmanager', 'ap-southeast-2', 'PutSecretValue');
    await pacer.acquire('secretsmanager', 'eu-west-1', 'TagResource');
    await pacer.acquire('secretsmanager', 'eu-west-1', 'DescribeSecret');
    expect(clock.now()).toBe(before);
  });

  test('halves the rate on a throttle, down to a sixteenth, and wins it back by a twentieth per success', () => {
    const pacer = new Pacer({ share: 1 });
    const rate = () => pacer.stats().find((s) => s.group === 'secretsmanager:CreateSecret')!.perSecond;
    pacer.record('secretsmanager', 'eu-west-1', 'CreateSecret', false);
    expect(rate()).toBe(50);
    pacer.record('secretsmanager', 'eu-west-1', 'CreateSecret', true);
    expect(rate()).toBe(25);
    for (let i = 0; i < 10; i++) pacer.record('secretsmanager', 'eu-west-1', 'CreateSecret', true);
    expect(rate()).toBe(50 / 16);
    for (let i = 0; i < 40; i++) pacer.record('secretsmanager', 'eu-west-1', 'CreateSecret', false);
    expect(rate()).toBe(50);
  });

  test('fails if the share is not in (0, 1]', () => {
    expect(() => new Pacer({ share: 0 })).toThrow('pacer share must be in (0, 1], but got 0');
    expect(() => new Pacer({ share: 1.5 })).toThrow('pacer share must be in (0, 1], but got 1.5');
  });
});

describe('continuations', () => {
  test('a pass carries its cursor from hop to hop, and reads back from a payload', () => {
    const pass = startPass<{ page: number }>('0b5e-run', 3, 1_000);
    const next = nextHop(pass, { page: 2 });
    expect(next).toEqual({ runId: '0b5e-run', generation: 3, hop: 1, passStartedAt: 1_000, cursor: { page: 2 } });
    expect(readContinuation(JSON.parse(JSON.stringify({ action: 'reconcile', [CONTINUATION_KEY]: next })))).toEqual(next);
    expect(readContinuation({ action: 'reconcile' })).toBeUndefined();
  });

  test('fails on a malformed continuation, naming the field', () => {
    expect(() => readContinuation({ continuation: 'x' })).toThrow('continuation must be an object');
    expect(() => readContinuation({ continuation: { runId: 'a', generation: 1, hop: -1, passStartedAt: 0 } }))
      .toThrow('continuation.hop must be a non-negative integer');
    expect(() => readContinuation({ continuation: { runId: 'a b', generation: 1, hop: 1, passStartedAt: 0 } }))
      .toThrow('continuation.runId must be 1 to 64 letters, digits or hyphens');
  });

  test('hands over until the pass has used its invocations', async () => {
    const sent: unknown[] = [];
    const invoker = { invokeAsync: async (p: Record<string, unknown>) => { sent.push(p); } };
    await handOver(invoker, 'reconcile', { runId: 'r', generation: 1, hop: MAX_HOPS - 1, passStartedAt: 0, cursor: {} });
    expect(sent).toHaveLength(1);
    await expect(handOver(invoker, 'reconcile', { runId: 'r', generation: 1, hop: MAX_HOPS, passStartedAt: 0, cursor: {} }))
      .rejects.toThrow(HopLimitReached);
    expect(sent).toHaveLength(1);
  });

  test('the self-invoker sends a SigV4-signed asynchronous Invoke of its own function', async () => {
    const requests: Array<{ method?: string; url?: string; headers: http.IncomingHttpHeaders; body: string }> = [];
    const server = http.createServer((req, res) => {
      let body = '';
      req.on('data', (c) => { body += c; });
      req.on('end', () => {
        requests.push({ method: req.method, url: req.url, headers: req.headers, body });
        res.statusCode = 202;
        res.end();
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const credentials = async () => ({ accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' });
      const invoker = new LambdaSelfInvoker('eu-west-1', 'my-function', credentials, endpoint);
      await invoker.invokeAsync({ action: 'reconcile', continuation: { hop: 1 } });
      expect(requests).toHaveLength(1);
      const [r] = requests;
      expect(r.method).toBe('POST');
      expect(r.url).toBe('/2015-03-31/functions/my-function/invocations');
      expect(r.headers['x-amz-invocation-type']).toBe('Event');
      expect(r.headers.authorization).toMatch(/^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/\d{8}\/eu-west-1\/lambda\/aws4_request, SignedHeaders=.*x-amz-invocation-type/);
      expect(JSON.parse(r.body)).toEqual({ action: 'reconcile', continuation: { hop: 1 } });
      await expect(new LambdaSelfInvoker('eu-west-1', undefined, credentials, endpoint).invokeAsync({}))
        .rejects.toThrow('AWS_LAMBDA_FUNCTION_NAME is not set');
    } finally {
      server.close();
    }
    expect(lambdaEndpoint('cn-north-1')).toBe('https://lambda.cn-north-1.amazonaws.com.cn');
    expect(lambdaEndpoint('us-east-1')).toBe('https://lambda.us-east-1.amazonaws.com');
  });
});
