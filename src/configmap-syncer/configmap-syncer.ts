import { Annotations, ArnFormat, CfnResource, Duration, Stack, Token } from 'aws-cdk-lib';
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
import { createRolloutAlarm, createSyncAlarms } from './alarms';
import { RolloutMetric, SyncEnv, SyncMetric, SyncTargetConfig, WorkloadSelectorConfig } from './contract';
import { syncerDashboardWidgets } from './dashboard';
import { KubernetesPermissions } from './kubernetes-permissions';
import { ConfigMapSyncMetricOptions } from './metric-options';
import { clusterDimension, DEFAULT_SYNC_METRIC_PERIOD, syncMetric } from './metrics';
import { bindWorkloads, rolloutConfig } from './rollout-config';
import { ConfigMapRolloutOptions, WorkloadSelection } from './rollout-options';
import { globMatchesOnlySensitiveNames, isSensitiveName } from './sensitive-names';
import { SyncerFunction } from './syncer-function';
import { NamespaceUse, syncerRbacObjects, toYamlStream, validateKubernetesGroup } from './syncer-rbac';
import { AlarmSet } from '../core/alarms';
import { BundledHandler, explicitRegion, HandlerConfiguration } from '../core/bundled-handler';
import { DashboardWidgetOptions } from '../core/dashboard-options';
import { addFullPassAgeAlarm } from '../core/full-pass-alarm';
import { fullSyncAlarmThreshold } from '../core/full-sync-threshold';
import { HandlerOptions } from '../core/handler-options';
import { TRACING_ACTIONS } from '../core/hardened-function';
import { bindKubernetesCluster, BoundKubernetesCluster, KubernetesAccessLevel } from '../core/kubernetes-access';
import { KubernetesCluster } from '../core/kubernetes-cluster';
import { acknowledgeNagFindings, flattenReference, wildcardResourceFinding } from '../core/nag';
import { RunMetric } from '../core/run-contract';
import { grantRunHandOver } from '../core/run-handover';
import { SECRET_EVENT_NAMES } from '../core/secrets-contract';
import { handlerMetric } from '../private/metrics';
import { readQuietly } from '../private/quiet-read';
import { intervalLabel, validateScheduleInterval } from '../private/schedule';
import { claimParameterName } from '../private/uniqueness';
import {
  domainSuffixOf, fail, failIn, validateDistinct, validateLength, validateMetricNamespace, validateNotEmpty, validateOutsideSettingsRoot,
  validateParameterPrefix, validatePattern, validateStructKeys, validationScope, structMembers, WARNING,
} from '../private/validation';

/** The default sizing of the handler: 256 MiB and a 5-minute timeout. */
const DEFAULT_MEMORY_MIB = 256;
const DEFAULT_TIMEOUT = Duration.minutes(5);
/** The default sync interval: every five minutes. */
const DEFAULT_SCHEDULE = events.Schedule.rate(Duration.minutes(5));
const DEFAULT_METRIC_NAMESPACE = 'CrossRegionConfig/ConfigMapSync';
const DEFAULT_NAMESPACE = 'default';
/** Kubernetes limits: namespaces are DNS-1123 labels (63 characters), ConfigMap names and keys 253 characters. */
const MAX_NAMESPACE_LENGTH = 63;
const MAX_CONFIGMAP_NAME_LENGTH = 253;
const MAX_KEY_LENGTH = 253;
/** Id of the warning that asks an operator for the cluster-scoped grant `createNamespace` needs. */
const NAMESPACE_GRANT_WARNING = `${WARNING}namespaceCreationNeedsClusterGrant`;
/** Id of the warning that asks an operator to apply the Roles of `KubernetesPermissions.rbac()`. */
const RBAC_SETUP_WARNING = `${WARNING}kubernetesRbacToApply`;

const PARAMETER_PATH_PATTERN = /^(\/[A-Za-z0-9_.-]+)+$/;
const DNS_LABEL_PATTERN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS_SUBDOMAIN_PATTERN = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;
const DNS_LABEL_ALLOWED = 'must be a DNS-1123 label: lowercase letters, digits and "-", starting and ending with a letter or digit';
const DNS_SUBDOMAIN_ALLOWED = 'must be a DNS-1123 subdomain: lowercase letters, digits, "-" and ".", starting and ending with a letter or digit';
/** ConfigMap key characters, plus the glob wildcards `*` and `?`. */
const KEY_PATTERN = /^[-._a-zA-Z0-9*?]+$/;

/**
 * Kubernetes group the handler's access entry carries when a target creates its namespace; the
 * ClusterRole of the same purpose is bound to it. No EKS access policy grants namespace creation
 * without also granting far more, cluster-wide.
 */
const NAMESPACE_CREATOR_GROUP = 'cross-region-config-namespace-creators';
const NAMESPACE_CREATOR_ROLE = 'cross-region-config-namespace-creator';
/** The members of `ConfigMapSyncTarget`: any other key of a target (a Python dict's `config_map_name`) fails. */
const TARGET_MEMBERS = structMembers<ConfigMapSyncTarget>({
  cluster: true, namespace: true, configMapName: true, createNamespace: true, workloads: true,
});

/**
 * One ConfigMap the syncer keeps in sync with the source: a cluster, a namespace and a name.
 */
export interface ConfigMapSyncTarget {
  /**
   * The EKS cluster, in any region of the stack's partition. For a cluster of this app in this
   * stack's region and account the syncer creates the EKS access entry of its role; for others it
   * reports the commands to run once (see `ConfigMapSyncer.clusterAccessCommands`).
   */
  readonly cluster: KubernetesCluster;

  /**
   * Namespace of the ConfigMap.
   *
   * @default - the syncer's `namespace`, which defaults to 'default'
   */
  readonly namespace?: string;

  /**
   * Name of the ConfigMap.
   *
   * @default - the syncer's `configMapName`, or `<projectName>-<environmentName>-config`
   */
  readonly configMapName?: string;

  /**
   * Create the namespace when it does not exist. This needs a cluster-scoped grant that no EKS access
   * policy gives without far more: the syncer warns with the `kubectl` commands that grant it (also
   * in `ConfigMapSyncer.clusterAccessCommands`), and puts its access entry in the Kubernetes group
   * `cross-region-config-namespace-creators` those commands bind.
   *
   * @default false
   */
  readonly createNamespace?: boolean;

  /**
   * Workloads in the namespace whose pods read this ConfigMap. When a sync changes its data, the
   * handler changes an annotation of their pod template (server-side apply under its own field
   * manager), which starts an ordinary rolling update, in waves across regions (see `rollout`).
   * Nothing restarts while the data stays the same; a workload seen for the first time is recorded
   * as up to date without a restart. See README, "Rolling workloads".
   *
   * @default - no workload is rolled
   */
  readonly workloads?: WorkloadSelection[];
}

/**
 * Props of `ConfigMapSyncer`.
 */
export interface ConfigMapSyncerProps extends HandlerOptions {
  /**
   * SSM parameter path in the primary region (this stack's region) read recursively: every
   * parameter below it is a key of the ConfigMaps (`String`, `StringList` and `SecureString`,
   * decrypted in memory). Set this, `sourceSecret`, or both.
   *
   * @default - parameters are not a source
   */
  readonly parameterPath?: string;

