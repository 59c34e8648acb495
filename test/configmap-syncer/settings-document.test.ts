import { App, Fn, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as eks from 'aws-cdk-lib/aws-eks';
import { AwsSolutionsChecks } from 'cdk-nag';
import { ConfigMapSyncer, ConfigMapSyncTarget, KubernetesCluster } from '../../src';
import { SyncEnv } from '../../src/configmap-syncer/contract';
import { SETTINGS_DOCUMENT_ENV } from '../../src/private/settings-contract';

/** base64 of the length of an EKS cluster's certificateAuthority.data (about 1,450 characters; 1,900 here). */
const EKS_CA = Buffer.from('x'.repeat(1425)).toString('base64');

function syncerApp(targets: ConfigMapSyncTarget[]) {
  const app = new App();
  const stack = new Stack(app, 'SyncStack', { env: { region: 'us-east-1' } });
  const syncer = new ConfigMapSyncer(stack, 'Syncer', { parameterPath: '/app/prod', configMapName: 'app-config', targets });
  return { app, stack, syncer, template: Template.fromStack(stack) };
}

function cluster(i: number, region = 'eu-west-1'): KubernetesCluster {
  return KubernetesCluster.fromClusterAttributes({
    clusterName: `fleet-${i}`, region, clusterEndpoint: `https://${String(i).padStart(32, 'A')}.gr7.${region}.eks.amazonaws.com`, clusterCertificateAuthorityData: EKS_CA,
  });
}

function variables(template: Template): Record<string, unknown> {
  const [fn] = Object.values(template.findResources('AWS::Lambda::Function')) as any[];
  return fn.Properties.Environment.Variables;
}

describe('ConfigMapSyncer settings', () => {
  test('keeps one target with an EKS-sized CA in the environment', () => {
    const { template, syncer } = syncerApp([{ cluster: cluster(0) }]);
    expect(syncer.settingsParameters).toEqual([]);
    expect(variables(template)[SyncEnv.TARGETS]).toEqual(expect.stringContaining(EKS_CA));
    expect(variables(template)[SETTINGS_DOCUMENT_ENV]).toBeUndefined();
    template.resourceCountIs('AWS::SSM::Parameter', 0);
  });

  test('synthesizes three namespaces of one cluster with an EKS-sized CA (the targets move to the settings document)', () => {
    const { template, syncer } = syncerApp(['a', 'b', 'c'].map((namespace) => ({ cluster: cluster(0), namespace })));
    expect(variables(template)[SyncEnv.TARGETS]).toBeUndefined();
    expect(variables(template)[SETTINGS_DOCUMENT_ENV]).toBeDefined();
    const chunks = Object.values(template.findResources('AWS::SSM::Parameter')) as any[];
    expect(chunks.length).toBeGreaterThanOrEqual(2);
    const fnId = Object.keys(template.findResources('AWS::Lambda::Function'))[0];
    expect((template.toJSON().Resources[fnId].DependsOn as string[]).filter((d) => d.startsWith('SyncerSettingsChunk'))).toHaveLength(chunks.length);
    expect(syncer.settingsParameters).toHaveLength(chunks.length);
  });

  test('synthesizes 50 targets with EKS-sized CAs across clusters and namespaces, with no cdk-nag finding', () => {
    const app = new App();
    const stack = new Stack(app, 'SyncStack', { env: { region: 'us-east-1' } });
    const imported = [0, 1, 2, 3, 4].map((i) => KubernetesCluster.fromCluster(eks.Cluster.fromClusterAttributes(stack, `Imported${i}`, {
      clusterName: `local-${i}`, clusterEndpoint: Fn.importValue(`local-${i}-endpoint`), clusterCertificateAuthorityData: Fn.importValue(`local-${i}-ca`),
    })));
    const targets = [
      ...Array.from({ length: 25 }, (_, i) => ({ cluster: cluster(i, ['eu-west-1', 'us-west-2', 'ap-southeast-2'][i % 3]) })),
      ...imported.flatMap((c) => ['a', 'b', 'c', 'd', 'e'].map((namespace) => ({ cluster: c, namespace }))),
    ];
    new ConfigMapSyncer(stack, 'Syncer', { parameterPath: '/app/prod', configMapName: 'app-config', targets });
    const template = Template.fromStack(stack);
    const parameters = Object.values(template.findResources('AWS::SSM::Parameter')) as any[];
    // 25 literal CAs of 1,900 bytes and 25 imported ones counted as 2,048 bytes each: at least 13 chunks.
    expect(parameters.length).toBeGreaterThanOrEqual(13);
    expect(JSON.stringify(parameters)).toContain('Fn::ImportValue');
    const findings = new AwsSolutionsChecks().validateScope(app).violations
      .flatMap((v) => v.violatingResources.filter((r) => r.constructPath?.startsWith('SyncStack/Syncer/')).map((r) => `${v.ruleName} ${r.constructPath}`));
    expect(findings).toEqual([]);
  });
});
