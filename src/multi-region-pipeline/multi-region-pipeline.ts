import { Annotations, ArnFormat, Duration, Names, Stack, Stage, Token } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as codebuild from 'aws-cdk-lib/aws-codebuild';
import * as codepipeline from 'aws-cdk-lib/aws-codepipeline';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import * as ssm from 'aws-cdk-lib/aws-ssm';
import * as pipelines from 'aws-cdk-lib/pipelines';
import { Construct } from 'constructs';
import { createPipelineAlarms } from './alarms';
import {
  CANDIDATE_SLOT, HOME_SLOT, PipelineEnv, PipelineFunctionRole, PipelineFunctionRoleName, PipelineMetric, RegionalStageConfig, SlotName,
} from './contract';
import { pipelineDashboardWidgets } from './dashboard';
import { DeploymentStrategy, DeploymentStrategyKind } from './deployment-strategy';
import { HealthCheck } from './health-check';
import { PipelineMetricOptions, RegionalStages } from './metric-options';
import { pipelineMetric } from './metrics';
import { PipelineFunction } from './pipeline-function';
import { PipelineSource } from './pipeline-source';
import { ConditionedPipeline, LambdaInvokeStep, StageConditions } from './pipeline-steps';
import { AlarmSet, addHandlerAlarms } from '../core/alarms';
import { BundledHandler, explicitAccountAndRegion, handlerServiceName, warnAboutIgnoredAlarmActions } from '../core/bundled-handler';
import { DashboardWidgetOptions } from '../core/dashboard-options';
import { HandlerOptions } from '../core/handler-options';
import { DEFAULT_MAX_EVENT_AGE, DEFAULT_RETRY_ATTEMPTS, TRACING_ACTIONS } from '../core/hardened-function';
import { acknowledgeNagFindings, flattenReference, INLINE_POLICY_REASON, NIST_800_53_R5 } from '../core/nag';
import { IConfigParityGate } from '../core/parity-gate';
import { claimParameterName } from '../private/uniqueness';
import { domainSuffixOf, fail, validateDistinct, validateLength, validateMetricNamespace, validateParameterPrefix, validatePattern, validateRegionName, validateRegionNames, validateSamePartition, validateWholeDuration, validationScope, WARNING } from '../private/validation';

const DEFAULT_METRIC_NAMESPACE = 'CrossRegionConfig/Pipeline';
const DEFAULT_SYNTH_COMMANDS = ['npm ci', 'npx cdk synth'];
const DEFAULT_SYNTH_OUTPUT = 'cdk.out';
/** Bake after a region's deployment (or traffic switch) while its alarms are watched. */
const DEFAULT_BAKE_TIME = Duration.minutes(10);
/** CodePipeline's CloudWatchAlarm rule takes its WaitTime in whole minutes; longest bake we accept (one day). */
const MAX_BAKE_MINUTES = 1440;
/** Longest a health-check action may take (14 minutes), leaving a minute of the Lambda maximum for reporting. */
const MAX_HEALTH_CHECK_SECONDS = 840;
/** Time added to the slowest check's worst case for the function timeout, in seconds. */
const HEALTH_CHECK_TIMEOUT_MARGIN_SECONDS = 60;
/** The traffic switch waits for Route 53 to be INSYNC (about a minute); five minutes leaves room for retries. */
const TRAFFIC_SWITCH_TIMEOUT = Duration.minutes(5);
/** The watcher may retry RollbackStage for about five minutes while the pipeline is busy. */
const WATCHER_TIMEOUT = Duration.minutes(10);
const SMALL_FUNCTION_MEMORY_MIB = 256;
/** CodePipeline pipeline names: up to 100 of A-Z a-z 0-9 . @ - _. */
const PIPELINE_NAME = /^[A-Za-z0-9.@_-]{1,100}$/;
const MAX_PIPELINE_NAME_LENGTH = 100;
/** Stage names (and our rule names) share CodePipeline's 100-character limit. */
const MAX_STAGE_NAME_LENGTH = 100;
/** The DeploymentWindow rule's cron: seconds (always `*`), minutes, hours, day of month, month, day of week, optional year. */
const CRON_FIELDS = /^\*(\s+\S+){5,6}$/;
/**
 * Actions that support no resource-level permissions and so are granted on "*": X-Ray tracing, the
 * Lambda invoke action's job results and job details, lambda:ListFunctions (LambdaInvokeAction) and
 * the self-mutation's cloudformation:DescribeStacks and s3:ListBucket (on bootstrap buckets it finds).
 */
const UNSCOPED_ACTIONS = [
  ...TRACING_ACTIONS, 'codepipeline:PutJobSuccessResult', 'codepipeline:PutJobFailureResult', 'codepipeline:GetJobDetails', 'lambda:ListFunctions',
  'cloudformation:DescribeStacks', 's3:ListBucket',
];
/** Parameter Store path under which the watcher claims each stage rollback; followed by the service name. */
const ROLLBACK_CLAIMS_ROOT = '/cdk-cross-region-config/pipeline';
/** Name of the pipeline stage deploying every replica region at once (parallel strategy). */
const REPLICA_WAVE = 'replicas';

/** The two slots of a region under the blue-green strategy. */
export enum DeploymentSlot {
  /** The home slot: takes the traffic back once the new version is promoted. */
  BLUE = 'blue',
  /** The candidate slot: receives each new version first, and the traffic once it is healthy. */
  GREEN = 'green',
}

/** What the pipeline tells the application factory about the stage it asks for. */
export interface RegionalStageContext {
  /** Region of the stage. */
  readonly region: string;
  /** Account of the stage (the pipeline's account). */
  readonly account: string;
  /** True for the primary region, deployed first. */
  readonly isPrimary: boolean;
  /** Position of the region in the rollout: 0 for the primary, then 1, 2, ... */
  readonly position: number;
  /**
   * Slot of the stage under blue-green.
   *
   * @default - not blue-green: one stage per region
   */
  readonly slot?: DeploymentSlot;
}

/**
 * Creates the application for one region (and slot): implement it in TypeScript, Python, Java or Go.
 *
 * @example
 * class ServiceStages implements IRegionalStageFactory {
 *   public createStage(scope: Construct, id: string, context: RegionalStageContext): Stage {
 *     const stage = new Stage(scope, id, { env: { account: context.account, region: context.region } });
 *     new Stack(stage, 'Service');
 *     return stage;
 *   }
 * }
 */
export interface IRegionalStageFactory {
  /**
   * Returns a new `Stage` for `context.region` (and `context.slot`), created in `scope` with `id`,
   * whose environment is `context.account` and `context.region`. Called once per region (twice per
   * region under blue-green, once per slot) while the pipeline is constructed.
   */
  createStage(scope: Construct, id: string, context: RegionalStageContext): Stage;
}

/** When a region's stages may start: CodePipeline's DeploymentWindow rule. */
export interface DeploymentWindow {
  /** Cron expression of the allowed times, for example `* * 9-16 ? * MON-THU` (every minute from 09:00 to 16:59, Monday to Thursday; the seconds field is always `*`). */
  readonly cron: string;

  /**
   * Time zone of the cron expression (IANA name).
   *
   * @default 'UTC'
   */
  readonly timeZone?: string;
}

/** Properties of a MultiRegionPipeline. */
export interface MultiRegionPipelineProps extends HandlerOptions {
  /** The GitOps source; every change to it deploys. */
  readonly source: PipelineSource;

  /** Creates the application's `Stage` for each region (and slot). */
  readonly application: IRegionalStageFactory;

  /**
   * Regions deployed after the primary, in order. Distinct, without the primary region.
   */
  readonly replicaRegions: string[];

