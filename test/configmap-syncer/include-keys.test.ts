import { App, Stack } from 'aws-cdk-lib';
import { Annotations, Match } from 'aws-cdk-lib/assertions';
import { selectData } from '../../lambda-src/configmap-syncer/selection';
import { isSensitiveName } from '../../lambda-src/configmap-syncer/sensitive';
import { globToRegExp } from '../../lambda-src/shared/glob';
import { ConfigMapSyncer, ConfigMapSyncerProps, KubernetesCluster } from '../../src';
import { globMatchesOnlySensitiveNames } from '../../src/configmap-syncer/sensitive-names';
import { at } from '../core/messages';

const cluster = KubernetesCluster.fromClusterAttributes({ clusterName: 'app-eu', region: 'eu-west-1' });
const MINIMAL: ConfigMapSyncerProps = { parameterPath: '/app/prod/config', configMapName: 'app-config', targets: [{ cluster }] };

function build(props: Partial<ConfigMapSyncerProps>): Stack {
  const stack = new Stack(new App(), 'TestStack', { env: { region: 'us-east-1' } });
  new ConfigMapSyncer(stack, 'Syncer', { ...MINIMAL, ...props });
  return stack;
}

describe('ConfigMapSyncer includeKeys', () => {
  test('fails if an exact key is sensitive by name, with the reason', () => {
    expect(() => build({ includeKeys: ['log_level', 'db_password'] })).toThrow(at('TestStack/Syncer',
      'includeKeys[1] must not name a key whose name looks sensitive: the syncer never writes such a key to a ConfigMap while '
      + 'excludeSensitiveKeys is true (keep the value in Secrets Manager, or rename the key), but got "db_password"'));
  });

  test('accepts a sensitive key name when excludeSensitiveKeys is false', () => {
    expect(() => build({ includeKeys: ['db_password'], excludeSensitiveKeys: false })).not.toThrow();
  });

  test('warns if a pattern can only match sensitive names', () => {
    Annotations.fromStack(build({ includeKeys: ['log_level', '*password*'] })).hasWarning('/TestStack/Syncer',
      'includeKeys[1] "*password*" matches only keys whose names look sensitive, which the syncer never writes to a ConfigMap '
      + 'while excludeSensitiveKeys is true. [ack: cdk-cross-region-config:includeKeysOnlySensitive]');
  });

  test('neither fails nor warns for keys and patterns that can be synced', () => {
    const stack = build({ includeKeys: ['log_level', 'max_tokens', 'session_timeout', 'cache_*', 'pass*'] });
    Annotations.fromStack(stack).hasNoWarning('/TestStack/Syncer', Match.stringLikeRegexp('includeKeys'));
  });

  test('the construct refuses exactly the exact keys the handler would never sync', () => {
    const names = ['db_password', 'DBPASSWORD', 'apiKey', 'keyspace', 'tokenizer', 'max_tokens', 'session_timeout', 'AUTH', 'log_level', 'privkey2'];
    for (const name of names) {
      const { data } = selectData(new Map([[name, 'plain']]), { includeKeys: [name], excludeSensitiveKeys: true });
      const refusedByHandler = !(name in data);
      let refusedByConstruct = false;
      try {
        build({ includeKeys: [name] });
      } catch {
        refusedByConstruct = true;
      }
      expect([name, refusedByConstruct]).toEqual([name, refusedByHandler]);
    }
  });

  test('a pattern said to match only sensitive names matches no name the handler would sync (seeded random names)', () => {
    const seed = Number(process.env.INCLUDE_KEYS_SEED ?? Date.now() % 1_000_000);
    let state = seed % 2_147_483_647 || 1;
    const random = () => (state = (state * 48_271) % 2_147_483_647) / 2_147_483_647;
    const alphabet = ['pass', 'word', 'Password', '_', '-', '.', 'db', 'Secret', 'key', 'API', 'x', '1', 'cred', 'ential', 'token'];
    // '*api?key*' is not among them: `?` may match a letter (`apiXkey` is not sensitive).
    const globs = ['*password*', '*PASS_word*', 'db_*secret*', '*api_key*', '*credential?', 'x*secret'];
    for (const glob of globs) expect([glob, globMatchesOnlySensitiveNames(glob)]).toEqual([glob, true]);
    for (let i = 0; i < 5_000; i++) {
      const name = Array.from({ length: 1 + Math.floor(random() * 6) }, () => alphabet[Math.floor(random() * alphabet.length)]).join('');
      for (const glob of globs) {
        if (globToRegExp(glob).test(name) && !isSensitiveName(name)) {
          throw new Error(`${JSON.stringify(glob)} matches ${JSON.stringify(name)}, which is not sensitive by name (INCLUDE_KEYS_SEED=${seed})`);
        }
      }
    }
  });
});
