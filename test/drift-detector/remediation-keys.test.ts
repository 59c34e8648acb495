/**
 * Auto-remediation writes a drifted SecureString replica with its region's KMS key: the key of
 * `parameterReplicaKmsKeys`, or the linked parameter replicator's `replicaKmsKeys` (`alias/aws/ssm`
 * where it names none). The construct passes the keys to the handler (`PARAMETER_REPLICA_KEYS`) when
 * auto-remediation is on, and with `DriftRemediation.APPLY` only lets the handler encrypt with the
 * customer managed keys (`kms:Encrypt`, `kms:GenerateDataKey`) through Parameter Store in the key's
 * region. Checked as exact statements and by offline IAM evaluation of the synthesized role
 * (test/harness/iam-evaluation.ts).
 */
import { App, CfnElement, Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import {
  ConfigDriftDetector, ConfigDriftDetectorProps, CrossRegionConfigManagement, CrossRegionParameterReplicator, DriftRemediation, ParameterSelection,
  ReplicaKmsKey, SecretSelection,
} from '../../src';
import { DriftEnv } from '../../src/drift-detector/contract';
import { at } from '../core/messages';
import { Authorization, authorizationsOf, evaluate, negative, scenario } from '../harness/iam-evaluation';
import { MOTO_ACCOUNT, RecordedCall, RecordedKey } from '../harness/iam-recorder';

const PRIMARY = 'us-east-1';
const EU = 'eu-west-1';
const AP = 'ap-southeast-2';
const WEST = 'us-west-2';
const ELSEWHERE = 'ca-central-1';
const EU_KEY = `arn:aws:kms:${EU}:${MOTO_ACCOUNT}:key/11111111-2222-3333-4444-555555555555`;
const AP_KEY = `arn:aws:kms:${AP}:${MOTO_ACCOUNT}:key/66666666-7777-8888-9999-000000000000`;
const OTHER_EU_KEY = `arn:aws:kms:${EU}:${MOTO_ACCOUNT}:key/99999999-0000-0000-0000-000000000000`;
const ALIAS = 'alias/parameters';
const SECURE_STRING = '/app/prod/db/password';
const REGIONS = [EU, AP, WEST];
const REPLICA_KEYS: ReplicaKmsKey[] = [{ region: EU, keyArn: EU_KEY }, { region: AP, aliasName: ALIAS }];
const WRITE_ACTIONS = ['kms:Encrypt', 'kms:GenerateDataKey'];

interface Built {
  readonly app: App;
  readonly stack: Stack;
  readonly detector: ConfigDriftDetector;
}

/** A detector of `/app/prod` in three regions; `linked`: through a parameter replicator with `REPLICA_KEYS`. */
function build(linked: boolean, props: Partial<ConfigDriftDetectorProps> = {}): Built {
  const app = new App();
  const stack = new Stack(app, 'Keys', { env: { account: MOTO_ACCOUNT, region: PRIMARY } });
  const parameterReplicator = linked ? new CrossRegionParameterReplicator(stack, 'Parameters', {
    parameters: ParameterSelection.fromPaths(['/app/prod']), replicaRegions: REGIONS, replicaKmsKeys: REPLICA_KEYS,
  }) : undefined;
  const detector = new ConfigDriftDetector(stack, 'Detector', {
    ...(parameterReplicator ? { parameterReplicator } : { replicaRegions: REGIONS, parameterPaths: ['/app/prod'] }),
    ...props,
  });
  return { app, stack, detector };
}

function environmentOf(b: Built): Record<string, string> {
  const fn = Template.fromStack(b.stack).findResources('AWS::Lambda::Function');
  const id = b.stack.getLogicalId(b.detector.handler.node.defaultChild as CfnElement);
  return fn[id].Properties.Environment.Variables;
}

function keysOf(b: Built): unknown {
  const value = environmentOf(b)[DriftEnv.PARAMETER_REPLICA_KEYS];
  return value === undefined ? undefined : JSON.parse(value);
}

function statementsOf(b: Built, role: iam.Role = b.detector.role): any[] {
  const template = Template.fromStack(b.stack).toJSON();
  const roleId = b.stack.getLogicalId(role.node.defaultChild as CfnElement);
  return Object.values(template.Resources as Record<string, any>)
    .filter((r) => r.Type === 'AWS::IAM::Policy' && r.Properties.Roles.some((x: any) => x.Ref === roleId))
    .flatMap((r) => r.Properties.PolicyDocument.Statement);
}

const via = (region: string) => ({ 'kms:ViaService': `ssm.${region}.amazonaws.com` });
const byArn = (action: string | string[], arn: string, region: string) => ({ Action: action, Condition: { StringEquals: via(region) }, Effect: 'Allow', Resource: arn });
const byAlias = (action: string | string[], region: string) => ({
  Action: action,
  Condition: { 'ForAnyValue:StringEquals': { 'kms:ResourceAliases': ALIAS }, 'StringEquals': via(region) },
  Effect: 'Allow',
  Resource: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, `:kms:${region}:${MOTO_ACCOUNT}:key/*`]] },
});
/** Statements that let the role encrypt through Parameter Store (any region). */
const ssmWrites = (statements: any[]) => statements.filter((s) => [s.Action].flat().some((a: string) => WRITE_ACTIONS.includes(a))
  && JSON.stringify(s.Condition ?? {}).includes('"ssm.'));

