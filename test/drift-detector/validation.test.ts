import { App, Duration, Stack } from 'aws-cdk-lib';
import { ConfigDriftDetector, ConfigDriftDetectorProps, DriftIgnoreRule, KubernetesCluster, SecretSelection } from '../../src';
import { newStack } from '../secret-replicator/util';

const MINIMAL: ConfigDriftDetectorProps = { replicaRegions: ['eu-west-1'], parameterPaths: ['/app/prod'] };
const build = (props: Partial<ConfigDriftDetectorProps>, stack: Stack = newStack()) => new ConfigDriftDetector(stack, 'Detector', { ...MINIMAL, ...props });
const cluster = (clusterName: string, region: string) => KubernetesCluster.fromClusterAttributes({ clusterName, region });

describe('fails if', () => {
  test.each<[string, Partial<ConfigDriftDetectorProps>, string]>([
    ['nothing is compared', { parameterPaths: [] }, 'secrets or parameterPaths, configMaps or replicator must give the detector something to compare, but got undefined'],
    ['replicaRegions is missing', { replicaRegions: undefined }, 'replicaRegions must be set when no replicator is given and secrets or parameterPaths are compared, but got undefined'],
    ['replicaRegions contains the primary region', { replicaRegions: ['us-east-1'] }, 'replicaRegions must not contain the primary region, but got ["us-east-1"]'],
    ['replicaRegions has a duplicate', { replicaRegions: ['eu-west-1', 'eu-west-1'] }, 'replicaRegions must not contain duplicates'],
    ['a parameter path ends with a slash', { parameterPaths: ['/app/'] }, 'parameterPaths must be paths of "/"-separated segments'],
    ['a parameter path is reserved', { parameterPaths: ['/aws/service'] }, 'parameterPaths must not be under the reserved "/aws" or "/ssm", but got "/aws/service"'],
    ['parameter paths overlap', { parameterPaths: ['/app', '/app/prod'] }, 'parameterPaths must not overlap (each is scanned recursively), but "/app/prod" is under, but got "/app"'],
    ['graceWindow is not whole seconds', { graceWindow: Duration.millis(1500) }, 'graceWindow must be a whole number of seconds from 0 to 86400'],
    ['graceWindow exceeds a day', { graceWindow: Duration.days(2) }, 'graceWindow must be a whole number of seconds from 0 to 86400'],
    ['reportRetention is not whole days', { reportRetention: Duration.hours(36) }, 'reportRetention must be a whole number of days from 1 to 3650'],
    ['reportPrefix does not end with a slash', { reportPrefix: 'drift' }, 'reportPrefix must be empty or "/"-terminated segments'],
    ['alertThreshold is zero', { alertThreshold: 0 }, 'alertThreshold must be an integer from 1 to'],
    ['metricNamespace is reserved', { metricNamespace: 'AWS/Drift' }, 'metricNamespace must not start with the reserved "AWS/", but got "AWS/Drift"'],
    ['an encryption key is not a key ARN', { encryptionKeyArns: ['alias/x'] }, 'encryptionKeyArns must be KMS key ARNs'],
    ['parameterPrefix ends with a slash', { parameterPrefix: '/app/' }, 'parameterPrefix must start with "/" and must not end with "/", such as "/my-app/production", but got "/app/"'],
    ['a replica key names another region', { secrets: SecretSelection.fromNames('a'), replicaKmsKeys: [{ region: 'us-west-2', aliasName: 'alias/x' }] },
      'replicaKmsKeys[0].region must be one of replicaRegions ["eu-west-1"], but got "us-west-2"'],
    ['a replica key sets both forms', { replicaKmsKeys: [{ region: 'eu-west-1', aliasName: 'alias/x', keyArn: 'arn:aws:kms:eu-west-1:111122223333:key/abc' }] },
      'replicaKmsKeys[0] must set exactly one of keyArn and aliasName'],
    ['comparedTagKeys has a duplicate', { comparedTagKeys: ['team', 'team'] }, 'comparedTagKeys must not contain duplicates'],
    ['a ConfigMap scope\'s primary cluster is in another region', {
      configMaps: [{ primaryCluster: cluster('a', 'eu-west-1'), replicaClusters: [cluster('b', 'eu-west-2')], names: ['app'] }],
    }, 'configMaps[0].primaryCluster must be in the primary region us-east-1, but got "a in eu-west-1"'],
    ['a ConfigMap scope has no replica cluster', {
      configMaps: [{ primaryCluster: cluster('a', 'us-east-1'), replicaClusters: [], names: ['app'] }],
    }, 'configMaps[0].replicaClusters must not be empty'],
    ['a ConfigMap scope lists the primary cluster as a replica', {
      configMaps: [{ primaryCluster: cluster('a', 'us-east-1'), replicaClusters: [cluster('a', 'us-east-1')], names: ['app'] }],
    }, 'configMaps[0].replicaClusters must not contain the primary cluster, but got ["us-east-1/a"]'],
    ['a ConfigMap name is not a DNS subdomain', {
      configMaps: [{ primaryCluster: cluster('a', 'us-east-1'), replicaClusters: [cluster('b', 'eu-west-1')], names: ['App_Config'] }],
    }, 'configMaps[0].names must be DNS-1123 subdomains'],
    ['a ConfigMap namespace is not a DNS label', {
      configMaps: [{ primaryCluster: cluster('a', 'us-east-1'), replicaClusters: [cluster('b', 'eu-west-1')], namespace: 'Prod', names: ['app'] }],
    }, 'configMaps[0].namespace must be a DNS-1123 label'],
  ])('%s', (_name, props, message) => {
    expect(() => build(props)).toThrow(message);
  });

  test('the stack has no region', () => {
    expect(() => new ConfigDriftDetector(new Stack(new App(), 'Agnostic'), 'Detector', MINIMAL))
      .toThrow('ConfigDriftDetector needs a stack with an explicit region (env.region), but got an environment-agnostic stack');
  });

  test('an ignore pattern is empty', () => {
    expect(() => DriftIgnoreRule.secrets('')).toThrow('DriftIgnoreRule.secrets() namePattern must be 1 to 512 characters, but got ""');
    expect(() => DriftIgnoreRule.configMapKeys('default/*', '')).toThrow('DriftIgnoreRule.configMapKeys() keyPattern must be 1 to 512 characters, but got ""');
  });

  test('an ignore rule names a region the detector does not compare', () => {
    expect(() => build({ ignoreRules: [DriftIgnoreRule.parameters('/app/prod/x', { replicaRegions: ['us-west-2'] })] }))
      .toThrow('ignoreRules[0] replicaRegions must be replica regions of the detector ["eu-west-1"], but got ["us-west-2"]');
  });

  test('an ignore rule names an unknown region', () => {
    expect(() => DriftIgnoreRule.parameters('/x', { replicaRegions: ['mars-east-1'] })).toThrow('DriftIgnoreRule replicaRegions');
  });
});
