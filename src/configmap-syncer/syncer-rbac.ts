/**
 * The least-privilege Kubernetes RBAC of the syncer's handler (`KubernetesPermissions.rbac()`): per
 * target namespace, a Role with exactly the requests the handler makes there, and a RoleBinding of
 * the Role to the Kubernetes group of its access entry. Derived from the handler's calls
 * (lambda-src/configmap-syncer, lambda-src/shared/kubernetes/client.ts):
 *
 * - sync and test_sync: `GET configmaps/<name>` and a server-side apply `PATCH configmaps/<name>`
 *   (with `dryRun=All` for test_sync). An apply that creates the object is also authorized as
 *   `create` of that name, so `create` is limited to the names too; the handler never POSTs (a POST
 *   create carries no name and is not granted).
 * - rollout (`rollout-rbac.ts`): `GET` of each named workload, or `LIST` of a kind by label
 *   selector, and a server-side apply `PATCH` of the workload's annotations.
 *
 * Nothing cluster-scoped: `createNamespace` is refused in this mode (the Role lives in the
 * namespace, so the namespace exists before the handler may do anything there).
 */
import { Token } from 'aws-cdk-lib';
import type { WorkloadSelectorConfig } from './contract';
import { RolloutRule, rolloutRules } from './rollout-rbac';
import { fail, validateLength, validatePattern } from '../private/validation';

const RBAC_GROUP = 'rbac.authorization.k8s.io';
/** Kubernetes group names: also the name of the generated Role and RoleBinding. */
const MAX_GROUP_LENGTH = 253;
const GROUP_PATTERN = /^[A-Za-z0-9]([A-Za-z0-9._:-]*[A-Za-z0-9])?$/;
const GROUP_ALLOWED = 'must be a Kubernetes group name of letters, digits, "-", "_", "." and ":", starting and ending with a letter or digit '
  + '(it also names the generated Role and RoleBinding)';
/** Prefixes Kubernetes and EKS reserve for their own groups. */
const RESERVED_GROUP_PREFIXES = ['system:', 'eks:', 'aws:', 'amazon:', 'iam:'];

/** What the handler does in one namespace of one cluster. */
export interface NamespaceUse {
  readonly namespace: string;
  /** The target ConfigMaps of the namespace. */
  readonly configMapNames: readonly string[];
  /** The workloads every target of the namespace rolls. */
  readonly workloads: readonly WorkloadSelectorConfig[];
}

/** The rules of the Role of one namespace: ConfigMaps by name, then the rollout's workload rules. */
export function syncerRules(use: NamespaceUse): RolloutRule[] {
  return [
    { apiGroups: [''], resources: ['configmaps'], resourceNames: [...new Set(use.configMapNames)].sort(), verbs: ['create', 'get', 'patch'] },
    ...rolloutRules(use.workloads),
  ];
}

/** The Role and RoleBinding (named `group`, binding the group `group`) of every namespace, in order. */
export function syncerRbacObjects(group: string, uses: readonly NamespaceUse[]): object[] {
  return uses.flatMap((use) => [
    { apiVersion: `${RBAC_GROUP}/v1`, kind: 'Role', metadata: { name: group, namespace: use.namespace }, rules: syncerRules(use) },
    {
      apiVersion: `${RBAC_GROUP}/v1`,
      kind: 'RoleBinding',
      metadata: { name: group, namespace: use.namespace },
      roleRef: { apiGroup: RBAC_GROUP, kind: 'Role', name: group },
      subjects: [{ apiGroup: RBAC_GROUP, kind: 'Group', name: group }],
    },
  ]);
}

/** `objects` as one YAML stream, a document each (`---` between them), ending with a newline. */
export function toYamlStream(objects: readonly object[]): string {
  return objects.map((o) => mapLines(o as Record<string, unknown>, '').join('\n') + '\n').join('---\n');
}

/** Block lines of a mapping at `indent`; sequences of scalars in flow style. */
function mapLines(map: Record<string, unknown>, indent: string): string[] {
  const lines: string[] = [];
  for (const [key, value] of Object.entries(map)) {
    if (value === undefined) continue;
    if (Array.isArray(value)) {
      if (value.every((v) => typeof v !== 'object')) {
        lines.push(`${indent}${key}: [${value.map((v) => scalar(v)).join(', ')}]`);
      } else {
        lines.push(`${indent}${key}:`);
        for (const item of value) {
          const [first, ...rest] = mapLines(item as Record<string, unknown>, `${indent}  `);
          lines.push(`${indent}- ${first.slice(indent.length + 2)}`, ...rest);
        }
      }
    } else if (typeof value === 'object' && value !== null) {
      lines.push(`${indent}${key}:`, ...mapLines(value as Record<string, unknown>, `${indent}  `));
    } else {
      lines.push(`${indent}${key}: ${scalar(value)}`);
    }
  }
  return lines;
}

/** YAML 1.1 words a plain scalar would turn into a boolean or null. */
const SPECIAL_WORDS = new Set(['y', 'n', 'yes', 'no', 'true', 'false', 'on', 'off', 'null']);

/** A plain scalar where YAML reads it back as the same string, otherwise a JSON string (valid YAML). */
function scalar(value: unknown): string {
  const text = String(value);
  return /^[A-Za-z][A-Za-z0-9._/-]*$/.test(text) && !SPECIAL_WORDS.has(text.toLowerCase()) ? text : JSON.stringify(text);
}

/** Fails unless `group` is a Kubernetes group name the syncer may use; `prop` names it. */
export function validateKubernetesGroup(prop: string, group: string): void {
  if (Token.isUnresolved(group)) {
    fail(prop, 'must be known at synth time: it names the generated Role and RoleBinding', group);
  }
  validateLength(prop, group, 1, MAX_GROUP_LENGTH);
  validatePattern(prop, group, GROUP_PATTERN, GROUP_ALLOWED);
  const reserved = RESERVED_GROUP_PREFIXES.find((p) => group.toLowerCase().startsWith(p));
  if (reserved !== undefined) {
    fail(prop, `must not start with "${reserved}", a prefix Kubernetes or EKS reserves (${RESERVED_GROUP_PREFIXES.join(', ')})`, group);
  }
}
