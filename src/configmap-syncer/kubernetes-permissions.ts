/** Options of `KubernetesPermissions.rbac()`. */
export interface KubernetesRbacOptions {
  /**
   * Kubernetes group of the handler's EKS access entries, bound by the generated RoleBindings; also
   * the name of the generated Role and RoleBinding in each target namespace. Letters, digits, "-",
   * "_", "." and ":", at most 253 characters, starting and ending with a letter or digit, not
   * starting with a prefix Kubernetes or EKS reserves (`system:`, `eks:`, `aws:`, `amazon:`, `iam:`).
   * Give each syncer its own group: every syncer whose access entry is in the group gets what the
   * Roles bound to it allow.
   *
   * @default - `cross-region-config-syncer-<8 characters unique to the syncer's construct path>`
   */
  readonly groupName?: string;
}

/**
 * How the ConfigMap syncer's handler is authorized in its target clusters.
 *
 * @example
 * // Least privilege: apply the Roles of syncer.rbacManifests(cluster) in each target cluster.
 * KubernetesPermissions.rbac({ groupName: 'my-app-config-syncer' });
 */
export class KubernetesPermissions {
  /**
   * The EKS access policy `AmazonEKSEditPolicy`, scoped to the target namespaces, on the handler's
   * access entry. Nothing to apply in the clusters, but the handler may edit most objects of those
   * namespaces (any ConfigMap and workload), since EKS access policies cannot name objects.
   */
  public static accessPolicy(): KubernetesPermissions {
    return new KubernetesPermissions(false, undefined);
  }

  /**
   * Kubernetes RBAC: the handler's access entry carries a Kubernetes group and no access policy, and
   * a Role per target namespace, bound to the group, allows exactly what the handler does there
   * (`ConfigMapSyncer.rbacManifests()`): `get`, `create` and `patch` of the named ConfigMaps, `get`
   * and `patch` of the named workloads, and `list` and `patch` of a workload kind selected by
   * labels. Nothing cluster-scoped, so targets may not set `createNamespace`. The Roles are not
   * applied by the construct: apply them with GitOps or `kubectl` (they are also in
   * `clusterAccessCommands`).
   *
   * @param options the Kubernetes group
   */
  public static rbac(options: KubernetesRbacOptions = {}): KubernetesPermissions {
    return new KubernetesPermissions(true, options.groupName);
  }

  private constructor(
    /** @internal True for `rbac()`. */
    public readonly _rbac: boolean,
    /** @internal The `rbac()` group, when given. */
    public readonly _groupName: string | undefined,
  ) {}
}
