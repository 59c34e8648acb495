/**
 * The contract between the CrossRegionSecretReplicator construct and its Lambda handler:
 * environment variable names, the JSON shapes they carry, provenance tag keys and the manual
 * invocation payloads. Internal: not exported from the package entry point. The handler imports
 * it as types and constants only.
 */

/** Environment variables the construct sets on the replicator handler. */
export const ReplicatorEnv = {
  /** Region the secrets are read from (the source of truth). */
  PRIMARY_REGION: 'PRIMARY_REGION',
  /** JSON `ReplicaTargetConfig[]`. */
  REPLICA_TARGETS: 'REPLICA_TARGETS',
  /** JSON `SelectionConfig`. */
  SELECTION: 'SECRET_SELECTION',
  /** One of `ConflictPolicyName`. */
  CONFLICT_POLICY: 'CONFLICT_POLICY',
  /** `true` or `false`: copy the primary secret's own tags to the replicas. */
  REPLICATE_TAGS: 'REPLICATE_TAGS',
  /** `true` or `false`: schedule replica deletion when the primary is deleted. */
  PROPAGATE_DELETIONS: 'PROPAGATE_DELETIONS',
  /** Recovery window (days, 7-30) used when a deletion is propagated. */
  DELETION_RECOVERY_WINDOW_DAYS: 'DELETION_RECOVERY_WINDOW_DAYS',
  /** ARN of the secret (in the primary region) holding the HMAC key for content hashes. */
  PROVENANCE_KEY_SECRET_ARN: 'PROVENANCE_KEY_SECRET_ARN',
  /**
   * Name of the cross-region-config parameter whose `lastSyncTimestamp` the handler keeps current
   * after each successful sync; absent when the construct writes no parameter.
   */
  CONFIG_PARAMETER_NAME: 'CONFIG_PARAMETER_NAME',
  /**
   * Value of the provenance tag `cross-region-config:deployment` the handler writes on every replica;
   * set when IAM scopes replica writes by that tag (selections with tag-only rules or secrets whose
   * names are only known at deploy time). Absent otherwise: no deployment tag is written.
   */
  DEPLOYMENT_ID: 'DEPLOYMENT_ID',
  /** CloudWatch namespace for the EMF metrics (read by Powertools Metrics). */
  METRIC_NAMESPACE: 'POWERTOOLS_METRICS_NAMESPACE',
  /** Value of the `service` dimension on every metric (read by Powertools). */
  SERVICE_NAME: 'POWERTOOLS_SERVICE_NAME',
} as const;

/** One replica region (and optionally another account through a role). */
export interface ReplicaTargetConfig {
  readonly region: string;
  /** KMS key id, ARN, alias name or alias ARN in that region; absent means `aws/secretsmanager`. */
  readonly kmsKeyId?: string;
  /** Role to assume for writes in this target (cross-account). */
  readonly roleArn?: string;
}

/**
 * One selection rule. A secret matches the rule when it matches any of `names`, `arns` or
 * `namePrefixes` (or none of those is given) and it carries every tag in `tags`.
 */
export interface SelectionRuleConfig {
  readonly names?: string[];
  readonly arns?: string[];
  readonly namePrefixes?: string[];
  /** Tag key to required value. */
  readonly tags?: Record<string, string>;
}

/** A secret is selected when any rule matches it. */
export interface SelectionConfig {
  readonly rules: SelectionRuleConfig[];
}

/** Wire names of the conflict policies. */
export type ConflictPolicyName = 'PRIMARY_WINS' | 'SKIP_AND_ALARM';

/** Prefix shared by every provenance tag the replicator writes on a replica. */
export const PROVENANCE_TAG_PREFIX = 'cross-region-config:';

/**
 * Provenance tags. Values never contain secret material. The replicator keeps `SOURCE_REGION`,
 * `SOURCE_ARN` and `KMS_KEY` on every replica secret (they do not change with the value) and sets
 * `DELETION_PROPAGATED_AT` before it schedules a deletion. Which primary version a replica holds
 * is carried by the replica's version id itself (see the handler's `version-id.ts`), so a value
 * write needs no tagging; `SOURCE_VERSION_ID`, `CONTENT_HMAC`, `REPLICA_VERSION_ID` and
 * `SYNCED_AT` were written on replica secrets by earlier releases and are removed with the next
 * value write (`SYNCED_AT` is still used on replicated parameters by the drift detector).
 */
