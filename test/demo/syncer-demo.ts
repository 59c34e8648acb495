/**
 * The ConfigMap syncer part of the Quick start demo: the syncer's real bundle, with its synthesized
 * environment, syncs the parameters below the example path from Parameter Store (moto) into a
 * ConfigMap on a real kube-apiserver. The handler authenticates with an EKS token of its role's
 * session, checked by an EKS-like TokenReview webhook against moto's STS; RBAC on the namespace
 * stands in for the EKS access entry. Values are never printed: key names, hashes and outcomes only.
 */
import { randomUUID } from 'node:crypto';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { Stack } from 'aws-cdk-lib';
import { DEMO_CLUSTER, DEMO_CONFIGMAP, DEMO_DEPLOYMENT, DEMO_NAMESPACE } from './demo-app';
import { PARAMETERS } from './replicator-demo';
import {
  bundleOf, cfnProperties, Demo, describeFunction, elapsed, invokeRecorded, logicalId, metricSum, step, synthesizedEnvironment,
} from './support';
import {
  CLUSTER_DIMENSION, CONFIGMAP_FIELD_MANAGER, CONTENT_HASH_ANNOTATION, ROLLOUT_ANNOTATION, RolloutMetric, SyncEnv, SyncMetric, SyncTargetConfig,
} from '../../src/configmap-syncer/contract';
import { rolloutManifests } from '../../src/configmap-syncer/rollout-rbac';
import type { KubeCluster, StsKeyring } from '../harness/kube';
import { EXAMPLE_PARAMETER_PATH } from '../integ/integ.config-drift-detector';
import { EXAMPLE_ACCOUNT } from '../integ/integ.multi-region-pipeline';
import { EXAMPLE_PRIMARY } from '../integ/integ.secret-replicator';

/** What the syncer part saw, for the summary. */
export interface SyncerFacts {
  /** The ConfigMap's keys after the last sync, sorted. */
  readonly keys: string[];
  /** Keys refused as sensitive, with their reasons. */
  readonly refused: Record<string, string>;
}

/**
 * Runs the syncer against `clusterReady` (started while the other parts ran), whose webhook
 * verifies token signatures with `keyring`.
 */
