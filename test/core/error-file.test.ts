import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import * as eks from 'aws-cdk-lib/aws-eks';
import * as eksv2 from 'aws-cdk-lib/aws-eks-v2';
import { ConfigDriftDetector, ConfigMapSyncer, KubernetesCluster } from '../../src';

/**
 * The CDK CLI sets CDK_ERROR_FILE for the app it runs; aws-cdk-lib writes an error's code there when
 * one of its validation errors is constructed, even when the error is caught. A synth that succeeds
 * must leave no such file, or the CLI reports an error.
 */
describe('a successful synth leaves no CLI error file', () => {
  let dir: string;
  let errorFile: string;
  const previous = process.env.CDK_ERROR_FILE;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'error-file-'));
    errorFile = join(dir, 'error.txt');
    process.env.CDK_ERROR_FILE = errorFile;
  });

  afterEach(() => {
    if (previous === undefined) delete process.env.CDK_ERROR_FILE;
    else process.env.CDK_ERROR_FILE = previous;
    rmSync(dir, { recursive: true, force: true });
  });

  test.each([
    ['aws-eks', (stack: Stack) => KubernetesCluster.fromCluster(eks.Cluster.fromClusterAttributes(stack, 'Imported', { clusterName: 'prod' }))],
    ['aws-eks-v2', (stack: Stack) => KubernetesCluster.fromClusterV2(eksv2.Cluster.fromClusterAttributes(stack, 'Imported', { clusterName: 'prod' }))],
  ])('with imported %s clusters given neither endpoint nor certificate authority data', (_module, importCluster) => {
    const app = new App({ outdir: join(dir, 'cdk.out') });
    const stack = new Stack(app, 'TestStack', { env: { region: 'us-east-1' } });
    const primary = importCluster(stack);
    // A cluster imported into another region's stack, used from this one.
    const replica = importCluster(new Stack(app, 'ReplicaStack', { env: { region: 'eu-west-1' } }));
    new ConfigMapSyncer(stack, 'Syncer', { parameterPath: '/app/prod/config', configMapName: 'app-config', targets: [{ cluster: primary }, { cluster: replica }] });
    new ConfigDriftDetector(stack, 'Detector', { configMaps: [{ primaryCluster: primary, replicaClusters: [replica], names: ['app-config'] }] });
    app.synth();
    expect(existsSync(errorFile)).toBe(false);
  });

  test('the file is written when aws-cdk-lib raises an error (the check can fail)', () => {
    const stack = new Stack(new App(), 'TestStack', { env: { region: 'us-east-1' } });
    const imported = eks.Cluster.fromClusterAttributes(stack, 'Imported', { clusterName: 'prod' });
    expect(() => imported.clusterCertificateAuthorityData).toThrow();
    expect(existsSync(errorFile)).toBe(true);
  });
});
