import { createHash } from 'node:crypto';
import { isSameSecret, parseInvocation } from '../../lambda-src/configmap-syncer/events';
import { readSettings } from '../../lambda-src/configmap-syncer/handler';
import {
  checkDataSize, contentHash, dataBytes, isConfigMapKey, keyMatcher, MAX_DATA_BYTES, selectData,
} from '../../lambda-src/configmap-syncer/selection';
import { parameterKey, secretKeys } from '../../lambda-src/configmap-syncer/source';
import { SyncEnv } from '../../src/configmap-syncer/contract';

const ARN = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:app/prod/config-AbC123';
const PATH = '/app/prod/config';
const TARGET = { cluster: { name: 'blue', region: 'us-east-1' }, namespace: 'apps', configMapName: 'app-config', createNamespace: false };

describe('source keys', () => {
  test('a parameter\'s key is its name below the path with "/" as "."', () => {
    expect(parameterKey(PATH, '/app/prod/config/db/pool')).toBe('db.pool');
    expect(parameterKey(`${PATH}/`, '/app/prod/config/log_level')).toBe('log_level');
    expect(parameterKey(PATH, '/app/prod/config/a/b/c.d')).toBe('a.b.c.d');
    expect(parameterKey('/', '/top/level')).toBe('top.level');
    expect(parameterKey(PATH, '/app/prod/configuration/x')).toBeUndefined();
    expect(parameterKey(PATH, PATH)).toBeUndefined();
  });

  test('a secret\'s scalar keys are kept as text; objects, arrays and null are skipped by name', () => {
    expect(secretKeys(JSON.stringify({ s: 'text', n: 3, f: 1.5, b: false, o: { x: 1 }, a: [1], z: null }))).toEqual({
      entries: [['s', 'text'], ['n', '3'], ['f', '1.5'], ['b', 'false']],
      skipped: ['o', 'a', 'z'],
    });
  });

  test('a secret that is not a JSON object fails without quoting it', () => {
    const value = 'not-json-but-a-Value-42';
    for (const secret of [value, JSON.stringify([value]), JSON.stringify(value), 'null']) {
      let error: Error | undefined;
      try {
        secretKeys(secret);
      } catch (e) {
        error = e as Error;
      }
      expect(error?.name).toBe('SecretNotJsonObject');
      expect(error?.message).not.toContain(value);
    }
  });
});

describe('key selection', () => {
  test('accepts only valid ConfigMap keys', () => {
    for (const key of ['a', 'log_level', 'db.pool', 'A-b_c.9', '.hidden', 'k'.repeat(253)]) expect(isConfigMapKey(key)).toBe(true);
    for (const key of ['', '.', '..', '..x', 'a b', 'a/b', 'ключ', 'a:b', 'k'.repeat(254)]) expect(isConfigMapKey(key)).toBe(false);
  });

  test('includeKeys takes names and globs; none selects every key', () => {
    const match = keyMatcher(['log_level', 'db.*', 'feature_?']);
    expect(['log_level', 'db.pool', 'db.max_idle', 'feature_a'].every(match)).toBe(true);
    expect(['log_levels', 'db', 'xdb.pool', 'feature_ab'].some(match)).toBe(false);
    expect(keyMatcher([])('anything')).toBe(true);
  });

  test('drops invalid keys, then keys not included, then sensitive ones, in that order', () => {
    const source = new Map([
      ['log_level', 'info'], ['cache_ttl', '300'], ['db_password', 'hunter2-hunter2'], ['bad key', 'x'],
      ['endpoint', 'https://svc:pw@host/'], ['other', 'y'], ['api_token', 'z'],
    ]);
    const selection = selectData(source, { includeKeys: ['log_level', 'cache_ttl', 'db_password', 'endpoint', 'bad key'], excludeSensitiveKeys: true });
    expect(selection.data).toEqual({ cache_ttl: '300', log_level: 'info' });
    expect(Object.keys(selection.data)).toEqual(['cache_ttl', 'log_level']);
    expect(selection.excluded).toEqual([{ key: 'db_password', reason: 'name' }, { key: 'endpoint', reason: 'url-credentials' }]);
    expect(selection.invalidKeys).toEqual(['bad key']);
    expect(selection.notIncluded).toBe(2);
  });

  test('keeps sensitive-looking keys when excludeSensitiveKeys is off', () => {
    const selection = selectData(new Map([['db_password', 'x'], ['log_level', 'info']]), { includeKeys: [], excludeSensitiveKeys: false });
    expect(selection.data).toEqual({ db_password: 'x', log_level: 'info' });
    expect(selection.excluded).toEqual([]);
  });

  test('a key named __proto__ is data, not a prototype', () => {
    const { data } = selectData(new Map([['__proto__', 'v']]), { includeKeys: [], excludeSensitiveKeys: true });
    expect(Object.keys(data)).toEqual(['__proto__']);
    expect(JSON.stringify(data)).toBe('{"__proto__":"v"}');
  });
});

