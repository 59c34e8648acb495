import { Annotations, ArnFormat, Duration, Stack, Token } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import * as ssm from 'aws-cdk-lib/aws-ssm';
import { Construct } from 'constructs';
import { ConfigMapScopeConfig, ParameterOverrideConfig, ParityEnv, ParityMetric, ReplicaTargetConfig, TARGET_REGION_DIMENSION } from './contract';
import { parityCheckDashboardWidgets } from './dashboard';
import { ParityCheckFunction } from './parity-check-function';
import { addHandlerAlarms, AlarmSet } from '../core/alarms';
import { BundledHandler, explicitRegion } from '../core/bundled-handler';
import { IConfigComparisonSource } from '../core/comparison-source';
import { DashboardWidgetOptions } from '../core/dashboard-options';
import { addFullPassAgeAlarm } from '../core/full-pass-alarm';
import { fullSyncAlarmThreshold } from '../core/full-sync-threshold';
import { HandlerOptions } from '../core/handler-options';
import { TRACING_ACTIONS } from '../core/hardened-function';
import { DriftIgnoreRule } from '../core/ignore-rule';
import { bindKubernetesCluster, KubernetesAccessLevel } from '../core/kubernetes-access';
import { KubernetesCluster } from '../core/kubernetes-cluster';
import { acknowledgeNagFindings, flattenReference, wildcardResourceFinding } from '../core/nag';
import { bindParameterOverrides, ParameterOverride } from '../core/parameter-override';
import { IParameterReplicator } from '../core/parameter-replicator-ref';
import { IConfigParityGate } from '../core/parity-gate';
import { ReplicaKmsKey } from '../core/replica-kms-key';
import { SECRETS_MANAGER_MANAGED_ALIAS, validateReplicaKmsKeys } from '../core/replica-kms-keys';
import { RunMetric } from '../core/run-contract';
import { grantRunHandOver } from '../core/run-handover';
import { ISecretReplicator } from '../core/secret-replicator-ref';
import { SecretSelection } from '../core/secret-selection';
import { ProvenanceTag } from '../core/secrets-contract';
import { inheritParameterKeys, parameterKeyStatements } from '../core/secure-string-keys';
import { BoundSelection } from '../core/selection-binding';
import { handlerMetric } from '../private/metrics';
import { rateSeconds, validateScheduleInterval } from '../private/schedule';
import {
  domainSuffixOf, fail, failIn, validateDistinct, validateMetricNamespace, validateNotEmpty, validateOutsideSettingsRoot, validatePattern,
  validateReplicaRegions, validateSamePartition, validateStructKeys, validateWholeDuration, validationScope, structMembers, WARNING,
} from '../private/validation';

/** 512 MiB: the drift detector's sizing for the same readers, holding two regions' digests. */
const DEFAULT_MEMORY_MIB = 512;
/**
 * Five minutes: a check reads two regions (about 30 s for 2,000 secrets and 2,000 parameters); a
 * CodePipeline entry condition and an ARC Region switch step wait for it, so it answers well within
 * their own timeouts. At most Lambda's 15 minutes.
 */
const DEFAULT_TIMEOUT = Duration.minutes(5);
const MAX_TIMEOUT_SECONDS = 900;
/** Failover readiness is re-checked every 15 minutes. */
const DEFAULT_SCHEDULE = events.Schedule.rate(Duration.minutes(15));
const DEFAULT_METRIC_NAMESPACE = 'CrossRegionConfig/ConfigParity';
/** Items changed in the primary this recently are not compared: replication usually lands within seconds. */
const DEFAULT_GRACE_WINDOW = Duration.minutes(10);
const MAX_GRACE_WINDOW_SECONDS = 86_400;
const MIN_ALARM_PERIOD_SECONDS = 60;
const MAX_ALARM_PERIOD_SECONDS = 86_400;

const SECRET_READ_ACTIONS = ['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret'];
/** Secrets Manager actions without resource-level permissions. */
const UNSCOPED_SECRETS_ACTIONS = ['secretsmanager:ListSecrets', 'secretsmanager:BatchGetSecretValue'];
/** The verdict a LambdaInvoke rule's job gets; CodePipeline's job actions have no resource-level permissions. */
const JOB_RESULT_ACTIONS = ['codepipeline:PutJobSuccessResult', 'codepipeline:PutJobFailureResult'];
const PARAMETER_PATH_PATTERN = /^(\/[A-Za-z0-9_.-]+)+$/;
const DNS_SUBDOMAIN_PATTERN = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;
const KEY_ARN_PATTERN = /^arn:aws[a-z-]*:kms:([a-z0-9-]+):\d{12}:key\/[A-Za-z0-9-]+$/;

/** ConfigMaps that must agree between a cluster in the primary region and clusters in the checked regions. */
export interface ConfigMapParityScope {
  /** Cluster holding the source of truth; in the primary region (this stack's region). */
  readonly primaryCluster: KubernetesCluster;

  /** Clusters compared with `primaryCluster`; at least one, each in a checked region. */
  readonly replicaClusters: KubernetesCluster[];

  /**
   * Namespace of the ConfigMaps, in every cluster.
   *
   * @default 'default'
   */
  readonly namespace?: string;

  /** Names of the ConfigMaps compared, at least one. */
  readonly names: string[];
}

/**
 * Props of `ConfigParityCheck`.
 */
