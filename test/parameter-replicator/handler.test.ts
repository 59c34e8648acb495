/**
 * Unit tests of the parameter replicator handler's pure parts: configuration, invocation parsing,
 * selection, pacing and the full-sync age. The engine itself is tested against moto
 * (handler.integ.test.ts, convergence.integ.test.ts).
 */
import { parseCursor, resolveCursor, UnusableCursor } from '../../lambda-src/parameter-replicator/cursor';
import { MalformedInvocation, parseInvocation } from '../../lambda-src/parameter-replicator/events';
import { FullSyncTracker } from '../../lambda-src/parameter-replicator/full-sync';
import { readSettings, summarize } from '../../lambda-src/parameter-replicator/handler';
import { recordLastSync } from '../../lambda-src/shared/last-sync';
import { AdaptiveRateLimiter, Clock, isThrottling, pacedWrite } from '../../lambda-src/shared/parameters/pacing';
import { tierLimit, valueBytes } from '../../lambda-src/shared/parameters/replicator';
import { normalizePath, ParameterSelection } from '../../lambda-src/shared/parameters/selection';
import { ParameterReplicatorEnv as Env } from '../../src/parameter-replicator/contract';

const VALID: NodeJS.ProcessEnv = {
  [Env.PRIMARY_REGION]: 'us-east-1',
  [Env.REPLICA_TARGETS]: JSON.stringify([{ region: 'eu-west-1', kmsKeyId: 'alias/k', tier: 'Advanced' }, { region: 'eu-west-1', roleArn: 'arn:aws:iam::111111111111:role/r' }]),
  [Env.SELECTION]: JSON.stringify({ paths: ['/app'], namePatterns: ['/app/**'], tags: { replicate: 'yes' }, excludedPaths: ['/app/local'] }),
  [Env.OVERRIDES]: JSON.stringify([{ name: '/app/endpoint', region: 'eu-west-1', value: 'https://eu.example.com' }]),
  [Env.PROVENANCE_KEY_SECRET_ARN]: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:key',
};

describe('readSettings', () => {
  test('reads every variable, with defaults', () => {
    const s = readSettings(VALID);
    expect(s).toEqual(expect.objectContaining({
      primaryRegion: 'us-east-1',
      conflictPolicy: 'PRIMARY_WINS',
      replicateTags: true,
      propagateDeletions: false,
      writesPerSecond: 2,
      overrides: [{ name: '/app/endpoint', region: 'eu-west-1', value: 'https://eu.example.com' }],
    }));
    expect(s.targets).toHaveLength(2);
    expect(s.deploymentId).toBeUndefined();
  });

  test('overrides are optional', () => {
    expect(readSettings({ ...VALID, [Env.OVERRIDES]: undefined }).overrides).toEqual([]);
  });

  test.each([
    [{ [Env.PRIMARY_REGION]: undefined }, 'environment variable PRIMARY_REGION is required but not set'],
    [{ [Env.PRIMARY_REGION]: 'moon' }, 'PRIMARY_REGION must be a region name'],
    [{ [Env.REPLICA_TARGETS]: '[]' }, 'REPLICA_TARGETS must be a non-empty JSON array'],
    [{ [Env.REPLICA_TARGETS]: '[{"region":"x"}]' }, 'REPLICA_TARGETS[0].region must be a region name'],
    [{ [Env.REPLICA_TARGETS]: '[{"region":"eu-west-1","tier":"Gold"}]' }, 'REPLICA_TARGETS[0].tier must be one of Standard, Advanced, Intelligent-Tiering'],
    [{ [Env.REPLICA_TARGETS]: '[{"region":"eu-west-1"},{"region":"eu-west-1"}]' }, 'REPLICA_TARGETS[1] repeats region eu-west-1'],
    [{ [Env.REPLICA_TARGETS]: '[{"region":"eu-west-1","kmsKeyId":""}]' }, 'REPLICA_TARGETS[0].kmsKeyId must be a non-empty string'],
    [{ [Env.SELECTION]: '{"paths":[]}' }, 'PARAMETER_SELECTION must be JSON {"paths": [at least one path starting with "/"]'],
    [{ [Env.SELECTION]: '{"paths":["app"]}' }, 'PARAMETER_SELECTION must be JSON'],
    [{ [Env.SELECTION]: '{"paths":["/a"],"tags":{"k":1}}' }, 'PARAMETER_SELECTION.tags must be an object'],
    [{ [Env.SELECTION]: '{"paths":["/a"],"excludedPaths":["b"]}' }, 'PARAMETER_SELECTION.excludedPaths must be an array of paths'],
    [{ [Env.OVERRIDES]: '[{"name":"/a","region":"ap-south-1","value":"v"}]' }, 'PARAMETER_OVERRIDES[0] names region ap-south-1, which is not a replica region'],
    [{ [Env.OVERRIDES]: '[{"name":"/a","region":"eu-west-1","value":""}]' }, 'PARAMETER_OVERRIDES[0] must be {"name", "region", "value"} with a non-empty value'],
    [{ [Env.CONFLICT_POLICY]: 'LAST_WINS' }, 'CONFLICT_POLICY must be one of PRIMARY_WINS, SKIP_AND_ALARM'],
    [{ [Env.WRITES_PER_SECOND]: '0' }, 'WRITES_PER_SECOND must be an integer from 1 to 1000'],
    [{ [Env.PROPAGATE_DELETIONS]: 'yes' }, 'PROPAGATE_DELETIONS must be "true" or "false"'],
    [{ [Env.PROVENANCE_KEY_SECRET_ARN]: undefined }, 'PROVENANCE_KEY_SECRET_ARN is required'],
  ])('fails naming the variable: %j', (change, message) => {
    expect(() => readSettings({ ...VALID, ...change })).toThrow(message);
  });

  test('a malformed override list never quotes its text (it holds values)', () => {
    const text = '[{"name":"/a","region":"eu-west-1","value":"pv-do-not-echo"';
    expect(() => readSettings({ ...VALID, [Env.OVERRIDES]: text })).toThrow('environment variable PARAMETER_OVERRIDES must be JSON');
    try {
      readSettings({ ...VALID, [Env.OVERRIDES]: text });
    } catch (e) {
      expect((e as Error).message).not.toContain('pv-do-not-echo');
    }
  });
});