  /**
   * Secret in the primary region whose value is a JSON object: each of its keys is a key of the
   * ConfigMaps (keys in both sources take the secret's value). Set this, `parameterPath`, or both.
   *
   * @default - no secret is a source
   */
  readonly sourceSecret?: secretsmanager.ISecret;

  /**
   * Customer managed KMS keys, in the primary region, that encrypt `SecureString` parameters under
   * `parameterPath` or `sourceSecret`. The handler may decrypt with them only through Systems
   * Manager and Secrets Manager in the primary region. The key of a `secretsmanager.Secret` is
   * granted without being listed here.
   *
   * @default - none: values encrypted with the AWS managed keys need no KMS permission
   */
  readonly sourceEncryptionKeys?: kms.IKey[];

  /**
   * The ConfigMaps kept in sync; at least one, each (cluster, namespace, name) once.
   */
  readonly targets: ConfigMapSyncTarget[];

  /**
   * Namespace of every target that names none.
   *
   * @default 'default'
   */
  readonly namespace?: string;

  /**
   * Name of the ConfigMap of every target that names none.
   *
   * @default - `<projectName>-<environmentName>-config`, the name of the Parameter Store document layout; with neither set, every target must name its ConfigMap
   */
  readonly configMapName?: string;

  /**
   * Project part of the default ConfigMap name `<projectName>-<environmentName>-config`. Set
   * together with `environmentName`.
   *
   * @default - no default name from the project
   */
  readonly projectName?: string;

  /**
   * Environment part of the default ConfigMap name `<projectName>-<environmentName>-config`, such as
   * `production`. Set together with `projectName`.
   *
   * @default - no default name from the environment
   */
  readonly environmentName?: string;

  /**
   * Keys synced: ConfigMap key names and glob patterns (`*` any characters, `?` one character), such
   * as `['log_level', 'cache_ttl', 'max_connections', 'session_timeout']`. Keys of the source that
   * match none are not synced.
   *
   * While `excludeSensitiveKeys` is true, a key whose name looks sensitive (such as `db_password`) is
   * never synced, so naming one fails synth; a pattern that can only match such names warns.
   *
   * @default - every key of the source
   */
  readonly includeKeys?: string[];

  /**
   * Refuse keys whose names or values look sensitive (passwords, tokens, private keys): they are
   * never written to a ConfigMap, and counted in `KeysExcluded`. ConfigMaps are not encrypted and
   * readable by anyone who may read the namespace, so only turn this off for a source that holds no
   * secret at all.
   *
   * @default true
   */
  readonly excludeSensitiveKeys?: boolean;

  /**
   * Take over keys another field manager owns (server-side apply with `force`). Without it, a key
   * another manager (such as `kubectl` or Helm) owns is a conflict: the ConfigMap is not written, and
   * the failure is logged and counted in `SyncFailure`.
   *
   * @default false
   */
  readonly forceConflicts?: boolean;

  /**
   * How the handler is authorized in the target clusters. `KubernetesPermissions.accessPolicy()`
   * associates `AmazonEKSEditPolicy`, scoped to the target namespaces, with its access entries: it
   * may edit any ConfigMap and workload there. `KubernetesPermissions.rbac()` puts the access entries
   * in a Kubernetes group without an access policy, and generates a Role per target namespace that
   * allows only what the handler does there (`rbacManifests()`), for you to apply in each cluster.
   *
   * @default KubernetesPermissions.accessPolicy()
   */
  readonly kubernetesPermissions?: KubernetesPermissions;

  /**
   * How the workloads of the targets (`ConfigMapSyncTarget.workloads`) are rolled: clusters of the
   * primary region first, then the others; a pause that makes several changes one rollout; the
   * timeout of a rollout. Only used when a target names workloads.
   *
   * @default - every other region at once after the primary region, a 30-second pause, a 10-minute rollout timeout
   */
  readonly rollout?: ConfigMapRolloutOptions;

  /**
   * When to sync every target, in addition to the syncs parameter and secret changes trigger.
   *
   * Runs at most once every 5 minutes: a sync may take the handler's default timeout, and
   * overlapping syncs apply the same ConfigMaps twice. A `rate(...)` or `cron(...)` schedule that
   * runs more often fails synth.
   *
   * @default events.Schedule.rate(Duration.minutes(5))
   */
  readonly schedule?: events.Schedule;

  /**
   * How long the syncer may go without a complete sync before `fullPassAgeAlarm` goes off. Whole
   * minutes, from 10 minutes to 1 day. A sync larger than one invocation hands the rest over and
   * completes in a later invocation; this alarm goes off when none completes in time.
   *
   * @default - twice the longest gap between two runs of `schedule` (10 minutes with the default
   * schedule), at most 1 day
   */
  readonly fullPassAlarmThreshold?: Duration;

  /**
   * When set, a Systems Manager parameter named `<parameterPrefix>/global/secrets/configmap-sync-config`
   * holds the syncer's settings as JSON in the Parameter Store document layout. It must not be under `parameterPath`.
   *
   * @default - no parameter
   */
  readonly parameterPrefix?: string;

  /**
   * CloudWatch namespace of the handler's metrics.
   *
   * @default 'CrossRegionConfig/ConfigMapSync'
   */
  readonly metricNamespace?: string;

  /**
   * Create the alarms (`syncFailuresAlarm`, `fullPassAgeAlarm`, `errorsAlarm`, `throttlesAlarm`, `deadLetterAlarm`).
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
   * @default 256
   */
  readonly memorySize?: number;

  /**
   * Timeout of one sync of every target.
   *
   * @default Duration.minutes(5)
   */
  readonly timeout?: Duration;
}

/**
 * Syncs configuration from SSM parameters and/or a secret in the primary region to Kubernetes
 * ConfigMaps in EKS clusters of any region, without an agent in the clusters.
 *
 * A Lambda handler reads the keys of the source (the parameters under `parameterPath`, the JSON keys
 * of `sourceSecret`), keeps those selected by `includeKeys` and refuses sensitive-looking ones, and
 * writes each target ConfigMap with server-side apply under the field manager `cross-region-config`.
 * A key another field manager owns is reported as a conflict, not taken over, unless `forceConflicts`
 * is set. It syncs on parameter and secret change events, on a schedule (every five minutes by
 * default) and on `{"action":"sync"}`; `{"action":"test_sync"}` shows what would change (a server-side
 * dry run). It emits `SyncSuccess`, `SyncFailure` and `KeysExcluded` in total and per cluster, and
 * raises `syncFailuresAlarm`. A target may name the workloads that read its ConfigMap
 * (`workloads`): when the data changes they are rolled, the primary region's clusters first (see
 * `rollout`).
 *
 * The handler reaches each cluster with its IAM role through an EKS access entry with the
 * namespace-scoped `AmazonEKSEditPolicy` (or, with `KubernetesPermissions.rbac()`, a Kubernetes
 * group bound to the least-privilege Roles of `rbacManifests()`): created by this construct for
 * clusters of this app in the stack's region and account, and otherwise listed in
 * `clusterAccessCommands` (and a warning) to run once. The cluster's authentication mode must be
 * `API` or `API_AND_CONFIG_MAP`.
 *
 * @example
 * declare const cluster: eks.ICluster;
 * declare const appSecret: secretsmanager.ISecret;
 * const syncer = new ConfigMapSyncer(this, 'ConfigMapSyncer', {
 *   parameterPath: '/my-app/production/config',
 *   sourceSecret: appSecret,
 *   projectName: 'my-app',
 *   environmentName: 'production',
 *   includeKeys: ['log_level', 'cache_ttl', 'max_connections', 'session_timeout'],
 *   targets: [
 *     { cluster: KubernetesCluster.fromCluster(cluster) },
 *     {
 *       cluster: KubernetesCluster.fromClusterAttributes({ clusterName: 'my-app-eu', region: 'eu-west-1' }),
 *       namespace: 'my-app',
 *       createNamespace: true,
 *     },
 *   ],
 * });
 * new CfnOutput(this, 'ClusterAccessCommands', { value: syncer.clusterAccessCommands.join('\n') });
 */
