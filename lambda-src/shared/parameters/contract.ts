// What the parameter replication engine shares with the CrossRegionParameterReplicator construct:
// the one place under lambda-src/shared that names where its contract lives in src/.
export type {
  ConflictPolicyName, ParameterOverrideConfig, ParameterReconcileCursor, ParameterRegionPosition,
  ParameterReplicaTargetConfig, ParameterSelectionConfig,
  ParameterTierName,
} from '../../../src/parameter-replicator/contract';
export {
  ADVANCED_TIER_MAX_BYTES, COPIED_DATA_TYPE, DEFAULT_SECURE_STRING_KEY, ParameterProvenanceTag, ParameterReplicatorMetric,
  PROVENANCE_TAG_PREFIX, REPLICA_REGION_DIMENSION, STANDARD_TIER_MAX_BYTES,
} from '../../../src/parameter-replicator/contract';
