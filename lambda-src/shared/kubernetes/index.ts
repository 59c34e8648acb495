/**
 * Agentless access to EKS API servers for the ConfigMap handlers: EKS IAM tokens, endpoint and CA
 * discovery, and ConfigMap reads, lists and server-side applies through `@kubernetes/client-node`
 * (with retries and value-free errors). See {@link KubernetesAccess}.
 */
export { KubernetesAccess } from './access';
export type { KubernetesAccessOptions } from './access';
export { KubernetesClient, WORKLOAD_RESOURCES } from './client';
export type { ApplyConfigMapRequest, ApplyWorkloadAnnotationsRequest, ConfigMapObject, ManagedFieldsEntry, WorkloadKind, WorkloadObject } from './client';
export { KubernetesApiError } from './errors';
export { CLUSTER_ID_HEADER, EKS_TOKEN_PREFIX, eksToken, PRESIGN_EXPIRES_SECONDS, resolveStsEndpoint } from './token';
export type { EksToken, EksTokenRequest, StsEndpoint } from './token';
