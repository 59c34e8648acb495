// What the handlers that read or write secrets (replicator, drift detector, ConfigMap syncer) share
// with the constructs: the one place under lambda-src/shared that names where these live in src/.
export type { ConflictPolicyName, ReplicaTargetConfig, SelectionConfig, SelectionRuleConfig } from '../../../src/secret-replicator/contract';
export {
  LEGACY_PROVENANCE_TAGS,
  PROVENANCE_TAG_PREFIX,
  ProvenanceTag,
  REPLICA_REGION_DIMENSION,
  ReplicatorMetric,
  SECRET_EVENT_NAMES,
} from '../../../src/secret-replicator/contract';