export class ConfigMapSyncer extends Construct {
  /** Region of the source: this stack's region. */
  public readonly primaryRegion: string;

  /**
   * Value of the `service` dimension of the handler's metrics (also `POWERTOOLS_SERVICE_NAME`);
   * unique to this construct and stable across deployments.
   */
  public readonly serviceName: string;

  /** CloudWatch namespace of the handler's metrics (`metricNamespace` prop). */
  public readonly metricNamespace: string;

  /** The Lambda function that syncs. */
  public readonly handler: lambda.Function;

  /**
   * Parameters of the handler's settings document; empty while every setting fits in Lambda's 4 KB environment.
   *
   * Settings that outgrow the environment (README, "Large configurations") are written here by
   * CloudFormation, versioned with the deployment, and read by the handler at cold start.
   */
  public readonly settingsParameters: ssm.IStringParameter[];

  /** Execution role of the handler: reads the source, and is the principal of the EKS access entries. */
  public readonly role: iam.Role;

  /** Log group of the handler (JSON logs; values are never logged). */
  public readonly logGroup: logs.LogGroup;

  /** Dead-letter queue of syncs (scheduled or event-driven) that failed after two retries; kept for 14 days. */
  public readonly deadLetterQueue: sqs.Queue;

  /** EventBridge rule that invokes the handler with `{"action":"sync"}` on `schedule`. */
  public readonly schedule: events.Rule;

  /**
   * EventBridge rule that sends the "Parameter Store Change" events of `parameterPath` (the path and
   * every parameter below it) to the handler; set only when `parameterPath` is set.
   */
  public readonly parameterRule?: events.Rule;

  /**
   * EventBridge rule that sends the Secrets Manager change events of `sourceSecret` (CloudTrail API
   * calls and the rotation service event) to the handler; set only when `sourceSecret` is set.
   * EventBridge only receives them when a CloudTrail trail logs management events in the region;
   * the schedule syncs without them.
   */
  public readonly secretRule?: events.Rule;

  /** The settings parameter; set only when `parameterPrefix` is set. */
  public readonly configParameter?: ssm.StringParameter;

  /**
   * Commands to run once, one string per cluster: AWS CLI commands that create the access entry of
   * clusters this construct could not grant itself (in other regions or accounts, or known only by
   * name), for targets with `createNamespace`, the `kubectl` commands of the cluster-scoped
   * namespace grant, and with `KubernetesPermissions.rbac()`, the `kubectl` commands that apply
   * `rbacManifests()` to every target cluster. May contain the role ARN as a token (it resolves in a `CfnOutput`). Empty when
   * nothing is left to do.
   */
  public readonly clusterAccessCommands: string[];

  /** Every alarm of this construct; empty when `createAlarms` is false. */
  public readonly alarms: cloudwatch.IAlarm[];

  /** ConfigMaps that could not be synced (`SyncFailure` Sum ≥ 1 in 5 minutes); undefined when `createAlarms` is false. */
  public readonly syncFailuresAlarm?: cloudwatch.IAlarm;

  /** Handler errors (Sum ≥ 1 in 5 minutes); undefined when `createAlarms` is false. */
  public readonly errorsAlarm?: cloudwatch.IAlarm;

  /** Handler throttles (Sum ≥ 1 in 5 minutes); undefined when `createAlarms` is false. */
  public readonly throttlesAlarm?: cloudwatch.IAlarm;

  /** Messages in the dead-letter queue (Maximum ≥ 1); undefined when `createAlarms` is false. */
  public readonly deadLetterAlarm?: cloudwatch.IAlarm;

  /**
   * Workload rollouts that failed or workloads that could not be rolled (`RolloutsFailed` Sum ≥ 1 in
   * 5 minutes); set only when a target names workloads and `createAlarms` is not false.
   */
  public readonly rolloutFailuresAlarm?: cloudwatch.IAlarm;

  /**
   * No sync completed within `fullPassAlarmThreshold` (missing data breaching: a schedule that
   * stopped, a failing handler, or a sync that hands over without end); undefined when
   * `createAlarms` is false.
   */
  public readonly fullPassAgeAlarm?: cloudwatch.IAlarm;

  /** True when a target names workloads: the handler rolls them, and the rollout metrics and widgets exist. */
  public readonly rollsWorkloads: boolean;

  /**
   * The Kubernetes group of the handler's access entries, bound by the Roles of `rbacManifests()`;
   * set only with `KubernetesPermissions.rbac()`.
   */
  public readonly kubernetesGroup?: string;

  /** What the handler does in each namespace of each target cluster, by `Cluster` dimension value. */
  private readonly namespaceUses = new Map<string, NamespaceUse[]>();

  private readonly alarmSet: AlarmSet;
  /** `Cluster` dimension values of the targets' clusters. */
  private readonly clusterDimensions: string[];

  /**
   * The configmap-sync-config document (in the Parameter Store document layout), written to `configParameter`.
   *
   * @internal
   */
  public readonly _configDocument: { [key: string]: any };

  /** The distinct clusters of `targets`; pass one as `cluster` to a `metricXxx()` method. */
  public readonly targetClusters: KubernetesCluster[];

