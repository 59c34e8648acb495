/**
 * The least-privilege Kubernetes RBAC of the workload rollout: a Role per namespace whose rules
 * allow `get` and `patch` on the named workloads only (`resourceNames`), and `list` and `patch`
 * on a kind only where a label selector names its workloads (their names are not known before
 * the handler lists them; it reads them by listing again, so it needs `get` only for the workloads
 * of that kind it names). Internal; used by `syncer-rbac.ts` and by the tests.
 */
import type { WorkloadSelectorConfig } from './contract';

/** Kubernetes group of the syncer's access entry that the rollout RoleBindings bind. */
export const ROLLOUT_GROUP = 'cross-region-config-rollout';
/** Name of the Role and RoleBinding in each namespace. */
export const ROLLOUT_ROLE = 'cross-region-config-rollout';

const RESOURCES: Record<WorkloadSelectorConfig['kind'], string> = {
  Deployment: 'deployments',
  StatefulSet: 'statefulsets',
  DaemonSet: 'daemonsets',
};

/** One RBAC PolicyRule. */
export interface RolloutRule {
  readonly apiGroups: string[];
  readonly resources: string[];
  readonly resourceNames?: string[];
  readonly verbs: string[];
}

/** The rules of the rollout Role of one namespace, for every selector of its targets. */
export function rolloutRules(selectors: readonly WorkloadSelectorConfig[]): RolloutRule[] {
  const rules: RolloutRule[] = [];
  for (const kind of Object.keys(RESOURCES) as Array<WorkloadSelectorConfig['kind']>) {
    const ofKind = selectors.filter((s) => s.kind === kind);
    if (ofKind.length === 0) continue;
    const resources = [RESOURCES[kind]];
    if (ofKind.some((s) => s.labelSelector !== undefined)) {
      const named = ofKind.some((s) => s.name !== undefined);
      rules.push({ apiGroups: ['apps'], resources, verbs: [...(named ? ['get'] : []), 'list', 'patch'] });
      continue;
    }
    const names = [...new Set(ofKind.map((s) => s.name!))].sort();
    rules.push({ apiGroups: ['apps'], resources, resourceNames: names, verbs: ['get', 'patch'] });
  }
  return rules;
}

/** The Role and RoleBinding manifests of one namespace (the RoleBinding binds `ROLLOUT_GROUP`). */
export function rolloutManifests(namespace: string, selectors: readonly WorkloadSelectorConfig[]): object[] {
  const rbac = 'rbac.authorization.k8s.io';
  return [
    { apiVersion: `${rbac}/v1`, kind: 'Role', metadata: { name: ROLLOUT_ROLE, namespace }, rules: rolloutRules(selectors) },
    {
      apiVersion: `${rbac}/v1`,
      kind: 'RoleBinding',
      metadata: { name: ROLLOUT_ROLE, namespace },
      roleRef: { apiGroup: rbac, kind: 'Role', name: ROLLOUT_ROLE },
      subjects: [{ apiGroup: rbac, kind: 'Group', name: ROLLOUT_GROUP }],
    },
  ];
}
