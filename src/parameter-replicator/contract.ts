/**
 * The contract between the CrossRegionParameterReplicator construct and its Lambda handler:
 * environment variable names, the JSON shapes they carry, provenance tag keys, the Parameter Store
 * change events, the metrics and the manual invocation payloads. Internal: not exported from the
 * package entry point. The handler imports it as types and constants only.
 */
import type { ParameterOverrideConfig } from '../core/comparison-contract';
import { PROVENANCE_TAG_PREFIX } from '../core/secrets-contract';

export { PROVENANCE_TAG_PREFIX };
export type { ParameterOverrideConfig };

/**
 * Environment variables the construct sets on the parameter replicator handler. The JSON ones that
 * grow with the user's selection (`SELECTION`, `OVERRIDES`, `REPLICA_TARGETS`) are growable
 * settings: the construct passes them through `HandlerSettings`, and the handler reads them through
 * `withSettings`, so they may live in a settings document instead of the environment.
 */
export const ParameterReplicatorEnv = {
  /** Region the parameters are read from (the source of truth). */
  PRIMARY_REGION: 'PRIMARY_REGION',
  /** JSON `ParameterReplicaTargetConfig[]` (at least one). Growable. */
  REPLICA_TARGETS: 'REPLICA_TARGETS',
  /** JSON `ParameterSelectionConfig`. Growable. */
  SELECTION: 'PARAMETER_SELECTION',
  /** JSON `ParameterOverrideConfig[]` (may be `[]`; absent means none). Growable. */
  OVERRIDES: 'PARAMETER_OVERRIDES',
  /** One of `ConflictPolicyName`. @default PRIMARY_WINS */
  CONFLICT_POLICY: 'CONFLICT_POLICY',
  /** `true` or `false`: copy the primary parameter's own tags to the replicas. @default true */
  REPLICATE_TAGS: 'REPLICATE_TAGS',
  /** `true` or `false`: delete a replica when its primary is deleted. @default false */
  PROPAGATE_DELETIONS: 'PROPAGATE_DELETIONS',
  /**
   * PutParameter (and tag) writes per second the handler allows itself in each replica region
   * (integer, `MIN_WRITES_PER_SECOND` to `MAX_WRITES_PER_SECOND`). @default DEFAULT_WRITES_PER_SECOND
   */
  WRITES_PER_SECOND: 'WRITES_PER_SECOND',
  /** ARN of the secret (in the primary region) holding the HMAC key for the provenance tag. */
  PROVENANCE_KEY_SECRET_ARN: 'PROVENANCE_KEY_SECRET_ARN',
  /**
   * Name of the cross-region-config parameter whose `lastSyncTimestamp` the handler keeps current
   * after each run in which every replica agreed; absent when the construct writes no parameter.
   */
  CONFIG_PARAMETER_NAME: 'CONFIG_PARAMETER_NAME',
  /**
   * Value of the provenance tag `cross-region-config:deployment` the handler writes on every
   * replica; set when IAM scopes replica writes by that tag. Absent otherwise: no deployment tag.
   */
  DEPLOYMENT_ID: 'DEPLOYMENT_ID',
  /** CloudWatch namespace for the EMF metrics (read by Powertools Metrics). */
  METRIC_NAMESPACE: 'POWERTOOLS_METRICS_NAMESPACE',
  /** Value of the `service` dimension on every metric (read by Powertools). */
  SERVICE_NAME: 'POWERTOOLS_SERVICE_NAME',
} as const;

/** Parameter tiers, as Parameter Store names them. */
export type ParameterTierName = 'Standard' | 'Advanced' | 'Intelligent-Tiering';

/** One replica region (and optionally another account through a role). */
export interface ParameterReplicaTargetConfig {
  readonly region: string;
  /**
   * KMS key for SecureString replicas in that region: key id, key ARN, alias name (`alias/...`) or
   * alias ARN. Absent means `DEFAULT_SECURE_STRING_KEY` (`alias/aws/ssm`).
   */
  readonly kmsKeyId?: string;
  /** Role to assume for reads and writes in this target (cross-account). */
  readonly roleArn?: string;
  /**
   * Tier of the replicas in this region. Absent means the primary's tier. A value longer than the
   * tier allows (`STANDARD_TIER_MAX_BYTES`, `ADVANCED_TIER_MAX_BYTES`) is a replication failure.
   * An existing Advanced replica is never downgraded (Parameter Store does not allow it).
   */
  readonly tier?: ParameterTierName;
}

/**
 * Which parameters are replicated. A parameter is selected when its name is below one of `paths`
 * (recursively), matches one of `namePatterns` (when given), carries every tag in `tags` (when
 * given), is below none of `excludedPaths`, and is not one of the library's settings documents
 * (below `/cdk-cross-region-config`, which is never replicated).
 */
