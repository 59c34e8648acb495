import { App, Duration } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cwactions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import { AwsSolutionsChecks } from 'cdk-nag';
import {
  ACCOUNT, blueGreenProps, CONNECTION_ARN, minimalProps, newPipelineStack, PRIMARY, RecordingFactory, REPLICAS, stage, stagesOf, synth,
} from './util';
import { DeploymentSlot, DeploymentStrategy, HealthCheck, MultiRegionPipeline, TrafficSwitch } from '../../src';
import { PipelineEnv } from '../../src/multi-region-pipeline/contract';
import { policyStatements, resourcesAllowed, statementsAllowing } from '../secret-replicator/util';

const actionNames = (s: any) => s.Actions.map((a: any) => a.Name);
const envOf = (template: Template, role: string): Record<string, string> => {
  const fns = Object.values(template.findResources('AWS::Lambda::Function')) as any[];
  const fn = fns.find((f) => f.Properties.Environment?.Variables?.[PipelineEnv.ROLE] === role);
  if (!fn) throw new Error(`no ${role} function`);
  return fn.Properties.Environment.Variables;
};
const userParameters = (action: any) => JSON.parse(action.Configuration.UserParameters);

describe('sequential (the default)', () => {
  test('deploys the primary region, then each replica region in order, in a V2 pipeline that mutates itself', () => {
    const { template, pipeline } = synth();
    template.hasResourceProperties('AWS::CodePipeline::Pipeline', { PipelineType: 'V2', RestartExecutionOnUpdate: true });
    expect(stagesOf(template).map((s) => s.Name)).toEqual(['Source', 'Build', 'UpdatePipeline', PRIMARY, ...REPLICAS]);
    expect(pipeline.regions).toEqual([PRIMARY, ...REPLICAS]);
    expect(pipeline.strategyKind).toBe('sequential');
    for (const region of [PRIMARY, ...REPLICAS]) {
      const deploys = stage(template, region).Actions.filter((a: any) => a.ActionTypeId.Provider === 'CloudFormation');
      expect(deploys.length).toBeGreaterThan(0);
      // Actions of the pipeline's own region carry no Region; the others name theirs.
      deploys.forEach((a: any) => expect(a.Region).toBe(region === PRIMARY ? undefined : region));
    }
  });

  test('rolls each regional stage back on failure, and no other stage', () => {
    const { template } = synth();
    for (const s of stagesOf(template)) {
      expect(s.OnFailure).toEqual([PRIMARY, ...REPLICAS].includes(s.Name) ? { Result: 'ROLLBACK' } : undefined);
    }
  });

  test('uses the CodeConnections source and the synth commands', () => {
    const { template } = synth(() => ({ ...minimalProps(), synthCommands: ['npm ci', 'npm run build', 'npx cdk synth'] }));
    expect(stage(template, 'Source').Actions[0].Configuration).toMatchObject({
      ConnectionArn: CONNECTION_ARN, FullRepositoryId: 'my-org/my-service', BranchName: 'main',
    });
    const projects = JSON.stringify(template.findResources('AWS::CodeBuild::Project'));
    expect(projects).toContain('npm run build');
    expect(stage(template, 'UpdatePipeline').Actions.map((a: any) => a.Name)).toEqual(['SelfMutate']);
  });

  test('without self-mutation there is no UpdatePipeline stage', () => {
    const { template } = synth(() => ({ ...minimalProps(), selfMutation: false }));
    expect(stagesOf(template).map((s) => s.Name)).toEqual(['Source', 'Build', PRIMARY, ...REPLICAS]);
  });

  test('asks the factory for one stage per region, primary first', () => {
    const factory = new RecordingFactory();
    synth(() => minimalProps(factory));
    expect(factory.calls.map((c) => [c.id, c.context.region, c.context.isPrimary, c.context.position, c.context.slot]))
      .toEqual([
        [PRIMARY, PRIMARY, true, 0, undefined],
        [REPLICAS[0], REPLICAS[0], false, 1, undefined],
        [REPLICAS[1], REPLICAS[1], false, 2, undefined],
      ]);
    expect(factory.calls.every((c) => c.context.account === ACCOUNT)).toBe(true);
  });

  test('runs the health checks after each region is deployed, with the region as parameter', () => {
    const { template } = synth(() => ({ ...minimalProps(), healthChecks: [HealthCheck.http('https://api.{region}.example.com/health')] }));
    for (const region of [PRIMARY, ...REPLICAS]) {
      const actions = stage(template, region).Actions;
      const check = actions.find((a: any) => a.Name === 'HealthCheck');
      expect(check.ActionTypeId.Provider).toBe('Lambda');
      expect(userParameters(check)).toEqual({ region });
      const lastDeploy = Math.max(...actions.filter((a: any) => a.ActionTypeId.Provider === 'CloudFormation').map((a: any) => a.RunOrder));
      expect(check.RunOrder).toBeGreaterThan(lastDeploy);
    }
    const checks = JSON.parse(envOf(template, 'health-check')[PipelineEnv.HEALTH_CHECKS]);
    expect(checks).toEqual([{
      name: 'api.{region}.example.com/health',
      url: 'https://api.{region}.example.com/health',
      expectedStatuses: [200],
      consecutiveSuccesses: 3,
      maxAttempts: 10,
      intervalSeconds: 10,
      timeoutSeconds: 5,
    }]);
    // Worst case 10 x 5 s + 9 x 10 s = 140 s, plus a minute to report.
    template.hasResourceProperties('AWS::Lambda::Function', { Timeout: 200, Environment: { Variables: Match.objectLike({ [PipelineEnv.ROLE]: 'health-check' }) } });
  });

  test('bakes each region on its alarms (V2 onSuccess CloudWatchAlarm rules with WaitTime), rolling back when one fires', () => {
    const { template } = synth(() => ({ ...minimalProps(), bakeAlarmNames: ['svc-{region}-5xx', 'svc-{region}-latency'], bakeTime: Duration.minutes(20) }));
    expect(stage(template, REPLICAS[0]).OnSuccess).toEqual({
      Conditions: [{
        Result: 'ROLLBACK',
        Rules: [1, 2].map((i) => ({
          Name: `Bake-${REPLICAS[0]}-${i}`,
          Region: REPLICAS[0],
          RuleTypeId: { Category: 'Rule', Owner: 'AWS', Provider: 'CloudWatchAlarm', Version: '1' },
          Configuration: { AlarmName: `svc-${REPLICAS[0]}-${i === 1 ? '5xx' : 'latency'}`, WaitTime: '20' },
        })),
      }],
    });
  });

  test('lets the pipeline role read exactly the bake alarms', () => {
    const { template } = synth(() => ({ ...minimalProps(), bakeAlarmNames: ['svc-{region}-5xx'] }));
    expect(resourcesAllowed(template, 'cloudwatch:DescribeAlarms')).toEqual([PRIMARY, ...REPLICAS].map((region) => ({
      'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, `:cloudwatch:${region}:${ACCOUNT}:alarm:svc-${region}-5xx`]],
    })));
  });

  test('starts regional stages only inside the deployment window and asks for approval before each replica region', () => {
    const { template } = synth(() => ({ ...minimalProps(), manualApproval: true, deploymentWindow: { cron: '* * 9-16 ? * MON-THU', timeZone: 'Europe/Berlin' } }));
    expect(stage(template, REPLICAS[1]).BeforeEntry).toEqual({
      Conditions: [{
        Result: 'FAIL',
        Rules: [{
          Name: `Window-${REPLICAS[1]}`,
          RuleTypeId: { Category: 'Rule', Owner: 'AWS', Provider: 'DeploymentWindow', Version: '1' },
          Configuration: { Cron: '* * 9-16 ? * MON-THU', TimeZone: 'Europe/Berlin' },
        }],
      }],
    });
    expect(actionNames(stage(template, PRIMARY))).not.toContain('Approve');
    for (const region of REPLICAS) {
      const approve = stage(template, region).Actions.find((a: any) => a.Name === 'Approve');
      expect(approve.ActionTypeId).toMatchObject({ Category: 'Approval', Provider: 'Manual' });
      expect(approve.RunOrder).toBe(1);
    }
  });

  test('with automaticRollback false, stages fail instead of rolling back', () => {
    const { template } = synth(() => ({ ...minimalProps(), automaticRollback: false, bakeAlarmNames: ['a-{region}'] }));
    expect(stage(template, PRIMARY).OnFailure).toBeUndefined();
    expect(stage(template, PRIMARY).OnSuccess.Conditions[0].Result).toBe('FAIL');
  });

  test('leaves coordinated rollback off, so the watcher may not roll stages back', () => {
    const { template, pipeline } = synth();
    expect(pipeline.coordinatedRollback).toBe(false);
    expect(envOf(template, 'pipeline-watcher')[PipelineEnv.COORDINATED_ROLLBACK]).toBe('false');
    expect(statementsAllowing(template, 'codepipeline:RollbackStage')).toEqual([]);
    // No rollback claims either.
    expect(envOf(template, 'pipeline-watcher')[PipelineEnv.ROLLBACK_CLAIMS_PATH]).toBeUndefined();
    expect(statementsAllowing(template, 'ssm:PutParameter')).toEqual([]);
  });

  test('creates a cross-region support stack for each replica region', () => {
    const { app } = synth();
    const stacks = app.synth().stacks.map((s) => s.stackName);
    for (const region of REPLICAS) expect(stacks.some((name) => name.includes(region))).toBe(true);
  });
});

