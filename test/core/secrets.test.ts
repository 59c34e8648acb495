import { DescribeSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { ClientCache } from '../../lambda-src/shared/clients';
import { KeyedHasher } from '../../lambda-src/shared/hmac';
import { SecretReplicator } from '../../lambda-src/shared/secrets/replicator';
import { isSelected, nameFromArn, primaryListFilters } from '../../lambda-src/shared/secrets/selection';

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

describe('replica version ids', () => {
  /* eslint-disable @typescript-eslint/no-require-imports */
  const { ReplicaVersionIds } = require('../../lambda-src/shared/secrets/version-id');
  /* eslint-enable @typescript-eslint/no-require-imports */
  const ids = new ReplicaVersionIds(new KeyedHasher('k'.repeat(64)));
  const source = '3f2c1b7e-6a1d-4b5e-9c3a-0d4e5f6a7b8c';
  const at = new Date('2026-12-07T12:00:00.000Z');

  test('carry the source version, the read time and a nonce, within Secrets Manager\'s 32 to 64 characters', () => {
    const id = ids.mint(ARN, source, { region: 'eu-west-1' }, at);
    expect(id.length).toBeGreaterThanOrEqual(32);
    expect(id.length).toBeLessThanOrEqual(64);
    expect(id.startsWith(`${source}.`)).toBe(true);
    expect(ids.verify(id, ARN, { region: 'eu-west-1' })).toEqual({ sourcePart: source, readAt: at });
    expect(ids.isCopyOf(id, ARN, source, { region: 'eu-west-1' })).toBe(true);
  });

  test('are new for every write of the same version (a token is never used up)', () => {
    const minted = new Set(Array.from({ length: 200 }, () => ids.mint(ARN, source, { region: 'eu-west-1' }, at)));
    expect(minted.size).toBeGreaterThan(190); // 16 random bits per write at the same millisecond
  });

  test('verify only for the source, target and key they were made for', () => {
    const id = ids.mint(ARN, source, { region: 'eu-west-1' }, at);
    expect(ids.verify(id, ARN, { region: 'ap-southeast-2' })).toBeUndefined();
    expect(ids.verify(id, ARN, { region: 'eu-west-1', roleArn: 'arn:aws:iam::111111111111:role/w' })).toBeUndefined();
    expect(ids.verify(id, `${ARN}x`, { region: 'eu-west-1' })).toBeUndefined();
    expect(new ReplicaVersionIds(new KeyedHasher('j'.repeat(64))).verify(id, ARN, { region: 'eu-west-1' })).toBeUndefined();
    expect(ids.isCopyOf(id, ARN, '00000000-0000-4000-8000-000000000000', { region: 'eu-west-1' })).toBe(false);
    const tampered = `${id.slice(0, -1)}${id.endsWith('0') ? '1' : '0'}`;
    expect(ids.verify(tampered, ARN, { region: 'eu-west-1' })).toBeUndefined();
    expect(ids.verify(source, ARN, { region: 'eu-west-1' })).toBeUndefined();
    expect(ids.hasReplicaForm(id)).toBe(true);
    expect(ids.hasReplicaForm(source)).toBe(false);
  });

  test('carry a keyed hash of a source version id that is long or unusual', () => {
    const long = 'x'.repeat(64);
    const id = ids.mint(ARN, long, { region: 'eu-west-1' }, at);
    expect(id.length).toBeLessThanOrEqual(64);
    expect(id.startsWith('h')).toBe(true);
    expect(ids.isCopyOf(id, ARN, long, { region: 'eu-west-1' })).toBe(true);
    expect(ids.isCopyOf(ids.mint(ARN, 'a.b_c-0123456789abcdef0123456789ab', { region: 'eu-west-1' }, at), ARN, 'a.b_c-0123456789abcdef0123456789ab', { region: 'eu-west-1' })).toBe(true);
  });
});

describe('selection by identity alone', () => {
  /* eslint-disable @typescript-eslint/no-require-imports */
  const { selectedByIdentity } = require('../../lambda-src/shared/secrets/selection');
  /* eslint-enable @typescript-eslint/no-require-imports */
  const secret = { name: 'app/db', arn: ARN };

  test('decides without tags when a tag-free rule matches or no rule can', () => {
    expect(selectedByIdentity({ rules: [{ namePrefixes: ['app/'] }, { tags: { a: 'b' } }] }, secret)).toBe(true);
    expect(selectedByIdentity({ rules: [{ namePrefixes: ['other/'] }, { names: ['x'], tags: { a: 'b' } }] }, secret)).toBe(false);
    expect(selectedByIdentity({ rules: [{}] }, secret)).toBe(false);
  });

  test('needs the tags when only a rule with tags can match', () => {
    expect(selectedByIdentity({ rules: [{ tags: { a: 'b' } }] }, secret)).toBeUndefined();
    expect(selectedByIdentity({ rules: [{ namePrefixes: ['app/'], tags: { a: 'b' } }] }, secret)).toBeUndefined();
  });
});