export interface ConfigParityCheckProps extends HandlerOptions {
  /**
   * A drift detector (or another comparison) whose secrets, regions, replica KMS keys, source keys,
   * parameter paths, parameter overrides, ignore rules, replicator and parameter replicator's
   * SecureString keys the check takes; the props below override each.
   * Its ConfigMap scopes are not taken: give `configMaps`.
   *
   * @default - no drift detector: give what to compare here
   */
  readonly driftDetector?: IConfigComparisonSource;

  /**
   * A secret replicator whose secrets, replica regions and replica KMS keys must agree.
   *
   * @default - no replicator: give `regions` (and `secrets` to compare secrets)
   */
  readonly replicator?: ISecretReplicator;

  /**
   * A parameter replicator whose parameters must agree: the check compares its paths (unless
   * `parameterPaths` or the drift detector gives them), expects its overrides (unless
   * `parameterOverrides` is given) and skips its excluded paths and its settings parameter. Its
   * replica regions are checked when neither `regions`, the drift detector nor `replicator` gives them.
   * When parameters are compared, the handler may decrypt SecureString parameters with the
   * replicator's `sourceEncryptionKeys` (in the primary region) and `replicaKmsKeys` (each in its
   * checked region), only through Parameter Store, in addition to `sourceEncryptionKeys` and
   * `encryptionKeyArns`.
   *
   * @default - no parameter replicator: give `parameterPaths` to compare parameters (a drift
   * detector's parameter replicator still gives its keys)
   */
  readonly parameterReplicator?: IParameterReplicator;

  /**
   * Regions the check can be asked about; each is compared with the primary (this stack's region)
   * alone. Required without `replicator` or `parameterReplicator`.
   *
   * @default - the replicator's replica regions
   */
  readonly regions?: string[];

  /**
   * Secrets that must agree.
   *
   * @default - the replicator's selection; without a replicator, secrets are not compared
   */
  readonly secrets?: SecretSelection;

  /**
   * KMS keys the secrets in each checked region are expected to be encrypted with; a replica with
   * another key disagrees.
   *
   * @default - the replicator's `replicaKmsKeys`; otherwise every replica is expected to use `aws/secretsmanager`
   */
  readonly replicaKmsKeys?: ReplicaKmsKey[];

  /**
   * SSM parameter paths that must agree, each recursively. Paths must not overlap.
   *
   * @default - the drift detector's, or the parameter replicator's; otherwise parameters are not compared
   */
  readonly parameterPaths?: string[];

  /**
   * Declared per-region values: in its region, such a parameter must hold the declared value
   * instead of the primary's (a replica holding the primary's value disagrees).
   *
   * @default - the drift detector's, or the parameter replicator's (those under the compared paths, in the checked regions); otherwise every parameter must hold the primary's value
   */
  readonly parameterOverrides?: ParameterOverride[];

  /**
   * ConfigMaps that must agree between EKS clusters.
   *
   * @default - ConfigMaps are not compared
   */
  readonly configMaps?: ConfigMapParityScope[];

  /**
   * Expected differences: items (or ConfigMap keys) never compared.
   *
   * @default - everything in scope is compared
   */
  readonly ignoreRules?: DriftIgnoreRule[];

  /**
   * An item changed in the primary within this window is not compared (replication may still be in
   * flight) and does not fail the check; the summary counts it. Whole seconds, at most one day.
   *
   * @default Duration.minutes(10)
   */
  readonly graceWindow?: Duration;

  /**
   * Whether a region, cluster or item the check cannot read fails it (fail closed). With `false`
   * what cannot be read is listed in the summary and does not fail the check.
   *
   * @default true
   */
  readonly failWhenUnreadable?: boolean;

  /**
   * When to check every region and publish `ConfigParity` (failover readiness). Runs at most once
   * every `timeout`.
   *
   * @default events.Schedule.rate(Duration.minutes(15))
   */
  readonly schedule?: events.Schedule;

  /**
   * How long the scheduled check may go without a complete check of every region before `fullPassAgeAlarm` goes off. Whole
   * minutes, from 10 minutes to 1 day. A check of every region larger than one invocation hands the rest over and
   * completes in a later invocation; this alarm goes off when none completes in time.
   *
   * @default - twice the longest gap between two runs of `schedule` (30 minutes with the default
   * schedule), at most 1 day
   */
  readonly fullPassAlarmThreshold?: Duration;

  /**
   * Customer managed KMS keys that encrypt the compared secrets in the primary region (decrypted
   * only through Secrets Manager and Systems Manager).
   *
   * @default - the replicator's `sourceEncryptionKeys`; otherwise none
   */
  readonly sourceEncryptionKeys?: kms.IKey[];

  /**
   * Other KMS keys (by ARN, in any checked region), for example those of `SecureString`
   * parameters; decrypted only through Secrets Manager and Systems Manager.
   *
   * @default - the `driftDetector`'s `encryptionKeyArns`; otherwise none: items encrypted with the
   * AWS managed keys need no KMS permission
   */
  readonly encryptionKeyArns?: string[];

  /**
   * CloudWatch namespace of the handler's metrics.
   *
   * @default 'CrossRegionConfig/ConfigParity'
   */
  readonly metricNamespace?: string;

  /**
   * Create the alarms (`parityAlarm`, `fullPassAgeAlarm`, `errorsAlarm`, `throttlesAlarm`, `deadLetterAlarm`).
   *
   * @default true
   */
  readonly createAlarms?: boolean;

  /**
   * Actions of every alarm, for example an `SnsAction`. More can be added with `addAlarmAction()`.
   *
   * @default - no actions
   */
  readonly alarmActions?: cloudwatch.IAlarmAction[];

  /**
   * Name of the Lambda function.
   *
   * @default - generated by CloudFormation
   */
  readonly functionName?: string;