describe('the 1 MiB limit', () => {
  test('counts the UTF-8 bytes of keys and values', () => {
    expect(dataBytes({ ab: 'cd', e: 'é' })).toBe(2 + 2 + 1 + 2);
  });

  test('accepts data up to 1 MiB less the margin, and rejects a byte more without naming a value', () => {
    const value = 'v'.repeat(MAX_DATA_BYTES - 1);
    expect(() => checkDataSize({ k: value })).not.toThrow();
    let error: Error | undefined;
    try {
      checkDataSize({ k: `${value}w`, other: 'secret-ish-value-123' });
    } catch (e) {
      error = e as Error;
    }
    expect(error?.name).toBe('ConfigMapTooLarge');
    expect(error?.message).toBe(`the selected keys hold ${MAX_DATA_BYTES + 1 + 5 + 20} bytes (2 keys), over the ${MAX_DATA_BYTES} bytes a ConfigMap `
      + 'can take (1 MiB less 4096 bytes for metadata); select fewer keys with includeKeys or split the source');
    expect(MAX_DATA_BYTES).toBe(1_048_576 - 4_096);
  });
});

describe('the content hash', () => {
  const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

  test('is the SHA-256 of the data as JSON with sorted keys', () => {
    expect(contentHash({})).toBe(sha256('{}'));
    expect(contentHash({ b: '2', a: '1' })).toBe(sha256('{"a":"1","b":"2"}'));
    expect(contentHash({ 'x"y': 'line\nbreak' })).toBe(sha256('{"x\\"y":"line\\nbreak"}'));
  });

  test('does not depend on insertion order, even for integer-like keys', () => {
    expect(contentHash({ 10: 'a', 9: 'b', x: 'c' })).toBe(sha256('{"10":"a","9":"b","x":"c"}'));
    expect(contentHash({ x: 'c', 9: 'b', 10: 'a' })).toBe(contentHash({ 10: 'a', x: 'c', 9: 'b' }));
    expect(contentHash({ a: '1' })).not.toBe(contentHash({ a: '2' }));
  });
});