export interface ParameterSelectionConfig {
  /** Paths such as `/app/prod` (or `/` for all); every parameter below each, recursively. At least one. */
  readonly paths: string[];
  /**
   * Globs over the full name: `*` matches within a path segment, `**` across segments, `?` one
   * character. Absent or empty means every name below `paths`.
   */
  readonly namePatterns?: string[];
  /** Tag key to required value. Absent or empty means no tag condition. */
  readonly tags?: Record<string, string>;
  /** Paths whose parameters are never replicated, recursively. */
  readonly excludedPaths?: string[];
}

/** Wire names of the conflict policies (the same as the secret replicator's). */
export type ConflictPolicyName = 'PRIMARY_WINS' | 'SKIP_AND_ALARM';

/**
 * Provenance tags the handler keeps on every replica parameter. Values never contain parameter
 * values: `CONTENT_HMAC` is an HMAC-SHA256 under the per-deployment provenance key.
 *
 * How the handler tells its own older copy (a race between two of its runs) from a change made in
 * the replica's region (a conflict), when a replica holds neither the primary's value nor its
 * override: the replica is the handler's own when `CONTENT_HMAC` equals the HMAC of
 * (name, replica region, the replica's current value), or when the replica's current value is one
 * the primary held in its version history (a concurrent run copied it before the primary changed
 * again; its tags may have been overtaken by the other run's). Any other value was written by
 * someone else: a conflict. Parameter Store cannot set tags in an overwriting PutParameter, so the
 * tags are written just after the value; the history check covers a run that stopped in between.
 */
export const ParameterProvenanceTag = {
  /** Region of the primary parameter. */
  SOURCE_REGION: `${PROVENANCE_TAG_PREFIX}source-region`,
  /** Version of the primary parameter that was copied (a decimal number). */
  SOURCE_VERSION: `${PROVENANCE_TAG_PREFIX}source-version`,
  /** HMAC-SHA256 (per-deployment key) of (name, replica region, value written), hex. */
  CONTENT_HMAC: `${PROVENANCE_TAG_PREFIX}content-hmac`,
  /** When the primary was read for this copy (ISO 8601). Also written by the drift detector's repairs. */
  SYNCED_AT: `${PROVENANCE_TAG_PREFIX}synced-at`,
  /** The deployment that manages the replica; written only when `DEPLOYMENT_ID` is set. */
  DEPLOYMENT: `${PROVENANCE_TAG_PREFIX}deployment`,
} as const;

/** Source of the Parameter Store change events on EventBridge (native, no CloudTrail needed). */
export const PARAMETER_EVENT_SOURCE = 'aws.ssm';
/** Detail type of the Parameter Store change events. */
export const PARAMETER_EVENT_DETAIL_TYPE = 'Parameter Store Change';
/** `detail.operation` values the rule matches and the handler acts on. */
export const PARAMETER_EVENT_OPERATIONS = ['Create', 'Update', 'Delete', 'LabelParameterVersion'] as const;
export type ParameterEventOperation = typeof PARAMETER_EVENT_OPERATIONS[number];

/**
 * Metrics the handler emits (EMF, through Powertools Metrics): each once as a total with the
 * dimension `service`, and once per replica region with `service` and `ReplicaRegion`. Names
 * mirror the secret replicator's.
 */
export const ParameterReplicatorMetric = {
  /** Count of replica writes (create or update) that succeeded. */
  REPLICATED_PARAMETERS: 'ReplicatedParameters',
  /**
   * Count of (parameter, replica) pairs that failed: after retries, or at once for a failure no
   * retry can mend (a value too long for the replica's tier, a regional `aws:ec2:image` value
   * without a declared override, a value the replica's allowed pattern refuses).
   */
  REPLICATION_FAILURES: 'ReplicationFailures',
  /** Count of replicas found changed in their own region (see `ParameterProvenanceTag`). */
  CONFLICTS: 'Conflicts',
  /** Milliseconds from the primary version's last modification to the replica write (unit: Milliseconds). */
  REPLICATION_LATENCY: 'ReplicationLatency',
  /**
   * Seconds since the last reconciliation in which every selected parameter agreed in a replica
   * region (unit: Seconds). Emitted by every reconciliation, per region, when known: 0 when the
   * region agreed in that run. No datapoint means not known, which the alarm treats as breaching.
   */
  SECONDS_SINCE_FULL_SYNC: 'SecondsSinceFullSync',
  /** Count of Parameter Store requests answered with throttling (each is retried after a pause). */
  THROTTLED_REQUESTS: 'ThrottledRequests',
} as const;

/** Dimension of the per-region metrics. */
export const REPLICA_REGION_DIMENSION = 'ReplicaRegion';

/** Manual invocation actions, e.g. `aws lambda invoke --payload '{"action":"test_sync"}'`. */
export type ParameterManualAction = 'test_sync' | 'connectivity_test' | 'reconcile';

