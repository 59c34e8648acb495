import { parseInvocation } from '../../lambda-src/secret-replicator/events';

const ARN = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:app/db-AbC123';

describe('invocation payloads', () => {
  const event = (detail: Record<string, unknown>, detailType = 'AWS API Call via CloudTrail') => ({ 'detail-type': detailType, 'time': '2026-01-01T00:00:00Z', detail });

  test('reads the secret id from every field CloudTrail uses', () => {
    const id = (d: Record<string, unknown>) => {
      const inv = parseInvocation(event(d));
      return inv.kind === 'change' ? inv.change.secretId : inv.kind;
    };
    expect(id({ eventName: 'PutSecretValue', requestParameters: { secretId: 'a' } })).toBe('a');
    expect(id({ eventName: 'CreateSecret', requestParameters: { name: 'b' }, responseElements: { arn: ARN } })).toBe(ARN);
    expect(id({ eventName: 'CreateSecret', responseElements: { aRN: ARN } })).toBe(ARN);
    expect(id({ eventName: 'CreateSecret', requestParameters: { name: 'b' } })).toBe('b');
    expect(id({ eventName: 'RotationSucceeded', additionalEventData: { SecretId: ARN } })).toBe(ARN);
  });

  test('ignores failed calls and events it does not replicate', () => {
    expect(parseInvocation(event({ eventName: 'PutSecretValue', errorCode: 'AccessDenied', requestParameters: { secretId: 'a' } })).kind).toBe('ignored');
    expect(parseInvocation(event({ eventName: 'GetSecretValue', requestParameters: { secretId: 'a' } })).kind).toBe('ignored');
  });

  test('maps the schedule and manual actions', () => {
    expect(parseInvocation({ 'detail-type': 'Scheduled Event', 'detail': {} })).toEqual({ kind: 'manual', action: 'reconcile' });
    expect(parseInvocation({ action: 'test_sync' })).toEqual({ kind: 'manual', action: 'test_sync' });
    expect(parseInvocation({ action: 'connectivity_test' })).toEqual({ kind: 'manual', action: 'connectivity_test' });
  });

  test('rejects payloads it cannot place, without echoing them', () => {
    expect(() => parseInvocation({ secretString: 'hunter2' })).toThrow('unsupported payload: expected {"action": ...} or a Secrets Manager CloudTrail event');
    expect(() => parseInvocation(event({ eventName: 'PutSecretValue' }))).toThrow('PutSecretValue event carries no secret id');
  });
});

describe('echoes of invocation input', () => {
  test('are a printable prefix of at most 64 characters that names the full length', () => {
    expect(() => parseInvocation({ action: 'a'.repeat(1_000_000) })).toThrow(`unknown action "${'a'.repeat(64)}" (first 64 of 1000000 characters)`);
    expect(() => parseInvocation({ action: 'x\u0000\u001b[31m\u2028' })).toThrow('unknown action "x??[31m?"');
    const ignored = parseInvocation({ 'detail-type': 'AWS API Call via CloudTrail', 'detail': { eventName: 'z'.repeat(5000), requestParameters: { secretId: 'a' } } });
    expect(ignored.kind === 'ignored' && ignored.reason.length).toBeLessThan(140);
  });
});

describe('SecondsSinceFullSync', () => {
  /* eslint-disable @typescript-eslint/no-require-imports */
  const { FullSyncTracker } = require('../../lambda-src/secret-replicator/full-sync');
  /* eslint-enable @typescript-eslint/no-require-imports */
  const r = (region: string, outcome: string) => ({ secretName: 'app/db', region, outcome });
  const t0 = new Date('2026-12-07T00:00:00Z');
  const later = (s: number) => new Date(t0.getTime() + s * 1000);

  test('is 0 for a region that agreed, its age after it stops agreeing, unknown before it ever did', () => {
    const tracker = new FullSyncTracker();
    const regions = ['eu-west-1', 'ap-southeast-2'];
    let ages = tracker.record(regions, [r('eu-west-1', 'in-sync'), r('ap-southeast-2', 'failed')], new Set(), t0);
    expect([...ages]).toEqual([['eu-west-1', 0], ['ap-southeast-2', undefined]]);
    ages = tracker.record(regions, [r('eu-west-1', 'conflict-skipped'), r('ap-southeast-2', 'deletion-not-propagated')], new Set(), later(90));
    expect([...ages]).toEqual([['eu-west-1', 90], ['ap-southeast-2', 0]]);
    ages = tracker.record(regions, [], new Set(['eu-west-1']), later(150));
    expect([...ages]).toEqual([['eu-west-1', 150], ['ap-southeast-2', 0]]);
  });
});