describe('parallel', () => {
  test('deploys the primary, then every replica region in one stage', () => {
    const { template, pipeline } = synth(() => ({ ...minimalProps(), strategy: DeploymentStrategy.parallel(), healthChecks: [HealthCheck.http('https://api.{region}.example.com/')] }));
    expect(stagesOf(template).map((s) => s.Name)).toEqual(['Source', 'Build', 'UpdatePipeline', PRIMARY, 'replicas']);
    const regions = new Set(stage(template, 'replicas').Actions.map((a: any) => a.Region).filter(Boolean));
    expect([...regions].sort()).toEqual([...REPLICAS].sort());
    const checks = stage(template, 'replicas').Actions.filter((a: any) => a.ActionTypeId.Provider === 'Lambda').map(userParameters);
    expect(checks).toEqual(expect.arrayContaining(REPLICAS.map((region) => ({ region }))));
    expect(pipeline.regionalStages).toEqual([
      { region: PRIMARY, stageNames: [PRIMARY], rollbackStageNames: [PRIMARY] },
      { region: REPLICAS.join('+'), stageNames: ['replicas'], rollbackStageNames: ['replicas'] },
    ]);
  });

  test('names the replica stage after the region when there is only one', () => {
    const { template } = synth(() => ({ ...minimalProps(), replicaRegions: ['eu-west-1'], strategy: DeploymentStrategy.parallel() }));
    expect(stagesOf(template).map((s) => s.Name)).toEqual(['Source', 'Build', 'UpdatePipeline', PRIMARY, 'eu-west-1']);
  });
});

