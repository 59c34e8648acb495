/**
 * A drift detector or parity check that takes what to compare from a parameter replicator decrypts
 * the replicator's SecureString parameters with the replicator's customer managed keys: the source
 * keys in the primary region and each replica key in its own region, only through Parameter Store.
 * Checked as the exact statements each reader gains, and by offline IAM evaluation of the
 * synthesized role (test/harness/iam-evaluation.ts): GetParameter(s) WithDecryption of a SecureString
 * is allowed with the inherited keys, and denied with another key, in another region, or other than
 * through Parameter Store.
 */
import { App, CfnElement, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import { AwsSolutionsChecks } from 'cdk-nag';
import {
  ConfigDriftDetector, ConfigDriftDetectorProps, ConfigParityCheck, ConfigParityCheckProps, CrossRegionConfigManagement,
  CrossRegionParameterReplicator, CrossRegionParameterReplicatorProps, CrossRegionSecretReplicator, DriftRemediation, ParameterSelection,
  ReplicaKmsKey, SecretSelection,
} from '../../src';
import { ParityEnv } from '../../src/parity-check/contract';
import { Authorization, authorizationsOf, evaluate, formatSummary, negative } from '../harness/iam-evaluation';
import { MOTO_ACCOUNT, RecordedCall, RecordedKey } from '../harness/iam-recorder';

const PRIMARY = 'us-east-1';
const EU = 'eu-west-1';
const AP = 'ap-southeast-2';
/** A replica region whose SecureStrings use the AWS managed key `aws/ssm`. */
const WEST = 'us-west-2';
/** A region no construct here compares. */
const ELSEWHERE = 'ca-central-1';
const EU_KEY = `arn:aws:kms:${EU}:${MOTO_ACCOUNT}:key/11111111-2222-3333-4444-555555555555`;
/** The key carrying `alias/parameters` in ap-southeast-2 (its id is unknown to the stack). */
const AP_KEY = `arn:aws:kms:${AP}:${MOTO_ACCOUNT}:key/66666666-7777-8888-9999-000000000000`;
const OTHER_EU_KEY = `arn:aws:kms:${EU}:${MOTO_ACCOUNT}:key/99999999-0000-0000-0000-000000000000`;
const ALIAS = 'alias/parameters';
const SECURE_STRING = '/app/prod/db/password';

const REPLICA_KEYS = [{ region: EU, keyArn: EU_KEY }, { region: AP, aliasName: ALIAS }, { region: WEST, aliasName: 'alias/aws/ssm' }];

type Reader = 'parity check' | 'drift detector' | 'drift detector with auto-remediation' | 'parity check of a drift detector';
const READERS: Reader[] = ['parity check', 'drift detector', 'drift detector with auto-remediation', 'parity check of a drift detector'];

interface Built {
  readonly app: App;
  readonly stack: Stack;
  readonly role: iam.Role;
  readonly sourceKey: kms.Key;
  readonly replicator: CrossRegionParameterReplicator;
}

/**
 * A reader linked to a parameter replicator of `/app/prod` in eu-west-1, ap-southeast-2 and us-west-2;
 * with `keys`, the replicator has a customer source key and replica keys by ARN (eu-west-1), by alias
 * (ap-southeast-2) and `alias/aws/ssm` (us-west-2). The unused source key exists either way, so both
 * templates have the same logical ids.
 */
function build(reader: Reader, keys: boolean, extra: {
  parity?: Partial<ConfigParityCheckProps>;
  detector?: Partial<ConfigDriftDetectorProps>;
  replicator?: Partial<CrossRegionParameterReplicatorProps>;
} = {}): Built {
  const app = new App();
  const stack = new Stack(app, 'Keys', { env: { account: MOTO_ACCOUNT, region: PRIMARY } });
  const sourceKey = new kms.Key(stack, 'ParameterKey', { enableKeyRotation: true });
  const replicator = new CrossRegionParameterReplicator(stack, 'Parameters', {
    parameters: ParameterSelection.fromPaths(['/app/prod']),
    replicaRegions: [EU, AP, WEST],
    ...(keys ? { sourceEncryptionKeys: [sourceKey], replicaKmsKeys: REPLICA_KEYS } : {}),
    ...extra.replicator,
  });
  const detector = (props: Partial<ConfigDriftDetectorProps> = {}) =>
    new ConfigDriftDetector(stack, 'Detector', { parameterReplicator: replicator, ...props, ...extra.detector });
  const parity = (props: Partial<ConfigParityCheckProps>) => new ConfigParityCheck(stack, 'Parity', { ...props, ...extra.parity });
  let role: iam.Role;
  switch (reader) {
    case 'parity check': role = parity({ parameterReplicator: replicator }).role; break;
    case 'drift detector': role = detector().role; break;
    case 'drift detector with auto-remediation': role = detector({ autoRemediation: DriftRemediation.APPLY }).role; break;
    case 'parity check of a drift detector': role = parity({ driftDetector: detector() }).role; break;
  }
  return { app, stack, role, sourceKey, replicator };
}

/** Every statement of the role's policies, as synthesized. */
function statementsOf(b: { stack: Stack; role: iam.Role }): any[] {
  const template = Template.fromStack(b.stack).toJSON();
  const roleId = b.stack.getLogicalId(b.role.node.defaultChild as CfnElement);
  return Object.values(template.Resources as Record<string, any>)
    .filter((r) => r.Type === 'AWS::IAM::Policy' && r.Properties.Roles.some((x: any) => x.Ref === roleId))
    .flatMap((r) => r.Properties.PolicyDocument.Statement);
}

/** Statements of `after` that `before` does not have, and the other way round. */
function difference(before: any[], after: any[]): { added: any[]; removed: any[] } {
  const key = (s: any) => JSON.stringify(s);
  const was = new Set(before.map(key));
  const is = new Set(after.map(key));
  return { added: after.filter((s) => !was.has(key(s))), removed: before.filter((s) => !is.has(key(s))) };
}

const via = (region: string) => ({ 'kms:ViaService': `ssm.${region}.amazonaws.com` });
const sourceStatement = (stack: Stack, key: kms.IKey) => ({
  Action: 'kms:Decrypt', Condition: { StringEquals: via(PRIMARY) }, Effect: 'Allow', Resource: stack.resolve(key.keyArn),
});
const EU_STATEMENT = { Action: 'kms:Decrypt', Condition: { StringEquals: via(EU) }, Effect: 'Allow', Resource: EU_KEY };
const AP_STATEMENT = {
  Action: 'kms:Decrypt',
  Condition: { 'ForAnyValue:StringEquals': { 'kms:ResourceAliases': ALIAS }, 'StringEquals': via(AP) },
  Effect: 'Allow',
  Resource: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, `:kms:${AP}:${MOTO_ACCOUNT}:key/*`]] },
};
const WRITE_ACTIONS = ['kms:Encrypt', 'kms:GenerateDataKey'];
const EU_WRITE_STATEMENT = { ...EU_STATEMENT, Action: WRITE_ACTIONS };
const AP_WRITE_STATEMENT = { ...AP_STATEMENT, Action: WRITE_ACTIONS };