  constructor(scope: Construct, id: string, props: ConfigMapSyncerProps) {
    super(scope, id);
    const validated = validationScope(this);
    // Ends the validation scope even when construction throws an error of another kind.
    try {
      this.primaryRegion = explicitRegion(this, 'ConfigMapSyncer');
      this.metricNamespace = props.metricNamespace ?? DEFAULT_METRIC_NAMESPACE;
      const schedule = props.schedule ?? DEFAULT_SCHEDULE;
      const configParameterName = this.validateProps(props, schedule);
      const resolvedTargets = resolveTargets(props);
      this.kubernetesGroup = this.rbacGroup(props.kubernetesPermissions, resolvedTargets);
      this.rollsWorkloads = resolvedTargets.some((t) => t.workloads !== undefined);
      if (props.rollout !== undefined && !this.rollsWorkloads) {
        fail('rollout', 'is only used when a target names workloads (targets[].workloads)', props.rollout);
      }

      const sources = [...(props.parameterPath !== undefined ? ['SSM parameters'] : []), ...(props.sourceSecret ? ['a secret'] : [])].join(' and ');
      const bundled = new BundledHandler(this, {
        options: props,
        description: `Syncs ${sources} of ${this.primaryRegion} to ${resolvedTargets.length} ConfigMap(s) in EKS clusters`,
        defaultMemoryMiB: DEFAULT_MEMORY_MIB,
        defaultTimeout: DEFAULT_TIMEOUT,
      });
      this.serviceName = bundled.serviceName;
      this.role = bundled.role;
      this.logGroup = bundled.logGroup;
      this.deadLetterQueue = bundled.deadLetterQueue;

      const { targetConfigs, clusters } = this.bindTargetClusters(resolvedTargets);
      this.clusterDimensions = [...clusters.keys()];
      this.targetClusters = [...clusters.values()].map((c) => c.cluster);
      this.clusterAccessCommands = this.setUpClusterAccess([...clusters.values()]);

      this.handler = bundled.createFunction(SyncerFunction, this.handlerConfiguration(props, targetConfigs));
      this.settingsParameters = bundled.settingsParameters;
      // A sync longer than one invocation hands the rest over to the next (README, "Large selections").
      grantRunHandOver(this, { handler: this.handler, role: this.role, serviceName: this.serviceName });
      const wildcards = new Map<string, string>();
      this.grantSourceRead(props, props.sourceEncryptionKeys ?? [], wildcards);

      this.schedule = new events.Rule(this, 'Schedule', {
        description: `Syncs every ConfigMap of the syncer ${this.node.path}`.slice(0, 512),
        schedule,
      });
      this.schedule.addTarget(bundled.target(events.RuleTargetInput.fromObject({ action: 'sync' })));
      this.parameterRule = this.createParameterRule(props.parameterPath, bundled);
      this.secretRule = this.createSecretRule(props.sourceSecret, bundled);

      this._configDocument = this.configDocument(props, schedule, resolvedTargets);
      this.configParameter = bundled.settingsParameter(configParameterName, `the ConfigMap syncer ${this.node.path}`, this._configDocument);

      this.alarmSet = bundled.alarmSet;
      const alarms = createSyncAlarms(this.alarmSet, {
        handler: this.handler,
        deadLetterQueue: this.deadLetterQueue,
        syncFailure: (o) => this.metricSyncFailure(o),
      });
      this.syncFailuresAlarm = alarms.syncFailuresAlarm;
      this.fullPassAgeAlarm = addFullPassAgeAlarm(this.alarmSet, (o) => this.metricRunPartial(o),
        fullSyncAlarmThreshold(this, props.fullPassAlarmThreshold, schedule, { prop: 'fullPassAlarmThreshold', run: 'sync', alarm: 'full-pass age alarm' }),
        'sync of every target', 'Invoke the function with {"action":"sync"} to sync now.');
      this.errorsAlarm = alarms.errorsAlarm;
      this.throttlesAlarm = alarms.throttlesAlarm;
      this.deadLetterAlarm = alarms.deadLetterAlarm;
      if (this.rollsWorkloads) this.rolloutFailuresAlarm = createRolloutAlarm(this.alarmSet, (o) => this.metricRolloutsFailed(o));
      this.alarms = this.alarmSet.alarms;
      bundled.addConfiguredAlarmActions();

      this.acknowledgeNagFindings(wildcards);
    } finally {
      validated();
    }
  }

  /** Validates the props the shared handler code does not; returns the settings parameter's name, if any. */
  private validateProps(props: ConfigMapSyncerProps, schedule: events.Schedule): string | undefined {
    const primary = this.primaryRegion;
    if (props.parameterPath === undefined && props.sourceSecret === undefined) {
      fail('parameterPath', 'or sourceSecret must be set: the syncer needs a source', undefined);
    }
    if (props.parameterPath !== undefined) validateParameterPath(props.parameterPath);
    if (props.sourceSecret) validateInRegion('sourceSecret', props.sourceSecret.env.region, primary);
    (props.sourceEncryptionKeys ?? []).forEach((key, i) => validateInRegion(`sourceEncryptionKeys[${i}]`, key.env.region, primary));
    if (props.includeKeys !== undefined) validateIncludeKeys(props.includeKeys);
    if (props.includeKeys !== undefined && props.excludeSensitiveKeys !== false) checkSensitiveIncludeKeys(this, props.includeKeys);
    validateMetricNamespace(this.metricNamespace);
    validateScheduleInterval('schedule', schedule, DEFAULT_TIMEOUT, 'a sync may take the handler\'s default timeout, and syncs must not overlap');
    const configParameterName = props.parameterPrefix !== undefined ? `${props.parameterPrefix}/global/secrets/configmap-sync-config` : undefined;
    claimParameterName(this, 'parameterPrefix', props.parameterPrefix, configParameterName);
    if (props.parameterPrefix !== undefined) {
      validateParameterPrefix(props.parameterPrefix);
      if (props.parameterPath !== undefined && isUnder(configParameterName!, props.parameterPath)) {
        fail('parameterPrefix', `must not put the settings parameter ${JSON.stringify(configParameterName)} under parameterPath `
          + `${JSON.stringify(props.parameterPath)} (it would be synced as a key)`, props.parameterPrefix);
      }
    }
    if (props.excludeSensitiveKeys === false) {
      Annotations.of(this).addWarningV2(`${WARNING}sensitiveKeysNotExcluded`,
        'excludeSensitiveKeys is false: keys whose names or values look sensitive are written to the ConfigMaps, which are not encrypted and '
        + 'are readable by anyone who may read the namespace. Keep secrets in Secrets Manager, or select keys with includeKeys.');
    }
    return configParameterName;
  }

  /**
   * The Kubernetes group of `KubernetesPermissions.rbac()`, after checking that the targets suit
   * it; `undefined` for the access policy.
   */
  private rbacGroup(permissions: KubernetesPermissions | undefined, targets: ResolvedTarget[]): string | undefined {
    if (!permissions?._rbac) return undefined;
    const group = permissions._groupName ?? `cross-region-config-syncer-${this.node.addr.slice(0, 8)}`;
    validateKubernetesGroup('kubernetesPermissions groupName', group);
    const mode = 'with KubernetesPermissions.rbac()';
    targets.forEach((t, i) => {
      if (t.createNamespace) {
        fail(`targets[${i}].createNamespace`, `must not be true ${mode}: the Role that grants the handler lives in the namespace, so the `
          + 'namespace must exist before the Role is applied, and creating namespaces needs a cluster-scoped grant this mode exists to avoid', true);
      }
      const names: Array<[string, string | undefined]> = [['namespace', t.namespace], ['configMapName', t.configMapName],
        ...(t.workloads ?? []).map((w, j): [string, string | undefined] => [`workloads[${j}].name`, w.name])];
      for (const [prop, value] of names) {
        if (value !== undefined && Token.isUnresolved(value)) {
          fail(`targets[${i}].${prop}`, `must be known at synth time ${mode}: the generated Role names it`, value);
        }
      }
    });
    return group;
  }

