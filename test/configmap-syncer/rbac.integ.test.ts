/**
 * `KubernetesPermissions.rbac()` against moto (SSM, STS) and a real kube-apiserver with RBAC
 * authorization: the handler's IAM role is authenticated by the cluster's EKS-like token webhook,
 * which puts it in the Kubernetes group of its access entry and nothing else (no access policy,
 * no other binding). The only permissions it has are the Role and RoleBinding the construct
 * generates (`rbacManifests()`), applied as YAML exactly as it prints them.
 *
 * - Sufficient: the handler's bundle (assets/, `npx projen bundle`) syncs, rolls and dry-runs every
 *   target, in fresh OS processes, without a single failure.
 * - Minimal: every request the handler could make beyond them (another ConfigMap or workload by
 *   name, list, delete, another namespace, namespaces) is Forbidden, and each verb of each rule is
 *   needed: with that one verb removed, the handler fails.
 *
 * No controller runs in the cluster: a rollout stays in progress, which these tests do not need.
 */
import { randomUUID } from 'node:crypto';
import * as path from 'node:path';
import { SSMClient } from '@aws-sdk/client-ssm';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { App, Duration, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import type { createHandler as CreateHandler, HandlerSummary } from '../../lambda-src/configmap-syncer/handler';
import { ClientCache } from '../../lambda-src/shared/clients';
import { KubernetesAccess, KubernetesApiError, KubernetesClient } from '../../lambda-src/shared/kubernetes';
import { ConfigMapSyncer, KubernetesCluster, KubernetesPermissions, WorkloadKind, WorkloadSelection } from '../../src';
import { SyncEnv, WorkloadSelectorConfig } from '../../src/configmap-syncer/contract';
import { syncerRules } from '../../src/configmap-syncer/syncer-rbac';
import { runBundle } from '../demo/support';
import { ConfigWorld } from '../drift-detector/world';
import { KubeCluster, startKubeCluster, StsKeyring } from '../harness/kube';
import { applyEnv, awsTestEnv, MotoServer, startMotoServer } from '../harness/moto';
import { deployedSettings, putParameters } from '../harness/settings-document';
import { OutputCapture } from '../harness/world';

const ACCOUNT = '123456789012';
const ROLE_ARN = `arn:aws:iam::${ACCOUNT}:role/configmap-syncer-rbac`;
const REGION = 'us-east-1';
const GROUP = 'shop-config-syncer';
const PARAMETER_PATH = '/rbac/shop';
const RBAC_API = '/apis/rbac.authorization.k8s.io/v1';
const BUNDLE = path.join(__dirname, '..', '..', 'assets', 'lambda-src', 'configmap-syncer', 'index.lambda', 'index.js');

let moto: MotoServer;
let restoreEnv: () => void;
let blue: KubeCluster;
let world: ConfigWorld;
let rawCreateHandler: typeof CreateHandler;
const keyring = new StsKeyring();
/** Every value the tests write: none may appear in the handler's output. */
const values: string[] = [];
const outputs: string[] = [];
/** The in-process handler's log lines and metrics. */
const output = new OutputCapture();

const apps = (kind: string) => ({ Deployment: 'deployments', StatefulSet: 'statefulsets', DaemonSet: 'daemonsets' } as Record<string, string>)[kind];
const workloadPath = (ns: string, kind: string, name: string) => `/apis/apps/v1/namespaces/${ns}/${apps(kind)}/${name}`;

/** Creates a workload as a GitOps controller would. */
async function createWorkload(ns: string, kind: 'Deployment' | 'StatefulSet' | 'DaemonSet', name: string, labels: Record<string, string> = {}): Promise<void> {
  const podLabels = { app: name };
  await blue.admin.apply(workloadPath(ns, kind, name), {
    apiVersion: 'apps/v1',
    kind,
    metadata: { name, namespace: ns, labels },
    spec: {
      ...(kind !== 'DaemonSet' ? { replicas: 2 } : {}),
      ...(kind === 'StatefulSet' ? { serviceName: name } : {}),
      selector: { matchLabels: podLabels },
      template: { metadata: { labels: podLabels }, spec: { containers: [{ name: 'app', image: 'registry.example/app:1.0' }] } },
    },
  }, 'argocd-controller');
}

/** Applies a YAML stream with the admin's credentials, one document at a time, as `kubectl apply --server-side` does. */
async function applyYaml(stream: string): Promise<Array<{ kind: string; namespace: string; name: string }>> {
  const applied = [];
  for (const doc of stream.split(/^---\n/m)) {
    const kind = /^kind: (\S+)$/m.exec(doc)![1];
    const name = /^ {2}name: (\S+)$/m.exec(doc)![1];
    const namespace = /^ {2}namespace: (\S+)$/m.exec(doc)![1];
    const resource = { Role: 'roles', RoleBinding: 'rolebindings' }[kind];
    expect(resource).toBeDefined();
    const res = await blue.admin.request('PATCH', `${RBAC_API}/namespaces/${namespace}/${resource}/${name}?fieldManager=gitops`, doc, 'application/apply-patch+yaml');
    if (res.status >= 300) throw new Error(`apply ${kind} ${namespace}/${name} answered ${res.status}: ${JSON.stringify(res.body)}`);
    applied.push({ kind, namespace, name });
  }
  for (const { namespace, name } of applied.filter((a) => a.kind === 'Role')) {
    await untilBound(namespace, (await blue.admin.request('GET', `${RBAC_API}/namespaces/${namespace}/roles/${name}`)).body.rules);
  }
  return applied;
}

/** Waits until the apiserver's authorizer lets the group use the first verb of `rules` in `namespace` (it reads RBAC from a cache). */
interface Rule {
  readonly apiGroups: string[];
  readonly resources: string[];
  readonly resourceNames?: string[];
  readonly verbs: string[];
}

async function untilBound(namespace: string, rules: Rule[]): Promise<void> {
  const rule = rules.find((r) => r.verbs.length > 0);
  if (!rule) return;
  await blue.admin.untilAllowed({ groups: [GROUP] }, {
    namespace, verb: rule.verbs[0], group: rule.apiGroups[0], resource: rule.resources[0], name: rule.resourceNames?.[0],
  });
}

async function put(key: string, label: string, parameterPath = PARAMETER_PATH): Promise<void> {
  const v = `${label}-${randomUUID()}`;
  values.push(v);
  await world.putParameter(REGION, `${parameterPath}/${key}`, v, 'String');
}

/** Every failure of a summary: failed targets and workloads with an error, as `<what> <reason>`. */
function failures(summary: HandlerSummary): string[] {
  return [
    ...summary.targets.filter((t) => t.outcome === 'failed').map((t) => `configmap ${t.namespace}/${t.configMapName} ${t.errorName}`),
    ...(summary.rollout?.workloads ?? []).filter((w) => w.errorName !== undefined).map((w) => `${w.kind}/${w.name} ${w.errorName}`),
  ];
}

/** The handler's own Kubernetes client (its role, its group only). */
async function handlerClient(): Promise<KubernetesClient> {
  return new KubernetesAccess(new ClientCache(REGION)).client(blue.config);
}

/** The reason of the Kubernetes error `request` fails with, or `allowed`. */
async function outcome(request: Promise<unknown>): Promise<string> {
  try {
    await request;
    return 'allowed';
  } catch (e) {
    if (e instanceof KubernetesApiError) return e.reason;
    throw e;
  }
}

beforeAll(async () => {
  moto = await startMotoServer();
  restoreEnv = applyEnv({ ...awsTestEnv(moto.endpoint, REGION), POWERTOOLS_SERVICE_NAME: 'RbacTest', POWERTOOLS_METRICS_NAMESPACE: 'Test/Rbac' });
  const assumed = await new STSClient({ region: REGION }).send(new AssumeRoleCommand({ RoleArn: ROLE_ARN, RoleSessionName: 'configmap-syncer' }));
  const credentials = {
    accessKeyId: assumed.Credentials!.AccessKeyId!,
    secretAccessKey: assumed.Credentials!.SecretAccessKey!,
    sessionToken: assumed.Credentials!.SessionToken!,
  };
  keyring.register(credentials);
  world = new ConfigWorld(moto.endpoint);
  Object.assign(process.env, {
    AWS_ACCESS_KEY_ID: credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
    AWS_SESSION_TOKEN: credentials.sessionToken,
    AWS_ENDPOINT_URL_STS: moto.endpoint,
  });
  blue = await startKubeCluster({ name: 'blue', region: REGION, motoEndpoint: moto.endpoint, keyring });
  // The access entry of KubernetesPermissions.rbac(): the group, no access policy.
  blue.webhook.setKubernetesGroups(ROLE_ARN, [GROUP]);
  /* eslint-disable @typescript-eslint/no-require-imports */
  rawCreateHandler = require('../../lambda-src/configmap-syncer/handler').createHandler;
  /* eslint-enable @typescript-eslint/no-require-imports */
  output.start();
}, 300_000);

afterAll(async () => {
  output.stop();
  await blue?.stop();
  await moto?.stop();
  restoreEnv?.();
});

describe('the generated Role and RoleBinding', () => {
  let syncer: ConfigMapSyncer;
  let environment: NodeJS.ProcessEnv;

  beforeAll(async () => {
    const stack = new Stack(new App(), 'RbacStack', { env: { region: REGION } });
    const cluster = KubernetesCluster.fromClusterAttributes({
      clusterName: 'blue', region: REGION, clusterEndpoint: blue.endpoint, clusterCertificateAuthorityData: blue.certificateAuthorityData,
    });
    syncer = new ConfigMapSyncer(stack, 'Syncer', {
      parameterPath: PARAMETER_PATH,
      kubernetesPermissions: KubernetesPermissions.rbac({ groupName: GROUP }),
      targets: [
        {
          cluster,
          namespace: 'shop',
          configMapName: 'shop-config',
          workloads: [WorkloadSelection.named(WorkloadKind.DEPLOYMENT, 'web'), WorkloadSelection.byLabels(WorkloadKind.STATEFUL_SET, 'tier=db')],
        },
        { cluster, namespace: 'shop', configMapName: 'shop-flags' },
        { cluster, namespace: 'billing', configMapName: 'billing-config', workloads: [WorkloadSelection.named(WorkloadKind.DAEMON_SET, 'agent')] },
      ],
      rollout: { pause: Duration.seconds(0) },
    });
    // The handler's settings as CloudFormation would deploy them: the three CAs outgrow the
    // environment, so the targets are in the settings document.
    const template = Template.fromStack(stack).toJSON();
    const functionId = Object.keys(template.Resources).find((id) => template.Resources[id].Type === 'AWS::Lambda::Function')!;
    const deployed = deployedSettings(template, functionId);
    await putParameters(new SSMClient({ region: REGION }), deployed.parameters);
    // No polling: no controller runs here.
    const rollout = JSON.parse(deployed.environment[SyncEnv.ROLLOUT]);
    environment = { ...process.env, ...deployed.environment, [SyncEnv.ROLLOUT]: JSON.stringify({ ...rollout, pollSeconds: 0 }) };

    await Promise.all(['shop', 'billing'].map((ns) => blue.admin.createNamespace(ns)));
    await createWorkload('shop', 'Deployment', 'web');
    await createWorkload('shop', 'StatefulSet', 'db', { tier: 'db' });
    await createWorkload('billing', 'DaemonSet', 'agent');
    // Objects the handler has no business with.
    await createWorkload('shop', 'Deployment', 'other');
    await createWorkload('shop', 'DaemonSet', 'agent');
    await blue.admin.applyConfigMap('shop', 'other-config', { owner: 'team' }, 'team');
    await blue.admin.createNamespace('unrelated');
    await blue.admin.applyConfigMap('unrelated', 'shop-config', { owner: 'team' }, 'team');
  }, 120_000);

  test('apply as YAML and hold exactly the generated rules', async () => {
    const applied = await applyYaml(syncer.rbacManifests(syncer.targetClusters[0]));
    expect(applied).toEqual([
      { kind: 'Role', namespace: 'shop', name: GROUP },
      { kind: 'RoleBinding', namespace: 'shop', name: GROUP },
      { kind: 'Role', namespace: 'billing', name: GROUP },
      { kind: 'RoleBinding', namespace: 'billing', name: GROUP },
    ]);
    const rules = async (ns: string) => (await blue.admin.request('GET', `${RBAC_API}/namespaces/${ns}/roles/${GROUP}`)).body.rules;
    expect(await rules('shop')).toEqual([
      { apiGroups: [''], resources: ['configmaps'], resourceNames: ['shop-config', 'shop-flags'], verbs: ['create', 'get', 'patch'] },
      { apiGroups: ['apps'], resources: ['deployments'], resourceNames: ['web'], verbs: ['get', 'patch'] },
      { apiGroups: ['apps'], resources: ['statefulsets'], verbs: ['list', 'patch'] },
    ]);
    expect(await rules('billing')).toEqual([
      { apiGroups: [''], resources: ['configmaps'], resourceNames: ['billing-config'], verbs: ['create', 'get', 'patch'] },
      { apiGroups: ['apps'], resources: ['daemonsets'], resourceNames: ['agent'], verbs: ['get', 'patch'] },
    ]);
    const binding = (await blue.admin.request('GET', `${RBAC_API}/namespaces/shop/rolebindings/${GROUP}`)).body;
    expect({ roleRef: binding.roleRef, subjects: binding.subjects }).toEqual({
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: GROUP },
      subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'Group', name: GROUP }],
    });
  });

  test('are sufficient: the bundle dry-runs, syncs, adopts, rolls and dry-runs again without one failure', async () => {
    await put('mode', 'one');
    const invoke = async (action: string): Promise<HandlerSummary> => {
      const run = await runBundle(BUNDLE, environment, { action });
      outputs.push(...run.logs, run.error ?? JSON.stringify(run.result));
      expect(run.error).toBeUndefined();
      return run.result;
    };
    const outcomes = (s: HandlerSummary) => s.targets.map((t) => `${t.namespace}/${t.configMapName} ${t.outcome}`);
    const rolled = (s: HandlerSummary) => s.rollout!.workloads.map((w) => `${w.kind}/${w.name} ${w.outcome}`);

    // Nothing exists yet: a dry run of creating each ConfigMap (authorized as a create of its name).
    const dryRun = await invoke('test_sync');
    expect(failures(dryRun)).toEqual([]);
    expect(outcomes(dryRun)).toEqual(['shop/shop-config would-apply', 'shop/shop-flags would-apply', 'billing/billing-config would-apply']);
    expect(await blue.admin.getConfigMap('shop', 'shop-config')).toBeUndefined();

    const first = await invoke('sync');
    expect(failures(first)).toEqual([]);
    expect(outcomes(first)).toEqual(['shop/shop-config applied', 'shop/shop-flags applied', 'billing/billing-config applied']);
    expect(rolled(first)).toEqual(['Deployment/web adopted', 'StatefulSet/db adopted', 'DaemonSet/agent adopted']);

    await put('mode', 'two');
    const second = await invoke('sync');
    expect(failures(second)).toEqual([]);
    expect(outcomes(second)).toEqual(['shop/shop-config applied', 'shop/shop-flags applied', 'billing/billing-config applied']);
    expect(rolled(second)).toEqual(['Deployment/web started', 'StatefulSet/db started', 'DaemonSet/agent started']);

    const again = await invoke('test_sync');
    expect(failures(again)).toEqual([]);
    expect(outcomes(again)).toEqual(['shop/shop-config would-be-unchanged', 'shop/shop-flags would-be-unchanged', 'billing/billing-config would-be-unchanged']);
  }, 120_000);

  test('are minimal: every other request of the handler is Forbidden', async () => {
    const client = await handlerClient();
    const apply = (namespace: string, name: string) => client.applyConfigMap({ namespace, name, data: { a: 'b' }, fieldManager: 'cross-region-config' });
    const annotate = (kind: 'Deployment' | 'StatefulSet' | 'DaemonSet', namespace: string, name: string) =>
      client.applyWorkloadAnnotations({ kind, namespace, name, annotations: { a: 'b' }, fieldManager: 'cross-region-config-rollout.x' });
    const probes: Record<string, Promise<unknown>> = {
      'patch ConfigMap another name': apply('shop', 'other-config'),
      'create ConfigMap another name': apply('shop', 'brand-new'),
      'get ConfigMap another name': client.getConfigMap('shop', 'other-config'),
      'list ConfigMaps': client.listConfigMaps('shop'),
      'delete a named ConfigMap': client.deleteConfigMap('shop', 'shop-config'),
      'patch a named ConfigMap in another namespace': apply('unrelated', 'shop-config'),
      'create a named ConfigMap in another namespace': apply('default', 'shop-config'),
      'patch Deployment another name': annotate('Deployment', 'shop', 'other'),
      'get Deployment another name': client.getWorkload('Deployment', 'shop', 'other'),
      'list Deployments': client.listWorkloads('Deployment', 'shop', 'app=other'),
      'patch DaemonSet named only in another namespace': annotate('DaemonSet', 'shop', 'agent'),
      'list DaemonSets': client.listWorkloads('DaemonSet', 'billing', 'app=agent'),
      'patch StatefulSet in another namespace': annotate('StatefulSet', 'billing', 'db'),
      'create a namespace': client.ensureNamespace('created-by-syncer', 'cross-region-config'),
    };
    const results: Record<string, string> = {};
    for (const [probe, request] of Object.entries(probes)) results[probe] = await outcome(request);
    expect(results).toEqual(Object.fromEntries(Object.keys(probes).map((p) => [p, 'Forbidden'])));
    // What a label selector needs cannot be named: every StatefulSet of the namespace may be listed and patched.
    expect(await outcome(client.listWorkloads('StatefulSet', 'shop', 'tier=db'))).toBe('allowed');
    expect((await blue.admin.getConfigMap('shop', 'other-config')).data).toEqual({ owner: 'team' });
    expect(await blue.admin.namespaceExists('created-by-syncer')).toBe(false);
  }, 60_000);

  test('grant the group, not the role: another principal outside the group is Forbidden', async () => {
    const other = (await new STSClient({ region: REGION }).send(new AssumeRoleCommand({
      RoleArn: `arn:aws:iam::${ACCOUNT}:role/not-in-group`, RoleSessionName: 'x',
    }))).Credentials!;
    const credentials = { accessKeyId: other.AccessKeyId!, secretAccessKey: other.SecretAccessKey!, sessionToken: other.SessionToken! };
    keyring.register(credentials);
    const saved = { id: process.env.AWS_ACCESS_KEY_ID, secret: process.env.AWS_SECRET_ACCESS_KEY, token: process.env.AWS_SESSION_TOKEN };
    Object.assign(process.env, {
      AWS_ACCESS_KEY_ID: credentials.accessKeyId, AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey, AWS_SESSION_TOKEN: credentials.sessionToken,
    });
    try {
      const client = await handlerClient();
      expect(await outcome(client.getConfigMap('shop', 'shop-config'))).toBe('Forbidden');
    } finally {
      Object.assign(process.env, { AWS_ACCESS_KEY_ID: saved.id, AWS_SECRET_ACCESS_KEY: saved.secret, AWS_SESSION_TOKEN: saved.token });
    }
    // Authenticated (not Unauthorized): only the group is missing.
    expect(blue.webhook.reviews.some((r) => r.username === `arn:aws:iam::${ACCOUNT}:role/not-in-group`)).toBe(true);
  }, 60_000);
});

