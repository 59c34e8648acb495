import { Annotations, ArnFormat, Duration, Lazy, Stack, Token } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import * as ssm from 'aws-cdk-lib/aws-ssm';
import { Construct } from 'constructs';
import { createParameterReplicatorAlarms } from './alarms';
import {
  DEFAULT_RECONCILE_INTERVAL_HOURS, DEFAULT_WRITES_PER_SECOND, MAX_WRITES_PER_SECOND, MIN_WRITES_PER_SECOND, PARAMETER_EVENT_DETAIL_TYPE,
  PARAMETER_EVENT_OPERATIONS, PARAMETER_EVENT_SOURCE, ParameterOverrideConfig, ParameterReplicaTargetConfig, ParameterReplicatorActions,
  ParameterReplicatorEnv, ParameterTierName, STANDARD_TIER_MAX_BYTES,
} from './contract';
import { parameterReplicatorDashboardWidgets } from './dashboard';
import { ParameterReplicatorMetricOptions } from './metric-options';
import { ParameterReplicatorMetric, parameterReplicatorMetric } from './metrics';
import { ParameterReplicatorFunction } from './parameter-replicator-function';
import { ParameterSelection } from './parameter-selection';
import { AlarmSet } from '../core/alarms';
import { BundledHandler, explicitRegion, HandlerConfiguration } from '../core/bundled-handler';
import { COMPANION_DRIFT_DETECTION, hasCompanion } from '../core/companions';
import { ConflictPolicy } from '../core/conflict-policy';
import { DashboardWidgetOptions } from '../core/dashboard-options';
import { fullSyncAlarmThreshold } from '../core/full-sync-threshold';
import { HandlerOptions } from '../core/handler-options';
import { TRACING_ACTIONS } from '../core/hardened-function';
import { acknowledgeNagFindings, flattenReference, NIST_800_53_R5, PROVENANCE_KEY_ENCRYPTION_REASON, wildcardResourceFinding } from '../core/nag';
import { bindParameterOverrides, ParameterOverride } from '../core/parameter-override';
import { IParameterReplicator } from '../core/parameter-replicator-ref';
import { ReplicaKmsKey } from '../core/replica-kms-key';
import { SSM_MANAGED_ALIAS, validateKeyReference, validateReplicaKmsKeys } from '../core/replica-kms-keys';
import { RunMetric } from '../core/run-contract';
import { grantRunHandOver } from '../core/run-handover';
import { estimateJson } from '../private/estimate';
import { validateScheduleInterval } from '../private/schedule';
import { claimParameterName } from '../private/uniqueness';
import {
  domainSuffixOf, fail, failIn, validateIntegerRange, validateMetricNamespace, validateParameterPrefix, validatePattern, validateRegionName,
  validateReplicaRegions, validateSamePartition, validateStructKeys, validationScope, structMembers, WARNING,
} from '../private/validation';

/** The default sizing of the handler: 512 MiB and a 15-minute timeout (a paced reconciliation of many parameters). */
const DEFAULT_MEMORY_MIB = 512;
const DEFAULT_TIMEOUT = Duration.minutes(15);
/** Reconciliation catches what the change events miss and what a throttled run left; every 6 hours. */
const DEFAULT_RECONCILIATION_SCHEDULE = events.Schedule.rate(Duration.hours(DEFAULT_RECONCILE_INTERVAL_HOURS));
const DEFAULT_METRIC_NAMESPACE = 'CrossRegionConfig';
/** Length of the generated HMAC key, in characters (alphanumeric: about 380 bits). */
const PROVENANCE_KEY_LENGTH = 64;
/** EventBridge's default event pattern size quota, in characters (adjustable to 4096). */
const MAX_EVENT_PATTERN_LENGTH = 2048;
/** Name of the settings document below `parameterPrefix`, in the Parameter Store document layout. */
const CONFIG_DOCUMENT_NAME = 'global/secrets/parameter-replication-config';

const ROLE_ARN_PATTERN = /^arn:aws[a-z-]*:iam::(\d{12}):role\/[\w+=,.@/-]+$/;

/**
 * A replica in another AWS account, written through a role the handler assumes.
 */
export interface CrossAccountParameterReplica {
  /**
   * Region of the replica. May be the primary region (same region, other account).
   */
  readonly region: string;

  /**
   * ARN of the role in the other account that the handler assumes to read and write the replicas.
   * Its trust policy must allow this construct's `role`, and its permissions must allow the Parameter
   * Store reads and writes (and the KMS use of SecureString replicas) in `region`.
   */
  readonly roleArn: string;

  /**
   * ARN of a KMS key in `region` (usually in the other account) that encrypts SecureString
   * replicas. Set at most one of `keyArn` and `aliasName`.
   *
   * @default - the other account's `aws/ssm` key, or `aliasName`
   */
  readonly keyArn?: string;

  /**
   * Alias name of a KMS key in the other account and `region`, such as `alias/parameters`. Set at
   * most one of `keyArn` and `aliasName`.
   *
   * @default - the other account's `aws/ssm` key, or `keyArn`
   */
  readonly aliasName?: string;
}

/**
 * Props of `CrossRegionParameterReplicator`.
 */
export interface CrossRegionParameterReplicatorProps extends HandlerOptions {
  /**
   * Which parameters of the primary region (this stack's region) are replicated.
   */
  readonly parameters: ParameterSelection;

  /**
   * Regions of this account the selected parameters are replicated to. At least one, no
   * duplicates, not the primary region, in the primary region's partition.
   */
  readonly replicaRegions: string[];

