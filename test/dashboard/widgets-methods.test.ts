import { App, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { ConfigDriftDetector, ConfigMapSyncer, CrossRegionSecretReplicator, KubernetesCluster, MultiRegionPipeline, SecretSelection } from '../../src';
import { syncerDashboardWidgets } from '../../src/configmap-syncer/dashboard';
import { driftDetectorDashboardWidgets } from '../../src/drift-detector/dashboard';
import { pipelineDashboardWidgets } from '../../src/multi-region-pipeline/dashboard';
import { replicatorDashboardWidgets } from '../../src/secret-replicator/dashboard';
import { minimalProps } from '../multi-region-pipeline/util';

/** A widget list as CloudWatch receives it. */
const rendered = (stack: Stack, widgets: cloudwatch.IWidget[]) => stack.resolve(widgets.flatMap((w) => w.toJson()));

test('each construct\'s dashboardWidgets() renders what its dashboard section builder renders', () => {
  const app = new App();
  const stack = new Stack(app, 'S', { env: { account: '111111111111', region: 'us-east-1' } });
  const replicator = new CrossRegionSecretReplicator(stack, 'Replicator', { secrets: SecretSelection.byNamePrefix('app/'), replicaRegions: ['eu-west-1'] });
  const detector = new ConfigDriftDetector(stack, 'Detector', { replicator });
  const syncer = new ConfigMapSyncer(stack, 'Syncer', {
    parameterPath: '/app/config',
    configMapName: 'app-config',
    targets: [{ cluster: KubernetesCluster.fromClusterAttributes({ clusterName: 'app-eu', region: 'eu-west-1' }) }],
  });
  const pipeline = new MultiRegionPipeline(stack, 'Pipeline', minimalProps());

  expect(rendered(stack, replicator.dashboardWidgets())).toEqual(rendered(stack, replicatorDashboardWidgets(replicator)));
  expect(rendered(stack, detector.dashboardWidgets())).toEqual(rendered(stack, driftDetectorDashboardWidgets(detector)));
  expect(rendered(stack, syncer.dashboardWidgets())).toEqual(rendered(stack, syncerDashboardWidgets(syncer)));
  expect(rendered(stack, pipeline.dashboardWidgets())).toEqual(rendered(stack, pipelineDashboardWidgets(pipeline)));
  // And they are real widgets, with metrics.
  expect(JSON.stringify(rendered(stack, syncer.dashboardWidgets()))).toContain('"SyncFailure"');
  expect(syncer.targetClusters.map((c) => `${c.region}/${c.clusterName}`)).toEqual(['eu-west-1/app-eu']);
  expect(replicator.targetRegions).toEqual(['eu-west-1']);
});