describe('the handler is told the key of the SecureString replicas in each compared region', () => {
  test.each([DriftRemediation.APPLY, DriftRemediation.DRY_RUN, DriftRemediation.OFF])('inherited from the parameter replicator with %s; aws/ssm where it names none', (mode) => {
    expect(keysOf(build(true, { autoRemediation: mode }))).toEqual([
      { region: EU, kmsKeyId: EU_KEY }, { region: AP, kmsKeyId: ALIAS }, { region: WEST, kmsKeyId: 'alias/aws/ssm' },
    ]);
  });

  test('given explicitly also without auto-remediation (the report\'s commands name the key)', () => {
    expect(keysOf(build(false, { parameterReplicaKmsKeys: REPLICA_KEYS }))).toEqual([
      { region: EU, kmsKeyId: EU_KEY }, { region: AP, kmsKeyId: ALIAS }, { region: WEST, kmsKeyId: 'alias/aws/ssm' },
    ]);
  });

  test('without a parameter replicator or parameterReplicaKmsKeys: aws/ssm where encryptionKeyArns names no key, unknown where it does', () => {
    // The handler can decrypt nothing but aws/ssm there through Parameter Store, so what it reads and repairs is under aws/ssm.
    expect(keysOf(build(false, { autoRemediation: DriftRemediation.APPLY }))).toEqual(REGIONS.map((region) => ({ region, kmsKeyId: 'alias/aws/ssm' })));
    expect(keysOf(build(false, { autoRemediation: DriftRemediation.APPLY, encryptionKeyArns: [AP_KEY] })))
      .toEqual(REGIONS.filter((r) => r !== AP).map((region) => ({ region, kmsKeyId: 'alias/aws/ssm' })));
    expect(keysOf(build(false, { autoRemediation: DriftRemediation.APPLY, encryptionKeyArns: REGIONS.map((r) => AP_KEY.replace(`:${AP}:`, `:${r}:`)) })))
      .toBeUndefined();
  });

  test('parameterReplicaKmsKeys, given, wins over the parameter replicator\'s keys; an empty list means aws/ssm everywhere', () => {
    expect(keysOf(build(true, { autoRemediation: DriftRemediation.APPLY, parameterReplicaKmsKeys: [{ region: AP, keyArn: AP_KEY }] }))).toEqual([
      { region: EU, kmsKeyId: 'alias/aws/ssm' }, { region: AP, kmsKeyId: AP_KEY }, { region: WEST, kmsKeyId: 'alias/aws/ssm' },
    ]);
    expect(keysOf(build(false, { autoRemediation: DriftRemediation.APPLY, parameterReplicaKmsKeys: [] }))).toEqual(
      REGIONS.map((region) => ({ region, kmsKeyId: 'alias/aws/ssm' })));
  });

  test('the inherited keys follow the regions compared', () => {
    expect(keysOf(build(true, { autoRemediation: DriftRemediation.APPLY, replicaRegions: [AP] }))).toEqual([{ region: AP, kmsKeyId: ALIAS }]);
  });

  test('parameterReplicaKmsKeys without compared parameters is ignored with a warning', () => {
    const stack = new Stack(new App(), 'Keys', { env: { account: MOTO_ACCOUNT, region: PRIMARY } });
    new ConfigDriftDetector(stack, 'Detector', {
      replicaRegions: REGIONS, secrets: SecretSelection.fromNames('app/db'), parameterReplicaKmsKeys: REPLICA_KEYS, autoRemediation: DriftRemediation.APPLY,
    });
    expect(Annotations.fromStack(stack).findWarning('*', Match.stringLikeRegexp('parameterReplicaKmsKeys are ignored because no parameters are compared'))).toHaveLength(1);
  });
});

