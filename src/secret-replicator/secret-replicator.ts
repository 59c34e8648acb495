import { Annotations, Duration, Lazy, Stack, Token } from 'aws-cdk-lib';
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
import { createReplicatorAlarms } from './alarms';
import { ProvenanceTag, ReplicaTargetConfig, ReplicatorEnv, SECRET_EVENT_NAMES } from './contract';
import { replicatorDashboardWidgets } from './dashboard';
import { ReplicatorMetricOptions } from './metric-options';
import { ReplicatorMetric, replicatorMetric } from './metrics';
import { ReplicatorFunction } from './replicator-function';
import { AlarmSet } from '../core/alarms';
import { BundledHandler, explicitRegion, HandlerConfiguration } from '../core/bundled-handler';
import { COMPANION_CONFIGMAP_SYNC, COMPANION_DRIFT_DETECTION, hasCompanion } from '../core/companions';
import { ConflictPolicy } from '../core/conflict-policy';
import { DashboardWidgetOptions } from '../core/dashboard-options';
import { fullSyncAlarmThreshold } from '../core/full-sync-threshold';
import { HandlerOptions } from '../core/handler-options';
import { TRACING_ACTIONS } from '../core/hardened-function';
import { acknowledgeNagFindings, flattenReference, NIST_800_53_R5, PROVENANCE_KEY_ENCRYPTION_REASON, wildcardResourceFinding } from '../core/nag';
import { ReplicaKmsKey } from '../core/replica-kms-key';
import { SECRETS_MANAGER_MANAGED_ALIAS, validateKeyReference, validateReplicaKmsKeys } from '../core/replica-kms-keys';
import { RunMetric } from '../core/run-contract';
import { grantRunHandOver } from '../core/run-handover';
import { ISecretReplicator } from '../core/secret-replicator-ref';
import { SecretSelection } from '../core/secret-selection';
import { BoundSelection, EventMatcher } from '../core/selection-binding';
import { estimateJson } from '../private/estimate';
import { validateScheduleInterval } from '../private/schedule';
import { claimParameterName } from '../private/uniqueness';
import { describe, domainSuffixOf, fail, validateMetricNamespace, validateParameterPrefix, validatePattern, validateRegionName, validateReplicaRegions, validateSamePartition, validateStructKeys, validateWholeDuration, validationScope, failIn, structMembers, WARNING } from '../private/validation';

/** The default sizing of the handler: 512 MiB and a 10-minute timeout. */
const DEFAULT_MEMORY_MIB = 512;
const DEFAULT_TIMEOUT = Duration.minutes(10);
/** Reconciliation catches what the best-effort CloudTrail events miss; every 6 hours. */
const DEFAULT_RECONCILIATION_SCHEDULE = events.Schedule.rate(Duration.hours(6));
const DEFAULT_METRIC_NAMESPACE = 'CrossRegionConfig';
/** Secrets Manager's recovery window bounds, in days; 7 is the shortest. */
const MIN_RECOVERY_WINDOW_DAYS = 7;
const MAX_RECOVERY_WINDOW_DAYS = 30;
const DEFAULT_RECOVERY_WINDOW = Duration.days(MIN_RECOVERY_WINDOW_DAYS);
/** Length of the generated HMAC key, in characters (alphanumeric: about 380 bits). */
const PROVENANCE_KEY_LENGTH = 64;
/** EventBridge's default event pattern size quota, in characters (adjustable to 4096). */
const MAX_EVENT_PATTERN_LENGTH = 2048;
/** IAM's default quotas: characters of a role's inline policies, of one managed policy, and managed policies per role. */
const MAX_INLINE_POLICY_CHARACTERS = 10_240;
const MAX_MANAGED_POLICY_CHARACTERS = 6_144;
const MAX_MANAGED_POLICIES_PER_ROLE = 10;

const PRIMARY_READ_ACTIONS = [
  'secretsmanager:GetSecretValue',
  'secretsmanager:DescribeSecret',
];
/** Secrets Manager actions without resource-level permissions. */
const UNSCOPED_SECRETS_ACTIONS = ['secretsmanager:ListSecrets', 'secretsmanager:BatchGetSecretValue'];
const REPLICA_WRITE_ACTIONS = [
  'secretsmanager:CreateSecret',
  'secretsmanager:UpdateSecret',
  'secretsmanager:DescribeSecret',
  'secretsmanager:TagResource',
  'secretsmanager:UntagResource',
  'secretsmanager:RestoreSecret',
];
const REPLICA_KMS_ACTIONS = ['kms:Encrypt', 'kms:Decrypt', 'kms:GenerateDataKey'];

const ROLE_ARN_PATTERN = /^arn:aws[a-z-]*:iam::(\d{12}):role\/[\w+=,.@/-]+$/;

/**
 * A replica in another AWS account, written through a role the handler assumes.
 */
export interface CrossAccountReplica {
  /**
   * Region of the replica. May be the primary region (same region, other account).
   */
  readonly region: string;

  /**
   * ARN of the role in the other account that the handler assumes to write the replica. Its trust
   * policy must allow this construct's `role`, and its permissions must allow the Secrets Manager
   * (and KMS) writes in `region`.
   */
  readonly roleArn: string;

  /**
   * ARN of a KMS key in `region` (usually in the other account) that encrypts the replica. Set at
   * most one of `keyArn` and `aliasName`.
   *
   * @default - the other account's `aws/secretsmanager` key, or `aliasName`
   */
  readonly keyArn?: string;

  /**
   * Alias name of a KMS key in the other account and `region`, such as `alias/secrets`. Set at most
   * one of `keyArn` and `aliasName`.
   *
   * @default - the other account's `aws/secretsmanager` key, or `keyArn`
   */
  readonly aliasName?: string;
}

