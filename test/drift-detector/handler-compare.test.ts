import { guidance, sh } from '../../lambda-src/drift-detector/guidance';
import { compareScope, LocationRead } from '../../lambda-src/shared/comparison/compare';
import { IgnoreRules } from '../../lambda-src/shared/comparison/ignore';
import { Inventory, Item, Location, Scope } from '../../lambda-src/shared/comparison/model';

const NOW = new Date('2026-11-28T12:00:00Z');
const P: Location = { region: 'us-east-1', cluster: 'main' };
const EU: Location = { region: 'eu-west-1', cluster: 'eu' };
const AP: Location = { region: 'ap-southeast-2', cluster: 'ap' };

function item(name: string, digest: string, extra: Partial<Item> = {}): Item {
  return { kind: 'configmap', name, digest, metadata: {}, changedAt: new Date('2026-11-28T10:00:00Z'), ...extra };
}

function inventory(...items: Item[]): Inventory {
  return { items: new Map(items.map((i) => [i.name, i])), itemFailures: new Map() };
}

const scope: Scope = {
  kind: 'configmap',
  label: 'default/*',
  primary: P,
  replicas: [EU, AP],
  replicaReadNeedsPrimaryNames: false,
  read: () => Promise.reject(new Error('not used')),
  expectedMetadata: (primary) => ({ ...primary.metadata }),
};

interface Options { ignore?: IgnoreRules; graceWindowMs?: number; reportExtraItems?: boolean }

function compare(primary: LocationRead, replicas: LocationRead[], options: Options = {}) {
  return compareScope(scope, primary, replicas, {
    ignore: options.ignore ?? new IgnoreRules([]),
    graceWindowMs: options.graceWindowMs ?? 0,
    reportExtraItems: options.reportExtraItems ?? false,
    now: NOW,
  });
}

const summary = (r: ReturnType<typeof compare>) => r.drifts.map((d) => `${d.name} ${d.driftType} ${d.replicaRegion}${d.details ? ` ${JSON.stringify(d.details)}` : ''}`);