describe('parseInvocation', () => {
  const event = (detail: unknown) => ({ 'source': 'aws.ssm', 'detail-type': 'Parameter Store Change', 'time': '2026-01-02T03:04:05Z', detail });

  test.each(['Create', 'Update', 'Delete', 'LabelParameterVersion'])('%s is a change of the named parameter', (operation) => {
    expect(parseInvocation(event({ operation, name: '/app/x', type: 'String' }))).toEqual({
      kind: 'change', change: { operation, name: '/app/x', time: new Date('2026-01-02T03:04:05Z') },
    });
  });

  test('other operations are ignored', () => {
    expect(parseInvocation(event({ operation: 'Archive', name: '/app/x' }))).toEqual({ kind: 'ignored', reason: 'operation "Archive" is not a replicated change' });
  });

  test('manual and scheduled actions', () => {
    expect(parseInvocation({ action: 'test_sync' })).toEqual({ kind: 'manual', action: 'test_sync' });
    expect(parseInvocation({ action: 'connectivity_test' })).toEqual({ kind: 'manual', action: 'connectivity_test' });
    expect(parseInvocation({ 'detail-type': 'Scheduled Event' })).toEqual({ kind: 'manual', action: 'reconcile' });
    expect(parseInvocation({ action: 'reconcile', cursor: { targetIndex: 1, after: '/a/b' } })).toEqual({
      kind: 'manual', action: 'reconcile', cursor: { targetIndex: 1, after: '/a/b' },
    });
    const regions = [{ targetIndex: 0, region: 'eu-west-1', after: '/a/b' }, { targetIndex: 2, region: 'ap-southeast-2' }];
    expect(parseInvocation({ action: 'test_sync', cursor: { regions, extra: 1 } })).toEqual({ kind: 'manual', action: 'test_sync', cursor: { regions } });
  });

  test.each([
    [undefined, 'unsupported payload'],
    ['text', 'unsupported payload'],
    [{ action: 'x'.repeat(500) }, 'unknown action "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx" (first 64 of 500 characters)'],
    [{ 'source': 'aws.ssm', 'detail-type': 'Parameter Store Change', 'detail': 'x' }, 'carries no detail'],
    [{ 'source': 'aws.ssm', 'detail-type': 'Parameter Store Change', 'detail': { operation: 'Update', name: '' } }, 'carries no valid detail.name'],
    [{ action: 'reconcile', cursor: { targetIndex: -1 } }, 'cursor must be {"regions": [{"targetIndex": integer >= 0, "region": region name'],
    [{ action: 'reconcile', cursor: { regions: [{ targetIndex: 0, region: 'eu-west-1', after: 'x'.repeat(2049) }] } }, 'cursor must be {"regions"'],
    [{ action: 'reconcile', cursor: { regions: [{ targetIndex: 0, region: 'not a region' }] } }, 'cursor must be {"regions"'],
    [{ action: 'reconcile', cursor: { regions: 'eu-west-1' } }, 'cursor must be {"regions"'],
    [{ action: 'connectivity_test', cursor: { targetIndex: 0 } }, 'with the action reconcile or test_sync'],
  ])('malformed %#: %s', (payload, message) => {
    expect(() => parseInvocation(payload)).toThrow(MalformedInvocation);
    expect(() => parseInvocation(payload)).toThrow(message);
  });
});