/**
 * Props of `CrossRegionSecretReplicator`.
 */
export interface CrossRegionSecretReplicatorProps extends HandlerOptions {
  /**
   * Which secrets of the primary region (this stack's region) are replicated.
   */
  readonly secrets: SecretSelection;

  /**
   * Regions of this account the selected secrets are replicated to. At least one, no duplicates,
   * not the primary region, in the primary region's partition.
   */
  readonly replicaRegions: string[];

  /**
   * Customer managed KMS keys for the replicas, per replica region.
   *
   * A key from another region's stack cannot be referenced as an `IKey` (aws/aws-cdk#29819), so keys
   * are given as ARN or alias strings.
   *
   * @default - replicas are encrypted with the `aws/secretsmanager` key of their region
   */
  readonly replicaKmsKeys?: ReplicaKmsKey[];

  /**
   * Replicas in other AWS accounts, written through roles the handler assumes.
   *
   * @default - no cross-account replicas
   */
  readonly crossAccountReplicas?: CrossAccountReplica[];

  /**
   * Customer managed KMS keys that encrypt the selected secrets in the primary region. The handler
   * may decrypt with them, only through Secrets Manager (`kms:ViaService`).
   *
   * @default - none: secrets encrypted with `aws/secretsmanager` need no KMS permission
   */
  readonly sourceEncryptionKeys?: kms.IKey[];

  /**
   * Customer managed KMS key that encrypts `provenanceKey`, the secret holding the HMAC key of the
   * replicas' provenance version ids. The handler may decrypt with it only through Secrets Manager.
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
   * Copy the primary secret's own tags (not the provenance tags) to its replicas.
   *
   * @default true
   */
  readonly replicateTags?: boolean;

  /**
   * When a selected primary secret is deleted, schedule the deletion of its replicas too (with
   * `deletionRecoveryWindow`). When false, replicas of deleted secrets are left in place.
   *
   * @default false
   */
  readonly propagateDeletions?: boolean;

  /**
   * Recovery window of propagated deletions: a whole number of days from 7 to 30. Only used with
   * `propagateDeletions`.
   *
   * @default Duration.days(7)
   */
  readonly deletionRecoveryWindow?: Duration;

  /**
   * When to compare every selected secret with its replicas and repair differences.
   *
   * Changes are normally replicated within seconds from CloudTrail events through EventBridge, but
   * that delivery is best effort (and needs a CloudTrail trail that logs management events in the
   * primary region); the reconciliation is the guarantee.
   *
   * Runs at most once every 10 minutes: a reconciliation may take the handler's default timeout,
   * and overlapping ones repeat each other's writes and compete for Secrets Manager's request
   * quotas. A `rate(...)` or `cron(...)` schedule that runs more often fails synth.
   *
   * @default events.Schedule.rate(Duration.hours(6))
   */
  readonly reconciliationSchedule?: events.Schedule;

  /**
   * When set, a Systems Manager parameter named `<parameterPrefix>/global/secrets/cross-region-config`
   * holds the replication settings as JSON (`primaryRegion`, `replicationRegions`, `syncEnabled`,
   * `driftDetectionEnabled`, `configMapSyncEnabled`, `lastSyncTimestamp`, `conflictPolicy`,
   * `propagateDeletions`, `reconciliationSchedule`) for other tools to read. The handler keeps
   * `lastSyncTimestamp` current: the time of the last sync that succeeded in every region.
   * Must start with `/` and not end with `/`, for example `/my-app/production`.
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
   * How long a replica region may go without a reconciliation in which every selected secret
   * agreed before `fullSyncAgeAlarm` goes off. The alarm also goes off when no reconciliation
   * reported at all for that long (it stopped running, or keeps failing before it finishes).
   * Whole minutes, from 10 minutes to 1 day (the longest period a CloudWatch alarm evaluates).
   *
   * @default - twice the longest gap between two runs of `reconciliationSchedule` (12 hours with the
   * default schedule), at most 1 day; 12 hours, with a warning, for a `cron()` schedule that does
   * not run every day
   */
  readonly fullSyncAlarmThreshold?: Duration;

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
   * @default Duration.minutes(10)
   */
  readonly timeout?: Duration;
}

/** The replicator's props, validated and with their defaults. */
interface ReplicatorSettings {
  readonly propagateDeletions: boolean;
  readonly schedule: events.Schedule;
  readonly fullSyncThreshold: Duration;
  readonly replicaKeys: Map<string, ReplicaKmsKey>;
  readonly crossAccount: CrossAccountReplica[];
  readonly recoveryWindowDays: number | undefined;
  readonly configParameterName: string | undefined;
}

/**
 * Replicates selected AWS Secrets Manager secrets from this stack's region (the primary) to other
 * regions of this account and, through assumed roles, to other accounts.
 *
 * A Lambda handler copies a secret within seconds of a change, from the Secrets Manager CloudTrail
 * events EventBridge delivers, and reconciles every selected secret on a schedule. Replicas carry
 * provenance (the source region and ARN in tags, the copied primary version in a keyed version id,
 * never the value or a hash of it) so local changes to a replica are detected and handled by the
 * `conflictPolicy`, and a rollback or a race between two writers is repaired.
 *
 * @example
 * new CrossRegionSecretReplicator(this, 'Replicator', {
 *   secrets: SecretSelection.byNamePrefix('prod/app/'),
 *   replicaRegions: ['eu-west-1', 'ap-southeast-1'],
 *   replicaKmsKeys: [{ region: 'eu-west-1', aliasName: 'alias/secrets' }],
 * });
 */