describe('invocations', () => {
  const source = { parameterPath: PATH, secretArn: ARN };
  const ssmEvent = (name: unknown) => ({ 'source': 'aws.ssm', 'detail-type': 'Parameter Store Change', 'detail': { name, operation: 'Update', type: 'String' } });
  const secretEvent = (detail: Record<string, unknown>, detailType = 'AWS API Call via CloudTrail') => ({ 'source': 'aws.secretsmanager', 'detail-type': detailType, detail });

  test('sync and test_sync are manual actions; the schedule sends sync', () => {
    expect(parseInvocation({ action: 'sync' }, source)).toEqual({ kind: 'sync', action: 'sync', trigger: 'sync', failOnError: false });
    expect(parseInvocation({ action: 'test_sync' }, source)).toEqual({ kind: 'sync', action: 'test_sync', trigger: 'test_sync', failOnError: false });
    expect(parseInvocation({ 'detail-type': 'Scheduled Event' }, source)).toMatchObject({ kind: 'sync', action: 'sync', failOnError: false });
  });

  test('a parameter change at or below the path syncs, and fails the invocation on a failure', () => {
    expect(parseInvocation(ssmEvent(`${PATH}/db/pool`), source)).toEqual({ kind: 'sync', action: 'sync', trigger: 'Parameter Store Change', failOnError: true });
    expect(parseInvocation(ssmEvent(PATH), source).kind).toBe('sync');
    expect(parseInvocation(ssmEvent('/app/prod/configuration'), source)).toMatchObject({ kind: 'ignored' });
    expect(parseInvocation(ssmEvent(`${PATH}/x`), { secretArn: ARN })).toMatchObject({ kind: 'ignored', reason: 'no parameter path is a source' });
  });

  test('a change of the source secret syncs, by name, partial or complete ARN', () => {
    for (const detail of [
      { eventName: 'PutSecretValue', requestParameters: { secretId: ARN } },
      { eventName: 'UpdateSecret', requestParameters: { secretId: 'app/prod/config' } },
      { eventName: 'PutSecretValue', requestParameters: { secretId: ARN.slice(0, -7) } },
      { eventName: 'CreateSecret', requestParameters: { name: 'app/prod/config' }, responseElements: { arn: ARN } },
    ]) {
      expect(parseInvocation(secretEvent(detail), source)).toEqual({ kind: 'sync', action: 'sync', trigger: detail.eventName, failOnError: true });
    }
    expect(parseInvocation(secretEvent({ eventName: 'RotationSucceeded', additionalEventData: { SecretId: ARN } }, 'AWS Service Event via CloudTrail'), source).kind).toBe('sync');
  });

  test('ignores other secrets, failed calls and reads', () => {
    expect(parseInvocation(secretEvent({ eventName: 'PutSecretValue', requestParameters: { secretId: 'app/prod/other' } }), source)).toMatchObject({ kind: 'ignored' });
    expect(parseInvocation(secretEvent({ eventName: 'PutSecretValue', errorCode: 'AccessDenied', requestParameters: { secretId: ARN } }), source)).toMatchObject({ kind: 'ignored' });
    expect(parseInvocation(secretEvent({ eventName: 'GetSecretValue', requestParameters: { secretId: ARN } }), source)).toMatchObject({ kind: 'ignored' });
    expect(parseInvocation(secretEvent({ eventName: 'PutSecretValue', requestParameters: { secretId: ARN } }), { parameterPath: PATH })).toMatchObject({ kind: 'ignored' });
  });

  test('rejects anything else without echoing the payload', () => {
    const secret = 'payload-value-that-must-not-be-echoed';
    expect(() => parseInvocation({ action: 'reconcile' }, source)).toThrow('unknown action "reconcile"; expected one of sync, test_sync');
    expect(() => parseInvocation({ action: `sync ${secret}` }, source)).toThrow(/^unknown action; expected one of sync, test_sync$/);
    expect(() => parseInvocation({ secret }, source)).toThrow(/^unsupported invocation/);
    expect(() => parseInvocation(undefined, source)).toThrow(/^unsupported invocation/);
    expect(() => parseInvocation(ssmEvent(undefined), source)).toThrow('Parameter Store Change event carries no parameter name');
    expect(() => parseInvocation(secretEvent({ eventName: 'PutSecretValue', requestParameters: {} }), source)).toThrow('PutSecretValue event carries no secret id');
    try {
      parseInvocation({ secret }, source);
    } catch (e) {
      expect(String(e)).not.toContain(secret);
    }
  });

  test('matches secret ids in every form', () => {
    expect(isSameSecret(ARN, ARN)).toBe(true);
    expect(isSameSecret('app/prod/config', ARN)).toBe(true);
    expect(isSameSecret('app/prod/config-AbC123', ARN)).toBe(true);
    expect(isSameSecret('app/prod/config', 'arn:aws:secretsmanager:us-east-1:123456789012:secret:app/prod/config')).toBe(true);
    expect(isSameSecret('app/prod/conf', ARN)).toBe(false);
    expect(isSameSecret('arn:aws:secretsmanager:us-east-1:123456789012:secret:app/prod/other-AbC123', ARN)).toBe(false);
  });
});

