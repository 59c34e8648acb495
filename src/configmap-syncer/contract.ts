/**
 * The contract between the ConfigMapSyncer construct and its Lambda handler: environment variable
 * names, the JSON shapes they carry, metric and dimension names and the invocation payloads.
 * Internal: not exported from the package entry point. The handler imports it as types and
 * constants only.
 */
import type { KubernetesClusterConfig } from '../private/kubernetes-contract';

/** Environment variables the construct sets on the syncer handler. */
export const SyncEnv = {
  /** Region of the source (this stack's region). */
  PRIMARY_REGION: 'PRIMARY_REGION',
  /** SSM parameter path read recursively (e.g. `/app/prod/config`); absent when no parameters are a source. */
  SOURCE_PARAMETER_PATH: 'SOURCE_PARAMETER_PATH',
  /** ARN of a secret in the primary region whose JSON keys are a source; absent when no secret is a source. */
  SOURCE_SECRET_ARN: 'SOURCE_SECRET_ARN',
  /** JSON `SyncTargetConfig[]`. */
  TARGETS: 'SYNC_TARGETS',
  /** JSON `string[]` of key names and globs (`*`, `?`); absent or `[]` means every key. */
  INCLUDE_KEYS: 'INCLUDE_KEYS',
  /** `true` or `false`: refuse keys whose names or values look sensitive. */
  EXCLUDE_SENSITIVE_KEYS: 'EXCLUDE_SENSITIVE_KEYS',
  /** `true` or `false`: take over keys another field manager owns (server-side apply `force`). */
  FORCE_CONFLICTS: 'FORCE_CONFLICTS',
  /** CloudWatch namespace for the EMF metrics (read by Powertools Metrics). */
  METRIC_NAMESPACE: 'POWERTOOLS_METRICS_NAMESPACE',
  /** Value of the `service` dimension on every metric (read by Powertools). */
  SERVICE_NAME: 'POWERTOOLS_SERVICE_NAME',
} as const;

export type { KubernetesClusterConfig };

/** One ConfigMap the handler keeps in sync. */
export interface SyncTargetConfig {
  readonly cluster: KubernetesClusterConfig;
  readonly namespace: string;
  readonly configMapName: string;
  /** Create the namespace when it does not exist (needs cluster-scoped access to namespaces). */
  readonly createNamespace: boolean;
}

/**
 * Metrics the handler emits (EMF, through Powertools Metrics): each once as a total with the
 * dimension `service`, and once per target with `service` and `Cluster` (`<region>/<cluster name>`).
 */
export const SyncMetric = {
  /** ConfigMaps written or confirmed in sync. */
  SYNC_SUCCESS: 'SyncSuccess',
  /** ConfigMaps that could not be written (unreachable, denied, conflict, too large). */
  SYNC_FAILURE: 'SyncFailure',
  /** Keys refused because their name or value looks sensitive (counted per target). */
  KEYS_EXCLUDED: 'KeysExcluded',
} as const;

/** Dimension of the per-target metrics: `<region>/<cluster name>`. */
export const CLUSTER_DIMENSION = 'Cluster';

/** Annotation holding the SHA-256 of the synced data, so Reloader-style controllers can roll out. */
export const CONTENT_HASH_ANNOTATION = 'cross-region-config.dev/content-hash';
/** Field manager of the syncer's server-side applies (shared with the drift detector's remediation). */
export { CONFIGMAP_FIELD_MANAGER } from '../private/kubernetes-contract';

/**
 * Manual invocation payloads: `{"action":"test_sync"}` computes what would be applied (server-side
 * dry run) and changes nothing; `{"action":"sync"}` (also the schedule's) syncs every target now.
 */
export type SyncAction = 'test_sync' | 'sync';