  /**
   * Memory of the handler, in MiB.
   *
   * @default 512
   */
  readonly memorySize?: number;

  /**
   * Timeout of one check; at most 15 minutes.
   *
   * @default Duration.minutes(5)
   */
  readonly timeout?: Duration;
}

/**
 * Options of `ConfigParityCheck.metricConfigParity()` and the other `metricXxx()` methods.
 */
export interface ParityMetricOptions extends cloudwatch.MetricOptions {
  /**
   * Only this checked region (the dimension `TargetRegion`).
   *
   * @default - every checked region (the metric without `TargetRegion`)
   */
  readonly targetRegion?: string;
}

/**
 * Answers whether a region's configuration agrees with the primary's before a deployment or a
 * failover goes there: Secrets Manager secrets, SSM parameters (with declared per-region values)
 * and Kubernetes ConfigMaps, compared by keyed hashes with the drift detector's comparison, one
 * region at a time, reading only the primary and that region.
 *
 * The handler answers a CodePipeline `LambdaInvoke` rule (`MultiRegionPipeline`'s `parityCheck`),
 * an ARC Region switch plan's custom action step, and `{"action":"check","region":...}`; on
 * `schedule` it checks every region and publishes `ConfigParity` (1 = the region agrees). Results
 * name items and drift types, never values.
 *
 * @example
 * declare const replicator: CrossRegionSecretReplicator;
 * new ConfigParityCheck(this, 'Parity', {
 *   replicator,
 *   parameterPaths: ['/my-app/production'],
 * });
 */
export class ConfigParityCheck extends Construct implements IConfigParityGate {
  /**
   * The name of an ARC Region switch plan step that checks `region` with this construct's function:
   * `ConfigParity-<region>`. Region switch invokes the function with the step name only, so the
   * region is read from it.
   */
  public static regionSwitchStepName(region: string): string {
    return `ConfigParity-${region}`;
  }

  /** Region holding the source of truth: this stack's region. */
  public readonly primaryRegion: string;

  /** Regions the check can be asked about (secrets' and parameters' regions, then the ConfigMap clusters'). */
  public readonly checkedRegions: string[];

  /** Value of the `service` dimension of the handler's metrics (also `POWERTOOLS_SERVICE_NAME`). */
  public readonly serviceName: string;

  /** CloudWatch namespace of the handler's metrics. */
  public readonly metricNamespace: string;

  /** The Lambda function that checks. */
  public readonly handler: lambda.Function;

  /** Execution role of the handler: reads in the primary and the checked regions only. */
  public readonly role: iam.Role;

  /** Log group of the handler (JSON logs; values are never logged). */
  public readonly logGroup: logs.LogGroup;

  /** Dead-letter queue of scheduled checks that failed after two retries. */
  public readonly deadLetterQueue: sqs.Queue;

  /** Parameters of the handler's settings document; empty while every setting fits in Lambda's 4 KB environment. */
  public readonly settingsParameters: ssm.IStringParameter[];

  /** EventBridge rule that checks every region on `schedule`. */
  public readonly schedule: events.Rule;

  /**
   * AWS CLI commands that grant the handler read access to clusters this construct could not grant
   * itself; run them once. Empty when every cluster got an EKS access entry.
   */
  public readonly clusterAccessCommands: string[];

  /** Every alarm of this construct; empty when `createAlarms` is false. */
  public readonly alarms: cloudwatch.IAlarm[];

  /** `ConfigParity` (Minimum over the schedule's period, any region) < 1; undefined when `createAlarms` is false. */
  public readonly parityAlarm?: cloudwatch.IAlarm;

  /**
   * No check of every region completed within `fullPassAlarmThreshold` (missing data breaching: a schedule that
   * stopped, a failing handler, or a check of every region that hands over without end); undefined when
   * `createAlarms` is false.
   */
  public readonly fullPassAgeAlarm?: cloudwatch.IAlarm;

  /** Handler errors (Sum ≥ 1 in 5 minutes); undefined when `createAlarms` is false. */
  public readonly errorsAlarm?: cloudwatch.IAlarm;

  /** Handler throttles (Sum ≥ 1 in 5 minutes); undefined when `createAlarms` is false. */
  public readonly throttlesAlarm?: cloudwatch.IAlarm;

  /** Messages in the dead-letter queue (Maximum ≥ 1); undefined when `createAlarms` is false. */
  public readonly deadLetterAlarm?: cloudwatch.IAlarm;

  private readonly alarmSet: AlarmSet;
  private readonly period: Duration;