describe('compareScope', () => {
  test('reports missing, value and metadata drift per replica location', () => {
    const primary = inventory(item('default/a', 'x', { metadata: { type: 'String' } }), item('default/b', 'y'), item('default/c', 'z'));
    const result = compare({ location: P, inventory: primary }, [
      { location: EU, inventory: inventory(item('default/a', 'x', { metadata: { type: 'SecureString' } }), item('default/b', 'DIFFERENT')) },
      { location: AP, inventory: inventory(item('default/a', 'x', { metadata: { type: 'String' } }), item('default/b', 'y'), item('default/c', 'z')) },
    ]);
    expect(summary(result)).toEqual([
      'default/a METADATA_MISMATCH eu-west-1 [{"field":"type","primary":"String","replica":"SecureString"}]',
      'default/b VALUE_MISMATCH eu-west-1',
      'default/c MISSING_IN_REPLICA eu-west-1',
    ]);
    expect(result.compared).toBe(6);
    expect(result.drifts[0]).toMatchObject({ primaryCluster: 'main', replicaCluster: 'eu', detectedAt: NOW.toISOString() });
  });

  test('reports extra items only when asked', () => {
    const replicas: LocationRead[] = [{ location: EU, inventory: inventory(item('default/a', 'x'), item('default/extra', 'e')) }];
    const primary: LocationRead = { location: P, inventory: inventory(item('default/a', 'x')) };
    expect(summary(compare(primary, replicas))).toEqual([]);
    expect(summary(compare(primary, replicas, { reportExtraItems: true }))).toEqual(['default/extra EXTRA_IN_REPLICA eu-west-1']);
  });

  test('compares ConfigMaps key by key, naming keys only, and ignores keys by rule', () => {
    const primary = inventory(item('default/app', '', { keyDigests: { log_level: 'd1', cache_ttl: 'd2', region: 'd3' } }));
    const replica = inventory(item('default/app', '', { keyDigests: { log_level: 'd1', cache_ttl: 'other', region: 'other', local: 'd9' } }));
    const ignore = new IgnoreRules([{ kind: 'configmap', namePattern: 'default/*', keyPattern: 'region', regions: ['eu-west-1'] }]);
    const result = compare({ location: P, inventory: primary }, [{ location: EU, inventory: replica }], { ignore, reportExtraItems: true });
    expect(summary(result)).toEqual([
      'default/app VALUE_MISMATCH eu-west-1 [{"field":"key:cache_ttl","change":"changed"},{"field":"key:local","change":"extra"}]',
    ]);
  });

  test('defers items changed in the primary within the grace window, in every region', () => {
    const fresh = item('default/fresh', 'x', { changedAt: new Date(NOW.getTime() - 60_000) });
    const result = compare({ location: P, inventory: inventory(fresh, item('default/old', 'y')) }, [{ location: EU, inventory: inventory() }], { graceWindowMs: 600_000 });
    expect(summary(result)).toEqual(['default/old MISSING_IN_REPLICA eu-west-1']);
    expect(result.deferrals).toEqual([{
      kind: 'configmap', name: 'default/fresh', changedAt: '2026-11-28T11:59:00.000Z', recheckAfter: '2026-11-28T12:09:00.000Z',
    }]);
  });

  test('ignores whole items per region', () => {
    const ignore = new IgnoreRules([{ kind: 'configmap', namePattern: 'default/regional-*', regions: ['ap-southeast-2'] }]);
    const result = compare({ location: P, inventory: inventory(item('default/regional-x', 'x')) }, [
      { location: EU, inventory: inventory() }, { location: AP, inventory: inventory() },
    ], { ignore });
    expect(summary(result)).toEqual(['default/regional-x MISSING_IN_REPLICA eu-west-1']);
    expect(result.ignored).toBe(1);
  });

  test('turns unreadable locations and items into SCAN_FAILED, never into missing', () => {
    const primary: Inventory = { items: new Map([['default/a', item('default/a', 'x')]]), itemFailures: new Map([['default/b', { errorName: 'Forbidden', httpStatus: 403 }]]) };
    const replicaEu: Inventory = { items: new Map(), itemFailures: new Map([['default/a', { errorName: 'Forbidden', httpStatus: 403 }]]) };
    const result = compare({ location: P, inventory: primary }, [
      { location: EU, inventory: replicaEu },
      { location: AP, failure: { errorName: 'ECONNREFUSED' } },
    ]);
    expect(result.drifts.map((d) => `${d.name} ${d.driftType} ${d.replicaRegion} ${d.failure?.location} ${d.failure?.errorName}`)).toEqual([
      'default/a SCAN_FAILED eu-west-1 replica Forbidden',
      'default/b SCAN_FAILED eu-west-1 primary Forbidden',
      'default/* SCAN_FAILED ap-southeast-2 replica ECONNREFUSED',
    ]);
  });

  test('an unreadable primary fails the scope in every replica location', () => {
    const result = compare({ location: P, failure: { errorName: 'AccessDeniedException', httpStatus: 400 } }, [
      { location: EU, inventory: inventory() }, { location: AP, inventory: inventory() },
    ]);
    expect(summary(result)).toEqual(['default/* SCAN_FAILED eu-west-1', 'default/* SCAN_FAILED ap-southeast-2']);
    expect(result.drifts[0].failure).toEqual({ location: 'primary', region: 'us-east-1', errorName: 'AccessDeniedException', httpStatus: 400 });
  });
});

