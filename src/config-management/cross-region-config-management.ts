import { Annotations, Duration, Stack, Token } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as ssm from 'aws-cdk-lib/aws-ssm';
import { Construct } from 'constructs';
import { ConfigMapSyncer, ConfigMapSyncTarget } from '../configmap-syncer';
import { explicitRegion } from '../core/bundled-handler';
import { addCompanion, COMPANION_CONFIGMAP_SYNC, COMPANION_DRIFT_DETECTION } from '../core/companions';
import { ConflictPolicy } from '../core/conflict-policy';
import { HandlerOptions } from '../core/handler-options';
import { ParameterOverride } from '../core/parameter-override';
import { ReplicaKmsKey } from '../core/replica-kms-key';
import { SecretSelection } from '../core/secret-selection';
import { CrossRegionConfigDashboard } from '../dashboard';
import { ConfigDriftDetector, ConfigMapDriftScope, DriftIgnoreRule, DriftRemediation } from '../drift-detector';
import { MultiRegionPipeline } from '../multi-region-pipeline';
import { ConfigParityCheck } from '../parity-check';
import { CrossRegionParameterReplicator, ParameterSelection } from '../parameter-replicator';
import { claimParameterName, claimProject } from '../private/uniqueness';
import { fail, validateDistinct, validateNotEmpty, validatePattern, validateRegionName, validateRegionNames, validationScope, WARNING } from '../private/validation';
import { CrossAccountReplica, CrossRegionSecretReplicator } from '../secret-replicator';

/** A project or environment name: one Parameter Store path segment and a function-name part. */
const NAME_PART = /^[A-Za-z0-9][A-Za-z0-9_-]{0,39}$/;
const NAME_PART_ALLOWED = 'must be 1 to 40 of the characters A-Z a-z 0-9 _ -, starting with a letter or digit';
/** Lambda's limit on function names, and the longest of the function-name suffixes (`<project>-<environment>-<suffix>`). */
const MAX_FUNCTION_NAME_LENGTH = 64;
const LONGEST_FUNCTION_SUFFIX = 'cross-region-sync';

/** `<projectName>-<environment>-<suffix>`: the name of a piece's function or dashboard. */
function functionName(props: CrossRegionConfigManagementProps, suffix: string): string {
  return `${props.projectName}-${props.environment}-${suffix}`;
}

/** Options of the parameter replication piece (`parameterReplication`). */
export interface ParameterReplicationOptions {
  /**
   * The parameters to replicate.
   *
   * @default - every parameter below `/<projectName>/<environment>`, except the settings documents
   * below `/<projectName>/<environment>/global/secrets`
   */
  readonly parameters?: ParameterSelection;

  /**
   * Declared per-region values; the drift detector expects them too.
   *
   * @default - every replica holds the primary's value
   */
  readonly overrides?: ParameterOverride[];

  /**
   * KMS keys of SecureString replicas per replica region.
   *
   * @default - the `aws/ssm` key of each region
   */
  readonly replicaKmsKeys?: ReplicaKmsKey[];

  /**
   * What to do with a replica changed in its own region.
   *
   * @default ConflictPolicy.PRIMARY_WINS
   */
  readonly conflictPolicy?: ConflictPolicy;

  /**
   * Delete replicas when their primary is deleted.
   *
   * @default false
   */
  readonly propagateDeletions?: boolean;

  /**
   * Parameter Store writes per second the handler allows itself in each replica region (1 to 1000).
   *
   * @default 2
   */
  readonly maxWritesPerSecond?: number;

  /**
   * When to reconcile every selected parameter.
   *
   * @default events.Schedule.rate(Duration.hours(6))
   */
  readonly reconciliationSchedule?: events.Schedule;
}

/** Options of the secret replication piece. */
export interface ReplicationOptions {
  /**
   * The secrets to replicate.
   *
   * @default - every secret whose name starts with `<environment>/<projectName>/`, as the Parameter Store document layout
   * names them (`production/genai-demo/application`)
   */
  readonly secrets?: SecretSelection;

  /**
   * KMS keys of the replicas, per replica region.
   *
   * @default - the replicator's default: `aws/secretsmanager` in each region
   */
  readonly replicaKmsKeys?: ReplicaKmsKey[];

  /**
   * Replicas in other accounts.
   *
   * @default - none
   */
  readonly crossAccountReplicas?: CrossAccountReplica[];