  constructor(scope: Construct, id: string, props: ConfigParityCheckProps = {}) {
    super(scope, id);
    const validated = validationScope(this);
    try {
      this.primaryRegion = explicitRegion(this, 'ConfigParityCheck');
      this.metricNamespace = props.metricNamespace ?? DEFAULT_METRIC_NAMESPACE;
      const s = this.validateProps(props);
      this.checkedRegions = [...new Set([...s.regions, ...s.configMaps.flatMap((c) => c.replicaClusters.map((r) => r.region))])];
      const selection = s.secrets ? new BoundSelection(s.secrets, Stack.of(this)) : undefined;
      this.period = alarmPeriod(s.schedule);

      const bundled = new BundledHandler(this, {
        options: props,
        description: `Checks that ${this.checkedRegions.join(', ')} agree with ${this.primaryRegion} before deployments and failovers`.slice(0, 256),
        defaultMemoryMiB: DEFAULT_MEMORY_MIB,
        defaultTimeout: DEFAULT_TIMEOUT,
      });
      this.serviceName = bundled.serviceName;
      this.role = bundled.role;
      this.logGroup = bundled.logGroup;
      this.deadLetterQueue = bundled.deadLetterQueue;
      const { configMapScopes, accessCommands } = this.bindClusters(s.configMaps);
      this.clusterAccessCommands = accessCommands;
      const targets: ReplicaTargetConfig[] = this.checkedRegions.map((region) => {
        const key = s.kmsByRegion.get(region);
        const kmsKeyId = key?.keyArn ?? key?.aliasName;
        return { region, ...(kmsKeyId ? { kmsKeyId } : {}) };
      });
      this.handler = bundled.createFunction(ParityCheckFunction, {
        description: `the config parity check ${this.node.path}`,
        environment: {
          [ParityEnv.PRIMARY_REGION]: this.primaryRegion,
          [ParityEnv.GRACE_WINDOW_SECONDS]: String(s.graceWindowSeconds ?? Token.asString((props.graceWindow ?? DEFAULT_GRACE_WINDOW).toSeconds())),
          [ParityEnv.FAIL_WHEN_UNREADABLE]: String(props.failWhenUnreadable ?? true),
          ...(s.replicator ? { [ParityEnv.EXCLUDED_SECRET_ARN]: s.replicator.provenanceKey.secretArn } : {}),
          [ParityEnv.METRIC_NAMESPACE]: this.metricNamespace,
          [ParityEnv.SERVICE_NAME]: this.serviceName,
        },
        growable: {
          [ParityEnv.TARGETS]: targets,
          [ParityEnv.SECRET_SELECTION]: selection?.toConfig(),
          [ParityEnv.PARAMETER_PATHS]: s.parameterPaths.length ? s.parameterPaths : undefined,
          [ParityEnv.PARAMETER_OVERRIDES]: s.overrides.length ? s.overrides : undefined,
          [ParityEnv.CONFIGMAP_SCOPES]: configMapScopes.length ? configMapScopes : undefined,
          [ParityEnv.IGNORE_RULES]: s.ignoreRules.length ? s.ignoreRules.map((r) => r._config) : undefined,
          [ParityEnv.EXCLUDED_PARAMETERS]: s.excludedParameters.length ? s.excludedParameters : undefined,
        },
      });
      this.settingsParameters = bundled.settingsParameters;
      // The scheduled check of every region hands over to the next invocation when it needs longer (README, "Large selections").
      grantRunHandOver(this, { handler: this.handler, role: this.role, serviceName: this.serviceName });
      const wildcards = this.grantReads(selection, s, s.encryptionKeyArns);

      this.schedule = new events.Rule(this, 'Schedule', {
        description: `Checks configuration parity of every region for failover readiness: ${this.node.path}`.slice(0, 512),
        schedule: s.schedule,
      });
      this.schedule.addTarget(bundled.target(events.RuleTargetInput.fromObject({ action: 'check_all' })));

      this.alarmSet = bundled.alarmSet;
      this.parityAlarm = this.alarmSet.add({
        id: 'ParityAlarm',
        metric: this.metricConfigParity({ statistic: cloudwatch.Stats.MINIMUM, period: this.period }),
        threshold: 1, // 1 = every region checked in the period agreed
        evaluationPeriods: 1,
        datapointsToAlarm: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.IGNORE,
        description: `A region's configuration disagrees with ${this.primaryRegion} (or could not be read): a deployment or a failover into it would `
          + 'meet missing or other secrets, parameters or ConfigMaps. ConfigParity with the TargetRegion dimension shows which region; the '
          + 'function\'s log names each item and drift type. Invoke it with {"action":"check","region":"<region>"} to check again.',
      });
      this.fullPassAgeAlarm = addFullPassAgeAlarm(this.alarmSet, (o) => this.metricRunPartial(o),
        fullSyncAlarmThreshold(this, props.fullPassAlarmThreshold, s.schedule,
          { prop: 'fullPassAlarmThreshold', run: 'scheduled check', alarm: 'full-pass age alarm' }),
        'scheduled check of every region', 'ConfigParity is not current meanwhile: a failover decision would rest on an old answer.');
      const handlerAlarms = addHandlerAlarms(this.alarmSet, this.handler, this.deadLetterQueue, {
        errors: 'The config parity check failed (for example a region could not be checked at all). Its log group names the error; '
          + 'until it is fixed, the pipeline\'s entry conditions stay closed and ConfigParity reads 0.',
        throttles: 'The config parity check was throttled, so a check was delayed. Check the account\'s Lambda concurrency.',
        deadLetter: 'Scheduled parity checks failed after retries and are in the dead-letter queue (the messages hold the schedule\'s event, '
          + 'never values). Fix the cause from the function\'s log group, then purge the queue.',
      });
      this.errorsAlarm = handlerAlarms.errorsAlarm;
      this.throttlesAlarm = handlerAlarms.throttlesAlarm;
      this.deadLetterAlarm = handlerAlarms.deadLetterAlarm;
      this.alarms = this.alarmSet.alarms;
      bundled.addConfiguredAlarmActions();
      this.acknowledgeWildcards(wildcards);
    } finally {
      validated();
    }
  }

  /**
   * 1 when a checked region agrees with the primary, else 0.
   *
   * @default - Minimum over the schedule's period (15 minutes by default), every checked region
   */
  public metricConfigParity(props?: ParityMetricOptions): cloudwatch.Metric {
    return this.metric(ParityMetric.CONFIG_PARITY, cloudwatch.Stats.MINIMUM, props);
  }