describe('the keys a reader of a parameter replicator inherits', () => {
  test('CrossRegionParameterReplicator exposes its SecureString keys as IParameterReplicator', () => {
    const { replicator, sourceKey } = build('drift detector', true);
    expect(replicator.sourceEncryptionKeys).toEqual([sourceKey]);
    expect(replicator.replicaKmsKeys).toEqual(REPLICA_KEYS);
    const { replicator: plain } = build('drift detector', false);
    expect(plain.sourceEncryptionKeys).toEqual([]);
    expect(plain.replicaKmsKeys).toEqual([]);
  });

  test.each(READERS)('the %s gains exactly: the source key and the replica keys by ARN and by alias, each through Parameter Store in its region', (reader) => {
    const without = build(reader, false);
    const withKeys = build(reader, true);
    const { added, removed } = difference(statementsOf(without), statementsOf(withKeys));
    expect(removed).toEqual([]);
    // Nothing for us-west-2: its replicas use aws/ssm, whose key policy allows the account through Parameter Store.
    // Auto-remediation writes the SecureString replicas with their keys (test/drift-detector/remediation-keys.test.ts).
    const writes = reader === 'drift detector with auto-remediation' ? [EU_WRITE_STATEMENT, AP_WRITE_STATEMENT] : [];
    expect(added).toEqual([sourceStatement(withKeys.stack, withKeys.sourceKey), EU_STATEMENT, AP_STATEMENT, ...writes]);
  });

  test('the keys of the replicas follow the regions compared', () => {
    const b = build('parity check', true, { parity: { regions: [EU] } });
    const kmsStatements = statementsOf(b).filter((s) => JSON.stringify(s.Action).includes('kms:'));
    expect(kmsStatements).toEqual([sourceStatement(b.stack, b.sourceKey), EU_STATEMENT]);
  });

  test('keys given explicitly are merged with the inherited ones, each key once', () => {
    const app = new App();
    const stack = new Stack(app, 'Keys', { env: { account: MOTO_ACCOUNT, region: PRIMARY } });
    const shared = new kms.Key(stack, 'SharedKey', { enableKeyRotation: true });
    const own = new kms.Key(stack, 'OwnKey', { enableKeyRotation: true });
    const replicator = new CrossRegionParameterReplicator(stack, 'Parameters', {
      parameters: ParameterSelection.fromPaths(['/app/prod']),
      replicaRegions: [EU, AP],
      sourceEncryptionKeys: [shared],
      replicaKmsKeys: [{ region: EU, keyArn: EU_KEY }, { region: AP, aliasName: ALIAS }],
    });
    const check = new ConfigParityCheck(stack, 'Parity', {
      parameterReplicator: replicator, sourceEncryptionKeys: [own, shared], encryptionKeyArns: [EU_KEY],
    });
    const kmsStatements = statementsOf({ stack, role: check.role }).filter((s) => JSON.stringify(s.Action).includes('kms:'));
    expect(kmsStatements).toEqual([
      // The explicit source keys, through Parameter Store (parameters are compared; no secrets are).
      { Action: 'kms:Decrypt', Condition: { StringEquals: via(PRIMARY) }, Effect: 'Allow', Resource: [stack.resolve(own.keyArn), stack.resolve(shared.keyArn)] },
      // The inherited alias key; the inherited source key and eu-west-1 key are already granted.
      AP_STATEMENT,
      { Action: 'kms:Decrypt', Condition: { StringLike: { 'kms:ViaService': ['secretsmanager.*', 'ssm.*'] } }, Effect: 'Allow', Resource: EU_KEY },
    ]);
  });

  test('a key of the secrets and of the parameters is decrypted through Secrets Manager and Parameter Store; the secrets\' expected keys are unchanged', () => {
    const app = new App();
    const stack = new Stack(app, 'Keys', { env: { account: MOTO_ACCOUNT, region: PRIMARY } });
    const key = new kms.Key(stack, 'Key', { enableKeyRotation: true });
    const secrets = new CrossRegionSecretReplicator(stack, 'Secrets', {
      secrets: SecretSelection.byNamePrefix('prod/'),
      replicaRegions: [EU, AP],
      sourceEncryptionKeys: [key],
      replicaKmsKeys: [{ region: EU, aliasName: 'alias/secrets' }],
    });
    const parameters = new CrossRegionParameterReplicator(stack, 'Parameters', {
      parameters: ParameterSelection.fromPaths(['/app/prod']),
      replicaRegions: [EU, AP],
      sourceEncryptionKeys: [key],
      replicaKmsKeys: [{ region: EU, keyArn: EU_KEY }],
    });
    const check = new ConfigParityCheck(stack, 'Parity', { replicator: secrets, parameterReplicator: parameters });
    const template = Template.fromStack(stack);
    const env = Object.values(template.findResources('AWS::Lambda::Function'))
      .map((f: any) => f.Properties.Environment?.Variables ?? {}).find((v: any) => v[ParityEnv.TARGETS])!;
    expect(env[ParityEnv.TARGETS]).toBe(`[{"region":"${EU}","kmsKeyId":"alias/secrets"},{"region":"${AP}"}]`);
    const decrypts = statementsOf({ stack, role: check.role }).filter((s) => s.Action === 'kms:Decrypt');
    const source = decrypts.filter((s) => JSON.stringify(s.Resource) === JSON.stringify(stack.resolve(key.keyArn)));
    expect(source).toEqual([{
      Action: 'kms:Decrypt',
      Effect: 'Allow',
      Resource: stack.resolve(key.keyArn),
      Condition: { StringEquals: { 'kms:ViaService': [`secretsmanager.${PRIMARY}.amazonaws.com`, `ssm.${PRIMARY}.amazonaws.com`] } },
    }]);
    expect(decrypts).toContainEqual(EU_STATEMENT);
  });

  test('nothing is inherited when no parameters are compared', () => {
    const app = new App();
    const stack = new Stack(app, 'Keys', { env: { account: MOTO_ACCOUNT, region: PRIMARY } });
    const everything = new CrossRegionParameterReplicator(stack, 'Parameters', {
      parameters: ParameterSelection.fromPaths(['/']),
      replicaRegions: [EU],
      sourceEncryptionKeys: [new kms.Key(stack, 'Key', { enableKeyRotation: true })],
      replicaKmsKeys: [{ region: EU, keyArn: EU_KEY }],
    });
    // A replicator of every parameter leaves the paths to parameterPaths; without them only secrets are compared.
    const detector = new ConfigDriftDetector(stack, 'Detector', { parameterReplicator: everything, secrets: SecretSelection.byNamePrefix('prod/') });
    expect(statementsOf({ stack, role: detector.role }).filter((s) => JSON.stringify(s).includes('ssm.'))).toEqual([]);
    expect(detector.comparedParameterReplicator).toBe(everything);
  });

  test.each(READERS)('the %s has no cdk-nag AwsSolutions finding left unacknowledged', (reader) => {
    const b = build(reader, true);
    const report = new AwsSolutionsChecks().validateScope(b.app);
    const findings = report.violations.flatMap((v) => v.violatingResources
      .filter((r) => !r.constructPath?.startsWith('Keys/Parameters/') && !r.constructPath?.startsWith('Keys/ParameterKey'))
      .map((r) => `${v.ruleName} ${r.constructPath}`));
    expect(findings).toEqual([]);
  });
});

