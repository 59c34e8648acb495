import { createHash } from 'node:crypto';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { ClientCache } from '../../lambda-src/shared/clients';
import { chunk, mapSettled } from '../../lambda-src/shared/concurrency';
import { booleanEnv, integerEnv, requireEnv, requireJsonEnv } from '../../lambda-src/shared/env';
import { KeyedHasher } from '../../lambda-src/shared/hmac';
import { errorFields } from '../../lambda-src/shared/observability';
import { fullJitterDelayMs, JitteredRetryStrategy } from '../../lambda-src/shared/retry';

describe('retry', () => {
  const options = { maxAttempts: 4, baseDelayMs: 100, maxDelayMs: 1_000 };

  test('full jitter stays below the exponential ceiling and the cap', () => {
    expect(fullJitterDelayMs(1, { ...options, random: () => 0.999 })).toBe(199);
    expect(fullJitterDelayMs(3, { ...options, random: () => 0.5 })).toBe(400);
    expect(fullJitterDelayMs(10, { ...options, random: () => 0.999 })).toBe(999);
    expect(fullJitterDelayMs(2, { ...options, random: () => 0 })).toBe(0);
  });

  test('retries throttling, transient and server errors up to maxAttempts', async () => {
    const strategy = new JitteredRetryStrategy({ ...options, random: () => 0.5 });
    let token = await strategy.acquireInitialRetryToken('scope');
    for (const errorType of ['THROTTLING', 'TRANSIENT', 'SERVER_ERROR'] as const) {
      token = await strategy.refreshRetryTokenForRetry(token, { errorType });
    }
    expect(token.getRetryCount()).toBe(3);
    await expect(strategy.refreshRetryTokenForRetry(token, { errorType: 'THROTTLING', error: Object.assign(new Error('x'), { name: 'ThrottlingException' }) as any }))
      .rejects.toThrow('x');
    expect(strategy.retries).toEqual({ THROTTLING: 1, TRANSIENT: 1, SERVER_ERROR: 1 });
  });

  test('never retries client errors', async () => {
    const strategy = new JitteredRetryStrategy(options);
    const token = await strategy.acquireInitialRetryToken('scope');
    await expect(strategy.refreshRetryTokenForRetry(token, { errorType: 'CLIENT_ERROR' })).rejects.toThrow('retry refused for CLIENT_ERROR');
  });

  test('honours a retry-after hint longer than the jittered delay', async () => {
    const strategy = new JitteredRetryStrategy({ ...options, random: () => 0 });
    const token = await strategy.refreshRetryTokenForRetry(await strategy.acquireInitialRetryToken('s'), {
      errorType: 'THROTTLING', retryAfterHint: new Date(Date.now() + 2_000),
    });
    expect(token.getRetryDelay()).toBeGreaterThan(1_500);
  });

  // The retry path through a real SDK client is exercised end to end against moto with 30%
  // injected throttling (handler.integ.test.ts); aws-sdk-client-mock bypasses the middleware stack.
});

describe('client cache', () => {
  test('creates one client per type, region and role and reuses it', () => {
    const cache = new ClientCache('us-east-1');
    const a = cache.get(SecretsManagerClient, { region: 'eu-west-1' });
    expect(cache.get(SecretsManagerClient, { region: 'eu-west-1' })).toBe(a);
    expect(cache.get(SecretsManagerClient, { region: 'ap-southeast-2' })).not.toBe(a);
    expect(cache.get(SecretsManagerClient, { region: 'eu-west-1', roleArn: 'arn:aws:iam::111111111111:role/r' })).not.toBe(a);
    expect(cache.size).toBe(3);
  });

  test('gives every client the region it was asked for and the shared retry strategy', async () => {
    const cache = new ClientCache('us-east-1');
    const client = cache.get(SecretsManagerClient, { region: 'ap-southeast-2' });
    expect(await client.config.region()).toBe('ap-southeast-2');
    expect(await client.config.retryStrategy()).toBe(cache.retryStrategy);
  });
});

describe('env', () => {
  test('names the missing or malformed variable', () => {
    expect(() => requireEnv('X', {})).toThrow('environment variable X is required but not set');
    expect(() => requireJsonEnv('J', { J: '{nope' })).toThrow(/^environment variable J must be JSON: /);
    expect(() => booleanEnv('B', false, { B: 'yes' })).toThrow('environment variable B must be "true" or "false", but got "yes"');
    expect(() => integerEnv('N', 7, 7, 30, { N: '31' })).toThrow('environment variable N must be an integer from 7 to 30, but got "31"');
    expect(integerEnv('N', 7, 7, 30, {})).toBe(7);
    expect(booleanEnv('B', true, { B: 'false' })).toBe(false);
  });
});

describe('concurrency', () => {
  test('keeps at most `limit` calls in flight and settles every item', async () => {
    let inFlight = 0;
    let peak = 0;
    const results = await mapSettled([1, 2, 3, 4, 5, 6, 7], 3, async (n) => {
      inFlight++;
      peak = Math.max(peak, inFlight);
      await new Promise((r) => setTimeout(r, 5));
      inFlight--;
      if (n === 4) throw new Error('four');
      return n * 2;
    });
    expect(peak).toBe(3);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled', 'fulfilled', 'rejected', 'fulfilled', 'fulfilled', 'fulfilled']);
    expect(chunk([1, 2, 3, 4, 5], 2)).toEqual([[1, 2], [3, 4], [5]]);
  });
});

describe('keyed hashing', () => {
  const key = 'k'.repeat(64);

  test('is keyed: another key gives another hash, and it is not the plain SHA-256', () => {
    const value = { kind: 'string' as const, secretString: 'hunter2' };
    const a = new KeyedHasher(key).contentHmac(value);
    expect(a).toMatch(/^[0-9a-f]{64}$/);
    expect(new KeyedHasher('j'.repeat(64)).contentHmac(value)).not.toBe(a);
    expect(a).not.toBe(createHash('sha256').update('hunter2').digest('hex'));
  });

  test('separates string and binary values with the same bytes', () => {
    const h = new KeyedHasher(key);
    expect(h.contentHmac({ kind: 'string', secretString: 'ab' })).not.toBe(h.contentHmac({ kind: 'binary', secretBinary: Buffer.from('ab') }));
  });

  test('derives stable UUID-shaped version tokens', () => {
    const h = new KeyedHasher(key);
    expect(h.versionToken('a', 'b')).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect(h.versionToken('a', 'b')).toBe(h.versionToken('a', 'b'));
    expect(h.versionToken('a', 'b')).not.toBe(h.versionToken('ab', ''));
  });

  test('refuses a short key', () => {
    expect(() => new KeyedHasher('short')).toThrow('the provenance HMAC key must be at least 32 characters long');
  });
});

describe('error fields', () => {
  test('keep the name, status and request id, never the message', () => {
    const e = Object.assign(new Error('value hunter2 is invalid'), { name: 'InvalidParameterException', $metadata: { httpStatusCode: 400, requestId: 'r-1' } });
    expect(errorFields(e)).toEqual({ errorName: 'InvalidParameterException', httpStatus: 400, requestId: 'r-1' });
  });
});
