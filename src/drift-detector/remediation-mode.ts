/**
 * What the drift detector does with the drift it finds, besides reporting it.
 */
export enum DriftRemediation {
  /** Report only. */
  OFF = 'OFF',
  /**
   * Report, and record in the report what auto-remediation would repair, changing nothing
   * (ConfigMap applies are sent as server-side dry runs, so permissions and conflicts are checked).
   */
  DRY_RUN = 'DRY_RUN',
  /**
   * Report, and copy the primary's value to each drifted replica: secrets through the secret
   * replicator's code path (provenance tags, idempotent versions), parameters by overwrite,
   * ConfigMaps by server-side apply. Items only in a replica and unreadable items are never changed.
   */
  APPLY = 'APPLY',
}

/**
 * Kinds of configuration the drift detector compares: the `ResourceType` dimension of its metrics.
 */
export enum DriftResourceType {
  /** Secrets Manager secrets. */
  SECRET = 'secret',
  /** Systems Manager parameters. */
  PARAMETER = 'parameter',
  /** Kubernetes ConfigMaps in EKS clusters. */
  CONFIGMAP = 'configmap',
}