  /**
   * What to do when a replica was changed in its own region.
   *
   * @default ConflictPolicy.PRIMARY_WINS
   */
  readonly conflictPolicy?: ConflictPolicy;

  /**
   * Schedule replica deletion when the primary secret is deleted.
   *
   * @default false
   */
  readonly propagateDeletions?: boolean;

  /**
   * When the full reconciliation runs.
   *
   * At most once every 10 minutes (see `CrossRegionSecretReplicatorProps.reconciliationSchedule`).
   *
   * @default events.Schedule.rate(Duration.hours(6))
   */
  readonly reconciliationSchedule?: events.Schedule;
}

/** Options of the drift detection piece. */
export interface DriftDetectionOptions {
  /**
   * Whether to detect drift.
   *
   * @default true
   */
  readonly enabled?: boolean;

  /**
   * Parameter Store paths compared across regions, recursively.
   *
   * @default - no parameters, only the replicated secrets
   */
  readonly parameterPaths?: string[];

  /**
   * ConfigMaps compared across clusters.
   *
   * @default - no ConfigMaps
   */
  readonly configMaps?: ConfigMapDriftScope[];

  /**
   * Expected differences.
   *
   * @default - none
   */
  readonly ignoreRules?: DriftIgnoreRule[];

  /**
   * Whether to repair drift.
   *
   * @default DriftRemediation.OFF
   */
  readonly autoRemediation?: DriftRemediation;

  /**
   * When to scan.
   *
   * At most once every 15 minutes (see `ConfigDriftDetectorProps.schedule`).
   *
   * @default events.Schedule.rate(Duration.hours(1))
   */
  readonly schedule?: events.Schedule;

  /**
   * Drifts in one scan that fire the drift alarm.
   *
   * @default 1
   */
  readonly alertThreshold?: number;

  /**
   * How long a fresh change is given to reach every region before it counts as drift.
   *
   * @default Duration.minutes(10)
   */
  readonly graceWindow?: Duration;
}

/** Options of the ConfigMap sync piece. */
export interface ConfigMapSyncOptions {
  /** The ConfigMaps to keep in sync, one per cluster (and namespace). */
  readonly targets: ConfigMapSyncTarget[];

  /**
   * Parameter Store path whose parameters are the keys.
   *
   * @default - no parameters (then `sourceSecret` is required)
   */
  readonly parameterPath?: string;

  /**
   * A secret whose JSON keys are synced (non-sensitive ones only).
   *
   * @default - no secret (then `parameterPath` is required)
   */
  readonly sourceSecret?: secretsmanager.ISecret;

  /**
   * Keys to sync (names or globs).
   *
   * @default - every key
   */
  readonly includeKeys?: string[];

  /**
   * Refuse keys whose names or values look sensitive.
   *
   * @default true
   */
  readonly excludeSensitiveKeys?: boolean;
}

/** Properties of CrossRegionConfigManagement: one set of props for the secrets stack of a multi-region application. */
export interface CrossRegionConfigManagementProps extends HandlerOptions {
  /** Environment name, for example `production`: part of names and of the parameter prefix. */
  readonly environment: string;

  /** Project name, for example `genai-demo`: part of names and of the parameter prefix. */
  readonly projectName: string;

  /**
   * The primary region. The pieces read their sources in their stack's region, so this must be the
   * stack's region; it is a prop to state the intent and to fail early when they differ.
   *
   * @default - the stack's region
   */
  readonly primaryRegion?: string;

  /**
   * KMS key of the secrets in the primary region (the handlers may decrypt through Secrets Manager).
   * It also encrypts the replicator's provenance key secret (`provenanceKeyEncryptionKey`).
   *
   * @default - the secrets and the provenance key use `aws/secretsmanager`
   */
  readonly secretsManagerKey?: kms.IKey;

  /**
   * Whether to replicate and compare across regions. With `false` no regional piece is created;
   * the settings documents are written with their `enabled` flags off.
   *
   * @default true
   */
  readonly enableMultiRegion?: boolean;

  /** Regions the secrets are replicated to, and compared with. */
  readonly replicationRegions: string[];

  /**
   * Topic every alarm of every piece notifies; it should be encrypted (a topic with a `masterKey`).
   *
   * @default - alarms without actions; add them with `addAlarmAction()`
   */
  readonly alertingTopic?: sns.ITopic;

