/**
 * The contract between the ConfigDriftDetector construct and its Lambda handler: environment
 * variable names, the JSON shapes they carry, metric and dimension names, drift types and the
 * manual invocation payload. Internal: not exported from the package entry point. The handler
 * imports it as types and constants only.
 */
import type { ConfigMapScopeConfig, DriftTypeName, IgnoreRuleConfig, ParameterOverrideConfig, ResourceKindName } from '../core/comparison-contract';
import { DriftType } from '../core/comparison-contract';
import type { ReplicaTargetConfig, SelectionConfig } from '../core/secrets-contract';
import type { KubernetesClusterConfig } from '../private/kubernetes-contract';

/** Environment variables the construct sets on the drift detector handler. */
export const DriftEnv = {
  /** Region holding the source of truth. */
  PRIMARY_REGION: 'PRIMARY_REGION',
  /** JSON `ReplicaTargetConfig[]`: the replica regions (with the KMS key replicas are expected to use). */
  REPLICA_TARGETS: 'REPLICA_TARGETS',
  /** JSON `SelectionConfig` of the secrets to compare; absent when secrets are not scanned. */
  SECRET_SELECTION: 'SECRET_SELECTION',
  /** JSON `string[]` of tag keys compared between a primary secret and its replicas. */
  COMPARED_TAG_KEYS: 'COMPARED_TAG_KEYS',
  /** JSON `string[]` of SSM parameter path prefixes scanned recursively; absent when parameters are not scanned. */
  PARAMETER_PATHS: 'PARAMETER_PATHS',
  /**
   * JSON `ParameterOverrideConfig[]`: declared per-region parameter values, expected in their
   * region instead of the primary's value (and written there by remediation); absent when none.
   */
  PARAMETER_OVERRIDES: 'PARAMETER_OVERRIDES',
  /**
   * JSON `ParameterReplicaKeyConfig[]`: the KMS key auto-remediation (and the report's commands)
   * write SecureString replicas with, one entry per compared region (`alias/aws/ssm` for the AWS
   * managed key). Absent when the keys are unknown (no parameter replicator linked and no
   * `parameterReplicaKmsKeys`): then auto-remediation does not write SecureString replicas
   * (`SecureStringKeyUnknown`) and the commands name a placeholder key.
   */
  PARAMETER_REPLICA_KEYS: 'PARAMETER_REPLICA_KEYS',
  /** JSON `ConfigMapScopeConfig[]`; absent when ConfigMaps are not scanned. */
  CONFIGMAP_SCOPES: 'CONFIGMAP_SCOPES',
  /** JSON `IgnoreRuleConfig[]`. */
  IGNORE_RULES: 'IGNORE_RULES',
  /** Seconds: an item changed in the primary this recently is deferred, not reported. */
  GRACE_WINDOW_SECONDS: 'GRACE_WINDOW_SECONDS',
  /** `true` or `false`: report items that exist only in a replica. */
  REPORT_EXTRA_ITEMS: 'REPORT_EXTRA_ITEMS',
  /** Bucket the JSON reports are written to. */
  REPORT_BUCKET: 'REPORT_BUCKET',
  /** Key prefix of the reports in the bucket, ending with `/`. */
  REPORT_PREFIX: 'REPORT_PREFIX',
  /** One of `RemediationModeName`. */
  REMEDIATION_MODE: 'REMEDIATION_MODE',
  /** ARN of the secret holding the HMAC key of the replicator's content-hash tags (remediation only). */
  PROVENANCE_KEY_SECRET_ARN: 'PROVENANCE_KEY_SECRET_ARN',
  /** Value of the provenance tag `cross-region-config:deployment` auto-remediation writes on replicas (see ReplicatorEnv.DEPLOYMENT_ID). */
  DEPLOYMENT_ID: 'DEPLOYMENT_ID',
  /** The replicator's conflict policy (`ConflictPolicyName`), used by secret remediation; absent means `PRIMARY_WINS`. */
  REMEDIATION_CONFLICT_POLICY: 'REMEDIATION_CONFLICT_POLICY',
  /** `true` or `false`: secret remediation copies the primary's tags, as the replicator does; absent means `true`. */
  REMEDIATION_REPLICATE_TAGS: 'REMEDIATION_REPLICATE_TAGS',
  /** Names of parameters never compared (the settings documents of this library in the primary region). */
  EXCLUDED_PARAMETERS: 'EXCLUDED_PARAMETERS',
  /** Account of the stack: for the kubectl contexts in remediation commands. */
  ACCOUNT_ID: 'ACCOUNT_ID',
  /** CloudWatch namespace for the EMF metrics (read by Powertools Metrics). */
  METRIC_NAMESPACE: 'POWERTOOLS_METRICS_NAMESPACE',
  /** Value of the `service` dimension on every metric (read by Powertools). */
  SERVICE_NAME: 'POWERTOOLS_SERVICE_NAME',
} as const;

export type { ReplicaTargetConfig, SelectionConfig, KubernetesClusterConfig };
export type { ConfigMapScopeConfig, ResourceKindName, IgnoreRuleConfig, DriftTypeName, ParameterOverrideConfig };
export { DriftType };

/** The KMS key SecureString replicas in one replica region are written with. */
export interface ParameterReplicaKeyConfig {
  readonly region: string;
  /** Key ARN, alias name or `alias/aws/ssm`, as PutParameter's `KeyId` takes it. */
  readonly kmsKeyId: string;
}

/** Wire names of the remediation modes. */
export type RemediationModeName = 'OFF' | 'DRY_RUN' | 'APPLY';

/**
 * Metrics the handler emits once per scan (EMF, through Powertools Metrics), each with the dimension
 * `service`; `DriftCount` and `HasDrift` also per `ResourceType`, per `ReplicaRegion` and per both.
 */
export const DriftMetric = {
  /** Number of drifted items (and scan failures) found by the scan. */
  DRIFT_COUNT: 'DriftCount',
  /** 1 when the scan found any drift, else 0. */
  HAS_DRIFT: 'HasDrift',
  /** Regions or items that could not be read. */
  SCAN_FAILURES: 'ScanFailures',
  /** Items compared (primary items × replica regions). */
  ITEMS_COMPARED: 'ItemsCompared',
  /** Items changed in the primary within the grace window, left for a later scan. */
  DEFERRED_ITEMS: 'DeferredItems',
  /** Drifted items repaired by auto-remediation. */
  REMEDIATED_ITEMS: 'RemediatedItems',
  /** Drifted items auto-remediation could not repair. */
  REMEDIATION_FAILURES: 'RemediationFailures',
} as const;

/** Dimension of the per-kind metrics: `secret`, `parameter` or `configmap`. */
export const RESOURCE_TYPE_DIMENSION = 'ResourceType';
/** Dimension of the per-region metrics. */
export const REPLICA_REGION_DIMENSION = 'ReplicaRegion';

/** Manual invocation payload: `{"action":"manual_check"}` scans now and returns the summary. */
export interface DriftManualInvocation {
  readonly action: 'manual_check' | 'scheduled_check';
}

/** Key prefix of the reports when the consumer gives none. */
export const DEFAULT_REPORT_PREFIX = 'drift-reports/';
/** Field manager of the server-side applies this library makes to ConfigMaps. */
export { CONFIGMAP_FIELD_MANAGER } from '../private/kubernetes-contract';
