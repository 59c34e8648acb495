/**
 * The contract between constructs that reach EKS clusters (ConfigDriftDetector, ConfigMapSyncer)
 * and the shared Kubernetes access code of their handlers (lambda-src/shared/kubernetes). Internal:
 * not exported from the package entry point.
 */

/** One EKS cluster as the handler sees it. */
export interface KubernetesClusterConfig {
  /** EKS cluster name: the `x-k8s-aws-id` of the token, and the DescribeCluster key. */
  readonly name: string;
  /** Region of the cluster: STS presigning and DescribeCluster use it. */
  readonly region: string;
  /** HTTPS URL of the API server; when absent the handler calls `eks:DescribeCluster`. */
  readonly endpoint?: string;
  /** Base64 of the PEM CA bundle of the API server; when absent, from `eks:DescribeCluster`. */
  readonly certificateAuthorityData?: string;
}

/** Field manager of the server-side applies this library makes to ConfigMaps (the syncer's and the drift detector's remediation). */
export const CONFIGMAP_FIELD_MANAGER = 'cross-region-config';
