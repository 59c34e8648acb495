import { App, Aws, Duration, Stack } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { ConfigMapSyncer, ConfigMapSyncerProps, KubernetesCluster } from '../../src';
import { at } from '../core/messages';
import { newStack } from '../secret-replicator/util';

const cluster = (clusterName: string, region: string = 'eu-west-1') => KubernetesCluster.fromClusterAttributes({ clusterName, region });
const MINIMAL: ConfigMapSyncerProps = { parameterPath: '/app/prod/config', configMapName: 'app-config', targets: [{ cluster: cluster('app-eu') }] };
const build = (props: Partial<ConfigMapSyncerProps>, stack: Stack = newStack()) => new ConfigMapSyncer(stack, 'Syncer', { ...MINIMAL, ...props });

describe('fails if', () => {
  test.each<[string, Partial<ConfigMapSyncerProps>, string]>([
    ['there is no source', { parameterPath: undefined }, 'parameterPath or sourceSecret must be set: the syncer needs a source, but got undefined'],
    ['parameterPath ends with a slash', { parameterPath: '/app/' },
      'parameterPath must be a path of "/"-separated segments of the characters A-Z a-z 0-9 _ . -, starting with "/" and not ending with "/", '
      + 'such as "/my-app/production/config", but got "/app/"'],
    ['parameterPath does not start with a slash', { parameterPath: 'app/config' }, 'parameterPath must be a path of "/"-separated segments of the characters A-Z a-z 0-9 _ . -, starting with "/" and not ending with "/", such as "/my-app/production/config", but got "app/config"'],
    ['parameterPath is reserved', { parameterPath: '/aws/service/config' }, 'parameterPath must not be under the reserved "/aws" or "/ssm", but got "/aws/service/config"'],
    ['parameterPath is the reserved /ssm', { parameterPath: '/ssm' }, 'parameterPath must not be under the reserved "/aws" or "/ssm", but got "/ssm"'],
    ['parameterPath is the settings-document root', { parameterPath: '/cdk-cross-region-config' },
      'parameterPath must not be under "/cdk-cross-region-config", where the library keeps its handlers\' settings documents, but got "/cdk-cross-region-config"'],
    ['includeKeys is empty', { includeKeys: [] }, 'includeKeys must not be empty (omit it to sync every key), but got []'],
    ['an includeKeys entry is empty', { includeKeys: ['log_level', ''] }, 'includeKeys[1] must be 1 to 253 characters long (0 received), but got ""'],
    ['an includeKeys entry is too long', { includeKeys: ['k'.repeat(254)] }, 'includeKeys[0] must be 1 to 253 characters long (254 received), but got "kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk"'],
    ['an includeKeys entry has a character keys cannot have', { includeKeys: ['log level'] },
      'includeKeys[0] must be a ConfigMap key or a glob pattern: letters, digits, "-", "_", "." and the wildcards "*" and "?", but got "log level"'],
    ['includeKeys has a duplicate', { includeKeys: ['log_level', 'log_level'] }, 'includeKeys must not contain duplicates, but got ["log_level","log_level"]'],
    ['metricNamespace is reserved', { metricNamespace: 'AWS/Sync' }, 'metricNamespace must not start with the reserved "AWS/", but got "AWS/Sync"'],
    ['parameterPrefix ends with a slash', { parameterPrefix: '/app/' },
      'parameterPrefix must start with "/" and must not end with "/", such as "/my-app/production", but got "/app/"'],
    ['the settings parameter would be under parameterPath', { parameterPath: '/app/prod', parameterPrefix: '/app/prod' },
      'parameterPrefix must not put the settings parameter "/app/prod/global/secrets/configmap-sync-config" under parameterPath "/app/prod" '
      + '(it would be synced as a key), but got "/app/prod"'],
    ['projectName is set without environmentName', { projectName: 'genai-demo' }, 'environmentName must be set when projectName is set, but got undefined'],
    ['environmentName is set without projectName', { environmentName: 'production' }, 'projectName must be set when environmentName is set, but got undefined'],
    ['projectName and environmentName do not form a DNS-1123 subdomain', { projectName: 'GenAI', environmentName: 'production' },
      'projectName and environmentName must form a DNS-1123 subdomain of at most 253 characters in the default ConfigMap name '
      + '"<projectName>-<environmentName>-config" (lowercase letters, digits, "-" and "."), but got "GenAI-production-config"'],
    ['namespace is not a DNS-1123 label', { namespace: 'Prod' },
      'namespace must be a DNS-1123 label: lowercase letters, digits and "-", starting and ending with a letter or digit, but got "Prod"'],
    ['namespace is too long', { namespace: 'n'.repeat(64) }, 'namespace must be 1 to 63 characters long (64 received), but got "nnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnn"'],
    ['configMapName is not a DNS-1123 subdomain', { configMapName: 'app_config' },
      'configMapName must be a DNS-1123 subdomain: lowercase letters, digits, "-" and ".", starting and ending with a letter or digit, but got "app_config"'],
    ['configMapName is empty', { configMapName: '' }, 'configMapName must be 1 to 253 characters long (0 received), but got ""'],
    ['targets is empty', { targets: [] }, 'targets must not be empty, but got []'],
    ['a target namespace is not a DNS-1123 label', { targets: [{ cluster: cluster('app-eu'), namespace: 'my.app' }] },
      'targets[0].namespace must be a DNS-1123 label: lowercase letters, digits and "-", starting and ending with a letter or digit, but got "my.app"'],
    ['a target ConfigMap name is not a DNS-1123 subdomain', { targets: [{ cluster: cluster('app-eu'), configMapName: '-config' }] },
      'targets[0].configMapName must be a DNS-1123 subdomain: lowercase letters, digits, "-" and ".", starting and ending with a letter or digit, but got "-config"'],
    ['a target has no ConfigMap name from any prop', { configMapName: undefined, targets: [{ cluster: cluster('app-eu'), configMapName: 'a' }, { cluster: cluster('app-ap', 'ap-southeast-1') }] },
      'targets[1].configMapName must be set when neither configMapName nor projectName and environmentName are set, but got undefined'],
    ['two targets are the same ConfigMap', { targets: [{ cluster: cluster('app-eu') }, { cluster: cluster('app-eu'), namespace: 'default' }] },
      'targets must not contain duplicates, but got ["eu-west-1/app-eu default/app-config","eu-west-1/app-eu default/app-config"]'],
    ['a target cluster is in another partition', { targets: [{ cluster: cluster('app-cn', 'cn-north-1') }] },
      'targets[0].cluster region must be a region of the primary region\'s partition "aws", but got "cn-north-1"'],
    ['memorySize is below Lambda\'s minimum', { memorySize: 64 }, 'memorySize must be an integer from 128 to 10240 MiB, but got 64'],
    ['timeout exceeds Lambda\'s maximum', { timeout: Duration.minutes(16) }, 'timeout must be a whole number of seconds from 1 to 900, but got "16 minutes"'],
  ])('%s', (_name, props, message) => {
    expect(() => build(props)).toThrow(at('TestStack/Syncer', message));
  });

  test('sourceSecret is in another region', () => {
    const stack = newStack();
    const secret = secretsmanager.Secret.fromSecretCompleteArn(stack, 'Secret', 'arn:aws:secretsmanager:eu-west-1:111122223333:secret:app/config-AbCdEf');
    expect(() => build({ sourceSecret: secret }, stack)).toThrow(at('TestStack/Syncer', 'sourceSecret must be in the syncer\'s region us-east-1, but got "eu-west-1"'));
  });

  test('a source encryption key is in another region', () => {
    const stack = newStack();
    const key = kms.Key.fromKeyArn(stack, 'Key', 'arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab');
    expect(() => build({ sourceEncryptionKeys: [key] }, stack)).toThrow(at('TestStack/Syncer', 'sourceEncryptionKeys[0] must be in the syncer\'s region us-east-1, but got "eu-west-1"'));
  });

  test('vpcSubnets is set without vpc', () => {
    expect(() => build({ vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS } })).toThrow(at('TestStack/Syncer', 'vpc must be set when vpcSubnets or securityGroups is set, but got undefined'));
  });

  test('the stack has no region', () => {
    expect(() => new ConfigMapSyncer(new Stack(new App(), 'Agnostic'), 'Syncer', MINIMAL))
      .toThrow(at('Agnostic/Syncer', 'ConfigMapSyncer needs a stack with an explicit region (env.region), but got an environment-agnostic stack'));
  });

  test('the stack region is not an AWS region', () => {
    expect(() => new ConfigMapSyncer(newStack(new App(), 'mars-east-1'), 'Syncer', MINIMAL))
      .toThrow(at('TestStack/Syncer', 'the stack region must be an AWS region name such as "eu-west-1", but got "mars-east-1"'));
  });
});

describe('accepts', () => {
  test('glob patterns in includeKeys, and a namespace or name only known at deploy time', () => {
    const stack = newStack();
    expect(() => build({
      includeKeys: ['feature.*', 'cache_?ttl', 'LOG-LEVEL'],
      namespace: Aws.STACK_NAME,
      targets: [{ cluster: cluster('app-eu'), configMapName: Aws.STACK_NAME }],
    }, stack)).not.toThrow();
  });

  test('the settings parameter outside parameterPath', () => {
    expect(() => build({ parameterPath: '/app/prod/config', parameterPrefix: '/app/prod' })).not.toThrow();
  });

  test('the same ConfigMap name in two namespaces or two clusters', () => {
    expect(() => build({
      targets: [{ cluster: cluster('app-eu') }, { cluster: cluster('app-eu'), namespace: 'app' }, { cluster: cluster('app-ap', 'ap-southeast-1') }],
    })).not.toThrow();
  });
});