  /**
   * Options of the secret replication.
   *
   * @default - the defaults of `ReplicationOptions`
   */
  readonly replication?: ReplicationOptions;

  /**
   * Options of the drift detection.
   *
   * @default - the defaults of `DriftDetectionOptions`: drift detection on
   */
  readonly driftDetection?: DriftDetectionOptions;

  /**
   * Replicate Parameter Store parameters too, with a `CrossRegionParameterReplicator`
   * (`parameterReplicator`). Its settings document is
   * `/<projectName>/<environment>/global/secrets/parameter-replication-config`, and the drift
   * detector compares its paths (unless `driftDetection.parameterPaths` is given) expecting its
   * overrides.
   *
   * @default - parameters are not replicated
   */
  readonly parameterReplication?: ParameterReplicationOptions;

  /**
   * ConfigMap sync into EKS clusters.
   *
   * @default - no ConfigMap sync
   */
  readonly configMapSync?: ConfigMapSyncOptions;

  /**
   * A pipeline deploying the application; its gitops-config document is written next to the others.
   *
   * @default - no gitops-config document
   */
  readonly pipeline?: MultiRegionPipeline;

  /**
   * Whether to create a config parity check of what the drift detector compares (without drift
   * detection, the replicated secrets and parameters, with the parameters' declared per-region
   * values): `ConfigParity` per replica region, its alarm, a dashboard section, and a check to give
   * a `MultiRegionPipeline` (`parityCheck`) or an ARC Region switch plan.
   *
   * @default false
   */
  readonly configParity?: boolean;

  /**
   * Whether to create a CloudWatch dashboard of every piece.
   *
   * @default true
   */
  readonly dashboard?: boolean;
}

/**
 * The secrets stack of a multi-region application in one construct: a secret replicator, a drift
 * detector and, when clusters are given, a ConfigMap syncer, with one set of props, the Parameter
 * Store document layout under `/<projectName>/<environment>/global/secrets/`, every alarm routed to one topic,
 * and a dashboard. Each piece is the same construct you can use on its own; this adds no behaviour.
 *
 * @example
 * declare const secretsKey: kms.IKey;
 * declare const alertTopic: sns.ITopic;
 * new CrossRegionConfigManagement(this, 'Secrets', {
 *   environment: 'production',
 *   projectName: 'genai-demo',
 *   secretsManagerKey: secretsKey,
 *   replicationRegions: ['ap-northeast-1', 'ap-southeast-1'],
 *   alertingTopic: alertTopic,
 * });
 */
export class CrossRegionConfigManagement extends Construct {
  /** `/<projectName>/<environment>`: the prefix of the settings documents. */
  public readonly parameterPrefix: string;
  /** Whether the regional pieces exist (`enableMultiRegion`). */
  public readonly multiRegionEnabled: boolean;
  /** The secret replicator; set when `enableMultiRegion` is true. */
  public readonly replicator?: CrossRegionSecretReplicator;
  /** The drift detector; set when `enableMultiRegion` is true and drift detection is enabled. */
  public readonly driftDetector?: ConfigDriftDetector;
  /** The ConfigMap syncer; set when `enableMultiRegion` is true and `configMapSync` is given. */
  public readonly configMapSyncer?: ConfigMapSyncer;
  /** The config parity check; set when `enableMultiRegion` and `configParity` are true. */
  public readonly configParity?: ConfigParityCheck;
  /** The parameter replicator; set when `enableMultiRegion` is true and `parameterReplication` is given. */
  public readonly parameterReplicator?: CrossRegionParameterReplicator;
  /** The attached pipeline, when it is in the same stack (its alarms are routed with the others). */
  private readonly pipeline?: MultiRegionPipeline;
  /** The dashboard; set when `dashboard` is true and a piece exists. */
  public readonly dashboard?: CrossRegionConfigDashboard;
  /** Every settings document written (cross-region-config, drift-detection-config, configmap-sync-config, gitops-config). */
  public readonly configParameters: ssm.IStringParameter[];

  private readonly alarmActions: cloudwatch.IAlarmAction[] = [];