describe('each verb of each rule is needed', () => {
  const workloads: WorkloadSelectorConfig[] = [
    { kind: 'Deployment', name: 'web' },
    { kind: 'StatefulSet', labelSelector: 'tier=db' },
    { kind: 'DaemonSet', name: 'agent' },
  ];
  const full = syncerRules({ namespace: 'x', configMapNames: ['app-config'], workloads });
  const cases = full.flatMap((rule, r) => rule.verbs.map((verb) => ({ r, verb, label: `${rule.resources[0]} ${verb}` })));

  test('the rules cover what the handler calls, each verb once', () => {
    expect(cases.map((c) => c.label)).toEqual([
      'configmaps create', 'configmaps get', 'configmaps patch',
      'deployments get', 'deployments patch',
      'statefulsets list', 'statefulsets patch',
      'daemonsets get', 'daemonsets patch',
    ]);
  });

  test.each(cases.map((c) => [c.label, c] as const))('without %s the handler fails', async (_label, c) => {
    const ns = `minus-${c.label.replace(' ', '-')}`;
    await blue.admin.createNamespace(ns);
    await createWorkload(ns, 'Deployment', 'web');
    await createWorkload(ns, 'StatefulSet', 'db', { tier: 'db' });
    await createWorkload(ns, 'DaemonSet', 'agent');
    const rules = full.map((rule, r) => (r === c.r ? { ...rule, verbs: rule.verbs.filter((v) => v !== c.verb) } : rule));
    await blue.admin.apply(`${RBAC_API}/namespaces/${ns}/roles/${GROUP}`, {
      apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', metadata: { name: GROUP, namespace: ns }, rules,
    });
    await blue.admin.apply(`${RBAC_API}/namespaces/${ns}/rolebindings/${GROUP}`, {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata: { name: GROUP, namespace: ns },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: GROUP },
      subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'Group', name: GROUP }],
    });
    await untilBound(ns, rules);
    const parameterPath = `/rbac/${ns}`;
    const invoke = rawCreateHandler({
      ...process.env,
      [SyncEnv.PRIMARY_REGION]: REGION,
      [SyncEnv.SOURCE_PARAMETER_PATH]: parameterPath,
      [SyncEnv.TARGETS]: JSON.stringify([{ cluster: blue.config, namespace: ns, configMapName: 'app-config', createNamespace: false, workloads }]),
      [SyncEnv.ROLLOUT]: JSON.stringify({ waves: 'primary-first', pauseSeconds: 0, rolloutTimeoutSeconds: 600, pollSeconds: 0 }),
    });
    await put('mode', 'one', parameterPath);
    const seen: string[] = [];
    for (const action of ['test_sync', 'sync', 'change', 'sync', 'test_sync']) {
      if (action === 'change') {
        await put('mode', 'two', parameterPath);
        continue;
      }
      const summary = await invoke({ action }) as HandlerSummary;
      outputs.push(JSON.stringify(summary));
      seen.push(...failures(summary));
    }
    expect(seen.length).toBeGreaterThan(0);
    expect(seen.every((f) => f.endsWith(' Forbidden'))).toBe(true);
  }, 60_000);
});

test('no value the tests wrote appears in the handler\'s output', () => {
  expect(values.length).toBeGreaterThanOrEqual(3);
  const seen = [...outputs, ...output.lines].join('\n');
  expect(output.lines.length).toBeGreaterThan(0);
  expect(values.filter((v) => seen.includes(v))).toEqual([]);
});