  /** Adds the ConfigMap and workloads of `target` to what the handler does in its namespace of the cluster `key`. */
  private recordNamespaceUse(key: string, target: ResolvedTarget): void {
    const uses = this.namespaceUses.get(key) ?? [];
    this.namespaceUses.set(key, uses);
    const i = uses.findIndex((u) => u.namespace === target.namespace);
    const previous = i >= 0 ? uses[i] : { namespace: target.namespace, configMapNames: [], workloads: [] };
    const use = {
      namespace: target.namespace,
      configMapNames: [...previous.configMapNames, target.configMapName],
      workloads: [...previous.workloads, ...(target.workloads ?? [])],
    };
    if (i >= 0) uses[i] = use;
    else uses.push(use);
  }

  /**
   * Binds every target's cluster to the handler's role: access entries where this construct can
   * create them, commands otherwise. Bindings of the same cluster share one grant, so its commands
   * are read once every target is bound.
   */
  private bindTargetClusters(resolvedTargets: ResolvedTarget[]): { targetConfigs: SyncTargetConfig[]; clusters: Map<string, TargetCluster> } {
    const clusters = new Map<string, TargetCluster>();
    const targetConfigs: SyncTargetConfig[] = resolvedTargets.map((t, i) => {
      const bound = bindKubernetesCluster(this, t.cluster, {
        role: this.role,
        namespaces: [t.namespace],
        // Server-side apply of a ConfigMap (and its dry run) needs create, patch and get in the namespace.
        access: KubernetesAccessLevel.EDIT,
        kubernetesGroup: this.kubernetesGroup,
        id: `ClusterAccess${i}`,
        propPrefix: `targets[${i}].`,
      });
      const key = clusterDimension(t.cluster);
      this.recordNamespaceUse(key, t);
      const previous = clusters.get(key);
      clusters.set(key, { cluster: t.cluster, bound, createsNamespace: (previous?.createsNamespace ?? false) || t.createNamespace });
      return {
        cluster: bound.config,
        namespace: t.namespace,
        configMapName: t.configMapName,
        createNamespace: t.createNamespace,
        ...(t.workloads ? { workloads: t.workloads } : {}),
      };
    });
    return { targetConfigs, clusters };
  }

  /** The handler's configuration: bounded values in the environment, the targets and included keys growable. */
  private handlerConfiguration(props: ConfigMapSyncerProps, targetConfigs: SyncTargetConfig[]): HandlerConfiguration {
    return {
      description: `the ConfigMap syncer ${this.node.path}`,
      environment: {
        [SyncEnv.PRIMARY_REGION]: this.primaryRegion,
        ...(props.parameterPath !== undefined ? { [SyncEnv.SOURCE_PARAMETER_PATH]: props.parameterPath } : {}),
        ...(props.sourceSecret ? { [SyncEnv.SOURCE_SECRET_ARN]: props.sourceSecret.secretFullArn ?? props.sourceSecret.secretArn } : {}),
        [SyncEnv.EXCLUDE_SENSITIVE_KEYS]: String(props.excludeSensitiveKeys ?? true),
        [SyncEnv.FORCE_CONFLICTS]: String(props.forceConflicts ?? false),
        ...(this.rollsWorkloads ? { [SyncEnv.ROLLOUT]: JSON.stringify(rolloutConfig(props.rollout ?? {}, props.timeout ?? DEFAULT_TIMEOUT)) } : {}),
        [SyncEnv.METRIC_NAMESPACE]: this.metricNamespace,
        [SyncEnv.SERVICE_NAME]: this.serviceName,
      },
      growable: { [SyncEnv.TARGETS]: targetConfigs, [SyncEnv.INCLUDE_KEYS]: props.includeKeys },
    };
  }

  /** The rule that sends changes of the source parameters to the handler; `undefined` without `parameterPath`. */
  private createParameterRule(parameterPath: string | undefined, bundled: BundledHandler): events.Rule | undefined {
    if (parameterPath === undefined) return undefined;
    const rule = new events.Rule(this, 'ParameterRule', {
      description: `Sends changes of the source parameters to the ConfigMap syncer ${this.node.path}`.slice(0, 512),
      eventPattern: {
        source: ['aws.ssm'],
        detailType: ['Parameter Store Change'],
        detail: { name: [parameterPath, { prefix: `${parameterPath}/` }] },
      },
    });
    rule.addTarget(bundled.target());
    return rule;
  }

  /** The rule that sends changes of the source secret to the handler; `undefined` without `sourceSecret`. */
  private createSecretRule(sourceSecret: secretsmanager.ISecret | undefined, bundled: BundledHandler): events.Rule | undefined {
    if (!sourceSecret) return undefined;
    const rule = new events.Rule(this, 'SecretRule', {
      description: `Sends changes of the source secret to the ConfigMap syncer ${this.node.path}`.slice(0, 512),
      eventPattern: secretEventPattern(sourceSecret),
    });
    rule.addTarget(bundled.target());
    return rule;
  }

  /** The configmap-sync-config document of the Parameter Store document layout, written to `configParameter`. */
  private configDocument(props: ConfigMapSyncerProps, schedule: events.Schedule, resolvedTargets: ResolvedTarget[]): { [key: string]: any } {
    return {
      enabled: true,
      namespace: props.namespace ?? DEFAULT_NAMESPACE,
      configMapName: props.configMapName ?? defaultConfigMapName(props) ?? resolvedTargets[0].configMapName,
      syncInterval: intervalLabel(schedule),
      excludeSensitiveKeys: props.excludeSensitiveKeys ?? true,
      includeKeys: props.includeKeys ?? ['*'],
      // Agentless: no Kubernetes service account exists. The handler authenticates with its IAM
      // role, which EKS maps to Kubernetes permissions through an access entry.
      kubernetesServiceAccount: null,
      handlerRoleArn: this.role.roleArn,
      targetClusters: this.clusterDimensions,
      targets: resolvedTargets.map((t) => ({
        cluster: clusterDimension(t.cluster),
        namespace: t.namespace,
        configMapName: t.configMapName,
        createNamespace: t.createNamespace,
        ...(t.workloads ? { workloads: t.workloads } : {}),
      })),
      forceConflicts: props.forceConflicts ?? false,
    };
  }

  /**
   * ConfigMaps written or confirmed in sync.
   *
   * @default - Sum over 5 minutes, all targets
   */
  public metricSyncSuccess(props?: ConfigMapSyncMetricOptions): cloudwatch.Metric {
    return this.metric(SyncMetric.SYNC_SUCCESS, cloudwatch.Stats.SUM, props);
  }

  /**
   * ConfigMaps that could not be written (cluster unreachable, access denied, conflict with another
   * field manager, too large).
   *
   * @default - Sum over 5 minutes, all targets
   */
  public metricSyncFailure(props?: ConfigMapSyncMetricOptions): cloudwatch.Metric {
    return this.metric(SyncMetric.SYNC_FAILURE, cloudwatch.Stats.SUM, props);
  }

  /**
   * Keys refused by a sync because their names or values look sensitive (counted per target).
   *
   * @default - Maximum over 5 minutes (the most in one sync), all targets
   */
  public metricKeysExcluded(props?: ConfigMapSyncMetricOptions): cloudwatch.Metric {
    return this.metric(SyncMetric.KEYS_EXCLUDED, cloudwatch.Stats.MAXIMUM, props);
  }