  /**
   * KMS keys that encrypt SecureString replicas, per replica region, by ARN or alias name.
   *
   * A key from another region's stack cannot be referenced as an `IKey` (aws/aws-cdk#29819), so keys
   * are given as ARN or alias strings. IAM allows a key given by alias only through the
   * `kms:ResourceAliases` condition.
   *
   * @default - SecureString replicas are encrypted with the `aws/ssm` key of their region
   */
  readonly replicaKmsKeys?: ReplicaKmsKey[];

  /**
   * Tier of the replicas. A value longer than the tier allows (4 KB for Standard, 8 KB for
   * Advanced) is a replication failure, counted and logged; an Advanced replica is never moved back
   * to Standard (Parameter Store does not allow it).
   *
   * @default - the primary parameter's tier
   */
  readonly replicaTier?: ssm.ParameterTier;

  /**
   * Declared per-region values: for a parameter whose value must differ by region (an endpoint, an
   * AMI id, a bucket name), the value written into a replica region instead of the primary's. Each
   * parameter must be selected by `parameters`. Give the same list to a `ConfigDriftDetector`
   * comparing these parameters, so it expects the overrides.
   *
   * @default - every replica holds the primary's value
   */
  readonly overrides?: ParameterOverride[];

  /**
   * Replicas in other AWS accounts, written through roles the handler assumes.
   *
   * @default - no cross-account replicas
   */
  readonly crossAccountReplicas?: CrossAccountParameterReplica[];

  /**
   * Customer managed KMS keys that encrypt the selected SecureString parameters in the primary
   * region. The handler may decrypt with them, only through Parameter Store (`kms:ViaService`).
   *
   * @default - none: parameters encrypted with `aws/ssm` need no KMS permission
   */
  readonly sourceEncryptionKeys?: kms.IKey[];

  /**
   * Customer managed KMS key that encrypts `provenanceKey`, the secret holding the HMAC key of the
   * replicas' provenance tags. The handler may decrypt with it only through Secrets Manager.
   *
   * @default - the AWS managed key `aws/secretsmanager`
   */
  readonly provenanceKeyEncryptionKey?: kms.IKey;

  /**
   * What to do when a replica was changed in its own region since the last copy.
   *
   * @default ConflictPolicy.PRIMARY_WINS
   */
  readonly conflictPolicy?: ConflictPolicy;

  /**
   * Copy the primary parameter's own tags (not the provenance tags) to its replicas.
   *
   * @default true
   */
  readonly replicateTags?: boolean;

  /**
   * When a selected primary parameter is deleted, delete its replicas too (Parameter Store keeps no
   * recovery window). When false, replicas of deleted parameters are left in place.
   *
   * @default false
   */
  readonly propagateDeletions?: boolean;

  /**
   * Parameter Store writes (PutParameter and tag calls) per second the handler allows itself in
   * each replica region, from 1 to 1000. PutParameter's default throughput quota is low and shared
   * by everything in the account and region; raise it in Service Quotas (README, "Parameter Store
   * throughput") before raising this. Throttled requests are retried with backoff either way.
   *
   * @default 2
   */
  readonly maxWritesPerSecond?: number;

  /**
   * When to compare every selected parameter with its replicas and repair differences.
   *
   * Changes are normally replicated within seconds from Parameter Store's own change events on
   * EventBridge; the reconciliation catches a missed event and writes a throttled run left undone.
   * Runs at most once every 15 minutes (the handler's default timeout: reconciliations must not
   * overlap); a `rate(...)` or `cron(...)` schedule that runs more often fails synth.
   *
   * @default events.Schedule.rate(Duration.hours(6))
   */
  readonly reconciliationSchedule?: events.Schedule;

  /**
   * How long a replica region may go without a reconciliation in which every selected parameter
   * agreed before `fullSyncAgeAlarm` goes off. Whole minutes, from 10 minutes to 1 day.
   *
   * @default - twice the longest gap between two runs of `reconciliationSchedule` (12 hours with the
   * default schedule), at most 1 day
   */
  readonly fullSyncAlarmThreshold?: Duration;

  /**
   * When set, a Systems Manager parameter named
   * `<parameterPrefix>/global/secrets/parameter-replication-config` holds the replication settings
   * as JSON (`primaryRegion`, `replicationRegions`, `parameterPaths`, `syncEnabled`,
   * `driftDetectionEnabled`, `lastSyncTimestamp`, `conflictPolicy`, `propagateDeletions`,
   * `reconciliationSchedule`) for other tools to read; the handler keeps `lastSyncTimestamp`
   * current. Must start with `/` and not end with `/`.
   *
   * @default - no parameter
   */
  readonly parameterPrefix?: string;

  /**
   * CloudWatch namespace of the handler's metrics.
   *
   * @default 'CrossRegionConfig'
   */
  readonly metricNamespace?: string;

  /**
   * Create the alarms (`errorsAlarm`, `throttlesAlarm`, `deadLetterAlarm`,
   * `replicationFailuresAlarm`, `fullSyncAgeAlarm` and, with `ConflictPolicy.SKIP_AND_ALARM`,
   * `conflictsAlarm`).
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
   * Timeout of one handler invocation. A reconciliation that needs longer stops before the timeout
   * and hands the rest over to the next invocation (README, "Large selections"), so a longer
   * timeout only means fewer hand-overs.
   *
   * @default Duration.minutes(15)
   */
  readonly timeout?: Duration;
}

/** The props, validated and with their defaults. */
interface ParameterReplicatorSettings {
  readonly propagateDeletions: boolean;
  readonly schedule: events.Schedule;
  readonly fullSyncThreshold: Duration;
  readonly replicaKeys: Map<string, ReplicaKmsKey>;
  readonly crossAccount: CrossAccountParameterReplica[];
  readonly overrides: ParameterOverrideConfig[];
  readonly writesPerSecond: number;
  readonly configParameterName: string | undefined;
}

