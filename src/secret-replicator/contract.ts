/**
 * The contract between the CrossRegionSecretReplicator construct and its Lambda handler:
 * environment variable names, the JSON shapes they carry, provenance tag keys and the manual
 * invocation payloads. Internal: not exported from the package entry point. The handler imports
 * it as types and constants only.
 */

export { LEGACY_PROVENANCE_TAGS, PROVENANCE_TAG_PREFIX, ProvenanceTag, SECRET_EVENT_NAMES } from '../core/secrets-contract';
export type { ReplicaTargetConfig, SelectionConfig, SelectionRuleConfig } from '../core/secrets-contract';

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

/** Wire names of the conflict policies. */
export type ConflictPolicyName = 'PRIMARY_WINS' | 'SKIP_AND_ALARM';

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

/** Dimension of the per-region metrics. */
export const REPLICA_REGION_DIMENSION = 'ReplicaRegion';

/** Manual invocation payloads, e.g. `aws lambda invoke --payload '{"action":"test_sync"}'`. */
export type ManualAction = 'test_sync' | 'connectivity_test' | 'reconcile';

/** Payload of a manual invocation, and of the scheduled reconciliation (`reconcile`). */
export interface ManualInvocation {
  readonly action: ManualAction;
}