export async function runConfigMapSyncer(demo: Demo, clusterReady: Promise<KubeCluster>, keyring: StsKeyring): Promise<SyncerFacts> {
  const stack = demo.config;
  const syncer = stack.syncer;
  const fn = cfnProperties(demo.configResources, syncer.handler);
  const bundle = bundleOf(demo.outdir, stack, fn);

  step(`ConfigMap syncer: Parameter Store ${EXAMPLE_PARAMETER_PATH} (moto, ${EXAMPLE_PRIMARY}) -> ConfigMap ${DEMO_NAMESPACE}/${DEMO_CONFIGMAP} on a real kube-apiserver`);
  console.log(`  ${describeFunction('configmap syncer', fn, bundle, demo.outdir)}`);
  const waited = process.hrtime.bigint();
  const cluster = await clusterReady;
  const version = (await cluster.admin.request('GET', '/version')).body?.gitVersion;
  console.log(`  cluster ${cluster.name} (${cluster.region}): kube-apiserver ${version} at ${cluster.endpoint} (started alongside the parts above; waited ${elapsed(waited)} more)`);
  console.log('  it authenticates IAM principals like EKS: a TokenReview webhook checks the presigned STS GetCallerIdentity token and asks moto who signed it');

  // The Lambda's credentials: a session of its execution role, whose name CloudFormation generates.
  const roleArn = `arn:aws:iam::${EXAMPLE_ACCOUNT}:role/${`${stack.stackName}-${logicalId(syncer.role)}`.slice(0, 59)}-demo`;
  const assumed = await new STSClient({ region: EXAMPLE_PRIMARY, endpoint: demo.motoEndpoint, credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' } })
    .send(new AssumeRoleCommand({ RoleArn: roleArn, RoleSessionName: 'configmap-syncer' }));
  keyring.register({ accessKeyId: assumed.Credentials!.AccessKeyId!, secretAccessKey: assumed.Credentials!.SecretAccessKey! });

  for (const command of syncer.clusterAccessCommands.flatMap((c) => renderTokens(stack, c).split('\n'))) console.log(`  in AWS, run once: ${command}`);
  await cluster.grant(DEMO_NAMESPACE, roleArn, 'edit');
  console.log(`  here: namespace ${DEMO_NAMESPACE} and an RBAC Role with the edit verbs on its ConfigMaps, bound to ${roleArn} (the role stands in for the generated one)`);
  const deployment = await createDemoDeployment(cluster, roleArn);
  console.log(`  Deployment ${DEMO_NAMESPACE}/${DEMO_DEPLOYMENT} (2 replicas) applied by argocd-controller, and the rollout Role (get, patch on it only) bound to the role`);

  // The targets as synthesized name the cluster only (in AWS the handler calls eks:DescribeCluster);
  // moto's EKS cannot point at the local apiserver, so its endpoint and CA stand in.
  const synthesized = synthesizedEnvironment(fn, demo.refs);
  const isLocal = (t: SyncTargetConfig) => t.cluster.name === cluster.name && t.cluster.region === cluster.region;
  const targets = (JSON.parse(synthesized[SyncEnv.TARGETS]) as SyncTargetConfig[]).map((t) => (isLocal(t)
    ? { ...t, cluster: { ...t.cluster, endpoint: cluster.endpoint, certificateAuthorityData: cluster.certificateAuthorityData } } : t));
  console.log(`  ${SyncEnv.TARGETS} as synthesized: ${synthesized[SyncEnv.TARGETS]}; the local apiserver's endpoint and CA stand in for eks:DescribeCluster`);
  console.log(`  ${SyncEnv.SOURCE_PARAMETER_PATH}=${synthesized[SyncEnv.SOURCE_PARAMETER_PATH]}, ${SyncEnv.EXCLUDE_SENSITIVE_KEYS}=${synthesized[SyncEnv.EXCLUDE_SENSITIVE_KEYS]}`);
  const env: NodeJS.ProcessEnv = {
    ...demo.awsEnv,
    ...synthesized,
    [SyncEnv.TARGETS]: JSON.stringify(targets),
    AWS_ACCESS_KEY_ID: assumed.Credentials!.AccessKeyId!,
    AWS_SECRET_ACCESS_KEY: assumed.Credentials!.SecretAccessKey!,
    AWS_SESSION_TOKEN: assumed.Credentials!.SessionToken!,
  };

  const refused: Record<string, string> = {};
  const sync = async (label: string, payload: unknown) => {
    const mark = demo.logLines.length;
    const started = process.hrtime.bigint();
    const { result, error } = await invokeRecorded(demo, bundle, env, payload);
    if (error !== undefined) throw new Error(`${label}: the sync failed: ${error}`);
    const refusedLog = demo.logLines.slice(mark).find((l) => l.includes('"source keys refused'));
    const reasons: Record<string, string> = refusedLog ? JSON.parse(refusedLog).reasons ?? {} : {};
    Object.assign(refused, reasons);
    for (const w of result.rollout?.workloads ?? []) {
      console.log(`  rollout: ${w.cluster} ${w.kind}/${w.name} (wave ${w.wave}) ${w.outcome}${w.errorName ? ` ${w.errorName}` : ''}`);
    }
    for (const t of result.targets) {
      const excluded = t.keysExcluded.map((k: string) => `${k} (${reasons[k] ?? 'sensitive'})`).join(', ');
      console.log(`${label}: ${t.cluster} ${t.namespace}/${t.configMapName} ${t.outcome}${t.errorName ? ` ${t.errorName}: ${t.errorMessage ?? ''}` : ''}, `
        + `${t.keys} keys; refused as sensitive: ${excluded || 'none'} in ${elapsed(started)} (cold start included)`);
    }
    return result;
  };
  const configMap = () => cluster.admin.getConfigMap(DEMO_NAMESPACE, DEMO_CONFIGMAP);
  const show = async () => {
    const cm = await configMap();
    console.log(`  ConfigMap ${DEMO_NAMESPACE}/${DEMO_CONFIGMAP}: keys ${Object.keys(cm?.data ?? {}).sort().join(', ')}; `
      + `${CONTENT_HASH_ANNOTATION} ${cm?.metadata.annotations?.[CONTENT_HASH_ANNOTATION]?.slice(0, 12)}…; `
      + `field managers ${cm?.metadata.managedFields.map((f: any) => f.manager).join(', ')}`);
    // Every synced key holds its parameter's value, and no refused key is there: compared in memory.
    for (const [key, value] of Object.entries(cm?.data ?? {})) {
      const parameter = await demo.world.parameter(EXAMPLE_PRIMARY, `${EXAMPLE_PARAMETER_PATH}/${key.replace(/\./g, '/')}`);
      if (parameter?.value !== value) throw new Error(`ConfigMap key ${key} does not hold its parameter's value (values not shown)`);
      if (refused[key] !== undefined) throw new Error(`ConfigMap holds the refused key ${key}`);
    }
    return cm;
  };

  await sync('{"action":"test_sync"} (server-side dry run)', { action: 'test_sync' });
  if (await configMap() !== undefined) throw new Error('expected the dry run to write nothing');
  await sync('{"action":"sync"}', { action: 'sync' });
  const first = await show();
  console.log('  every key holds its parameter\'s value (compared in memory, not shown); the refused key is not in the ConfigMap');
  if (first.metadata.managedFields.some((f: any) => f.manager !== CONFIGMAP_FIELD_MANAGER)) throw new Error('expected the syncer to be the only field manager');

  step('A parameter whose value carries credentials is added, then a setting changes: Parameter Store Change events');
  const upstream = `${EXAMPLE_PARAMETER_PATH}/upstream-url`;
  await demo.world.putParameter(EXAMPLE_PRIMARY, upstream, `https://svc:${demo.world.newValue('pw')}@upstream.internal:8443/v1`);
  console.log(`  ${upstream} written in ${EXAMPLE_PRIMARY}: a URL with a user and password in it`);
  const beforeFlags = await sync(`change of ${upstream}`, parameterChange(upstream));
  if (beforeFlags.rollout?.workloads[0]?.outcome !== 'unchanged') throw new Error('expected no rollout: the refused key changed no data');
  const flags = `${EXAMPLE_PARAMETER_PATH}/${PARAMETERS[0][0]}`;
  await demo.world.putParameter(EXAMPLE_PRIMARY, flags, demo.world.newValue('flags-v2'));
  console.log(`  the handler waits for the 5-second pause, rolls ${DEMO_DEPLOYMENT} and watches it; here the demo plays kube-controller-manager`);
  const controller = deployment.playController();
  const rolled = await sync(`change of ${flags}`, parameterChange(flags)).finally(() => controller.stop());
  const last = await show();
  const api = await deployment.read();
  const template = api.spec.template.metadata.annotations?.[`${ROLLOUT_ANNOTATION.HASH}/${DEMO_CONFIGMAP}`];
  if (rolled.rollout?.completed !== 1 || template !== last.metadata.annotations?.[CONTENT_HASH_ANNOTATION]) {
    throw new Error(`expected one completed rollout to the new content hash, got ${JSON.stringify(rolled.rollout)}`);
  }
  const rolloutDimension = `${DEMO_CLUSTER.region}/${DEMO_CLUSTER.clusterName}`;
  console.log(`  ${DEMO_DEPLOYMENT}: pod template annotation ${ROLLOUT_ANNOTATION.HASH}/${DEMO_CONFIGMAP} = ${template.slice(0, 12)}… (the ConfigMap's hash), `
    + `image ${api.spec.template.spec.containers[0].image} left to argocd-controller; field managers ${api.metadata.managedFields.map((f: any) => f.manager).join(', ')}; `
    + `${RolloutMetric.ROLLOUTS_STARTED}=${metricSum(demo.logLines, RolloutMetric.ROLLOUTS_STARTED, CLUSTER_DIMENSION, rolloutDimension)}, `
    + `${RolloutMetric.ROLLOUTS_COMPLETED}=${metricSum(demo.logLines, RolloutMetric.ROLLOUTS_COMPLETED, CLUSTER_DIMENSION, rolloutDimension)}`);
  const excludedCount = metricSum(demo.logLines, SyncMetric.KEYS_EXCLUDED, CLUSTER_DIMENSION, `${DEMO_CLUSTER.region}/${DEMO_CLUSTER.clusterName}`);
  const hash = (cm: any) => cm.metadata.annotations?.[CONTENT_HASH_ANNOTATION];
  if (hash(last) === hash(first)) throw new Error('expected the content hash to change with the setting');
  console.log('  the content hash changed with the setting (Reloader-style controllers roll out on it); '
    + `${SyncMetric.KEYS_EXCLUDED}{${CLUSTER_DIMENSION}=${DEMO_CLUSTER.region}/${DEMO_CLUSTER.clusterName}} summed over the runs = ${excludedCount}`);

  return { keys: Object.keys(last.data ?? {}).sort(), refused };
}

/**
 * Creates the demo Deployment as a GitOps controller would (server-side apply as `argocd-controller`)
 * and grants `roleArn` the rollout Role the construct documents. No controller runs in the local
 * apiserver: `playController` writes the status kube-controller-manager would once the new pods run.
 */
async function createDemoDeployment(cluster: KubeCluster, roleArn: string) {
  const path = `/apis/apps/v1/namespaces/${DEMO_NAMESPACE}/deployments/${DEMO_DEPLOYMENT}`;
  const labels = { app: DEMO_DEPLOYMENT };
  await cluster.admin.apply(path, {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: DEMO_DEPLOYMENT, namespace: DEMO_NAMESPACE },
    spec: {
      replicas: 2,
      selector: { matchLabels: labels },
      template: { metadata: { labels }, spec: { containers: [{ name: 'api', image: 'public.ecr.aws/genai-demo/api:1.4.2' }] } },
    },
  }, 'argocd-controller');
  const [role, binding] = rolloutManifests(DEMO_NAMESPACE, [{ kind: 'Deployment', name: DEMO_DEPLOYMENT }]) as any[];
  const rbac = `/apis/rbac.authorization.k8s.io/v1/namespaces/${DEMO_NAMESPACE}`;
  await cluster.admin.apply(`${rbac}/roles/${role.metadata.name}`, role);
  // The local webhook maps the role to its ARN and no group: bind the user.
  await cluster.admin.apply(`${rbac}/rolebindings/${binding.metadata.name}`, {
    ...binding, subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: roleArn }],
  });
  const read = async () => (await cluster.admin.request('GET', path)).body;
  return {
    read,
    playController() {
      let running = true;
      const loop = (async () => {
        while (running) {
          const d = await read();
          if (d.metadata.generation > (d.status?.observedGeneration ?? 0)) {
            await cluster.admin.request('PATCH', `${path}/status`, {
              status: { observedGeneration: d.metadata.generation, replicas: 2, updatedReplicas: 2, readyReplicas: 2, availableReplicas: 2 },
            }, 'application/merge-patch+json');
          }
          await new Promise((resolve) => setTimeout(resolve, 500));
        }
      })();
      return { stop: async () => { running = false; await loop; } };
    },
  };
}