  /**
   * Region deployed first.
   *
   * @default - the region of the stack the pipeline is in
   */
  readonly primaryRegion?: string;

  /**
   * How the regions after the primary are rolled out.
   *
   * @default DeploymentStrategy.sequential()
   */
  readonly strategy?: DeploymentStrategy;

  /**
   * Shell commands that synthesize the app in the source (their output directory is
   * `synthOutputDirectory`).
   *
   * @default ['npm ci', 'npx cdk synth']
   */
  readonly synthCommands?: string[];

  /**
   * Directory the synth commands write the cloud assembly to.
   *
   * @default 'cdk.out'
   */
  readonly synthOutputDirectory?: string;

  /**
   * HTTP checks run after each region (and slot) is deployed; the region fails, and is rolled back,
   * unless all pass. Required under blue-green, where each URL must contain `{slot}`.
   *
   * @default - no HTTP checks
   */
  readonly healthChecks?: HealthCheck[];

  /**
   * Names of CloudWatch alarms in each region watched during the bake after the region is
   * deployed (under blue-green, after the traffic moves to green); `{region}` and `{slot}` are
   * replaced. The stage fails, and is rolled back, if one is in ALARM when the bake ends.
   *
   * @default - no alarm gate
   */
  readonly bakeAlarmNames?: string[];

  /**
   * How long the bake alarms are watched (whole minutes).
   *
   * @default Duration.minutes(10)
   */
  readonly bakeTime?: Duration;

  /**
   * Ask for a manual approval before each region after the primary (before the replica stage under
   * the parallel strategy).
   *
   * @default false
   */
  readonly manualApproval?: boolean;

  /**
   * Regional stages start only inside this window.
   *
   * @default - any time
   */
  readonly deploymentWindow?: DeploymentWindow;

  /**
   * Roll a regional stage back to the last successful execution when it fails (V2 `onFailure`
   * with `Result.ROLLBACK`), and when its bake alarms fire.
   *
   * @default true
   */
  readonly automaticRollback?: boolean;

  /**
   * When a region fails, also roll back the regions already promoted in that execution.
   *
   * @default - true under blue-green, false otherwise
   */
  readonly coordinatedRollback?: boolean;

  /**
   * Topic the outcome of each coordinated rollback is published to (which regions, which stages,
   * the target execution).
   *
   * @default - the outcome is logged and counted in metrics only
   */
  readonly notificationTopic?: sns.ITopic;

  /**
   * Whether the pipeline updates itself from the source before deploying (CDK Pipelines
   * self-mutation).
   *
   * @default true
   */
  readonly selfMutation?: boolean;

  /**
   * Name of the pipeline.
   *
   * @default - a name unique to this construct
   */
  readonly pipelineName?: string;

  /**
   * Encrypt the artifact buckets with customer managed KMS keys (needed to deploy into other
   * accounts).
   *
   * @default false
   */
  readonly crossAccountKeys?: boolean;

  /**
   * When set, a Systems Manager parameter named `<parameterPrefix>/global/secrets/gitops-config`
   * holds this pipeline's settings as JSON, for operators and tooling.
   *
   * @default - no parameter
   */
  readonly parameterPrefix?: string;

  /**
   * CloudWatch namespace of the handlers' metrics.
   *
   * @default 'CrossRegionConfig/Pipeline'
   */
  readonly metricNamespace?: string;

  /**
   * Whether to create the alarms.
   *
   * @default true
   */
  readonly createAlarms?: boolean;

  /**
   * Actions of every alarm.
   *
   * @default - none; add them with `addAlarmAction()`
   */
  readonly alarmActions?: cloudwatch.IAlarmAction[];

  /**
   * A configuration parity check (such as a `ConfigParityCheck`) put before each replica region's
   * stages as an entry condition: a CodePipeline `LambdaInvoke` rule asks it whether the region's
   * secrets, parameters and ConfigMaps agree with the primary's, and a region that disagrees (or
   * cannot be read) is not entered; the rule's output carries the check's summary, which names each
   * item and drift type. Under blue-green the condition guards the green slot's stage, before
   * anything is deployed there. It must check every replica region; the primary region has none.
   *
   * @default - no parity condition
   */
  readonly parityCheck?: IConfigParityGate;
}

/** The pipeline's props, validated and with their defaults. */
interface PipelineSettings {
  readonly blueGreen: boolean;
  readonly automaticRollback: boolean;
  readonly healthChecks: HealthCheck[];
  readonly bakeAlarmNames: string[];
  readonly createAlarms: boolean;
  readonly bakeMinutes: number | undefined;
  readonly synthCommands: string[];
}

interface FunctionResources {
  readonly handler: lambda.Function;
  readonly settingsParameters: ssm.IStringParameter[];
  readonly role: iam.Role;
  readonly logGroup: logs.LogGroup;
  readonly deadLetterQueue: sqs.Queue;
}

/**
 * A self-mutating CodePipeline V2 pipeline that deploys an application from git to a primary
 * region, then to the other regions, sequentially, in parallel or blue-green, with HTTP health
 * checks, CloudWatch alarm bakes, automatic rollback and coordinated cross-region rollback.
 *
 * @example
 * declare const application: IRegionalStageFactory;
 * declare const zone: route53.IHostedZone;
 * new MultiRegionPipeline(this, 'Pipeline', {
 *   source: PipelineSource.connection({
 *     connectionArn: 'arn:aws:codeconnections:us-east-1:111111111111:connection/0a1b2c3d-4e5f-6a7b-8c9d-0e1f2a3b4c5d',
 *     owner: 'my-org',
 *     repository: 'my-service',
 *     branch: 'main',
 *   }),
 *   application,
 *   replicaRegions: ['eu-west-1', 'ap-southeast-2'],
 *   strategy: DeploymentStrategy.blueGreen({
 *     trafficSwitch: TrafficSwitch.route53WeightedRecords({ hostedZone: zone, recordName: 'api.{region}.example.com' }),
 *   }),
 *   healthChecks: [HealthCheck.http('https://{slot}.api.{region}.example.com/health')],
 *   bakeAlarmNames: ['my-service-{region}-{slot}-errors'],
 * });
 */
export class MultiRegionPipeline extends Construct {
  /** The CodePipeline V2 pipeline. */
  public readonly pipeline: codepipeline.Pipeline;
  /** The CDK Pipelines construct that builds the pipeline (synth, self-mutation, asset publishing, deployments). */
  public readonly cdkPipeline: pipelines.CodePipeline;
  /** Name of the pipeline. */
  public readonly pipelineName: string;
  /** The region deployed first. */
  public readonly primaryRegion: string;
  /** Every region, in rollout order (the primary first). */
  public readonly regions: string[];
  /** The rollout strategy. */
  public readonly strategyKind: DeploymentStrategyKind;
  /** The regional stages, in rollout order. */
  public readonly regionalStages: RegionalStages[];
  /** The application stages the factory created, in rollout order (two per region under blue-green: green, then blue). */
  public readonly applicationStages: Stage[];
  /** Whether coordinated cross-region rollback is on. */
  public readonly coordinatedRollback: boolean;
  /** CloudWatch namespace of the handlers' metrics. */
  public readonly metricNamespace: string;
  /** Value of the `service` dimension of the handlers' metrics. */
  public readonly serviceName: string;