  constructor(scope: Construct, id: string, props: CrossRegionConfigManagementProps) {
    super(scope, id);
    const validated = validationScope(this);
    // Ends the validation scope even when construction throws an error of another kind.
    try {
      explicitRegion(this, 'CrossRegionConfigManagement');
      this.validateProps(props);
      this.parameterPrefix = `/${props.projectName}/${props.environment}`;
      this.multiRegionEnabled = props.enableMultiRegion ?? true;
      if (this.multiRegionEnabled) this.validateReplicationRegions(props.replicationRegions);
      const documentsPath = `${this.parameterPrefix}/global/secrets`;

      if (props.alertingTopic) this.routeAlarmsTo(props.alertingTopic);

      if (!this.multiRegionEnabled) {
        Annotations.of(this).addInfo('enableMultiRegion is false: no secret replicator, drift detector or ConfigMap syncer is created; '
          + `the settings documents under ${documentsPath}/ say so (syncEnabled and enabled are false).`);
        const ignored = (['replication', 'driftDetection', 'configMapSync', 'parameterReplication'] as const).filter((option) => props[option] !== undefined);
        if (ignored.length > 0) {
          Annotations.of(this).addWarningV2(`${WARNING}optionsIgnored`, `${ignored.join(', ')} ignored because enableMultiRegion is false.`);
        }
      } else {
        const created = this.createPieces(props, documentsPath);
        this.replicator = created.replicator;
        this.driftDetector = created.driftDetector;
        this.configMapSyncer = created.configMapSyncer;
        if (props.configParity) {
          this.configParity = new ConfigParityCheck(this, 'ConfigParity', this.driftDetector
            ? { driftDetector: this.driftDetector }
            // Without drift detection, the replicated parameters (with their overrides) are checked too.
            : { replicator: this.replicator, parameterReplicator: created.parameterReplicator });
        }
        this.parameterReplicator = created.parameterReplicator;
      }

      const { parameters, pipeline } = this.createDocuments(props, documentsPath);
      this.configParameters = [...parameters, ...(this.parameterReplicator?.configParameter ? [this.parameterReplicator.configParameter] : [])];
      this.pipeline = pipeline;

      for (const piece of this.pieces()) piece.addAlarmAction(...this.alarmActions);

      if ((props.dashboard ?? true) && (this.replicator || props.pipeline)) {
        this.dashboard = new CrossRegionConfigDashboard(this, 'Dashboard', {
          dashboardName: functionName(props, 'cross-region-config'),
          replicator: this.replicator,
          parameterReplicator: this.parameterReplicator,
          driftDetector: this.driftDetector,
          configMapSyncer: this.configMapSyncer,
          pipeline: props.pipeline,
          parityCheck: this.configParity,
        });
      }
    } finally {
      validated();
    }
  }

  /** Validates the names and the primary region, and claims the project and environment in the app. */
  private validateProps(props: CrossRegionConfigManagementProps): void {
    const stack = Stack.of(this);
    validatePattern('projectName', props.projectName, NAME_PART, NAME_PART_ALLOWED);
    validatePattern('environment', props.environment, NAME_PART, NAME_PART_ALLOWED);
    const longestName = `${props.projectName}-${props.environment}-${LONGEST_FUNCTION_SUFFIX}`;
    if (!Token.isUnresolved(longestName) && longestName.length > MAX_FUNCTION_NAME_LENGTH) {
      fail('projectName', `and environment must together leave room for the function name ${JSON.stringify(longestName)} `
        + `(at most ${MAX_FUNCTION_NAME_LENGTH} characters; ${longestName.length} received)`, `${props.projectName} + ${props.environment}`);
    }
    if (props.primaryRegion !== undefined) {
      validateRegionName('primaryRegion', props.primaryRegion);
      if (props.primaryRegion !== stack.region) {
        fail('primaryRegion', `must be the stack's region ${JSON.stringify(stack.region)} (every piece reads its sources in its stack's region)`, props.primaryRegion);
      }
    }
    claimProject(this, props.projectName, props.environment);
  }

  /** Validates `replicationRegions` (only used when multi-region is enabled). */
  private validateReplicationRegions(replicationRegions: string[]): void {
    const stack = Stack.of(this);
    validateNotEmpty('replicationRegions', replicationRegions);
    validateRegionNames('replicationRegions', replicationRegions);
    validateDistinct('replicationRegions', replicationRegions);
    if (replicationRegions.includes(stack.region)) {
      fail('replicationRegions', `must not contain the primary region ${JSON.stringify(stack.region)}`, replicationRegions);
    }
  }