describe('fails if parameterReplicaKmsKeys', () => {
  test.each<[string, ReplicaKmsKey[], string]>([
    ['names a region not compared', [{ region: ELSEWHERE, keyArn: `arn:aws:kms:${ELSEWHERE}:${MOTO_ACCOUNT}:key/abc` }],
      `parameterReplicaKmsKeys[0].region must be one of replicaRegions ["${EU}","${AP}","${WEST}"], but got "${ELSEWHERE}"`],
    ['sets both forms', [{ region: EU, keyArn: EU_KEY, aliasName: ALIAS }],
      `parameterReplicaKmsKeys[0] must set exactly one of keyArn and aliasName, but got {"region":"${EU}","keyArn":"${EU_KEY}","aliasName":"${ALIAS}"}`],
    ['names a key of another region', [{ region: AP, keyArn: EU_KEY }],
      `parameterReplicaKmsKeys[0].keyArn must be the ARN of a KMS key in ${AP} such as "arn:aws:kms:${AP}:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab", but got "${EU_KEY}"`],
    ['names the Secrets Manager managed key', [{ region: EU, aliasName: 'alias/aws/secretsmanager' }],
      'parameterReplicaKmsKeys[0].aliasName must be a customer managed key alias or "alias/aws/ssm", but got "alias/aws/secretsmanager"'],
    ['names a region twice', [{ region: EU, keyArn: EU_KEY }, { region: EU, aliasName: ALIAS }],
      `parameterReplicaKmsKeys must not name a region twice, but got ["${EU}","${EU}"]`],
  ])('%s', (_name, keys, message) => {
    expect(() => build(false, { parameterReplicaKmsKeys: keys })).toThrow(at('Keys/Detector', message));
  });
});

