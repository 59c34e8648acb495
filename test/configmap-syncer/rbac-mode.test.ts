import { App, Stack, Token } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as eks from 'aws-cdk-lib/aws-eks';
import * as eksv2 from 'aws-cdk-lib/aws-eks-v2';
import { Construct } from 'constructs';
import { ConfigMapSyncer, ConfigMapSyncerProps, KubernetesCluster, KubernetesPermissions, WorkloadKind, WorkloadSelection } from '../../src';
import { WorkloadSelectorConfig } from '../../src/configmap-syncer/contract';
import { syncerRbacObjects, syncerRules, toYamlStream } from '../../src/configmap-syncer/syncer-rbac';
import { at } from '../core/messages';
import { newStack } from '../secret-replicator/util';

const REMOTE = KubernetesCluster.fromClusterAttributes({ clusterName: 'app-eu', region: 'eu-west-1' });
const RBAC = KubernetesPermissions.rbac({ groupName: 'app-config-syncer' });
const BASE: ConfigMapSyncerProps = { parameterPath: '/app/prod/config', configMapName: 'app-config', kubernetesPermissions: RBAC, targets: [{ cluster: REMOTE }] };
const WEB = WorkloadSelection.named(WorkloadKind.DEPLOYMENT, 'web');

function localCluster(scope: Construct, clusterName = 'app-us'): eks.ICluster {
  return eks.Cluster.fromClusterAttributes(scope, `Cluster-${clusterName}`, {
    clusterName, clusterEndpoint: 'https://ABC.gr7.us-east-1.eks.amazonaws.com', clusterCertificateAuthorityData: 'Y2E=',
  });
}

function synth(props: Partial<ConfigMapSyncerProps>, stack: Stack = newStack()) {
  const syncer = new ConfigMapSyncer(stack, 'Syncer', { ...BASE, ...props });
  return { stack, syncer, template: Template.fromStack(stack) };
}

const entries = (template: Template) => Object.values(template.findResources('AWS::EKS::AccessEntry')).map((r: any) => r.Properties);

describe('a cluster of this app in the same region and account', () => {
  test('gets an access entry in the group, with no access policy, and the Roles to apply', () => {
    const stack = newStack();
    const cluster = KubernetesCluster.fromCluster(localCluster(stack));
    const { syncer, template } = synth({ targets: [{ cluster, namespace: 'app', workloads: [WEB] }, { cluster, namespace: 'jobs', configMapName: 'jobs-config' }] }, stack);
    const [entry, ...others] = entries(template);
    expect(others).toEqual([]);
    expect(entry.KubernetesGroups).toEqual(['app-config-syncer']);
    expect(entry.AccessPolicies).toEqual([]);
    expect(entry.ClusterName).toBe('app-us');
    expect(JSON.stringify(template.toJSON())).not.toMatch(/AmazonEKS(Edit|View)Policy/);
    expect(syncer.kubernetesGroup).toBe('app-config-syncer');
    // Nothing creates the access entry by hand; the Roles are still to be applied.
    expect(syncer.clusterAccessCommands).toEqual([[
      'aws eks update-kubeconfig --name app-us --region us-east-1',
      `kubectl apply --server-side --field-manager=cross-region-config-rbac -f - <<'EOF'\n${syncer.rbacManifests(cluster)}EOF`,
    ].join('\n')]);
    Annotations.fromStack(stack).hasWarning('/TestStack/Syncer', Match.stringLikeRegexp(
      'carry the Kubernetes group app-config-syncer and no access policy[\\s\\S]*kubectl apply --server-side[\\s\\S]*kind: Role[\\s\\S]*kubernetesRbacToApply'));
    Annotations.fromStack(stack).hasNoWarning('/TestStack/Syncer', Match.stringLikeRegexp('kubernetesAccessManualSetup'));
  });

  test('an aws-eks-v2 cluster gets the same access entry', () => {
    const stack = newStack();
    const v2 = eksv2.Cluster.fromClusterAttributes(stack, 'V2', {
      clusterName: 'app-v2', clusterEndpoint: 'https://ABC.gr7.us-east-1.eks.amazonaws.com', clusterCertificateAuthorityData: 'Y2E=',
    });
    const { template } = synth({ targets: [{ cluster: KubernetesCluster.fromClusterV2(v2) }] }, stack);
    expect(entries(template).map((e) => [e.ClusterName, e.KubernetesGroups, e.AccessPolicies])).toEqual([['app-v2', ['app-config-syncer'], []]]);
  });

  test('another syncer of the same cluster in access-policy mode keeps its own entry and policy', () => {
    const stack = newStack();
    const cluster = KubernetesCluster.fromCluster(localCluster(stack));
    new ConfigMapSyncer(stack, 'Syncer', { ...BASE, targets: [{ cluster }] });
    new ConfigMapSyncer(stack, 'PolicySyncer', { ...BASE, kubernetesPermissions: undefined, targets: [{ cluster }] });
    const all = entries(Template.fromStack(stack));
    expect(all).toHaveLength(2);
    expect(all.filter((e) => e.KubernetesGroups !== undefined).map((e) => [e.KubernetesGroups, e.AccessPolicies])).toEqual([[['app-config-syncer'], []]]);
    expect(JSON.stringify(all.filter((e) => e.KubernetesGroups === undefined))).toContain('AmazonEKSEditPolicy');
  });
});

