/**
 * The ConfigMapSyncer's workload rollout against moto (SSM, STS) and two real kube-apiservers:
 * blue in the primary region us-east-1 (wave 0) and green in eu-west-1 (wave 1). The handler's
 * IAM role is authenticated by the clusters' EKS-like token webhook and authorized by RBAC: edit
 * on ConfigMaps (the stand-in for AmazonEKSEditPolicy) and the rollout Role the construct prints
 * (`rolloutManifests`, bound here to the role's user name, since the webhook maps no groups).
 *
 * No controller runs in these clusters: a Deployment's status only changes when a test writes it,
 * as kube-controller-manager would once the pods are replaced (`finishRollout`). Each test has its
 * own parameter path, ConfigMap and workloads, so the tests are independent. The last test runs the
 * handler's bundle (assets/, `npx projen bundle`) in two OS processes at once.
 */
import { randomUUID } from 'node:crypto';
import * as path from 'node:path';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import type { createHandler as CreateHandler, HandlerSummary, SyncerDependencies } from '../../lambda-src/configmap-syncer/handler';
import type { RolloutConfig, SyncTargetConfig, WorkloadSelectorConfig } from '../../src/configmap-syncer/contract';
import { CONTENT_HASH_ANNOTATION, ROLLOUT_ANNOTATION, SyncEnv } from '../../src/configmap-syncer/contract';
import { rolloutManifests } from '../../src/configmap-syncer/rollout-rbac';
import { runBundle } from '../demo/support';
import { ConfigWorld } from '../drift-detector/world';
import { KubeCluster, startKubeCluster, StsKeyring } from '../harness/kube';
import { applyEnv, awsTestEnv, MotoServer, startMotoServer } from '../harness/moto';
import { OutputCapture, recordingHandlers } from '../harness/world';

const ACCOUNT = '123456789012';
const ROLE_ARN = `arn:aws:iam::${ACCOUNT}:role/configmap-syncer`;
const REGION = 'us-east-1';
const SERVICE = 'RolloutTest';
const GITOPS = 'argocd-controller';

let moto: MotoServer;
let restoreEnv: () => void;
let blue: KubeCluster;
let green: KubeCluster;
let world: ConfigWorld;
const keyring = new StsKeyring();
const output = new OutputCapture();
const results: string[] = [];
let rawCreateHandler: typeof CreateHandler;

const apps = (kind: string) => ({ Deployment: 'deployments', StatefulSet: 'statefulsets', DaemonSet: 'daemonsets' } as Record<string, string>)[kind];
const workloadPath = (ns: string, kind: string, name: string) => `/apis/apps/v1/namespaces/${ns}/${apps(kind)}/${name}`;

/** Creates a workload as the GitOps controller would (server-side apply as `argocd-controller`). */
async function createWorkload(cluster: KubeCluster, ns: string, kind: 'Deployment' | 'StatefulSet' | 'DaemonSet', name: string, labels: Record<string, string> = {}): Promise<void> {
  const podLabels = { app: name };
  await cluster.admin.apply(workloadPath(ns, kind, name), {
    apiVersion: 'apps/v1',
    kind,
    metadata: { name, namespace: ns, labels },
    spec: {
      ...(kind !== 'DaemonSet' ? { replicas: 2 } : {}),
      ...(kind === 'StatefulSet' ? { serviceName: name } : {}),
      selector: { matchLabels: podLabels },
      template: { metadata: { labels: podLabels }, spec: { containers: [{ name: 'app', image: 'registry.example/app:1.0' }] } },
    },
  }, GITOPS);
}

async function getWorkload(cluster: KubeCluster, ns: string, kind: string, name: string): Promise<any> {
  const res = await cluster.admin.request('GET', workloadPath(ns, kind, name));
  if (res.status !== 200) throw new Error(`GET ${kind} ${name} answered ${res.status}`);
  return res.body;
}