/**
 * Keeps selected AWS Systems Manager Parameter Store parameters of this stack's region (the
 * primary) in agreement with their replicas in other regions of this account and, through assumed
 * roles, other accounts.
 *
 * A Lambda handler copies a parameter within seconds of a change, from Parameter Store's native
 * change events on EventBridge (no CloudTrail trail needed), and reconciles every selected
 * parameter on a schedule, pacing its writes under Parameter Store's throughput quota. String,
 * StringList and SecureString (re-encrypted with each region's key) are copied with their
 * description, allowed pattern and tags; a parameter whose value differs by region by design gets
 * its declared override. Replicas carry provenance tags (never values), so a replica changed in its
 * own region is detected and handled by the `conflictPolicy`.
 *
 * @example
 * new CrossRegionParameterReplicator(this, 'Parameters', {
 *   parameters: ParameterSelection.fromPaths(['/my-app/production']),
 *   replicaRegions: ['eu-west-1'],
 *   overrides: [ParameterOverride.template('/my-app/production/api-endpoint', 'https://api.{region}.example.com')],
 * });
 */
export class CrossRegionParameterReplicator extends Construct implements IParameterReplicator {
  /** Region the parameters are read from: this stack's region. */
  public readonly primaryRegion: string;

  /** Value of the `service` dimension of the handler's metrics (also `POWERTOOLS_SERVICE_NAME`). */
  public readonly serviceName: string;

  /** The Lambda function that replicates and reconciles the parameters. */
  public readonly handler: lambda.Function;

  /** Parameters of the handler's settings document; empty while every setting fits in Lambda's 4 KB environment. */
  public readonly settingsParameters: ssm.IStringParameter[];

  /** Execution role of the handler, with least-privilege statements per region and path. */
  public readonly role: iam.Role;

  /** Log group of the handler (JSON logs; parameter values are never logged). */
  public readonly logGroup: logs.LogGroup;

  /**
   * Dead-letter queue of events that could not be delivered to or processed by the handler, after
   * two retries. Messages hold change events (parameter names, never values); kept for 14 days.
   */
  public readonly deadLetterQueue: sqs.Queue;

  /** Secret holding the HMAC key of the replicas' provenance tags. Not rotated: a new key only costs one more copy of each replica. */
  public readonly provenanceKey: secretsmanager.Secret;

  /**
   * EventBridge rule that sends the `Parameter Store Change` events (create, update, delete and
   * label changes) of the primary region to the handler, narrowed to names below the selected paths.
   */
  public readonly rule: events.Rule;

  /** EventBridge rule that invokes the handler with `{"action":"reconcile"}` on `reconciliationSchedule`. */
  public readonly schedule: events.Rule;

  /** The settings parameter; set only when `parameterPrefix` is set. */
  public readonly configParameter?: ssm.StringParameter;

  /** Every alarm of this construct; empty when `createAlarms` is false. */
  public readonly alarms: cloudwatch.IAlarm[];

  /** Handler errors (Sum ≥ 1 in 5 minutes); undefined when `createAlarms` is false. */
  public readonly errorsAlarm?: cloudwatch.IAlarm;

  /** Handler throttles (Sum ≥ 1 in 5 minutes); undefined when `createAlarms` is false. */
  public readonly throttlesAlarm?: cloudwatch.IAlarm;

  /** Messages in the dead-letter queue (Maximum ≥ 1); undefined when `createAlarms` is false. */
  public readonly deadLetterAlarm?: cloudwatch.IAlarm;

  /** Failed replica writes (Sum ≥ 1 in 5 minutes); undefined when `createAlarms` is false. */
  public readonly replicationFailuresAlarm?: cloudwatch.IAlarm;

  /**
   * A replica region has not fully agreed with the primary (or its overrides), or no reconciliation
   * reported, for longer than `fullSyncAlarmThreshold`; undefined when `createAlarms` is false.
   */
  public readonly fullSyncAgeAlarm?: cloudwatch.IAlarm;

  /** Replicas changed in their own region (Sum ≥ 1 in 5 minutes); set only with `ConflictPolicy.SKIP_AND_ALARM` and `createAlarms`. */
  public readonly conflictsAlarm?: cloudwatch.IAlarm;

  /** CloudWatch namespace of the handler's metrics. */
  public readonly metricNamespace: string;

  /** The selected parameters (`parameters` prop). */
  public readonly parameters: ParameterSelection;

  /** Replica regions of this account (`replicaRegions` prop). */
  public readonly replicaRegions: string[];

  /** Paths of the selected parameters (`parameters.paths`); a `ConfigDriftDetector` given this replicator compares them. */
  public readonly parameterPaths: string[];

  /** Paths excluded from the selection (`parameters.excludedPaths`). */
  public readonly excludedParameterPaths: string[];

  /**
   * Customer managed keys of the SecureString replicas (`replicaKmsKeys` prop). A region not named
   * uses `aws/ssm`. A `ConfigDriftDetector` or `ConfigParityCheck` given this replicator may decrypt
   * with them through Parameter Store.
   */
  public readonly replicaKmsKeys: ReplicaKmsKey[];

  /**
   * Customer managed keys of the primary SecureString parameters (`sourceEncryptionKeys` prop), if
   * any. A `ConfigDriftDetector` or `ConfigParityCheck` given this replicator may decrypt with
   * them through Parameter Store.
   */
  public readonly sourceEncryptionKeys: kms.IKey[];