/**
 * `text` with its deploy-time values shown as `<logicalId.Attribute>` (the role's ARN in the access
 * commands), as an operator would fill them in from the deployed stack.
 */
function renderTokens(stack: Stack, text: string): string {
  const resolved = stack.resolve(text);
  if (typeof resolved === 'string') return resolved;
  const parts: unknown[] = resolved?.['Fn::Join']?.[1] ?? [JSON.stringify(resolved)];
  return parts.map((p: any) => (typeof p === 'string' ? p : p?.['Fn::GetAtt'] ? `<${p['Fn::GetAtt'].join('.')}>` : p?.Ref ? `<${p.Ref}>` : JSON.stringify(p))).join('');
}

/** A Parameter Store change, as EventBridge delivers it. */
function parameterChange(name: string) {
  return {
    'version': '0',
    'id': randomUUID(),
    'detail-type': 'Parameter Store Change',
    'source': 'aws.ssm',
    'account': EXAMPLE_ACCOUNT,
    'time': new Date().toISOString(),
    'region': EXAMPLE_PRIMARY,
    'resources': [`arn:aws:ssm:${EXAMPLE_PRIMARY}:${EXAMPLE_ACCOUNT}:parameter${name}`],
    'detail': { name, type: 'String', operation: 'Update' },
  };
}
