import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { CrossRegionConfigManagement, KubernetesCluster, SecretSelection } from '../../src';

const EKS_CA = Buffer.from('x'.repeat(1090)).toString('base64');

describe('CrossRegionConfigManagement settings', () => {
  test('synthesizes 2,000 named secrets, 50 ConfigMap targets and 300 drift paths: each function has its own settings document', () => {
    const app = new App();
    const stack = new Stack(app, 'SecretsStack', { env: { account: '111111111111', region: 'us-east-1' } });
    const clusters = Array.from({ length: 10 }, (_, i) => KubernetesCluster.fromClusterAttributes({
      clusterName: `fleet-${i}`, region: 'eu-west-1', clusterEndpoint: `https://${String(i).padStart(32, 'A')}.gr7.eu-west-1.eks.amazonaws.com`, clusterCertificateAuthorityData: EKS_CA,
    }));
    new CrossRegionConfigManagement(stack, 'Config', {
      projectName: 'fleet',
      environment: 'production',
      replicationRegions: ['eu-west-1'],
      replication: { secrets: SecretSelection.fromNames(...Array.from({ length: 2000 }, (_, i) => `fleet/service-${i}/config`)) },
      driftDetection: { parameterPaths: Array.from({ length: 300 }, (_, i) => `/fleet/service-${i}`) },
      configMapSync: { parameterPath: '/fleet/production/app', targets: clusters.flatMap((cluster) => ['a', 'b', 'c', 'd', 'e'].map((namespace) => ({ cluster, namespace }))) },
    });
    const template = Template.fromStack(stack);
    const paths = Object.values(template.findResources('AWS::Lambda::Function'))
      .map((fn: any) => fn.Properties.Environment.Variables.SETTINGS_DOCUMENT)
      .filter((v) => v !== undefined)
      .map((v) => JSON.parse(typeof v === 'string' ? v : JSON.stringify(v)).path ?? JSON.stringify(v));
    expect(paths).toHaveLength(3);
    expect(new Set(paths).size).toBe(3);
    const findings = new AwsSolutionsChecks().validateScope(app).violations
      .flatMap((v) => v.violatingResources.filter((r) => r.constructPath?.includes('/Settings')).map((r) => `${v.ruleName} ${r.constructPath}`));
    expect(findings).toEqual([]);
  });
});
