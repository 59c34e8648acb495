import { Annotations, ArnFormat, Duration, RemovalPolicy, Stack, Token } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import * as ssm from 'aws-cdk-lib/aws-ssm';
import { Construct } from 'constructs';
import { createDriftAlarms } from './alarms';
import { ConfigMapScopeConfig, DEFAULT_REPORT_PREFIX, DriftEnv, DriftMetric, ParameterReplicaKeyConfig } from './contract';
import { driftDetectorDashboardWidgets } from './dashboard';
import { DriftDetectorFunction } from './drift-detector-function';
import { DriftIgnoreRule } from './ignore-rule';
import { DriftMetricOptions } from './metric-options';
import { DEFAULT_DRIFT_METRIC_PERIOD, driftMetric } from './metrics';
import { DriftRemediation, DriftResourceType } from './remediation-mode';
import { grantScanHandOver } from './scan-hand-over';
import { AlarmSet } from '../core/alarms';
import { BundledHandler, explicitRegion, HandlerConfiguration } from '../core/bundled-handler';
import { addCompanion, COMPANION_DRIFT_DETECTION } from '../core/companions';
import type { ParameterOverrideConfig } from '../core/comparison-contract';
import { IConfigComparisonSource } from '../core/comparison-source';
import { DashboardWidgetOptions } from '../core/dashboard-options';
import { fullSyncAlarmThreshold, PassAlarmNaming } from '../core/full-sync-threshold';
import { HandlerOptions } from '../core/handler-options';
import { TRACING_ACTIONS } from '../core/hardened-function';
import { bindKubernetesCluster, KubernetesAccessLevel } from '../core/kubernetes-access';
import { KubernetesCluster } from '../core/kubernetes-cluster';
import { acknowledgeNagFindings, flattenReference, NIST_800_53_R5, PROVENANCE_KEY_ENCRYPTION_REASON, wildcardResourceFinding } from '../core/nag';
import { bindParameterOverrides, ParameterOverride } from '../core/parameter-override';
import { IParameterReplicator } from '../core/parameter-replicator-ref';
import { ReplicaKmsKey } from '../core/replica-kms-key';
import { SECRETS_MANAGER_MANAGED_ALIAS, SSM_MANAGED_ALIAS, validateReplicaKmsKeys } from '../core/replica-kms-keys';
import { RunMetric } from '../core/run-contract';
import { ISecretReplicator } from '../core/secret-replicator-ref';
import { SecretSelection } from '../core/secret-selection';
import { ProvenanceTag, ReplicaTargetConfig } from '../core/secrets-contract';
import { GrantedKeys, inheritParameterKeys, parameterKeyStatements, parameterKeyWriteStatements, ReasonedStatement } from '../core/secure-string-keys';
import { BoundSelection } from '../core/selection-binding';
import { handlerMetric } from '../private/metrics';
import { intervalLabel, rateSeconds, validateScheduleInterval } from '../private/schedule';
import { claimParameterName } from '../private/uniqueness';
import {
  domainSuffixOf, fail, failIn, validateDistinct, validateIntegerRange, validateLength, validateMetricNamespace, validateNotEmpty,
  validateOutsideSettingsRoot, validateParameterPrefix, validatePattern, validateReplicaRegions, validateSamePartition,
  validateStructKeys, validateWholeDuration, validationScope, structMembers, WARNING,
} from '../private/validation';

/** The default sizing of the handler: 512 MiB and a 15-minute timeout. */
const DEFAULT_MEMORY_MIB = 512;
const DEFAULT_TIMEOUT = Duration.minutes(15);
/** How the full-scan age alarm's threshold is named in its warnings. */
const FULL_SCAN_NAMING: PassAlarmNaming = { prop: 'fullScanAlarmThreshold', run: 'scan', alarm: 'full-scan age alarm' };

/** The default scan schedule: hourly. */
const DEFAULT_SCHEDULE = events.Schedule.rate(Duration.hours(1));
const DEFAULT_METRIC_NAMESPACE = 'CrossRegionConfig/ConfigurationDrift';
/** Items changed in the primary this recently are deferred: replication usually lands within seconds. */
const DEFAULT_GRACE_WINDOW = Duration.minutes(10);
const MAX_GRACE_WINDOW_SECONDS = 86_400;
const DEFAULT_REPORT_RETENTION = Duration.days(30);
/** Ten years, in days: longer retention is a bucket of the consumer's own. */
const MAX_REPORT_RETENTION_DAYS = 3650;
/** The default alert threshold: one drifted item. */
const DEFAULT_ALERT_THRESHOLD = 1;
/** Length of the generated HMAC key, in characters (alphanumeric: about 380 bits). */
const PROVENANCE_KEY_LENGTH = 64;
/** Shortest and longest alarm period CloudWatch accepts for a standard-resolution alarm, in seconds. */
const MIN_ALARM_PERIOD_SECONDS = 60;
const MAX_ALARM_PERIOD_SECONDS = 86_400;