describe('reconciliation cursors (lambda-src/parameter-replicator/cursor.ts)', () => {
  const targets = ['eu-west-1', 'ap-southeast-2', 'us-west-2'].map((region) => ({ region }));

  test('a cursor of the one-region-at-a-time releases resumes its region and the later ones', () => {
    expect(resolveCursor(parseCursor({ targetIndex: 1, after: '/a/b' }), targets)).toEqual({
      regions: [{ targetIndex: 1, region: 'ap-southeast-2', after: '/a/b' }, { targetIndex: 2, region: 'us-west-2' }],
    });
    expect(resolveCursor(parseCursor({ targetIndex: 0 }), targets).regions.map((p) => p.region)).toEqual(['eu-west-1', 'ap-southeast-2', 'us-west-2']);
  });

  test('a per-region cursor comes back in target order; one that does not fit the targets is refused', () => {
    const regions = [{ targetIndex: 2, region: 'us-west-2', after: '/x' }, { targetIndex: 0, region: 'eu-west-1' }];
    expect(resolveCursor(parseCursor({ regions }), targets).regions.map((p) => p.targetIndex)).toEqual([0, 2]);
    expect(() => resolveCursor(parseCursor({ regions: [{ targetIndex: 1, region: 'eu-west-1' }] }), targets)).toThrow(UnusableCursor);
    expect(() => resolveCursor(parseCursor({ regions: [{ targetIndex: 1, region: 'eu-west-1' }] }), targets))
      .toThrow('cursor names region eu-west-1 at targetIndex 1, which the replica targets no longer hold there');
    expect(() => resolveCursor(parseCursor({ regions: [{ targetIndex: 3, region: 'eu-west-1' }] }), targets)).toThrow(UnusableCursor);
    expect(() => resolveCursor(parseCursor({ regions: [regions[1], regions[1]] }), targets)).toThrow('cursor names targetIndex 0 twice');
    expect(() => resolveCursor(parseCursor({ targetIndex: 3 }), targets)).toThrow('cursor.targetIndex 3 is past the last of the 3 replica regions');
  });

  test('the largest continuation (30 regions, each stopped after a 2,048-character name, every total) is far below 256 KB', () => {
    const regions = Array.from({ length: 30 }, (_, i) => ({
      targetIndex: i, region: `ap-southeast-${i + 1}`, after: `/${String.fromCharCode(97 + (i % 26)).repeat(2047)}`,
    }));
    const outcomes = Object.fromEntries(['created', 'updated', 'metadata-updated', 'in-sync', 'conflict-overwritten', 'conflict-skipped', 'stale-skipped',
      'deleted', 'deletion-not-propagated', 'absent', 'failed'].map((o) => [o, 99_999_999]));
    const payload = {
      action: 'reconcile',
      continuation: {
        runId: '0123456789abcdef0123456789abcdef01234567',
        generation: 999_999,
        hop: 99,
        passStartedAt: Date.now(),
        cursor: {
          position: parseCursor({ regions }),
          processed: 99_999_999,
          totals: { outcomes, disagreed: regions.map((r) => r.region), lastAgreedAt: Object.fromEntries(regions.map((r) => [r.region, Date.now()])) },
        },
      },
    };
    const bytes = Buffer.byteLength(JSON.stringify(payload));
    expect(bytes).toBeGreaterThan(30 * 2048);
    expect(bytes).toBeLessThan(80 * 1024);
  });
});