describe('CrossRegionConfigManagement', () => {
  function oneStop(driftDetection: boolean) {
    const stack = new Stack(new App(), 'OneStop', { env: { account: MOTO_ACCOUNT, region: PRIMARY } });
    const management = new CrossRegionConfigManagement(stack, 'Config', {
      environment: 'production',
      projectName: 'genai-demo',
      replicationRegions: [EU, AP],
      parameterReplication: { replicaKmsKeys: [{ region: EU, keyArn: EU_KEY }, { region: AP, aliasName: ALIAS }] },
      driftDetection: { enabled: driftDetection },
      configParity: true,
    });
    return { stack, management };
  }

  test('the drift detector and the parity check decrypt the replicated SecureStrings with the replica keys', () => {
    const { stack, management } = oneStop(true);
    for (const role of [management.driftDetector!.role, management.configParity!.role]) {
      const decrypts = statementsOf({ stack, role }).filter((s) => JSON.stringify(s.Condition ?? {}).includes('ssm.'));
      expect(decrypts).toEqual([EU_STATEMENT, AP_STATEMENT]);
    }
    expect(management.driftDetector!.comparedParameterReplicator).toBe(management.parameterReplicator);
  });

  test('without drift detection the parity check inherits the keys itself', () => {
    const { stack, management } = oneStop(false);
    const decrypts = statementsOf({ stack, role: management.configParity!.role }).filter((s) => JSON.stringify(s.Condition ?? {}).includes('ssm.'));
    expect(decrypts).toEqual([EU_STATEMENT, AP_STATEMENT]);
  });
});

