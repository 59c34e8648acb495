/**
 * A three-region blue-green MultiRegionPipeline for an example service: us-east-1 first, then
 * eu-west-1 and ap-southeast-2. Each region runs the service twice, in a blue and a green slot
 * (one stack each); an SSM parameter per region names the live slot, and the service routes itself
 * by it. Each slot stack has the 5xx alarm the pipeline bakes on. Deployable as it is, after
 * replacing the connection ARN and the health-check URLs:
 *
 *   npx cdk --app "npx ts-node --project tsconfig.dev.json test/integ/integ.multi-region-pipeline.ts" synth
 */
import { App, Duration, Stack, StackProps, Stage } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as ssm from 'aws-cdk-lib/aws-ssm';
import { Construct } from 'constructs';
import {
  DeploymentStrategy, HealthCheck, IRegionalStageFactory, MultiRegionPipeline, PipelineSource, RegionalStageContext, TrafficSwitch,
} from '../../src';

export const EXAMPLE_ACCOUNT = '123456789012';
export const EXAMPLE_REGIONS = ['us-east-1', 'eu-west-1', 'ap-southeast-2'];

/** One slot of the example service in one region: its version marker and its 5xx alarm. */
class ServiceStack extends Stack {
  constructor(scope: Construct, id: string, context: RegionalStageContext, props: StackProps) {
    super(scope, id, props);
    const slot = context.slot ?? 'single';
    new ssm.StringParameter(this, 'Version', {
      parameterName: `/example-service/${slot}/version`,
      stringValue: process.env.CODEBUILD_RESOLVED_SOURCE_VERSION ?? 'local',
    });
    new cloudwatch.Alarm(this, 'ServerErrors', {
      alarmName: `example-service-${context.region}-${slot}-5xx`,
      metric: new cloudwatch.Metric({ namespace: 'ExampleService', metricName: 'ServerErrors', dimensionsMap: { Slot: slot }, statistic: 'Sum' }),
      threshold: 5, // 5xx responses per minute
      evaluationPeriods: 3,
      datapointsToAlarm: 2,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
  }
}

/** The stage factory: a stage with the service stack for each region and slot. */
export class ExampleServiceStages implements IRegionalStageFactory {
  public createStage(scope: Construct, id: string, context: RegionalStageContext): Stage {
    const stage = new Stage(scope, id, { env: { account: context.account, region: context.region } });
    new ServiceStack(stage, 'Service', context, {});
    return stage;
  }
}

/** The pipeline stack: the pipeline, its alarm topic and the gitops-config document. */
export class PipelineStack extends Stack {
  public readonly pipeline: MultiRegionPipeline;

  constructor(scope: Construct, id: string, props: StackProps) {
    super(scope, id, props);
    const alerts = new sns.Topic(this, 'PipelineAlerts', { enforceSSL: true });
    this.pipeline = new MultiRegionPipeline(this, 'Pipeline', {
      source: PipelineSource.connection({
        connectionArn: `arn:aws:codeconnections:us-east-1:${EXAMPLE_ACCOUNT}:connection/0a1b2c3d-4e5f-6a7b-8c9d-0e1f2a3b4c5d`,
        owner: 'example-org',
        repository: 'example-service',
        branch: 'main',
      }),
      application: new ExampleServiceStages(),
      replicaRegions: EXAMPLE_REGIONS.slice(1),
      strategy: DeploymentStrategy.blueGreen({
        trafficSwitch: TrafficSwitch.ssmParameter({ parameterName: '/example-service/live-slot' }),
      }),
      healthChecks: [
        HealthCheck.http('https://{slot}.{region}.api.example.com/health', { name: 'health', latencyThreshold: Duration.millis(1500) }),
      ],
      bakeAlarmNames: ['example-service-{region}-{slot}-5xx'],
      bakeTime: Duration.minutes(15),
      deploymentWindow: { cron: '* * 8-16 ? * MON-THU', timeZone: 'Europe/Berlin' },
      notificationTopic: alerts,
      parameterPrefix: '/example-service/production',
    });
    this.pipeline.addAlarmAction(new actions.SnsAction(alerts));
  }
}

/** Builds the example app; `outdir` defaults to a temporary directory. */
export function buildPipelineExampleApp(outdir?: string): { app: App; stack: PipelineStack } {
  const app = new App({ outdir });
  const stack = new PipelineStack(app, 'ExampleServicePipeline', { env: { account: EXAMPLE_ACCOUNT, region: EXAMPLE_REGIONS[0] } });
  return { app, stack };
}

if (require.main === module) {
  buildPipelineExampleApp().app.synth();
}