  /** Every region a replica is written to: `replicaRegions` and the cross-account replicas' regions. */
  public readonly targetRegions: string[];

  /** The declared per-region values (`overrides` prop); a `ConfigDriftDetector` given this replicator expects them. */
  public readonly overrides: ParameterOverride[];

  /** How replicas changed in their own region are handled (`conflictPolicy` prop). */
  public readonly conflictPolicy: ConflictPolicy;

  private readonly alarmSet: AlarmSet;

  constructor(scope: Construct, id: string, props: CrossRegionParameterReplicatorProps) {
    super(scope, id);
    const validated = validationScope(this);
    // Ends the validation scope even when construction throws an error of another kind.
    try {
      this.primaryRegion = explicitRegion(this, 'CrossRegionParameterReplicator');
      this.metricNamespace = props.metricNamespace ?? DEFAULT_METRIC_NAMESPACE;
      this.parameters = props.parameters;
      this.replicaRegions = [...props.replicaRegions];
      this.parameterPaths = [...props.parameters.paths];
      this.excludedParameterPaths = [...props.parameters.excludedPaths];
      this.overrides = [...(props.overrides ?? [])];
      this.replicaKmsKeys = [...(props.replicaKmsKeys ?? [])];
      this.sourceEncryptionKeys = [...(props.sourceEncryptionKeys ?? [])];
      this.conflictPolicy = props.conflictPolicy ?? ConflictPolicy.PRIMARY_WINS;
      const settings = this.validateProps(props);
      this.targetRegions = [...new Set([...props.replicaRegions, ...settings.crossAccount.map((r) => r.region)])];
      this.provenanceKey = this.createProvenanceKey(props.provenanceKeyEncryptionKey);

      const bundled = new BundledHandler(this, {
        options: props,
        description: `Replicates selected Parameter Store parameters from ${this.primaryRegion} to ${this.targetRegions.join(', ')}`.slice(0, 256),
        defaultMemoryMiB: DEFAULT_MEMORY_MIB,
        defaultTimeout: DEFAULT_TIMEOUT,
      });
      this.serviceName = bundled.serviceName;
      this.role = bundled.role;
      this.logGroup = bundled.logGroup;
      this.deadLetterQueue = bundled.deadLetterQueue;
      this.handler = bundled.createFunction(ParameterReplicatorFunction, this.handlerConfiguration(props, settings));
      this.settingsParameters = bundled.settingsParameters;
      // A reconciliation longer than one invocation hands the rest over to the next (README, "Large selections").
      grantRunHandOver(this, { handler: this.handler, role: this.role, serviceName: this.serviceName });

      const wildcards = new Map<string, string>();
      this.grantHandlerPermissions(props, settings, wildcards);

      this.rule = new events.Rule(this, 'Rule', {
        description: `Sends Parameter Store changes in ${this.primaryRegion} to the parameter replicator ${this.node.path}`.slice(0, 512),
        eventPattern: this.eventPattern(),
      });
      this.rule.addTarget(bundled.target());
      this.schedule = new events.Rule(this, 'Schedule', {
        description: `Reconciles the replicas of the parameter replicator ${this.node.path}`.slice(0, 512),
        schedule: settings.schedule,
      });
      this.schedule.addTarget(bundled.target(events.RuleTargetInput.fromObject({ action: 'reconcile' })));

      this.configParameter = bundled.settingsParameter(settings.configParameterName, `the parameter replicator ${this.node.path}`,
        this.configDocument(settings));
      if (this.configParameter) this.trackLastSyncIn(this.configParameter, settings.configParameterName!);

      this.alarmSet = bundled.alarmSet;
      const alarms = createParameterReplicatorAlarms(this.alarmSet, {
        handler: this.handler,
        deadLetterQueue: this.deadLetterQueue,
        replicationFailures: (options) => this.metricReplicationFailures(options),
        conflicts: (options) => this.metricConflicts(options),
        secondsSinceFullSync: (options) => this.metricSecondsSinceFullSync(options),
        fullSyncThreshold: settings.fullSyncThreshold,
        alarmOnConflicts: this.conflictPolicy === ConflictPolicy.SKIP_AND_ALARM,
      });
      this.errorsAlarm = alarms.errorsAlarm;
      this.throttlesAlarm = alarms.throttlesAlarm;
      this.deadLetterAlarm = alarms.deadLetterAlarm;
      this.replicationFailuresAlarm = alarms.replicationFailuresAlarm;
      this.fullSyncAgeAlarm = alarms.fullSyncAgeAlarm;
      this.conflictsAlarm = alarms.conflictsAlarm;
      this.alarms = this.alarmSet.alarms;
      bundled.addConfiguredAlarmActions();

      this.acknowledgeNagFindings(wildcards);
    } finally {
      validated();
    }
  }