describe('settings', () => {
  const env = (overrides: Record<string, string | undefined> = {}): NodeJS.ProcessEnv => {
    const all: Record<string, string | undefined> = {
      [SyncEnv.PRIMARY_REGION]: 'us-east-1',
      [SyncEnv.SOURCE_PARAMETER_PATH]: PATH,
      [SyncEnv.SOURCE_SECRET_ARN]: ARN,
      [SyncEnv.TARGETS]: JSON.stringify([TARGET]),
      ...overrides,
    };
    return Object.fromEntries(Object.entries(all).filter(([, v]) => v !== undefined)) as NodeJS.ProcessEnv;
  };

  test('reads every variable, with defaults', () => {
    expect(readSettings(env())).toEqual({
      primaryRegion: 'us-east-1',
      parameterPath: PATH,
      secretArn: ARN,
      targets: [TARGET],
      includeKeys: [],
      excludeSensitiveKeys: true,
      forceConflicts: false,
    });
    expect(readSettings(env({
      [SyncEnv.SOURCE_SECRET_ARN]: undefined,
      [SyncEnv.INCLUDE_KEYS]: '["log_level","db.*"]',
      [SyncEnv.EXCLUDE_SENSITIVE_KEYS]: 'false',
      [SyncEnv.FORCE_CONFLICTS]: 'true',
      [SyncEnv.TARGETS]: JSON.stringify([{ ...TARGET, createNamespace: undefined }]),
    }))).toEqual({
      primaryRegion: 'us-east-1', parameterPath: PATH, targets: [TARGET], includeKeys: ['log_level', 'db.*'], excludeSensitiveKeys: false, forceConflicts: true,
    });
  });

  test.each([
    [{ [SyncEnv.PRIMARY_REGION]: undefined }, 'environment variable PRIMARY_REGION is required but not set'],
    [{ [SyncEnv.SOURCE_PARAMETER_PATH]: undefined, [SyncEnv.SOURCE_SECRET_ARN]: undefined },
      'environment variables SOURCE_PARAMETER_PATH and SOURCE_SECRET_ARN are both unset; at least one source is required'],
    [{ [SyncEnv.SOURCE_PARAMETER_PATH]: 'app/prod' }, 'environment variable SOURCE_PARAMETER_PATH must be a parameter path starting with "/", but got "app/prod"'],
    [{ [SyncEnv.SOURCE_SECRET_ARN]: 'app/prod' }, 'environment variable SOURCE_SECRET_ARN must be a Secrets Manager secret ARN, but got "app/prod"'],
    [{ [SyncEnv.TARGETS]: undefined }, 'environment variable SYNC_TARGETS is required but not set'],
    [{ [SyncEnv.TARGETS]: '[' }, /^environment variable SYNC_TARGETS must be JSON: /],
    [{ [SyncEnv.TARGETS]: '[]' }, 'environment variable SYNC_TARGETS must be a non-empty JSON array of {"cluster", "namespace", "configMapName", "createNamespace"}'],
    [{ [SyncEnv.TARGETS]: JSON.stringify([{ ...TARGET, cluster: { name: 'blue' } }]) }, 'environment variable SYNC_TARGETS[0] must have a cluster with a name and a region'],
    [{ [SyncEnv.TARGETS]: JSON.stringify([TARGET, { ...TARGET, namespace: 'Apps' }]) },
      'environment variable SYNC_TARGETS[1] must have a namespace that is a DNS-1123 label, but got "Apps"'],
    [{ [SyncEnv.TARGETS]: JSON.stringify([{ ...TARGET, configMapName: 'app_config' }]) },
      'environment variable SYNC_TARGETS[0] must have a configMapName that is a DNS-1123 subdomain, but got "app_config"'],
    [{ [SyncEnv.TARGETS]: JSON.stringify([{ ...TARGET, createNamespace: 'yes' }]) }, 'environment variable SYNC_TARGETS[0] must have a boolean createNamespace, but got "yes"'],
    [{ [SyncEnv.INCLUDE_KEYS]: '["ok", 3]' }, 'environment variable INCLUDE_KEYS must be a JSON array of key names and globs'],
    [{ [SyncEnv.EXCLUDE_SENSITIVE_KEYS]: 'no' }, 'environment variable EXCLUDE_SENSITIVE_KEYS must be "true" or "false", but got "no"'],
    [{ [SyncEnv.FORCE_CONFLICTS]: '1' }, 'environment variable FORCE_CONFLICTS must be "true" or "false", but got "1"'],
  ])('fails at cold start on a bad configuration (%#)', (overrides, message) => {
    expect(() => readSettings(env(overrides))).toThrow(message);
  });
});