  /** The function that runs the HTTP health checks; set when `healthChecks` is given. */
  public readonly healthCheckFunction?: lambda.IFunction;
  /** The function that moves traffic between slots; set under blue-green. */
  public readonly trafficSwitchFunction?: lambda.IFunction;
  /** The function that watches the pipeline's events: counts failures and rollbacks, and coordinates cross-region rollback. */
  public readonly watcherFunction: lambda.IFunction;
  /** Execution role of the watcher function. */
  public readonly watcherRole: iam.IRole;
  /**
   * Parameters of the functions' settings documents; empty while every function's settings fit in Lambda's 4 KB environment.
   *
   * Settings that outgrow the environment, such as many health checks (README, "Large
   * configurations"), are written here by CloudFormation, versioned with the deployment, and read by
   * the function at cold start.
   */
  public readonly settingsParameters: ssm.IStringParameter[];
  /** The EventBridge rule sending the pipeline's execution and stage events to the watcher. */
  public readonly eventsRule: events.Rule;
  /** Dead-letter queue of the watcher: events it could not handle after retries. */
  public readonly deadLetterQueue: sqs.IQueue;
  /** The gitops-config parameter; set only when `parameterPrefix` is set. */
  public readonly configParameter?: ssm.StringParameter;
  /**
   * The pipeline's settings as the gitops-config document holds them (source, regions, strategy,
   * stages, checks, bake and rollback settings).
   *
   * @internal
   */
  public readonly _settingsDocument: { [key: string]: any };

  /** Fires when a pipeline execution fails; set unless `createAlarms` is false. */
  public readonly pipelineFailedAlarm?: cloudwatch.Alarm;
  /** Fires when a regional stage rolls back; set unless `createAlarms` is false. */
  public readonly rollbackPerformedAlarm?: cloudwatch.Alarm;
  /** Fires when a health check fails; set when `healthChecks` is given, unless `createAlarms` is false. */
  public readonly healthCheckFailedAlarm?: cloudwatch.Alarm;
  /** Fires when a traffic switch fails; set under blue-green, unless `createAlarms` is false. */
  public readonly trafficSwitchFailedAlarm?: cloudwatch.Alarm;
  /** Fires when a coordinated rollback could not be started; set when coordinated rollback is on, unless `createAlarms` is false. */
  public readonly rollbackFailedAlarm?: cloudwatch.Alarm;

  private readonly alarmSets: AlarmSet[] = [];
  private readonly mainAlarms: AlarmSet;

  constructor(scope: Construct, id: string, props: MultiRegionPipelineProps) {
    super(scope, id);
    const validated = validationScope(this);
    // Ends the validation scope even when construction throws an error of another kind.
    try {
      if (typeof props.application?.createStage !== 'function') {
        fail('application', 'must implement IRegionalStageFactory with a createStage method (in Python: a create_stage method, in a class '
          + 'declared with @jsii.implements(IRegionalStageFactory))', `<${props.application?.constructor?.name ?? typeof props.application}>`);
      }
      const { account } = explicitAccountAndRegion(this, 'MultiRegionPipeline');
      const strategy = props.strategy ?? DeploymentStrategy.sequential();
      this.primaryRegion = props.primaryRegion ?? Stack.of(this).region;
      validateRegionName('primaryRegion', this.primaryRegion);
      validateRegions(props.replicaRegions, this.primaryRegion);
      this.regions = [this.primaryRegion, ...props.replicaRegions];
      this.strategyKind = strategy.kind;
      this.coordinatedRollback = props.coordinatedRollback ?? strategy.kind === DeploymentStrategyKind.BLUE_GREEN;
      this.pipelineName = props.pipelineName ?? Names.uniqueResourceName(this, { maxLength: MAX_PIPELINE_NAME_LENGTH, separator: '-' });
      this.metricNamespace = props.metricNamespace ?? DEFAULT_METRIC_NAMESPACE;
      const settings = this.validateProps(props, strategy);
      warnAboutIgnoredAlarmActions(this, props);
      this.serviceName = handlerServiceName(this);
      this.mainAlarms = this.newAlarmSet(this, settings.createAlarms);

      const healthCheck = this.createHealthCheckFunction(props, settings);
      this.healthCheckFunction = healthCheck?.handler;
      const trafficSwitch = this.createTrafficSwitchFunction(props, strategy, settings, account);
      this.trafficSwitchFunction = trafficSwitch?.handler;
      const { codePipeline, cdkPipeline } = this.createPipelines(props, settings);
      this.pipeline = codePipeline;
      this.cdkPipeline = cdkPipeline;
      const { regional, applicationStages } = this.addRegionalStages(props, strategy, settings, account, healthCheck, trafficSwitch);
      this.regionalStages = regional;
      this.applicationStages = applicationStages;
      this.grantBakeAlarmReads(codePipeline, settings);
      // The LambdaInvoke rules run with the pipeline's role.
      props.parityCheck?.grantInvoke(codePipeline.role);

      const watcher = this.createWatcherFunction(props, settings, regional);
      this.watcherFunction = watcher.handler;
      this.watcherRole = watcher.role;
      this.deadLetterQueue = watcher.deadLetterQueue;
      this.eventsRule = this.createEventsRule(watcher);

      // The pipeline is built now, not just before synthesis, so its conditions, roles and support
      // stacks exist for the acknowledgements below and for callers that inspect them.
      this.settingsParameters = [healthCheck, trafficSwitch, watcher].flatMap((f) => f?.settingsParameters ?? []);
      this.cdkPipeline.buildPipeline();
      this.acknowledgePipelineFindings(codePipeline, [healthCheck, trafficSwitch, watcher].filter((f): f is FunctionResources => f !== undefined));

      const created = createPipelineAlarms(this.mainAlarms, this, {
        healthChecks: settings.healthChecks.length > 0,
        trafficSwitch: settings.blueGreen,
        coordinatedRollback: this.coordinatedRollback,
      });
      this.pipelineFailedAlarm = created.pipelineFailedAlarm;
      this.rollbackPerformedAlarm = created.rollbackPerformedAlarm;
      this.healthCheckFailedAlarm = created.healthCheckFailedAlarm;
      this.trafficSwitchFailedAlarm = created.trafficSwitchFailedAlarm;
      this.rollbackFailedAlarm = created.rollbackFailedAlarm;
      if (props.alarmActions?.length) this.addAlarmAction(...props.alarmActions);

      this._settingsDocument = this.settingsDocument(props, strategy, settings, regional);
      if (props.parameterPrefix !== undefined) {
        claimParameterName(this, 'parameterPrefix', props.parameterPrefix, `${props.parameterPrefix}/global/secrets/gitops-config`);
        this.configParameter = new ssm.StringParameter(this, 'ConfigParameter', {
          parameterName: `${props.parameterPrefix}/global/secrets/gitops-config`,
          description: `Settings of the multi-region pipeline ${this.pipelineName}`.slice(0, 1024),
          tier: ssm.ParameterTier.STANDARD,
          stringValue: Stack.of(this).toJsonString(this._settingsDocument),
        });
      }
    } finally {
      validated();
    }
  }

