import { Template } from 'aws-cdk-lib/assertions';
import { ConfigParityCheck, CrossRegionSecretReplicator, DriftIgnoreRule, KubernetesCluster, ParameterOverride, SecretSelection } from '../../src';
import { newStack } from '../secret-replicator/util';

/** Replaces asset hashes (which change with every handler change) with a placeholder. */
function withoutAssetHashes(value: unknown): unknown {
  if (typeof value === 'string') return value.replace(/[0-9a-f]{64}/g, '<asset hash>');
  if (Array.isArray(value)) return value.map(withoutAssetHashes);
  if (value !== null && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, withoutAssetHashes(v)]));
  return value;
}

test('synthesizes the representative stack of the snapshot', () => {
  const stack = newStack();
  const replicator = new CrossRegionSecretReplicator(stack, 'Replicator', {
    secrets: SecretSelection.byNamePrefix('prod/app/'),
    replicaRegions: ['eu-west-1', 'ap-southeast-1'],
    replicaKmsKeys: [{ region: 'eu-west-1', aliasName: 'alias/secrets' }],
  });
  new ConfigParityCheck(stack, 'ParityCheck', {
    replicator,
    parameterPaths: ['/app/production'],
    parameterOverrides: [ParameterOverride.template('/app/production/endpoint', 'https://{region}.example.com')],
    configMaps: [{
      primaryCluster: KubernetesCluster.fromClusterAttributes({ clusterName: 'app-us', region: 'us-east-1' }),
      replicaClusters: [KubernetesCluster.fromClusterAttributes({ clusterName: 'app-eu', region: 'eu-west-1' })],
      names: ['app-config'],
    }],
    ignoreRules: [DriftIgnoreRule.parameters('/app/production/regional/**')],
  });
  const template = Template.fromStack(stack).toJSON();
  expect(JSON.stringify(template)).toMatch(/[0-9a-f]{64}/);
  expect(withoutAssetHashes(template)).toMatchSnapshot();
});