describe('ParameterSelection', () => {
  test('paths are listed once, nested ones folded into their parent', () => {
    expect(new ParameterSelection({ paths: ['/a/b/', '/a', '/c'] }).roots).toEqual(['/a', '/c']);
    expect(normalizePath('///')).toBe('/');
  });

  test('by path, pattern and exclusion; never a settings document', () => {
    const s = new ParameterSelection({ paths: ['/'], namePatterns: ['/app/*/url', '/db/**'], excludedPaths: ['/app/local'] });
    expect(s.selectsName('/app/prod/url')).toBe(true);
    expect(s.selectsName('/app/prod/key')).toBe(false);
    expect(s.selectsName('/app/local/url')).toBe(false);
    expect(s.selectsName('/db/a/b/c')).toBe(true);
    expect(new ParameterSelection({ paths: ['/'] }).selectsName('/cdk-cross-region-config/Stack/Fn/v/0')).toBe(false);
    expect(new ParameterSelection({ paths: ['/app'] }).selectsName('/application')).toBe(false);
  });

  test('by tags', () => {
    const s = new ParameterSelection({ paths: ['/'], tags: { replicate: 'yes' } });
    expect(s.needsTags).toBe(true);
    expect(s.matchesTags({ replicate: 'yes', other: 'x' })).toBe(true);
    expect(s.matchesTags({ replicate: 'no' })).toBe(false);
  });
});

describe('tiers', () => {
  test('limits count UTF-8 bytes', () => {
    expect(tierLimit('Standard')).toBe(4096);
    expect(tierLimit('Advanced')).toBe(8192);
    expect(tierLimit('Intelligent-Tiering')).toBe(8192);
    expect(valueBytes('é')).toBe(2);
  });
});

/** A clock that advances only when slept on. */
function fakeClock(): Clock & { slept: number[] } {
  let now = 0;
  const slept: number[] = [];
  return {
    slept,
    now: () => now,
    sleep: async (ms) => {
      slept.push(ms);
      now += ms;
    },
  };
}

describe('AdaptiveRateLimiter', () => {
  test('spreads writes at the configured rate after a one-second burst', async () => {
    const clock = fakeClock();
    const limiter = new AdaptiveRateLimiter(2, clock);
    for (let i = 0; i < 6; i++) await limiter.acquire();
    // 2 from the burst, then one every 500 ms.
    expect(clock.now()).toBe(2000);
  });

  test('halves its rate on throttling and earns it back on success', async () => {
    const limiter = new AdaptiveRateLimiter(4, fakeClock());
    limiter.throttled();
    expect(limiter.currentRate).toBe(2);
    limiter.throttled();
    limiter.throttled();
    limiter.throttled();
    expect(limiter.currentRate).toBe(0.25);
    for (let i = 0; i < 100; i++) limiter.succeeded();
    expect(limiter.currentRate).toBe(4);
    expect(limiter.throttles).toBe(4);
  });

  test('concurrent callers are served in turn', async () => {
    const clock = fakeClock();
    const limiter = new AdaptiveRateLimiter(1, clock);
    const order: number[] = [];
    await Promise.all([0, 1, 2].map(async (i) => {
      await limiter.acquire();
      order.push(i);
    }));
    expect(order).toEqual([0, 1, 2]);
    expect(clock.now()).toBe(2000);
  });
});

describe('pacedWrite', () => {
  test('retries TooManyUpdates and throttling with backoff, slowing the limiter', async () => {
    const clock = fakeClock();
    const limiter = new AdaptiveRateLimiter(10, clock);
    let calls = 0;
    const result = await pacedWrite(limiter, async () => {
      calls++;
      if (calls < 3) throw Object.assign(new Error('busy'), { name: calls === 1 ? 'TooManyUpdates' : 'ThrottlingException' });
      return 'done';
    }, clock, { maxAttempts: 5, baseDelayMs: 100, maxDelayMs: 1000, random: () => 0.5 });
    expect(result).toBe('done');
    expect(calls).toBe(3);
    expect(limiter.throttles).toBe(2);
    expect(limiter.currentRate).toBeLessThan(10);
  });

  test('gives up after its attempts, and never retries other errors', async () => {
    const clock = fakeClock();
    const limiter = new AdaptiveRateLimiter(10, clock);
    await expect(pacedWrite(limiter, async () => { throw Object.assign(new Error('x'), { name: 'TooManyUpdates' }); }, clock,
      { maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 1 })).rejects.toThrow('x');
    let calls = 0;
    await expect(pacedWrite(limiter, async () => {
      calls++;
      throw Object.assign(new Error('bad'), { name: 'ValidationException' });
    }, clock)).rejects.toThrow('bad');
    expect(calls).toBe(1);
    expect(isThrottling({ name: 'ThrottlingException' })).toBe(true);
  });
});