  /** Validates the props, and resolves their defaults. */
  private validateProps(props: MultiRegionPipelineProps, strategy: DeploymentStrategy): PipelineSettings {
    const blueGreen = strategy.kind === DeploymentStrategyKind.BLUE_GREEN;
    const automaticRollback = props.automaticRollback ?? true;
    const healthChecks = props.healthChecks ?? [];
    const bakeAlarmNames = props.bakeAlarmNames ?? [];
    const createAlarms = props.createAlarms ?? true;
    if (this.coordinatedRollback && this.regions.length < 2) {
      fail('coordinatedRollback', 'needs at least one replica region', props.coordinatedRollback);
    }
    validateDistinct('healthChecks names', healthChecks.map((c) => c.name));
    healthChecks.forEach((c, i) => c._validate(this, i));
    if (blueGreen) {
      if (healthChecks.length === 0) {
        fail('healthChecks', 'must not be empty under the blue-green strategy: the green slot must be checked before it gets traffic', props.healthChecks);
      }
      const unslotted = healthChecks.filter((c) => !c.namesSlot).map((c) => c._redactedUrl);
      if (unslotted.length > 0) {
        fail('healthChecks', 'must each contain {slot} in the URL under the blue-green strategy, so each slot is checked before it gets traffic', unslotted);
      }
    } else {
      const slotted = healthChecks.filter((c) => c.namesSlot).map((c) => c._redactedUrl);
      if (slotted.length > 0) fail('healthChecks', 'must not contain {slot} unless the strategy is blue-green', slotted);
      if (bakeAlarmNames.some((n) => n.includes('{slot}'))) fail('bakeAlarmNames', 'must not contain {slot} unless the strategy is blue-green', bakeAlarmNames);
    }
    bakeAlarmNames.forEach((name) => validatePattern('bakeAlarmNames', name, /^[^\s][\x20-\x7E]{0,254}$/, 'must be CloudWatch alarm names (1 to 255 printable ASCII characters)'));
    validateDistinct('bakeAlarmNames', bakeAlarmNames);
    const bakeMinutes = validateWholeDuration('bakeTime', props.bakeTime ?? DEFAULT_BAKE_TIME, 'minutes', 1, MAX_BAKE_MINUTES);
    if (props.bakeTime && bakeAlarmNames.length === 0) {
      Annotations.of(this).addWarningV2(`${WARNING}bakeTimeWithoutAlarms`, 'bakeTime is ignored because bakeAlarmNames is empty: CodePipeline bakes by watching alarms.');
    }
    if (props.deploymentWindow) validateDeploymentWindow(props.deploymentWindow);
    const synthCommands = props.synthCommands ?? DEFAULT_SYNTH_COMMANDS;
    if (synthCommands.length === 0) fail('synthCommands', 'must not be empty', synthCommands);
    validatePattern('pipelineName', this.pipelineName, PIPELINE_NAME, 'must be 1 to 100 of the characters A-Z a-z 0-9 . @ - _');
    validateMetricNamespace(this.metricNamespace);
    if (props.parameterPrefix !== undefined) validateParameterPrefix(props.parameterPrefix);
    if (props.parityCheck) validateParityCheck(props.parityCheck, this.primaryRegion, props.replicaRegions, Stack.of(this).region);
    return { blueGreen, automaticRollback, healthChecks, bakeAlarmNames, createAlarms, bakeMinutes, synthCommands };
  }

  /** The function that runs the HTTP health checks; `undefined` without `healthChecks`. */
  private createHealthCheckFunction(props: MultiRegionPipelineProps, settings: PipelineSettings): FunctionResources | undefined {
    const { healthChecks, createAlarms } = settings;
    if (healthChecks.length === 0) return undefined;
    const worstCase = Math.max(...healthChecks.map((c) => c.worstCaseSeconds));
    if (worstCase > MAX_HEALTH_CHECK_SECONDS) {
      fail('healthChecks', `can take up to ${worstCase} s when failing (maxAttempts x timeout + (maxAttempts - 1) x interval), `
        + `more than the ${MAX_HEALTH_CHECK_SECONDS} s a health-check action may run; lower maxAttempts, timeout or interval`,
      healthChecks.map((c) => c.name));
    }
    const healthCheck = this.createFunction('HealthCheck', PipelineFunctionRole.HEALTH_CHECK, props, createAlarms, {
      description: `Runs the HTTP health checks of the pipeline ${this.pipelineName}`,
      timeout: Duration.seconds(worstCase + HEALTH_CHECK_TIMEOUT_MARGIN_SECONDS),
      growable: { [PipelineEnv.HEALTH_CHECKS]: healthChecks.map((c) => c._render()) },
    });
    for (const header of healthChecks.flatMap((c) => c.headers)) header._grantRead(healthCheck.role, this);
    return healthCheck;
  }

  /** The function that moves traffic between the blue and green slots; `undefined` unless the strategy is blue-green. */
  private createTrafficSwitchFunction(
    props: MultiRegionPipelineProps, strategy: DeploymentStrategy, settings: PipelineSettings, account: string,
  ): FunctionResources | undefined {
    const { createAlarms } = settings;
    const partition = Stack.of(this).partition;
    if (!settings.blueGreen) return undefined;
    const trafficSwitch = this.createFunction('TrafficSwitch', PipelineFunctionRole.TRAFFIC_SWITCH, props, createAlarms, {
      description: `Moves each region's traffic between its blue and green slots for the pipeline ${this.pipelineName}`,
      timeout: TRAFFIC_SWITCH_TIMEOUT,
      growable: { [PipelineEnv.TRAFFIC_SWITCH]: strategy.trafficSwitch!._render() },
    });
    strategy.trafficSwitch!._grant(trafficSwitch.role, this.regions, account, partition);
    trafficSwitch.role.addToPrincipalPolicy(new iam.PolicyStatement({
      actions: ['codepipeline:GetPipelineExecution'],
      resources: [this.pipelineArn()],
    }));
    return trafficSwitch;
  }

  /** The CodePipeline V2 pipeline (`Pipeline`) and the CDK Pipelines construct (`CdkPipeline`) that builds on it. */
  private createPipelines(
    props: MultiRegionPipelineProps, settings: PipelineSettings,
  ): { codePipeline: ConditionedPipeline; cdkPipeline: pipelines.CodePipeline } {
    const codePipeline = new ConditionedPipeline(this, 'Pipeline', {
      pipelineName: this.pipelineName,
      pipelineType: codepipeline.PipelineType.V2,
      crossAccountKeys: props.crossAccountKeys ?? false,
      // Only used with crossAccountKeys: the artifact keys (here and in the support stacks) rotate yearly.
      enableKeyRotation: props.crossAccountKeys ? true : undefined,
      // Self-mutation restarts the execution with the updated structure.
      restartExecutionOnUpdate: true,
    });
    const cdkPipeline = new pipelines.CodePipeline(this, 'CdkPipeline', {
      codePipeline,
      synth: new pipelines.ShellStep('Synth', {
        input: props.source._bind(),
        commands: settings.synthCommands,
        primaryOutputDirectory: props.synthOutputDirectory ?? DEFAULT_SYNTH_OUTPUT,
      }),
      selfMutation: props.selfMutation ?? true,
    });

    return { codePipeline, cdkPipeline };
  }

