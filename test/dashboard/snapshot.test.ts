import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as eks from 'aws-cdk-lib/aws-eks';
import {
  ConfigDriftDetector, ConfigMapSyncer, ConflictPolicy, CrossRegionConfigDashboard, CrossRegionSecretReplicator, KubernetesCluster,
  MultiRegionPipeline, SecretSelection,
} from '../../src';
import { ACCOUNT, blueGreenProps, PRIMARY } from '../multi-region-pipeline/util';

/** Replaces asset hashes (which change with every handler change) with a placeholder. */
function withoutAssetHashes(value: unknown): unknown {
  if (typeof value === 'string') return value.replace(/[0-9a-f]{64}/g, '<asset hash>');
  if (Array.isArray(value)) return value.map(withoutAssetHashes);
  if (value !== null && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, withoutAssetHashes(v)]));
  return value;
}

test('synthesizes the dashboard of the representative stack of the snapshot', () => {
  const stack = new Stack(new App(), 'TestStack', { env: { account: ACCOUNT, region: PRIMARY } });
  const replicator = new CrossRegionSecretReplicator(stack, 'Replicator', {
    secrets: SecretSelection.byNamePrefix('genai-demo/production/'),
    replicaRegions: ['eu-west-1', 'ap-southeast-1'],
    conflictPolicy: ConflictPolicy.SKIP_AND_ALARM,
  });
  const driftDetector = new ConfigDriftDetector(stack, 'DriftDetector', { replicator, parameterPaths: ['/genai-demo/production'] });
  const local = eks.Cluster.fromClusterAttributes(stack, 'Cluster', {
    clusterName: 'genai-demo-us',
    clusterEndpoint: 'https://0123456789ABCDEF.gr7.us-east-1.eks.amazonaws.com',
    clusterCertificateAuthorityData: 'Y2E=',
  });
  const configMapSyncer = new ConfigMapSyncer(stack, 'ConfigMapSyncer', {
    parameterPath: '/genai-demo/production/config',
    projectName: 'genai-demo',
    environmentName: 'production',
    targets: [
      { cluster: KubernetesCluster.fromCluster(local) },
      { cluster: KubernetesCluster.fromClusterAttributes({ clusterName: 'genai-demo-eu', region: 'eu-west-1' }), namespace: 'genai-demo' },
    ],
  });
  const pipeline = new MultiRegionPipeline(stack, 'Pipeline', blueGreenProps(stack));
  new CrossRegionConfigDashboard(stack, 'Dashboard', { replicator, driftDetector, configMapSyncer, pipeline, dashboardName: 'genai-demo-cross-region-config' });

  const [dashboard] = Object.values(Template.fromStack(stack).findResources('AWS::CloudWatch::Dashboard')) as any[];
  expect(dashboard.Properties.DashboardName).toBe('genai-demo-cross-region-config');
  // The body is a JSON string joined with CloudFormation values; the snapshot keeps it readable as JSON.
  const parts: unknown[] = dashboard.Properties.DashboardBody['Fn::Join'][1];
  const body = JSON.parse(parts.map((p) => (typeof p === 'string' ? p : `<${JSON.stringify(p).replace(/"/g, '\'')}>`)).join(''));
  expect(withoutAssetHashes(body)).toMatchSnapshot();
});
