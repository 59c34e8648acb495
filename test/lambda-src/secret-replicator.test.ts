import { DescribeSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { parseInvocation } from '../../lambda-src/secret-replicator/events';
import { primaryListFilters, SecretReplicator } from '../../lambda-src/secret-replicator/replicator';
import { isSelected, nameFromArn } from '../../lambda-src/secret-replicator/selection';
import { ClientCache } from '../../lambda-src/shared/clients';
import { KeyedHasher } from '../../lambda-src/shared/hmac';

const ARN = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:app/db-AbC123';

describe('selection', () => {
  const secret = { name: 'app/db', arn: ARN, tags: { env: 'prod', team: 'a' } };

  test('matches by name, full or partial ARN, and prefix', () => {
    expect(isSelected({ rules: [{ names: ['app/db'] }] }, secret)).toBe(true);
    expect(isSelected({ rules: [{ arns: [ARN] }] }, secret)).toBe(true);
    expect(isSelected({ rules: [{ arns: ['arn:aws:secretsmanager:us-east-1:123456789012:secret:app/db'] }] }, secret)).toBe(true);
    expect(isSelected({ rules: [{ arns: ['arn:aws:secretsmanager:us-east-1:123456789012:secret:app/d'] }] }, secret)).toBe(false);
    expect(isSelected({ rules: [{ namePrefixes: ['app/'] }] }, secret)).toBe(true);
    expect(isSelected({ rules: [{ namePrefixes: ['other/'] }, { names: ['x'] }] }, secret)).toBe(false);
  });

  test('requires every tag of a rule, and unions rules', () => {
    expect(isSelected({ rules: [{ tags: { env: 'prod' } }] }, secret)).toBe(true);
    expect(isSelected({ rules: [{ tags: { env: 'prod', team: 'b' } }] }, secret)).toBe(false);
    expect(isSelected({ rules: [{ namePrefixes: ['app/'], tags: { env: 'dev' } }] }, secret)).toBe(false);
    expect(isSelected({ rules: [{ namePrefixes: ['app/'], tags: { env: 'dev' } }, { tags: { team: 'a' } }] }, secret)).toBe(true);
  });

  test('an empty rule selects nothing', () => {
    expect(isSelected({ rules: [{}] }, secret)).toBe(false);
    expect(isSelected({ rules: [] }, secret)).toBe(false);
  });

  test('reads the name out of an ARN', () => {
    expect(nameFromArn(ARN)).toBe('app/db');
    expect(nameFromArn('app/db')).toBeUndefined();
  });
});

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

describe('SecretReplicator with a denying role', () => {
  test('treats a primary secret it may not read as not selected', async () => {
    const sm = mockClient(SecretsManagerClient);
    sm.on(DescribeSecretCommand).rejects(Object.assign(new Error('denied'), { name: 'AccessDeniedException' }));
    const replicator = new SecretReplicator({
      primaryRegion: 'us-east-1',
      targets: [{ region: 'eu-west-1' }],
      selection: { rules: [{ tags: { replicate: 'yes' } }] },
      conflictPolicy: 'PRIMARY_WINS',
      replicateTags: true,
      propagateDeletions: false,
      deletionRecoveryWindowDays: 7,
      provenanceKeySecretArn: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:key-AbC123',
    }, new ClientCache('us-east-1'), new KeyedHasher('k'.repeat(64)));

    await expect(replicator.syncOne('unrelated/secret')).resolves.toEqual([]);
    expect(sm.commandCalls(DescribeSecretCommand)).toHaveLength(1);
    sm.restore();
  });
});

describe('primary listing filters', () => {
  test('narrow ListSecrets to names and prefixes when every rule has them', () => {
    expect(primaryListFilters({ rules: [{ namePrefixes: ['prod/'] }, { names: ['app/db'], tags: { a: 'b' } }] }))
      .toEqual([{ Key: 'name', Values: ['prod/', 'app/db'] }]);
  });

  test('list everything when a rule selects by ARN or by tags alone, or there are over 10 names', () => {
    expect(primaryListFilters({ rules: [{ namePrefixes: ['prod/'] }, { tags: { a: 'b' } }] })).toBeUndefined();
    expect(primaryListFilters({ rules: [{ arns: ['arn:aws:secretsmanager:us-east-1:123456789012:secret:x-AbC123'] }] })).toBeUndefined();
    expect(primaryListFilters({ rules: [{ names: Array.from({ length: 11 }, (_, i) => `n${i}`) }] })).toBeUndefined();
  });
});