  /**
   * Workloads whose pod template annotation the handler changed to roll their pods.
   *
   * @default - Sum over 5 minutes, all targets
   */
  public metricRolloutsStarted(props?: ConfigMapSyncMetricOptions): cloudwatch.Metric {
    return this.metric(RolloutMetric.ROLLOUTS_STARTED, cloudwatch.Stats.SUM, props);
  }

  /**
   * Rollouts seen complete (the controller observed the change and every replica is updated and available).
   *
   * @default - Sum over 5 minutes, all targets
   */
  public metricRolloutsCompleted(props?: ConfigMapSyncMetricOptions): cloudwatch.Metric {
    return this.metric(RolloutMetric.ROLLOUTS_COMPLETED, cloudwatch.Stats.SUM, props);
  }

  /**
   * Rollouts not complete within `rollout.rolloutTimeout` (counted once each), and workloads that
   * could not be read or patched (counted at every sync: denied, missing, conflict).
   *
   * @default - Sum over 5 minutes, all targets
   */
  public metricRolloutsFailed(props?: ConfigMapSyncMetricOptions): cloudwatch.Metric {
    return this.metric(RolloutMetric.ROLLOUTS_FAILED, cloudwatch.Stats.SUM, props);
  }

  /**
   * Target ConfigMaps an invocation of the handler synced. A sync that needs longer than one
   * invocation works in several, each reporting its own share.
   *
   * @default - Sum over 5 minutes
   */
  public metricItemsProcessed(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.runMetric(RunMetric.ITEMS_PROCESSED, cloudwatch.Stats.SUM, cloudwatch.Unit.COUNT, props);
  }

  /**
   * 1 for an invocation that stopped before its timeout with targets left and handed them to the
   * next invocation, 0 for one that finished the sync.
   *
   * @default - Maximum over 5 minutes
   */
  public metricRunPartial(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.runMetric(RunMetric.RUN_PARTIAL, cloudwatch.Stats.MAXIMUM, cloudwatch.Unit.COUNT, props);
  }

  /**
   * Seconds the targets not yet synced have been waiting: since the sync that still has them
   * started (0 when an invocation finished a sync).
   *
   * @default - Maximum over 5 minutes
   */
  public metricOldestUnprocessedItemAge(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.runMetric(RunMetric.OLDEST_UNPROCESSED_ITEM_AGE, cloudwatch.Stats.MAXIMUM, cloudwatch.Unit.SECONDS, props);
  }

  private runMetric(metricName: string, statistic: string, unit: cloudwatch.Unit, options?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return handlerMetric({
      namespace: this.metricNamespace, serviceName: this.serviceName, metricName, statistic, unit, defaultPeriod: DEFAULT_SYNC_METRIC_PERIOD, options,
    });
  }


  /**
   * Widgets of this construct for a CloudWatch dashboard, as rows 24 units wide: a header naming it,
   * the sync status of each target cluster over the time range, ConfigMaps synced and not synced, and sensitive keys refused, per cluster, its handler's invocations, errors and duration, and the status of `alarms`.
   *
   * Add them in one call: `dashboard.addWidgets(...x.dashboardWidgets())`. They are built only from
   * the `metricXxx()` methods, the handler's metrics and `alarms`. The metrics carry this stack's
   * region and account, but the handler graph and the alarm status need a dashboard in this stack's
   * region and account; for a dashboard elsewhere use `CrossRegionConfigDashboard`, which leaves
   * them out there.
   */
  public dashboardWidgets(options: DashboardWidgetOptions = {}): cloudwatch.IWidget[] {
    return syncerDashboardWidgets(this, options);
  }
  /** Adds actions to every alarm of this construct, including alarms created later. */
  public addAlarmAction(...actions: cloudwatch.IAlarmAction[]): void {
    this.alarmSet.addAlarmAction(...actions);
  }

  /**
   * Grants `grantee` permission to invoke the handler (`lambda:InvokeFunction`), for the manual
   * payloads `{"action":"test_sync"}` (a server-side dry run that changes nothing) and
   * `{"action":"sync"}` (syncs every target now).
   */
  public grantInvoke(grantee: iam.IGrantable): iam.Grant {
    return this.handler.grantInvoke(grantee);
  }

  /**
   * The Kubernetes RBAC the handler needs in `cluster`, with `KubernetesPermissions.rbac()`: as a
   * YAML stream of a Role and a RoleBinding (of the Role to `kubernetesGroup`) per target namespace,
   * both named after the group, to apply with GitOps or `kubectl apply -f`. Each Role allows only:
   * `create`, `get` and `patch` of the target ConfigMaps by name (the handler creates them by
   * server-side apply, which Kubernetes authorizes as a `create` of that name); `get` and `patch` of
   * the workloads named in `workloads`; and `list` and `patch` of a workload kind selected by labels
   * (their names are only known when the handler lists them). Nothing cluster-scoped.
   *
   * @param cluster a target cluster (one of `targetClusters`)
   */
  public rbacManifests(cluster: KubernetesCluster): string {
    if (this.kubernetesGroup === undefined) {
      failIn(this, 'kubernetesPermissions', 'must be KubernetesPermissions.rbac() for rbacManifests(): with the access policy no Role is needed',
        'KubernetesPermissions.accessPolicy()');
    }
    const dimension = clusterDimension(cluster);
    const uses = this.namespaceUses.get(dimension);
    if (uses === undefined) {
      failIn(this, 'rbacManifests() cluster', `must be a target cluster ${JSON.stringify(this.clusterDimensions)}`, dimension);
    }
    return toYamlStream(syncerRbacObjects(this.kubernetesGroup, uses));
  }

  private metric(name: string, statistic: string, props: ConfigMapSyncMetricOptions = {}): cloudwatch.Metric {
    const { cluster, ...options } = props;
    const dimension = cluster ? clusterDimension(cluster) : undefined;
    if (dimension !== undefined && !Token.isUnresolved(dimension) && !this.clusterDimensions.includes(dimension)) {
      failIn(this, 'ConfigMapSyncMetricOptions.cluster', `must be a target cluster ${JSON.stringify(this.clusterDimensions)}`, dimension);
    }
    return syncMetric({
      namespace: this.metricNamespace,
      serviceName: this.serviceName,
      metricName: name,
      statistic: options.statistic ?? statistic,
      cluster: dimension,
      options,
    });
  }