describe('remediation guidance', () => {
  const context = {
    account: '111122223333',
    replicaKeys: new Map([['eu-west-1', 'alias/secrets']]),
    parameterTypes: new Map([['/p', 'SecureString']]),
    binarySecrets: new Set(['app/cert']),
    ignoredConfigMapKeys: (name: string, region: string) => (name === 'default/app' && region === 'eu-west-1' ? ['region'] : []),
  };
  const base = { primaryRegion: 'us-east-1', replicaRegion: 'eu-west-1', detectedAt: NOW.toISOString() };

  test('quotes shell words that need it', () => {
    expect(sh('prod/app-db_1')).toBe('prod/app-db_1');
    expect(sh("it's here")).toBe('\'it\'\\\'\'s here\'');
  });

  test('copies a parameter with its type; a SecureString with its region\'s key, or a placeholder where the key is unknown (never aws/ssm by omission)', () => {
    expect(guidance({ ...base, kind: 'parameter', name: '/p', driftType: 'VALUE_MISMATCH' }, context).commands).toEqual([
      'aws ssm put-parameter --region eu-west-1 --name /p --type SecureString --key-id "<the KMS key of SecureString replicas in eu-west-1>" '
      + '--tier Intelligent-Tiering --overwrite '
      + '--value "$(aws ssm get-parameter --region us-east-1 --name /p --with-decryption --query Parameter.Value --output text)"',
    ]);
    const keyed = { ...context, parameterReplicaKeys: new Map([['eu-west-1', 'alias/parameters']]) };
    expect(guidance({ ...base, kind: 'parameter', name: '/p', driftType: 'MISSING_IN_REPLICA' }, keyed).commands).toEqual([
      'aws ssm put-parameter --region eu-west-1 --name /p --type SecureString --key-id alias/parameters --tier Intelligent-Tiering --overwrite '
      + '--value "$(aws ssm get-parameter --region us-east-1 --name /p --with-decryption --query Parameter.Value --output text)"',
    ]);
    const plain = { ...keyed, parameterTypes: new Map([['/p', 'String']]) };
    expect(guidance({ ...base, kind: 'parameter', name: '/p', driftType: 'VALUE_MISMATCH' }, plain).commands[0]).not.toContain('--key-id');
  });

  test('copies string and binary secrets exactly, through process substitution, never through the command line', () => {
    const base2 = { ...base, kind: 'secret' as const, driftType: 'VALUE_MISMATCH' as const };
    expect(guidance({ ...base2, name: 'app/db' }, context).commands).toEqual([
      'aws secretsmanager put-secret-value --region eu-west-1 --secret-id app/db --secret-string '
      + 'file://<(aws secretsmanager get-secret-value --region us-east-1 --secret-id app/db --query SecretString --output json | jq -j .)',
    ]);
    expect(guidance({ ...base2, name: 'app/cert', driftType: 'MISSING_IN_REPLICA' }, context).commands).toEqual([
      'aws secretsmanager create-secret --region eu-west-1 --name app/cert --kms-key-id alias/secrets --secret-binary '
      + 'fileb://<(aws secretsmanager get-secret-value --region us-east-1 --secret-id app/cert --query SecretBinary --output text | base64 -d)',
    ]);
  });

  test('names kubectl contexts in the region\'s partition', () => {
    const g = guidance({
      ...base,
      primaryRegion: 'cn-north-1',
      replicaRegion: 'cn-northwest-1',
      kind: 'configmap',
      name: 'default/x',
      driftType: 'MISSING_IN_REPLICA',
      primaryCluster: 'a',
      replicaCluster: 'b',
    }, context);
    expect(g.commands[2]).toContain('--context arn:aws-cn:eks:cn-north-1:111122223333:cluster/a');
  });

  test('fixes tags and keys of a secret', () => {
    const g = guidance({
      ...base,
      kind: 'secret',
      name: 'app/db',
      driftType: 'METADATA_MISMATCH',
      details: [{ field: 'kmsKey', primary: 'alias/secrets', replica: 'alias/aws/secretsmanager' }, { field: 'tag:team', primary: 'pay', replica: '' }],
    }, context);
    expect(g.commands).toEqual([
      'aws secretsmanager update-secret --region eu-west-1 --secret-id app/db --kms-key-id alias/secrets',
      'aws secretsmanager tag-resource --region eu-west-1 --secret-id app/db --tags Key=team,Value=pay',
    ]);
  });

  test('copies a ConfigMap with server-side apply between kubectl contexts named like update-kubeconfig names them', () => {
    const g = guidance({
      ...base, kind: 'configmap', name: 'default/app', driftType: 'MISSING_IN_REPLICA', primaryCluster: 'main', replicaCluster: 'eu',
    }, context);
    expect(g.commands).toEqual([
      'aws eks update-kubeconfig --region us-east-1 --name main',
      'aws eks update-kubeconfig --region eu-west-1 --name eu',
      'kubectl --context arn:aws:eks:us-east-1:111122223333:cluster/main -n default get configmap app -o json '
      + '| jq \'{apiVersion, kind, metadata: {name: .metadata.name, namespace: .metadata.namespace}, data} | del(.data["region"])\' '
      + '| kubectl --context arn:aws:eks:eu-west-1:111122223333:cluster/eu apply --server-side --field-manager=cross-region-config -f -',
    ]);
  });
});
