/**
 * Kinds of construct that can name a replicator as theirs, so that the replicator's
 * cross-region-config document says which pieces run next to it (`driftDetectionEnabled`,
 * `configMapSyncEnabled`, the seed's fields). Internal.
 */
export const COMPANION_DRIFT_DETECTION = 'drift-detection';
export const COMPANION_CONFIGMAP_SYNC = 'configmap-sync';