  /** Adds the handler's least-privilege read statements; records wildcard resources with their reasons. */
  private grantSourceRead(props: ConfigMapSyncerProps, sourceEncryptionKeys: kms.IKey[], wildcards: Map<string, string>): void {
    const stack = Stack.of(this);
    const primary = this.primaryRegion;
    const path = props.parameterPath;
    if (path !== undefined) {
      // `parameter` + the path (which starts with "/"): works for deploy-time paths too.
      const resources = [
        stack.formatArn({ service: 'ssm', resource: `parameter${path}`, arnFormat: ArnFormat.NO_RESOURCE_NAME }),
        stack.formatArn({ service: 'ssm', resource: `parameter${path}/*`, arnFormat: ArnFormat.NO_RESOURCE_NAME }),
      ];
      this.role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['ssm:GetParametersByPath'], resources }));
      for (const resource of resources) {
        wildcards.set(resource, 'Every parameter below parameterPath is a key of the ConfigMaps (read recursively with GetParametersByPath): '
          + 'reads are limited to that path in the primary region.');
      }
    }
    // GetSecretValue and DescribeSecret on the secret, and decryption with its key through Secrets Manager.
    props.sourceSecret?.grantRead(this.role);
    if (sourceEncryptionKeys.length > 0) {
      const services = [
        ...(path !== undefined ? ['ssm'] : []),
        ...(props.sourceSecret ? ['secretsmanager'] : []),
      ].map((service) => `${service}.${primary}.${domainSuffixOf(primary)}`);
      this.role.addToPrincipalPolicy(new iam.PolicyStatement({
        actions: ['kms:Decrypt'],
        resources: sourceEncryptionKeys.map((k) => k.keyArn),
        conditions: { StringEquals: { 'kms:ViaService': services } },
      }));
    }
  }

  /**
   * Sets up the cluster-scoped namespace grant of clusters with a `createNamespace` target, reports
   * the RBAC to apply with `KubernetesPermissions.rbac()`, and returns the commands left to run, one
   * string per cluster.
   */
  private setUpClusterAccess(clusters: TargetCluster[]): string[] {
    const stack = Stack.of(this);
    const commands: string[] = [];
    const warnings: string[] = [];
    const rbacWarnings: string[] = [];
    const placeholders = new Map<string, string>();
    const render = (value: string, placeholder: string, meaning: string): string => {
      const resolved = literal(stack, value);
      if (resolved !== undefined) return resolved;
      placeholders.set(placeholder, meaning);
      return `"$${placeholder}"`;
    };
    for (const { cluster, bound, createsNamespace } of clusters) {
      const lines = bound.manualSetupCommand ? [bound.manualSetupCommand] : [];
      if (this.kubernetesGroup !== undefined) {
        const manifests = this.rbacManifests(cluster);
        lines.push(...rbacApplyCommands(cluster, manifests, (value) => value));
        rbacWarnings.push(rbacApplyCommands(cluster, manifests, render).join('\n'));
      }
      if (createsNamespace) {
        const entry = bound.accessEntry?.node.defaultChild;
        if (entry instanceof CfnResource) {
          // The access entry is ours: give it the group the ClusterRoleBinding binds.
          entry.addPropertyOverride('KubernetesGroups', [NAMESPACE_CREATOR_GROUP]);
        }
        const grant = namespaceGrantCommands(cluster, this.role.roleArn, !(entry instanceof CfnResource), (value) => value);
        lines.push(...grant);
        warnings.push(namespaceGrantCommands(cluster, this.role.roleArn, !(entry instanceof CfnResource), render).join('\n'));
      }
      if (lines.length > 0) commands.push(lines.join('\n'));
    }
    if (warnings.length > 0) {
      const where = [...placeholders].map(([variable, meaning]) => `${variable} is ${meaning}`).join(', ');
      Annotations.of(this).addWarningV2(NAMESPACE_GRANT_WARNING,
        'createNamespace needs a cluster-scoped grant to create namespaces, which no EKS access policy gives without far more. '
        + `Grant it once per cluster, with cluster-admin credentials (the commands are also in clusterAccessCommands):\n${warnings.join('\n\n')}`
        + (where ? `\nwhere ${where}.` : ''));
    }
    if (rbacWarnings.length > 0) {
      const where = [...placeholders].map(([variable, meaning]) => `${variable} is ${meaning}`).join(', ');
      Annotations.of(this).addWarningV2(RBAC_SETUP_WARNING,
        `kubernetesPermissions is KubernetesPermissions.rbac(): the handler's access entries carry the Kubernetes group ${this.kubernetesGroup} `
        + 'and no access policy, so the handler may do nothing in a cluster until the Role and RoleBinding of rbacManifests() are applied '
        + 'there. Apply them with GitOps, or once per cluster with credentials that may create Roles in the target namespaces '
        + `(the commands are also in clusterAccessCommands):\n${rbacWarnings.join('\n\n')}`
        + (where ? `\nwhere ${where}.` : ''));
    }
    return commands;
  }

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
  }
}

/** A target with the defaults applied. */
/** One target cluster of the syncer, bound to the handler's role. */
interface TargetCluster {
  readonly cluster: KubernetesCluster;
  readonly bound: BoundKubernetesCluster;
  readonly createsNamespace: boolean;
}

interface ResolvedTarget {
  readonly cluster: KubernetesCluster;
  readonly namespace: string;
  readonly configMapName: string;
  readonly createNamespace: boolean;
  readonly workloads?: WorkloadSelectorConfig[];
}

/** `<projectName>-<environmentName>-config`, when both are set. */
function defaultConfigMapName(props: ConfigMapSyncerProps): string | undefined {
  return props.projectName !== undefined && props.environmentName !== undefined
    ? `${props.projectName}-${props.environmentName}-config`
    : undefined;
}

/** Validates the targets and the defaults they inherit; returns them with the defaults applied. */
function resolveTargets(props: ConfigMapSyncerProps): ResolvedTarget[] {
  if (props.projectName !== undefined && props.environmentName === undefined) {
    fail('environmentName', 'must be set when projectName is set', undefined);
  }
  if (props.environmentName !== undefined && props.projectName === undefined) {
    fail('projectName', 'must be set when environmentName is set', undefined);
  }
  const derived = defaultConfigMapName(props);
  if (derived !== undefined && !Token.isUnresolved(derived) && (derived.length > MAX_CONFIGMAP_NAME_LENGTH || !DNS_SUBDOMAIN_PATTERN.test(derived))) {
    fail('projectName and environmentName', 'must form a DNS-1123 subdomain of at most 253 characters in the default ConfigMap name '
      + '"<projectName>-<environmentName>-config" (lowercase letters, digits, "-" and ".")', derived);
  }
  if (props.namespace !== undefined) validateNamespace('namespace', props.namespace);
  if (props.configMapName !== undefined) validateConfigMapName('configMapName', props.configMapName);

  validateNotEmpty('targets', props.targets);
  const resolved = props.targets.map((t, i) => {
    const prop = `targets[${i}]`;
    validateStructKeys(prop, 'ConfigMapSyncTarget', t, TARGET_MEMBERS);
    const namespace = t.namespace ?? props.namespace ?? DEFAULT_NAMESPACE;
    if (t.namespace !== undefined) validateNamespace(`${prop}.namespace`, t.namespace);
    if (t.configMapName !== undefined) validateConfigMapName(`${prop}.configMapName`, t.configMapName);
    const configMapName = t.configMapName ?? props.configMapName ?? derived;
    if (configMapName === undefined) {
      fail(`${prop}.configMapName`, 'must be set when neither configMapName nor projectName and environmentName are set', undefined);
    }
    const workloads = bindWorkloads(prop, t.workloads, configMapName);
    return { cluster: t.cluster, namespace, configMapName, createNamespace: t.createNamespace ?? false, ...(workloads ? { workloads } : {}) };
  });
  validateDistinct('targets', resolved.map((t) => `${clusterDimension(t.cluster)} ${t.namespace}/${t.configMapName}`));
  return resolved;
}