describe('blue-green', () => {
  test('deploys green, moves traffic to green, then promotes blue, region by region', () => {
    const { template } = synth((stack) => blueGreenProps(stack));
    const regional = [PRIMARY, ...REPLICAS].flatMap((r) => [`${r}-green`, `${r}-shift-to-green`, `${r}-blue`]);
    expect(stagesOf(template).map((s) => s.Name)).toEqual(['Source', 'Build', 'UpdatePipeline', ...regional]);
    const region = REPLICAS[0];
    const green = stage(template, `${region}-green`);
    expect(userParameters(green.Actions.find((a: any) => a.Name === 'HealthCheck-green'))).toEqual({ region, slot: 'green' });
    const shift = stage(template, `${region}-shift-to-green`);
    expect(actionNames(shift)).toEqual(['SwitchTo-green']);
    expect(userParameters(shift.Actions[0])).toEqual({ region, slot: 'green' });
    const blue = stage(template, `${region}-blue`);
    const check = blue.Actions.find((a: any) => a.Name === 'HealthCheck-blue');
    const back = blue.Actions.find((a: any) => a.Name === 'SwitchTo-blue');
    expect(userParameters(check)).toEqual({ region, slot: 'blue' });
    expect(userParameters(back)).toEqual({ region, slot: 'blue' });
    expect(back.RunOrder).toBeGreaterThan(check.RunOrder);
  });

  test('bakes while green has the traffic, on the slot alarms, and rolls the switch back when one fires', () => {
    const { template } = synth((stack) => blueGreenProps(stack));
    const region = REPLICAS[1];
    expect(stage(template, `${region}-shift-to-green`).OnSuccess.Conditions[0]).toEqual({
      Result: 'ROLLBACK',
      Rules: [{
        Name: `Bake-${region}-shift-to-green-1`,
        Region: region,
        RuleTypeId: { Category: 'Rule', Owner: 'AWS', Provider: 'CloudWatchAlarm', Version: '1' },
        Configuration: { AlarmName: `my-service-${region}-green-5xx`, WaitTime: '10' },
      }],
    });
    expect(stage(template, `${region}-green`).OnSuccess).toBeUndefined();
    expect(stage(template, `${region}-blue`).OnSuccess).toBeUndefined();
    for (const suffix of ['green', 'shift-to-green', 'blue']) expect(stage(template, `${region}-${suffix}`).OnFailure).toEqual({ Result: 'ROLLBACK' });
  });

  test('asks the factory for a green and a blue stage per region', () => {
    const factory = new RecordingFactory();
    synth((stack) => blueGreenProps(stack, factory));
    expect(factory.calls.map((c) => `${c.id}:${c.context.slot}`)).toEqual(
      [PRIMARY, ...REPLICAS].flatMap((r) => [`${r}-green:${DeploymentSlot.GREEN}`, `${r}-blue:${DeploymentSlot.BLUE}`]));
  });

  test('coordinates rollback by default: the watcher knows each region\'s stages and may roll back blue and green', () => {
    const { template, pipeline } = synth((stack) => blueGreenProps(stack));
    expect(pipeline.coordinatedRollback).toBe(true);
    const env = envOf(template, 'pipeline-watcher');
    expect(env[PipelineEnv.COORDINATED_ROLLBACK]).toBe('true');
    expect(JSON.parse(env[PipelineEnv.REGIONAL_STAGES])).toEqual([PRIMARY, ...REPLICAS].map((region) => ({
      region, stages: [`${region}-green`, `${region}-shift-to-green`, `${region}-blue`], rollbackStages: [`${region}-blue`, `${region}-green`],
    })));
    const resources = resourcesAllowed(template, 'codepipeline:RollbackStage').map((r) => JSON.stringify(r));
    expect(resources).toHaveLength(1 + 2 * 3);
    expect(resources.some((r) => r.includes(`/${REPLICAS[1]}-blue`))).toBe(true);
    expect(resources.some((r) => r.includes('shift-to-green'))).toBe(false);
  });

  test('the watcher claims each stage rollback under its own Parameter Store path, and may touch nothing else in Parameter Store', () => {
    const { template, pipeline } = synth((stack) => blueGreenProps(stack));
    const path = `/cdk-cross-region-config/pipeline/${pipeline.serviceName}/rollback-claims`;
    expect(envOf(template, 'pipeline-watcher')[PipelineEnv.ROLLBACK_CLAIMS_PATH]).toBe(path);
    const arn = `:ssm:${PRIMARY}:${ACCOUNT}:parameter${path}`;
    expect(statementsAllowing(template, 'ssm:DeleteParameters')).toEqual([{
      Effect: 'Allow',
      Action: ['ssm:PutParameter', 'ssm:GetParameter', 'ssm:GetParametersByPath', 'ssm:DeleteParameters'],
      Resource: [arn, `${arn}/*`].map((a) => ({ 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, a]] })),
    }]);
  });

  test('the Route 53 switch may change only its hosted zone, and read the pipeline execution type', () => {
    const { template } = synth((stack) => blueGreenProps(stack));
    expect(resourcesAllowed(template, 'route53:ChangeResourceRecordSets')).toEqual([
      { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':route53:::hostedzone/Z0123456789ABCDEFGHIJ']] },
    ]);
    // Only UPSERTs of the switch's own record name in each pipeline region, and its type.
    expect(statementsAllowing(template, 'route53:ChangeResourceRecordSets').map((st) => st.Condition)).toEqual([{
      'ForAllValues:StringEquals': {
        'route53:ChangeResourceRecordSetsNormalizedRecordNames': [PRIMARY, ...REPLICAS].map((r) => `api.${r}.example.com`),
        'route53:ChangeResourceRecordSetsRecordTypes': ['A'],
        'route53:ChangeResourceRecordSetsActions': ['UPSERT'],
      },
    }]);
    expect(JSON.parse(envOf(template, 'traffic-switch')[PipelineEnv.TRAFFIC_SWITCH])).toEqual({
      type: 'route53-weighted',
      hostedZoneId: 'Z0123456789ABCDEFGHIJ',
      recordName: 'api.{region}.example.com',
      recordType: 'A',
      setIdentifiers: { blue: 'blue', green: 'green' },
      liveWeight: 100,
    });
    expect(resourcesAllowed(template, 'codepipeline:GetPipelineExecution').length).toBeGreaterThan(0);
    // The health-check function gets nothing of the switch's.
    const healthRole = JSON.stringify(Object.values(template.findResources('AWS::IAM::Policy')).filter((p: any) => JSON.stringify(p).includes('HealthCheckRole')));
    expect(healthRole).not.toMatch(/route53|ssm:/);
  });

  test('the SSM switch may write its parameter in each region only', () => {
    const { template } = synth((stack) => ({
      ...blueGreenProps(stack),
      strategy: DeploymentStrategy.blueGreen({ trafficSwitch: TrafficSwitch.ssmParameter({ parameterName: '/my-service/{region}/live-slot' }) }),
    }));
    const claims = (r: unknown) => JSON.stringify(r).includes('/rollback-claims');
    expect(resourcesAllowed(template, 'ssm:PutParameter').filter((r) => !claims(r))).toEqual([PRIMARY, ...REPLICAS].map((region) => ({
      'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, `:ssm:${region}:${ACCOUNT}:parameter/my-service/${region}/live-slot`]],
    })));
    expect(statementsAllowing(template, 'route53:ChangeResourceRecordSets')).toEqual([]);
  });
});