const SECRET_READ_ACTIONS = ['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret'];
/** Secrets Manager actions without resource-level permissions. */
const UNSCOPED_SECRETS_ACTIONS = ['secretsmanager:ListSecrets', 'secretsmanager:BatchGetSecretValue'];
const SECRET_REPAIR_ACTIONS = [
  'secretsmanager:CreateSecret', 'secretsmanager:UpdateSecret', 'secretsmanager:TagResource',
  'secretsmanager:UntagResource', 'secretsmanager:RestoreSecret',
];
const PARAMETER_PATH_PATTERN = /^(\/[A-Za-z0-9_.-]+)+$/;
const DNS_LABEL_PATTERN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS_SUBDOMAIN_PATTERN = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;
const KEY_ARN_PATTERN = /^arn:aws[a-z-]*:kms:([a-z0-9-]+):\d{12}:key\/[A-Za-z0-9-]+$/;
const REPORT_PREFIX_PATTERN = /^([A-Za-z0-9!_.*'()-]+\/)*$/;
/** The members of `ConfigMapDriftScope`: any other key of a scope (a Python dict's `replica_clusters`) fails. */
const CONFIG_MAP_SCOPE_MEMBERS = structMembers<ConfigMapDriftScope>({ primaryCluster: true, replicaClusters: true, namespace: true, names: true });

/**
 * ConfigMaps the drift detector compares between a cluster in the primary region and clusters in
 * replica regions.
 */
export interface ConfigMapDriftScope {
  /** Cluster holding the source of truth; in the primary region (this stack's region). */
  readonly primaryCluster: KubernetesCluster;

  /** Clusters compared with `primaryCluster`; at least one, each in a replica region. */
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
 * Props of `ConfigDriftDetector`.
 */
export interface ConfigDriftDetectorProps extends HandlerOptions {
  /**
   * A secret replicator whose secrets, replica regions and replica KMS keys the detector compares,
   * and whose provenance key auto-remediation uses (so its copies carry the replicator's tags).
   *
   * @default - no replicator: give `replicaRegions` (and `secrets` to compare secrets)
   */
  readonly replicator?: ISecretReplicator;

  /**
   * A parameter replicator whose paths the detector compares (unless `parameterPaths` is given),
   * expecting its overrides (unless `parameterOverrides` is given) and ignoring its excluded paths.
   * Its replica regions are compared when neither `replicaRegions` nor `replicator` gives them.
   * When parameters are compared, the handler may decrypt SecureString parameters with the
   * replicator's `sourceEncryptionKeys` (in the primary region) and `replicaKmsKeys` (each in its
   * compared region), only through Parameter Store, in addition to `sourceEncryptionKeys` and
   * `encryptionKeyArns`. Unless `parameterReplicaKmsKeys` is given, auto-remediation writes
   * SecureString replicas with the replicator's `replicaKmsKeys` (`aws/ssm` in a region it names none for).
   *
   * @default - no parameter replicator: give `parameterPaths` to compare parameters
   */
  readonly parameterReplicator?: IParameterReplicator;

  /**
   * Regions compared with the primary (this stack's region). Required without `replicator`.
   *
   * @default - the replicator's replica regions
   */
  readonly replicaRegions?: string[];

  /**
   * Secrets compared across regions.
   *
   * @default - the replicator's selection; without a replicator, secrets are not compared
   */
  readonly secrets?: SecretSelection;

  /**
   * KMS keys the secrets in each replica region are expected to be encrypted with; a replica with
   * another key is a metadata drift.
   *
   * @default - the replicator's `replicaKmsKeys`; otherwise every replica is expected to use `aws/secretsmanager`
   */
  readonly replicaKmsKeys?: ReplicaKmsKey[];

  /**
   * Tag keys whose values must agree between a primary secret and its replicas.
   *
   * @default - tags are not compared
   */
  readonly comparedTagKeys?: string[];

  /**
   * SSM parameter paths compared across regions, each recursively (`String`, `StringList` and
   * `SecureString`, decrypted in memory only). Paths must not overlap.
   *
   * @default - parameters are not compared
   */
  readonly parameterPaths?: string[];

  /**
   * KMS keys of the `SecureString` replicas in the compared regions, by ARN or alias name.
   *
   * At most one per region; `alias/aws/ssm` names the AWS managed key, and a compared region not
   * named here uses it. Auto-remediation writes a drifted SecureString replica with its region's key; the
   * handler may decrypt with these keys (and, with `DriftRemediation.APPLY`, encrypt with them), only
   * through Parameter Store in the key's region. Give the same keys as the parameter replicator that
   * writes the replicas; an empty list says every replica uses `aws/ssm`.
   *
   * @default - the `parameterReplicator`'s `replicaKmsKeys` in the compared regions; without a
   * parameter replicator, `aws/ssm` in each region where `encryptionKeyArns` names no key (the
   * handler can read no SecureString under another key there), and unknown in the regions where it
   * does: auto-remediation does not write SecureString replicas there (each is a remediation
   * failure `SecureStringKeyUnknown`)
   */
  readonly parameterReplicaKmsKeys?: ReplicaKmsKey[];

  /**
   * Declared per-region values of compared parameters: in its region, a replica of the parameter
   * is expected to hold the override instead of the primary's value. A replica that holds its
   * override is not drift; one that holds the primary's value (or any other) is a value drift, and
   * auto-remediation writes the override. Each parameter must be under one of `parameterPaths`.
   * Give the same overrides as the parameter replicator that writes the replicas.
   *
   * @default - every replica is expected to hold the primary's value
   */
  readonly parameterOverrides?: ParameterOverride[];

  /**
   * ConfigMaps compared across EKS clusters.
   *
   * @default - ConfigMaps are not compared
   */
  readonly configMaps?: ConfigMapDriftScope[];

  /**
   * Expected differences: items (or ConfigMap keys) never compared.
   *
   * @default - everything in scope is compared
   */
  readonly ignoreRules?: DriftIgnoreRule[];

  /**
   * An item changed in the primary within this window is not compared (replication may still be in
   * flight); the next scan compares it. Whole seconds, at most one day.
   *
   * A window of 0 with a `replicator`, which copies changes as they happen, reports every change a
   * scan races as drift; synth warns (`cdk-cross-region-config:graceWindowZero`).
   *
   * @default Duration.minutes(10)
   */
  readonly graceWindow?: Duration;

  /**
   * Report items that exist only in a replica (secrets selected by name or prefix, parameters
   * under a path, ConfigMap keys).
   *
   * @default false
   */
  readonly reportExtraItems?: boolean;

  /**
   * Bucket the JSON reports are written to. The handler may only put objects under `reportPrefix`.
   *
   * @default - a bucket is created: encrypted, SSL only, public access blocked, reports expire after `reportRetention`
   */
  readonly reportBucket?: s3.IBucket;

  /**
   * Key prefix of the reports; empty or ending with `/`.
   *
   * @default 'drift-reports/'
   */
  readonly reportPrefix?: string;

  /**
   * How long reports are kept in the created bucket: whole days. Only used without `reportBucket`.
   *
   * @default Duration.days(30)
   */
  readonly reportRetention?: Duration;

  /**
   * Auto-remediation of the drift found.
   *
   * @default DriftRemediation.OFF
   */
  readonly autoRemediation?: DriftRemediation;

  /**
   * When to scan.
   *
   * The drift alarm's period is the schedule's rate (one hour for a cron schedule). Runs at most
   * once every 15 minutes: a scan may take the handler's default timeout, and overlapping scans read
   * every item twice and report each other's results. A `rate(...)` or `cron(...)` schedule that
   * runs more often fails synth.
   *
   * @default events.Schedule.rate(Duration.hours(1))
   */
  readonly schedule?: events.Schedule;

  /**
   * How long the detector may go without a complete scan before `fullScanAgeAlarm` goes off. Whole
   * minutes, from 10 minutes to 1 day. A scan larger than one invocation hands the rest over and
   * completes in a later invocation; this alarm goes off when none completes in time.
   *
   * @default - twice the longest gap between two runs of `schedule` (2 hours with the default
   * schedule), at most 1 day
   */
  readonly fullScanAlarmThreshold?: Duration;

  /**
   * Drifts in one scan that raise `driftAlarm` (`DriftCount`: an item whose value and metadata both
   * differ in a region counts twice, a scan failure counts once); a whole number of at least 1.
   *
   * @default 1
   */
  readonly alertThreshold?: number;

  /**
   * Customer managed KMS keys that encrypt the compared secrets in the primary region. The handler
   * may decrypt with them only through Secrets Manager. Keys of the replicas are `replicaKmsKeys`.
   *
   * @default - the replicator's `sourceEncryptionKeys`; otherwise none
   */
  readonly sourceEncryptionKeys?: kms.IKey[];

  /**
   * Other KMS keys (by ARN, in any scanned region), for example those of `SecureString`
   * parameters. The handler may decrypt with them only through Secrets Manager and Systems Manager.
   *
   * @default - none: items encrypted with the AWS managed keys need no KMS permission
   */
  readonly encryptionKeyArns?: string[];

  /**
   * When set, a Systems Manager parameter named `<parameterPrefix>/global/secrets/drift-detection-config`
   * holds the detector's settings as JSON (the Parameter Store document layout's `enabled`, `checkInterval`, `alertThreshold`,
   * `autoRemediation`, `includeSecrets`, `includeParameters`, `includeConfigMaps`, `retentionDays`).
   * It is never compared itself.
   *
   * @default - no parameter
   */
  readonly parameterPrefix?: string;

  /**
   * CloudWatch namespace of the handler's metrics.
   *
   * @default 'CrossRegionConfig/ConfigurationDrift'
   */
  readonly metricNamespace?: string;

  /**
   * Create the alarms (`driftAlarm`, `scanFailuresAlarm`, `fullScanAgeAlarm`, `errorsAlarm`,
   * `throttlesAlarm`, `deadLetterAlarm` and, with `DriftRemediation.APPLY`, `remediationFailuresAlarm`).
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
   * Timeout of one scan.
   *
   * @default Duration.minutes(15)
   */
  readonly timeout?: Duration;
}

/** The detector's props, validated and with their defaults (or the replicator's values). */
interface DetectorSettings {
  readonly replicator?: ISecretReplicator;
  readonly secrets?: SecretSelection;
  /** Regions whose secrets and parameters are compared (not the ConfigMap clusters' regions). */
  readonly replicaRegions: string[];
  readonly sourceEncryptionKeys: kms.IKey[];
  readonly parameterPaths: string[];
  readonly parameterOverrides: ParameterOverrideConfig[];
  /** The declarations behind `parameterOverrides`: `parameterOverrides`, or the linked replicator's under the compared paths. */
  readonly parameterOverrideDeclarations: ParameterOverride[];
  /** Ignore rules the detector adds: the linked parameter replicator's excluded paths. */
  readonly linkedIgnoreRules: DriftIgnoreRule[];
  readonly parameterReplicator?: IParameterReplicator;
  readonly configMaps: ConfigMapDriftScope[];
  readonly remediation: DriftRemediation;
  readonly schedule: events.Schedule;
  readonly alertThreshold: number;
  readonly kmsByRegion: Map<string, ReplicaKmsKey>;
  /**
   * KMS keys of the SecureString replicas by compared region (`alias/aws/ssm` for the AWS managed
   * key): `parameterReplicaKmsKeys`, or the parameter replicator's; undefined when unknown.
   */
  readonly parameterKeysByRegion?: Map<string, ReplicaKmsKey>;
  /** Whether `parameterKeysByRegion` comes from `parameterReplicaKmsKeys` (and needs its own decrypt grants). */
  readonly explicitParameterKeys: boolean;
  readonly graceWindowSeconds: number | undefined;
  readonly retentionDays: number | undefined;
  readonly scopes: ResolvedConfigMapScope[];
  readonly configParameterName: string | undefined;
}

/** Fails when an ignore rule names a region the detector does not compare. */
function validateIgnoreRuleRegions(rules: DriftIgnoreRule[], replicaRegions: string[]): void {
  rules.forEach((rule, i) => {
    const unknown = (rule._config.regions ?? []).filter((r) => !Token.isUnresolved(r) && !replicaRegions.includes(r));
    if (unknown.length > 0) {
      fail(`ignoreRules[${i}] replicaRegions`, `must be replica regions of the detector ${JSON.stringify(replicaRegions)}`, unknown);
    }
  });
}

/**
 * Compares configuration across regions, treating this stack's region as the source of truth:
 * Secrets Manager secrets, SSM parameters and Kubernetes ConfigMaps in EKS clusters.
 *
 * A Lambda handler scans on a schedule (hourly by default) and on `{"action":"manual_check"}`,
 * compares values by keyed hashes (a random HMAC key per scan) and metadata, and reports items
 * missing in a replica, extra in a replica (opt-in), with another value or other metadata, or
 * unreadable. It emits `DriftCount` and `HasDrift` (in total, per resource type and per replica
 * region), raises `driftAlarm`, and writes a JSON report with the command that fixes each drift.
 * Auto-remediation is opt-in.
 *
 * @example
 * declare const replicator: CrossRegionSecretReplicator;
 * new ConfigDriftDetector(this, 'DriftDetector', {
 *   replicator,
 *   parameterPaths: ['/my-app/production'],
 *   ignoreRules: [DriftIgnoreRule.parameters('/my-app/production/regional/**')],
 * });
 */
export class ConfigDriftDetector extends Construct implements IConfigComparisonSource {
  /** Region holding the source of truth: this stack's region. */
  public readonly primaryRegion: string;

  /** Regions compared with the primary (those of secrets and parameters, then of ConfigMap clusters). */
  public readonly replicaRegions: string[];

  /** Resource types this detector compares. */
  public readonly resourceTypes: DriftResourceType[];

  /** Regions whose secrets and parameters are compared (`replicaRegions` without the ConfigMap clusters' regions). */
  public readonly comparedRegions: string[];

  /**
   * Secrets compared: `secrets`, or the replicator's selection.
   *
   * @default - secrets are not compared
   */
  public readonly comparedSecrets?: SecretSelection;

  /** KMS keys the replicas are expected to use: `replicaKmsKeys`, or the replicator's in the compared regions. */
  public readonly comparedReplicaKmsKeys: ReplicaKmsKey[];

  /** Customer managed keys of the primary secrets: `sourceEncryptionKeys`, or the replicator's. */
  public readonly comparedSourceEncryptionKeys: kms.IKey[];

  /** SSM parameter paths compared: `parameterPaths`, or the parameter replicator's. */
  public readonly comparedParameterPaths: string[];

  /** Declared per-region parameter values expected: `parameterOverrides`, or the parameter replicator's under the compared paths. */
  public readonly comparedParameterOverrides: ParameterOverride[];

  /** Expected differences: `ignoreRules`, and the parameter replicator's excluded paths when its paths are compared. */
  public readonly comparedIgnoreRules: DriftIgnoreRule[];

  /** Parameters never compared: this detector's and the replicators' settings parameters. */
  public readonly comparedExcludedParameters: string[];

  /**
   * The replicator whose secrets are compared (`replicator`).
   *
   * @default - no replicator
   */
  public readonly comparedReplicator?: ISecretReplicator;

  /**
   * The parameter replicator whose SecureString keys the handler decrypts with (`parameterReplicator`).
   * A `ConfigParityCheck` given this detector decrypts with them too.
   *
   * @default - no parameter replicator
   */
  public get comparedParameterReplicator(): IParameterReplicator | undefined {
    return this.parameterKeySource;
  }

  /**
   * The customer managed keys of `parameterReplicaKmsKeys` in the compared regions (never
   * `alias/aws/ssm`), which the handler decrypts the SecureString replicas with. A
   * `ConfigParityCheck` given this detector decrypts with them too.
   */
  public get comparedParameterReplicaKmsKeys(): ReplicaKmsKey[] | undefined {
    return [...(this.grantedParameterKeys?.replicaKeys ?? [])];
  }

  /** `encryptionKeyArns`; a `ConfigParityCheck` given this detector decrypts with them too, unless it is given its own. */
  public get comparedEncryptionKeyArns(): string[] | undefined {
    return [...this._encryptionKeyArns];
  }

  /**
   * Value of the `service` dimension of the handler's metrics (also `POWERTOOLS_SERVICE_NAME`);
   * unique to this construct and stable across deployments.
   */
  public readonly serviceName: string;

  /** CloudWatch namespace of the handler's metrics (`metricNamespace` prop). */
  public readonly metricNamespace: string;

  /** The Lambda function that scans. */
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

  /** Log group of the handler (JSON logs; values are never logged). */
  public readonly logGroup: logs.LogGroup;

  /** Dead-letter queue of scheduled scans that failed after two retries; kept for 14 days. */
  public readonly deadLetterQueue: sqs.Queue;

  /** Bucket of the JSON reports: `reportBucket`, or the one created. */
  public readonly reportBucket: s3.IBucket;

  /** Key prefix of the reports; the latest is always at `<reportPrefix>latest.json`. */
  public readonly reportPrefix: string;

  /** EventBridge rule that invokes the handler with `{"action":"scheduled_check"}` on `schedule`. */
  public readonly schedule: events.Rule;

  /**
   * Secret holding the HMAC key of the content-hash provenance tags auto-remediation writes on
   * secrets; set only when secrets are compared with `DriftRemediation.APPLY` or `DRY_RUN` and no
   * `replicator` is given (otherwise the replicator's key is used).
   */
  public readonly provenanceKey?: secretsmanager.ISecret;

  /**
   * Value of the provenance tag `cross-region-config:deployment` by which IAM scopes the replicas the
   * detector reads and (with auto-remediation) writes, where the selection cannot name them: the
   * replicator's `deploymentId`, or with `DriftRemediation.APPLY` and no replicator this detector's
   * own (`<stack name>.<construct address>`).
   *
   * @default - not set: every replica is named in IAM by the selection's names and prefixes
   */
  public readonly deploymentId?: string;

  /** The settings parameter; set only when `parameterPrefix` is set. */
  public readonly configParameter?: ssm.StringParameter;

  /**
   * The drift-detection-config document (in the Parameter Store document layout), written to `configParameter`.
   *
   * @internal
   */
  public readonly _configDocument: { [key: string]: any };

  /**
   * AWS CLI commands that grant the handler access to clusters this construct could not grant
   * itself (clusters in other regions or accounts, or known only by name); run them once. Empty when
   * every cluster got an EKS access entry from this construct.
   */
  public readonly clusterAccessCommands: string[];

  /** Every alarm of this construct; empty when `createAlarms` is false. */
  public readonly alarms: cloudwatch.IAlarm[];

  /** `DriftCount` (Maximum per scan period) ≥ `alertThreshold`; undefined when `createAlarms` is false. */
  public readonly driftAlarm?: cloudwatch.IAlarm;

  /** Regions, clusters or items that could not be read (Maximum ≥ 1 per scan period); undefined when `createAlarms` is false. */
  public readonly scanFailuresAlarm?: cloudwatch.IAlarm;

  /**
   * No scan completed within `fullScanAlarmThreshold` (missing data breaching: a schedule that stopped,
   * a failing handler, or a scan that hands over without end); undefined when `createAlarms` is false.
   */
  public readonly fullScanAgeAlarm?: cloudwatch.IAlarm;

  /** Items auto-remediation could not repair; set only with `DriftRemediation.APPLY` and `createAlarms`. */
  public readonly remediationFailuresAlarm?: cloudwatch.IAlarm;

  /** Handler errors (Sum ≥ 1 in 5 minutes); undefined when `createAlarms` is false. */
  public readonly errorsAlarm?: cloudwatch.IAlarm;

  /** Handler throttles (Sum ≥ 1 in 5 minutes); undefined when `createAlarms` is false. */
  public readonly throttlesAlarm?: cloudwatch.IAlarm;

  /** Messages in the dead-letter queue (Maximum ≥ 1); undefined when `createAlarms` is false. */
  public readonly deadLetterAlarm?: cloudwatch.IAlarm;

  private readonly alarmSet: AlarmSet;
  /** What the handler decrypts with through Parameter Store without a parameter replicator; undefined when no parameters are compared. */
  private readonly grantedParameterKeys?: GrantedKeys;
  private parameterKeySource?: IParameterReplicator;
  private _encryptionKeyArns: string[] = [];

  constructor(scope: Construct, id: string, props: ConfigDriftDetectorProps = {}) {
    super(scope, id);
    const validated = validationScope(this);
    // Ends the validation scope even when construction throws an error of another kind.
    try {
      this.primaryRegion = explicitRegion(this, 'ConfigDriftDetector');
      this.metricNamespace = props.metricNamespace ?? DEFAULT_METRIC_NAMESPACE;
      this.reportPrefix = props.reportPrefix ?? DEFAULT_REPORT_PREFIX;
      const settings = this.validateProps(props);
      const { replicator, secrets, remediation } = settings;
      this.comparedRegions = [...settings.replicaRegions];
      this.comparedSecrets = secrets;
      this.comparedReplicaKmsKeys = [...settings.kmsByRegion.values()];
      this.comparedSourceEncryptionKeys = [...settings.sourceEncryptionKeys];
      this.comparedParameterPaths = [...settings.parameterPaths];
      this.comparedParameterOverrides = [...settings.parameterOverrideDeclarations];
      this.comparedIgnoreRules = [...(props.ignoreRules ?? []), ...settings.linkedIgnoreRules];
      this.comparedReplicator = replicator;
      this.comparedExcludedParameters = excludedParameters(
        settings.configParameterName, replicator?.configParameter, settings.parameterReplicator?.configParameter) ?? [];
      const selection = secrets ? new BoundSelection(secrets, Stack.of(this)) : undefined;
      const clusterRegions = settings.scopes.flatMap((s) => s.replicaClusters.map((c) => c.region));
      this.replicaRegions = [...new Set([...settings.replicaRegions, ...clusterRegions])];
      this.resourceTypes = [
        ...(secrets ? [DriftResourceType.SECRET] : []),
        ...(settings.parameterPaths.length ? [DriftResourceType.PARAMETER] : []),
        ...(settings.configMaps.length ? [DriftResourceType.CONFIGMAP] : []),
      ];
      validateIgnoreRuleRegions(props.ignoreRules ?? [], this.replicaRegions);
      this.provenanceKey = this.provenanceKeyFor(replicator, remediation !== DriftRemediation.OFF && secrets !== undefined);
      this.deploymentId = replicator?.deploymentId
        ?? (remediation === DriftRemediation.APPLY && selection?.needsProvenanceScope ? `${Stack.of(this).stackName}.${this.node.addr}` : undefined);
      this.reportBucket = props.reportBucket ?? this.createReportBucket(props.reportRetention ?? DEFAULT_REPORT_RETENTION);
      claimParameterName(this, 'parameterPrefix', props.parameterPrefix, settings.configParameterName);

      const bundled = new BundledHandler(this, {
        options: props,
        description: `Detects configuration drift between ${this.primaryRegion} and ${this.replicaRegions.join(', ')}`.slice(0, 256),
        defaultMemoryMiB: DEFAULT_MEMORY_MIB,
        defaultTimeout: DEFAULT_TIMEOUT,
      });
      this.serviceName = bundled.serviceName;
      this.role = bundled.role;
      this.logGroup = bundled.logGroup;
      this.deadLetterQueue = bundled.deadLetterQueue;
      const { configMapScopes, accessCommands } = this.bindConfigMapClusters(settings.scopes, remediation);
      this.clusterAccessCommands = accessCommands;
      this.handler = bundled.createFunction(DriftDetectorFunction, this.handlerConfiguration(props, settings, selection, configMapScopes));
      this.settingsParameters = bundled.settingsParameters;
      // A scan longer than one invocation hands the rest over to the next (README, "Large selections").
      grantScanHandOver(this, {
        handler: this.handler, role: this.role, serviceName: this.serviceName, reportBucket: this.reportBucket, reportPrefix: this.reportPrefix,
      });

      const wildcards = new Map<string, string>();
      this.grantHandlerPermissions({
        selection,
        replicaRegions: settings.replicaRegions,
        parameterPaths: settings.parameterPaths,
        remediation,
        kmsByRegion: settings.kmsByRegion,
        sourceEncryptionKeys: settings.sourceEncryptionKeys,
        encryptionKeyArns: props.encryptionKeyArns ?? [],
        wildcards,
        replicatorDeploymentId: replicator?.deploymentId,
      });
      this._encryptionKeyArns = props.encryptionKeyArns ?? [];
      const explicitParameterKeys = settings.explicitParameterKeys
        ? this.customerParameterKeys(settings.parameterKeysByRegion, props.encryptionKeyArns ?? []) : [];
      this.grantedParameterKeys = settings.parameterPaths.length > 0
        ? {
          regions: settings.replicaRegions,
          sourceKeys: settings.sourceEncryptionKeys,
          keyArns: props.encryptionKeyArns ?? [],
          replicaKeys: explicitParameterKeys,
        } : undefined;
      const grant = (statements: ReasonedStatement[]) => {
        for (const { statement, reason } of statements) {
          this.role.addToPrincipalPolicy(statement);
          for (const resource of statement.resources) wildcards.set(resource, reason);
        }
      };
      grant(parameterKeyStatements(Stack.of(this), this.primaryRegion, { sourceKeys: [], replicaKeys: explicitParameterKeys }));
      if (settings.parameterReplicator) this.grantParameterKeys(settings.parameterReplicator, wildcards);
      // Auto-remediation writes SecureString replicas with their region's key (DRY_RUN writes nothing).
      if (remediation === DriftRemediation.APPLY) {
        grant(parameterKeyWriteStatements(Stack.of(this), this.customerParameterKeys(settings.parameterKeysByRegion, props.encryptionKeyArns ?? [])));
      }

      this.schedule = new events.Rule(this, 'Schedule', {
        description: `Scans for configuration drift: ${this.node.path}`.slice(0, 512),
        schedule: settings.schedule,
      });
      this.schedule.addTarget(bundled.target(events.RuleTargetInput.fromObject({ action: 'scheduled_check' })));

      this._configDocument = this.configDocument(props, settings);
      this.configParameter = bundled.settingsParameter(settings.configParameterName, `the drift detector ${this.node.path}`, this._configDocument);

      this.alarmSet = bundled.alarmSet;
      const alarms = createDriftAlarms(this.alarmSet, {
        handler: this.handler,
        deadLetterQueue: this.deadLetterQueue,
        scanPeriod: alarmPeriod(settings.schedule),
        alertThreshold: settings.alertThreshold,
        driftCount: (o) => this.metricDriftCount(o),
        scanFailures: (o) => this.metricScanFailures(o),
        remediationFailures: remediation === DriftRemediation.APPLY ? (o) => this.metricRemediationFailures(o) : undefined,
        hasDrift: (o) => this.metricHasDrift(o),
        fullScanThreshold: fullSyncAlarmThreshold(this, props.fullScanAlarmThreshold, settings.schedule, FULL_SCAN_NAMING),
      });
      this.driftAlarm = alarms.driftAlarm;
      this.scanFailuresAlarm = alarms.scanFailuresAlarm;
      this.remediationFailuresAlarm = alarms.remediationFailuresAlarm;
      this.fullScanAgeAlarm = alarms.fullScanAgeAlarm;
      this.errorsAlarm = alarms.errorsAlarm;
      this.throttlesAlarm = alarms.throttlesAlarm;
      this.deadLetterAlarm = alarms.deadLetterAlarm;
      this.alarms = this.alarmSet.alarms;
      bundled.addConfiguredAlarmActions();

      this.acknowledgeNagFindings(wildcards);
    } finally {
      validated();
    }
  }

  /**
   * Lets the handler decrypt the SecureString parameters of `replicator` as if it were the
   * `parameterReplicator` prop, without taking its paths, overrides or excluded paths (for
   * `CrossRegionConfigManagement`, which gives those itself).
   *
   * @internal
   */
  public _inheritParameterKeys(replicator: IParameterReplicator): void {
    const wildcards = new Map<string, string>();
    this.grantParameterKeys(replicator, wildcards);
    for (const [resource, reason] of wildcards) {
      if (flattenReference(Stack.of(this).resolve(resource)).includes('*')) {
        acknowledgeNagFindings(this.role, { id: wildcardResourceFinding(this.role, resource), reason });
      }
    }
  }

  /**
   * `kms:Decrypt` through Parameter Store with the SecureString keys of `replicator` that the other
   * key props do not already grant, each key once. What auto-remediation needs to write SecureString
   * replicas with their keys is granted with `parameterReplicaKmsKeys` or the `parameterReplicator` prop.
   */
  private grantParameterKeys(replicator: IParameterReplicator, wildcards: Map<string, string>): void {
    if (this.parameterKeySource !== undefined && this.parameterKeySource !== replicator) {
      throw new Error(`the drift detector ${this.node.path} already decrypts with the keys of the parameter replicator ${this.parameterKeySource.node.path}`);
    }
    if (this.parameterKeySource === replicator) return;
    this.parameterKeySource = replicator;
    if (!this.grantedParameterKeys) return;
    const keys = inheritParameterKeys(replicator, this.grantedParameterKeys);
    for (const { statement, reason } of parameterKeyStatements(Stack.of(this), this.primaryRegion, keys)) {
      this.role.addToPrincipalPolicy(statement);
      for (const resource of statement.resources) wildcards.set(resource, reason);
    }
  }

  /** The customer managed keys of `byRegion` (never `alias/aws/ssm`), without those `encryptionKeyArns` already grants. */
  private customerParameterKeys(byRegion: Map<string, ReplicaKmsKey> | undefined, encryptionKeyArns: string[]): ReplicaKmsKey[] {
    return [...(byRegion?.values() ?? [])]
      .filter((k) => k.aliasName !== SSM_MANAGED_ALIAS && !(k.keyArn !== undefined && encryptionKeyArns.includes(k.keyArn)));
  }

  /** Validates the props the shared handler code does not, and resolves what the replicator or the defaults give. */
  private validateProps(props: ConfigDriftDetectorProps): DetectorSettings {
    const primary = this.primaryRegion;
    const replicator = props.replicator;
    if (replicator && Stack.of(replicator).region !== primary) {
      fail('replicator', `must be in the detector's region ${primary}`, Stack.of(replicator).region);
    }
    if (replicator) addCompanion(replicator, COMPANION_DRIFT_DETECTION);
    const parameterReplicator = props.parameterReplicator;
    if (parameterReplicator && Stack.of(parameterReplicator).region !== primary) {
      fail('parameterReplicator', `must be in the detector's region ${primary}`, Stack.of(parameterReplicator).region);
    }
    if (parameterReplicator) addCompanion(parameterReplicator, COMPANION_DRIFT_DETECTION);
    const regions = props.replicaRegions ?? replicator?.replicaRegions ?? parameterReplicator?.replicaRegions;
    const secrets = props.secrets ?? replicator?.secrets;
    // Inherited keys follow the regions actually compared (replicaRegions may narrow the replicator's).
    const replicaKmsKeys = props.replicaKmsKeys
      ?? (replicator?.replicaKmsKeys ?? []).filter((k) => (props.replicaRegions ?? replicator!.replicaRegions).includes(k.region));
    const sourceEncryptionKeys = props.sourceEncryptionKeys ?? replicator?.sourceEncryptionKeys ?? [];
    // A replicator of every parameter ("/") leaves the paths to compare to parameterPaths.
    const linked = parameterReplicator && !parameterReplicator.parameterPaths.includes('/') ? parameterReplicator : undefined;
    const parameterPaths = props.parameterPaths ?? linked?.parameterPaths ?? [];
    const configMaps = props.configMaps ?? [];
    const remediation = props.autoRemediation ?? DriftRemediation.OFF;
    const schedule = props.schedule ?? DEFAULT_SCHEDULE;
    const alertThreshold = props.alertThreshold ?? DEFAULT_ALERT_THRESHOLD;

    if (regions === undefined && (secrets !== undefined || parameterPaths.length > 0)) {
      fail('replicaRegions', 'must be set when no replicator is given and secrets or parameterPaths are compared', regions);
    }
    const replicaRegions = regions ?? [];
    if (regions !== undefined) validateReplicaRegions(replicaRegions, primary);
    if (secrets === undefined && parameterPaths.length === 0 && configMaps.length === 0) {
      fail('secrets', 'or parameterPaths, configMaps or replicator must give the detector something to compare', undefined);
    }
    validateParameterPaths(parameterPaths);
    const compared = (name: string) => parameterPaths.some((path) => isUnder(name, path));
    const parameterOverrideDeclarations = props.parameterOverrides ?? linked?.overrides.filter((o) => compared(o.parameterName)) ?? [];
    // The linked replicator validated its own overrides against every region it writes (cross-account
    // replicas' included): only the values for the compared regions are expected here.
    const parameterOverrides = props.parameterOverrides !== undefined
      ? this.validateParameterOverrides(props.parameterOverrides, parameterPaths, replicaRegions)
      : parameterOverrideDeclarations.flatMap((o) => o._bindInherited('parameterOverrides', replicaRegions));
    const linkedIgnoreRules = linked && props.parameterPaths === undefined
      ? linked.excludedParameterPaths.map((path) => DriftIgnoreRule.parameters(`${path}/**`)) : [];
    const kmsByRegion = validateReplicaKmsKeys(replicaKmsKeys, replicaRegions);
    const parameterKeysByRegion = this.parameterReplicaKeys(props.parameterReplicaKmsKeys, parameterReplicator, parameterPaths, replicaRegions,
      props.encryptionKeyArns ?? []);
    validateTagKeys(props.comparedTagKeys ?? []);
    if (props.comparedTagKeys?.length && secrets === undefined) {
      Annotations.of(this).addWarningV2(`${WARNING}comparedTagKeysIgnored`, 'comparedTagKeys are ignored because no secrets are compared.');
    }
    const graceWindowSeconds = validateWholeDuration('graceWindow', props.graceWindow ?? DEFAULT_GRACE_WINDOW, 'seconds', 0, MAX_GRACE_WINDOW_SECONDS);
    if (graceWindowSeconds === 0 && replicator !== undefined && secrets !== undefined) {
      Annotations.of(this).addWarningV2(`${WARNING}graceWindowZero`,
        'graceWindow is 0 while the replicator copies changes as they happen: a secret changed while a scan runs is reported as drift '
        + 'before its replicas are written. Keep a window at least as long as a replication takes (the default is 10 minutes).');
    }
    const retentionDays = validateWholeDuration('reportRetention', props.reportRetention ?? DEFAULT_REPORT_RETENTION, 'days', 1, MAX_REPORT_RETENTION_DAYS);
    if (props.reportRetention && props.reportBucket) {
      Annotations.of(this).addWarningV2(`${WARNING}reportRetentionIgnored`,
        'reportRetention is ignored because reportBucket is given: the bucket\'s own lifecycle rules apply.');
    }
    validateReportPrefix(this.reportPrefix);
    validateIntegerRange('alertThreshold', alertThreshold, 1, Number.MAX_SAFE_INTEGER);
    validateScheduleInterval('schedule', schedule, DEFAULT_TIMEOUT, 'a scan may take the handler\'s default timeout, and scans must not overlap');
    validateMetricNamespace(this.metricNamespace);
    for (const arn of props.encryptionKeyArns ?? []) {
      validatePattern('encryptionKeyArns', arn, KEY_ARN_PATTERN, 'must be KMS key ARNs such as "arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"');
    }
    if (props.parameterPrefix !== undefined) validateParameterPrefix(props.parameterPrefix);
    const scopes = validateConfigMapScopes(configMaps, primary);
    const configParameterName = props.parameterPrefix !== undefined ? `${props.parameterPrefix}/global/secrets/drift-detection-config` : undefined;
    return {
      replicator,
      secrets,
      replicaRegions,
      sourceEncryptionKeys,
      parameterPaths,
      parameterOverrides,
      parameterOverrideDeclarations,
      linkedIgnoreRules,
      parameterReplicator,
      configMaps,
      remediation,
      schedule,
      alertThreshold,
      kmsByRegion,
      parameterKeysByRegion,
      explicitParameterKeys: props.parameterReplicaKmsKeys !== undefined && parameterPaths.length > 0,
      graceWindowSeconds,
      retentionDays,
      scopes,
      configParameterName,
    };
  }

  /**
   * The KMS key of the SecureString replicas in each compared region (`alias/aws/ssm` where none is
   * configured): `parameterReplicaKmsKeys`, or the parameter replicator's `replicaKmsKeys`. When
   * neither is given, `alias/aws/ssm` in each region where `encryptionKeyArns` names no key: the
   * handler can decrypt nothing else there through Parameter Store, so the SecureStrings it reads
   * (and repairs) there are under `aws/ssm` (a path holding one under another key cannot be read at
   * all, so nothing of it is repaired). Regions left out are unknown. Undefined when no region is
   * known or no parameters are compared.
   */
  private parameterReplicaKeys(
    explicit: ReplicaKmsKey[] | undefined, replicator: IParameterReplicator | undefined, parameterPaths: string[], replicaRegions: string[],
    encryptionKeyArns: string[],
  ): Map<string, ReplicaKmsKey> | undefined {
    if (explicit !== undefined && parameterPaths.length === 0) {
      Annotations.of(this).addWarningV2(`${WARNING}parameterReplicaKmsKeysIgnored`,
        'parameterReplicaKmsKeys are ignored because no parameters are compared.');
      return undefined;
    }
    if (parameterPaths.length === 0) return undefined;
    const given = explicit !== undefined
      ? validateReplicaKmsKeys(explicit, replicaRegions, SSM_MANAGED_ALIAS, 'parameterReplicaKmsKeys')
      : replicator ? new Map(replicator.replicaKmsKeys.filter((k) => replicaRegions.includes(k.region)).map((k) => [k.region, k])) : undefined;
    if (!given) {
      const customerRegions = encryptionKeyArns.map((arn) => Token.isUnresolved(arn) ? undefined : KEY_ARN_PATTERN.exec(arn)?.[1]);
      if (customerRegions.includes(undefined)) {
        // A key of unknown region (a deploy-time ARN): it may apply in any region, so every region is unknown.
        Annotations.of(this).addWarningV2(`${WARNING}parameterReplicaKmsKeysUnknown`,
          'encryptionKeyArns holds a key whose region is only known at deployment, so the KMS key of the SecureString replicas is '
          + 'unknown in every compared region: auto-remediation does not repair SecureString replicas (SecureStringKeyUnknown). '
          + 'Give parameterReplicaKmsKeys (an empty list when every replica uses aws/ssm), or link the parameterReplicator.');
        return undefined;
      }
      const managed = replicaRegions.filter((region) => !customerRegions.includes(region));
      return managed.length > 0 ? new Map(managed.map((region) => [region, { region, aliasName: SSM_MANAGED_ALIAS }])) : undefined;
    }
    return new Map(replicaRegions.map((region) => [region, given.get(region) ?? { region, aliasName: SSM_MANAGED_ALIAS }]));
  }

  /**
   * `parameterOverrides` in the handler's shape: for replica regions only, at most one per parameter
   * and region, each parameter under a compared path.
   */
  private validateParameterOverrides(
    overrides: ParameterOverride[] | undefined, parameterPaths: string[], replicaRegions: string[],
  ): ParameterOverrideConfig[] {
    if (!overrides?.length) return [];
    if (parameterPaths.length === 0) {
      fail('parameterOverrides', 'must be used with parameterPaths (overrides apply to compared parameters)',
        overrides.map((o) => o.parameterName));
    }
    const uncovered = overrides.map((o) => o.parameterName).filter((name) => !parameterPaths.some((path) => isUnder(name, path)));
    if (uncovered.length > 0) {
      fail('parameterOverrides', `must name parameters under parameterPaths ${JSON.stringify(parameterPaths)}`, uncovered);
    }
    return bindParameterOverrides('parameterOverrides', overrides, replicaRegions);
  }

  /**
   * The secret holding the HMAC key of the provenance tags that auto-remediation writes: the
   * replicator's (also without remediation: the replicator's own key secret is never compared), or
   * this detector's own when it remediates secrets without a replicator.
   */
  private provenanceKeyFor(replicator: ISecretReplicator | undefined, remediatesSecrets: boolean): secretsmanager.ISecret | undefined {
    if (replicator) return replicator.provenanceKey;
    if (!remediatesSecrets) return undefined;
    return new secretsmanager.Secret(this, 'ProvenanceKey', {
      description: `HMAC key for the content-hash provenance tags written by the drift detector ${this.node.path}. Not replicated, not rotated.`,
      generateSecretString: { passwordLength: PROVENANCE_KEY_LENGTH, excludePunctuation: true, includeSpace: false, requireEachIncludedType: true },
    });
  }

  /**
   * Binds the clusters of every ConfigMap scope to the handler's role: access entries where this
   * construct can create them, commands otherwise. A later binding of the same cluster covers the
   * earlier ones: the last commands per cluster are kept.
   */
  private bindConfigMapClusters(
    scopes: ResolvedConfigMapScope[], remediation: DriftRemediation,
  ): { configMapScopes: ConfigMapScopeConfig[]; accessCommands: string[] } {
    const accessCommands = new Map<string, string>();
    const configMapScopes: ConfigMapScopeConfig[] = scopes.map((s, i) => {
      const bind = (cluster: KubernetesCluster, j: number) => {
        const bound = bindKubernetesCluster(this, cluster, {
          role: this.role,
          namespaces: [s.namespace],
          // Dry-run applies are authorized like real ones, so any remediation needs edit access.
          access: remediation === DriftRemediation.OFF ? KubernetesAccessLevel.VIEW : KubernetesAccessLevel.EDIT,
          id: `ClusterAccess${i}x${j}`,
          propPrefix: `configMaps[${i}].`,
        });
        if (bound.manualSetupCommand) accessCommands.set(`${cluster.region}/${cluster.clusterName}`, bound.manualSetupCommand);
        return bound.config;
      };
      return {
        primary: bind(s.primaryCluster, 0),
        replicas: s.replicaClusters.map((c, j) => bind(c, j + 1)),
        namespace: s.namespace,
        names: [...s.names],
      };
    });
    return { configMapScopes, accessCommands: [...accessCommands.values()] };
  }

  /** The handler's configuration: bounded values in the environment, what grows with the selection growable. */
  private handlerConfiguration(
    props: ConfigDriftDetectorProps, settings: DetectorSettings, selection: BoundSelection | undefined, configMapScopes: ConfigMapScopeConfig[],
  ): HandlerConfiguration {
    const { replicator, remediation, parameterPaths, configParameterName } = settings;
    const ignoreRules = [...(props.ignoreRules ?? []), ...settings.linkedIgnoreRules];
    const replicaTargets: ReplicaTargetConfig[] = settings.replicaRegions.map((region) => {
      const key = settings.kmsByRegion.get(region);
      const kmsKeyId = key?.keyArn ?? key?.aliasName;
      return { region, ...(kmsKeyId ? { kmsKeyId } : {}) };
    });
    return {
      description: `the drift detector ${this.node.path}`,
      environment: {
        [DriftEnv.PRIMARY_REGION]: this.primaryRegion,
        [DriftEnv.GRACE_WINDOW_SECONDS]: String(settings.graceWindowSeconds
          ?? Token.asString((props.graceWindow ?? DEFAULT_GRACE_WINDOW).toSeconds())),
        [DriftEnv.REPORT_EXTRA_ITEMS]: String(props.reportExtraItems ?? false),
        [DriftEnv.REPORT_BUCKET]: this.reportBucket.bucketName,
        [DriftEnv.REPORT_PREFIX]: this.reportPrefix,
        [DriftEnv.REMEDIATION_MODE]: remediation,
        ...(this.provenanceKey ? { [DriftEnv.PROVENANCE_KEY_SECRET_ARN]: this.provenanceKey.secretArn } : {}),
        ...(this.deploymentId !== undefined && remediation !== DriftRemediation.OFF ? { [DriftEnv.DEPLOYMENT_ID]: this.deploymentId } : {}),
        // Remediation copies secrets the way the replicator is configured to.
        ...(replicator ? {
          [DriftEnv.REMEDIATION_CONFLICT_POLICY]: replicator.conflictPolicy.name,
          [DriftEnv.REMEDIATION_REPLICATE_TAGS]: String(replicator.replicateTags),
        } : {}),
        [DriftEnv.ACCOUNT_ID]: Stack.of(this).account,
        [DriftEnv.METRIC_NAMESPACE]: this.metricNamespace,
        [DriftEnv.SERVICE_NAME]: this.serviceName,
      },
      growable: {
        [DriftEnv.REPLICA_TARGETS]: replicaTargets,
        [DriftEnv.SECRET_SELECTION]: selection?.toConfig(),
        [DriftEnv.COMPARED_TAG_KEYS]: props.comparedTagKeys?.length ? props.comparedTagKeys : undefined,
        [DriftEnv.PARAMETER_PATHS]: parameterPaths.length ? parameterPaths : undefined,
        [DriftEnv.PARAMETER_OVERRIDES]: settings.parameterOverrides.length ? settings.parameterOverrides : undefined,
        // Remediation writes with the keys; the report's commands name them.
        [DriftEnv.PARAMETER_REPLICA_KEYS]: settings.parameterKeysByRegion
          ? [...settings.parameterKeysByRegion.values()]
            .map((k): ParameterReplicaKeyConfig => ({ region: k.region, kmsKeyId: (k.keyArn ?? k.aliasName)! }))
          : undefined,
        [DriftEnv.CONFIGMAP_SCOPES]: configMapScopes.length ? configMapScopes : undefined,
        [DriftEnv.IGNORE_RULES]: ignoreRules.length ? ignoreRules.map((r) => r._config) : undefined,
        // The library's own documents: this detector's, and the linked replicator's (rewritten after every full sync).
        [DriftEnv.EXCLUDED_PARAMETERS]: excludedParameters(
          configParameterName, replicator?.configParameter, settings.parameterReplicator?.configParameter),
      },
    };
  }

  /** The drift-detection-config document of the Parameter Store document layout, written to `configParameter`. */
  private configDocument(props: ConfigDriftDetectorProps, settings: DetectorSettings): { [key: string]: any } {
    return {
      enabled: true,
      checkInterval: intervalLabel(settings.schedule),
      alertThreshold: settings.alertThreshold,
      autoRemediation: settings.remediation === DriftRemediation.APPLY,
      autoRemediationMode: settings.remediation,
      includeSecrets: settings.secrets !== undefined,
      includeParameters: settings.parameterPaths.length > 0,
      includeConfigMaps: settings.configMaps.length > 0,
      retentionDays: props.reportBucket ? null : settings.retentionDays,
    };
  }

  /**
   * Drifts found by a scan (an item whose value and metadata both differ counts twice; scan failures count).
   *
   * @default - Maximum over 1 hour, all resource types and replica regions
   */
  public metricDriftCount(props?: DriftMetricOptions): cloudwatch.Metric {
    return this.metric(DriftMetric.DRIFT_COUNT, props, true);
  }

  /**
   * 1 when a scan found any drift, else 0.
   *
   * @default - Maximum over 1 hour, all resource types and replica regions
   */
  public metricHasDrift(props?: DriftMetricOptions): cloudwatch.Metric {
    return this.metric(DriftMetric.HAS_DRIFT, props, true);
  }

  /**
   * Regions, clusters or items a scan could not read.
   *
   * @default - Maximum over 1 hour
   */
  public metricScanFailures(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric(DriftMetric.SCAN_FAILURES, props);
  }

  /**
   * Items compared by a scan ((item, replica region) pairs).
   *
   * @default - Maximum over 1 hour
   */
  public metricItemsCompared(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric(DriftMetric.ITEMS_COMPARED, props);
  }

  /**
   * Items a scan deferred because they changed in the primary within the grace window.
   *
   * @default - Maximum over 1 hour
   */
  public metricDeferredItems(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric(DriftMetric.DEFERRED_ITEMS, props);
  }

  /**
   * Drifted items auto-remediation repaired (emitted only with auto-remediation on).
   *
   * @default - Sum over 1 hour
   */
  public metricRemediatedItems(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric(DriftMetric.REMEDIATED_ITEMS, { statistic: cloudwatch.Stats.SUM, ...props });
  }

  /**
   * Drifted items auto-remediation could not repair (emitted only with auto-remediation on).
   *
   * @default - Maximum over 1 hour
   */
  public metricRemediationFailures(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric(DriftMetric.REMEDIATION_FAILURES, props);
  }

  /**
   * (item, replica region) pairs an invocation of the handler compared. A scan that needs longer
   * than one invocation works in several, each reporting its own share; they add up to the scan's
   * `metricItemsCompared()`.
   *
   * @default - Sum over 1 hour
   */
  public metricItemsProcessed(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.runMetric(RunMetric.ITEMS_PROCESSED, cloudwatch.Stats.SUM, cloudwatch.Unit.COUNT, props);
  }

  /**
   * 1 for an invocation that stopped before its timeout with scopes left and handed them to the
   * next invocation, 0 for one that completed the scan (and wrote its report).
   *
   * @default - Maximum over 1 hour
   */
  public metricRunPartial(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.runMetric(RunMetric.RUN_PARTIAL, cloudwatch.Stats.MAXIMUM, cloudwatch.Unit.COUNT, props);
  }

  /**
   * Seconds the scopes not yet compared have been waiting: since the scan that still has them
   * started (0 when an invocation completed a scan).
   *
   * @default - Maximum over 1 hour
   */
  public metricOldestUnprocessedItemAge(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.runMetric(RunMetric.OLDEST_UNPROCESSED_ITEM_AGE, cloudwatch.Stats.MAXIMUM, cloudwatch.Unit.SECONDS, props);
  }

  private runMetric(metricName: string, statistic: string, unit: cloudwatch.Unit, options?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return handlerMetric({
      namespace: this.metricNamespace,
      serviceName: this.serviceName,
      metricName,
      statistic,
      unit,
      defaultPeriod: DEFAULT_DRIFT_METRIC_PERIOD,
      options,
    });
  }


  /**
   * Widgets of this construct for a CloudWatch dashboard, as rows 24 units wide: a header naming it,
   * the latest scan's drift status and drifted items per replica region and resource type, items compared, deferred and unreadable, and auto-remediation, its handler's invocations, errors and duration, and the status of `alarms`.
   *
   * Add them in one call: `dashboard.addWidgets(...x.dashboardWidgets())`. They are built only from
   * the `metricXxx()` methods, the handler's metrics and `alarms`. The metrics carry this stack's
   * region and account, but the handler graph and the alarm status need a dashboard in this stack's
   * region and account; for a dashboard elsewhere use `CrossRegionConfigDashboard`, which leaves
   * them out there.
   */
  public dashboardWidgets(options: DashboardWidgetOptions = {}): cloudwatch.IWidget[] {
    return driftDetectorDashboardWidgets(this, options);
  }
  /** Adds actions to every alarm of this construct, including alarms created later. */
  public addAlarmAction(...actions: cloudwatch.IAlarmAction[]): void {
    this.alarmSet.addAlarmAction(...actions);
  }

  /**
   * Grants `grantee` permission to run a scan now (`lambda:InvokeFunction` on the handler, with
   * `{"action":"manual_check"}`).
   */
  public grantInvoke(grantee: iam.IGrantable): iam.Grant {
    return this.handler.grantInvoke(grantee);
  }

  /**
   * Grants `grantee` permission to read the reports: `s3:GetObject*` on the objects under
   * `reportPrefix`, and `s3:GetBucket*` and `s3:List*` on the report bucket.
   */
  public grantReadReports(grantee: iam.IGrantable): iam.Grant {
    return this.reportBucket.grantRead(grantee, `${this.reportPrefix}*`);
  }

  private metric(name: string, props: DriftMetricOptions | undefined, split = false): cloudwatch.Metric {
    const { resourceType, replicaRegion, ...options } = props ?? {};
    if (!split && (resourceType !== undefined || replicaRegion !== undefined)) {
      failIn(this, `metric${name} props`, 'must not set resourceType or replicaRegion (only DriftCount and HasDrift have them)', { resourceType, replicaRegion });
    }
    if (resourceType !== undefined && replicaRegion !== undefined) {
      failIn(this, 'DriftMetricOptions', 'must set at most one of resourceType and replicaRegion', { resourceType, replicaRegion });
    }
    if (resourceType !== undefined && !Token.isUnresolved(resourceType) && !this.resourceTypes.includes(resourceType)) {
      failIn(this, 'DriftMetricOptions.resourceType', `must be one of the compared resource types ${JSON.stringify(this.resourceTypes)}`, resourceType);
    }
    if (replicaRegion !== undefined && !Token.isUnresolved(replicaRegion) && !this.replicaRegions.includes(replicaRegion)) {
      failIn(this, 'DriftMetricOptions.replicaRegion', `must be one of the replica regions ${JSON.stringify(this.replicaRegions)}`, replicaRegion);
    }
    return driftMetric({
      namespace: this.metricNamespace,
      serviceName: this.serviceName,
      metricName: name,
      statistic: options.statistic ?? cloudwatch.Stats.MAXIMUM,
      resourceType,
      replicaRegion,
      options: { period: DEFAULT_DRIFT_METRIC_PERIOD, ...options },
    });
  }

  private createReportBucket(retention: Duration): s3.Bucket {
    const bucket = new s3.Bucket(this, 'ReportBucket', {
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      versioned: false,
      lifecycleRules: [{ id: 'ExpireReports', expiration: retention, abortIncompleteMultipartUploadAfter: Duration.days(1) }],
      removalPolicy: RemovalPolicy.RETAIN,
    });
    acknowledgeNagFindings(bucket, {
      id: 'AwsSolutions-S1',
      reason: 'The bucket holds only the drift detector\'s own reports, written by one role; CloudTrail data events (not server access logs) are the '
        + 'audit trail to use if one is needed. Pass reportBucket to use a bucket with access logging.',
    }, {
      id: `${NIST_800_53_R5}-S3BucketLoggingEnabled`,
      reason: 'The bucket holds only the drift detector\'s own reports, written by its one role; CloudTrail data events are the audit trail to use '
        + 'if one is needed. Pass reportBucket to use a bucket with server access logging.',
    }, {
      id: `${NIST_800_53_R5}-S3BucketVersioningEnabled`,
      reason: 'Each scan writes a new report under a new key and the lifecycle rule expires reports after reportRetention; no object is '
        + 'overwritten, so versions would only keep expired reports. Pass reportBucket to use a versioned bucket.',
    }, {
      id: `${NIST_800_53_R5}-S3BucketReplicationEnabled`,
      reason: 'Reports are derived data, rebuilt by the next scan; the drift detector in each primary region writes its own. Pass reportBucket '
        + 'to use a replicated bucket.',
    }, {
      id: `${NIST_800_53_R5}-S3DefaultEncryptionKMS`,
      reason: 'Reports name secrets, parameters and regions and carry no secret or configuration value (only hashes); SSE-S3 encrypts them at rest. '
        + 'Pass reportBucket to use a bucket encrypted with a KMS key.',
    });
    return bucket;
  }

  private grantHandlerPermissions(options: {
    selection?: BoundSelection;
    replicaRegions: string[];
    parameterPaths: string[];
    remediation: DriftRemediation;
    kmsByRegion: Map<string, ReplicaKmsKey>;
    sourceEncryptionKeys: kms.IKey[];
    encryptionKeyArns: string[];
    wildcards: Map<string, string>;
    /** The replicator's deployment id: replicas selected by tags are read by it. */
    replicatorDeploymentId?: string;
  }): void {
    const { selection, replicaRegions, parameterPaths, remediation, wildcards } = options;
    const primary = this.primaryRegion;
    const stack = Stack.of(this);
    const repairs = remediation === DriftRemediation.APPLY;
    const add = (statement: iam.PolicyStatement, reason: string) => {
      this.role.addToPrincipalPolicy(statement);
      for (const resource of statement.resources) wildcards.set(resource, reason);
    };
    const allRegions = [primary, ...replicaRegions];

    if (selection) {
      const prefixReason = 'The selection includes secrets by name prefix or tags: reads are limited to names starting with the prefix, '
        + 'or to secrets carrying every selected tag (secretsmanager:ResourceTag conditions).';
      for (const s of selection.primaryReadStatements(primary, SECRET_READ_ACTIONS)) add(s, prefixReason);
      for (const region of replicaRegions) {
        const replicaReads = selection.replicaReadStatements(
          region, primary, SECRET_READ_ACTIONS, ProvenanceTag.SOURCE_REGION, options.replicatorDeploymentId);
        for (const s of replicaReads) {
          add(s, options.replicatorDeploymentId !== undefined
            ? `${prefixReason} Replicas of secrets selected by tags are read by the replicator's provenance tags `
              + `${ProvenanceTag.SOURCE_REGION}=${primary} and ${ProvenanceTag.DEPLOYMENT} instead.`
            : prefixReason);
        }
      }
      this.role.addToPrincipalPolicy(new iam.PolicyStatement({
        actions: UNSCOPED_SECRETS_ACTIONS,
        resources: ['*'],
        conditions: { StringEquals: { 'aws:RequestedRegion': allRegions } },
      }));
      if (this.provenanceKey && remediation !== DriftRemediation.OFF) this.provenanceKey.grantRead(this.role);
      if (repairs) {
        const reason = 'Auto-remediation writes the selected secrets in the replica regions: limited to the selected names and prefixes.';
        const named = replicaRegions.flatMap((region) => selection.replicaResources(region));
        if (named.length > 0) add(new iam.PolicyStatement({ actions: SECRET_REPAIR_ACTIONS, resources: named }), reason);
        if (this.deploymentId !== undefined && replicaRegions.length > 0) {
          const scopedReason = 'Auto-remediation writes replicas of secrets selected by tags (or whose names are only known at deploy time), '
            + `which cannot be named: creation is limited to requests that set the provenance tags ${ProvenanceTag.SOURCE_REGION}=${primary} and `
            + `${ProvenanceTag.DEPLOYMENT}=<the replicator's deployment>, tagging and describing without them to secrets no replicator manages `
            + '(the TagResource that CreateSecret with tags implies), and every other write to secrets carrying both tags.';
          for (const statement of selection.provenanceScopedWriteStatements(replicaRegions, primary, this.deploymentId, SECRET_REPAIR_ACTIONS)) {
            add(statement, scopedReason);
          }
        }
      }
      this.grantReplicaKeys(options.kmsByRegion, repairs, add);
    }

    // Customer managed keys of the primary: decrypt through Secrets Manager (secrets) and Parameter
    // Store (SecureString parameters under parameterPaths, such as the ones a ConfigMap syncer reads).
    const viaPrimary = [
      ...(selection ? [`secretsmanager.${primary}.${domainSuffixOf(primary)}`] : []),
      ...(parameterPaths.length > 0 ? [`ssm.${primary}.${domainSuffixOf(primary)}`] : []),
    ];
    if (options.sourceEncryptionKeys.length > 0 && viaPrimary.length > 0) {
      add(new iam.PolicyStatement({
        actions: ['kms:Decrypt'],
        resources: options.sourceEncryptionKeys.map((k) => k.keyArn),
        conditions: { StringEquals: { 'kms:ViaService': viaPrimary.length === 1 ? viaPrimary[0] : viaPrimary } },
      }), 'Source keys are named by ARN.');
    }

    if (parameterPaths.length > 0) {
      const reason = 'Parameters are compared recursively under each path: limited to the parameters below the given paths.';
      const resources = (regions: string[]) => regions.flatMap((region) => parameterPaths.flatMap((path) => [
        // `parameter` + the path (which starts with "/"): works for deploy-time paths too.
        stack.formatArn({ service: 'ssm', region, resource: `parameter${path}`, arnFormat: ArnFormat.NO_RESOURCE_NAME }),
        stack.formatArn({ service: 'ssm', region, resource: `parameter${path}/*`, arnFormat: ArnFormat.NO_RESOURCE_NAME }),
      ]));
      // GetParameter(s): the item-by-item fallback when one SecureString cannot be decrypted.
      add(new iam.PolicyStatement({ actions: ['ssm:GetParametersByPath', 'ssm:GetParameters', 'ssm:GetParameter'], resources: resources(allRegions) }), reason);
      if (repairs) {
        add(new iam.PolicyStatement({ actions: ['ssm:PutParameter', 'ssm:AddTagsToResource'], resources: resources(replicaRegions) }),
          'Auto-remediation rewrites drifted parameters in the replica regions: limited to the parameters below the given paths.');
      }
    }

    if (options.encryptionKeyArns.length > 0) {
      add(new iam.PolicyStatement({
        actions: repairs ? ['kms:Decrypt', 'kms:Encrypt', 'kms:GenerateDataKey'] : ['kms:Decrypt'],
        resources: options.encryptionKeyArns,
        conditions: { StringLike: { 'kms:ViaService': ['secretsmanager.*', 'ssm.*'] } },
      }), 'Keys are named by ARN.');
    }

    // PutObject alone: grantPut() would add s3:Abort*, which the handler's single-part uploads never need.
    add(new iam.PolicyStatement({ actions: ['s3:PutObject'], resources: [this.reportBucket.arnForObjects(`${this.reportPrefix}*`)] }),
      'Reports are written under the report prefix with a dated key per scan: limited to that prefix of the report bucket.');
    this.reportBucket.encryptionKey?.grantEncrypt(this.role);
  }

  /**
   * Replica keys: decrypt (reading values), plus encrypt with remediation, only through Secrets
   * Manager in the key's region; DescribeKey to compare a replica's key given in another form
   * (alias or ARN) than the expected one.
   */
  private grantReplicaKeys(
    keys: Map<string, ReplicaKmsKey>, repairs: boolean, add: (statement: iam.PolicyStatement, reason: string) => void,
  ): void {
    const actions = repairs ? ['kms:Decrypt', 'kms:Encrypt', 'kms:GenerateDataKey'] : ['kms:Decrypt'];
    const stack = Stack.of(this);
    for (const [region, key] of keys) {
      if (key.aliasName === SECRETS_MANAGER_MANAGED_ALIAS) continue;
      const viaService = { 'kms:ViaService': `secretsmanager.${region}.${domainSuffixOf(region)}` };
      const anyKey = stack.formatArn({ service: 'kms', region, resource: 'key', resourceName: '*' });
      if (key.keyArn) {
        add(new iam.PolicyStatement({ actions, resources: [key.keyArn], conditions: { StringEquals: viaService } }), 'Replica keys are named by ARN.');
      } else {
        add(new iam.PolicyStatement({
          actions,
          resources: [anyKey],
          conditions: { 'ForAnyValue:StringEquals': { 'kms:ResourceAliases': key.aliasName }, 'StringEquals': viaService },
        }), `The replica key in ${region} is named by its alias ${key.aliasName}: limited to keys carrying that alias, used through Secrets Manager.`);
      }
      add(new iam.PolicyStatement({ actions: ['kms:DescribeKey'], resources: [anyKey] }),
        `A replica in ${region} may name its key by ARN, key id, alias or alias ARN: DescribeKey (metadata only, no key material) resolves `
        + 'the form that differs from the expected key before reporting a KMS key mismatch.');
    }
  }

  private acknowledgeNagFindings(wildcards: Map<string, string>): void {
    wildcards.set('*', `Resource "*" is only used for actions that support no resource-level permissions: ${[...TRACING_ACTIONS, ...UNSCOPED_SECRETS_ACTIONS].join(', ')}; `
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
    if (this.provenanceKey instanceof secretsmanager.Secret && this.provenanceKey.node.scope === this) {
      const rotation = 'The provenance key is the HMAC key behind the content-hash tags auto-remediation writes on replicas; rotating it only forces one '
        + 'extra copy of every replica and adds no protection. It never leaves the handler and guards no resource.';
      acknowledgeNagFindings(this.provenanceKey,
        { id: 'AwsSolutions-SMG4', reason: rotation },
        { id: `${NIST_800_53_R5}-SecretsManagerRotationEnabled`, reason: rotation },
        { id: `${NIST_800_53_R5}-SecretsManagerUsingKMSKey`, reason: PROVENANCE_KEY_ENCRYPTION_REASON });
    }
  }
}

/** Validated ConfigMap scope with defaults applied. */
interface ResolvedConfigMapScope {
  readonly primaryCluster: KubernetesCluster;
  readonly replicaClusters: KubernetesCluster[];
  readonly namespace: string;
  readonly names: string[];
}

function validateConfigMapScopes(scopes: ConfigMapDriftScope[], primary: string): ResolvedConfigMapScope[] {
  return scopes.map((s, i) => {
    const prop = `configMaps[${i}]`;
    validateStructKeys(prop, 'ConfigMapDriftScope', s, CONFIG_MAP_SCOPE_MEMBERS);
    if (!Token.isUnresolved(s.primaryCluster.region) && s.primaryCluster.region !== primary) {
      fail(`${prop}.primaryCluster`, `must be in the primary region ${primary}`, `${s.primaryCluster.clusterName} in ${s.primaryCluster.region}`);
    }
    validateNotEmpty(`${prop}.replicaClusters`, s.replicaClusters);
    const keys = s.replicaClusters.map((c) => `${c.region}/${c.clusterName}`);
    validateDistinct(`${prop}.replicaClusters`, keys);
    if (keys.includes(`${s.primaryCluster.region}/${s.primaryCluster.clusterName}`)) {
      fail(`${prop}.replicaClusters`, 'must not contain the primary cluster', keys);
    }
    for (const c of s.replicaClusters) validateSamePartition(`${prop}.replicaClusters`, c.region, primary, true);
    const namespace = s.namespace ?? 'default';
    if (!Token.isUnresolved(namespace)) {
      validateLength(`${prop}.namespace`, namespace, 1, 63);
      validatePattern(`${prop}.namespace`, namespace, DNS_LABEL_PATTERN, 'must be a DNS-1123 label: lowercase letters, digits and "-", starting and ending with a letter or digit');
    }
    validateNotEmpty(`${prop}.names`, s.names);
    validateDistinct(`${prop}.names`, s.names);
    for (const name of s.names) {
      if (Token.isUnresolved(name)) continue;
      validateLength(`${prop}.names`, name, 1, 253);
      validatePattern(`${prop}.names`, name, DNS_SUBDOMAIN_PATTERN, 'must be DNS-1123 subdomains: lowercase letters, digits, "-" and ".", starting and ending with a letter or digit');
    }
    return { primaryCluster: s.primaryCluster, replicaClusters: s.replicaClusters, namespace, names: s.names };
  });
}

function validateParameterPaths(paths: string[]): void {
  validateDistinct('parameterPaths', paths);
  for (const path of paths) {
    if (Token.isUnresolved(path)) continue;
    validatePattern('parameterPaths', path, PARAMETER_PATH_PATTERN,
      'must be paths of "/"-separated segments of the characters A-Z a-z 0-9 _ . -, starting with "/" and not ending with "/", such as "/my-app/production"');
    if (/^\/(aws|ssm)(\/|$)/i.test(path)) fail('parameterPaths', 'must not be under the reserved "/aws" or "/ssm"', path);
    validateOutsideSettingsRoot('parameterPaths', path);
  }
  for (const a of paths) {
    for (const b of paths) {
      if (a !== b && b.startsWith(`${a}/`)) fail('parameterPaths', `must not overlap (each is scanned recursively), but ${JSON.stringify(b)} is under`, a);
    }
  }
}

function validateTagKeys(keys: string[]): void {
  validateDistinct('comparedTagKeys', keys);
  for (const key of keys) validateLength('comparedTagKeys', key, 1, 128);
}

function validateReportPrefix(prefix: string): void {
  if (Token.isUnresolved(prefix)) return;
  validateLength('reportPrefix', prefix, 0, 512);
  validatePattern('reportPrefix', prefix, REPORT_PREFIX_PATTERN,
    'must be empty or "/"-terminated segments of the characters A-Z a-z 0-9 ! _ . * \' ( ) -, such as "drift-reports/"');
}


/** The scan alarms' period: the schedule's rate, within CloudWatch's bounds; one hour for cron schedules. */
function alarmPeriod(schedule: events.Schedule): Duration {
  const seconds = rateSeconds(schedule);
  if (seconds === undefined) return DEFAULT_DRIFT_METRIC_PERIOD;
  return Duration.seconds(Math.min(MAX_ALARM_PERIOD_SECONDS, Math.max(MIN_ALARM_PERIOD_SECONDS, seconds)));
}

/** The settings parameters the library writes that a scan of `parameterPaths` must not compare; `undefined` when none. */
function excludedParameters(own: string | undefined, ...replicatorParameters: Array<ssm.StringParameter | undefined>): string[] | undefined {
  const names = [...(own ? [own] : []), ...replicatorParameters.flatMap((p) => (p ? [p.parameterName] : []))];
  return names.length > 0 ? names : undefined;
}

/** Whether parameter `name` is below `path` (scanned recursively); a token path covers every name. */
function isUnder(name: string, path: string): boolean {
  return Token.isUnresolved(path) || name.startsWith(`${path}/`);
}
