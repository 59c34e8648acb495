/**
 * The Quick start main job: synthesizes the demo app (test/demo/demo-app.ts: the example secrets,
 * drift and ConfigMap stack, and a blue-green pipeline stack), then runs every handler's real
 * bundle, with its synthesized environment, against local emulators: moto server for AWS, a real
 * kube-apiserver for EKS, a local HTTP server for the service's slots and a fake CodePipeline API.
 * It ends with where each piece would be in AWS. Secret and parameter values are never printed;
 * every handler log line, result and report is scanned for them at the end.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { IConstruct } from 'constructs';
import { buildDemoApp, DEMO_CLUSTER, DEMO_CONFIGMAP, DEMO_NAMESPACE, DEMO_PARAMETER_PREFIX, DemoObservabilityStack } from './demo-app';
import { runParityGate } from './parity-demo';
import { runParameterReplicator } from './parameter-demo';
import { PipelineFacts, runPipeline } from './pipeline-demo';
import { DriftFacts, runReplicatorAndDetector } from './replicator-demo';
import { CfnResources, cfnProperties, Demo, elapsed, logicalId, step } from './support';
import { runConfigMapSyncer, SyncerFacts } from './syncer-demo';
import { ConfigWorld } from '../drift-detector/world';
import { startFaultProxy } from '../harness/fault-proxy';
import { KubeCluster, startKubeCluster, StsKeyring } from '../harness/kube';
import { startMotoServer } from '../harness/moto';
import { EXAMPLE_PRIMARY, EXAMPLE_REPLICAS } from '../integ/integ.secret-replicator';

async function main() {
  const started = process.hrtime.bigint();

  step('Synthesizing the demo app: the three-region config stack, the blue-green pipeline stack and the dashboard stack');
  const t0 = process.hrtime.bigint();
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'crc-demo-'));
  const { app, config, pipeline, observability } = buildDemoApp(outdir);
  const assembly = app.synth();
  const templateOf = (stack: Stack) => JSON.parse(fs.readFileSync(path.join(assembly.directory, stack.templateFile), 'utf8')).Resources as CfnResources;
  const configResources = templateOf(config);
  const pipelineResources = templateOf(pipeline);
  const observabilityResources = templateOf(observability);
  console.log(`synthesized in ${elapsed(t0)} to ${outdir}`);
  console.log(`stack ${config.stackName} (${EXAMPLE_PRIMARY} -> ${EXAMPLE_REPLICAS.join(', ')}; ConfigMaps in ${DEMO_CLUSTER.clusterName}, ${DEMO_CLUSTER.region}): ${resourceCounts(configResources)}`);
  console.log(`stack ${pipeline.stackName} (${pipeline.pipeline.regions.join(' -> ')}, blue-green): ${resourceCounts(pipelineResources)}, `
    + `${pipeline.pipeline.applicationStages.length} application stages`);
  console.log(`stack ${observability.stackName}: ${resourceCounts(observabilityResources)}`);

  step('Starting the local emulators: moto server (every region in one process) and a kube-apiserver for the EKS cluster');
  const moto = await startMotoServer();
  const proxy = await startFaultProxy({ target: moto.endpoint });
  const keyring = new StsKeyring();
  // The apiserver takes seconds to start: it starts now, and the syncer part waits for it.
  const clusterReady: Promise<KubeCluster> = startKubeCluster({
    name: DEMO_CLUSTER.clusterName, region: DEMO_CLUSTER.region, motoEndpoint: proxy.endpoint, keyring,
  });
  clusterReady.catch(() => undefined);
  console.log(`moto at ${moto.endpoint}, behind a fault-injecting proxy at ${proxy.endpoint} that every handler calls; `
    + `kube-apiserver ${DEMO_CLUSTER.clusterName} starting in the background`);

  const demo: Demo = {
    outdir: assembly.directory,
    config,
    configResources,
    pipelineStack: pipeline,
    pipelineResources,
    proxy,
    motoEndpoint: moto.endpoint,
    world: new ConfigWorld(moto.endpoint),
    awsEnv: {
      PATH: process.env.PATH,
      AWS_ENDPOINT_URL: proxy.endpoint,
      AWS_ACCESS_KEY_ID: 'testing',
      AWS_SECRET_ACCESS_KEY: 'testing',
      AWS_REGION: EXAMPLE_PRIMARY,
    },
    logLines: [],
    outputs: [],
    // A Parameter Store parameter's Ref is its name, known at synth.
    refs: Object.fromEntries(Object.entries(configResources)
      .filter(([, r]) => r.Type === 'AWS::SSM::Parameter' && typeof r.Properties?.Name === 'string')
      .map(([id, r]) => [id, r.Properties.Name as string])),
  };

  try {
    const drift = await runReplicatorAndDetector(demo);
    await runParameterReplicator(demo);
    const synced = await runConfigMapSyncer(demo, clusterReady, keyring);
    const pipelineFacts = await runPipeline(demo);
    const parity = await runParityGate(demo);
    await summarize(demo, observability, observabilityResources, drift, synced, pipelineFacts);

    const emf = demo.logLines.filter((l) => l.includes('"_aws"')).length;
    const leaked = demo.world.issuedValues.filter((v) => [...demo.logLines, ...demo.outputs].some((l) => l.includes(v))).length;
    console.log(`\nDone in ${elapsed(started)}: ${proxy.stats().forwarded} AWS API calls served by moto and ${pipelineFacts.codePipelineCalls + parity.codePipelineCalls} by the fake CodePipeline; `
      + `${demo.logLines.length} handler log lines (${emf} EMF metric documents) and ${demo.outputs.length} results and reports scanned: `
      + `${leaked} of the ${demo.world.issuedValues.length} secret and parameter values the demo wrote found in them.`);
    if (leaked > 0) process.exitCode = 1;
  } finally {
    await clusterReady.then((c) => c.stop(), () => undefined);
    await proxy.stop();
    await moto.stop();
  }
}

/** Where each piece would be in AWS, from the synthesized templates. */
async function summarize(
  demo: Demo, observability: DemoObservabilityStack, observabilityResources: CfnResources,
  drift: DriftFacts, synced: SyncerFacts, pipelineFacts: PipelineFacts,
): Promise<void> {
  const { config, pipelineStack, configResources, pipelineResources } = demo;
  const detector = config.detector;
  step('Where this would be in AWS');

  // Dashboard
  const dashboard = cfnProperties(observabilityResources, observability.dashboard.dashboard);
  const widgets = dashboardWidgets(dashboard.DashboardBody);
  const byType = Object.entries(widgets.reduce<Record<string, number>>((n, w) => ({ ...n, [w.type]: (n[w.type] ?? 0) + 1 }), {})).map(([t, n]) => `${n} ${t}`);
  console.log(`Dashboard: ${dashboard.DashboardName} (CloudWatch, stack ${observability.stackName} in ${observability.region}), ${widgets.length} widgets (${byType.join(', ')}): `
    + `https://${observability.region}.console.aws.amazon.com/cloudwatch/home?region=${observability.region}#dashboards/dashboard/${dashboard.DashboardName}`);
  console.log(`Metrics: CloudWatch namespaces ${[config.replicator.metricNamespace, detector.metricNamespace, config.syncer.metricNamespace, pipelineStack.pipeline.metricNamespace].join(', ')}`);

  // Drift reports
  const keys = await demo.world.keys(EXAMPLE_PRIMARY, drift.bucket, detector.reportPrefix);
  const latest = keys.find((k) => k.endsWith('latest.json'));
  console.log(`Drift reports here: s3://${drift.bucket}/${latest} and ${keys.length - 1} dated reports (one per scan) under s3://${drift.bucket}/${detector.reportPrefix}`);
  console.log(`Drift reports in AWS: the same keys in ${config.stackName}'s bucket ${logicalId(detector.reportBucket)} (AWS::S3::Bucket, name generated at deploy; `
    + `${versioningOf(configResources, detector.reportBucket)}), in ${EXAMPLE_PRIMARY}`);

  // Settings documents
  const documents = [configResources, pipelineResources].flatMap((resources) => Object.values(resources))
    .filter((r) => r.Type === 'AWS::SSM::Parameter' && typeof r.Properties?.Name === 'string' && r.Properties.Name.startsWith(`${DEMO_PARAMETER_PREFIX}/global/secrets/`))
    .map((r) => r.Properties.Name as string).sort();
  console.log(`Settings documents in Parameter Store (${EXAMPLE_PRIMARY}): ${documents.join(', ')}`);

  // The ConfigMap and the pipeline
  console.log(`ConfigMap: ${DEMO_NAMESPACE}/${DEMO_CONFIGMAP} in EKS cluster ${DEMO_CLUSTER.clusterName} (${DEMO_CLUSTER.region}), keys ${synced.keys.join(', ')}; `
    + `refused: ${Object.entries(synced.refused).map(([k, why]) => `${k} (${why})`).join(', ')}`);
  console.log(`Pipeline: CodePipeline V2 ${pipelineFacts.pipelineName} in ${pipelineStack.region}; its watcher runs on EventBridge rule ${logicalId(pipelineStack.pipeline.eventsRule)}`);

  // Alarms
  const alarms = [configResources, pipelineResources].flatMap((r) => Object.values(r)).filter((r) => r.Type === 'AWS::CloudWatch::Alarm');
  const unnotified = alarms.filter((r) => !(r.Properties?.AlarmActions?.length > 0)).length;
  console.log(`Alarms: ${alarms.length} CloudWatch alarms, ${unnotified === 0 ? 'each notifying an SNS topic' : `${unnotified} of them without an action`}:`);
  const alarmLine = (owner: IConstruct, ownAlarms: cloudwatch.IAlarm[], topic: IConstruct) => console.log(
    `  ${owner.node.path}: ${ownAlarms.map((a) => a.node.path.slice(owner.node.path.length + 1)).join(', ')} -> ${topic.node.path}`);
  alarmLine(config.replicator, config.replicator.alarms, config.alerts);
  alarmLine(config.parameters, config.parameters.alarms, config.alerts);
  alarmLine(detector, detector.alarms, config.alerts);
  alarmLine(config.syncer, config.syncer.alarms, config.alerts);
  alarmLine(pipelineStack.pipeline, pipelineStack.pipeline.alarms, pipelineStack.alerts);
}