describe('a cluster this app cannot modify', () => {
  test('the commands create the access entry with --kubernetes-groups, associate no policy, and apply the Roles', () => {
    const stack = newStack();
    const { syncer } = synth({ targets: [{ cluster: REMOTE, namespace: 'app' }, { cluster: REMOTE, namespace: 'jobs' }] }, stack);
    expect(syncer.clusterAccessCommands).toHaveLength(1);
    const commands = (stack.resolve(syncer.clusterAccessCommands[0]) as { 'Fn::Join': [string, unknown[]] })['Fn::Join'][1]
      .map((part) => (typeof part === 'string' ? part : '<ROLE_ARN>')).join('');
    expect(commands.split('\n').slice(0, 3)).toEqual([
      'aws eks create-access-entry --cluster-name app-eu --region eu-west-1 --principal-arn <ROLE_ARN> --kubernetes-groups app-config-syncer',
      'aws eks update-kubeconfig --name app-eu --region eu-west-1',
      "kubectl apply --server-side --field-manager=cross-region-config-rbac -f - <<'EOF'",
    ]);
    expect(commands).not.toContain('associate-access-policy');
    expect(commands).toContain(`<<'EOF'\n${syncer.rbacManifests(REMOTE)}EOF`);
    Annotations.fromStack(stack).hasWarning('/TestStack/Syncer', Match.stringLikeRegexp(
      'create-access-entry --cluster-name app-eu --region eu-west-1 --principal-arn "\\$ROLE_ARN" --kubernetes-groups app-config-syncer\\n'
      + 'where ROLE_ARN'));
    const warnings = Annotations.fromStack(stack).findWarning('/TestStack/Syncer', Match.stringLikeRegexp('associate-access-policy'));
    expect(warnings).toEqual([]);
  });
});