export class CrossRegionSecretReplicator extends Construct implements ISecretReplicator {
  /** Region the secrets are read from: this stack's region. */
  public readonly primaryRegion: string;

  /**
   * Value of the `service` dimension of the handler's metrics (also `POWERTOOLS_SERVICE_NAME`);
   * unique to this construct and stable across deployments.
   */
  public readonly serviceName: string;

  /** The Lambda function that replicates and reconciles the secrets. */
  public readonly handler: lambda.Function;

  /**
   * Parameters of the handler's settings document; empty while every setting fits in Lambda's 4 KB environment.
   *
   * Settings that outgrow the environment (README, "Large configurations") are written here by
   * CloudFormation, versioned with the deployment, and read by the handler at cold start.
   */
  public readonly settingsParameters: ssm.IStringParameter[];

  /** Execution role of the handler, with least-privilege statements per region. */
  public readonly role: iam.Role;

  /** Log group of the handler (JSON logs; secret values are never logged). */
  public readonly logGroup: logs.LogGroup;

  /**
   * Dead-letter queue of events that could not be delivered to or processed by the handler, after
   * two retries. Messages hold events, never secret values; kept for 14 days.
   */
  public readonly deadLetterQueue: sqs.Queue;

  /**
   * Secret holding the HMAC key of the replicas' provenance version ids. It is not rotated: under a
   * new key each replica is copied once more (not flagged as a conflict). The same happens if the
   * key is replaced by a redeployment.
   */
  public readonly provenanceKey: secretsmanager.Secret;

  /**
   * EventBridge rule that sends the Secrets Manager change events of the primary region (CloudTrail
   * API calls and rotation service events) to the handler.
   *
   * The pattern is narrowed to the selected names, prefixes and ARNs. CloudTrail events carry no
   * tags, so a selection with a tag-only rule (or one whose pattern would exceed EventBridge's
   * default 2048-character pattern quota) matches every Secrets Manager change and the handler
   * filters. EventBridge only receives these events when a CloudTrail trail logs management events
   * in the primary region; delivery is best effort, and the `schedule` reconciliation catches misses.
   */
  public readonly rule: events.Rule;

  /** EventBridge rule that invokes the handler with `{"action":"reconcile"}` on `reconciliationSchedule`. */
  public readonly schedule: events.Rule;

  /** The settings parameter; set only when `parameterPrefix` is set. */
  public readonly configParameter?: ssm.StringParameter;

  /**
   * The cross-region-config document (in the Parameter Store document layout), written to `configParameter`.
   *
   * @internal
   */
  public readonly _configDocument: { [key: string]: any };

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
   * A replica region has not fully agreed with the primary, or no reconciliation reported, for
   * longer than `fullSyncAlarmThreshold` (`SecondsSinceFullSync` Maximum, missing data breaching);
   * undefined when `createAlarms` is false.
   */
  public readonly fullSyncAgeAlarm?: cloudwatch.IAlarm;

  /**
   * Replicas changed in their own region (Sum ≥ 1 in 5 minutes); set only with
   * `ConflictPolicy.SKIP_AND_ALARM` and `createAlarms`.
   */
  public readonly conflictsAlarm?: cloudwatch.IAlarm;

  /** CloudWatch namespace of the handler's metrics (`metricNamespace` prop), for dashboards and queries. */
  public readonly metricNamespace: string;

  /** The selected secrets (`secrets` prop); a `ConfigDriftDetector` given this replicator compares the same ones. */
  public readonly secrets: SecretSelection;

  /** Replica regions of this account (`replicaRegions` prop). */
  public readonly replicaRegions: string[];

  /** Customer managed keys of the replicas (`replicaKmsKeys` prop); empty when every replica uses `aws/secretsmanager`. */
  public readonly replicaKmsKeys: ReplicaKmsKey[];

  /** Customer managed keys of the primary secrets (`sourceEncryptionKeys` prop); may be empty. */
  public readonly sourceEncryptionKeys: kms.IKey[];

  /** How replicas changed in their own region are handled (`conflictPolicy` prop). */
  public readonly conflictPolicy: ConflictPolicy;

  /** Whether the primary secret's own tags are copied to its replicas (`replicateTags` prop). */
  public readonly replicateTags: boolean;

  /**
   * Value of the provenance tag `cross-region-config:deployment` the handler writes on every replica,
   * `<stack name>.<construct address>`. Set only when the selection has replicas IAM cannot name (a
   * rule that selects by tags alone, or a secret whose name is only known at deploy time): writes to
   * those replicas are then limited to secrets carrying this tag, so that two replicators in one
   * primary region cannot write each other's replicas. It changes if the stack is renamed or the
   * construct moved, after which the replicas written before are no longer this deployment's.
   *
   * @default - not set: every replica is named in IAM by the selection's names and prefixes
   */
  public readonly deploymentId?: string;

  /** Every region a replica is written to: `replicaRegions` and the cross-account replicas' regions. */
  public readonly targetRegions: string[];
  private readonly alarmSet: AlarmSet;

