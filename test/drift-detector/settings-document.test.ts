import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { ConfigDriftDetector, KubernetesCluster } from '../../src';
import { DriftEnv } from '../../src/drift-detector/contract';
import { SETTINGS_DOCUMENT_ENV } from '../../src/private/settings-contract';

const EKS_CA = Buffer.from('x'.repeat(1090)).toString('base64');

describe('ConfigDriftDetector settings', () => {
  test('synthesizes 500 parameter paths and 30 ConfigMap scopes with CAs in a settings document, with no cdk-nag finding', () => {
    const app = new App();
    const stack = new Stack(app, 'DriftStack', { env: { region: 'us-east-1' } });
    const cluster = (name: string, region: string) => KubernetesCluster.fromClusterAttributes({
      clusterName: name, region, clusterEndpoint: `https://${name.toUpperCase().padEnd(32, '0')}.gr7.${region}.eks.amazonaws.com`, clusterCertificateAuthorityData: EKS_CA,
    });
    const detector = new ConfigDriftDetector(stack, 'Detector', {
      replicaRegions: ['eu-west-1'],
      parameterPaths: Array.from({ length: 500 }, (_, i) => `/fleet/service-${i}/config`),
      configMaps: Array.from({ length: 30 }, (_, i) => ({
        primaryCluster: cluster(`primary-${i}`, 'us-east-1'), replicaClusters: [cluster(`replica-${i}`, 'eu-west-1')], names: ['app-config'],
      })),
    });
    const template = Template.fromStack(stack);
    const [fn] = Object.values(template.findResources('AWS::Lambda::Function')) as any[];
    const env = fn.Properties.Environment.Variables;
    expect(env[DriftEnv.PARAMETER_PATHS]).toBeUndefined();
    expect(env[DriftEnv.CONFIGMAP_SCOPES]).toBeUndefined();
    expect(env[SETTINGS_DOCUMENT_ENV]).toBeDefined();
    expect(Object.keys(template.findResources('AWS::SSM::Parameter')).length).toBeGreaterThan(20);
    expect(detector.settingsParameters).toHaveLength(Object.keys(template.findResources('AWS::SSM::Parameter')).length);
    const findings = new AwsSolutionsChecks().validateScope(app).violations
      .flatMap((v) => v.violatingResources.filter((r) => r.constructPath?.startsWith('DriftStack/Detector/')).map((r) => `${v.ruleName} ${r.constructPath}`));
    expect(findings).toEqual([]);
  });
});