describe('FullSyncTracker and summaries', () => {
  test('a region agrees only in a complete run without failures or skipped conflicts', () => {
    const tracker = new FullSyncTracker();
    const ok = { parameterName: '/a', region: 'eu-west-1', outcome: 'in-sync' as const };
    const bad = { parameterName: '/a', region: 'ap-southeast-2', outcome: 'conflict-skipped' as const };
    const t0 = new Date(0);
    expect([...tracker.record(['eu-west-1', 'ap-southeast-2'], [ok, bad], new Set(), true, t0)]).toEqual([['eu-west-1', 0], ['ap-southeast-2', undefined]]);
    expect([...tracker.record(['eu-west-1'], [ok], new Set(), false, new Date(60_000))]).toEqual([['eu-west-1', 60]]);
    expect([...tracker.record(['eu-west-1'], [ok], new Set(['eu-west-1']), true, new Date(120_000))]).toEqual([['eu-west-1', 120]]);
  });

  test('summaries count outcomes and carry the cursor of an early stop', () => {
    const s = summarize('reconcile', [
      { parameterName: '/a', region: 'r', outcome: 'created' },
      { parameterName: '/a', region: 's', outcome: 'failed', errorName: 'X' },
    ], Date.now(), false, { regions: [{ targetIndex: 1, region: 's', after: '/a' }] });
    expect(s).toEqual(expect.objectContaining({
      parameters: 1, outcomes: { created: 1, failed: 1 }, complete: false, cursor: { regions: [{ targetIndex: 1, region: 's', after: '/a' }] },
    }));
    expect(s.failures).toHaveLength(1);
  });
});

describe('recordLastSync (lambda-src/shared/last-sync.ts)', () => {
  /** A stand-in for the one parameter the function reads and writes. */
  function fakeClient(value: string) {
    const puts: string[] = [];
    return {
      puts,
      send: async (command: any) => {
        if (command.constructor.name === 'GetParameterCommand') return { Parameter: { Value: value } };
        puts.push(command.input.Value);
        return {};
      },
    };
  }
  const own = { primaryRegion: 'us-east-1', replicationRegions: ['eu-west-1', 'ap-southeast-2'] };
  const doc = (extra: Record<string, unknown> = {}) => JSON.stringify({ primaryRegion: 'us-east-1', replicationRegions: ['ap-southeast-2', 'eu-west-1'], ...extra });

  test('stamps the document, keeping its other fields', async () => {
    const client = fakeClient(doc({ lastSyncTimestamp: '2020-01-01T00:00:00Z', syncInterval: 'PT6H' }));
    expect(await recordLastSync(client as any, '/c', new Date('2026-01-02T03:04:05.678Z'), own)).toBe('updated');
    expect(JSON.parse(client.puts[0])).toEqual(expect.objectContaining({ lastSyncTimestamp: '2026-01-02T03:04:05Z', syncInterval: 'PT6H' }));
  });

  test('leaves a recent stamp, another deployment\'s settings and a value that is not a document alone', async () => {
    const recent = fakeClient(doc({ lastSyncTimestamp: '2026-01-02T03:04:00Z' }));
    expect(await recordLastSync(recent as any, '/c', new Date('2026-01-02T03:04:30Z'), own)).toBe('recent');
    const other = fakeClient(doc({ primaryRegion: 'us-west-2' }));
    expect(await recordLastSync(other as any, '/c', new Date(), own)).toBe('other-settings');
    const text = fakeClient('not json');
    expect(await recordLastSync(text as any, '/c', new Date(), own)).toBe('not-a-document');
    expect([...recent.puts, ...other.puts, ...text.puts]).toEqual([]);
  });
});