  /** Validates the props the shared handler code does not, and resolves their defaults. */
  private validateProps(props: CrossRegionParameterReplicatorProps): ParameterReplicatorSettings {
    const primary = this.primaryRegion;
    const propagateDeletions = props.propagateDeletions ?? false;
    const schedule = props.reconciliationSchedule ?? DEFAULT_RECONCILIATION_SCHEDULE;
    const fullSyncThreshold = fullSyncAlarmThreshold(this, props.fullSyncAlarmThreshold, schedule);
    validateReplicaRegions(props.replicaRegions, primary);
    const replicaKeys = validateReplicaKmsKeys(props.replicaKmsKeys ?? [], props.replicaRegions, SSM_MANAGED_ALIAS);
    const crossAccount = validateCrossAccountReplicas(props.crossAccountReplicas ?? [], primary, Stack.of(this).account);
    const targetRegions = [...new Set([...props.replicaRegions, ...crossAccount.map((r) => r.region)])];
    const overrides = this.bindOverrides(props, targetRegions);
    const writesPerSecond = props.maxWritesPerSecond ?? DEFAULT_WRITES_PER_SECOND;
    validateIntegerRange('maxWritesPerSecond', writesPerSecond, MIN_WRITES_PER_SECOND, MAX_WRITES_PER_SECOND, 'writes per second');
    if (props.parameterPrefix !== undefined) validateParameterPrefix(props.parameterPrefix);
    const configParameterName = props.parameterPrefix !== undefined ? `${props.parameterPrefix}/${CONFIG_DOCUMENT_NAME}` : undefined;
    claimParameterName(this, 'parameterPrefix', props.parameterPrefix, configParameterName);
    validateMetricNamespace(this.metricNamespace);
    validateScheduleInterval('reconciliationSchedule', schedule, DEFAULT_TIMEOUT,
      'a reconciliation may take the handler\'s default timeout, and reconciliations must not overlap');
    return { propagateDeletions, schedule, fullSyncThreshold, replicaKeys, crossAccount, overrides, writesPerSecond, configParameterName };
  }

  /** `overrides` in the handler's shape: for selected parameters and target regions, fitting the replica tier. */
  private bindOverrides(props: CrossRegionParameterReplicatorProps, targetRegions: string[]): ParameterOverrideConfig[] {
    const unselected = (props.overrides ?? []).map((o) => o.parameterName).filter((name) => !props.parameters._covers(name));
    if (unselected.length > 0) {
      fail('overrides', `must name parameters selected by parameters (below ${JSON.stringify(props.parameters.paths)} and not excluded)`, unselected);
    }
    const configs = bindParameterOverrides('overrides', props.overrides, targetRegions);
    if (props.replicaTier === ssm.ParameterTier.STANDARD) {
      const tooLong = configs.filter((c) => Buffer.byteLength(c.value, 'utf8') > STANDARD_TIER_MAX_BYTES);
      if (tooLong.length > 0) {
        fail('overrides', `must fit the Standard tier of replicaTier (${STANDARD_TIER_MAX_BYTES} bytes)`,
          tooLong.map((c) => `${c.name} in ${c.region}: ${Buffer.byteLength(c.value, 'utf8')} bytes`));
      }
    }
    return configs;
  }

  /** The secret holding the HMAC key of the replicas' provenance tags. */
  private createProvenanceKey(encryptionKey: kms.IKey | undefined): secretsmanager.Secret {
    return new secretsmanager.Secret(this, 'ProvenanceKey', {
      description: `HMAC key for the provenance tags of the replicas written by the parameter replicator ${this.node.path}. Not replicated, not rotated.`,
      encryptionKey,
      generateSecretString: { passwordLength: PROVENANCE_KEY_LENGTH, excludePunctuation: true, includeSpace: false, requireEachIncludedType: true },
    });
  }

  /** The handler's configuration: bounded values in the environment, targets, selection and overrides growable. */
  private handlerConfiguration(props: CrossRegionParameterReplicatorProps, settings: ParameterReplicatorSettings): HandlerConfiguration {
    const tier = props.replicaTier ? { tier: props.replicaTier as string as ParameterTierName } : {};
    const replicaTargets: ParameterReplicaTargetConfig[] = [
      ...props.replicaRegions.map((region): ParameterReplicaTargetConfig => {
        const key = settings.replicaKeys.get(region);
        const kmsKeyId = key?.keyArn ?? key?.aliasName;
        return { region, ...(kmsKeyId ? { kmsKeyId } : {}), ...tier };
      }),
      ...settings.crossAccount.map((r): ParameterReplicaTargetConfig => {
        const kmsKeyId = r.keyArn ?? r.aliasName;
        return { region: r.region, ...(kmsKeyId ? { kmsKeyId } : {}), roleArn: r.roleArn, ...tier };
      }),
    ];
    return {
      description: `the parameter replicator ${this.node.path}`,
      environment: {
        [ParameterReplicatorEnv.PRIMARY_REGION]: this.primaryRegion,
        [ParameterReplicatorEnv.CONFLICT_POLICY]: this.conflictPolicy.name,
        [ParameterReplicatorEnv.REPLICATE_TAGS]: String(props.replicateTags ?? true),
        [ParameterReplicatorEnv.PROPAGATE_DELETIONS]: String(settings.propagateDeletions),
        [ParameterReplicatorEnv.WRITES_PER_SECOND]: Token.isUnresolved(settings.writesPerSecond)
          ? Token.asString(settings.writesPerSecond) : String(settings.writesPerSecond),
        [ParameterReplicatorEnv.PROVENANCE_KEY_SECRET_ARN]: this.provenanceKey.secretArn,
        [ParameterReplicatorEnv.METRIC_NAMESPACE]: this.metricNamespace,
        [ParameterReplicatorEnv.SERVICE_NAME]: this.serviceName,
      },
      growable: {
        [ParameterReplicatorEnv.REPLICA_TARGETS]: replicaTargets,
        [ParameterReplicatorEnv.SELECTION]: props.parameters._config(),
        [ParameterReplicatorEnv.OVERRIDES]: settings.overrides.length ? settings.overrides : undefined,
      },
    };
  }

