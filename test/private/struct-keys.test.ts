import { App, Stack } from 'aws-cdk-lib';
import { at } from './messages';
import {
  ConfigMapSyncer, CrossRegionSecretReplicator, CrossRegionSecretReplicatorProps, IRegionalStageFactory, KubernetesCluster, MultiRegionPipeline,
  SecretSelection,
} from '../../src';
import { minimalProps, newPipelineStack } from '../multi-region-pipeline/util';

/**
 * Python and Java apps that pass a dict or Map where a struct is expected: jsii hands the object over
 * with its keys as written (`alias_name`), so the property would be lost.
 */
describe('structs passed with snake_case keys', () => {
  const stack = () => new Stack(new App(), 'TestStack', { env: { region: 'us-east-1' } });
  const secrets = SecretSelection.fromNames('app/db');

  test('fails naming the key, its camelCase name and the likely cause', () => {
    const props = { secrets, replicaRegions: ['eu-west-1'], replicaKmsKeys: [{ region: 'eu-west-1', alias_name: 'alias/secrets' }] };
    expect(() => new CrossRegionSecretReplicator(stack(), 'Replicator', props as unknown as CrossRegionSecretReplicatorProps)).toThrow(at(
      'TestStack/Replicator',
      'replicaKmsKeys[0] must use camelCase property names ("aliasName", not "alias_name"): a Python dict or Java Map passed for a struct keeps '
      + 'its keys as written, so the property is never read; pass an instance of the struct\'s generated class instead, '
      + 'but got {"region":"eu-west-1","alias_name":"alias/secrets"}'));
  });

  test('shows constructs in the struct by class name', () => {
    const cluster = KubernetesCluster.fromClusterAttributes({ clusterName: 'app-eu', region: 'eu-west-1' });
    const props = { parameterPath: '/app/prod/config', configMapName: 'app-config', targets: [{ cluster, create_namespace: true }] };
    expect(() => new ConfigMapSyncer(stack(), 'Syncer', props as any)).toThrow(at('TestStack/Syncer',
      'targets[0] must use camelCase property names ("createNamespace", not "create_namespace"): a Python dict or Java Map passed for a struct '
      + 'keeps its keys as written, so the property is never read; pass an instance of the struct\'s generated class instead, '
      + 'but got {"cluster":"<KubernetesCluster>","create_namespace":true}'));
  });

  test('leaves camelCase structs and class instances alone', () => {
    expect(() => new CrossRegionSecretReplicator(stack(), 'Replicator', {
      secrets, replicaRegions: ['eu-west-1'], replicaKmsKeys: [{ region: 'eu-west-1', aliasName: 'alias/secrets' }],
    })).not.toThrow();
  });
});

describe('a stage factory without createStage', () => {
  test('fails naming @jsii.implements for Python', () => {
    // What a Python class that subclasses the interface instead of using @jsii.implements hands over.
    class NotAFactory {}
    expect(() => new MultiRegionPipeline(newPipelineStack(), 'Pipeline', {
      ...minimalProps(), application: new NotAFactory() as unknown as IRegionalStageFactory,
    })).toThrow(at('PipelineStack/Pipeline',
      'application must implement IRegionalStageFactory with a createStage method (in Python, decorate the class with '
      + '@jsii.implements(IRegionalStageFactory) instead of subclassing the interface), but got "<NotAFactory>"'));
  });
});