describe('watcher, alarms and settings', () => {
  test('sends the pipeline\'s execution and stage events to the watcher, with a dead-letter queue', () => {
    const { template, pipeline } = synth();
    template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: {
        'source': ['aws.codepipeline'],
        'detail-type': ['CodePipeline Pipeline Execution State Change', 'CodePipeline Stage Execution State Change'],
        'detail': {
          pipeline: [pipeline.pipelineName],
          // A failed execution, or a stage (only stage events carry `stage`) that started or failed.
          $or: [{ state: ['FAILED'] }, { state: ['STARTED'], stage: [{ exists: true }] }],
        },
      },
      Targets: [Match.objectLike({ DeadLetterConfig: Match.anyValue(), RetryPolicy: { MaximumRetryAttempts: 2, MaximumEventAgeInSeconds: 7200 } })],
    });
    const env = envOf(template, 'pipeline-watcher');
    expect(env[PipelineEnv.PIPELINE_NAME]).toBe(pipeline.pipelineName);
    expect(resourcesAllowed(template, 'codepipeline:ListActionExecutions')).toEqual([
      { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, `:codepipeline:${PRIMARY}:${ACCOUNT}:${pipeline.pipelineName}`]] },
    ]);
  });

  test('publishes rollback outcomes to the notification topic', () => {
    const { template } = synth((stack) => ({ ...blueGreenProps(stack), notificationTopic: new sns.Topic(stack, 'Topic', { masterKey: new kms.Key(stack, 'TopicKey') }) }));
    expect(envOf(template, 'pipeline-watcher')[PipelineEnv.NOTIFICATION_TOPIC_ARN]).toEqual({ Ref: expect.stringMatching(/^Topic/) });
    expect(resourcesAllowed(template, 'sns:Publish')).toEqual([{ Ref: expect.stringMatching(/^Topic/) }]);
    // The topic's key only through SNS.
    expect(statementsAllowing(template, 'kms:Decrypt')).toContainEqual({
      Action: ['kms:Decrypt', 'kms:GenerateDataKey'],
      Effect: 'Allow',
      Resource: { 'Fn::GetAtt': [expect.stringMatching(/^TopicKey/), 'Arn'] },
      Condition: { StringEquals: { 'kms:ViaService': `sns.${PRIMARY}.amazonaws.com` } },
    });
    const onTopicKey = policyStatements(template).filter((st) => JSON.stringify(st.Resource).includes('"TopicKey'));
    expect(onTopicKey.filter((st) => !st.Condition)).toEqual([]);
  });

  test('creates the failure, rollback, health-check, switch and handler alarms, with actions', () => {
    const stack = newPipelineStack();
    const pipeline = new MultiRegionPipeline(stack, 'Pipeline', blueGreenProps(stack));
    pipeline.addAlarmAction(new cwactions.SnsAction(new sns.Topic(stack, 'Alarms')));
    const template = Template.fromStack(stack);
    const alarms = template.findResources('AWS::CloudWatch::Alarm');
    // 5 pipeline alarms and 3 per function (health check, switch, watcher).
    expect(Object.keys(alarms)).toHaveLength(5 + 3 * 3);
    expect(pipeline.alarms).toHaveLength(14);
    Object.values(alarms).forEach((a: any) => expect(a.Properties.AlarmActions).toEqual([{ Ref: expect.stringMatching(/^Alarms/) }]));
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'PipelineExecutionFailed',
      Namespace: 'CrossRegionConfig/Pipeline',
      Threshold: 1,
      EvaluationPeriods: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      TreatMissingData: 'notBreaching',
      Statistic: 'Sum',
      Period: 300,
    });
    for (const name of ['RollbackPerformed', 'HealthCheckFailed', 'TrafficSwitchFailed', 'RollbackFailed']) {
      template.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: name, Dimensions: [{ Name: 'service', Value: pipeline.serviceName }] });
    }
  });

  test('creates only the alarms its parts need, and none with createAlarms false', () => {
    expect(Object.keys(synth().template.findResources('AWS::CloudWatch::Alarm'))).toHaveLength(2 + 3);
    const { template, pipeline } = synth(() => ({ ...minimalProps(), createAlarms: false }));
    template.resourceCountIs('AWS::CloudWatch::Alarm', 0);
    expect(pipeline.pipelineFailedAlarm).toBeUndefined();
  });

  test('metrics carry the namespace, the service and, per region, the Region dimension', () => {
    const { pipeline } = synth();
    const metric = pipeline.metricHealthCheckFailed({ deploymentRegion: 'eu-west-1', period: Duration.minutes(1) });
    expect(metric.namespace).toBe('CrossRegionConfig/Pipeline');
    expect(metric.dimensions).toEqual({ service: pipeline.serviceName, Region: 'eu-west-1' });
    expect(metric.period.toMinutes()).toBe(1);
    expect(pipeline.metricHealthCheckLatency().statistic).toBe('p90');
    expect(pipeline.metricPipelineExecutionFailed().dimensions).toEqual({ service: pipeline.serviceName });
  });

  test('writes the gitops-config document under the parameter prefix', () => {
    const { template, pipeline } = synth((stack) => ({ ...blueGreenProps(stack), parameterPrefix: '/genai-demo/production', manualApproval: true }));
    const [parameter] = Object.values(template.findResources('AWS::SSM::Parameter')) as any[];
    expect(parameter.Properties.Name).toBe('/genai-demo/production/global/secrets/gitops-config');
    expect(JSON.parse(parameter.Properties.Value)).toEqual({
      enabled: true,
      pipelineName: pipeline.pipelineName,
      pipelineType: 'V2',
      source: { type: 'connection', location: 'my-org/my-service@main' },
      primaryRegion: PRIMARY,
      deploymentRegions: [PRIMARY, ...REPLICAS],
      strategy: 'blue-green',
      trafficSwitch: 'route53-weighted',
      stages: pipeline.regionalStages.flatMap((r) => r.stageNames),
      healthChecks: [{ name: 'api', url: 'https://{slot}.api.{region}.example.com/health' }],
      bakeAlarmNames: ['my-service-{region}-{slot}-5xx'],
      bakeTimeMinutes: 10,
      automaticRollback: true,
      coordinatedRollback: true,
      manualApproval: true,
      deploymentWindow: null,
      selfMutation: true,
    });
  });

  test('functions run on arm64 Node.js 22 with tracing, JSON logs and their own log groups', () => {
    const { template } = synth((stack) => blueGreenProps(stack));
    const fns = Object.values(template.findResources('AWS::Lambda::Function')).filter((f: any) => f.Properties.Environment?.Variables?.[PipelineEnv.ROLE]) as any[];
    expect(fns).toHaveLength(3);
    fns.forEach((f) => expect(f.Properties).toMatchObject({
      Runtime: 'nodejs22.x', Architectures: ['arm64'], TracingConfig: { Mode: 'Active' }, LoggingConfig: { LogFormat: 'JSON' }, MemorySize: 256,
    }));
  });
});