  /**
   * Items of a checked region that differ from the primary.
   *
   * @default - Maximum over the schedule's period, every checked region
   */
  public metricParityDifferences(props?: ParityMetricOptions): cloudwatch.Metric {
    return this.metric(ParityMetric.DIFFERENCES, cloudwatch.Stats.MAXIMUM, props);
  }

  /**
   * Regions, clusters or items a check could not read.
   *
   * @default - Maximum over the schedule's period, every checked region
   */
  public metricParityUnreadable(props?: ParityMetricOptions): cloudwatch.Metric {
    return this.metric(ParityMetric.UNREADABLE, cloudwatch.Stats.MAXIMUM, props);
  }

  /**
   * (item, location) pairs an invocation of the scheduled check of every region compared. A check
   * that needs longer than one invocation works in several, each reporting its own share.
   *
   * @default - Sum over 5 minutes
   */
  public metricItemsProcessed(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.runMetric(RunMetric.ITEMS_PROCESSED, cloudwatch.Stats.SUM, cloudwatch.Unit.COUNT, props);
  }

  /**
   * 1 for an invocation of the scheduled check of every region that stopped before its timeout
   * with regions or scopes left and handed them to the next invocation, 0 for one that finished.
   *
   * @default - Maximum over 5 minutes
   */
  public metricRunPartial(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.runMetric(RunMetric.RUN_PARTIAL, cloudwatch.Stats.MAXIMUM, cloudwatch.Unit.COUNT, props);
  }

  /**
   * Seconds the regions and scopes the scheduled check has not reached yet have been waiting:
   * since that check started (0 when it finished).
   *
   * @default - Maximum over 5 minutes
   */
  public metricOldestUnprocessedItemAge(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.runMetric(RunMetric.OLDEST_UNPROCESSED_ITEM_AGE, cloudwatch.Stats.MAXIMUM, cloudwatch.Unit.SECONDS, props);
  }

  /**
   * Widgets of this construct for a CloudWatch dashboard, as rows 24 units wide: a header, the
   * latest `ConfigParity` of each checked region, differences and unreadable parts per region,
   * the handler's invocations, errors and duration, and the status of `alarms`.
   */
  public dashboardWidgets(options: DashboardWidgetOptions = {}): cloudwatch.IWidget[] {
    return parityCheckDashboardWidgets(this, options);
  }

  /** Adds actions to every alarm of this construct, including alarms created later. */
  public addAlarmAction(...actions: cloudwatch.IAlarmAction[]): void {
    this.alarmSet.addAlarmAction(...actions);
  }

  /**
   * Grants `grantee` permission to run a check (`lambda:InvokeFunction` on the handler), such as a
   * pipeline's role for its LambdaInvoke rules or an ARC Region switch plan's execution role.
   */
  public grantInvoke(grantee: iam.IGrantable): iam.Grant {
    return this.handler.grantInvoke(grantee);
  }

  /** A run metric of the scheduled check: emitted with the `service` dimension only. */
  private runMetric(metricName: string, statistic: string, unit: cloudwatch.Unit, options?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return handlerMetric({
      namespace: this.metricNamespace,
      serviceName: this.serviceName,
      metricName,
      statistic,
      defaultPeriod: RUN_METRIC_PERIOD,
      unit,
      dimensions: {},
      options,
    });
  }

  private metric(name: string, statistic: string, props: ParityMetricOptions | undefined): cloudwatch.Metric {
    const { targetRegion, ...options } = props ?? {};
    if (targetRegion !== undefined && !Token.isUnresolved(targetRegion) && !this.checkedRegions.includes(targetRegion)) {
      failIn(this, 'ParityMetricOptions.targetRegion', `must be one of the checked regions ${JSON.stringify(this.checkedRegions)}`, targetRegion);
    }
    return handlerMetric({
      namespace: this.metricNamespace,
      serviceName: this.serviceName,
      metricName: name,
      statistic: options.statistic ?? statistic,
      defaultPeriod: this.period,
      unit: cloudwatch.Unit.COUNT,
      dimensions: { [TARGET_REGION_DIMENSION]: targetRegion },
      options,
    });
  }