function validateNamespace(prop: string, namespace: string): void {
  validateLength(prop, namespace, 1, MAX_NAMESPACE_LENGTH);
  validatePattern(prop, namespace, DNS_LABEL_PATTERN, DNS_LABEL_ALLOWED);
}

function validateConfigMapName(prop: string, name: string): void {
  validateLength(prop, name, 1, MAX_CONFIGMAP_NAME_LENGTH);
  validatePattern(prop, name, DNS_SUBDOMAIN_PATTERN, DNS_SUBDOMAIN_ALLOWED);
}

function validateParameterPath(path: string): void {
  if (Token.isUnresolved(path)) return;
  validatePattern('parameterPath', path, PARAMETER_PATH_PATTERN,
    'must be a path of "/"-separated segments of the characters A-Z a-z 0-9 _ . -, starting with "/" and not ending with "/", such as "/my-app/production/config"');
  if (/^\/(aws|ssm)(\/|$)/i.test(path)) fail('parameterPath', 'must not be under the reserved "/aws" or "/ssm"', path);
  validateOutsideSettingsRoot('parameterPath', path);
}

function validateIncludeKeys(keys: string[]): void {
  if (keys.length === 0) fail('includeKeys', 'must not be empty (omit it to sync every key)', keys);
  keys.forEach((key, i) => {
    validateLength(`includeKeys[${i}]`, key, 1, MAX_KEY_LENGTH);
    validatePattern(`includeKeys[${i}]`, key, KEY_PATTERN,
      'must be a ConfigMap key or a glob pattern: letters, digits, "-", "_", "." and the wildcards "*" and "?"');
  });
  validateDistinct('includeKeys', keys);
}

/**
 * Fails for an exact `includeKeys` entry whose name the handler always refuses as sensitive (while
 * `excludeSensitiveKeys` is true), and warns for a glob that can only match such names.
 */
function checkSensitiveIncludeKeys(scope: Construct, keys: string[]): void {
  keys.forEach((key, i) => {
    if (Token.isUnresolved(key)) return;
    if (!/[*?]/.test(key) && isSensitiveName(key)) {
      fail(`includeKeys[${i}]`, 'must not name a key whose name looks sensitive: the syncer never writes such a key to a ConfigMap while '
        + 'excludeSensitiveKeys is true (keep the value in Secrets Manager, or rename the key)', key);
    }
    if (/[*?]/.test(key) && globMatchesOnlySensitiveNames(key)) {
      Annotations.of(scope).addWarningV2(`${WARNING}includeKeysOnlySensitive`,
        `includeKeys[${i}] ${JSON.stringify(key)} matches only keys whose names look sensitive, which the syncer never writes to a ConfigMap `
        + 'while excludeSensitiveKeys is true.');
    }
  });
}

/** Fails when `region` is known and is not the primary region. */
function validateInRegion(prop: string, region: string, primary: string): void {
  if (!Token.isUnresolved(region) && region !== primary) {
    fail(prop, `must be in the syncer's region ${primary}`, region);
  }
}

/** True when the parameter `name` is below `path` (both known at synth time). */
function isUnder(name: string, path: string): boolean {
  return !Token.isUnresolved(name) && !Token.isUnresolved(path) && name.startsWith(`${path}/`);
}

/**
 * The Secrets Manager change events of one secret: CloudTrail API calls (which name it by name or
 * ARN in `requestParameters`) and the rotation service event (by ARN in `additionalEventData`).
 */
function secretEventPattern(secret: secretsmanager.ISecret): events.EventPattern {
  // Without the complete ARN (a secret imported by name), match any ARN of that name.
  const arn = secret.secretFullArn ?? { prefix: `${secret.secretArn}-` };
  const ids = [secret.secretName, arn];
  return {
    source: ['aws.secretsmanager'],
    detailType: ['AWS API Call via CloudTrail', 'AWS Service Event via CloudTrail'],
    detail: {
      eventSource: ['secretsmanager.amazonaws.com'],
      eventName: [...SECRET_EVENT_NAMES],
      // A failed call changed nothing: CloudTrail records it with an errorCode.
      errorCode: [{ exists: false }],
      $or: [
        { requestParameters: { secretId: ids } },
        // CreateSecret (a secret deleted and created again) names it here.
        { requestParameters: { name: [secret.secretName] } },
        { additionalEventData: { SecretId: ids } },
      ],
    },
  };
}

/**
 * The commands of the cluster-scoped namespace grant on one cluster: a ClusterRole that may create
 * namespaces, bound to the Kubernetes group of the handler's access entry. `updateEntry` adds the
 * command that puts an access entry this app does not manage in that group; `render` turns each
 * value into command text.
 */
function namespaceGrantCommands(
  cluster: KubernetesCluster,
  roleArn: string,
  updateEntry: boolean,
  render: (value: string, placeholder: string, meaning: string) => string,
): string[] {
  const name = render(cluster.clusterName, 'CLUSTER_NAME', 'the name of the cluster');
  const region = render(cluster.region, 'REGION', 'the region of the cluster');
  const apply = '--dry-run=client -o yaml | kubectl apply -f -';
  return [
    ...(updateEntry ? [`aws eks update-access-entry --cluster-name ${name} --region ${region} `
      + `--principal-arn ${render(roleArn, 'ROLE_ARN', 'the ARN of the syncer\'s role (known after deployment)')} `
      + `--kubernetes-groups ${NAMESPACE_CREATOR_GROUP}`] : []),
    `aws eks update-kubeconfig --name ${name} --region ${region}`,
    `kubectl create clusterrole ${NAMESPACE_CREATOR_ROLE} --verb=get,create,patch --resource=namespaces ${apply}`,
    `kubectl create clusterrolebinding ${NAMESPACE_CREATOR_ROLE} --clusterrole=${NAMESPACE_CREATOR_ROLE} --group=${NAMESPACE_CREATOR_GROUP} ${apply}`,
  ];
}

/**
 * The commands that apply the RBAC manifests of `KubernetesPermissions.rbac()` to one cluster;
 * `render` turns the cluster's name and region into command text.
 */
function rbacApplyCommands(
  cluster: KubernetesCluster,
  manifests: string,
  render: (value: string, placeholder: string, meaning: string) => string,
): string[] {
  const name = render(cluster.clusterName, 'CLUSTER_NAME', 'the name of the cluster');
  const region = render(cluster.region, 'REGION', 'the region of the cluster');
  return [
    `aws eks update-kubeconfig --name ${name} --region ${region}`,
    `kubectl apply --server-side --field-manager=cross-region-config-rbac -f - <<'EOF'\n${manifests}EOF`,
  ];
}

/** `value`, or the literal a token resolves to in `stack`; `undefined` when only known at deploy time. */
function literal(stack: Stack, value: string): string | undefined {
  if (!Token.isUnresolved(value)) return value;
  // CDK throws when a resource without a physical name is referenced from another environment.
  const resolved = readQuietly(() => stack.resolve(value));
  return typeof resolved === 'string' && !Token.isUnresolved(resolved) ? resolved : undefined;
}
