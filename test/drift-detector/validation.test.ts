import { App, Duration, Stack } from 'aws-cdk-lib';
import { ConfigDriftDetector, ConfigDriftDetectorProps, DriftIgnoreRule, KubernetesCluster, SecretSelection } from '../../src';
import { at } from '../core/messages';
import { newStack } from '../secret-replicator/util';

const MINIMAL: ConfigDriftDetectorProps = { replicaRegions: ['eu-west-1'], parameterPaths: ['/app/prod'] };
const build = (props: Partial<ConfigDriftDetectorProps>, stack: Stack = newStack()) => new ConfigDriftDetector(stack, 'Detector', { ...MINIMAL, ...props });
const cluster = (clusterName: string, region: string) => KubernetesCluster.fromClusterAttributes({ clusterName, region });

describe('fails if', () => {
  test.each<[string, Partial<ConfigDriftDetectorProps>, string]>([
    ['nothing is compared', { parameterPaths: [] }, 'secrets or parameterPaths, configMaps or replicator must give the detector something to compare, but got undefined'],
    ['replicaRegions is missing', { replicaRegions: undefined }, 'replicaRegions must be set when no replicator is given and secrets or parameterPaths are compared, but got undefined'],
    ['replicaRegions contains the primary region', { replicaRegions: ['us-east-1'] }, 'replicaRegions must not contain the primary region, but got ["us-east-1"]'],
    ['replicaRegions has a duplicate', { replicaRegions: ['eu-west-1', 'eu-west-1'] }, 'replicaRegions must not contain duplicates, but got ["eu-west-1","eu-west-1"]'],
    ['a parameter path ends with a slash', { parameterPaths: ['/app/'] }, 'parameterPaths must be paths of "/"-separated segments of the characters A-Z a-z 0-9 _ . -, starting with "/" and not ending with "/", such as "/my-app/production", but got "/app/"'],
    ['a parameter path is reserved', { parameterPaths: ['/aws/service'] }, 'parameterPaths must not be under the reserved "/aws" or "/ssm", but got "/aws/service"'],
    ['a parameter path is under the settings-document root', { parameterPaths: ['/cdk-cross-region-config/app'] },
      'parameterPaths must not be under "/cdk-cross-region-config", where the library keeps its handlers\' settings documents, but got "/cdk-cross-region-config/app"'],
    ['parameter paths overlap', { parameterPaths: ['/app', '/app/prod'] }, 'parameterPaths must not overlap (each is scanned recursively), but "/app/prod" is under, but got "/app"'],
    ['graceWindow is not whole seconds', { graceWindow: Duration.millis(1500) }, 'graceWindow must be a whole number of seconds from 0 to 86400, but got "1 second 500 millis"'],
    ['graceWindow exceeds a day', { graceWindow: Duration.days(2) }, 'graceWindow must be a whole number of seconds from 0 to 86400, but got "2 days"'],
    ['reportRetention is not whole days', { reportRetention: Duration.hours(36) }, 'reportRetention must be a whole number of days from 1 to 3650, but got "1 day 12 hours"'],
    ['reportPrefix does not end with a slash', { reportPrefix: 'drift' }, 'reportPrefix must be empty or "/"-terminated segments of the characters A-Z a-z 0-9 ! _ . * \' ( ) -, such as "drift-reports/", but got "drift"'],
    ['alertThreshold is zero', { alertThreshold: 0 }, 'alertThreshold must be a positive integer, but got 0'],
    ['metricNamespace is reserved', { metricNamespace: 'AWS/Drift' }, 'metricNamespace must not start with the reserved "AWS/", but got "AWS/Drift"'],
    ['an encryption key is not a key ARN', { encryptionKeyArns: ['alias/x'] }, 'encryptionKeyArns must be KMS key ARNs such as "arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab", but got "alias/x"'],
    ['parameterPrefix ends with a slash', { parameterPrefix: '/app/' }, 'parameterPrefix must start with "/" and must not end with "/", such as "/my-app/production", but got "/app/"'],
    ['a replica key names another region', { secrets: SecretSelection.fromNames('a'), replicaKmsKeys: [{ region: 'us-west-2', aliasName: 'alias/x' }] },
      'replicaKmsKeys[0].region must be one of replicaRegions ["eu-west-1"], but got "us-west-2"'],
    ['a replica key sets both forms', { replicaKmsKeys: [{ region: 'eu-west-1', aliasName: 'alias/x', keyArn: 'arn:aws:kms:eu-west-1:111122223333:key/abc' }] },
      'replicaKmsKeys[0] must set exactly one of keyArn and aliasName, but got {"region":"eu-west-1","aliasName":"alias/x","keyArn":"arn:aws:kms:eu-west-1:111122223333:key/abc"}'],
    ['comparedTagKeys has a duplicate', { comparedTagKeys: ['team', 'team'] }, 'comparedTagKeys must not contain duplicates, but got ["team","team"]'],
    ['a ConfigMap scope\'s primary cluster is in another region', {
      configMaps: [{ primaryCluster: cluster('a', 'eu-west-1'), replicaClusters: [cluster('b', 'eu-west-2')], names: ['app'] }],
    }, 'configMaps[0].primaryCluster must be in the primary region us-east-1, but got "a in eu-west-1"'],
    ['a ConfigMap scope has no replica cluster', {
      configMaps: [{ primaryCluster: cluster('a', 'us-east-1'), replicaClusters: [], names: ['app'] }],
    }, 'configMaps[0].replicaClusters must not be empty, but got []'],
    ['a ConfigMap scope lists the primary cluster as a replica', {
      configMaps: [{ primaryCluster: cluster('a', 'us-east-1'), replicaClusters: [cluster('a', 'us-east-1')], names: ['app'] }],
    }, 'configMaps[0].replicaClusters must not contain the primary cluster, but got ["us-east-1/a"]'],
    ['a ConfigMap name is not a DNS subdomain', {
      configMaps: [{ primaryCluster: cluster('a', 'us-east-1'), replicaClusters: [cluster('b', 'eu-west-1')], names: ['App_Config'] }],
    }, 'configMaps[0].names must be DNS-1123 subdomains: lowercase letters, digits, "-" and ".", starting and ending with a letter or digit, but got "App_Config"'],
    ['a ConfigMap namespace is not a DNS label', {
      configMaps: [{ primaryCluster: cluster('a', 'us-east-1'), replicaClusters: [cluster('b', 'eu-west-1')], namespace: 'Prod', names: ['app'] }],
    }, 'configMaps[0].namespace must be a DNS-1123 label: lowercase letters, digits and "-", starting and ending with a letter or digit, but got "Prod"'],
  ])('%s', (_name, props, message) => {
    expect(() => build(props)).toThrow(at('TestStack/Detector', message));
  });

  test('the stack has no region', () => {
    expect(() => new ConfigDriftDetector(new Stack(new App(), 'Agnostic'), 'Detector', MINIMAL))
      .toThrow(at('Agnostic/Detector', 'ConfigDriftDetector needs a stack with an explicit region (env.region), but got an environment-agnostic stack'));
  });

  test('an ignore pattern is empty', () => {
    expect(() => DriftIgnoreRule.secrets('')).toThrow(new Error('DriftIgnoreRule.secrets() namePattern must be 1 to 512 characters, but got ""'));
    expect(() => DriftIgnoreRule.configMapKeys('default/*', '')).toThrow(new Error('DriftIgnoreRule.configMapKeys() keyPattern must be 1 to 512 characters, but got ""'));
  });

  test('an ignore rule names a region the detector does not compare', () => {
    expect(() => build({ ignoreRules: [DriftIgnoreRule.parameters('/app/prod/x', { replicaRegions: ['us-west-2'] })] }))
      .toThrow(at('TestStack/Detector', 'ignoreRules[0] replicaRegions must be replica regions of the detector ["eu-west-1"], but got ["us-west-2"]'));
  });

  test('an ignore rule names an unknown region', () => {
    expect(() => DriftIgnoreRule.parameters('/x', { replicaRegions: ['mars-east-1'] })).toThrow(new Error('DriftIgnoreRule replicaRegions must contain only AWS region names such as "eu-west-1", but got "mars-east-1"'));
  });
});
