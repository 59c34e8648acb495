/**
 * The app the Quick start demo synthesizes and runs: the example three-region secrets and drift
 * stack (integ.config-drift-detector.ts) plus a ConfigMapSyncer into an EKS cluster in eu-west-1,
 * a blue-green MultiRegionPipeline stack for the example service, and an observability stack with
 * the CloudWatch dashboard of all four constructs. Every settings document goes under the same
 * prefix, `/genai-demo/production/global/secrets/`.
 */
import { App, Duration, Stack, StackProps } from 'aws-cdk-lib';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { DEMO_ENDPOINT_PARAMETER, DEMO_ENDPOINT_TEMPLATE, DEMO_REPLICATED_PATH } from './parameter-demo';
import {
  ConfigMapSyncer, ConfigParityCheck, CrossRegionConfigDashboard, CrossRegionParameterReplicator, DeploymentStrategy, HealthCheck,
  KubernetesCluster, MultiRegionPipeline, ParameterOverride, ParameterSelection, PipelineSource, SecretSelection, TrafficSwitch,
  WorkloadKind, WorkloadSelection,
} from '../../src';
import { ConfigStack, EXAMPLE_PARAMETER_PATH } from '../integ/integ.config-drift-detector';
import { EXAMPLE_ACCOUNT, EXAMPLE_REGIONS, ExampleServiceStages } from '../integ/integ.multi-region-pipeline';
import { EXAMPLE_PRIMARY, EXAMPLE_REPLICAS } from '../integ/integ.secret-replicator';

/** The prefix of every settings document of the demo app. */
export const DEMO_PARAMETER_PREFIX = '/genai-demo/production';
/** The EKS cluster the syncer writes to: created outside this app, in another region. */
export const DEMO_CLUSTER = { clusterName: 'genai-demo', region: 'eu-west-1' };
export const DEMO_NAMESPACE = 'genai-demo';
export const DEMO_CONFIGMAP = 'app-config';
/** The Deployment that reads the ConfigMap: the syncer rolls it when the data changes. */
export const DEMO_DEPLOYMENT = 'genai-demo-api';
/** The name of the demo's CloudWatch dashboard. */
export const DEMO_DASHBOARD_NAME = 'genai-demo-production-cross-region-config';
/** The parameter the service routes itself by, in each region: `blue` or `green`. */
export const LIVE_SLOT_PARAMETER = '/example-service/live-slot';

/** The example secrets and drift stack, with a ConfigMapSyncer of the compared parameters. */
export class DemoConfigStack extends ConfigStack {
  /** Syncs the parameters under `EXAMPLE_PARAMETER_PATH` into a ConfigMap of `DEMO_CLUSTER`. */
  public readonly syncer: ConfigMapSyncer;
  /** Replicates the parameters under `DEMO_REPLICATED_PATH`, with each region's own API endpoint. */
  public readonly parameters: CrossRegionParameterReplicator;

  constructor(scope: Construct, id: string, props: StackProps = {}) {
    super(scope, id, props);
    this.parameters = new CrossRegionParameterReplicator(this, 'ParameterReplicator', {
      parameters: ParameterSelection.fromPaths([DEMO_REPLICATED_PATH]),
      replicaRegions: EXAMPLE_REPLICAS,
      overrides: [ParameterOverride.template(DEMO_ENDPOINT_PARAMETER, DEMO_ENDPOINT_TEMPLATE)],
      alarmActions: [new actions.SnsAction(this.alerts)],
    });
    this.syncer = new ConfigMapSyncer(this, 'ConfigMapSyncer', {
      parameterPath: EXAMPLE_PARAMETER_PATH,
      targets: [{
        cluster: KubernetesCluster.fromClusterAttributes(DEMO_CLUSTER),
        workloads: [WorkloadSelection.named(WorkloadKind.DEPLOYMENT, DEMO_DEPLOYMENT)],
      }],
      namespace: DEMO_NAMESPACE,
      configMapName: DEMO_CONFIGMAP,
      parameterPrefix: DEMO_PARAMETER_PREFIX,
      // Changes within 5 seconds make one rollout (the default is 30 seconds).
      rollout: { pause: Duration.seconds(5) },
    });
    this.syncer.addAlarmAction(new actions.SnsAction(this.alerts));
  }
}