  private validateProps(props: ConfigParityCheckProps) {
    const primary = this.primaryRegion;
    const detector = props.driftDetector;
    if (detector && !Token.isUnresolved(detector.primaryRegion) && detector.primaryRegion !== primary) {
      fail('driftDetector', `must compare with the check's region ${primary}`, detector.primaryRegion);
    }
    const replicator = props.replicator ?? detector?.comparedReplicator;
    if (replicator && Stack.of(replicator).region !== primary) fail('replicator', `must be in the check's region ${primary}`, Stack.of(replicator).region);
    const parameterReplicator = props.parameterReplicator;
    if (parameterReplicator && Stack.of(parameterReplicator).region !== primary) {
      fail('parameterReplicator', `must be in the check's region ${primary}`, Stack.of(parameterReplicator).region);
    }
    const regions = props.regions ?? (detector?.comparedRegions.length ? detector.comparedRegions : undefined) ?? replicator?.replicaRegions
      ?? parameterReplicator?.replicaRegions;
    const secrets = props.secrets ?? detector?.comparedSecrets ?? replicator?.secrets;
    // A replicator of every parameter ("/") leaves the paths to check to parameterPaths (as the drift detector's link does).
    const linked = parameterReplicator && !parameterReplicator.parameterPaths.includes('/') ? parameterReplicator : undefined;
    const detectorPaths = detector?.comparedParameterPaths.length ? detector.comparedParameterPaths : undefined;
    const parameterPaths = props.parameterPaths ?? detectorPaths ?? linked?.parameterPaths ?? [];
    const configMaps = props.configMaps ?? [];
    if (regions === undefined && (secrets !== undefined || parameterPaths.length > 0)) {
      fail('regions', 'must be set when no replicator is given and secrets or parameterPaths are compared', regions);
    }
    if (regions !== undefined) validateReplicaRegions(regions, primary);
    if (secrets === undefined && parameterPaths.length === 0 && configMaps.length === 0) {
      fail('secrets', 'or parameterPaths, configMaps or replicator must give the check something to compare', undefined);
    }
    const inheritedKeys = detector?.comparedReplicaKmsKeys ?? replicator?.replicaKmsKeys ?? [];
    const replicaKmsKeys = props.replicaKmsKeys ?? inheritedKeys.filter((k) => (regions ?? []).includes(k.region));
    const kmsByRegion = validateReplicaKmsKeys(replicaKmsKeys, regions ?? []);
    validateDistinct('parameterPaths', parameterPaths);
    for (const path of parameterPaths) {
      if (Token.isUnresolved(path)) continue;
      validatePattern('parameterPaths', path, PARAMETER_PATH_PATTERN,
        'must be paths of "/"-separated segments of the characters A-Z a-z 0-9 _ . -, starting with "/" and not ending with "/", such as "/my-app/production"');
      if (/^\/(aws|ssm)(\/|$)/i.test(path)) fail('parameterPaths', 'must not be under the reserved "/aws" or "/ssm"', path);
      validateOutsideSettingsRoot('parameterPaths', path);
      const outer = parameterPaths.find((other) => other !== path && path.startsWith(`${other}/`));
      if (outer) fail('parameterPaths', `must not overlap (each is compared recursively), but ${JSON.stringify(path)} is under`, outer);
    }
    if (props.parameterOverrides?.length && parameterPaths.length === 0) {
      fail('parameterOverrides', 'need parameterPaths: only parameters under them are compared', props.parameterOverrides.map((o) => o.parameterName));
    }
    const overrides = props.parameterOverrides
      ? bindParameterOverrides('parameterOverrides', props.parameterOverrides, regions ?? [])
      : inheritedOverrides(detectorPaths ? detector : undefined, linked, parameterPaths, regions ?? []);
    for (const o of overrides) {
      if (!parameterPaths.some((p) => Token.isUnresolved(p) || o.name.startsWith(`${p}/`))) {
        fail('parameterOverrides', `must name parameters under parameterPaths ${JSON.stringify(parameterPaths)}`, o.name);
      }
    }
    for (const [i, scope] of configMaps.entries()) validateConfigMapScope(`configMaps[${i}]`, scope, primary);
    const checked = [...(regions ?? []), ...configMaps.flatMap((c) => c.replicaClusters.map((r) => r.region))];
    // The parameter replicator's excluded paths are skipped when its paths are the ones checked.
    const linkedIgnoreRules = linked && props.parameterPaths === undefined && detectorPaths === undefined
      ? linked.excludedParameterPaths.map((path) => DriftIgnoreRule.parameters(`${path}/**`)) : [];
    const ignoreRules = [...(props.ignoreRules ?? detector?.comparedIgnoreRules ?? []), ...linkedIgnoreRules];
    ignoreRules.forEach((rule, i) => {
      const unknown = (rule._config.regions ?? []).filter((r) => !Token.isUnresolved(r) && !checked.includes(r));
      if (unknown.length > 0) fail(`ignoreRules[${i}] replicaRegions`, `must be checked regions ${JSON.stringify([...new Set(checked)])}`, unknown);
    });
    const graceWindowSeconds = validateWholeDuration('graceWindow', props.graceWindow ?? DEFAULT_GRACE_WINDOW, 'seconds', 0, MAX_GRACE_WINDOW_SECONDS);
    const timeout = props.timeout ?? DEFAULT_TIMEOUT;
    validateWholeDuration('timeout', timeout, 'seconds', 1, MAX_TIMEOUT_SECONDS);
    const schedule = props.schedule ?? DEFAULT_SCHEDULE;
    validateScheduleInterval('schedule', schedule, timeout, 'a check of every region may take the handler\'s timeout, and checks must not overlap');
    validateMetricNamespace(this.metricNamespace);
    for (const arn of props.encryptionKeyArns ?? []) {
      validatePattern('encryptionKeyArns', arn, KEY_ARN_PATTERN, 'must be KMS key ARNs such as "arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"');
    }
    const encryptionKeyArns = props.encryptionKeyArns ?? detector?.comparedEncryptionKeyArns ?? [];
    const sourceEncryptionKeys = props.sourceEncryptionKeys ?? detector?.comparedSourceEncryptionKeys ?? replicator?.sourceEncryptionKeys ?? [];
    // The parameter replicator's SecureString keys (the drift detector's when none is given), and the
    // detector's own parameterReplicaKmsKeys, merged with the keys given here (each key once).
    const keySource = parameterReplicator ?? detector?.comparedParameterReplicator;
    const granted = { regions: regions ?? [], sourceKeys: sourceEncryptionKeys, keyArns: encryptionKeyArns };
    const inherited = inheritParameterKeys(parameterPaths.length > 0 ? keySource : undefined, granted);
    const detectorKeys = parameterPaths.length > 0 && !parameterReplicator && detector?.comparedParameterReplicaKmsKeys?.length
      ? inheritParameterKeys({ sourceEncryptionKeys: [], replicaKmsKeys: detector.comparedParameterReplicaKmsKeys },
        { ...granted, replicaKeys: inherited.replicaKeys })
      : { sourceKeys: [], replicaKeys: [] };
    const parameterKeys = { sourceKeys: inherited.sourceKeys, replicaKeys: [...inherited.replicaKeys, ...detectorKeys.replicaKeys] };
    if (props.failWhenUnreadable === false) {
      Annotations.of(this).addWarningV2(`${WARNING}parityFailsOpen`,
        'failWhenUnreadable is false: a region or item the check cannot read (IAM, KMS, an unreachable cluster) lets deployments and failovers through.');
    }
    return {
      replicator,
      regions: regions ?? [],
      secrets,
      parameterPaths,
      configMaps,
      overrides,
      kmsByRegion,
      graceWindowSeconds,
      schedule,
      sourceEncryptionKeys,
      parameterKeys,
      encryptionKeyArns,
      ignoreRules,
      // This library's settings parameters under the compared paths: never compared (each region's are its own).
      excludedParameters: [...new Set([
        ...(detector?.comparedExcludedParameters ?? []),
        ...(replicator?.configParameter ? [replicator.configParameter.parameterName] : []),
        ...(parameterReplicator?.configParameter ? [parameterReplicator.configParameter.parameterName] : []),
      ])],
    };
  }