describe('IAM', () => {
  test('APPLY gains exactly kms:Encrypt and kms:GenerateDataKey with the inherited customer keys, each through Parameter Store in its region', () => {
    const writes = ssmWrites(statementsOf(build(true, { autoRemediation: DriftRemediation.APPLY })));
    // Nothing for us-west-2: aws/ssm's key policy allows the account through Parameter Store.
    expect(writes).toEqual([byArn(WRITE_ACTIONS, EU_KEY, EU), byAlias(WRITE_ACTIONS, AP)]);
  });

  test.each([DriftRemediation.DRY_RUN, DriftRemediation.OFF])('%s gains no write to a key', (mode) => {
    expect(ssmWrites(statementsOf(build(true, { autoRemediation: mode })))).toEqual([]);
    expect(ssmWrites(statementsOf(build(false, { autoRemediation: mode, parameterReplicaKmsKeys: REPLICA_KEYS })))).toEqual([]);
  });

  test('explicit keys are decrypted with through Parameter Store in their region (and, with APPLY, encrypted with), each once', () => {
    const reporting = statementsOf(build(false, { parameterReplicaKmsKeys: REPLICA_KEYS }));
    expect(reporting.filter((s) => JSON.stringify(s).includes('kms:'))).toEqual([byArn('kms:Decrypt', EU_KEY, EU), byAlias('kms:Decrypt', AP)]);
    const repairing = statementsOf(build(true, { autoRemediation: DriftRemediation.APPLY, parameterReplicaKmsKeys: REPLICA_KEYS }));
    expect(repairing.filter((s) => JSON.stringify(s).includes('kms:'))).toEqual([
      byArn('kms:Decrypt', EU_KEY, EU), byAlias('kms:Decrypt', AP), byArn(WRITE_ACTIONS, EU_KEY, EU), byAlias(WRITE_ACTIONS, AP),
    ]);
  });

  test('a key already in encryptionKeyArns is not granted again', () => {
    const statements = statementsOf(build(true, { autoRemediation: DriftRemediation.APPLY, encryptionKeyArns: [EU_KEY] }));
    // The eu-west-1 key only in the encryptionKeyArns statement (through Secrets Manager and Parameter Store of any region).
    expect(ssmWrites(statements)).toEqual([{
      Action: ['kms:Decrypt', ...WRITE_ACTIONS],
      Condition: { StringLike: { 'kms:ViaService': ['secretsmanager.*', 'ssm.*'] } },
      Effect: 'Allow',
      Resource: EU_KEY,
    }, byAlias(WRITE_ACTIONS, AP)]);
  });

  test('without known keys APPLY gains no key', () => {
    expect(ssmWrites(statementsOf(build(false, { autoRemediation: DriftRemediation.APPLY })))).toEqual([]);
  });

  describe('offline evaluation of the synthesized role', () => {
    const parameter = (region: string, name = SECURE_STRING) => `arn:aws:ssm:${region}:${MOTO_ACCOUNT}:parameter${name}`;
    const context = (region: string, key: RecordedKey, service: 'ssm' | 'secretsmanager' | 'direct' = 'ssm') => ({
      other: {
        ...(service !== 'direct' ? { 'kms:ViaService': `${service}.${region}.amazonaws.com` } : {}),
        'kms:CallerAccount': MOTO_ACCOUNT,
        'kms:EncryptionContextKeys': ['PARAMETER_ARN'],
        'kms:ResourceAliases': key.aliases,
      },
    });
    /** PutParameter of a SecureString under `key`: Parameter Store's kms:Encrypt (Standard) and kms:GenerateDataKey (Advanced values). */
    const putsOf = (region: string, key: RecordedKey): Authorization[] => [
      ...authorizationsOf({ action: 'ssm:PutParameter', region, resource: parameter(region), kmsKey: key, principal: 'handler' } as RecordedCall),
      { ...scenario(`kms:GenerateDataKey on ${key.arn} by ssm for an Advanced value in ${region}`, 'kms:GenerateDataKey', key.arn, region, context(region, key)), kmsKey: key },
    ];
    const euKey: RecordedKey = { arn: EU_KEY, aliases: [] };
    const apKey: RecordedKey = { arn: AP_KEY, aliases: [ALIAS] };
    const request = (what: string, action: string, key: RecordedKey, region: string, service?: 'ssm' | 'secretsmanager' | 'direct') =>
      negative(what, action, key.arn, region, context(region, key, service));
    const aliasIn = (region: string): RecordedKey => ({ arn: `arn:aws:kms:${region}:${MOTO_ACCOUNT}:key/abababab-0000-0000-0000-000000000000`, aliases: [ALIAS] });
    const writeNegatives = [
      request('encrypt with another key in eu-west-1', 'kms:Encrypt', { arn: OTHER_EU_KEY, aliases: [] }, EU),
      request('a data key of a key with another alias in ap-southeast-2', 'kms:GenerateDataKey', { arn: AP_KEY, aliases: ['alias/other'] }, AP),
      request('encrypt with a key carrying the alias in eu-west-1, whose key is named by ARN', 'kms:Encrypt', aliasIn(EU), EU),
      request('encrypt with a key carrying the alias in us-west-2, whose replicas use aws/ssm', 'kms:Encrypt', aliasIn(WEST), WEST),
      request('encrypt with a key carrying the alias in a region not compared', 'kms:Encrypt', aliasIn(ELSEWHERE), ELSEWHERE),
      request('encrypt with the eu-west-1 key through Secrets Manager', 'kms:Encrypt', euKey, EU, 'secretsmanager'),
      request('a data key of the ap-southeast-2 key directly, not through a service', 'kms:GenerateDataKey', apKey, AP, 'direct'),
      request('encrypt with the eu-west-1 key directly', 'kms:Encrypt', euKey, EU, 'direct'),
      request('the eu-west-1 key through Parameter Store of ap-southeast-2', 'kms:Encrypt', euKey, AP),
      negative('write a parameter outside the compared paths', 'ssm:PutParameter', parameter(EU, '/app/staging/db/password'), EU),
      negative('write a parameter in the primary region', 'ssm:PutParameter', parameter(PRIMARY), PRIMARY),
    ];

    async function evaluated(b: Built, authorizations: Authorization[]) {
      const template = b.app.synth().getStackByName(b.stack.stackName).template;
      const roleLogicalId = b.stack.getLogicalId(b.detector.role.node.defaultChild as CfnElement);
      return evaluate({ template, roleLogicalId, region: PRIMARY }, authorizations);
    }
    const problems = (positives: Awaited<ReturnType<typeof evaluate>>, negatives: Awaited<ReturnType<typeof evaluate>>) => [
      ...positives.filter((r) => !r.allowed).map((r) => `denied: ${r.describe}`),
      ...negatives.filter((r) => r.allowed).map((r) => `allowed: ${r.describe}`),
      ...[...positives, ...negatives].flatMap((r) => r.ignoredContextKeys.map((k) => `ignored context key ${k} of ${r.describe}`)),
    ];

    test('APPLY may write SecureString replicas with their region\'s key, and only that key, only through Parameter Store', async () => {
      const b = build(true, { autoRemediation: DriftRemediation.APPLY });
      const positiveRequests = [...putsOf(EU, euKey), ...putsOf(AP, apKey)];
      const results = await evaluated(b, [...positiveRequests, ...writeNegatives]);
      const positives = results.slice(0, positiveRequests.length);
      const negatives = results.slice(positiveRequests.length);
      expect(problems(positives, negatives)).toEqual([]);
      // PutParameter, kms:Encrypt and kms:GenerateDataKey in two regions.
      expect(positives.map((r) => r.action)).toEqual(['ssm:PutParameter', 'kms:Encrypt', 'kms:GenerateDataKey', 'ssm:PutParameter', 'kms:Encrypt', 'kms:GenerateDataKey']);
      expect(negatives).toHaveLength(writeNegatives.length);
    });

    test.each([DriftRemediation.DRY_RUN, DriftRemediation.OFF])('%s may not encrypt with the replica keys', async (mode) => {
      const b = build(true, { autoRemediation: mode });
      const kmsWrites = [...putsOf(EU, euKey), ...putsOf(AP, apKey)].filter((r) => r.action.startsWith('kms:'));
      const results = await evaluated(b, kmsWrites);
      expect(results.map((r) => `${r.allowed}`)).toEqual(['false', 'false', 'false', 'false']);
    });
  });
});

