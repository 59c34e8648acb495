/**
 * The contract between the ConfigParityCheck construct and its Lambda handler: environment variable
 * names, the JSON shapes they carry, metric and dimension names, and the invocation payloads.
 * Internal: not exported from the package entry point. The handler imports it as types and
 * constants only.
 */
import type {
  ConfigMapScopeConfig, DriftTypeName, IgnoreRuleConfig, ParameterOverrideConfig, ReplicaTargetConfig, ResourceKindName, SelectionConfig,
} from '../core/comparison-contract';

export type {
  ConfigMapScopeConfig, DriftTypeName, IgnoreRuleConfig, ParameterOverrideConfig, ReplicaTargetConfig, ResourceKindName, SelectionConfig,
};

/** Environment variables the construct sets on the parity check handler. */
export const ParityEnv = {
  /** Region holding the source of truth. */
  PRIMARY_REGION: 'PRIMARY_REGION',
  /** JSON `ReplicaTargetConfig[]`: every region the check may be asked about (with the KMS key its secrets are expected to use). */
  TARGETS: 'PARITY_TARGETS',
  /** JSON `SelectionConfig` of the secrets to compare; absent when secrets are not compared. */
  SECRET_SELECTION: 'SECRET_SELECTION',
  /** JSON `string[]` of SSM parameter paths compared recursively; absent when parameters are not compared. */
  PARAMETER_PATHS: 'PARAMETER_PATHS',
  /** JSON `ParameterOverrideConfig[]`: declared per-region parameter values, the expected value in that region. */
  PARAMETER_OVERRIDES: 'PARAMETER_OVERRIDES',
  /** JSON `ConfigMapScopeConfig[]`; absent when ConfigMaps are not compared. */
  CONFIGMAP_SCOPES: 'CONFIGMAP_SCOPES',
  /** JSON `IgnoreRuleConfig[]`. */
  IGNORE_RULES: 'IGNORE_RULES',
  /** Names of parameters never compared (this library's settings documents). */
  EXCLUDED_PARAMETERS: 'EXCLUDED_PARAMETERS',
  /** ARN of a secret never compared (a linked replicator's provenance key). */
  EXCLUDED_SECRET_ARN: 'EXCLUDED_SECRET_ARN',
  /** Seconds: an item changed in the primary this recently is not compared (it may still be replicating). */
  GRACE_WINDOW_SECONDS: 'GRACE_WINDOW_SECONDS',
  /** `true` (default) or `false`: a region, cluster or item that cannot be read fails the check. */
  FAIL_WHEN_UNREADABLE: 'FAIL_WHEN_UNREADABLE',
  /** CloudWatch namespace for the EMF metrics (read by Powertools Metrics). */
  METRIC_NAMESPACE: 'POWERTOOLS_METRICS_NAMESPACE',
  /** Value of the `service` dimension on every metric (read by Powertools). */
  SERVICE_NAME: 'POWERTOOLS_SERVICE_NAME',
} as const;

/** Metrics the handler emits per checked region (EMF), each with `service` and `TargetRegion`. */
export const ParityMetric = {
  /** 1 when the region agrees with the primary, else 0 (also 0 when it could not be read and the check fails closed). */
  CONFIG_PARITY: 'ConfigParity',
  /** Items that differ from the primary (missing, other value, other metadata). */
  DIFFERENCES: 'ParityDifferences',
  /** Regions, clusters or items the check could not read. */
  UNREADABLE: 'ParityUnreadable',
} as const;

/** Dimension of every parity metric: the region compared with the primary. */
export const TARGET_REGION_DIMENSION = 'TargetRegion';

/**
 * Direct invocation: `{"action":"check","region":"eu-west-1"}` checks one region and returns the
 * result; `{"action":"check_all"}` (and the schedule) checks every region and publishes `ConfigParity`.
 */
export interface ParityInvocation {
  readonly action: 'check' | 'check_all';
  readonly region?: string;
}

/** `UserParameters` of the pipeline's LambdaInvoke rule (a JSON string): the region whose stages it guards. */
export interface ParityRuleParameters {
  readonly region: string;
}

/** One difference, by name and drift type; never a value. */
export interface ParityDifference {
  readonly kind: ResourceKindName;
  readonly name: string;
  readonly driftType: DriftTypeName;
  /** ConfigMap cluster in the target region, when the item is a ConfigMap. */
  readonly cluster?: string;
  /** Differing fields: `kmsKey`, `type`, `tag:<key>`, `key:<ConfigMap key>` (names only). */
  readonly fields?: string[];
  /** For `SCAN_FAILED`: which side could not be read, and the error's name. */
  readonly unreadable?: { readonly location: 'primary' | 'replica'; readonly errorName: string };
}

/** Where an interrupted check resumes: the index of the next scope to read. */
export interface ParityCursor {
  readonly nextScope: number;
}

/** The outcome of checking one region; value-free. */
export interface ParityResult {
  readonly primaryRegion: string;
  readonly targetRegion: string;
  /** `PASS` only when every scope was read and compared and nothing differs (or only unreadable parts, when the check fails open). */
  readonly verdict: 'PASS' | 'FAIL';
  /** False when the check stopped early at `cursor`; an incomplete check never passes. */
  readonly complete: boolean;
  readonly cursor?: ParityCursor;
  /** (item, target location) pairs compared. */
  readonly compared: number;
  /** Items changed in the primary within the grace window, not compared. */
  readonly deferred: string[];
  readonly differences: ParityDifference[];
  /** One line per difference kind, for the pipeline's rule output and the plan's step: at most `MAX_SUMMARY_LENGTH` characters. */
  readonly summary: string;
}

/** Longest summary, in characters: PutJobFailureResult's message takes at most 5,000. */
export const MAX_SUMMARY_LENGTH = 4000;