  /** Read-only access entries (or commands) for every cluster of the ConfigMap scopes. */
  private bindClusters(scopes: ConfigMapParityScope[]): { configMapScopes: ConfigMapScopeConfig[]; accessCommands: string[] } {
    const commands = new Map<string, string>();
    const configMapScopes = scopes.map((s, i) => {
      const namespace = s.namespace ?? 'default';
      const bind = (cluster: KubernetesCluster, j: number) => {
        const bound = bindKubernetesCluster(this, cluster, {
          role: this.role, namespaces: [namespace], access: KubernetesAccessLevel.VIEW, id: `ClusterAccess${i}x${j}`, propPrefix: `configMaps[${i}].`,
        });
        if (bound.manualSetupCommand) commands.set(`${cluster.region}/${cluster.clusterName}`, bound.manualSetupCommand);
        return bound.config;
      };
      return { primary: bind(s.primaryCluster, 0), replicas: s.replicaClusters.map((c, j) => bind(c, j + 1)), namespace, names: [...s.names] };
    });
    return { configMapScopes, accessCommands: [...commands.values()] };
  }

  /** Reads only, in the primary and the checked regions; returns the wildcard resources with their reasons. */
  private grantReads(selection: BoundSelection | undefined, s: ReturnType<ConfigParityCheck['validateProps']>, encryptionKeyArns: string[]): Map<string, string> {
    const wildcards = new Map<string, string>();
    const add = (statement: iam.PolicyStatement, reason: string) => {
      this.role.addToPrincipalPolicy(statement);
      for (const resource of statement.resources) wildcards.set(resource, reason);
    };
    const primary = this.primaryRegion;
    const stack = Stack.of(this);
    const regions = s.regions;
    if (selection) {
      const reason = 'The selection includes secrets by name prefix or tags: reads are limited to names starting with the prefix, '
        + 'or to secrets carrying every selected tag (secretsmanager:ResourceTag conditions).';
      for (const st of selection.primaryReadStatements(primary, SECRET_READ_ACTIONS)) add(st, reason);
      for (const region of regions) {
        const reads = selection.replicaReadStatements(region, primary, SECRET_READ_ACTIONS, ProvenanceTag.SOURCE_REGION, s.replicator?.deploymentId);
        for (const st of reads) add(st, reason);
      }
      this.role.addToPrincipalPolicy(new iam.PolicyStatement({
        actions: UNSCOPED_SECRETS_ACTIONS, resources: ['*'], conditions: { StringEquals: { 'aws:RequestedRegion': [primary, ...regions] } },
      }));
      for (const [region, key] of s.kmsByRegion) {
        if (key.aliasName === SECRETS_MANAGER_MANAGED_ALIAS) continue;
        const viaService = { 'kms:ViaService': `secretsmanager.${region}.${domainSuffixOf(region)}` };
        const anyKey = stack.formatArn({ service: 'kms', region, resource: 'key', resourceName: '*' });
        if (key.keyArn) {
          add(new iam.PolicyStatement({ actions: ['kms:Decrypt'], resources: [key.keyArn], conditions: { StringEquals: viaService } }), 'Replica keys are named by ARN.');
        } else {
          add(new iam.PolicyStatement({
            actions: ['kms:Decrypt'],
            resources: [anyKey],
            conditions: { 'ForAnyValue:StringEquals': { 'kms:ResourceAliases': key.aliasName }, 'StringEquals': viaService },
          }), `The replica key in ${region} is named by its alias ${key.aliasName}: limited to keys carrying that alias, used through Secrets Manager.`);
        }
        add(new iam.PolicyStatement({ actions: ['kms:DescribeKey'], resources: [anyKey] }),
          `A replica in ${region} may name its key by ARN, key id, alias or alias ARN: DescribeKey (metadata only) resolves the form that differs.`);
      }
    }
    const viaPrimary = [
      ...(selection ? [`secretsmanager.${primary}.${domainSuffixOf(primary)}`] : []),
      ...(s.parameterPaths.length > 0 ? [`ssm.${primary}.${domainSuffixOf(primary)}`] : []),
    ];
    if (s.sourceEncryptionKeys.length > 0 && viaPrimary.length > 0) {
      add(new iam.PolicyStatement({
        actions: ['kms:Decrypt'],
        resources: s.sourceEncryptionKeys.map((k) => k.keyArn),
        conditions: { StringEquals: { 'kms:ViaService': viaPrimary.length === 1 ? viaPrimary[0] : viaPrimary } },
      }), 'Source keys are named by ARN.');
    }
    if (s.parameterPaths.length > 0) {
      const resources = [primary, ...regions].flatMap((region) => s.parameterPaths.flatMap((path) => [
        stack.formatArn({ service: 'ssm', region, resource: `parameter${path}`, arnFormat: ArnFormat.NO_RESOURCE_NAME }),
        stack.formatArn({ service: 'ssm', region, resource: `parameter${path}/*`, arnFormat: ArnFormat.NO_RESOURCE_NAME }),
      ]));
      add(new iam.PolicyStatement({ actions: ['ssm:GetParametersByPath', 'ssm:GetParameters', 'ssm:GetParameter'], resources }),
        'Parameters are compared recursively under each path: limited to the parameters below the given paths.');
      for (const { statement, reason } of parameterKeyStatements(stack, primary, s.parameterKeys)) add(statement, reason);
    }
    if (encryptionKeyArns.length > 0) {
      add(new iam.PolicyStatement({
        actions: ['kms:Decrypt'], resources: encryptionKeyArns, conditions: { StringLike: { 'kms:ViaService': ['secretsmanager.*', 'ssm.*'] } },
      }), 'Keys are named by ARN.');
    }
    this.role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: JOB_RESULT_ACTIONS, resources: ['*'] }));
    return wildcards;
  }

  private acknowledgeWildcards(wildcards: Map<string, string>): void {
    wildcards.set('*', `Resource "*" is only used for actions that support no resource-level permissions: ${[...TRACING_ACTIONS, ...UNSCOPED_SECRETS_ACTIONS, ...JOB_RESULT_ACTIONS].join(', ')}; `
      + 'the Secrets Manager ones are limited to the primary and checked regions with aws:RequestedRegion.');
    for (const [resource, reason] of wildcards) {
      if (flattenReference(Stack.of(this).resolve(resource)).includes('*')) {
        acknowledgeNagFindings(this.role, { id: wildcardResourceFinding(this.role, resource), reason });
      }
    }
    acknowledgeNagFindings(this.handler, {
      id: 'AwsSolutions-L1',
      reason: 'The runtime is pinned to nodejs22.x, the Node.js major the bundled handler is built and tested on; it moves with a release of this library.',
    });
  }
}