  /** The secret replicator, the drift detector (unless disabled) and the ConfigMap syncer (with `configMapSync`). */
  private createPieces(props: CrossRegionConfigManagementProps, documentsPath: string): {
    replicator: CrossRegionSecretReplicator;
    driftDetector?: ConfigDriftDetector;
    configMapSyncer?: ConfigMapSyncer;
    parameterReplicator?: CrossRegionParameterReplicator;
  } {
    const name = (suffix: string) => functionName(props, suffix);
    const handlerOptions: HandlerOptions = {
      vpc: props.vpc,
      vpcSubnets: props.vpcSubnets,
      securityGroups: props.securityGroups,
      logRetention: props.logRetention,
      logGroupEncryptionKey: props.logGroupEncryptionKey,
      deadLetterQueueEncryptionKey: props.deadLetterQueueEncryptionKey,
      reservedConcurrentExecutions: props.reservedConcurrentExecutions,
      parameterStoreThroughput: props.parameterStoreThroughput,
    };
    const sourceEncryptionKeys = props.secretsManagerKey ? [props.secretsManagerKey] : undefined;
    const drift = props.driftDetection ?? {};
    const replication = props.replication ?? {};
    const replicator = new CrossRegionSecretReplicator(this, 'Replicator', {
      ...handlerOptions,
      secrets: replication.secrets ?? SecretSelection.byNamePrefix(`${props.environment}/${props.projectName}/`),
      replicaRegions: props.replicationRegions,
      replicaKmsKeys: replication.replicaKmsKeys,
      crossAccountReplicas: replication.crossAccountReplicas,
      sourceEncryptionKeys,
      provenanceKeyEncryptionKey: props.secretsManagerKey,
      conflictPolicy: replication.conflictPolicy,
      propagateDeletions: replication.propagateDeletions,
      reconciliationSchedule: replication.reconciliationSchedule,
      functionName: name('cross-region-sync'),
    });

    const parameterReplicator = props.parameterReplication
      ? this.createParameterReplicator(props.parameterReplication, props.replicationRegions, handlerOptions, documentsPath,
        name('parameter-sync'))
      : undefined;
    const parameterDrift = this.parameterDriftScope(drift, parameterReplicator);

    let driftDetector: ConfigDriftDetector | undefined;
    if (drift.enabled ?? true) {
      driftDetector = new ConfigDriftDetector(this, 'DriftDetector', {
        ...handlerOptions,
        replicator,
        parameterPaths: parameterDrift.paths,
        parameterOverrides: parameterDrift.overrides,
        // Auto-remediation writes the replicated SecureStrings with the parameter replicator's keys.
        parameterReplicaKmsKeys: parameterDrift.replicaKmsKeys,
        configMaps: drift.configMaps,
        // The documents below exist in the primary region only, by design.
        ignoreRules: [...(drift.ignoreRules ?? []), ...parameterDrift.ignoreRules, DriftIgnoreRule.parameters(`${documentsPath}/**`)],
        autoRemediation: drift.autoRemediation,
        schedule: drift.schedule,
        alertThreshold: drift.alertThreshold,
        graceWindow: drift.graceWindow,
        functionName: name('drift-detection'),
      });
      // The detector decrypts the replicated SecureStrings with the parameter replicator's keys.
      if (parameterReplicator) driftDetector._inheritParameterKeys(parameterReplicator);
      // The parameter replicator's cross-region-config document says a drift detector compares its parameters.
      if (parameterReplicator && parameterDrift.replicaKmsKeys) addCompanion(parameterReplicator, COMPANION_DRIFT_DETECTION);
    } else if (Object.keys(drift).some((option) => option !== 'enabled')) {
      Annotations.of(this).addWarningV2(`${WARNING}driftOptionsIgnored`, 'driftDetection options are ignored because driftDetection.enabled is false.');
    }

    let configMapSyncer: ConfigMapSyncer | undefined;
    if (props.configMapSync) {
      configMapSyncer = new ConfigMapSyncer(this, 'ConfigMapSyncer', {
        ...handlerOptions,
        targets: props.configMapSync.targets,
        parameterPath: props.configMapSync.parameterPath,
        sourceSecret: props.configMapSync.sourceSecret,
        sourceEncryptionKeys,
        includeKeys: props.configMapSync.includeKeys,
        excludeSensitiveKeys: props.configMapSync.excludeSensitiveKeys,
        projectName: props.projectName,
        environmentName: props.environment,
        functionName: name('configmap-sync'),
      });
      addCompanion(replicator, COMPANION_CONFIGMAP_SYNC);
    }
    return { replicator, driftDetector, configMapSyncer, parameterReplicator };
  }