describe('offline IAM evaluation', () => {
  const parameter = (region: string, name: string) => `arn:aws:ssm:${region}:${MOTO_ACCOUNT}:parameter${name}`;
  /** GetParameter and GetParameters WithDecryption of a SecureString encrypted with `key`, with the kms:Decrypt Parameter Store makes for them. */
  const readsOf = (region: string, key: RecordedKey, name = SECURE_STRING): Authorization[] => ['ssm:GetParameter', 'ssm:GetParameters']
    .flatMap((action) => authorizationsOf({ action, region, resource: parameter(region, name), kmsKey: key, principal: 'handler' } as RecordedCall));
  /** A kms request as Parameter Store (or `service`; `direct`: no service) makes it in `region`. */
  const kmsRequest = (describe: string, action: string, key: RecordedKey, region: string, service: 'ssm' | 'secretsmanager' | 'direct' = 'ssm') => negative(
    describe, action, key.arn, region, {
      other: {
        ...(service !== 'direct' ? { 'kms:ViaService': `${service}.${region}.amazonaws.com` } : {}),
        'kms:CallerAccount': MOTO_ACCOUNT,
        'kms:EncryptionContextKeys': ['PARAMETER_ARN'],
        'kms:ResourceAliases': key.aliases,
      },
    });

  test.each(READERS)('the %s may read the SecureStrings with the inherited keys, and only those, only through Parameter Store', async (reader) => {
    const b = build(reader, true);
    const template = b.app.synth().getStackByName(b.stack.stackName).template;
    const target = { template, roleLogicalId: b.stack.getLogicalId(b.role.node.defaultChild as CfnElement), region: PRIMARY };
    const sourceKey: RecordedKey = { arn: `arn:aws:kms:${PRIMARY}:${MOTO_ACCOUNT}:key/${b.stack.getLogicalId(b.sourceKey.node.defaultChild as CfnElement)}`, aliases: [] };
    const euKey: RecordedKey = { arn: EU_KEY, aliases: [] };
    const apKey: RecordedKey = { arn: AP_KEY, aliases: [ALIAS] };
    const positives = await evaluate(target, [...readsOf(PRIMARY, sourceKey), ...readsOf(EU, euKey), ...readsOf(AP, apKey)]);
    const aliasElsewhere = (region: string): RecordedKey => ({ arn: `arn:aws:kms:${region}:${MOTO_ACCOUNT}:key/abababab-0000-0000-0000-000000000000`, aliases: [ALIAS] });
    const negatives = await evaluate(target, [
      kmsRequest('another key in eu-west-1 through Parameter Store', 'kms:Decrypt', { arn: OTHER_EU_KEY, aliases: [] }, EU),
      kmsRequest('another key in ap-southeast-2 (another alias) through Parameter Store', 'kms:Decrypt', { arn: AP_KEY, aliases: ['alias/other'] }, AP),
      kmsRequest('a key carrying the alias in eu-west-1, whose key is named by ARN', 'kms:Decrypt', aliasElsewhere(EU), EU),
      kmsRequest('a key carrying the alias in us-west-2, whose replicas use aws/ssm', 'kms:Decrypt', aliasElsewhere(WEST), WEST),
      kmsRequest('a key carrying the alias in a region not compared', 'kms:Decrypt', aliasElsewhere(ELSEWHERE), ELSEWHERE),
      kmsRequest('the eu-west-1 key through Secrets Manager', 'kms:Decrypt', euKey, EU, 'secretsmanager'),
      kmsRequest('the ap-southeast-2 key through Secrets Manager', 'kms:Decrypt', apKey, AP, 'secretsmanager'),
      kmsRequest('the eu-west-1 key directly, not through a service', 'kms:Decrypt', euKey, EU, 'direct'),
      kmsRequest('the ap-southeast-2 key directly, not through a service', 'kms:Decrypt', apKey, AP, 'direct'),
      kmsRequest('the source key directly, not through a service', 'kms:Decrypt', sourceKey, PRIMARY, 'direct'),
      kmsRequest('the source key through Secrets Manager', 'kms:Decrypt', sourceKey, PRIMARY, 'secretsmanager'),
      // The source key is in the primary region: Parameter Store of another region never uses it on the reader's behalf.
      kmsRequest('the source key through Parameter Store of eu-west-1', 'kms:Decrypt', sourceKey, EU),
      // Decrypt only without auto-remediation; with it, the writes are tested in test/drift-detector/remediation-keys.test.ts.
      ...(reader === 'drift detector with auto-remediation' ? [] : [
        kmsRequest('encrypt with the eu-west-1 key', 'kms:Encrypt', euKey, EU),
        kmsRequest('a data key of the ap-southeast-2 key', 'kms:GenerateDataKey', apKey, AP),
      ]),
      negative('read a SecureString outside the replicator\'s paths', 'ssm:GetParameter', parameter(EU, '/app/staging/db/password'), EU),
    ]);
    console.log(formatSummary({
      role: reader,
      calls: 0,
      authorizations: positives.length,
      allowed: positives.filter((r) => r.allowed).length,
      denied: positives.filter((r) => !r.allowed).length,
      negatives: negatives.length,
      deniedAsExpected: negatives.filter((r) => !r.allowed).length,
      allowedNegatives: negatives.filter((r) => r.allowed).length,
      skippedAssumedRole: 0,
    }));
    expect([
      ...positives.filter((r) => !r.allowed).map((r) => `denied: ${r.describe}`),
      ...negatives.filter((r) => r.allowed).map((r) => `allowed: ${r.describe}`),
      ...[...positives, ...negatives].flatMap((r) => r.ignoredContextKeys.map((k) => `ignored context key ${k} of ${r.describe}`)),
    ]).toEqual([]);
    // Two reads in three regions, each with its kms:Decrypt.
    expect(positives.filter((r) => r.action === 'kms:Decrypt')).toHaveLength(6);
    expect(positives).toHaveLength(12);
  });

  test('a check given the same regions and paths without the replicator cannot decrypt the SecureStrings (the keys come from the link)', async () => {
    const b = build('parity check', true);
    const stack = b.stack;
    const unlinked = new ConfigParityCheck(stack, 'Unlinked', { regions: [EU, AP, WEST], parameterPaths: ['/app/prod'] });
    const template = b.app.synth().getStackByName(stack.stackName).template;
    const target = { template, roleLogicalId: stack.getLogicalId(unlinked.role.node.defaultChild as CfnElement), region: PRIMARY };
    const results = await evaluate(target, [...readsOf(EU, { arn: EU_KEY, aliases: [] }), ...readsOf(AP, { arn: AP_KEY, aliases: [ALIAS] })]);
    expect(results.filter((r) => r.action === 'kms:Decrypt').map((r) => r.allowed)).toEqual([false, false, false, false]);
    expect(results.filter((r) => r.action.startsWith('ssm:')).every((r) => r.allowed)).toBe(true);
  });
});

