import { Annotations, Aspects, CfnResource, IAspect, Lazy, Stack, Token } from 'aws-cdk-lib';
import * as eks from 'aws-cdk-lib/aws-eks';
import * as eksv2 from 'aws-cdk-lib/aws-eks-v2';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct, IConstruct } from 'constructs';
import { KubernetesCluster } from './kubernetes-cluster';
import { KubernetesClusterConfig } from '../private/kubernetes-contract';
import { readQuietly } from '../private/quiet-read';
import { fail, isUnresolved, partitionOf, validateDistinct, validateLength, validateNotEmpty, validatePattern, validateSamePartition, WARNING } from '../private/validation';

/**
 * Grants a construct's handler role access to EKS clusters, agentlessly.
 *
 * The handler signs an STS GetCallerIdentity request with its role (the `aws eks get-token`
 * scheme, which needs no IAM permission) and presents it to the API server as a bearer token; EKS
 * maps the role to Kubernetes permissions through an access entry with a namespace-scoped access
 * policy (or, for a binding with `kubernetesGroup`, a Kubernetes group that RBAC RoleBindings
 * grant). The cluster's authentication mode must therefore be `API` or `API_AND_CONFIG_MAP`.
 *
 * An access entry exists at most once per IAM principal and cluster, so bindings are merged per
 * (role, cluster) across the whole app: binding the same role to the same cluster again adds the
 * namespaces (and access level) to the first binding's access entry, IAM statement and setup
 * commands instead of creating new ones. Callers may therefore bind once per (cluster, namespaces)
 * pair as their props list them. Clusters are the same when they come from the same cluster
 * construct, or for `fromClusterAttributes()`, when account, region and name are the same.
 */

/** Kubernetes permissions the handler needs in each namespace. */
export enum KubernetesAccessLevel {
  /** Read most namespaced objects, except Secrets (AmazonEKSViewPolicy): drift detection. */
  VIEW = 'view',
  /** Create, update and delete most namespaced objects (AmazonEKSEditPolicy): ConfigMap sync. */
  EDIT = 'edit',
}

/** Id of the warning that asks an operator to grant access to a cluster this app cannot grant. */
export const MANUAL_ACCESS_WARNING = `${WARNING}kubernetesAccessManualSetup`;

/** EKS access policy per access level. */
const ACCESS_POLICY_NAMES: Record<KubernetesAccessLevel, string> = {
  [KubernetesAccessLevel.VIEW]: 'AmazonEKSViewPolicy',
  [KubernetesAccessLevel.EDIT]: 'AmazonEKSEditPolicy',
};

/** Kubernetes namespace names are DNS-1123 labels: at most 63 characters. */
const MAX_NAMESPACE_LENGTH = 63;
const NAMESPACE_PATTERN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const NAMESPACE_ALLOWED = 'must be a Kubernetes namespace name (lowercase letters, digits and "-", starting and ending with a letter or digit)';

/** Inputs of `bindKubernetesCluster()`. */
export interface BindKubernetesClusterOptions {
  /** The handler's execution role. */
  readonly role: iam.IRole;
  /** Namespaces the handler works in; at least one, no duplicates. */
  readonly namespaces: string[];
  /** What the handler may do in `namespaces`. */
  readonly access: KubernetesAccessLevel;
  /**
   * Construct id (in `scope`) of the access entry, when one is created. Only the first binding of a
   * role and cluster creates it, so later bindings' ids are unused.
   */
  readonly id: string;
  /**
   * Kubernetes group of the access entry, for a handler whose permissions come from Kubernetes RBAC
   * bound to that group instead of an EKS access policy: this binding associates no access policy
   * (`access` only documents what the RBAC must allow). Validated by the caller.
   * @default - no group: the access policy of `access`, scoped to `namespaces`
   */
  readonly kubernetesGroup?: string;
  /**
   * Prefix of the prop names in validation messages, such as `clusters[0].`.
   * @default '' - messages name `namespaces` and `cluster`
   */
  readonly propPrefix?: string;
}