  /**
   * Adds each region's waves and stages in the order of `strategy`, with health-check, traffic-switch
   * and approval steps and the stage conditions (deployment window, bake, rollback).
   */
  private addRegionalStages(
    props: MultiRegionPipelineProps, strategy: DeploymentStrategy, settings: PipelineSettings, account: string,
    healthCheck: FunctionResources | undefined, trafficSwitch: FunctionResources | undefined,
  ): { regional: RegionalStages[]; applicationStages: Stage[] } {
    const { bakeAlarmNames, bakeMinutes, automaticRollback } = settings;
    const cdkPipeline = this.cdkPipeline;
    const codePipeline = this.pipeline as ConditionedPipeline;
    const applicationStages: Stage[] = [];
    const newStage = (region: string, position: number, stageId: string, slot?: SlotName): Stage => {
      const context: RegionalStageContext = {
        region,
        account,
        isPrimary: position === 0,
        position,
        ...(slot ? { slot: slot === HOME_SLOT ? DeploymentSlot.BLUE : DeploymentSlot.GREEN } : {}),
      };
      const created = props.application.createStage(this, stageId, context);
      if (!Stage.isStage(created)) fail('application', `createStage must return a Stage for ${stageId}`, typeof created);
      if (!Token.isUnresolved(created.region) && created.region !== region) {
        fail('application', `createStage must return a stage in the region it was asked for (${region}), for ${stageId}`, created.region ?? 'no region');
      }
      applicationStages.push(created);
      return created;
    };
    const healthStep = (region: string, slot?: SlotName): pipelines.Step[] => healthCheck
      ? [new LambdaInvokeStep(slot ? `HealthCheck-${slot}` : 'HealthCheck', healthCheck.handler, { region, ...(slot ? { slot } : {}) })]
      : [];
    const switchStep = (region: string, slot: SlotName): pipelines.Step =>
      new LambdaInvokeStep(`SwitchTo-${slot}`, trafficSwitch!.handler, { region, slot });
    const approval = (position: number, label: string): pipelines.Step[] =>
      props.manualApproval && position > 0 ? [new pipelines.ManualApprovalStep('Approve', { comment: `Deploy to ${label}?` })] : [];

    const regional: RegionalStages[] = [];
    const conditionsOf = new Map<string, StageConditions>();
    const bakeRules = (region: string, slot: SlotName | undefined, stageName: string): codepipeline.Rule[] =>
      bakeAlarmNames.map((template, i) => new codepipeline.Rule({
        name: ruleName(`Bake-${stageName}-${i + 1}`),
        provider: 'CloudWatchAlarm',
        version: '1',
        region,
        configuration: { AlarmName: substitute(template, region, slot), WaitTime: String(bakeMinutes) },
      }));
    const failureResult = automaticRollback ? codepipeline.Result.ROLLBACK : codepipeline.Result.FAIL;
    const parityCondition = (stageName: string, regions: string[]): codepipeline.Condition[] => {
      const gated = regions.filter((region) => region !== this.primaryRegion);
      if (!props.parityCheck || gated.length === 0) return [];
      return [{
        result: codepipeline.Result.FAIL,
        rules: gated.map((region) => new codepipeline.Rule({
          name: ruleName(gated.length === 1 ? `Parity-${stageName}` : `Parity-${stageName}-${region}`),
          provider: 'LambdaInvoke',
          version: '1',
          configuration: { FunctionName: props.parityCheck!.handler.functionName, UserParameters: JSON.stringify({ region }) },
        })),
      }];
    };
    const setConditions = (stageName: string, options: { first: boolean; bake?: codepipeline.Rule[]; regions?: string[] }) => {
      const beforeEntry: codepipeline.Condition[] = [
        ...(props.deploymentWindow && options.first ? [{
          result: codepipeline.Result.FAIL,
          rules: [new codepipeline.Rule({
            name: ruleName(`Window-${stageName}`),
            provider: 'DeploymentWindow',
            version: '1',
            configuration: { Cron: props.deploymentWindow.cron, TimeZone: props.deploymentWindow.timeZone ?? 'UTC' },
          })],
        }] : []),
        ...(options.first ? parityCondition(stageName, options.regions ?? []) : []),
      ];
      conditionsOf.set(stageName, {
        ...(beforeEntry.length > 0 ? { beforeEntry: { conditions: beforeEntry } } : {}),
        ...(options.bake && options.bake.length > 0 ? { onSuccess: { conditions: [{ result: failureResult, rules: options.bake }] } } : {}),
        ...(automaticRollback ? { onFailure: { result: codepipeline.Result.ROLLBACK } } : {}),
      });
    };

    // CDK Pipelines names a pipeline stage after its wave, or after the wave's only application
    // stage; both carry the same id here, so the names below are the pipeline's stage names.
    switch (strategy.kind) {
      case DeploymentStrategyKind.PARALLEL: {
        const primary = this.primaryRegion;
        cdkPipeline.addWave(primary).addStage(newStage(primary, 0, primary), { post: healthStep(primary) });
        setConditions(primary, { first: true, bake: bakeRules(primary, undefined, primary), regions: [primary] });
        regional.push({ region: primary, stageNames: [primary], rollbackStageNames: [primary] });
        const replicas = props.replicaRegions.length === 1 ? props.replicaRegions[0] : REPLICA_WAVE;
        const wave = cdkPipeline.addWave(replicas, { pre: approval(1, props.replicaRegions.join(', ')) });
        props.replicaRegions.forEach((region, i) => wave.addStage(newStage(region, i + 1, region), { post: healthStep(region) }));
        setConditions(replicas, {
          first: true,
          bake: props.replicaRegions.flatMap((region) => bakeRules(region, undefined, `${replicas}-${region}`)),
          regions: props.replicaRegions,
        });
        regional.push({ region: props.replicaRegions.join('+'), stageNames: [replicas], rollbackStageNames: [replicas] });
        break;
      }
      case DeploymentStrategyKind.BLUE_GREEN: {
        this.regions.forEach((region, position) => {
          const candidate = `${region}-${CANDIDATE_SLOT}`;
          const shift = `${region}-shift-to-${CANDIDATE_SLOT}`;
          const promote = `${region}-${HOME_SLOT}`;
          // The new version in green, which has no traffic, then green's health checks.
          cdkPipeline.addWave(candidate, { pre: approval(position, region) })
            .addStage(newStage(region, position, candidate, CANDIDATE_SLOT), { post: healthStep(region, CANDIDATE_SLOT) });
          setConditions(candidate, { first: true, regions: [region] });
          // Traffic to green, then the bake. Its rollback (a failed bake) sends traffic back to blue,
          // which still runs the last good version: no redeploy.
          cdkPipeline.addWave(shift, { post: [switchStep(region, CANDIDATE_SLOT)] });
          setConditions(shift, { first: false, bake: bakeRules(region, CANDIDATE_SLOT, shift) });
          // The new version in blue, its health checks, then traffic back to blue.
          const checks = healthStep(region, HOME_SLOT);
          const back = switchStep(region, HOME_SLOT);
          checks.forEach((c) => back.addStepDependency(c));
          cdkPipeline.addWave(promote).addStage(newStage(region, position, promote, HOME_SLOT), { post: [...checks, back] });
          setConditions(promote, { first: false });
          regional.push({ region, stageNames: [candidate, shift, promote], rollbackStageNames: [promote, candidate] });
        });
        break;
      }
      default: {
        this.regions.forEach((region, position) => {
          cdkPipeline.addWave(region, { pre: approval(position, region) })
            .addStage(newStage(region, position, region), { post: healthStep(region) });
          setConditions(region, { first: true, bake: bakeRules(region, undefined, region), regions: [region] });
          regional.push({ region, stageNames: [region], rollbackStageNames: [region] });
        });
      }
    }
    for (const [name, conditions] of conditionsOf) {
      if (name.length > MAX_STAGE_NAME_LENGTH) fail('replicaRegions', `make the stage name ${name} longer than ${MAX_STAGE_NAME_LENGTH} characters`, name);
      codePipeline.setStageConditions(name, conditions);
    }
    return { regional, applicationStages };
  }