describe('CrossRegionConfigManagement', () => {
  function oneStop(parameterReplication: boolean, autoRemediation?: DriftRemediation) {
    const app = new App();
    const stack = new Stack(app, 'OneStop', { env: { account: MOTO_ACCOUNT, region: PRIMARY } });
    const management = new CrossRegionConfigManagement(stack, 'Config', {
      projectName: 'app',
      environment: 'prod',
      replicationRegions: [EU, AP],
      ...(parameterReplication ? { parameterReplication: { replicaKmsKeys: REPLICA_KEYS } } : {}),
      driftDetection: { autoRemediation },
    });
    return { app, stack, detector: management.driftDetector!, management };
  }

  test('its drift detector writes the replicated SecureStrings with the parameter replicator\'s keys', () => {
    const b = oneStop(true, DriftRemediation.APPLY);
    expect(keysOf(b)).toEqual([{ region: EU, kmsKeyId: EU_KEY }, { region: AP, kmsKeyId: ALIAS }]);
    expect(ssmWrites(statementsOf(b))).toEqual([byArn(WRITE_ACTIONS, EU_KEY, EU), byAlias(WRITE_ACTIONS, AP)]);
  });

  const replicationDocument = (stack: Stack) => {
    const documents = Object.values(Template.fromStack(stack).findResources('AWS::SSM::Parameter', {
      Properties: { Name: Match.stringLikeRegexp('parameter-replication-config$') },
    }));
    expect(documents).toHaveLength(1);
    return JSON.parse(documents[0].Properties.Value);
  };

  test('the parameter replicator\'s settings document says its parameters are compared for drift', () => {
    expect(replicationDocument(oneStop(true).stack)).toMatchObject({ driftDetectionEnabled: true });
  });

  test('without drift detection the parameter replicator\'s document says so', () => {
    const stack = new Stack(new App(), 'OneStop', { env: { account: MOTO_ACCOUNT, region: PRIMARY } });
    new CrossRegionConfigManagement(stack, 'Config', {
      projectName: 'app', environment: 'prod', replicationRegions: [EU], parameterReplication: {}, driftDetection: { enabled: false },
    });
    expect(replicationDocument(stack)).toMatchObject({ driftDetectionEnabled: false });
  });

  test('without parameter replication nothing changes: no keys, no key grants', () => {
    const b = oneStop(false, DriftRemediation.APPLY);
    expect(keysOf(b)).toBeUndefined();
    expect(ssmWrites(statementsOf(b))).toEqual([]);
    expect(Annotations.fromStack(b.stack).findWarning('*', Match.stringLikeRegexp('parameterReplicaKmsKeys'))).toEqual([]);
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
  const ALL_REGIONS = [EU, AP, WEST, 'eu-central-1'];
  const CONFIGURATIONS = Number(process.env.REMEDIATION_KEYS_CONFIGURATIONS ?? 40);

  /**
   * For any mix of a linked parameter replicator (keys by ARN, alias, aws/ssm or none per region),
   * explicit parameterReplicaKmsKeys, narrowed regions, encryptionKeyArns and remediation mode:
   * the handler is told exactly one key per compared region (explicit, else the replicator's, else
   * aws/ssm; nothing when neither is given); kms:Encrypt/GenerateDataKey through Parameter Store
   * exist only with APPLY, once per customer key of a compared region (not already in
   * encryptionKeyArns), in that key's region, never for aws/ssm; every customer key the detector
   * reads or writes with is decryptable through Parameter Store of its region exactly once; no
   * statement repeats.
   */
  function check(seed: number): string[] {
    const next = random(seed);
    const pick = <T>(items: T[]): T => items[Math.floor(next() * items.length)];
    const subset = <T>(items: T[]): T[] => items.filter(() => next() < 0.5);
    const keyFor = (region: string, i: number, salt: string): ReplicaKmsKey[] => {
      const kind = pick(['none', 'arn', 'alias', 'managed']);
      if (kind === 'arn') return [{ region, keyArn: `arn:aws:kms:${region}:${MOTO_ACCOUNT}:key/${salt}${String(i).padStart(7, '0')}-0000-0000-0000-000000000000` }];
      if (kind === 'alias') return [{ region, aliasName: pick(['alias/parameters', 'alias/other']) }];
      return kind === 'managed' ? [{ region, aliasName: 'alias/aws/ssm' }] : [];
    };
    const app = new App();
    const stack = new Stack(app, 'Keys', { env: { account: MOTO_ACCOUNT, region: PRIMARY } });
    const replicaRegions = subset(ALL_REGIONS);
    if (replicaRegions.length === 0) replicaRegions.push(pick(ALL_REGIONS));
    const replicatorKeys = replicaRegions.flatMap((region, i) => keyFor(region, i, 'a'));
    const linked = next() < 0.6;
    const replicator = linked ? new CrossRegionParameterReplicator(stack, 'Parameters', {
      parameters: ParameterSelection.fromPaths(['/app/prod']), replicaRegions, replicaKmsKeys: replicatorKeys,
    }) : undefined;
    const narrowed = next() < 0.4 ? subset(replicaRegions) : [];
    const compared = narrowed.length > 0 ? narrowed : replicaRegions;
    const explicit = next() < 0.5 ? compared.flatMap((region, i) => keyFor(region, i, 'b')) : undefined;
    const allArns = [...replicatorKeys, ...(explicit ?? [])].flatMap((k) => (k.keyArn ? [k.keyArn] : []));
    const encryptionKeyArns = next() < 0.4 ? subset(allArns) : undefined;
    const mode = pick([DriftRemediation.APPLY, DriftRemediation.DRY_RUN, DriftRemediation.OFF]);
    const detector = new ConfigDriftDetector(stack, 'Detector', {
      ...(replicator ? { parameterReplicator: replicator } : { parameterPaths: ['/app/prod'] }),
      replicaRegions: replicator && narrowed.length === 0 ? undefined : compared,
      parameterReplicaKmsKeys: explicit,
      encryptionKeyArns,
      autoRemediation: mode,
    });
    const b: Built = { app, stack, detector };
    const violations: string[] = [];
    const fail = (what: string) => violations.push(`seed ${seed} (${mode}, ${linked ? 'linked' : 'unlinked'}, ${explicit ? 'explicit' : 'inherited'}): ${what}`);

    const source = explicit ?? (linked ? replicatorKeys : undefined);
    // Without keys declared: aws/ssm in each region where encryptionKeyArns names no key (nothing else is
    // readable there through Parameter Store), unknown (left out) where it names one.
    const customerRegions = new Set((encryptionKeyArns ?? []).map((arn) => arn.split(':')[3]));
    const managedOnly = compared.filter((region) => !customerRegions.has(region));
    const expectedKeys = source
      ? compared.map((region) => source.find((k) => k.region === region) ?? { region, aliasName: 'alias/aws/ssm' })
      : managedOnly.length > 0 ? managedOnly.map((region): ReplicaKmsKey => ({ region, aliasName: 'alias/aws/ssm' })) : undefined;
    const told = keysOf(b);
    const expectedTold = expectedKeys?.map((k) => ({ region: k.region, kmsKeyId: k.keyArn ?? k.aliasName }));
    if (JSON.stringify(told) !== JSON.stringify(expectedTold)) fail(`told ${JSON.stringify(told)}, expected ${JSON.stringify(expectedTold)}`);

    const statements = statementsOf(b);
    const throughSsm = statements.filter((s) => [s.Condition?.StringEquals?.['kms:ViaService'] ?? []].flat().some((v: string) => v.startsWith('ssm.')));
    const regionOf = (s: any) => String(s.Condition.StringEquals['kms:ViaService']).split('.')[1];
    const names = (s: any, key: ReplicaKmsKey) => (key.keyArn
      ? s.Resource === key.keyArn
      : JSON.stringify(s.Resource).includes(`:kms:${key.region}:${MOTO_ACCOUNT}:key/*`) && s.Condition?.['ForAnyValue:StringEquals']?.['kms:ResourceAliases'] === key.aliasName)
      && regionOf(s) === key.region;
    const customer = (k: ReplicaKmsKey) => k.aliasName !== 'alias/aws/ssm' && !(k.keyArn && encryptionKeyArns?.includes(k.keyArn));
    const writes = throughSsm.filter((s) => JSON.stringify(s.Action) === JSON.stringify(WRITE_ACTIONS));
    const expectedWrites = mode === DriftRemediation.APPLY ? (expectedKeys ?? []).filter(customer) : [];
    for (const key of expectedWrites) {
      const n = writes.filter((s) => names(s, key)).length;
      if (n !== 1) fail(`${JSON.stringify(key)} writable by ${n} statements, expected 1`);
    }
    if (writes.length !== expectedWrites.length) fail(`${writes.length} write statements, expected ${expectedWrites.length}: ${JSON.stringify(writes)}`);
    for (const s of throughSsm) {
      if (JSON.stringify(s).includes('alias/aws/ssm')) fail(`aws/ssm named: ${JSON.stringify(s)}`);
      if (regionOf(s) !== PRIMARY && !compared.includes(regionOf(s))) fail(`a region not compared: ${JSON.stringify(s)}`);
      if ([s.Action].flat().some((a: string) => WRITE_ACTIONS.includes(a)) && mode !== DriftRemediation.APPLY) fail(`a write without APPLY: ${JSON.stringify(s)}`);
    }
    const read = [...(explicit ?? []), ...(linked ? replicatorKeys : [])].filter((k) => compared.includes(k.region) && customer(k));
    const seenKeys = new Set<string>();
    for (const key of read) {
      const id = JSON.stringify(key);
      if (seenKeys.has(id)) continue;
      seenKeys.add(id);
      const n = throughSsm.filter((s) => s.Action === 'kms:Decrypt' && names(s, key)).length;
      if (n !== 1) fail(`${id} decryptable by ${n} statements, expected 1`);
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
    const base = Number(process.env.REMEDIATION_KEYS_SEED ?? 20261207);
    // Each line names the seed that rebuilds its configuration: REMEDIATION_KEYS_SEED=<seed> REMEDIATION_KEYS_CONFIGURATIONS=1.
    const violations = Array.from({ length: CONFIGURATIONS }, (_, i) => check(base + i)).flat();
    expect(violations).toEqual([]);
  });
});

test('warns when a deploy-time key ARN leaves the SecureString replicas\' keys unknown in every region', () => {
  const app = new App();
  const stack = new Stack(app, 'Tokens', { env: { account: MOTO_ACCOUNT, region: PRIMARY } });
  const key = new kms.Key(stack, 'Key');
  new ConfigDriftDetector(stack, 'Detector', {
    replicaRegions: [EU], parameterPaths: ['/app/prod'], encryptionKeyArns: [key.keyArn], autoRemediation: DriftRemediation.APPLY,
  });
  Annotations.fromStack(stack).hasWarning('/Tokens/Detector', Match.stringLikeRegexp('only known at deployment.*Give parameterReplicaKmsKeys'));
});