/** Writes the status the workload's controller writes once every pod runs the current template. */
async function finishRollout(cluster: KubeCluster, ns: string, kind: string, name: string): Promise<void> {
  const w = await getWorkload(cluster, ns, kind, name);
  const n = w.spec.replicas ?? 2;
  const status = kind === 'DaemonSet'
    ? {
      observedGeneration: w.metadata.generation,
      desiredNumberScheduled: n,
      currentNumberScheduled: n,
      numberMisscheduled: 0,
      numberReady: n,
      updatedNumberScheduled: n,
      numberAvailable: n,
    }
    : {
      observedGeneration: w.metadata.generation,
      replicas: n,
      updatedReplicas: n,
      readyReplicas: n,
      availableReplicas: n,
      ...(kind === 'StatefulSet' ? { currentReplicas: n, currentRevision: `${name}-${w.metadata.generation}`, updateRevision: `${name}-${w.metadata.generation}` } : {}),
    };
  const res = await cluster.admin.request('PATCH', `${workloadPath(ns, kind, name)}/status`, { status }, 'application/merge-patch+json');
  if (res.status !== 200) throw new Error(`PATCH status of ${kind} ${name} answered ${res.status}`);
}

/** Grants the handler's role the rollout Role (as printed by the construct) for `selectors` in `ns`. */
async function grantRollout(cluster: KubeCluster, ns: string, selectors: WorkloadSelectorConfig[]): Promise<void> {
  const [role, binding] = rolloutManifests(ns, selectors) as any[];
  const suffix = randomUUID().slice(0, 8);
  const rbac = '/apis/rbac.authorization.k8s.io/v1';
  const name = `${role.metadata.name}-${suffix}`;
  await cluster.admin.apply(`${rbac}/namespaces/${ns}/roles/${name}`, { ...role, metadata: { ...role.metadata, name } });
  await cluster.admin.apply(`${rbac}/namespaces/${ns}/rolebindings/${name}`, {
    ...binding,
    metadata: { ...binding.metadata, name },
    roleRef: { ...binding.roleRef, name },
    // The test webhook maps the role to its ARN and no group: bind the user the access entry's group stands for.
    subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: ROLE_ARN }],
  });
  const [rule] = role.rules;
  await cluster.admin.untilAllowed({ user: ROLE_ARN }, {
    namespace: ns, verb: rule.verbs[0], group: rule.apiGroups[0], resource: rule.resources[0], name: rule.resourceNames?.[0],
  });
}

interface Case {
  readonly ns: string;
  readonly path: string;
  readonly configMapName: string;
  readonly targets: SyncTargetConfig[];
  readonly rollout: RolloutConfig;
}

/** A test's own namespace (edit on ConfigMaps granted), parameter path, ConfigMap and rollout settings. */
async function setting(
  name: string, workloads: WorkloadSelectorConfig[], rollout: Partial<RolloutConfig> = {}, clusters = [blue, green],
): Promise<Case> {
  await Promise.all(clusters.map((k) => k.grant(name, ROLE_ARN, 'edit')));
  return {
    ns: name,
    path: `/rollout/${name}`,
    configMapName: `${name}-config`,
    targets: clusters.map((c) => ({ cluster: c.config, namespace: name, configMapName: `${name}-config`, createNamespace: false, workloads })),
    rollout: { waves: 'primary-first', pauseSeconds: 0, rolloutTimeoutSeconds: 600, pollSeconds: 0, ...rollout },
  };
}

function handler(c: Case, dependencies: SyncerDependencies = {}): (event: unknown) => Promise<HandlerSummary> {
  const environment = {
    ...process.env,
    [SyncEnv.PRIMARY_REGION]: REGION,
    [SyncEnv.SOURCE_PARAMETER_PATH]: c.path,
    [SyncEnv.TARGETS]: JSON.stringify(c.targets),
    [SyncEnv.ROLLOUT]: JSON.stringify(c.rollout),
  };
  return recordingHandlers((e) => rawCreateHandler(e, dependencies) as any, results)(environment) as any;
}