describe('the manifests', () => {
  test('name the ConfigMaps and workloads of each namespace exactly', () => {
    const stack = newStack();
    const { syncer } = synth({
      targets: [
        { cluster: REMOTE, namespace: 'app', workloads: [WEB, WorkloadSelection.named(WorkloadKind.DEPLOYMENT, 'api')] },
        { cluster: REMOTE, namespace: 'app', configMapName: 'flags', workloads: [WorkloadSelection.byLabels(WorkloadKind.DAEMON_SET, 'tier=edge')] },
        { cluster: REMOTE, namespace: 'jobs' },
        { cluster: KubernetesCluster.fromClusterAttributes({ clusterName: 'app-ap', region: 'ap-southeast-1' }), namespace: 'other' },
      ],
    }, stack);
    expect(syncer.rbacManifests(REMOTE)).toBe(`apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata:
  name: app-config-syncer
  namespace: app
rules:
- apiGroups: [""]
  resources: [configmaps]
  resourceNames: [app-config, flags]
  verbs: [create, get, patch]
- apiGroups: [apps]
  resources: [deployments]
  resourceNames: [api, web]
  verbs: [get, patch]
- apiGroups: [apps]
  resources: [daemonsets]
  verbs: [list, patch]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata:
  name: app-config-syncer
  namespace: app
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: Role
  name: app-config-syncer
subjects:
- apiGroup: rbac.authorization.k8s.io
  kind: Group
  name: app-config-syncer
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata:
  name: app-config-syncer
  namespace: jobs
rules:
- apiGroups: [""]
  resources: [configmaps]
  resourceNames: [app-config]
  verbs: [create, get, patch]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata:
  name: app-config-syncer
  namespace: jobs
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: Role
  name: app-config-syncer
subjects:
- apiGroup: rbac.authorization.k8s.io
  kind: Group
  name: app-config-syncer
`);
    // Each cluster gets only its own namespaces.
    const ap = syncer.targetClusters[1];
    expect(syncer.rbacManifests(ap)).toContain('namespace: other');
    expect(syncer.rbacManifests(ap)).not.toContain('namespace: app');
    expect(syncer.clusterAccessCommands).toHaveLength(2);
  });

  test('the default group is unique to the syncer and stable', () => {
    const build = (id: string, app = new App()) => {
      const stack = newStack(app);
      return new ConfigMapSyncer(stack, id, { ...BASE, kubernetesPermissions: KubernetesPermissions.rbac() }).kubernetesGroup!;
    };
    const a = build('Syncer');
    expect(a).toMatch(/^cross-region-config-syncer-[0-9a-f]{8}$/);
    expect(build('Syncer')).toBe(a);
    expect(build('OtherSyncer')).not.toBe(a);
  });

  test('quotes every value YAML would read as something else', () => {
    expect(toYamlStream([{ a: 'yes', b: ['on', '1.0', 'x:y', 'plain', ''], c: 'Null', d: '0123' }]))
      .toBe('a: "yes"\nb: ["on", "1.0", "x:y", plain, ""]\nc: "Null"\nd: "0123"\n');
  });

  // Invariant: for random targets, each namespace's Role names exactly its targets' ConfigMaps and
  // named workloads, lists a kind exactly where a selector uses labels, and exists only for namespaces
  // with a target.
  test('name exactly what random targets use (seeded)', () => {
    const seed = Number(process.env.RBAC_SEED ?? Date.now() % 100_000);
    let state = seed;
    const random = (n: number) => {
      state = (state * 1103515245 + 12345) % 2 ** 31;
      return state % n;
    };
    try {
      for (let round = 0; round < 50; round++) {
        const namespaces = ['a', 'b', 'c'].slice(0, 1 + random(3));
        const uses = namespaces.map((namespace) => {
          const configMapNames = [...new Set(Array.from({ length: 1 + random(3) }, () => `cm-${random(4)}`))];
          const workloads: WorkloadSelectorConfig[] = Array.from({ length: random(4) }, () => {
            const kind = (['Deployment', 'StatefulSet', 'DaemonSet'] as const)[random(3)];
            return random(3) === 0 ? { kind, labelSelector: `tier=t${random(2)}` } : { kind, name: `w-${random(3)}` };
          });
          return { namespace, configMapNames, workloads };
        });
        const objects = syncerRbacObjects('g', uses) as any[];
        expect(objects.map((o) => `${o.kind} ${o.metadata.namespace}`)).toEqual(namespaces.flatMap((n) => [`Role ${n}`, `RoleBinding ${n}`]));
        for (const use of uses) {
          const rules = syncerRules(use);
          expect(rules[0]).toEqual({ apiGroups: [''], resources: ['configmaps'], resourceNames: [...use.configMapNames].sort(), verbs: ['create', 'get', 'patch'] });
          for (const kind of ['Deployment', 'StatefulSet', 'DaemonSet']) {
            const resource = `${kind.toLowerCase()}s`;
            const ofKind = use.workloads.filter((w) => w.kind === kind);
            const rule = rules.find((r) => r.resources[0] === resource);
            if (ofKind.length === 0) {
              expect(rule).toBeUndefined();
            } else if (ofKind.some((w) => w.labelSelector)) {
              expect(rule).toEqual({ apiGroups: ['apps'], resources: [resource], verbs: [...(ofKind.some((w) => w.name) ? ['get'] : []), 'list', 'patch'] });
            } else {
              expect(rule).toEqual({ apiGroups: ['apps'], resources: [resource], resourceNames: [...new Set(ofKind.map((w) => w.name!))].sort(), verbs: ['get', 'patch'] });
            }
          }
          expect(rules.every((r) => !r.verbs.some((v) => ['delete', 'update', 'watch', 'deletecollection', '*'].includes(v)))).toBe(true);
        }
      }
    } catch (e) {
      throw new Error(`failed with RBAC_SEED=${seed}: ${(e as Error).message}`);
    }
  });
});

describe('the access-policy mode', () => {
  test('is the default and KubernetesPermissions.accessPolicy() changes nothing', () => {
    const render = (permissions?: KubernetesPermissions) => {
      const stack = newStack();
      new ConfigMapSyncer(stack, 'Syncer', { ...BASE, kubernetesPermissions: permissions, targets: [{ cluster: KubernetesCluster.fromCluster(localCluster(stack)) }, { cluster: REMOTE }] });
      return JSON.stringify(Template.fromStack(stack).toJSON());
    };
    const byDefault = render(undefined);
    expect(render(KubernetesPermissions.accessPolicy())).toBe(byDefault);
    expect(byDefault).toContain('AmazonEKSEditPolicy');
    expect(byDefault).not.toContain('KubernetesGroups');
  });

  test('fails if rbacManifests() is called', () => {
    const { syncer } = synth({ kubernetesPermissions: KubernetesPermissions.accessPolicy() });
    expect(syncer.kubernetesGroup).toBeUndefined();
    expect(() => syncer.rbacManifests(REMOTE)).toThrow(at('TestStack/Syncer',
      'kubernetesPermissions must be KubernetesPermissions.rbac() for rbacManifests(): with the access policy no Role is needed, '
      + 'but got "KubernetesPermissions.accessPolicy()"'));
  });
});

