/**
 * What the secret replicator and the drift detector agree on with their handlers about secrets:
 * the selection and replica-target shapes, the provenance tag keys written on replicas, and the
 * Secrets Manager change events. Internal: not exported from the package entry point; handlers
 * import it as types and constants only.
 */

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