const rolled = (summary: HandlerSummary) => summary.rollout!.workloads.map((w) => `${w.cluster} ${w.kind}/${w.name} ${w.outcome}${w.errorName ? ` ${w.errorName}` : ''}`);
const templateHash = (w: any, cm: string) => w.spec.template.metadata.annotations?.[`${ROLLOUT_ANNOTATION.HASH}/${cm}`];
const configHash = async (cluster: KubeCluster, c: Case) =>
  (await cluster.admin.getConfigMap(c.ns, c.configMapName)).metadata.annotations[CONTENT_HASH_ANNOTATION];

/** Every value the tests write: none may appear in a log line, a metric or a result. */
const values: string[] = [];

/** Writes a fresh, recognisable value (`<label>-<uuid>`) of `key`, registered for the leak scan. */
async function put(c: Case, key: string, label: string): Promise<void> {
  const v = `${label}-${randomUUID()}`;
  values.push(v);
  await world.putParameter(REGION, `${c.path}/${key}`, v, 'String');
}

beforeAll(async () => {
  moto = await startMotoServer();
  restoreEnv = applyEnv({ ...awsTestEnv(moto.endpoint, REGION), POWERTOOLS_SERVICE_NAME: SERVICE, POWERTOOLS_METRICS_NAMESPACE: 'Test/Rollout' });
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
  [blue, green] = await Promise.all([
    startKubeCluster({ name: 'blue', region: 'us-east-1', motoEndpoint: moto.endpoint, keyring }),
    startKubeCluster({ name: 'green', region: 'eu-west-1', motoEndpoint: moto.endpoint, keyring }),
  ]);
  /* eslint-disable @typescript-eslint/no-require-imports */
  rawCreateHandler = require('../../lambda-src/configmap-syncer/handler').createHandler;
  /* eslint-enable @typescript-eslint/no-require-imports */
  output.start();
}, 300_000);

afterAll(async () => {
  output.stop();
  await Promise.all([blue?.stop(), green?.stop()]);
  await moto?.stop();
  restoreEnv?.();
});