/** What `bindKubernetesCluster()` set up for one cluster. */
export interface BoundKubernetesCluster {
  /** The cluster as the handler sees it; pass it in the handler's environment. */
  readonly config: KubernetesClusterConfig;
  /**
   * The access entry of the role, when this app creates it (a cluster of this app in the same region
   * and account as `scope`). Shared by every binding of the same role and cluster.
   */
  readonly accessEntry?: eks.IAccessEntry;
  /**
   * AWS CLI commands, one per line, that grant the role access to the cluster, when this app cannot
   * create the access entry. They cover every binding of the same role and cluster made so far, and
   * may contain the role ARN as a token (it resolves in a `CfnOutput`). Also reported as a warning.
   */
  readonly manualSetupCommand?: string;
}

/**
 * Lets `options.role` reach `cluster` with `options.access` in `options.namespaces`.
 *
 * - A cluster of this app (`fromCluster()`, `fromClusterV2()`) in the same region and account as
 *   `scope`: creates an EKS access entry in `scope`, and passes the API server's endpoint and CA in
 *   the config (so the handler needs no `eks:DescribeCluster`, unless an imported cluster lacks them).
 * - A cluster of this app in another region, or a cluster given by attributes: grants
 *   `eks:DescribeCluster` on the cluster when its endpoint and CA are not known, and warns with the
 *   AWS CLI commands that create the access entry (see `manualSetupCommand`).
 */
export function bindKubernetesCluster(scope: Construct, cluster: KubernetesCluster, options: BindKubernetesClusterOptions): BoundKubernetesCluster {
  const prefix = options.propPrefix ?? '';
  validateNamespaces(`${prefix}namespaces`, options.namespaces);
  const stack = Stack.of(scope);
  const local = cluster._construct !== undefined && sameEnvironment(Stack.of(cluster._construct), stack);
  if (!local) {
    validateRemote(scope, cluster, `${prefix}cluster`);
  }

  const grant = ClusterGrant.of(scope, cluster, options, local);
  if (options.kubernetesGroup !== undefined) {
    grant.addGroup(options.kubernetesGroup);
  } else {
    grant.add(options.access, options.namespaces);
  }

  const config: KubernetesClusterConfig = {
    name: cluster.clusterName,
    region: cluster.region,
    ...(grant.passesApiServer ? { endpoint: cluster._endpoint, certificateAuthorityData: cluster._certificateAuthorityData } : {}),
  };
  if (grant.accessEntry) {
    return { config, accessEntry: grant.accessEntry };
  }
  return {
    config,
    get manualSetupCommand(): string {
      // Literal where the value is known in this stack (another region's explicit cluster name);
      // the role ARN stays a token.
      return grant.commands(options.role.roleArn, (value) => readable(stack, value) ?? value);
    },
  };
}

/**
 * Everything granted to one role on one cluster: the access entry or the setup commands, the
 * `eks:DescribeCluster` statement, and the namespaces per access level of every binding so far.
 */
class ClusterGrant {
  /** The grant of `options.role` on `cluster`, created on first use. */
  public static of(scope: Construct, cluster: KubernetesCluster, options: BindKubernetesClusterOptions, local: boolean): ClusterGrant {
    const root = scope.node.root;
    let byKey = GRANTS.get(root);
    if (!byKey) {
      byKey = new Map();
      GRANTS.set(root, byKey);
    }
    const key = `${options.role.roleArn}\n${clusterKey(cluster)}`;
    let grant = byKey.get(key);
    if (!grant) {
      grant = new ClusterGrant(scope, cluster, options, local);
      byKey.set(key, grant);
    }
    return grant;
  }

  /** The access entry, when this app creates it. */
  public readonly accessEntry?: eks.IAccessEntry;
  /** Whether the config carries the API server's endpoint and CA. */
  public readonly passesApiServer: boolean;
  private readonly namespaces = new Map<KubernetesAccessLevel, string[]>();
  /** Kubernetes groups of the access entry (bindings granted by RBAC rather than an access policy). */
  private readonly groups: string[] = [];
  private readonly addPolicy?: (access: KubernetesAccessLevel) => void;

