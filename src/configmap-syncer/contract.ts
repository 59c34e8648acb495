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
  /** JSON `RolloutConfig`; absent when no target names workloads. */
  ROLLOUT: 'ROLLOUT',
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
  /** Workloads in `namespace` whose pods read the ConfigMap and are rolled when its data changes; absent means none. */
  readonly workloads?: WorkloadSelectorConfig[];
}

/** Workloads of one kind, by name or by label selector, in the target's namespace. */
export interface WorkloadSelectorConfig {
  readonly kind: 'Deployment' | 'StatefulSet' | 'DaemonSet';
  /** Exactly one of `name` and `labelSelector`. */
  readonly name?: string;
  /** A Kubernetes label selector (`app=web,tier in (front)`). */
  readonly labelSelector?: string;
}

/** How rollouts proceed across clusters (see README, "Rolling workloads"). */
export interface RolloutConfig {
  /** `primary-first`: the primary region's clusters, then all others at once; `region-by-region`: then one region at a time. */
  readonly waves: 'primary-first' | 'region-by-region';
  /** A new content hash rolls only once the ConfigMap has kept it this long (s): changes within it make one rollout. */
  readonly pauseSeconds: number;
  /** A rollout not complete this long (s) after it started has failed: later waves do not start. */
  readonly rolloutTimeoutSeconds: number;
  /** Start the next wave this long (s) after the previous one started, complete or not; absent means only when it completed. */
  readonly waveWaitSeconds?: number;
  /** Longest time (s) one invocation keeps polling to move waves on; later waves wait for the next invocation. */
  readonly pollSeconds: number;
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

/**
 * Metrics of the workload rollout (only emitted when a target names workloads), each once as a
 * total and once per cluster, like `SyncMetric`.
 */
export const RolloutMetric = {
  /** Workloads whose pod template annotation was changed to roll their pods (counted per cluster). */
  ROLLOUTS_STARTED: 'RolloutsStarted',
  /** Rollouts seen complete: observedGeneration current and every replica updated and available. */
  ROLLOUTS_COMPLETED: 'RolloutsCompleted',
  /** Rollouts not complete within their timeout, and workloads that could not be read or patched. */
  ROLLOUTS_FAILED: 'RolloutsFailed',
} as const;

/** Dimension of the per-target metrics: `<region>/<cluster name>`. */
export const CLUSTER_DIMENSION = 'Cluster';

/** Annotation holding the SHA-256 of the synced data, so Reloader-style controllers can roll out. */
export const CONTENT_HASH_ANNOTATION = 'cross-region-config.dev/content-hash';
/**
 * Annotation prefixes of a rolled workload, each followed by `/<configMapName>`: the content hash on
 * the pod template (the change that rolls the pods) and on the object (the hash the pods have: rolled
 * or adopted), the rollout's state (`adopted`, `rolling`, `complete`, `failed`) and its start time.
 */
export const ROLLOUT_ANNOTATION = {
  HASH: 'rollout.cross-region-config.dev',
  STATE: 'rollout-state.cross-region-config.dev',
  STARTED: 'rollout-started.cross-region-config.dev',
} as const;
/** Field manager of a workload's rollout annotations for one ConfigMap: this prefix and the ConfigMap's name. */
export const ROLLOUT_FIELD_MANAGER_PREFIX = 'cross-region-config-rollout.';

/** Field manager of the syncer's server-side applies (shared with the drift detector's remediation). */
export { CONFIGMAP_FIELD_MANAGER } from '../private/kubernetes-contract';

/**
 * Manual invocation payloads: `{"action":"test_sync"}` computes what would be applied (server-side
 * dry run) and changes nothing; `{"action":"sync"}` (also the schedule's) syncs every target now.
 */
export type SyncAction = 'test_sync' | 'sync';