  /** The parameter replicator of `parameterReplication`, writing its settings document next to the others. */
  private createParameterReplicator(
    options: ParameterReplicationOptions, replicaRegions: string[], handlerOptions: HandlerOptions, documentsPath: string,
    functionNameOfPiece: string,
  ): CrossRegionParameterReplicator {
    const parameters = options.parameters ?? ParameterSelection.fromPaths([this.parameterPrefix], { excludedPaths: [documentsPath] });
    return new CrossRegionParameterReplicator(this, 'ParameterReplicator', {
      ...handlerOptions,
      parameters,
      replicaRegions,
      overrides: options.overrides,
      replicaKmsKeys: options.replicaKmsKeys,
      conflictPolicy: options.conflictPolicy,
      propagateDeletions: options.propagateDeletions,
      maxWritesPerSecond: options.maxWritesPerSecond,
      reconciliationSchedule: options.reconciliationSchedule,
      parameterPrefix: this.parameterPrefix,
      functionName: functionNameOfPiece,
    });
  }

  /**
   * What the drift detector compares of Parameter Store: `driftDetection.parameterPaths` when given,
   * otherwise the parameter replicator's paths (with its excluded paths ignored); with the
   * replicator's overrides of the compared parameters.
   */
  private parameterDriftScope(drift: DriftDetectionOptions, replicator: CrossRegionParameterReplicator | undefined): {
    paths?: string[];
    overrides?: ParameterOverride[];
    ignoreRules: DriftIgnoreRule[];
    /** The replicator's SecureString replica keys, when the detector compares parameters the replicator writes. */
    replicaKmsKeys?: ReplicaKmsKey[];
  } {
    if (!replicator) return { paths: drift.parameterPaths, ignoreRules: [] };
    // The detector writes the replicator's parameters with its keys whenever it compares parameters.
    const keys = (paths: string[] | undefined) => (paths?.length ? { replicaKmsKeys: replicator.replicaKmsKeys } : {});
    if (replicator.parameters.paths.includes('/')) return { paths: drift.parameterPaths, ignoreRules: [], ...keys(drift.parameterPaths) };
    const paths = drift.parameterPaths ?? replicator.parameters.paths;
    const compared = (name: string) => paths.some((path) => name.startsWith(`${path}/`));
    const overrides = replicator.overrides.filter((o) => compared(o.parameterName));
    const ignoreRules = drift.parameterPaths ? [] : replicator.parameters.excludedPaths.map((path) => DriftIgnoreRule.parameters(`${path}/**`));
    return { paths, overrides: overrides.length ? overrides : undefined, ignoreRules, ...keys(paths) };
  }

  /**
   * The settings documents of the Parameter Store document layout (each piece's, or a disabled one),
   * and the pipeline's when given; returns them with the pipeline when it is in this stack.
   */
  private createDocuments(props: CrossRegionConfigManagementProps, documentsPath: string): {
    parameters: ssm.IStringParameter[]; pipeline?: MultiRegionPipeline;
  } {
    const stack = Stack.of(this);
    let pipeline: MultiRegionPipeline | undefined;
    const crossRegionConfig = this.document('CrossRegionConfig', 'cross-region-config', this.replicator?._configDocument ?? {
      primaryRegion: stack.region,
      replicationRegions: [],
      syncEnabled: false,
      driftDetectionEnabled: false,
      configMapSyncEnabled: false,
      lastSyncTimestamp: null,
    });
    this.replicator?._trackLastSyncIn(crossRegionConfig, `${documentsPath}/cross-region-config`);
    const parameters: ssm.IStringParameter[] = [
      crossRegionConfig,
      this.document('DriftDetectionConfig', 'drift-detection-config', this.driftDetector?._configDocument ?? { enabled: false }),
      this.document('ConfigMapSyncConfig', 'configmap-sync-config', this.configMapSyncer?._configDocument ?? { enabled: false }),
    ];

    if (props.pipeline) {
      const pipelineStack = Stack.of(props.pipeline);
      pipeline = pipelineStack === stack ? props.pipeline : undefined;
      const document = props.pipeline._settingsDocument;
      const otherEnvironment = pipelineStack.region !== stack.region || pipelineStack.account !== stack.account;
      if (otherEnvironment && Token.isUnresolved(stack.toJsonString(document))) {
        fail('pipeline', `must be in this stack's region and account (${stack.region}) when its source or settings refer to resources `
          + 'resolved at deploy time: the gitops-config document cannot reference them across regions', pipelineStack.region);
      }
      parameters.push(this.document('GitOpsConfig', 'gitops-config', document));
      if (pipeline) {
        pipeline.addAlarmAction(...this.alarmActions);
      } else if (this.alarmActions.length > 0) {
        Annotations.of(this).addWarningV2(`${WARNING}pipelineAlarmsNotRouted`,
          `The pipeline's alarms are not routed to alertingTopic: the pipeline is in another stack (${pipelineStack.stackName}), and routing `
          + 'them would make each stack depend on the other through the dashboard; use pipeline.addAlarmAction() in its stack.');
      }
    }
    return { parameters, pipeline };
  }