/** The members of `ConfigMapParityScope`: any other key of a scope (a Python dict's `replica_clusters`) fails. */
const CONFIG_MAP_SCOPE_MEMBERS = structMembers<ConfigMapParityScope>({ primaryCluster: true, replicaClusters: true, namespace: true, names: true });

function validateConfigMapScope(prop: string, s: ConfigMapParityScope, primary: string): void {
  validateStructKeys(prop, 'ConfigMapParityScope', s, CONFIG_MAP_SCOPE_MEMBERS);
  if (!Token.isUnresolved(s.primaryCluster.region) && s.primaryCluster.region !== primary) {
    fail(`${prop}.primaryCluster`, `must be in the primary region ${primary}`, `${s.primaryCluster.clusterName} in ${s.primaryCluster.region}`);
  }
  validateNotEmpty(`${prop}.replicaClusters`, s.replicaClusters);
  for (const c of s.replicaClusters) validateSamePartition(`${prop}.replicaClusters`, c.region, primary, true);
  if (s.replicaClusters.some((c) => c.region === primary)) {
    fail(`${prop}.replicaClusters`, 'must be in other regions than the primary (the check compares a region with the primary)',
      s.replicaClusters.map((c) => `${c.clusterName} in ${c.region}`));
  }
  validateNotEmpty(`${prop}.names`, s.names);
  validateDistinct(`${prop}.names`, s.names);
  for (const name of s.names) {
    if (!Token.isUnresolved(name)) {
      validatePattern(`${prop}.names`, name, DNS_SUBDOMAIN_PATTERN, 'must be DNS-1123 subdomains: lowercase letters, digits, "-" and ".", starting and ending with a letter or digit');
    }
  }
}

/**
 * The overrides a check inherits, in the handler's shape: the drift detector's (when its paths are
 * the ones checked), else the parameter replicator's; for the checked regions and the parameters
 * under the checked paths only (a check may narrow `regions` or `parameterPaths`, and a replicator
 * may declare values for cross-account replicas' regions it does not list in `replicaRegions`).
 */
function inheritedOverrides(
  detector: IConfigComparisonSource | undefined, linked: IParameterReplicator | undefined, parameterPaths: string[], regions: string[],
): ParameterOverrideConfig[] {
  const declared = detector?.comparedParameterOverrides.length ? detector.comparedParameterOverrides : linked?.overrides ?? [];
  return declared.flatMap((o) => o._bindInherited('parameterOverrides', regions))
    .filter((o) => parameterPaths.some((p) => Token.isUnresolved(p) || o.name.startsWith(`${p}/`)));
}

/** The parity alarm's period: the schedule's rate, within CloudWatch's bounds; 15 minutes for cron schedules. */
function alarmPeriod(schedule: events.Schedule): Duration {
  const seconds = rateSeconds(schedule);
  if (seconds === undefined) return Duration.minutes(15);
  return Duration.seconds(Math.min(MAX_ALARM_PERIOD_SECONDS, Math.max(MIN_ALARM_PERIOD_SECONDS, seconds)));
}

/** Period of the run metrics (`metricItemsProcessed()` and the others) unless the caller chooses another: five minutes. */
const RUN_METRIC_PERIOD = Duration.minutes(5);