describe('validation', () => {
  const ALLOWED = 'must be a Kubernetes group name of letters, digits, "-", "_", "." and ":", starting and ending with a letter or digit '
    + '(it also names the generated Role and RoleBinding)';

  test.each([
    ['-team', `kubernetesPermissions groupName ${ALLOWED}, but got "-team"`],
    ['team-', `kubernetesPermissions groupName ${ALLOWED}, but got "team-"`],
    ['my team', `kubernetesPermissions groupName ${ALLOWED}, but got "my team"`],
    ['teams/a', `kubernetesPermissions groupName ${ALLOWED}, but got "teams/a"`],
    ['', 'kubernetesPermissions groupName must be 1 to 253 characters long (0 received), but got ""'],
    ['a'.repeat(254), `kubernetesPermissions groupName must be 1 to 253 characters long (254 received), but got "${'a'.repeat(254)}"`],
    ['system:masters', 'kubernetesPermissions groupName must not start with "system:", a prefix Kubernetes or EKS reserves '
      + '(system:, eks:, aws:, amazon:, iam:), but got "system:masters"'],
    ['EKS:admins', 'kubernetesPermissions groupName must not start with "eks:", a prefix Kubernetes or EKS reserves '
      + '(system:, eks:, aws:, amazon:, iam:), but got "EKS:admins"'],
    ['aws:x', 'kubernetesPermissions groupName must not start with "aws:", a prefix Kubernetes or EKS reserves '
      + '(system:, eks:, aws:, amazon:, iam:), but got "aws:x"'],
    ['amazon:x', 'kubernetesPermissions groupName must not start with "amazon:", a prefix Kubernetes or EKS reserves '
      + '(system:, eks:, aws:, amazon:, iam:), but got "amazon:x"'],
    ['iam:x', 'kubernetesPermissions groupName must not start with "iam:", a prefix Kubernetes or EKS reserves '
      + '(system:, eks:, aws:, amazon:, iam:), but got "iam:x"'],
  ])('fails if groupName is %j', (groupName, message) => {
    expect(() => synth({ kubernetesPermissions: KubernetesPermissions.rbac({ groupName }) })).toThrow(at('TestStack/Syncer', message));
  });

  test('accepts group names with ":", "." and "_" inside', () => {
    expect(synth({ kubernetesPermissions: KubernetesPermissions.rbac({ groupName: 'team.a:config_syncer' }) }).syncer.kubernetesGroup).toBe('team.a:config_syncer');
  });

  test('fails if groupName is a token', () => {
    const token = Token.asString({ Ref: 'Group' });
    expect(() => synth({ kubernetesPermissions: KubernetesPermissions.rbac({ groupName: token }) })).toThrow(
      /^TestStack\/Syncer: kubernetesPermissions groupName must be known at synth time: it names the generated Role and RoleBinding, but got /);
  });

  test('fails if a target creates its namespace', () => {
    expect(() => synth({ targets: [{ cluster: REMOTE }, { cluster: REMOTE, namespace: 'new', createNamespace: true }] })).toThrow(at('TestStack/Syncer',
      'targets[1].createNamespace must not be true with KubernetesPermissions.rbac(): the Role that grants the handler lives in the namespace, '
      + 'so the namespace must exist before the Role is applied, and creating namespaces needs a cluster-scoped grant this mode exists to avoid, but got true'));
  });

  test('fails if a name the Role holds is a token', () => {
    const token = Token.asString({ Ref: 'Name' });
    expect(() => synth({ targets: [{ cluster: REMOTE, configMapName: token }] })).toThrow(
      /^TestStack\/Syncer: targets\[0\]\.configMapName must be known at synth time with KubernetesPermissions\.rbac\(\): the generated Role names it, but got /);
  });

  test('fails if rbacManifests() is given a cluster that is not a target', () => {
    const { syncer } = synth({});
    const other = KubernetesCluster.fromClusterAttributes({ clusterName: 'other', region: 'eu-west-1' });
    expect(() => syncer.rbacManifests(other)).toThrow(at('TestStack/Syncer',
      'rbacManifests() cluster must be a target cluster ["eu-west-1/app-eu"], but got "eu-west-1/other"'));
  });
});