test('rolls only on a data change, primary region first, the next wave in a later invocation once the first completed', async () => {
  const c = await setting('waves', [{ kind: 'Deployment', name: 'web' }]);
  await Promise.all([blue, green].map(async (k) => { await createWorkload(k, c.ns, 'Deployment', 'web'); await grantRollout(k, c.ns, c.targets[0].workloads!); }));
  await put(c, 'mode', 'blue-1');
  const sync = handler(c);

  // First sight: adopted with the current data, not restarted.
  expect(rolled(await sync({ action: 'sync' }))).toEqual(['blue Deployment/web adopted', 'green Deployment/web adopted']);
  // (A Deployment's generation also counts annotation changes: the pod template is what restarts pods.)
  const templates = await Promise.all([blue, green].map(async (k) => JSON.stringify((await getWorkload(k, c.ns, 'Deployment', 'web')).spec.template)));
  expect(templates.every((t) => !t.includes('rollout.cross-region-config.dev'))).toBe(true);
  // No data change: nothing is written to the workloads.
  const versions = await Promise.all([blue, green].map(async (k) => (await getWorkload(k, c.ns, 'Deployment', 'web')).metadata.resourceVersion));
  const unchanged = await sync({ action: 'sync' });
  expect(rolled(unchanged)).toEqual(['blue Deployment/web unchanged', 'green Deployment/web unchanged']);
  expect(await Promise.all([blue, green].map(async (k) => (await getWorkload(k, c.ns, 'Deployment', 'web')).metadata.resourceVersion))).toEqual(versions);

  // A data change: wave 0 (blue) starts, green waits.
  await put(c, 'mode', 'blue-2');
  const mark = output.lines.length;
  const first = await sync({ action: 'sync' });
  expect(rolled(first)).toEqual(['blue Deployment/web started', 'green Deployment/web waiting']);
  expect(first.rollout).toMatchObject({ waves: 2, halted: false, inProgress: true, started: 1 });
  const blueWeb = await getWorkload(blue, c.ns, 'Deployment', 'web');
  expect(JSON.stringify(blueWeb.spec.template)).not.toBe(templates[0]);
  expect(templateHash(blueWeb, c.configMapName)).toBe(await configHash(blue, c));
  expect(templateHash(await getWorkload(green, c.ns, 'Deployment', 'web'), c.configMapName)).toBeUndefined();
  expect(output.metricSum('RolloutsStarted', { service: SERVICE, Cluster: 'us-east-1/blue' }, mark)).toBe(1);

  // Still rolling: green keeps waiting, invocation after invocation.
  expect(rolled(await sync({ action: 'sync' }))).toEqual(['blue Deployment/web rolling', 'green Deployment/web waiting']);

  await finishRollout(blue, c.ns, 'Deployment', 'web');
  const second = await sync({ action: 'sync' });
  expect(rolled(second)).toEqual(['blue Deployment/web completed', 'green Deployment/web started']);
  expect(templateHash(await getWorkload(green, c.ns, 'Deployment', 'web'), c.configMapName)).toBe(await configHash(green, c));

  await finishRollout(green, c.ns, 'Deployment', 'web');
  const done = await sync({ action: 'sync' });
  expect(rolled(done)).toEqual(['blue Deployment/web unchanged', 'green Deployment/web completed']);
  expect(done.rollout).toMatchObject({ inProgress: false, halted: false });
  expect(output.metricSum('RolloutsCompleted', { service: SERVICE }, mark)).toBe(2);
  // One new template per cluster for one data change: only the rollout annotation differs.
  for (const [i, k] of [blue, green].entries()) {
    const t = (await getWorkload(k, c.ns, 'Deployment', 'web')).spec.template;
    delete t.metadata.annotations;
    expect(JSON.stringify(t)).toBe(templates[i]);
  }
}, 120_000);

test('a rollout stuck past its timeout stops the waves: alarmed metric, later regions keep their pods', async () => {
  const c = await setting('stuck', [{ kind: 'Deployment', name: 'api' }], { rolloutTimeoutSeconds: 2 });
  await Promise.all([blue, green].map(async (k) => { await createWorkload(k, c.ns, 'Deployment', 'api'); await grantRollout(k, c.ns, c.targets[0].workloads!); }));
  await put(c, 'mode', 'one');
  const sync = handler(c);
  await sync({ action: 'sync' });
  await put(c, 'mode', 'two');

  expect(rolled(await sync({ action: 'sync' }))).toEqual(['blue Deployment/api started', 'green Deployment/api waiting']);
  await new Promise((r) => setTimeout(r, 2_500));
  const mark = output.lines.length;
  const stuck = await sync({ action: 'sync' });

  expect(rolled(stuck)).toEqual(['blue Deployment/api failed', 'green Deployment/api halted']);
  expect(stuck.rollout).toMatchObject({ halted: true, failed: 1 });
  expect(output.metricSum('RolloutsFailed', { service: SERVICE, Cluster: 'us-east-1/blue' }, mark)).toBe(1);
  expect(output.logs(mark).find((l) => l.message.startsWith('rollout did not complete'))).toMatchObject({ level: 'ERROR', cluster: 'blue', name: 'api' });
  // Later invocations keep the waves stopped (and count the failure once).
  const later = output.lines.length;
  expect(rolled(await sync({ action: 'sync' }))).toEqual(['blue Deployment/api failed', 'green Deployment/api halted']);
  expect(output.metricSum('RolloutsFailed', { service: SERVICE }, later)).toBe(0);
  const greenApi = await getWorkload(green, c.ns, 'Deployment', 'api');
  expect(templateHash(greenApi, c.configMapName)).toBeUndefined();

  // The next data change (a fix) rolls again from the primary region.
  await put(c, 'mode', 'three');
  expect(rolled(await sync({ action: 'sync' }))).toEqual(['blue Deployment/api started', 'green Deployment/api waiting']);
}, 120_000);