/** A blue-green pipeline of the example service over the three regions, us-east-1 first. */
export class DemoPipelineStack extends Stack {
  /** The topic the pipeline's alarms and coordinated-rollback reports go to. */
  public readonly alerts: sns.Topic;
  public readonly pipeline: MultiRegionPipeline;
  /** The gate before each replica region: its secrets and parameters must agree with the primary's. */
  public readonly parity: ConfigParityCheck;

  constructor(scope: Construct, id: string, props: StackProps) {
    super(scope, id, props);
    this.alerts = new sns.Topic(this, 'PipelineAlerts', { enforceSSL: true });
    this.parity = new ConfigParityCheck(this, 'ConfigParity', {
      regions: EXAMPLE_REGIONS.slice(1),
      secrets: SecretSelection.byNamePrefix('prod/app/'),
      replicaKmsKeys: [{ region: 'eu-west-1', aliasName: 'alias/app-secrets' }],
      parameterPaths: [EXAMPLE_PARAMETER_PATH],
    });
    this.parity.addAlarmAction(new actions.SnsAction(this.alerts));
    this.pipeline = new MultiRegionPipeline(this, 'Pipeline', {
      source: PipelineSource.connection({
        connectionArn: `arn:aws:codeconnections:us-east-1:${EXAMPLE_ACCOUNT}:connection/0a1b2c3d-4e5f-6a7b-8c9d-0e1f2a3b4c5d`,
        owner: 'example-org',
        repository: 'example-service',
        branch: 'main',
      }),
      application: new ExampleServiceStages(),
      replicaRegions: EXAMPLE_REGIONS.slice(1),
      strategy: DeploymentStrategy.blueGreen({ trafficSwitch: TrafficSwitch.ssmParameter({ parameterName: LIVE_SLOT_PARAMETER }) }),
      // Two healthy answers a second apart, at most three requests: a short gate that keeps the demo quick.
      healthChecks: [HealthCheck.http('https://{slot}.{region}.api.example.com/health', {
        name: 'health',
        consecutiveSuccesses: 2,
        maxAttempts: 3,
        interval: Duration.seconds(1),
        timeout: Duration.seconds(2),
        latencyThreshold: Duration.millis(1500),
      })],
      bakeAlarmNames: ['example-service-{region}-{slot}-5xx'],
      bakeTime: Duration.minutes(15),
      notificationTopic: this.alerts,
      parameterPrefix: DEMO_PARAMETER_PREFIX,
      parityCheck: this.parity,
    });
    this.pipeline.addAlarmAction(new actions.SnsAction(this.alerts));
  }
}

/** The dashboard of the config stack's constructs and the pipeline, in a stack of its own. */
export class DemoObservabilityStack extends Stack {
  public readonly dashboard: CrossRegionConfigDashboard;

  constructor(scope: Construct, id: string, config: DemoConfigStack, pipeline: DemoPipelineStack, props: StackProps) {
    super(scope, id, props);
    this.dashboard = new CrossRegionConfigDashboard(this, 'Dashboard', {
      replicator: config.replicator,
      parameterReplicator: config.parameters,
      driftDetector: config.detector,
      configMapSyncer: config.syncer,
      pipeline: pipeline.pipeline,
      dashboardName: DEMO_DASHBOARD_NAME,
    });
  }
}

/** Builds the demo app (the config, pipeline and observability stacks) into `outdir`. */
export function buildDemoApp(outdir?: string): {
  app: App; config: DemoConfigStack; pipeline: DemoPipelineStack; observability: DemoObservabilityStack;
} {
  const app = new App({ outdir });
  const env = { account: EXAMPLE_ACCOUNT, region: EXAMPLE_PRIMARY };
  const config = new DemoConfigStack(app, 'CrossRegionConfig', { env });
  const pipeline = new DemoPipelineStack(app, 'GenaiDemoPipeline', { env });
  const observability = new DemoObservabilityStack(app, 'GenaiDemoObservability', config, pipeline, { env });
  return { app, config, pipeline, observability };
}