  /** The parameter-replication-config document of the Parameter Store document layout, written to `configParameter`. */
  private configDocument(settings: ParameterReplicatorSettings): { [key: string]: any } {
    return {
      primaryRegion: this.primaryRegion,
      replicationRegions: this.targetRegions,
      parameterPaths: this.parameters.paths,
      syncEnabled: true,
      // Known once the app is built: a drift detector may name this replicator after it was created.
      driftDetectionEnabled: Lazy.any({ produce: () => hasCompanion(this, COMPANION_DRIFT_DETECTION) }),
      // Kept current by the handler after each run that left every region in agreement.
      lastSyncTimestamp: null,
      conflictPolicy: this.conflictPolicy.name,
      propagateDeletions: settings.propagateDeletions,
      reconciliationSchedule: settings.schedule.expressionString,
    };
  }

  /** Makes the handler keep `lastSyncTimestamp` current in `parameter` (named `parameterName`). */
  private trackLastSyncIn(parameter: ssm.IStringParameter, parameterName: string): void {
    this.handler.addEnvironment(ParameterReplicatorEnv.CONFIG_PARAMETER_NAME, parameterName);
    this.role.addToPrincipalPolicy(new iam.PolicyStatement({
      actions: [...ParameterReplicatorActions.CONFIG_PARAMETER],
      resources: [parameter.parameterArn],
    }));
  }

  /**
   * Count of replica writes (create or update) that succeeded.
   *
   * @default - Sum over 5 minutes, all replica regions
   */
  public metricReplicatedParameters(props?: ParameterReplicatorMetricOptions): cloudwatch.Metric {
    return this.replicatorMetric(ParameterReplicatorMetric.REPLICATED_PARAMETERS, cloudwatch.Stats.SUM, undefined, props);
  }

  /**
   * Count of replica writes that failed (after retries, or at once for a value no retry can write:
   * too long for the replica's tier, a regional data type without an override).
   *
   * @default - Sum over 5 minutes, all replica regions
   */
  public metricReplicationFailures(props?: ParameterReplicatorMetricOptions): cloudwatch.Metric {
    return this.replicatorMetric(ParameterReplicatorMetric.REPLICATION_FAILURES, cloudwatch.Stats.SUM, undefined, props);
  }

  /**
   * Count of replicas found changed in their own region since the last copy (overwritten with
   * `PRIMARY_WINS`, left in place with `SKIP_AND_ALARM`).
   *
   * @default - Sum over 5 minutes, all replica regions
   */
  public metricConflicts(props?: ParameterReplicatorMetricOptions): cloudwatch.Metric {
    return this.replicatorMetric(ParameterReplicatorMetric.CONFLICTS, cloudwatch.Stats.SUM, undefined, props);
  }

  /**
   * Milliseconds from a change of the primary parameter to its replica write.
   *
   * @default - p99 over 5 minutes, all replica regions
   */
  public metricReplicationLatency(props?: ParameterReplicatorMetricOptions): cloudwatch.Metric {
    return this.replicatorMetric(ParameterReplicatorMetric.REPLICATION_LATENCY, cloudwatch.Stats.p(99), cloudwatch.Unit.MILLISECONDS, props);
  }

  /**
   * Seconds since the last reconciliation in which every selected parameter agreed in a replica
   * region (0 right after such a run); no datapoint means the reconciliation did not run or the age
   * is not known yet. The total is the oldest region.
   *
   * @default - Maximum over 5 minutes, the oldest replica region
   */
  public metricSecondsSinceFullSync(props?: ParameterReplicatorMetricOptions): cloudwatch.Metric {
    return this.replicatorMetric(ParameterReplicatorMetric.SECONDS_SINCE_FULL_SYNC, cloudwatch.Stats.MAXIMUM, cloudwatch.Unit.SECONDS, props);
  }

  /**
   * Count of Parameter Store requests answered with throttling (each retried after a pause). A
   * steady count means the throughput quota or `maxWritesPerSecond` is too low for the changes.
   *
   * @default - Sum over 5 minutes, all replica regions
   */
  public metricThrottledRequests(props?: ParameterReplicatorMetricOptions): cloudwatch.Metric {
    return this.replicatorMetric(ParameterReplicatorMetric.THROTTLED_REQUESTS, cloudwatch.Stats.SUM, undefined, props);
  }

  /**
   * (parameter, replica region) pairs a reconciliation invocation worked. A reconciliation that
   * needs longer than one invocation works in several, each reporting its own share.
   *
   * @default - Sum over 5 minutes
   */
  public metricItemsProcessed(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.runMetric(RunMetric.ITEMS_PROCESSED, cloudwatch.Stats.SUM, cloudwatch.Unit.COUNT, props);
  }

  /**
   * 1 for a reconciliation invocation that stopped before its timeout with work left and handed
   * the rest to the next invocation, 0 for one that finished the reconciliation.
   *
   * @default - Maximum over 5 minutes
   */
  public metricRunPartial(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.runMetric(RunMetric.RUN_PARTIAL, cloudwatch.Stats.MAXIMUM, cloudwatch.Unit.COUNT, props);
  }

  /**
   * Seconds the parameters not yet reconciled have been waiting: since the reconciliation that
   * still has them started (0 when a reconciliation finished). `fullSyncAgeAlarm` watches the
   * consequence, `metricSecondsSinceFullSync()`.
   *
   * @default - Maximum over 5 minutes
   */
  public metricOldestUnprocessedItemAge(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.runMetric(RunMetric.OLDEST_UNPROCESSED_ITEM_AGE, cloudwatch.Stats.MAXIMUM, cloudwatch.Unit.SECONDS, props);
  }