export const ProvenanceTag = {
  /** Region of the primary secret. */
  SOURCE_REGION: `${PROVENANCE_TAG_PREFIX}source-region`,
  /** Full ARN of the primary secret. */
  SOURCE_ARN: `${PROVENANCE_TAG_PREFIX}source-arn`,
  /** VersionId of the primary's AWSCURRENT version that was copied. */
  SOURCE_VERSION_ID: `${PROVENANCE_TAG_PREFIX}source-version-id`,
  /** HMAC-SHA256 (per-deployment key) of the copied value, hex. Never a plain hash. */
  CONTENT_HMAC: `${PROVENANCE_TAG_PREFIX}content-hmac`,
  /** VersionId the replicator gave the replica's value; any other AWSCURRENT is a local change. */
  REPLICA_VERSION_ID: `${PROVENANCE_TAG_PREFIX}replica-version-id`,
  /** KMS key (id, ARN or alias) the replicator applied; `aws/secretsmanager` for the default. */
  KMS_KEY: `${PROVENANCE_TAG_PREFIX}kms-key`,
  /** Set just before the replicator schedules a replica's deletion (ISO 8601), so a later restore is ours too. */
  DELETION_PROPAGATED_AT: `${PROVENANCE_TAG_PREFIX}deletion-propagated-at`,
  /** When the primary was read for this copy (ISO 8601); orders concurrent writers. */
  SYNCED_AT: `${PROVENANCE_TAG_PREFIX}synced-at`,
  /**
   * The deployment (replicator) that manages the replica, `<stack name>.<construct address>`. Written
   * only where IAM scopes replica writes by it, so that two deployments from one primary region
   * cannot write each other's replicas.
   */
  DEPLOYMENT: `${PROVENANCE_TAG_PREFIX}deployment`,
} as const;

/** Replica-secret provenance tags of earlier releases, removed by the replicator when it next writes the value. */
export const LEGACY_PROVENANCE_TAGS = {
  SOURCE_VERSION_ID: ProvenanceTag.SOURCE_VERSION_ID,
  CONTENT_HMAC: ProvenanceTag.CONTENT_HMAC,
  REPLICA_VERSION_ID: ProvenanceTag.REPLICA_VERSION_ID,
  SYNCED_AT: ProvenanceTag.SYNCED_AT,
} as const;

/**
 * Secrets Manager API calls (and the rotation service event) that change a secret: the
 * EventBridge rule matches them and the handler replicates them.
 */
export const SECRET_EVENT_NAMES = [
  'CreateSecret', 'PutSecretValue', 'UpdateSecret', 'UpdateSecretVersionStage', 'RotateSecret',
  'RotationSucceeded', 'TagResource', 'UntagResource', 'DeleteSecret', 'RestoreSecret',
] as const;

/**
 * Metrics the handler emits (EMF, through Powertools Metrics): each once as a total with the
 * dimension `service`, and once per replica region with `service` and `ReplicaRegion`.
 */
export const ReplicatorMetric = {
  /** Count of replica writes (create or update) that succeeded. */
  REPLICATED_SECRETS: 'ReplicatedSecrets',
  /** Count of (secret, replica) pairs that failed after retries. */
  REPLICATION_FAILURES: 'ReplicationFailures',
  /** Count of replicas found changed in their own region since the last copy. */
  CONFLICTS: 'Conflicts',
  /** Milliseconds from the primary version's creation to the replica write (unit: Milliseconds). */
  REPLICATION_LATENCY: 'ReplicationLatency',
  /**
   * Seconds since the last reconciliation in which every selected secret agreed in a replica
   * region (unit: Seconds). Emitted by every reconciliation, per region, when known: 0 when the
   * region agreed in that run. No datapoint means not known (the reconciliation did not run, or no
   * run this execution environment made saw the region agree), which the alarm treats as breaching.
   */
  SECONDS_SINCE_FULL_SYNC: 'SecondsSinceFullSync',
} as const;

/** Dimension Powertools Metrics adds to every metric; its value is `POWERTOOLS_SERVICE_NAME`. */
export const SERVICE_DIMENSION = 'service';
/** Dimension of the per-region metrics. */
export const REPLICA_REGION_DIMENSION = 'ReplicaRegion';

/** Manual invocation payloads, e.g. `aws lambda invoke --payload '{"action":"test_sync"}'`. */
export type ManualAction = 'test_sync' | 'connectivity_test' | 'reconcile';

/** Payload of a manual invocation, and of the scheduled reconciliation (`reconcile`). */
export interface ManualInvocation {
  readonly action: ManualAction;
}
