/**
 * The shapes the comparison of configuration between regions reads: what to compare, what to
 * ignore, which per-region values are declared, and the drift types it answers with. Shared by
 * every construct whose handler compares a replica region with the primary (the drift detector,
 * and any check built on the same comparison). Internal: not exported from the package entry
 * point. Handlers import it as types and constants only.
 */
import type { ReplicaTargetConfig, SelectionConfig } from './secrets-contract';
import type { KubernetesClusterConfig } from '../private/kubernetes-contract';

export type { ReplicaTargetConfig, SelectionConfig, KubernetesClusterConfig };

/** ConfigMaps compared between a cluster in the primary region and clusters in replica regions. */
export interface ConfigMapScopeConfig {
  readonly primary: KubernetesClusterConfig;
  readonly replicas: KubernetesClusterConfig[];
  readonly namespace: string;
  readonly names: string[];
}

/** Kinds of configuration items. */
export type ResourceKindName = 'secret' | 'parameter' | 'configmap';

/** An expected difference: items (and ConfigMap keys) matching every given pattern are not compared. */
export interface IgnoreRuleConfig {
  readonly kind: ResourceKindName;
  /** Glob over the item name: `*` matches within a path segment, `**` across segments, `?` one character. */
  readonly namePattern: string;
  /** Glob over ConfigMap data keys; absent means the whole item. */
  readonly keyPattern?: string;
  /** Replica regions the rule applies to; absent means all. */
  readonly regions?: string[];
}

/**
 * A declared per-region value of a Parameter Store parameter: in `region`, the replica of the
 * parameter `name` is expected to hold `value` instead of the primary's value. Templates
 * (`{region}`) are rendered at synth, so `value` is final. A replica that holds the primary's
 * value instead of its override is drift.
 */
export interface ParameterOverrideConfig {
  /** Full parameter name, as in the primary region (starting with `/` for hierarchical names). */
  readonly name: string;
  /** The replica region the value applies to. */
  readonly region: string;
  /** The value the replica in that region must hold. */
  readonly value: string;
}

/** Drift types, as written in reports, logs and the `DriftType` dimension. */
export const DriftType = {
  MISSING_IN_REPLICA: 'MISSING_IN_REPLICA',
  EXTRA_IN_REPLICA: 'EXTRA_IN_REPLICA',
  VALUE_MISMATCH: 'VALUE_MISMATCH',
  METADATA_MISMATCH: 'METADATA_MISMATCH',
  SCAN_FAILED: 'SCAN_FAILED',
} as const;
export type DriftTypeName = typeof DriftType[keyof typeof DriftType];