  /**
   * Widgets of this construct for a CloudWatch dashboard, as rows 24 units wide: a header naming it,
   * Parameter Store writes, failed writes, conflicts, throttled requests, replication latency and the
   * last full sync per replica region, its handler's invocations, errors and duration, and the status
   * of `alarms`. Add them in one call: `dashboard.addWidgets(...x.dashboardWidgets())`.
   */
  public dashboardWidgets(options: DashboardWidgetOptions = {}): cloudwatch.IWidget[] {
    return parameterReplicatorDashboardWidgets(this, options);
  }

  /** Adds actions (for example an `SnsAction`) to every alarm of this construct. */
  public addAlarmAction(...actions: cloudwatch.IAlarmAction[]): void {
    this.alarmSet.addAlarmAction(...actions);
  }

  /**
   * Grants `lambda:InvokeFunction` on the handler, for manual invocations with the payloads
   * `{"action":"test_sync"}` (a dry run), `{"action":"connectivity_test"}` and `{"action":"reconcile"}`.
   */
  public grantInvoke(grantee: iam.IGrantable): iam.Grant {
    return this.handler.grantInvoke(grantee);
  }

  /** A run metric: emitted with the `service` dimension only. */
  private runMetric(metricName: string, statistic: string, unit: cloudwatch.Unit, options?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return parameterReplicatorMetric({ namespace: this.metricNamespace, serviceName: this.serviceName, metricName, statistic, unit, options });
  }

  private replicatorMetric(
    metricName: string, statistic: string, unit: cloudwatch.Unit | undefined, props: ParameterReplicatorMetricOptions = {},
  ): cloudwatch.Metric {
    const { replicaRegion, ...options } = props;
    if (replicaRegion !== undefined && !Token.isUnresolved(replicaRegion) && !this.targetRegions.includes(replicaRegion)) {
      failIn(this, 'replicaRegion', `must be one of the replica regions ${JSON.stringify(this.targetRegions)}`, replicaRegion);
    }
    return parameterReplicatorMetric({
      namespace: this.metricNamespace, serviceName: this.serviceName, metricName, statistic, unit, replicaRegion, options,
    });
  }

  /**
   * The `Parameter Store Change` events of the primary region, narrowed to names below the selected
   * paths (the handler applies the name globs, tags and excluded paths); every change when a path
   * is `/` or the narrowed pattern would exceed EventBridge's default pattern size quota.
   */
  private eventPattern(): events.EventPattern {
    const base: events.EventPattern = {
      source: [PARAMETER_EVENT_SOURCE],
      detailType: [PARAMETER_EVENT_DETAIL_TYPE],
      detail: { operation: [...PARAMETER_EVENT_OPERATIONS] },
    };
    const paths = this.parameters.paths;
    if (paths.includes('/')) return base;
    const narrowed: events.EventPattern = { ...base, detail: { ...base.detail, name: paths.map((path) => ({ prefix: `${path}/` })) } };
    const length = estimateJson(this, { 'source': narrowed.source, 'detail-type': narrowed.detailType, 'detail': narrowed.detail }).json.length;
    if (length > MAX_EVENT_PATTERN_LENGTH) {
      Annotations.of(this).addWarningV2(`${WARNING}eventPatternNotNarrowed`,
        `The event pattern narrowed to the selected paths would be about ${length} characters, above EventBridge's default quota of `
        + `${MAX_EVENT_PATTERN_LENGTH}; the rule matches every Parameter Store change in ${this.primaryRegion} and the handler filters. `
        + 'Select fewer, shorter paths to narrow the rule.');
      return base;
    }
    return narrowed;
  }

  /** The ARNs of the parameters below `path` in `region` (and of the path itself, which GetParametersByPath is authorized on). */
  private parameterArns(region: string, path: string): string[] {
    const arn = (resourceName: string) => Stack.of(this).formatArn({
      service: 'ssm', region, resource: 'parameter', resourceName, arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
    });
    // The ARN of `/app/prod` is `parameter/app/prod`: the name's leading slash is not repeated.
    return path === '/' ? [arn('*')] : [arn(path.slice(1)), arn(`${path.slice(1)}/*`)];
  }

