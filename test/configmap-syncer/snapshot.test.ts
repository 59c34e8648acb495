import { Duration } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as eks from 'aws-cdk-lib/aws-eks';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { ConfigMapSyncer, KubernetesCluster, KubernetesPermissions, WorkloadKind, WorkloadSelection } from '../../src';
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
  const local = eks.Cluster.fromClusterAttributes(stack, 'Cluster', {
    clusterName: 'genai-demo-us',
    clusterEndpoint: 'https://0123456789ABCDEF.gr7.us-east-1.eks.amazonaws.com',
    clusterCertificateAuthorityData: 'Y2E=',
  });
  const secret = secretsmanager.Secret.fromSecretNameV2(stack, 'AppSecret', 'genai-demo/production/app');
  new ConfigMapSyncer(stack, 'ConfigMapSyncer', {
    parameterPath: '/genai-demo/production/config',
    sourceSecret: secret,
    projectName: 'genai-demo',
    environmentName: 'production',
    includeKeys: ['log_level', 'cache_ttl', 'max_connections', 'session_timeout'],
    targets: [
      { cluster: KubernetesCluster.fromCluster(local) },
      { cluster: KubernetesCluster.fromClusterAttributes({ clusterName: 'genai-demo-eu', region: 'eu-west-1' }), namespace: 'genai-demo', createNamespace: true },
    ],
    parameterPrefix: '/genai-demo/production',
  });
  const template = Template.fromStack(stack).toJSON();
  expect(JSON.stringify(template)).toMatch(/[0-9a-f]{64}/);
  expect(withoutAssetHashes(template)).toMatchSnapshot();
});

test('synthesizes the representative stack of a syncer that rolls workloads', () => {
  const stack = newStack();
  const local = eks.Cluster.fromClusterAttributes(stack, 'Cluster', {
    clusterName: 'genai-demo-us',
    clusterEndpoint: 'https://0123456789ABCDEF.gr7.us-east-1.eks.amazonaws.com',
    clusterCertificateAuthorityData: 'Y2E=',
  });
  new ConfigMapSyncer(stack, 'ConfigMapSyncer', {
    parameterPath: '/genai-demo/production/config',
    projectName: 'genai-demo',
    environmentName: 'production',
    targets: [
      { cluster: KubernetesCluster.fromCluster(local), workloads: [WorkloadSelection.named(WorkloadKind.DEPLOYMENT, 'web')] },
      {
        cluster: KubernetesCluster.fromClusterAttributes({ clusterName: 'genai-demo-eu', region: 'eu-west-1' }),
        namespace: 'genai-demo',
        workloads: [WorkloadSelection.byLabels(WorkloadKind.DEPLOYMENT, 'app.kubernetes.io/part-of=genai-demo')],
      },
    ],
    rollout: { regionByRegion: true, pause: Duration.minutes(1), rolloutTimeout: Duration.minutes(15) },
  });
  expect(withoutAssetHashes(Template.fromStack(stack).toJSON())).toMatchSnapshot();
});

test('synthesizes the representative stack of a syncer granted by Kubernetes RBAC', () => {
  const stack = newStack();
  const local = eks.Cluster.fromClusterAttributes(stack, 'Cluster', {
    clusterName: 'genai-demo-us',
    clusterEndpoint: 'https://0123456789ABCDEF.gr7.us-east-1.eks.amazonaws.com',
    clusterCertificateAuthorityData: 'Y2E=',
  });
  new ConfigMapSyncer(stack, 'ConfigMapSyncer', {
    parameterPath: '/genai-demo/production/config',
    projectName: 'genai-demo',
    environmentName: 'production',
    kubernetesPermissions: KubernetesPermissions.rbac({ groupName: 'genai-demo-config-syncer' }),
    targets: [
      { cluster: KubernetesCluster.fromCluster(local), workloads: [WorkloadSelection.named(WorkloadKind.DEPLOYMENT, 'web')] },
      { cluster: KubernetesCluster.fromClusterAttributes({ clusterName: 'genai-demo-eu', region: 'eu-west-1' }), namespace: 'genai-demo' },
    ],
  });
  const template = Template.fromStack(stack).toJSON();
  expect(withoutAssetHashes(template)).toMatchSnapshot();
});