  private constructor(
    private readonly scope: Construct,
    private readonly cluster: KubernetesCluster,
    options: BindKubernetesClusterOptions,
    local: boolean,
  ) {
    // A cluster of another region's stack cannot hand over deploy-time values (cross-region
    // references need `crossRegionReferences` on the consuming stack): the handler looks them up.
    const endpoint = cluster._endpoint;
    const certificateAuthorityData = cluster._certificateAuthorityData;
    const referenceable = local || cluster._construct === undefined || !isUnresolved([endpoint, certificateAuthorityData]);
    this.passesApiServer = endpoint !== undefined && certificateAuthorityData !== undefined && referenceable;
    if (!this.passesApiServer) {
      options.role.addToPrincipalPolicy(new iam.PolicyStatement({
        actions: ['eks:DescribeCluster'],
        resources: [Stack.of(scope).formatArn({
          service: 'eks',
          region: cluster.region,
          account: cluster._account,
          resource: 'cluster',
          resourceName: cluster.clusterName,
        })],
      }));
    }

    if (local) {
      // The entry lives in `scope` (the consuming construct's stack), not in the cluster's stack.
      // AWS::EKS::AccessEntry must be deployed in the cluster's region and account, which `local`
      // guarantees. The consuming stack already references the cluster (name, endpoint and CA in
      // the handler's config), so the entry adds no new dependency, whereas an entry in the
      // cluster's stack would reference the role ARN back and make the two stacks depend on each
      // other. The entry also lives and dies with the construct whose handler uses it.
      const entry = this.createAccessEntry(options.id, options.role.roleArn);
      this.accessEntry = entry.accessEntry;
      this.addPolicy = entry.addPolicy;
    } else {
      // Warnings are plain strings, and later bindings may add namespaces: report once, when the
      // construct tree is complete.
      Aspects.of(scope).add(new ManualAccessWarning(scope, this, options.role, remoteReason(scope, cluster)));
    }
  }

  /** Adds `namespaces` at `access` (merged with earlier bindings). */
  public add(access: KubernetesAccessLevel, namespaces: string[]): void {
    const existing = this.namespaces.get(access);
    if (existing) {
      existing.push(...namespaces.filter((n) => !existing.includes(n)));
      return;
    }
    this.namespaces.set(access, [...namespaces]);
    this.addPolicy?.(access);
  }

  /**
   * Puts the access entry in the Kubernetes group `group` (merged with earlier bindings), without
   * an access policy: RoleBindings to the group grant the handler what it needs.
   */
  public addGroup(group: string): void {
    if (this.groups.includes(group)) {
      return;
    }
    this.groups.push(group);
    const entry = this.accessEntry?.node.defaultChild;
    if (this.groups.length === 1 && entry instanceof CfnResource) {
      // Neither AccessEntry construct takes Kubernetes groups; read at synth time so that later
      // bindings extend the same list.
      entry.addPropertyOverride('KubernetesGroups', Lazy.list({ produce: () => [...this.groups] }));
    }
  }

  /**
   * The AWS CLI commands that create the access entry and associate its policies; `render` turns
   * each value into command text.
   */
  public commands(roleArn: string, render: (value: string, placeholder: string) => string): string {
    const { name, region } = this.clusterLabel(render);
    const principal = render(roleArn, 'ROLE_ARN');
    const partition = partitionOf(this.cluster.region) ?? 'aws';
    const target = `--cluster-name ${name} --region ${region} --principal-arn ${principal}`;
    const groups = this.groups.length > 0 ? ` --kubernetes-groups ${this.groups.map((g) => shellWord(g)).join(' ')}` : '';
    const lines = [`aws eks create-access-entry ${target}${groups}`];
    for (const [access, namespaces] of this.namespaces) {
      const list = namespaces.map((n) => render(n, 'NAMESPACE')).join(',');
      lines.push(`aws eks associate-access-policy ${target} `
        + `--policy-arn arn:${partition}:eks::aws:cluster-access-policy/${ACCESS_POLICY_NAMES[access]} `
        + `--access-scope type=namespace,namespaces=${list}`);
    }
    return lines.join('\n');
  }