/**
 * Payload of a manual invocation, and of the scheduled reconciliation (`{"action":"reconcile"}`).
 * `test_sync` is a dry run: it reports what `reconcile` would write and writes nothing.
 */
export interface ParameterManualInvocation {
  readonly action: ParameterManualAction;
  /**
   * `reconcile` and `test_sync` only: resume a reconciliation that stopped early, from the
   * `cursor` its summary returned (the one-region-at-a-time shape of earlier releases is still
   * accepted). @default - from the start
   */
  readonly cursor?: ParameterReconcileCursor | LegacyParameterReconcileCursor;
}

/**
 * Where a reconciliation stopped early (its summary has `complete: false` and this `cursor`): the
 * replica regions still to be worked, each resuming after the parameter name `after` (names are
 * processed in code-point order; without `after`, from the first). A replica region not listed was
 * worked to the end. Replica regions are reconciled concurrently, so several may stop midway.
 */
export interface ParameterReconcileCursor {
  readonly regions: readonly ParameterRegionPosition[];
}

/** Where one replica region of a reconciliation resumes. */
export interface ParameterRegionPosition {
  /** Index of the region in `REPLICA_TARGETS`. */
  readonly targetIndex: number;
  /** The region at that index when the cursor was made: a cursor from other targets is refused. */
  readonly region: string;
  /** The last parameter name worked in the region; absent when none was. */
  readonly after?: string;
}

/**
 * The cursor of releases that reconciled the replica regions one after another: the region at
 * `targetIndex` resumes after `after`, the later regions from their first name, the earlier ones
 * are done. Still accepted (manual invocations and continuations sent before an upgrade).
 */
export interface LegacyParameterReconcileCursor {
  readonly targetIndex: number;
  readonly after?: string;
}

/** Default KMS key of SecureString replicas. */
export const DEFAULT_SECURE_STRING_KEY = 'alias/aws/ssm';
/** Longest value of a Standard-tier parameter, in bytes. */
export const STANDARD_TIER_MAX_BYTES = 4096;
/** Longest value of an Advanced-tier parameter, in bytes. */
export const ADVANCED_TIER_MAX_BYTES = 8192;
/** Data types Parameter Store accepts; only `text` values are copied verbatim. */
export const COPIED_DATA_TYPE = 'text';
/** Default of `WRITES_PER_SECOND`: well under PutParameter's default throughput per account and region. */
export const DEFAULT_WRITES_PER_SECOND = 2;
/** Smallest `WRITES_PER_SECOND`. */
export const MIN_WRITES_PER_SECOND = 1;
/** Largest `WRITES_PER_SECOND` (PutParameter's highest throughput quota is 1,000 per second). */
export const MAX_WRITES_PER_SECOND = 1000;
/** Default interval of the scheduled reconciliation, in hours. */
export const DEFAULT_RECONCILE_INTERVAL_HOURS = 6;

/**
 * The API calls the handler makes, for the construct's least-privilege policy. Every SSM action is
 * scoped to `parameter/<path>*` (the selection's paths) in its region; none needs `*`
 * (DescribeParameters, which would, is not used: metadata is read with GetParameterHistory).
 */
export const ParameterReplicatorActions = {
  /**
   * On the selected parameters in the primary region. `ssm:GetParameters` (which IAM authorizes
   * apart from GetParameter) reads the primaries of the parameters just written again, 10 a call.
   */
  PRIMARY_READ: ['ssm:GetParametersByPath', 'ssm:GetParameter', 'ssm:GetParameterHistory', 'ssm:ListTagsForResource', 'ssm:GetParameters'],
  /** On the selected parameters' replicas in each replica region (through the target's role when set). */
  REPLICA_READ: ['ssm:GetParametersByPath', 'ssm:GetParameter', 'ssm:GetParameterHistory', 'ssm:ListTagsForResource'],
  /** On the replicas: value and metadata writes, provenance and mirrored tags. */
  REPLICA_WRITE: ['ssm:PutParameter', 'ssm:AddTagsToResource', 'ssm:RemoveTagsFromResource'],
  /** On the replicas, only when `PROPAGATE_DELETIONS` is `true`. */
  REPLICA_DELETE: ['ssm:DeleteParameter'],
  /** On the primary's SecureString keys (through the SSM service, `kms:ViaService`). */
  PRIMARY_KMS: ['kms:Decrypt'],
  /** On each replica region's SecureString key (by ARN, or by alias through `kms:RequestAlias` / `kms:ResourceAliases`). */
  REPLICA_KMS: ['kms:Encrypt', 'kms:Decrypt', 'kms:GenerateDataKey'],
  /** On the provenance key secret (primary region). */
  PROVENANCE_KEY: ['secretsmanager:GetSecretValue'],
  /** On `CONFIG_PARAMETER_NAME` (primary region), when set. */
  CONFIG_PARAMETER: ['ssm:GetParameter', 'ssm:PutParameter'],
} as const;