describe('cdk-nag', () => {
  /** Findings outside the application stages (the consumer's own resources). */
  function ours(app: App): string[] {
    const report = new AwsSolutionsChecks().validateScope(app);
    return report.violations.flatMap((v) => v.violatingResources
      .filter((r) => !/^PipelineStack\/Pipeline\/[a-z]{2}-[a-z]+-\d(-blue|-green)?\//.test(r.constructPath ?? ''))
      .map((r) => `${v.ruleName} ${r.constructPath}`));
  }

  test('a consumer applying AwsSolutionsChecks sees no unacknowledged finding from the sequential pipeline', () => {
    const { app } = synth(() => ({ ...minimalProps(), healthChecks: [HealthCheck.http('https://api.{region}.example.com/')], bakeAlarmNames: ['a-{region}'], manualApproval: true }));
    expect(ours(app)).toEqual([]);
  });

  test('nor from the blue-green pipeline with coordinated rollback and a notification topic', () => {
    const { app } = synth((stack) => ({ ...blueGreenProps(stack), notificationTopic: new sns.Topic(stack, 'Topic', { enforceSSL: true, masterKey: new kms.Key(stack, 'K', { enableKeyRotation: true }) }) }));
    expect(ours(app)).toEqual([]);
  });

  test('nor with crossAccountKeys and the SSM switch', () => {
    const { app } = synth((stack) => ({
      ...blueGreenProps(stack),
      crossAccountKeys: true,
      strategy: DeploymentStrategy.blueGreen({ trafficSwitch: TrafficSwitch.ssmParameter({ parameterName: '/svc/live-slot' }) }),
    }));
    expect(ours(app)).toEqual([]);
  });
});

test('MultiRegionPipeline is usable with an alarm action given in props', () => {
  const { template } = synth((stack) => ({ ...minimalProps(), alarmActions: [new cwactions.SnsAction(new sns.Topic(stack, 'T'))] }));
  Object.values(template.findResources('AWS::CloudWatch::Alarm')).forEach((a: any) => expect(a.Properties.AlarmActions).toHaveLength(1));
  expect(cloudwatch.Stats.SUM).toBe('Sum');
  expect(MultiRegionPipeline).toBeDefined();
});