  /** Lets the pipeline's role read the bake alarms (the CloudWatchAlarm rules run with it in each region). */
  private grantBakeAlarmReads(codePipeline: codepipeline.Pipeline, settings: PipelineSettings): void {
    const { bakeAlarmNames, blueGreen } = settings;
    const stack = Stack.of(this);
    if (bakeAlarmNames.length > 0) {
      // The CloudWatchAlarm rules run with the pipeline's role in each region.
      const alarmArns = this.regions.flatMap((region) => (blueGreen ? [CANDIDATE_SLOT] : [undefined]).flatMap((slot) =>
        bakeAlarmNames.map((template) => stack.formatArn({
          service: 'cloudwatch', region, resource: 'alarm', resourceName: substitute(template, region, slot), arnFormat: ArnFormat.COLON_RESOURCE_NAME,
        }))));
      codePipeline.role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['cloudwatch:DescribeAlarms'], resources: alarmArns }));
    }
  }

  /** The watcher function: counts failures and rollbacks, and coordinates cross-region rollback. */
  private createWatcherFunction(props: MultiRegionPipelineProps, settings: PipelineSettings, regional: RegionalStages[]): FunctionResources {
    const stack = Stack.of(this);
    const regionalConfig: RegionalStageConfig[] = regional.map((r) => ({
      region: r.region, stages: r.stageNames, rollbackStages: r.rollbackStageNames,
    }));
    const claimsPath = `${ROLLBACK_CLAIMS_ROOT}/${this.serviceName}/rollback-claims`;
    const watcher = this.createFunction('Watcher', PipelineFunctionRole.PIPELINE_WATCHER, props, settings.createAlarms, {
      description: `Watches the pipeline ${this.pipelineName}: counts failures and rollbacks, coordinates cross-region rollback`,
      timeout: WATCHER_TIMEOUT,
      environment: {
        [PipelineEnv.PIPELINE_NAME]: this.pipelineName,
        [PipelineEnv.COORDINATED_ROLLBACK]: String(this.coordinatedRollback),
        ...(props.notificationTopic ? { [PipelineEnv.NOTIFICATION_TOPIC_ARN]: props.notificationTopic.topicArn } : {}),
        ...(this.coordinatedRollback ? { [PipelineEnv.ROLLBACK_CLAIMS_PATH]: claimsPath } : {}),
      },
      growable: { [PipelineEnv.REGIONAL_STAGES]: regionalConfig },
    });
    const pipelineArn = this.pipelineArn();
    watcher.role.addToPrincipalPolicy(new iam.PolicyStatement({
      actions: ['codepipeline:GetPipelineExecution', 'codepipeline:ListPipelineExecutions', 'codepipeline:ListActionExecutions', 'codepipeline:GetPipelineState'],
      resources: [pipelineArn],
    }));
    if (this.coordinatedRollback) {
      // RollbackStage is authorized on the stage: arn:...:pipeline/<name>/<stage>.
      const rollbackStages = regional.flatMap((r) => r.rollbackStageNames).map((s) => `${pipelineArn}/${s}`);
      watcher.role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['codepipeline:RollbackStage'], resources: [pipelineArn, ...rollbackStages] }));
      // One claim per failed execution and stage, so that a duplicate event rolls nothing back twice;
      // the watcher removes its claims after three days. Only under its own path.
      const claimsArn = stack.formatArn({ service: 'ssm', resource: 'parameter', resourceName: claimsPath.slice(1), arnFormat: ArnFormat.SLASH_RESOURCE_NAME });
      watcher.role.addToPrincipalPolicy(new iam.PolicyStatement({
        actions: ['ssm:PutParameter', 'ssm:GetParameter', 'ssm:GetParametersByPath', 'ssm:DeleteParameters'],
        resources: [claimsArn, `${claimsArn}/*`],
      }));
    }
    if (props.notificationTopic) {
      // Not grantPublish(): it grants the topic's key for any use; SNS uses it on the watcher's behalf only.
      const topic = props.notificationTopic;
      watcher.role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['sns:Publish'], resources: [topic.topicArn] }));
      if (topic.masterKey) {
        const region = topic.env.region;
        watcher.role.addToPrincipalPolicy(new iam.PolicyStatement({
          actions: ['kms:Decrypt', 'kms:GenerateDataKey'],
          resources: [topic.masterKey.keyArn],
          conditions: { StringEquals: { 'kms:ViaService': `sns.${region}.${domainSuffixOf(region)}` } },
        }));
      }
    }
    return watcher;
  }

  /** The rule that sends the pipeline's execution and stage events to the watcher. */
  private createEventsRule(watcher: FunctionResources): events.Rule {
    const rule = new events.Rule(this, 'PipelineEvents', {
      description: `Sends execution and stage events of the pipeline ${this.pipelineName} to its watcher`.slice(0, 512),
      eventPattern: {
        source: ['aws.codepipeline'],
        detailType: ['CodePipeline Pipeline Execution State Change', 'CodePipeline Stage Execution State Change'],
        // The watcher acts on a failed execution and on a stage that started or failed; only stage
        // events carry `stage`, so an execution that starts does not invoke it.
        detail: {
          pipeline: [this.pipelineName],
          $or: [{ state: ['FAILED'] }, { state: ['STARTED'], stage: [{ exists: true }] }],
        },
      },
    });
    rule.addTarget(new targets.LambdaFunction(watcher.handler, {
      deadLetterQueue: watcher.deadLetterQueue,
      retryAttempts: DEFAULT_RETRY_ATTEMPTS,
      maxEventAge: DEFAULT_MAX_EVENT_AGE,
    }));
    return rule;
  }

  /** The gitops-config document of the Parameter Store document layout, written to `configParameter`. */
  private settingsDocument(
    props: MultiRegionPipelineProps, strategy: DeploymentStrategy, settings: PipelineSettings, regional: RegionalStages[],
  ): { [key: string]: any } {
    return {
      enabled: true,
      pipelineName: this.pipelineName,
      pipelineType: 'V2',
      source: { type: props.source.sourceType, location: props.source.description },
      primaryRegion: this.primaryRegion,
      deploymentRegions: this.regions,
      strategy: strategy.kind,
      trafficSwitch: strategy.trafficSwitch?.switchType ?? null,
      stages: regional.flatMap((r) => r.stageNames),
      healthChecks: settings.healthChecks.map((c) => ({ name: c.name, url: c._redactedUrl })),
      bakeAlarmNames: settings.bakeAlarmNames,
      bakeTimeMinutes: settings.bakeAlarmNames.length > 0 ? settings.bakeMinutes ?? null : null,
      automaticRollback: settings.automaticRollback,
      coordinatedRollback: this.coordinatedRollback,
      manualApproval: props.manualApproval ?? false,
      deploymentWindow: props.deploymentWindow ? { cron: props.deploymentWindow.cron, timeZone: props.deploymentWindow.timeZone ?? 'UTC' } : null,
      selfMutation: props.selfMutation ?? true,
    };
  }

  /** Every alarm of the pipeline and its functions. */
  public get alarms(): cloudwatch.IAlarm[] {
    return this.alarmSets.flatMap((s) => s.alarms);
  }


  /**
   * Widgets of this construct for a CloudWatch dashboard, as rows 24 units wide: a header naming it,
   * failed executions and rollbacks per region, health checks and their latency and traffic switches per region (when configured), its functions' invocations, errors and duration, and the status of `alarms`.
   *
   * Add them in one call: `dashboard.addWidgets(...x.dashboardWidgets())`. They are built only from
   * the `metricXxx()` methods, the handler's metrics and `alarms`. The metrics carry this stack's
   * region and account, but the handler graph and the alarm status need a dashboard in this stack's
   * region and account; for a dashboard elsewhere use `CrossRegionConfigDashboard`, which leaves
   * them out there.
   */
  public dashboardWidgets(options: DashboardWidgetOptions = {}): cloudwatch.IWidget[] {
    return pipelineDashboardWidgets(this, options);
  }
  /** Adds actions to every alarm of the pipeline and its functions, including alarms created later. */
  public addAlarmAction(...actions: cloudwatch.IAlarmAction[]): void {
    this.alarmSets.forEach((s) => s.addAlarmAction(...actions));
  }

  /** Health-check actions that failed (Sum; per region with `deploymentRegion`). */
  public metricHealthCheckFailed(options?: PipelineMetricOptions): cloudwatch.Metric {
    return this.metric(PipelineMetric.HEALTH_CHECK_FAILED, cloudwatch.Stats.SUM, options);
  }

  /** Health-check actions that passed (Sum; per region with `deploymentRegion`). */
  public metricHealthCheckPassed(options?: PipelineMetricOptions): cloudwatch.Metric {
    return this.metric(PipelineMetric.HEALTH_CHECK_PASSED, cloudwatch.Stats.SUM, options);
  }

  /** Latency of the health-check requests in milliseconds (p90; per region with `deploymentRegion`). */
  public metricHealthCheckLatency(options?: PipelineMetricOptions): cloudwatch.Metric {
    return this.metric(PipelineMetric.HEALTH_CHECK_LATENCY, 'p90', options, cloudwatch.Unit.MILLISECONDS);
  }

  /** Traffic switches performed (Sum; per region with `deploymentRegion`). */
  public metricTrafficSwitched(options?: PipelineMetricOptions): cloudwatch.Metric {
    return this.metric(PipelineMetric.TRAFFIC_SWITCHED, cloudwatch.Stats.SUM, options);
  }

  /** Traffic switches that failed (Sum; per region with `deploymentRegion`). */
  public metricTrafficSwitchFailed(options?: PipelineMetricOptions): cloudwatch.Metric {
    return this.metric(PipelineMetric.TRAFFIC_SWITCH_FAILED, cloudwatch.Stats.SUM, options);
  }

  /** Pipeline executions that failed (Sum). */
  public metricPipelineExecutionFailed(options?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric(PipelineMetric.PIPELINE_EXECUTION_FAILED, cloudwatch.Stats.SUM, options);
  }

  /** Regional stages that started a rollback: automatic, coordinated or manual (Sum; per region with `deploymentRegion`). */
  public metricRollbackPerformed(options?: PipelineMetricOptions): cloudwatch.Metric {
    return this.metric(PipelineMetric.ROLLBACK_PERFORMED, cloudwatch.Stats.SUM, options);
  }

  /** Coordinated stage rollbacks that could not be started (Sum; per region with `deploymentRegion`). */
  public metricRollbackFailed(options?: PipelineMetricOptions): cloudwatch.Metric {
    return this.metric(PipelineMetric.ROLLBACK_FAILED, cloudwatch.Stats.SUM, options);
  }

  private metric(
    metricName: string, statistic: string, options: PipelineMetricOptions = {}, unit: cloudwatch.Unit = cloudwatch.Unit.COUNT,
  ): cloudwatch.Metric {
    const { deploymentRegion: region, ...metricOptions } = options;
    return pipelineMetric({
      namespace: this.metricNamespace, serviceName: this.serviceName, metricName, statistic, region, unit, options: metricOptions,
    });
  }

  /**
   * Acknowledges the cdk-nag findings on what aws-cdk-lib creates for the pipeline (roles, artifact
   * buckets, CodeBuild projects) and on our functions, each wildcard by what it grants. A wildcard
   * that matches none of the known patterns is left for cdk-nag to report.
   */
  private acknowledgePipelineFindings(codePipeline: codepipeline.Pipeline, functions: FunctionResources[]): void {
    const stack = Stack.of(this);
    const supportBuckets = Object.values(codePipeline.crossRegionSupport)
      .map((support) => flattenReference(stack.resolve(support.replicationBucket.arnForObjects('*'))));
    const wildcardReasons: Array<[RegExp, string]> = [
      [/^<[A-Za-z0-9]*ArtifactsBucket[A-Za-z0-9]*\.Arn>\/\*$/, 'Objects of the pipeline\'s own artifact bucket (aws-cdk-lib Bucket grant): artifact keys are generated per execution.'],
      [new RegExp(`^(${supportBuckets.map(escapeRegExp).join('|') || '(?!)'})$`), 'Objects of the pipeline\'s cross-region artifact replication bucket (aws-cdk-lib support stack): artifact keys are generated per execution.'],
      [/:log-group:\/aws\/codebuild\/<[A-Za-z0-9]+>:\*$/, 'Log streams of this CodeBuild project\'s own log group; stream names are generated per build.'],
      [/:report-group\/<[A-Za-z0-9]+>-\*$/, 'Test report groups of this CodeBuild project, named after it by CodeBuild.'],
      [/^arn:\*:iam::\d{12}:role\/\*$/, 'Self-mutation assumes the CDK bootstrap roles (cdk-*-deploy-role and the like) of the pipeline\'s account in every region, tagged aws-cdk:bootstrap-role; aws-cdk-lib conditions it on that tag.'],
      [/^<[A-Za-z0-9]+Handler[A-Za-z0-9]*\.Arn>:\*$/, 'Invoking any version or alias of this pipeline\'s own function (aws-cdk-lib LambdaInvokeAction grant).'],
      [/^arn:<AWS::Partition>:route53:::change\/\*$/, 'route53:GetChange takes the id Route 53 generates for each change batch, unknown before the switch.'],
      [new RegExp(`:parameter${escapeRegExp(ROLLBACK_CLAIMS_ROOT)}/[A-Za-z0-9]+/rollback-claims/\\*$`),
        'The watcher\'s rollback claims: one parameter per failed execution and stage, named after them at run time, under its own path only.'],
    ];
    const actionReason = 'aws-cdk-lib Bucket and Key grants (s3:GetObject*, GetBucket*, List*, DeleteObject*, Abort*, kms:ReEncrypt*, kms:GenerateDataKey*) '
      + 'scoped to the pipeline\'s own artifact buckets and keys.';
    for (const policy of this.node.findAll().filter((c): c is iam.Policy => c instanceof iam.Policy)) {
      const statements = (stack.resolve(policy.document.toJSON())?.Statement ?? []) as Array<{ Action?: string | string[]; Resource?: unknown }>;
      for (const statement of statements) {
        for (const action of ([] as string[]).concat(statement.Action ?? []).filter((a) => a.endsWith('*'))) {
          if (/^(s3|kms):[A-Za-z]+\*$/.test(action)) acknowledgeNagFindings(policy, { id: `AwsSolutions-IAM5[Action::${action}]`, reason: actionReason });
        }
        for (const resource of ([] as unknown[]).concat(statement.Resource ?? [])) {
          const flat = flattenReference(resource);
          if (!flat.includes('*')) continue;
          if (flat === '*') {
            const actions = ([] as string[]).concat(statement.Action ?? []);
            if (actions.every((a) => UNSCOPED_ACTIONS.includes(a))) {
              acknowledgeNagFindings(policy, {
                id: 'AwsSolutions-IAM5[Resource::*]',
                reason: `Resource "*" only for actions without resource-level permissions: ${actions.join(', ')}.`,
              });
            } else if (actions.every((a) => a.startsWith('kms:')) && codePipeline.crossRegionSupport && Object.keys(codePipeline.crossRegionSupport).length > 0) {
              acknowledgeNagFindings(policy, {
                id: 'AwsSolutions-IAM5[Resource::*]',
                reason: 'aws-cdk-lib grants the pipeline role the artifact keys of the cross-region support stacks on "*": a key in another region\'s '
                  + 'stack cannot be referenced by ARN from this one (aws/aws-cdk#29819); each key\'s own policy admits only this pipeline.',
              });
            }
            continue;
          }
          const known = wildcardReasons.find(([pattern]) => pattern.test(flat));
          if (known) acknowledgeNagFindings(policy, { id: `AwsSolutions-IAM5[Resource::${flat}]`, reason: known[1] });
        }
      }
    }
    const artifactBucketFindings = (what: string) => [{
      id: `${NIST_800_53_R5}-S3BucketLoggingEnabled`,
      reason: `${what}, written and read only by the pipeline's roles; CloudTrail data events are the audit trail to use if one is needed.`,
    }, {
      id: `${NIST_800_53_R5}-S3BucketVersioningEnabled`,
      reason: `${what}: CodePipeline writes every artifact of every execution under a new key and never overwrites one, so versions would add nothing.`,
    }, {
      id: `${NIST_800_53_R5}-S3BucketReplicationEnabled`,
      reason: `${what}: artifacts are rebuilt from the source by the next execution, and CodePipeline itself copies them to each deployment `
        + 'region\'s artifact bucket.',
    }];
    acknowledgeNagFindings(codePipeline.artifactBucket, {
      id: 'AwsSolutions-S1',
      reason: 'Pipeline artifacts are written and read only by the pipeline\'s roles; CloudTrail data events are the audit trail to use if one is needed.',
    }, ...artifactBucketFindings('Pipeline artifacts'));
    for (const support of Object.values(codePipeline.crossRegionSupport)) {
      acknowledgeNagFindings(support.replicationBucket, {
        id: 'AwsSolutions-S1',
        reason: 'Cross-region copy of the pipeline artifacts, written and read only by the pipeline\'s roles; CloudTrail data events are the audit trail to use if one is needed.',
      }, ...artifactBucketFindings('Cross-region copy of the pipeline artifacts'));
    }
    // The roles of the pipeline, its actions and its CodeBuild projects (aws-cdk-lib pipelines) hold their grants inline.
    for (const role of this.node.findAll().filter((c): c is iam.Role => c instanceof iam.Role)) {
      acknowledgeNagFindings(role, { id: `${NIST_800_53_R5}-IAMNoInlinePolicy`, reason: INLINE_POLICY_REASON });
    }
    for (const project of this.node.findAll().filter((c) => c instanceof codebuild.Project)) {
      acknowledgeNagFindings(project, {
        id: 'AwsSolutions-CB4',
        reason: 'Build artifacts go to the pipeline\'s artifact bucket, encrypted with its key (customer managed with crossAccountKeys: true); CodeBuild '
          + 'encrypts its own cache and logs with AWS managed keys.',
      });
    }
    for (const f of functions) {
      acknowledgeNagFindings(f.handler, {
        id: 'AwsSolutions-L1',
        reason: 'The runtime is pinned to nodejs22.x, the Node.js major the bundled handler is built and tested on; it moves with a release of this library.',
      });
    }
  }

  private pipelineArn(): string {
    return Stack.of(this).formatArn({ service: 'codepipeline', resource: this.pipelineName, arnFormat: ArnFormat.NO_RESOURCE_NAME });
  }

  private newAlarmSet(scope: Construct, enabled: boolean): AlarmSet {
    const set = new AlarmSet(scope, enabled);
    this.alarmSets.push(set);
    return set;
  }

  private createFunction(
    id: string, role: PipelineFunctionRoleName, props: MultiRegionPipelineProps, createAlarms: boolean,
    options: { description: string; timeout: Duration; environment?: { [key: string]: string }; growable: { [key: string]: unknown } },
  ): FunctionResources {
    const scope = new Construct(this, id);
    const bundled = new BundledHandler(scope, {
      // The pipeline's own props: no functionName or memory size per function, and alarmActions are the pipeline's.
      options: {
        logRetention: props.logRetention,
        vpc: props.vpc,
        vpcSubnets: props.vpcSubnets,
        securityGroups: props.securityGroups,
        logGroupEncryptionKey: props.logGroupEncryptionKey,
        deadLetterQueueEncryptionKey: props.deadLetterQueueEncryptionKey,
        reservedConcurrentExecutions: props.reservedConcurrentExecutions,
        parameterStoreThroughput: props.parameterStoreThroughput,
        createAlarms,
      },
      description: options.description.slice(0, 256),
      defaultMemoryMiB: SMALL_FUNCTION_MEMORY_MIB,
      defaultTimeout: options.timeout,
    });
    this.alarmSets.push(bundled.alarmSet);
    const handler = bundled.createFunction(PipelineFunction, {
      description: `the ${role} function of the pipeline ${this.pipelineName}`,
      environment: {
        [PipelineEnv.ROLE]: role,
        [PipelineEnv.METRIC_NAMESPACE]: this.metricNamespace,
        [PipelineEnv.SERVICE_NAME]: this.serviceName,
        ...options.environment,
      },
      growable: options.growable,
    });
    if (role === PipelineFunctionRole.TRAFFIC_SWITCH) {
      bundled.role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['codepipeline:GetJobDetails'], resources: ['*'] }));
    }
    const what = { [PipelineFunctionRole.HEALTH_CHECK]: 'health-check', [PipelineFunctionRole.TRAFFIC_SWITCH]: 'traffic-switch', [PipelineFunctionRole.PIPELINE_WATCHER]: 'watcher' }[role];
    addHandlerAlarms(bundled.alarmSet, handler, bundled.deadLetterQueue, {
      errors: `The pipeline ${what} function failed. Its log group has the error name; a failed action is retried by CodePipeline on retry, an event by Lambda.`,
      throttles: `The pipeline ${what} function was throttled; raise the account's Lambda concurrency or reserve some for it.`,
      deadLetter: `Invocations of the pipeline ${what} function failed after retries and were dead-lettered; inspect the queue, fix the cause and redrive.`,
    });
    const resources = {
      handler,
      settingsParameters: bundled.settingsParameters,
      role: bundled.role,
      logGroup: bundled.logGroup,
      deadLetterQueue: bundled.deadLetterQueue,
    };
    return resources;
  }
}