/** The widgets of a synthesized dashboard body; deploy-time values in it (alarm ARNs and the like) read as placeholders. */
function dashboardWidgets(body: unknown): Array<{ type: string }> {
  const parts: unknown[] = typeof body === 'string' ? [body] : (body as any)?.['Fn::Join']?.[1] ?? [];
  return JSON.parse(parts.map((p) => (typeof p === 'string' ? p : 'DEPLOY-TIME-VALUE')).join('')).widgets;
}

function resourceCounts(resources: CfnResources): string {
  const counts: Record<string, number> = {};
  for (const r of Object.values(resources)) counts[r.Type] = (counts[r.Type] ?? 0) + 1;
  const total = Object.values(resources).length;
  // The six most frequent types: the full list is in the template.
  const types = Object.entries(counts).sort(([a, x], [b, y]) => y - x || (a < b ? -1 : 1));
  const top = types.slice(0, 6).map(([type, n]) => `${n} ${type.replace(/^AWS::/, '')}`);
  return `${total} resource${total === 1 ? '' : 's'} (${top.join(', ')}${types.length > top.length ? ', ...' : ''})`;
}

function versioningOf(resources: CfnResources, bucket: IConstruct): string {
  const properties = cfnProperties(resources, bucket);
  return `versioning ${properties?.VersioningConfiguration?.Status === 'Enabled' ? 'on' : 'off'}, encryption ${properties?.BucketEncryption?.ServerSideEncryptionConfiguration?.[0]?.ServerSideEncryptionByDefault?.SSEAlgorithm ?? 'default'}`;
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