  /** The cluster's name and region as `render` renders them. */
  public clusterLabel(render: (value: string, placeholder: string) => string): { name: string; region: string } {
    return { name: render(this.cluster.clusterName, 'CLUSTER_NAME'), region: render(this.cluster.region, 'REGION') };
  }

  /**
   * Creates the access entry without policies; `addPolicy` associates one policy per access level,
   * whose namespaces are read at synth time so that later bindings extend the same association.
   */
  private createAccessEntry(id: string, principal: string): {
    accessEntry: eks.IAccessEntry;
    addPolicy: (access: KubernetesAccessLevel) => void;
  } {
    const namespacesOf = (access: KubernetesAccessLevel) => Lazy.list({ produce: () => [...this.namespaces.get(access) ?? []] });
    const v2 = this.cluster._v2;
    if (v2) {
      const entry = new eksv2.AccessEntry(this.scope, id, { cluster: v2, principal, accessPolicies: [] });
      return {
        accessEntry: entry,
        addPolicy: (access) => entry.addAccessPolicies([eksv2.AccessPolicy.fromAccessPolicyName(ACCESS_POLICY_NAMES[access], {
          accessScopeType: eksv2.AccessScopeType.NAMESPACE,
          namespaces: namespacesOf(access),
        })]),
      };
    }
    const entry = new eks.AccessEntry(this.scope, id, { cluster: this.cluster._v1!, principal, accessPolicies: [] });
    return {
      accessEntry: entry,
      addPolicy: (access) => entry.addAccessPolicies([eks.AccessPolicy.fromAccessPolicyName(ACCESS_POLICY_NAMES[access], {
        accessScopeType: eks.AccessScopeType.NAMESPACE,
        namespaces: namespacesOf(access),
      })]),
    };
  }
}

/** `word` as one shell word: as is when it holds only characters a shell leaves alone, otherwise single-quoted. */
function shellWord(word: string): string {
  const quote = '\'';
  return /^[A-Za-z0-9._:@%+=,/-]+$/.test(word) ? word : quote + word.split(quote).join(`${quote}\\${quote}${quote}`) + quote;
}

/** Grants per app root, keyed by role ARN and cluster. */
const GRANTS = new WeakMap<IConstruct, Map<string, ClusterGrant>>();

/**
 * Identity of a cluster for merging: the path of its construct (its name may be a fresh token on
 * every read), or account, region and name.
 */
function clusterKey(cluster: KubernetesCluster): string {
  if (cluster._construct) {
    return `construct:${cluster._construct.node.path}`;
  }
  return `attributes:${cluster._account ?? ''}:${cluster.region}:${cluster.clusterName}`;
}

/** Why this app cannot create the access entry, for the warning. */
function remoteReason(scope: Construct, cluster: KubernetesCluster): string {
  if (cluster._construct === undefined) {
    return `it is given by attributes (${cluster._origin})`;
  }
  return `it is in another environment (${Stack.of(cluster._construct).environment}) than this stack (${Stack.of(scope).environment})`;
}

/** Reports the setup commands of one grant on `scope`, once the construct tree is complete. */
class ManualAccessWarning implements IAspect {
  constructor(
    private readonly scope: IConstruct,
    private readonly grant: ClusterGrant,
    private readonly role: iam.IRole,
    private readonly reason: string,
  ) {}