test('changes within the pause period make one rollout of the last data', async () => {
  const c = await setting('pause', [{ kind: 'Deployment', name: 'cart' }], { pauseSeconds: 4 }, [blue]);
  await createWorkload(blue, c.ns, 'Deployment', 'cart');
  await grantRollout(blue, c.ns, c.targets[0].workloads!);
  await put(c, 'mode', 'a');
  const sync = handler(c);
  await sync({ action: 'sync' });

  await put(c, 'mode', 'b');
  expect(rolled(await sync({ action: 'sync' }))).toEqual(['blue Deployment/cart paused']);
  await new Promise((r) => setTimeout(r, 1_500));
  await put(c, 'mode', 'c');
  expect(rolled(await sync({ action: 'sync' }))).toEqual(['blue Deployment/cart paused']);
  expect(templateHash(await getWorkload(blue, c.ns, 'Deployment', 'cart'), c.configMapName)).toBeUndefined();

  await new Promise((r) => setTimeout(r, 4_500));
  expect(rolled(await sync({ action: 'sync' }))).toEqual(['blue Deployment/cart started']);
  const cart = await getWorkload(blue, c.ns, 'Deployment', 'cart');
  expect(cart.metadata.annotations[`${ROLLOUT_ANNOTATION.STARTED}/${c.configMapName}`]).toBeDefined();
  expect(templateHash(cart, c.configMapName)).toBe(await configHash(blue, c));
}, 120_000);

test('one invocation moves the waves on while it may poll (the controllers finish meanwhile)', async () => {
  const c = await setting('poll', [{ kind: 'Deployment', name: 'search' }], { pollSeconds: 60 });
  await Promise.all([blue, green].map(async (k) => { await createWorkload(k, c.ns, 'Deployment', 'search'); await grantRollout(k, c.ns, c.targets[0].workloads!); }));
  await put(c, 'mode', 'one');
  await handler(c)({ action: 'sync' });
  await put(c, 'mode', 'two');

  // Plays kube-controller-manager: finishes each rollout shortly after its template changed.
  let stop = false;
  const controllers = (async () => {
    while (!stop) {
      for (const k of [blue, green]) {
        const w = await getWorkload(k, c.ns, 'Deployment', 'search');
        if (templateHash(w, c.configMapName) !== undefined && w.metadata.generation > (w.status?.observedGeneration ?? 0)) await finishRollout(k, c.ns, 'Deployment', 'search');
      }
      await new Promise((r) => setTimeout(r, 300));
    }
  })();
  const result = await handler(c, { rolloutPollIntervalMs: 250 })({ action: 'sync' });
  stop = true;
  await controllers;

  expect(rolled(result)).toEqual(['blue Deployment/search unchanged', 'green Deployment/search completed']);
  expect(result.rollout).toMatchObject({ started: 2, completed: 2, inProgress: false });
}, 120_000);

