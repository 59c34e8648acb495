import { App, Stack, Stage } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as route53 from 'aws-cdk-lib/aws-route53';
import * as ssm from 'aws-cdk-lib/aws-ssm';
import { Construct } from 'constructs';
import {
  DeploymentStrategy, HealthCheck, IRegionalStageFactory, MultiRegionPipeline, MultiRegionPipelineProps, PipelineSource, RegionalStageContext,
  TrafficSwitch,
} from '../../src';

export const ACCOUNT = '111111111111';
export const PRIMARY = 'us-east-1';
export const REPLICAS = ['eu-west-1', 'ap-southeast-2'];
export const CONNECTION_ARN = 'arn:aws:codeconnections:us-east-1:111111111111:connection/0a1b2c3d-4e5f-6a7b-8c9d-0e1f2a3b4c5d';

export const SOURCE = PipelineSource.connection({ connectionArn: CONNECTION_ARN, owner: 'my-org', repository: 'my-service', branch: 'main' });

/** An application factory that records what it was asked for; each stage holds one SSM parameter. */
export class RecordingFactory implements IRegionalStageFactory {
  public readonly calls: Array<{ id: string; context: RegionalStageContext }> = [];
  constructor(private readonly wrongRegion?: string) {}
  public createStage(scope: Construct, id: string, context: RegionalStageContext): Stage {
    this.calls.push({ id, context });
    const created = new Stage(scope, id, { env: { account: context.account, region: this.wrongRegion ?? context.region } });
    const stack = new Stack(created, 'Service');
    new ssm.StringParameter(stack, 'Version', { stringValue: `${context.region}/${context.slot ?? 'single'}` });
    return created;
  }
}

/** A stack in `PRIMARY` of `ACCOUNT`: the pipeline needs an explicit environment. */
export function newPipelineStack(app: App = new App()): Stack {
  return new Stack(app, 'PipelineStack', { env: { account: ACCOUNT, region: PRIMARY } });
}

/** The smallest valid props. */
export function minimalProps(application: IRegionalStageFactory = new RecordingFactory()): MultiRegionPipelineProps {
  return { source: SOURCE, application, replicaRegions: REPLICAS };
}

/** Blue-green props with a Route 53 switch, a slot health check and a bake alarm. */
export function blueGreenProps(stack: Stack, application: IRegionalStageFactory = new RecordingFactory()): MultiRegionPipelineProps {
  const zone = route53.HostedZone.fromHostedZoneAttributes(stack, 'Zone', { hostedZoneId: 'Z0123456789ABCDEFGHIJ', zoneName: 'example.com' });
  return {
    ...minimalProps(application),
    strategy: DeploymentStrategy.blueGreen({
      trafficSwitch: TrafficSwitch.route53WeightedRecords({ hostedZone: zone, recordName: 'api.{region}.example.com' }),
    }),
    healthChecks: [HealthCheck.http('https://{slot}.api.{region}.example.com/health', { name: 'api' })],
    bakeAlarmNames: ['my-service-{region}-{slot}-5xx'],
  };
}

/** Builds a pipeline from `props(stack)` and returns the template. */
export function synth(props: (stack: Stack) => MultiRegionPipelineProps = () => minimalProps()): {
  app: App; stack: Stack; pipeline: MultiRegionPipeline; template: Template;
} {
  const app = new App();
  const stack = newPipelineStack(app);
  const pipeline = new MultiRegionPipeline(stack, 'Pipeline', props(stack));
  return { app, stack, pipeline, template: Template.fromStack(stack) };
}

/** The stages of the CodePipeline pipeline in the template. */
export function stagesOf(template: Template): any[] {
  const [resource] = Object.values(template.findResources('AWS::CodePipeline::Pipeline')) as any[];
  return resource.Properties.Stages;
}

/** A stage by name. */
export function stage(template: Template, name: string): any {
  const found = stagesOf(template).find((s) => s.Name === name);
  if (!found) throw new Error(`no stage ${name}`);
  return found;
}