describe('invariants over random configurations', () => {
  /** mulberry32: a small seeded generator, so a failing configuration can be rebuilt from its seed. */
  function random(seed: number): () => number {
    /* eslint-disable no-bitwise -- the algorithm is defined in 32-bit integer arithmetic */
    let a = seed >>> 0;
    return () => {
      a = (a + 0x6d2b79f5) >>> 0;
      let t = a;
      t = Math.imul(t ^ (t >>> 15), t | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
    /* eslint-enable no-bitwise */
  }
  const REGIONS = [EU, AP, WEST, 'eu-central-1'];
  const CONFIGURATIONS = Number(process.env.KEYS_CONFIGURATIONS ?? 30);

  /**
   * For any replicator keys, explicit keys, compared regions and reader: every statement through
   * Parameter Store is kms:Decrypt only; each inherited customer replica key of a compared region
   * (not already given in encryptionKeyArns) is granted exactly once, in its region, by ARN or alias;
   * no other region and never alias/aws/ssm is named; each inherited source key is decryptable through
   * Parameter Store of the primary exactly once; no statement repeats.
   */
  function check(seed: number): string[] {
    const next = random(seed);
    const pick = <T>(items: T[]): T => items[Math.floor(next() * items.length)];
    const subset = <T>(items: T[]): T[] => items.filter(() => next() < 0.5);
    const app = new App();
    const stack = new Stack(app, 'Keys', { env: { account: MOTO_ACCOUNT, region: PRIMARY } });
    const keys = [0, 1, 2].map((i) => new kms.Key(stack, `Key${i}`, { enableKeyRotation: true }));
    const replicaRegions = subset(REGIONS);
    if (replicaRegions.length === 0) replicaRegions.push(pick(REGIONS));
    const replicaKmsKeys = replicaRegions.flatMap((region, i): ReplicaKmsKey[] => {
      const kind = pick(['none', 'arn', 'alias', 'managed']);
      if (kind === 'arn') return [{ region, keyArn: `arn:aws:kms:${region}:${MOTO_ACCOUNT}:key/${String(i).padStart(8, '0')}-0000-0000-0000-000000000000` }];
      if (kind === 'alias') return [{ region, aliasName: pick(['alias/parameters', 'alias/other']) }];
      return kind === 'managed' ? [{ region, aliasName: 'alias/aws/ssm' }] : [];
    });
    const replicator = new CrossRegionParameterReplicator(stack, 'Parameters', {
      parameters: ParameterSelection.fromPaths(['/app/prod']), replicaRegions, replicaKmsKeys, sourceEncryptionKeys: subset(keys),
    });
    const narrowed = next() < 0.5 ? subset(replicaRegions) : [];
    const compared = narrowed.length > 0 ? narrowed : replicaRegions;
    const sourceEncryptionKeys = next() < 0.5 ? subset(keys) : undefined;
    const encryptionKeyArns = next() < 0.5 ? subset(replicaKmsKeys.flatMap((k) => (k.keyArn ? [k.keyArn] : []))) : undefined;
    const explicit = { sourceEncryptionKeys, encryptionKeyArns };
    const reader = pick(['parity check', 'drift detector', 'parity check of a drift detector']);
    const role = reader === 'parity check'
      ? new ConfigParityCheck(stack, 'Reader', { parameterReplicator: replicator, regions: narrowed.length ? narrowed : undefined, ...explicit }).role
      : reader === 'drift detector'
        ? new ConfigDriftDetector(stack, 'Reader', { parameterReplicator: replicator, replicaRegions: narrowed.length ? narrowed : undefined, ...explicit }).role
        : new ConfigParityCheck(stack, 'Reader', {
          driftDetector: new ConfigDriftDetector(stack, 'Detector', { parameterReplicator: replicator, replicaRegions: narrowed.length ? narrowed : undefined }),
          ...explicit,
        }).role;

    const statements = statementsOf({ stack, role });
    const viaOf = (s: any): string[] => [s.Condition?.StringEquals?.['kms:ViaService'] ?? []].flat();
    const throughSsm = statements.filter((s) => viaOf(s).some((v) => v.startsWith('ssm.')));
    const violations: string[] = [];
    const fail = (what: string) => violations.push(`seed ${seed} (${reader}): ${what}`);
    for (const s of throughSsm) if (s.Action !== 'kms:Decrypt') fail(`not decrypt-only: ${JSON.stringify(s)}`);
    for (const s of throughSsm) {
      const regions = viaOf(s).map((v) => v.split('.')[1]);
      for (const region of regions) if (region !== PRIMARY && !compared.includes(region)) fail(`a region not compared: ${JSON.stringify(s)}`);
      if (JSON.stringify(s).includes('alias/aws/ssm')) fail(`aws/ssm named: ${JSON.stringify(s)}`);
    }
    for (const key of replicaKmsKeys) {
      const expected = compared.includes(key.region) && key.aliasName !== 'alias/aws/ssm' && !(key.keyArn && encryptionKeyArns?.includes(key.keyArn));
      const grants = throughSsm.filter((s) => (key.keyArn
        ? s.Resource === key.keyArn
        : JSON.stringify(s.Resource).includes(`:kms:${key.region}:${MOTO_ACCOUNT}:key/*`) && s.Condition?.['ForAnyValue:StringEquals']?.['kms:ResourceAliases'] === key.aliasName)
        && viaOf(s).includes(`ssm.${key.region}.amazonaws.com`));
      if (grants.length !== (expected ? 1 : 0)) fail(`${JSON.stringify(key)} granted ${grants.length} times, expected ${expected ? 1 : 0}`);
    }
    for (const key of replicator.sourceEncryptionKeys) {
      const arn = JSON.stringify(stack.resolve(key.keyArn));
      const grants = throughSsm.filter((s) => [s.Resource].flat().some((r: any) => JSON.stringify(r) === arn) && viaOf(s).includes(`ssm.${PRIMARY}.amazonaws.com`));
      if (grants.length !== 1) fail(`source key ${arn} decryptable through Parameter Store by ${grants.length} statements`);
    }
    const seen = new Set<string>();
    for (const s of statements) {
      const k = JSON.stringify(s);
      if (seen.has(k)) fail(`repeated statement ${k}`);
      seen.add(k);
    }
    return violations;
  }

  test(`hold for ${CONFIGURATIONS} seeded configurations`, () => {
    const base = Number(process.env.KEYS_SEED ?? 20261207);
    const violations = Array.from({ length: CONFIGURATIONS }, (_, i) => check(base + i)).flat();
    // Each line names the seed that rebuilds its configuration: KEYS_SEED=<seed> KEYS_CONFIGURATIONS=1.
    expect(violations).toEqual([]);
  });
});