/** Fails unless `replicaRegions` are distinct real regions other than the primary, in its partition. */
function validateRegions(replicaRegions: string[], primary: string): void {
  validateRegionNames('replicaRegions', replicaRegions);
  validateDistinct('replicaRegions', replicaRegions);
  if (replicaRegions.includes(primary)) fail('replicaRegions', `must not contain the primary region ${JSON.stringify(primary)}`, replicaRegions);
  replicaRegions.forEach((region) => validateSamePartition('replicaRegions', region, primary, true));
}

function validateDeploymentWindow(window: DeploymentWindow): void {
  validatePattern('deploymentWindow cron', window.cron, CRON_FIELDS, 'must be a cron expression of 6 or 7 fields whose first (seconds) field is "*", such as "* * 9-16 ? * MON-THU"');
  if (window.timeZone !== undefined) {
    validateLength('deploymentWindow timeZone', window.timeZone, 1, 64);
    validatePattern('deploymentWindow timeZone', window.timeZone, /^[A-Za-z]+(\/[A-Za-z0-9_+-]+)*$|^UTC$/, 'must be an IANA time zone such as "Europe/Berlin" or "UTC"');
  }
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function substitute(template: string, region: string, slot: SlotName | undefined): string {
  return template.split('{region}').join(region).split('{slot}').join(slot ?? '');
}

/** Rule names are unique per pipeline, up to 100 of A-Z a-z 0-9 . @ - _. */
function ruleName(name: string): string {
  return name.replace(/[^A-Za-z0-9.@_-]/g, '-').slice(0, MAX_STAGE_NAME_LENGTH);
}

/** The parity check compares with the pipeline's primary, checks every replica region, and runs in the pipeline's region (where its rules invoke it). */
function validateParityCheck(gate: IConfigParityGate, primaryRegion: string, replicaRegions: string[], pipelineRegion: string): void {
  if (!Token.isUnresolved(gate.primaryRegion) && gate.primaryRegion !== primaryRegion) {
    fail('parityCheck', `must compare with the pipeline's primary region ${primaryRegion}`, gate.primaryRegion);
  }
  const unchecked = replicaRegions.filter((r) => !gate.checkedRegions.includes(r));
  if (unchecked.length > 0) fail('parityCheck', `must check every replica region ${JSON.stringify(replicaRegions)}, but does not check`, unchecked);
  const region = Stack.of(gate).region;
  if (!Token.isUnresolved(region) && !Token.isUnresolved(pipelineRegion) && region !== pipelineRegion) {
    fail('parityCheck', `must be in the pipeline's region ${pipelineRegion} (its LambdaInvoke rules run there)`, region);
  }
}