  constructor(scope: Construct, id: string, props: CrossRegionSecretReplicatorProps) {
    super(scope, id);
    const validated = validationScope(this);
    // Ends the validation scope even when construction throws an error of another kind.
    try {
      this.primaryRegion = explicitRegion(this, 'CrossRegionSecretReplicator');
      this.metricNamespace = props.metricNamespace ?? DEFAULT_METRIC_NAMESPACE;
      this.secrets = props.secrets;
      this.replicaRegions = [...props.replicaRegions];
      this.replicaKmsKeys = [...(props.replicaKmsKeys ?? [])];
      this.sourceEncryptionKeys = [...(props.sourceEncryptionKeys ?? [])];
      this.conflictPolicy = props.conflictPolicy ?? ConflictPolicy.PRIMARY_WINS;
      this.replicateTags = props.replicateTags ?? true;
      const settings = this.validateProps(props);
      this.targetRegions = [...new Set([...props.replicaRegions, ...settings.crossAccount.map((r) => r.region)])];
      const selection = new BoundSelection(props.secrets, Stack.of(this));
      warnAboutSecretNames(this, props.secrets);
      if (selection.needsProvenanceScope) this.deploymentId = `${Stack.of(this).stackName}.${this.node.addr}`;
      this.provenanceKey = this.createProvenanceKey(props.provenanceKeyEncryptionKey);

      const bundled = new BundledHandler(this, {
        options: props,
        description: `Replicates selected Secrets Manager secrets from ${this.primaryRegion} to ${this.targetRegions.join(', ')}`.slice(0, 256),
        defaultMemoryMiB: DEFAULT_MEMORY_MIB,
        defaultTimeout: DEFAULT_TIMEOUT,
      });
      this.serviceName = bundled.serviceName;
      this.role = bundled.role;
      this.logGroup = bundled.logGroup;
      this.deadLetterQueue = bundled.deadLetterQueue;
      this.handler = bundled.createFunction(ReplicatorFunction, this.handlerConfiguration(props, settings, selection));
      this.settingsParameters = bundled.settingsParameters;
      // A reconciliation longer than one invocation hands the rest over to the next (README, "Large selections").
      grantRunHandOver(this, { handler: this.handler, role: this.role, serviceName: this.serviceName });

      const wildcards = new Map<string, string>();
      this.grantHandlerPermissions(selection, props, settings.replicaKeys, settings.crossAccount, settings.propagateDeletions, wildcards);
      warnAboutPolicySize(this, this.role);

      this.rule = new events.Rule(this, 'Rule', {
        description: `Sends Secrets Manager changes in ${this.primaryRegion} to the secret replicator ${this.node.path}`.slice(0, 512),
        eventPattern: this.eventPattern(selection),
      });
      this.rule.addTarget(bundled.target());
      this.schedule = new events.Rule(this, 'Schedule', {
        description: `Reconciles the replicas of the secret replicator ${this.node.path}`.slice(0, 512),
        schedule: settings.schedule,
      });
      this.schedule.addTarget(bundled.target(events.RuleTargetInput.fromObject({ action: 'reconcile' })));

      this._configDocument = this.configDocument(settings);
      this.configParameter = bundled.settingsParameter(settings.configParameterName, `the secret replicator ${this.node.path}`, this._configDocument);
      if (this.configParameter) this._trackLastSyncIn(this.configParameter, settings.configParameterName!);

      this.alarmSet = bundled.alarmSet;
      const alarms = createReplicatorAlarms(this.alarmSet, {
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

  /** Validates the props this constructor does not hand to the shared handler code, and resolves their defaults. */
  private validateProps(props: CrossRegionSecretReplicatorProps): ReplicatorSettings {
    const primary = this.primaryRegion;
    const propagateDeletions = props.propagateDeletions ?? false;
    const schedule = props.reconciliationSchedule ?? DEFAULT_RECONCILIATION_SCHEDULE;
    const fullSyncThreshold = fullSyncAlarmThreshold(this, props.fullSyncAlarmThreshold, schedule);
    validateReplicaRegions(props.replicaRegions, primary);
    const replicaKeys = validateReplicaKmsKeys(props.replicaKmsKeys ?? [], props.replicaRegions);
    const crossAccount = validateCrossAccountReplicas(props.crossAccountReplicas ?? [], primary, Stack.of(this).account);
    const recoveryWindowDays = validateWholeDuration(
      'deletionRecoveryWindow', props.deletionRecoveryWindow ?? DEFAULT_RECOVERY_WINDOW, 'days', MIN_RECOVERY_WINDOW_DAYS, MAX_RECOVERY_WINDOW_DAYS,
    );
    if (props.parameterPrefix !== undefined) {
      validateParameterPrefix(props.parameterPrefix);
    }
    const configParameterName = props.parameterPrefix !== undefined ? `${props.parameterPrefix}/global/secrets/cross-region-config` : undefined;
    claimParameterName(this, 'parameterPrefix', props.parameterPrefix, configParameterName);
    validateMetricNamespace(this.metricNamespace);
    validateScheduleInterval('reconciliationSchedule', schedule, DEFAULT_TIMEOUT,
      'a reconciliation may take the handler\'s default timeout, and reconciliations must not overlap');
    if (props.deletionRecoveryWindow && !propagateDeletions) {
      Annotations.of(this).addWarningV2(`${WARNING}deletionRecoveryWindowIgnored`,
        'deletionRecoveryWindow is ignored because propagateDeletions is false: replicas of deleted secrets are left in place.');
    }
    return { propagateDeletions, schedule, fullSyncThreshold, replicaKeys, crossAccount, recoveryWindowDays, configParameterName };
  }

  /**
   * The secret holding the HMAC key of the replicas' provenance version ids, encrypted with
   * `encryptionKey` when given (otherwise with `aws/secretsmanager`).
   */
  private createProvenanceKey(encryptionKey: kms.IKey | undefined): secretsmanager.Secret {
    return new secretsmanager.Secret(this, 'ProvenanceKey', {
      description: `HMAC key for the provenance of the replicas written by the secret replicator ${this.node.path}. Not replicated, not rotated.`,
      encryptionKey,
      generateSecretString: {
        passwordLength: PROVENANCE_KEY_LENGTH,
        excludePunctuation: true,
        includeSpace: false,
        requireEachIncludedType: true,
      },
    });
  }

  /** The handler's configuration: bounded values in the environment, the targets and the selection growable. */
  private handlerConfiguration(
    props: CrossRegionSecretReplicatorProps, settings: ReplicatorSettings, selection: BoundSelection,
  ): HandlerConfiguration {
    const replicaTargets: ReplicaTargetConfig[] = [
      ...props.replicaRegions.map((region): ReplicaTargetConfig => {
        const key = settings.replicaKeys.get(region);
        const kmsKeyId = key?.keyArn ?? key?.aliasName;
        return { region, ...(kmsKeyId ? { kmsKeyId } : {}) };
      }),
      ...settings.crossAccount.map((r): ReplicaTargetConfig => {
        const kmsKeyId = r.keyArn ?? r.aliasName;
        return { region: r.region, ...(kmsKeyId ? { kmsKeyId } : {}), roleArn: r.roleArn };
      }),
    ];
    return {
      description: `the secret replicator ${this.node.path}`,
      environment: {
        [ReplicatorEnv.PRIMARY_REGION]: this.primaryRegion,
        [ReplicatorEnv.CONFLICT_POLICY]: this.conflictPolicy.name,
        [ReplicatorEnv.REPLICATE_TAGS]: String(this.replicateTags),
        [ReplicatorEnv.PROPAGATE_DELETIONS]: String(settings.propagateDeletions),
        [ReplicatorEnv.DELETION_RECOVERY_WINDOW_DAYS]: settings.recoveryWindowDays !== undefined
          ? String(settings.recoveryWindowDays)
          : Token.asString((props.deletionRecoveryWindow ?? DEFAULT_RECOVERY_WINDOW).toDays()),
        [ReplicatorEnv.PROVENANCE_KEY_SECRET_ARN]: this.provenanceKey.secretArn,
        ...(this.deploymentId !== undefined ? { [ReplicatorEnv.DEPLOYMENT_ID]: this.deploymentId } : {}),
        [ReplicatorEnv.METRIC_NAMESPACE]: this.metricNamespace,
        [ReplicatorEnv.SERVICE_NAME]: this.serviceName,
      },
      growable: { [ReplicatorEnv.REPLICA_TARGETS]: replicaTargets, [ReplicatorEnv.SELECTION]: selection.toConfig() },
    };
  }

  /** The cross-region-config document of the Parameter Store document layout, written to `configParameter`. */
  private configDocument(settings: ReplicatorSettings): { [key: string]: any } {
    return {
      primaryRegion: this.primaryRegion,
      replicationRegions: this.targetRegions,
      syncEnabled: true,
      // Known once the app is built: a drift detector or ConfigMap syncer may name this replicator
      // after it was created.
      driftDetectionEnabled: Lazy.any({ produce: () => hasCompanion(this, COMPANION_DRIFT_DETECTION) }),
      configMapSyncEnabled: Lazy.any({ produce: () => hasCompanion(this, COMPANION_CONFIGMAP_SYNC) }),
      // Kept current by the handler after each sync that left every region in agreement.
      lastSyncTimestamp: null,
      conflictPolicy: this.conflictPolicy.name,
      propagateDeletions: settings.propagateDeletions,
      reconciliationSchedule: settings.schedule.expressionString,
    };
  }

  /**
   * Makes the handler keep `lastSyncTimestamp` current in `parameter` (named `parameterName`):
   * read, then write the whole document, after each sync that left every region in agreement.
   *
   * @internal
   */
  public _trackLastSyncIn(parameter: ssm.IStringParameter, parameterName: string): void {
    this.handler.addEnvironment(ReplicatorEnv.CONFIG_PARAMETER_NAME, parameterName);
    this.role.addToPrincipalPolicy(new iam.PolicyStatement({
      actions: ['ssm:GetParameter', 'ssm:PutParameter'],
      resources: [parameter.parameterArn],
    }));
  }

  /**
   * Count of replica writes (create or update) that succeeded.
   *
   * @default - Sum over 5 minutes, all replica regions
   */
  public metricReplicatedSecrets(props?: ReplicatorMetricOptions): cloudwatch.Metric {
    return this.replicatorMetric(ReplicatorMetric.REPLICATED_SECRETS, cloudwatch.Stats.SUM, undefined, props);
  }

  /**
   * Count of replica writes that failed after retries.
   *
   * @default - Sum over 5 minutes, all replica regions
   */
  public metricReplicationFailures(props?: ReplicatorMetricOptions): cloudwatch.Metric {
    return this.replicatorMetric(ReplicatorMetric.REPLICATION_FAILURES, cloudwatch.Stats.SUM, undefined, props);
  }

  /**
   * Count of replicas found changed in their own region since the last copy (overwritten with
   * `PRIMARY_WINS`, left in place with `SKIP_AND_ALARM`).
   *
   * @default - Sum over 5 minutes, all replica regions
   */
  public metricConflicts(props?: ReplicatorMetricOptions): cloudwatch.Metric {
    return this.replicatorMetric(ReplicatorMetric.CONFLICTS, cloudwatch.Stats.SUM, undefined, props);
  }

  /**
   * Milliseconds from a change of the primary secret to its replica write.
   *
   * @default - p99 over 5 minutes, all replica regions
   */
  public metricReplicationLatency(props?: ReplicatorMetricOptions): cloudwatch.Metric {
    return this.replicatorMetric(ReplicatorMetric.REPLICATION_LATENCY, cloudwatch.Stats.p(99), cloudwatch.Unit.MILLISECONDS, props);
  }

  /**
   * Seconds since the last reconciliation in which every selected secret agreed in a replica
   * region (0 right after such a run). Every reconciliation reports it; a period without a
   * datapoint means the reconciliation did not run, or the age is not known yet (a region that has
   * not agreed since the handler's execution environment started). The total is the oldest region.
   *
   * @default - Maximum over 5 minutes, the oldest replica region
   */
  public metricSecondsSinceFullSync(props?: ReplicatorMetricOptions): cloudwatch.Metric {
    return this.replicatorMetric(ReplicatorMetric.SECONDS_SINCE_FULL_SYNC, cloudwatch.Stats.MAXIMUM, cloudwatch.Unit.SECONDS, props);
  }

  /**
   * (secret, replica region) pairs a reconciliation invocation worked. A reconciliation that needs
   * longer than one invocation works in several, each reporting its own share.
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
   * Seconds the secrets not yet reconciled have been waiting: since the reconciliation that still
   * has them started (0 when a reconciliation finished). `fullSyncAgeAlarm` watches the
   * consequence, `metricSecondsSinceFullSync()`.
   *
   * @default - Maximum over 5 minutes
   */
  public metricOldestUnprocessedItemAge(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.runMetric(RunMetric.OLDEST_UNPROCESSED_ITEM_AGE, cloudwatch.Stats.MAXIMUM, cloudwatch.Unit.SECONDS, props);
  }

  private runMetric(metricName: string, statistic: string, unit: cloudwatch.Unit, options?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return replicatorMetric({ namespace: this.metricNamespace, serviceName: this.serviceName, metricName, statistic, unit, options });
  }


  /**
   * Widgets of this construct for a CloudWatch dashboard, as rows 24 units wide: a header naming it,
   * Secrets Manager writes, failed writes, conflicts and replication latency per replica region, its handler's invocations, errors and duration, and the status of `alarms`.
   *
   * Add them in one call: `dashboard.addWidgets(...x.dashboardWidgets())`. They are built only from
   * the `metricXxx()` methods, the handler's metrics and `alarms`. The metrics carry this stack's
   * region and account, but the handler graph and the alarm status need a dashboard in this stack's
   * region and account; for a dashboard elsewhere use `CrossRegionConfigDashboard`, which leaves
   * them out there.
   */
  public dashboardWidgets(options: DashboardWidgetOptions = {}): cloudwatch.IWidget[] {
    return replicatorDashboardWidgets(this, options);
  }
  /**
   * Adds actions (for example an `SnsAction`) to every alarm of this construct.
   */
  public addAlarmAction(...actions: cloudwatch.IAlarmAction[]): void {
    this.alarmSet.addAlarmAction(...actions);
  }

  /**
   * Grants `lambda:InvokeFunction` on the handler, for manual invocations with the payloads
   * `{"action":"test_sync"}`, `{"action":"connectivity_test"}` and `{"action":"reconcile"}`.
   */
  public grantInvoke(grantee: iam.IGrantable): iam.Grant {
    return this.handler.grantInvoke(grantee);
  }

  private replicatorMetric(
    metricName: string,
    statistic: string,
    unit: cloudwatch.Unit | undefined,
    props: ReplicatorMetricOptions = {},
  ): cloudwatch.Metric {
    const { replicaRegion, ...options } = props;
    if (replicaRegion !== undefined && !Token.isUnresolved(replicaRegion) && !this.targetRegions.includes(replicaRegion)) {
      failIn(this, 'replicaRegion', `must be one of the replica regions ${JSON.stringify(this.targetRegions)}`, replicaRegion);
    }
    return replicatorMetric({
      namespace: this.metricNamespace,
      serviceName: this.serviceName,
      metricName,
      statistic,
      unit,
      replicaRegion,
      options,
    });
  }

  /**
   * The CloudTrail event pattern of successful calls, narrowed to the selection where events allow it. Events carry no
   * tags, so a selection with a tag-only rule matches every Secrets Manager change event and leaves
   * the filtering to the handler; so does a selection whose pattern would exceed EventBridge's
   * default pattern size quota.
   */
  private eventPattern(selection: BoundSelection): events.EventPattern {
    const base: events.EventPattern = {
      source: ['aws.secretsmanager'],
      detailType: ['AWS API Call via CloudTrail', 'AWS Service Event via CloudTrail'],
      detail: {
        eventSource: ['secretsmanager.amazonaws.com'],
        eventName: [...SECRET_EVENT_NAMES],
        // A failed call changed nothing: CloudTrail records it with an errorCode.
        errorCode: [{ exists: false }],
      },
    };
    const arnBase = selection.secretArn(this.primaryRegion, '');
    const matchers = selection.eventMatchers(arnBase);
    if (!matchers) {
      return base;
    }
    const narrowed: events.EventPattern = {
      ...base,
      detail: { ...base.detail, $or: [...matchers].map(([field, values]) => nestField(field, values)) },
    };
    const estimate = estimateJson(this, {
      'source': narrowed.source,
      'detail-type': narrowed.detailType,
      'detail': narrowed.detail,
    });
    if (estimate.json.length > MAX_EVENT_PATTERN_LENGTH) {
      Annotations.of(this).addWarningV2(`${WARNING}eventPatternNotNarrowed`,
        `The event pattern narrowed to the selected secrets would be about ${estimate.json.length} characters, above EventBridge's default `
        + `quota of ${MAX_EVENT_PATTERN_LENGTH}; the rule matches every Secrets Manager change in ${this.primaryRegion} and the handler filters. `
        + 'Select secrets by name prefix to narrow the rule.');
      return base;
    }
    return narrowed;
  }

  /** Adds the handler's least-privilege statements; records wildcard resources with their reasons. */
  private grantHandlerPermissions(
    selection: BoundSelection,
    props: CrossRegionSecretReplicatorProps,
    replicaKeys: Map<string, ReplicaKmsKey>,
    crossAccount: CrossAccountReplica[],
    propagateDeletions: boolean,
    wildcards: Map<string, string>,
  ): void {
    const primary = this.primaryRegion;
    const addStatement = (statement: iam.PolicyStatement, wildcardReason: string) => {
      this.role.addToPrincipalPolicy(statement);
      for (const resource of statement.resources) {
        wildcards.set(resource, wildcardReason);
      }
    };

    // Primary region: read the selected secrets.
    const anyPrimarySecret = selection.secretArn(primary, '*');
    for (const statement of selection.primaryReadStatements(primary, PRIMARY_READ_ACTIONS)) {
      this.role.addToPrincipalPolicy(statement);
      for (const resource of statement.resources) {
        wildcards.set(resource, resource === anyPrimarySecret
          ? `Secrets selected by tags alone cannot be named: reads in ${primary} are limited with secretsmanager:ResourceTag conditions to secrets carrying every selected tag.`
          : `The selection includes secrets by name prefix: reads in ${primary} are limited to secret names starting with that prefix.`);
      }
    }
    this.provenanceKey.grantRead(this.role);

    // Actions without resource-level permissions, limited to the regions the handler works in
    // (acknowledged with the tracing actions in acknowledgeNagFindings()).
    this.role.addToPrincipalPolicy(new iam.PolicyStatement({
      actions: UNSCOPED_SECRETS_ACTIONS,
      resources: ['*'],
      conditions: { StringEquals: { 'aws:RequestedRegion': [primary, ...props.replicaRegions] } },
    }));

    // Customer managed keys of the primary secrets: decrypt through Secrets Manager only.
    const sourceKeys = props.sourceEncryptionKeys ?? [];
    if (sourceKeys.length > 0) {
      addStatement(new iam.PolicyStatement({
        actions: ['kms:Decrypt'],
        resources: sourceKeys.map((k) => k.keyArn),
        conditions: { StringEquals: { 'kms:ViaService': viaSecretsManager(primary) } },
      }), 'Source keys are named by ARN.');
    }

    // Replica regions of this account: write the replicas.
    const writeActions = propagateDeletions ? [...REPLICA_WRITE_ACTIONS, 'secretsmanager:DeleteSecret'] : REPLICA_WRITE_ACTIONS;
    const namedReplicas = props.replicaRegions.flatMap((region) => selection.replicaResources(region));
    if (namedReplicas.length > 0) {
      addStatement(new iam.PolicyStatement({ actions: writeActions, resources: namedReplicas }),
        'The selection includes secrets by name prefix: replica writes are limited to secret names starting with that prefix, in each replica region.');
    }
    if (this.deploymentId !== undefined && props.replicaRegions.length > 0) {
      const reason = 'Replicas of secrets selected by tags (or whose names are only known at deploy time) cannot be named: creation is limited to '
        + `requests that set the provenance tags ${ProvenanceTag.SOURCE_REGION}=${primary} and ${ProvenanceTag.DEPLOYMENT}=<this deployment>, `
        + 'tagging and describing without them to secrets no replicator manages (the TagResource that CreateSecret with tags implies, and '
        + 'telling a missing replica from a foreign one), and every other write to secrets carrying both tags.';
      for (const statement of selection.provenanceScopedWriteStatements(props.replicaRegions, primary, this.deploymentId, writeActions)) {
        addStatement(statement, reason);
      }
    }

    // Customer managed keys of the replicas: by ARN, or by alias through kms:ResourceAliases.
    for (const [region, key] of replicaKeys) {
      if (key.keyArn) {
        addStatement(new iam.PolicyStatement({
          actions: REPLICA_KMS_ACTIONS,
          resources: [key.keyArn],
          conditions: { StringEquals: { 'kms:ViaService': viaSecretsManager(region) } },
        }), 'Replica keys are named by ARN.');
      } else if (key.aliasName && key.aliasName !== SECRETS_MANAGER_MANAGED_ALIAS) {
        addStatement(new iam.PolicyStatement({
          actions: REPLICA_KMS_ACTIONS,
          resources: [Stack.of(this).formatArn({ service: 'kms', region, resource: 'key', resourceName: '*' })],
          conditions: {
            'ForAnyValue:StringEquals': { 'kms:ResourceAliases': key.aliasName },
            'StringEquals': { 'kms:ViaService': viaSecretsManager(region) },
          },
        }), `The replica key in ${region} is named by its alias ${key.aliasName}, so its key id is unknown: the statement is limited to keys `
          + `carrying that alias (kms:ResourceAliases) and to use through Secrets Manager in ${region} (kms:ViaService).`);
      }
    }

    // Other accounts: write through their roles.
    const roleArns = [...new Set(crossAccount.map((r) => r.roleArn))];
    if (roleArns.length > 0) {
      addStatement(new iam.PolicyStatement({ actions: ['sts:AssumeRole'], resources: roleArns }), 'Roles are named by ARN.');
    }
  }

  /** Acknowledges the cdk-nag findings of this construct's resources, each with its reason. */
  private acknowledgeNagFindings(wildcards: Map<string, string>): void {
    const unscoped = [...TRACING_ACTIONS, ...UNSCOPED_SECRETS_ACTIONS].join(', ');
    wildcards.set('*', `Resource "*" is only used for actions that support no resource-level permissions: ${unscoped}; `
      + 'the Secrets Manager ones are limited to the primary and replica regions with aws:RequestedRegion.');
    for (const [resource, reason] of wildcards) {
      if (flattenReference(Stack.of(this).resolve(resource)).includes('*')) {
        acknowledgeNagFindings(this.role, { id: wildcardResourceFinding(this.role, resource), reason });
      }
    }
    acknowledgeNagFindings(this.handler, {
      id: 'AwsSolutions-L1',
      reason: 'The runtime is pinned to nodejs22.x, the Node.js major the bundled handler is built and tested on; it moves with a release of this library.',
    });
    const rotation = 'The provenance key is the HMAC key behind the content-hash tags of replicas; rotating it only forces one extra copy of every '
      + 'replica and adds no protection. It never leaves the handler and guards no resource.';
    acknowledgeNagFindings(this.provenanceKey,
      { id: 'AwsSolutions-SMG4', reason: rotation },
      { id: `${NIST_800_53_R5}-SecretsManagerRotationEnabled`, reason: rotation });
    if (!this.provenanceKey.encryptionKey) {
      acknowledgeNagFindings(this.provenanceKey, { id: `${NIST_800_53_R5}-SecretsManagerUsingKMSKey`, reason: PROVENANCE_KEY_ENCRYPTION_REASON });
    }
  }
}

/** `{ a: { b: values } }` for the dotted field `a.b`. */
function nestField(field: string, values: EventMatcher[]): { [key: string]: any } {
  return field.split('.').reduceRight<any>((inner, key) => ({ [key]: inner }), values);
}

/** `kms:ViaService` value for Secrets Manager in `region`. */
function viaSecretsManager(region: string): string {
  return `secretsmanager.${region}.${domainSuffixOf(region)}`;
}

/** The members of `CrossAccountReplica`: any other key of a replica (a Python dict's `key_arn`) fails. */
const CROSS_ACCOUNT_MEMBERS = structMembers<CrossAccountReplica>({ region: true, roleArn: true, keyArn: true, aliasName: true });

function validateCrossAccountReplicas(replicas: CrossAccountReplica[], primary: string, account: string): CrossAccountReplica[] {
  const seen = new Set<string>();
  replicas.forEach((replica, i) => {
    const prop = `crossAccountReplicas[${i}]`;
    validateStructKeys(prop, 'CrossAccountReplica', replica, CROSS_ACCOUNT_MEMBERS);
    validateRegionName(`${prop}.region`, replica.region);
    validateSamePartition(`${prop}.region`, replica.region, primary);
    validatePattern(`${prop}.roleArn`, replica.roleArn, ROLE_ARN_PATTERN,
      'must be an IAM role ARN such as "arn:aws:iam::111122223333:role/secret-replica-writer"');
    if (replica.keyArn !== undefined && replica.aliasName !== undefined) {
      fail(prop, 'must set at most one of keyArn and aliasName', replica);
    }
    validateKeyReference(prop, replica.region, replica.keyArn, replica.aliasName);
    const roleAccount = Token.isUnresolved(replica.roleArn) ? undefined : ROLE_ARN_PATTERN.exec(replica.roleArn)?.[1];
    if (roleAccount !== undefined && roleAccount === account && replica.region === primary) {
      fail(prop, 'must not write to the primary region of this account (that would overwrite the primary secrets)', replica);
    }
    const key = `${replica.region} ${replica.roleArn}`;
    if (seen.has(key)) {
      fail('crossAccountReplicas', 'must not contain the same region and roleArn twice', replicas.map((r) => ({ region: r.region, roleArn: r.roleArn })));
    }
    seen.add(key);
  });
  return replicas;
}

/**
 * Warns when the role's statements (one ARN pattern per listed name and region) are longer than
 * IAM lets a role hold by default, so the deployment would fail: CDK moves what exceeds the inline
 * policy into managed policies, and a role has at most `MAX_MANAGED_POLICIES_PER_ROLE` of them.
 */
function warnAboutPolicySize(scope: Construct, role: iam.Role): void {
  const policy = role.node.tryFindChild('DefaultPolicy') as iam.Policy | undefined;
  if (!policy) return;
  // Without whitespace, as IAM counts; deploy-time values as typical ARNs.
  const characters = estimateJson(scope, policy.document).json.length;
  const allowed = MAX_INLINE_POLICY_CHARACTERS + MAX_MANAGED_POLICIES_PER_ROLE * MAX_MANAGED_POLICY_CHARACTERS;
  if (characters > allowed) {
    Annotations.of(scope).addWarningV2(`${WARNING}policyTooLarge`,
      `The handler's IAM policy is about ${characters} characters, more than a role can hold with IAM's default quotas (${MAX_INLINE_POLICY_CHARACTERS} `
      + `inline and ${MAX_MANAGED_POLICIES_PER_ROLE} managed policies of ${MAX_MANAGED_POLICY_CHARACTERS}), so the deployment would fail: each listed `
      + 'secret name adds an ARN pattern per region. Select secrets by name prefix or tags, or split the selection across replicators.');
  }
}

/** Warns about names that end like an ARN suffix, which make ARN matching ambiguous. */
function warnAboutSecretNames(scope: Construct, selection: SecretSelection): void {
  const names = selection._rules.flatMap((r) => r.names ?? []).filter((n) => !Token.isUnresolved(n));
  const ambiguous = names.filter((n) => /-[A-Za-z0-9]{6}$/.test(n));
  if (ambiguous.length > 0) {
    Annotations.of(scope).addWarningV2(`${WARNING}secretNameLikeArnSuffix`,
      `Secret names ${describe(ambiguous)} end with a hyphen and six characters, like the random suffix of a secret ARN; `
      + 'Secrets Manager may resolve them to another secret when used as a partial ARN. Consider renaming them.');
  }
}