  /** Every alarm of every piece this construct created, and of an attached pipeline of the same stack. */
  public get alarms(): cloudwatch.IAlarm[] {
    return [...this.pieces(), ...(this.pipeline ? [this.pipeline] : [])].flatMap((piece) => piece.alarms);
  }

  /**
   * Adds actions to every alarm of every piece, and of an attached pipeline of the same stack,
   * including alarms created later.
   */
  public addAlarmAction(...alarmActions: cloudwatch.IAlarmAction[]): void {
    this.alarmActions.push(...alarmActions);
    for (const piece of [...this.pieces(), ...(this.pipeline ? [this.pipeline] : [])]) piece.addAlarmAction(...alarmActions);
  }

  /** The pieces this construct created. */
  private pieces(): Array<{ readonly alarms: cloudwatch.IAlarm[]; addAlarmAction(...actions: cloudwatch.IAlarmAction[]): void }> {
    return [this.replicator, this.driftDetector, this.configMapSyncer, this.parameterReplicator, this.configParity].filter((p) => p !== undefined);
  }

  /**
   * Routes every alarm to `topic`. CloudWatch publishes to a KMS-encrypted topic only if the key
   * lets it use the key, so a key of this app gets that statement; an imported key is named in a warning.
   */
  private routeAlarmsTo(topic: sns.ITopic): void {
    const key = topic.masterKey;
    if (key === undefined) {
      if (topic instanceof sns.Topic) {
        Annotations.of(this).addWarningV2(`${WARNING}alertingTopicNotEncrypted`,
          'alertingTopic has no masterKey: alarm notifications name resources and regions; encrypt the topic with a KMS key.');
      }
    } else if (key instanceof kms.Key) {
      key.addToResourcePolicy(new iam.PolicyStatement({
        sid: 'AllowCloudWatchAlarmsToPublish',
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        resources: ['*'],
      }));
    } else {
      Annotations.of(this).addWarningV2(`${WARNING}alertingTopicKeyPolicy`,
        'alertingTopic is encrypted with a key this app does not manage: its key policy must allow cloudwatch.amazonaws.com kms:Decrypt and '
        + 'kms:GenerateDataKey*, or alarm notifications are dropped (the AWS managed alias/aws/sns key cannot allow it).');
    }
    const topicRegion = Stack.of(topic).region;
    if (!Token.isUnresolved(topicRegion) && topicRegion !== Stack.of(this).region) {
      fail('alertingTopic', `must be in the stack's region ${Stack.of(this).region}: an alarm cannot notify a topic in another region`, topicRegion);
    }
    this.alarmActions.push(new actions.SnsAction(topic));
  }

  private document(id: string, name: string, value: unknown): ssm.StringParameter {
    claimParameterName(this, 'projectName and environment', this.parameterPrefix, `${this.parameterPrefix}/global/secrets/${name}`);
    return new ssm.StringParameter(this, id, {
      parameterName: `${this.parameterPrefix}/global/secrets/${name}`,
      description: `${name} of ${this.node.path}`.slice(0, 1024),
      tier: ssm.ParameterTier.STANDARD,
      stringValue: Stack.of(this).toJsonString(value),
    });
  }
}
