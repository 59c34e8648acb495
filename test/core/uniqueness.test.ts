import { App, Stack } from 'aws-cdk-lib';
import { at } from './messages';
import {
  ConfigDriftDetector, ConfigMapSyncer, CrossRegionConfigManagement, CrossRegionSecretReplicator, KubernetesCluster, SecretSelection,
} from '../../src';

const secrets = SecretSelection.fromNames('app/db');
const cluster = KubernetesCluster.fromClusterAttributes({ clusterName: 'app-eu', region: 'eu-west-1' });
const stackIn = (app: App, id: string, region: string = 'us-east-1') => new Stack(app, id, { env: { region } });
const replicator = (stack: Stack, id: string, props: { parameterPrefix?: string; functionName?: string }) =>
  new CrossRegionSecretReplicator(stack, id, { secrets, replicaRegions: ['eu-west-1'], ...props });
const detector = (stack: Stack, id: string, props: { parameterPrefix?: string; functionName?: string }) =>
  new ConfigDriftDetector(stack, id, { secrets, replicaRegions: ['eu-west-1'], ...props });
const syncer = (stack: Stack, id: string, props: { parameterPrefix?: string; functionName?: string }) =>
  new ConfigMapSyncer(stack, id, { parameterPath: '/app/prod/config', configMapName: 'app-config', targets: [{ cluster }], ...props });
const oneStop = (stack: Stack, id: string) =>
  new CrossRegionConfigManagement(stack, id, { projectName: 'app', environment: 'prod', replicationRegions: ['eu-west-2'] });

describe('names unique in an app', () => {
  test('fails if two replicators in one stack have the same functionName, naming both paths', () => {
    const stack = stackIn(new App(), 'TestStack');
    replicator(stack, 'First', { functionName: 'secret-replicator' });
    expect(() => replicator(stack, 'Second', { functionName: 'secret-replicator' })).toThrow(at('TestStack/Second',
      'functionName must differ from the function name of TestStack/First: Lambda function names are unique in an account and region, '
      + 'but got "secret-replicator"'));
  });

  test('fails if a detector takes the function name of a syncer', () => {
    const stack = stackIn(new App(), 'TestStack');
    syncer(stack, 'Syncer', { functionName: 'config-fn' });
    expect(() => detector(stack, 'Detector', { functionName: 'config-fn' })).toThrow(at('TestStack/Detector',
      'functionName must differ from the function name of TestStack/Syncer: Lambda function names are unique in an account and region, '
      + 'but got "config-fn"'));
  });

  test.each([
    ['replicators', replicator, 'cross-region-config'],
    ['detectors', detector, 'drift-detection-config'],
    ['syncers', syncer, 'configmap-sync-config'],
  ])('fails if two %s in one stack have the same parameterPrefix', (_kind, build, document) => {
    const stack = stackIn(new App(), 'TestStack');
    build(stack, 'First', { parameterPrefix: '/app/prod' });
    expect(() => build(stack, 'Second', { parameterPrefix: '/app/prod' })).toThrow(at('TestStack/Second',
      `parameterPrefix must differ from that of TestStack/First: both would write the settings parameter "/app/prod/global/secrets/${document}" `
      + 'in us-east-1, but got "/app/prod"'));
  });

  test('fails if two stacks of one app write the same settings document, naming both paths', () => {
    const app = new App();
    replicator(stackIn(app, 'Blue'), 'Replicator', { parameterPrefix: '/app/prod' });
    expect(() => replicator(stackIn(app, 'Green'), 'Replicator', { parameterPrefix: '/app/prod' })).toThrow(at('Green/Replicator',
      'parameterPrefix must differ from that of Blue/Replicator: both would write the settings parameter "/app/prod/global/secrets/cross-region-config" '
      + 'in us-east-1, but got "/app/prod"'));
  });

  test('fails if two stacks of one app have one-stop constructs for the same project and environment, even in other regions', () => {
    const app = new App();
    oneStop(stackIn(app, 'East'), 'Config');
    expect(() => oneStop(stackIn(app, 'West', 'us-west-2'), 'Config')).toThrow(at('West/Config',
      'projectName and environment must differ from those of East/Config: one CrossRegionConfigManagement serves every region of a project '
      + 'and environment, but got {"projectName":"app","environment":"prod"}'));
  });

  test('fails if a one-stop construct writes the settings document of a replicator in another stack', () => {
    const app = new App();
    replicator(stackIn(app, 'Standalone'), 'Replicator', { parameterPrefix: '/app/prod' });
    expect(() => oneStop(stackIn(app, 'Managed'), 'Config')).toThrow(at('Managed/Config',
      'projectName and environment must differ from that of Standalone/Replicator: both would write the settings parameter '
      + '"/app/prod/global/secrets/cross-region-config" in us-east-1, but got "/app/prod"'));
  });

  test('accepts the same names in other regions, other apps, and different documents under one prefix', () => {
    const app = new App();
    replicator(stackIn(app, 'East'), 'Replicator', { parameterPrefix: '/app/prod', functionName: 'secret-replicator' });
    expect(() => replicator(stackIn(app, 'West', 'us-west-2'), 'Replicator', { parameterPrefix: '/app/prod', functionName: 'secret-replicator' }))
      .not.toThrow();
    expect(() => replicator(stackIn(new App(), 'East'), 'Replicator', { parameterPrefix: '/app/prod', functionName: 'secret-replicator' }))
      .not.toThrow();
    const stack = stackIn(new App(), 'TestStack');
    replicator(stack, 'Replicator', { parameterPrefix: '/app/prod' });
    expect(() => detector(stack, 'Detector', { parameterPrefix: '/app/prod' })).not.toThrow();
    expect(() => syncer(stack, 'Syncer', { parameterPrefix: '/app/prod' })).not.toThrow();
  });
});
