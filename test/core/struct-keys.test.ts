import { Stack } from 'aws-cdk-lib';
import {
  ConfigDriftDetector, ConfigMapSyncer, ConfigMapSyncTarget, ConfigParityCheck, CrossRegionParameterReplicator, CrossRegionSecretReplicator,
  KubernetesCluster, ParameterSelection, SecretSelection,
} from '../../src';
import { structMembers, validateStructKeys } from '../../src/private/validation';
import { at } from '../core/messages';
import { newStack } from '../secret-replicator/util';

/**
 * A struct inside a list prop whose keys spell a member in snake_case (plain JavaScript, a cast,
 * a config file read as JSON) fails synth naming the key and the member, instead of the setting
 * being ignored. Wider objects (TypeScript allows extra properties) still pass.
 */

const cluster = (clusterName: string, region: string) => KubernetesCluster.fromClusterAttributes({ clusterName, region });
const ROLE = 'arn:aws:iam::444455556666:role/replica-writer';
const KEY_ARN = 'arn:aws:kms:eu-west-1:444455556666:key/1234abcd-12ab-34cd-56ef-1234567890ab';
/** The input a cast lets through; from TypeScript a literal with these keys does not compile. */
const untyped = <T>(value: Record<string, unknown>): T => value as unknown as T;

describe('fails if a struct in a list spells a member in snake_case', () => {
  test.each<[string, (stack: Stack) => void, string, string]>([
    ['ConfigMapSyncer targets', (stack) => new ConfigMapSyncer(stack, 'Syncer', {
      parameterPath: '/app/prod/config',
      configMapName: 'app-config',
      targets: [{ cluster: cluster('app-eu', 'eu-west-1') }, untyped({ cluster: cluster('app-ap', 'ap-southeast-2'), config_map_name: 'other', create_namespace: true })],
    }), 'TestStack/Syncer', 'targets[1] must name its keys as the members of ConfigMapSyncTarget (cluster, namespace, configMapName, createNamespace, workloads): '
      + 'config_map_name is configMapName, create_namespace is createNamespace, but got ["config_map_name","create_namespace"]'],
    ['ConfigDriftDetector configMaps', (stack) => new ConfigDriftDetector(stack, 'Detector', {
      replicaRegions: ['eu-west-1'],
      configMaps: [untyped({ primary_cluster: cluster('a', 'us-east-1'), replicaClusters: [cluster('b', 'eu-west-1')], names: ['app'] })],
    }), 'TestStack/Detector', 'configMaps[0] must name its keys as the members of ConfigMapDriftScope (primaryCluster, replicaClusters, namespace, names): '
      + 'primary_cluster is primaryCluster, but got ["primary_cluster"]'],
    ['ConfigParityCheck configMaps', (stack) => new ConfigParityCheck(stack, 'Parity', {
      regions: ['eu-west-1'],
      configMaps: [untyped({ primaryCluster: cluster('a', 'us-east-1'), replica_clusters: [cluster('b', 'eu-west-1')], names: ['app'] })],
    }), 'TestStack/Parity', 'configMaps[0] must name its keys as the members of ConfigMapParityScope (primaryCluster, replicaClusters, namespace, names): '
      + 'replica_clusters is replicaClusters, but got ["replica_clusters"]'],
    ['CrossRegionSecretReplicator crossAccountReplicas', (stack) => new CrossRegionSecretReplicator(stack, 'Replicator', {
      secrets: SecretSelection.byNamePrefix('prod/'),
      replicaRegions: ['eu-west-1'],
      crossAccountReplicas: [untyped({ region: 'eu-west-1', roleArn: ROLE, key_arn: KEY_ARN })],
    }), 'TestStack/Replicator', 'crossAccountReplicas[0] must name its keys as the members of CrossAccountReplica (region, roleArn, keyArn, aliasName): '
      + 'key_arn is keyArn, but got ["key_arn"]'],
    ['CrossRegionParameterReplicator crossAccountReplicas', (stack) => new CrossRegionParameterReplicator(stack, 'Replicator', {
      parameters: ParameterSelection.fromPaths(['/app/prod']),
      replicaRegions: ['eu-west-1'],
      crossAccountReplicas: [untyped({ region: 'eu-west-1', roleArn: ROLE, alias_name: 'alias/params' })],
    }), 'TestStack/Replicator', 'crossAccountReplicas[0] must name its keys as the members of CrossAccountParameterReplica (region, roleArn, keyArn, aliasName): '
      + 'alias_name is aliasName, but got ["alias_name"]'],
    ['replicaKmsKeys with one form given right and the other in snake_case', (stack) => new CrossRegionSecretReplicator(stack, 'Replicator', {
      secrets: SecretSelection.byNamePrefix('prod/'),
      replicaRegions: ['eu-west-1'],
      replicaKmsKeys: [untyped({ region: 'eu-west-1', keyArn: KEY_ARN, alias_name: 'alias/secrets' })],
    }), 'TestStack/Replicator', 'replicaKmsKeys[0] must name its keys as the members of ReplicaKmsKey (region, keyArn, aliasName): '
      + 'alias_name is aliasName, but got ["alias_name"]'],
  ])('%s', (_name, build, path, message) => {
    expect(() => build(newStack())).toThrow(at(path, message));
  });

  test('a replica KMS key with only the snake_case form keeps its message (exactly one of keyArn and aliasName)', () => {
    expect(() => new CrossRegionSecretReplicator(newStack(), 'Replicator', {
      secrets: SecretSelection.byNamePrefix('prod/'),
      replicaRegions: ['eu-west-1'],
      replicaKmsKeys: [untyped({ region: 'eu-west-1', alias_name: 'alias/secrets' })],
    })).toThrow('replicaKmsKeys[0] must set exactly one of keyArn and aliasName');
  });
});

describe('passes', () => {
  test('a wider object: keys that are not a member spelled otherwise are left alone, as TypeScript allows', () => {
    const wider = { cluster: cluster('app-eu', 'eu-west-1'), configMapName: 'other', owner: 'team-a', notes_for_ops: 'x' };
    const targets: ConfigMapSyncTarget[] = [wider];
    const syncer = new ConfigMapSyncer(newStack(), 'Syncer', { parameterPath: '/app/prod/config', targets });
    expect(syncer.targetClusters).toHaveLength(1);
  });

  test('a snake_case key whose value is undefined, and values that are not objects, are left to the other checks', () => {
    const members = structMembers<ConfigMapSyncTarget>({
      cluster: true, namespace: true, configMapName: true, createNamespace: true, workloads: true,
    });
    expect(() => validateStructKeys('targets[0]', 'ConfigMapSyncTarget', { cluster: {}, config_map_name: undefined }, members)).not.toThrow();
    for (const value of [undefined, null, 'x', 1, []]) {
      expect(() => validateStructKeys('targets[0]', 'ConfigMapSyncTarget', value, members)).not.toThrow();
    }
  });
});

test('structMembers lists the members in declaration order', () => {
  expect(structMembers<ConfigMapSyncTarget>({ cluster: true, namespace: true, configMapName: true, createNamespace: true, workloads: true }))
    .toEqual(['cluster', 'namespace', 'configMapName', 'createNamespace', 'workloads']);
});