test('selects workloads by label, of every kind, and test_sync shows which would roll', async () => {
  const selectors: WorkloadSelectorConfig[] = [
    { kind: 'Deployment', labelSelector: 'config=shop' }, { kind: 'StatefulSet', name: 'db' }, { kind: 'DaemonSet', name: 'agent' },
  ];
  const c = await setting('labels', selectors, {}, [blue]);
  await createWorkload(blue, c.ns, 'Deployment', 'front', { config: 'shop' });
  await createWorkload(blue, c.ns, 'Deployment', 'back', { config: 'shop' });
  await createWorkload(blue, c.ns, 'Deployment', 'unrelated', { config: 'other' });
  await createWorkload(blue, c.ns, 'StatefulSet', 'db');
  await createWorkload(blue, c.ns, 'DaemonSet', 'agent');
  await grantRollout(blue, c.ns, selectors);
  await put(c, 'mode', 'x');
  const sync = handler(c);
  expect(rolled(await sync({ action: 'test_sync' }))).toEqual([
    'blue Deployment/back would-adopt', 'blue Deployment/front would-adopt', 'blue StatefulSet/db would-adopt', 'blue DaemonSet/agent would-adopt',
  ]);
  await sync({ action: 'sync' });
  await put(c, 'mode', 'y');

  const plan = await sync({ action: 'test_sync' });
  expect(rolled(plan)).toEqual([
    'blue Deployment/back would-roll', 'blue Deployment/front would-roll', 'blue StatefulSet/db would-roll', 'blue DaemonSet/agent would-roll',
  ]);
  expect(templateHash(await getWorkload(blue, c.ns, 'Deployment', 'front'), c.configMapName)).toBeUndefined();

  expect(rolled(await sync({ action: 'sync' }))).toEqual([
    'blue Deployment/back started', 'blue Deployment/front started', 'blue StatefulSet/db started', 'blue DaemonSet/agent started',
  ]);
  const unrelated = await getWorkload(blue, c.ns, 'Deployment', 'unrelated');
  expect(unrelated.metadata.annotations ?? {}).toEqual({});
  expect(templateHash(unrelated, c.configMapName)).toBeUndefined();
  for (const [kind, name] of [['Deployment', 'front'], ['Deployment', 'back'], ['StatefulSet', 'db'], ['DaemonSet', 'agent']]) {
    await finishRollout(blue, c.ns, kind, name);
  }
  expect(rolled(await sync({ action: 'sync' }))).toEqual([
    'blue Deployment/back completed', 'blue Deployment/front completed', 'blue StatefulSet/db completed', 'blue DaemonSet/agent completed',
  ]);
}, 120_000);

test('a 403 on one cluster is that cluster\'s failure; the other cluster rolls and the waves go on', async () => {
  const c = await setting('denied', [{ kind: 'Deployment', name: 'pay' }]);
  await Promise.all([blue, green].map((k) => createWorkload(k, c.ns, 'Deployment', 'pay')));
  // Only green gets the rollout Role; blue (the primary region) answers 403.
  await grantRollout(green, c.ns, c.targets[0].workloads!);
  await put(c, 'mode', 'one');
  const sync = handler(c);
  const mark = output.lines.length;

  const first = await sync({ action: 'sync' });

  expect(first.targets.map((t) => `${t.cluster} ${t.outcome}`)).toEqual(['blue applied', 'green applied']);
  expect(rolled(first)).toEqual(['blue Deployment/pay error Forbidden', 'green Deployment/pay adopted']);
  expect(first.rollout!.workloads[0]).toMatchObject({ httpStatus: 403 });
  expect(output.metricSum('RolloutsFailed', { service: SERVICE, Cluster: 'us-east-1/blue' }, mark)).toBe(1);
  expect(output.metricSum('RolloutsFailed', { service: SERVICE, Cluster: 'eu-west-1/green' }, mark)).toBe(0);

  await put(c, 'mode', 'two');
  expect(rolled(await sync({ action: 'sync' }))).toEqual(['blue Deployment/pay error Forbidden', 'green Deployment/pay started']);

  // The Role allows the named workload only: another Deployment in the namespace stays out of reach.
  const denied = await handler(await setting('denied', [{ kind: 'Deployment', name: 'other' }], {}, [green]))({ action: 'sync' });
  expect(rolled(denied)).toEqual(['green Deployment/other error Forbidden']);
}, 120_000);