  /** Adds the handler's least-privilege statements; records wildcard resources with their reasons. */
  private grantHandlerPermissions(
    props: CrossRegionParameterReplicatorProps, settings: ParameterReplicatorSettings, wildcards: Map<string, string>,
  ): void {
    const primary = this.primaryRegion;
    const paths = this.parameters.paths;
    const addStatement = (statement: iam.PolicyStatement, reason: string) => {
      this.role.addToPrincipalPolicy(statement);
      for (const resource of statement.resources) wildcards.set(resource, reason);
    };
    const pathReason = (region: string, what: string) => `Parameters are selected by path: ${what} in ${region} are limited to the parameters `
      + `below ${paths.join(', ')} (parameter/<path>/*, and the path itself for GetParametersByPath).`;

    addStatement(new iam.PolicyStatement({
      actions: [...ParameterReplicatorActions.PRIMARY_READ],
      resources: paths.flatMap((path) => this.parameterArns(primary, path)),
    }), pathReason(primary, 'reads'));
    this.provenanceKey.grantRead(this.role);

    const sourceKeys = props.sourceEncryptionKeys ?? [];
    if (sourceKeys.length > 0) {
      addStatement(new iam.PolicyStatement({
        actions: [...ParameterReplicatorActions.PRIMARY_KMS],
        resources: sourceKeys.map((k) => k.keyArn),
        conditions: { StringEquals: { 'kms:ViaService': viaParameterStore(primary) } },
      }), 'Source keys are named by ARN.');
    }

    const replicaActions = [
      ...ParameterReplicatorActions.REPLICA_READ,
      ...ParameterReplicatorActions.REPLICA_WRITE,
      ...(settings.propagateDeletions ? ParameterReplicatorActions.REPLICA_DELETE : []),
    ];
    for (const region of props.replicaRegions) {
      addStatement(new iam.PolicyStatement({
        actions: [...new Set(replicaActions)],
        resources: paths.flatMap((path) => this.parameterArns(region, path)),
      }), pathReason(region, 'replica reads and writes'));
    }

    // SecureString keys of the replicas: by ARN, or by alias through kms:ResourceAliases; aws/ssm needs no grant.
    for (const [region, key] of settings.replicaKeys) {
      if (key.keyArn) {
        addStatement(new iam.PolicyStatement({
          actions: [...ParameterReplicatorActions.REPLICA_KMS],
          resources: [key.keyArn],
          conditions: { StringEquals: { 'kms:ViaService': viaParameterStore(region) } },
        }), 'Replica keys are named by ARN.');
      } else if (key.aliasName && key.aliasName !== SSM_MANAGED_ALIAS) {
        addStatement(new iam.PolicyStatement({
          actions: [...ParameterReplicatorActions.REPLICA_KMS],
          resources: [Stack.of(this).formatArn({ service: 'kms', region, resource: 'key', resourceName: '*' })],
          conditions: {
            'ForAnyValue:StringEquals': { 'kms:ResourceAliases': key.aliasName },
            'StringEquals': { 'kms:ViaService': viaParameterStore(region) },
          },
        }), `The replica key in ${region} is named by its alias ${key.aliasName}, so its key id is unknown: the statement is limited to keys `
          + `carrying that alias (kms:ResourceAliases) and to use through Parameter Store in ${region} (kms:ViaService).`);
      }
    }

    const roleArns = [...new Set(settings.crossAccount.map((r) => r.roleArn))];
    if (roleArns.length > 0) {
      addStatement(new iam.PolicyStatement({ actions: ['sts:AssumeRole'], resources: roleArns }), 'Roles are named by ARN.');
    }
  }

  /** Acknowledges the cdk-nag findings of this construct's resources, each with its reason. */
  private acknowledgeNagFindings(wildcards: Map<string, string>): void {
    wildcards.set('*', `Resource "*" is only used for actions that support no resource-level permissions: ${TRACING_ACTIONS.join(', ')}.`);
    for (const [resource, reason] of wildcards) {
      if (flattenReference(Stack.of(this).resolve(resource)).includes('*')) {
        acknowledgeNagFindings(this.role, { id: wildcardResourceFinding(this.role, resource), reason });
      }
    }
    acknowledgeNagFindings(this.handler, {
      id: 'AwsSolutions-L1',
      reason: 'The runtime is pinned to nodejs22.x, the Node.js major the bundled handler is built and tested on; it moves with a release of this library.',
    });
    const rotation = 'The provenance key is the HMAC key behind the content tags of replicas; rotating it only forces one extra copy of every '
      + 'replica and adds no protection. It never leaves the handler and guards no resource.';
    acknowledgeNagFindings(this.provenanceKey,
      { id: 'AwsSolutions-SMG4', reason: rotation },
      { id: `${NIST_800_53_R5}-SecretsManagerRotationEnabled`, reason: rotation });
    if (!this.provenanceKey.encryptionKey) {
      acknowledgeNagFindings(this.provenanceKey, { id: `${NIST_800_53_R5}-SecretsManagerUsingKMSKey`, reason: PROVENANCE_KEY_ENCRYPTION_REASON });
    }
  }
}

/** `kms:ViaService` value for Parameter Store in `region`. */
function viaParameterStore(region: string): string {
  return `ssm.${region}.${domainSuffixOf(region)}`;
}

/** The members of `CrossAccountParameterReplica`: any other key of a replica (a Python dict's `key_arn`) fails. */
const CROSS_ACCOUNT_MEMBERS = structMembers<CrossAccountParameterReplica>({ region: true, roleArn: true, keyArn: true, aliasName: true });

function validateCrossAccountReplicas(replicas: CrossAccountParameterReplica[], primary: string, account: string): CrossAccountParameterReplica[] {
  const seen = new Set<string>();
  replicas.forEach((replica, i) => {
    const prop = `crossAccountReplicas[${i}]`;
    validateStructKeys(prop, 'CrossAccountParameterReplica', replica, CROSS_ACCOUNT_MEMBERS);
    validateRegionName(`${prop}.region`, replica.region);
    validateSamePartition(`${prop}.region`, replica.region, primary);
    validatePattern(`${prop}.roleArn`, replica.roleArn, ROLE_ARN_PATTERN,
      'must be an IAM role ARN such as "arn:aws:iam::111122223333:role/parameter-replica-writer"');
    if (replica.keyArn !== undefined && replica.aliasName !== undefined) {
      fail(prop, 'must set at most one of keyArn and aliasName', replica);
    }
    validateKeyReference(prop, replica.region, replica.keyArn, replica.aliasName, SSM_MANAGED_ALIAS);
    const roleAccount = Token.isUnresolved(replica.roleArn) ? undefined : ROLE_ARN_PATTERN.exec(replica.roleArn)?.[1];
    if (roleAccount !== undefined && roleAccount === account && replica.region === primary) {
      fail(prop, 'must not write to the primary region of this account (that would overwrite the primary parameters)', replica);
    }
    const key = `${replica.region} ${replica.roleArn}`;
    if (seen.has(key)) {
      fail('crossAccountReplicas', 'must not contain the same region and roleArn twice', replicas.map((r) => ({ region: r.region, roleArn: r.roleArn })));
    }
    seen.add(key);
  });
  return replicas;
}