  public visit(node: IConstruct): void {
    if (node !== this.scope) {
      return;
    }
    const placeholders = new Map<string, string>();
    const stack = Stack.of(this.scope);
    // Warnings are not resolved: show literals, and shell variables for deploy-time values.
    const render = (value: string, placeholder: string): string => {
      const resolved = readable(stack, value);
      if (resolved !== undefined) {
        return resolved;
      }
      placeholders.set(placeholder, PLACEHOLDER_MEANINGS[placeholder](this.role));
      return `"$${placeholder}"`;
    };
    const { name, region } = this.grant.clusterLabel(render);
    const commands = this.grant.commands(this.role.roleArn, render);
    const where = [...placeholders].map(([variable, meaning]) => `${variable} is ${meaning}`).join(', ');
    Annotations.of(this.scope).addWarningV2(MANUAL_ACCESS_WARNING,
      `This app cannot grant the role ${this.role.node.path} access to the EKS cluster ${name} in ${region}, because ${this.reason}. `
      + 'Grant it once, with credentials of the cluster\'s account that may manage EKS access entries '
      + '(the cluster\'s authentication mode must be API or API_AND_CONFIG_MAP):\n'
      + commands
      + (where ? `\nwhere ${where}.` : ''));
  }
}

/** What each placeholder of the warning's commands stands for. */
const PLACEHOLDER_MEANINGS: Record<string, (role: iam.IRole) => string> = {
  ROLE_ARN: (role) => `the ARN of the role ${role.node.path} (known after deployment)`,
  CLUSTER_NAME: () => 'the name of the cluster',
  REGION: () => 'the region of the cluster',
  NAMESPACE: () => 'a namespace the handler works in',
};

/**
 * `value`, or the literal a token resolves to in `stack` (such as another region's explicit
 * cluster name); `undefined` when it is only known at deploy time.
 */
function readable(stack: Stack, value: string): string | undefined {
  if (!Token.isUnresolved(value)) {
    return value;
  }
  // CDK throws when a resource without a physical name is referenced from another environment.
  const resolved = readQuietly(() => stack.resolve(value));
  return typeof resolved === 'string' && !Token.isUnresolved(resolved) ? resolved : undefined;
}

/** Same region and account (as CDK compares them: equal strings, or the same pseudo parameters). */
function sameEnvironment(a: Stack, b: Stack): boolean {
  return a === b || (a.region === b.region && a.account === b.account);
}

/** Checks a cluster this app cannot create an access entry for; `prop` names it in messages. */
function validateRemote(scope: Construct, cluster: KubernetesCluster, prop: string): void {
  const stack = Stack.of(scope);
  const account = cluster._account;
  const otherAccount = account !== undefined && !Token.isUnresolved(account) && !Token.isUnresolved(stack.account) && account !== stack.account;
  if (cluster._construct !== undefined) {
    const clusterStack = Stack.of(cluster._construct);
    if (Token.isUnresolved(clusterStack.region) || Token.isUnresolved(stack.region)) {
      fail(prop, 'must be in the environment of the stack that uses it, or both stacks must have an explicit region (env.region)',
        clusterStack.environment);
    }
    if (otherAccount) {
      fail(prop, `must be in the account of the stack that uses it (${stack.account}), or be given by `
        + 'KubernetesCluster.fromClusterAttributes() with clusterEndpoint and clusterCertificateAuthorityData '
        + '(eks:DescribeCluster cannot be called across accounts)', account);
    }
    if (readable(stack, cluster.clusterName) === undefined) {
      fail(prop, 'must have an explicit clusterName to be used from another region\'s stack', cluster._construct.node.path);
    }
  } else if (otherAccount && cluster._endpoint === undefined) {
    fail(prop, 'must have clusterEndpoint and clusterCertificateAuthorityData when it is in another account than the stack '
      + `that uses it (${stack.account}), because eks:DescribeCluster cannot be called across accounts`, account);
  }
  if (!Token.isUnresolved(stack.region)) {
    validateSamePartition(`${prop} region`, cluster.region, stack.region);
  }
}

/** Fails unless `namespaces` is a non-empty list of distinct namespace names. */
function validateNamespaces(prop: string, namespaces: string[]): void {
  validateNotEmpty(prop, namespaces);
  namespaces.forEach((namespace, i) => {
    if (Token.isUnresolved(namespace)) {
      return;
    }
    validateLength(`${prop}[${i}]`, namespace, 1, MAX_NAMESPACE_LENGTH);
    validatePattern(`${prop}[${i}]`, namespace, NAMESPACE_PATTERN, NAMESPACE_ALLOWED);
  });
  validateDistinct(prop, namespaces);
}