test('leaves the fields the GitOps controller owns alone, and its re-apply keeps the rollout annotation', async () => {
  const c = await setting('gitops', [{ kind: 'Deployment', name: 'catalog' }], {}, [blue]);
  await createWorkload(blue, c.ns, 'Deployment', 'catalog');
  await grantRollout(blue, c.ns, c.targets[0].workloads!);
  await put(c, 'mode', 'one');
  const sync = handler(c);
  await sync({ action: 'sync' });
  await put(c, 'mode', 'two');
  await sync({ action: 'sync' });

  const w = await getWorkload(blue, c.ns, 'Deployment', 'catalog');
  const managers = Object.fromEntries(w.metadata.managedFields.map((f: any) => [f.manager, JSON.stringify(f.fieldsV1)]));
  expect(Object.keys(managers).sort()).toEqual([GITOPS, `cross-region-config-rollout.${c.configMapName}`]);
  // The GitOps controller still owns its spec; the syncer owns its annotations and nothing else.
  expect(managers[GITOPS]).toContain('"f:replicas"');
  expect(managers[GITOPS]).toContain('"f:containers"');
  const ours = JSON.parse(managers[`cross-region-config-rollout.${c.configMapName}`]);
  expect(Object.keys(ours.f_metadata ?? ours['f:metadata'])).toEqual(['f:annotations']);
  expect(Object.keys(ours['f:spec'])).toEqual(['f:template']);
  expect(Object.keys(ours['f:spec']['f:template'])).toEqual(['f:metadata']);

  // The GitOps controller applies its manifest again (a new image): no conflict, the rollout annotation stays.
  await blue.admin.apply(workloadPath(c.ns, 'Deployment', 'catalog'), {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'catalog', namespace: c.ns },
    spec: {
      replicas: 2,
      selector: { matchLabels: { app: 'catalog' } },
      template: { metadata: { labels: { app: 'catalog' } }, spec: { containers: [{ name: 'app', image: 'registry.example/app:2.0' }] } },
    },
  }, GITOPS);
  const after = await getWorkload(blue, c.ns, 'Deployment', 'catalog');
  expect(after.spec.template.spec.containers[0].image).toBe('registry.example/app:2.0');
  expect(templateHash(after, c.configMapName)).toBe(await configHash(blue, c));
}, 120_000);

test('two invocations at once, in two OS processes, agree: one new pod template per cluster, each step recorded once', async () => {
  const c = await setting('concurrent', [{ kind: 'Deployment', name: 'orders' }], { pollSeconds: 30 });
  await Promise.all([blue, green].map(async (k) => {
    await createWorkload(k, c.ns, 'Deployment', 'orders');
    await grantRollout(k, c.ns, c.targets[0].workloads!);
  }));
  await put(c, 'mode', 'one');
  await handler(c)({ action: 'sync' });
  await put(c, 'mode', 'two');

  // Records every pod template annotation value each cluster shows, and plays the controllers.
  const seen = new Map<string, Array<string | undefined>>([['blue', []], ['green', []]]);
  let stop = false;
  const watcher = (async () => {
    while (!stop) {
      for (const k of [blue, green]) {
        const w = await getWorkload(k, c.ns, 'Deployment', 'orders');
        const shown = seen.get(k.name)!;
        const value = templateHash(w, c.configMapName);
        if (shown[shown.length - 1] !== value || shown.length === 0) shown.push(value);
        if (value !== undefined && w.metadata.generation > (w.status?.observedGeneration ?? 0)) await finishRollout(k, c.ns, 'Deployment', 'orders');
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  })();
  const environment = {
    ...process.env,
    [SyncEnv.PRIMARY_REGION]: REGION,
    [SyncEnv.SOURCE_PARAMETER_PATH]: c.path,
    [SyncEnv.TARGETS]: JSON.stringify(c.targets),
    [SyncEnv.ROLLOUT]: JSON.stringify(c.rollout),
  };
  const bundle = path.join(__dirname, '..', '..', 'assets', 'lambda-src', 'configmap-syncer', 'index.lambda', 'index.js');
  const [a, b] = await Promise.all([runBundle(bundle, environment, { action: 'sync' }), runBundle(bundle, environment, { action: 'sync' })]);
  stop = true;
  await watcher;

  results.push(...a.logs, ...b.logs, JSON.stringify(a.result), JSON.stringify(b.result));
  expect([a.error, b.error]).toEqual([undefined, undefined]);
  // The run lease lets one sync at a time: the other process finds the lease held and does nothing, or
  // (when the first has finished) syncs, finds the rollout done and starts nothing.
  expect([a.result, b.result].filter((r) => r.skipped === undefined).length).toBeGreaterThan(0);
  for (const r of [a.result, b.result]) {
    if (r.skipped !== undefined) expect({ skipped: r.skipped, rollout: r.rollout }).toEqual({ skipped: 'lease-held', rollout: undefined });
    else expect(r.rollout).toMatchObject({ inProgress: false, halted: false });
  }
  const hashes = { blue: await configHash(blue, c), green: await configHash(green, c) };
  // One new pod template per cluster: from none to the new hash, and nothing in between.
  expect(Object.fromEntries(seen)).toEqual({ blue: [undefined, hashes.blue], green: [undefined, hashes.green] });
  // Each start and completion is recorded (and counted) by one of the two processes only.
  const logs = [...a.logs, ...b.logs];
  const sum = (name: string) => logs.filter((l) => l.includes('"_aws"')).map((l) => JSON.parse(l))
    .filter((d) => d.Cluster === undefined && d[name] !== undefined)
    // A metric added more than once in an invocation is an array of values in EMF.
    .reduce((s, d) => s + [d[name]].flat().reduce((x: number, y: number) => x + y, 0), 0);
  expect({ started: sum('RolloutsStarted'), completed: sum('RolloutsCompleted'), failed: sum('RolloutsFailed') }).toEqual({ started: 2, completed: 2, failed: 0 });
  for (const k of [blue, green]) {
    const w = await getWorkload(k, c.ns, 'Deployment', 'orders');
    expect(w.metadata.annotations[`${ROLLOUT_ANNOTATION.STATE}/${c.configMapName}`]).toBe('complete');
  }
}, 180_000);

test('an invocation polls no longer than Lambda\'s remaining time allows (less a margin)', async () => {
  const c = await setting('deadline', [{ kind: 'Deployment', name: 'mail' }], { pollSeconds: 120 }, [blue]);
  await createWorkload(blue, c.ns, 'Deployment', 'mail');
  await grantRollout(blue, c.ns, c.targets[0].workloads!);
  await put(c, 'mode', 'one');
  const environment = {
    ...process.env,
    [SyncEnv.PRIMARY_REGION]: REGION,
    [SyncEnv.SOURCE_PARAMETER_PATH]: c.path,
    [SyncEnv.TARGETS]: JSON.stringify(c.targets),
    [SyncEnv.ROLLOUT]: JSON.stringify(c.rollout),
  };
  const invoke = rawCreateHandler(environment, { rolloutPollIntervalMs: 200 });
  await invoke({ action: 'sync' });
  await put(c, 'mode', 'two');
  // 17 s left: 15 s are kept for the invocation itself, so the rollout may poll for about 2 s.
  const started = Date.now();
  const result = await invoke({ action: 'sync' }, { getRemainingTimeInMillis: () => 17_000 });
  const took = Date.now() - started;

  expect(rolled(result)).toEqual(['blue Deployment/mail rolling']);
  expect(result.rollout).toMatchObject({ inProgress: true, started: 1 });
  expect(took).toBeGreaterThanOrEqual(1_500);
  expect(took).toBeLessThan(10_000);
}, 60_000);

test('no value the tests wrote appears in any log line, metric or result', () => {
  expect(values.length).toBeGreaterThanOrEqual(20);
  const seen = [...output.lines, ...results].join('\n');
  expect(values.filter((v) => seen.includes(v))).toEqual([]);
});
