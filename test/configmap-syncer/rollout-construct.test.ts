import { App, Duration, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as eks from 'aws-cdk-lib/aws-eks';
import { AwsSolutionsChecks } from 'cdk-nag';
import { readRolloutConfig, readWorkloadSelectors } from '../../lambda-src/configmap-syncer/rollout-settings';
import { ConfigMapSyncer, ConfigMapSyncerProps, KubernetesCluster, WorkloadKind, WorkloadSelection } from '../../src';
import { SyncEnv, SyncTargetConfig } from '../../src/configmap-syncer/contract';
import { rolloutRules } from '../../src/configmap-syncer/rollout-rbac';
import { at } from '../core/messages';
import { handlerEnvironment, newStack } from '../secret-replicator/util';

const EU = KubernetesCluster.fromClusterAttributes({ clusterName: 'app-eu', region: 'eu-west-1' });
const AP = KubernetesCluster.fromClusterAttributes({ clusterName: 'app-ap', region: 'ap-southeast-1' });
const WEB = WorkloadSelection.named(WorkloadKind.DEPLOYMENT, 'web');
const BASE: ConfigMapSyncerProps = { parameterPath: '/app/prod/config', configMapName: 'app-config', targets: [{ cluster: EU }] };
const WITH_WORKLOADS: ConfigMapSyncerProps = { ...BASE, targets: [{ cluster: EU, workloads: [WEB] }] };

function synth(props: Partial<ConfigMapSyncerProps>, stack: Stack = newStack()) {
  const syncer = new ConfigMapSyncer(stack, 'Syncer', { ...BASE, ...props });
  const template = Template.fromStack(stack);
  return { stack, syncer, template, env: handlerEnvironment(template) as Record<string, any> };
}

const rollout = (env: Record<string, any>) => JSON.parse(env[SyncEnv.ROLLOUT]);
const targets = (env: Record<string, any>): SyncTargetConfig[] => JSON.parse(env[SyncEnv.TARGETS]);

describe('without workloads', () => {
  const { stack, syncer, template, env } = synth({});

  test('sets no ROLLOUT variable, no workloads in the targets, no rollout alarm', () => {
    expect(env[SyncEnv.ROLLOUT]).toBeUndefined();
    expect(targets(env)[0]).not.toHaveProperty('workloads');
    expect(syncer.rollsWorkloads).toBe(false);
    expect(syncer.rolloutFailuresAlarm).toBeUndefined();
    expect(JSON.stringify(template.toJSON())).not.toContain('Rollout');
  });

  test('the dashboard has no rollout widgets', () => {
    const text = JSON.stringify(stack.resolve(syncer.dashboardWidgets().map((w) => w.toJson())));
    expect(text).not.toContain('rollouts');
  });
});

describe('with workloads, defaults', () => {
  const { stack, syncer, template, env } = synth({ targets: [{ cluster: EU, workloads: [WEB, WorkloadSelection.byLabels(WorkloadKind.STATEFUL_SET, 'app in (db)')] }] });

  test('passes the workloads of each target and the default rollout settings to the handler', () => {
    expect(targets(env)[0].workloads).toEqual([{ kind: 'Deployment', name: 'web' }, { kind: 'StatefulSet', labelSelector: 'app in (db)' }]);
    // A 30-second pause, a 10-minute rollout timeout, polling for the 5-minute timeout less a minute.
    expect(rollout(env)).toEqual({ waves: 'primary-first', pauseSeconds: 30, rolloutTimeoutSeconds: 600, pollSeconds: 240 });
    expect(syncer.rollsWorkloads).toBe(true);
  });

  test('the handler reads exactly what the construct writes', () => {
    expect(readRolloutConfig(env)).toEqual(rollout(env));
    expect(readWorkloadSelectors(targets(env)[0].workloads, 'targets[0]', 'app-config')).toEqual(targets(env)[0].workloads);
  });

  test('alarms on RolloutsFailed (Sum ≥ 1 in 5 minutes, missing data not breaching)', () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'RolloutsFailed',
      Statistic: 'Sum',
      Period: 300,
      Threshold: 1,
      EvaluationPeriods: 1,
      DatapointsToAlarm: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      TreatMissingData: 'notBreaching',
    });
    expect(syncer.alarms).toContain(syncer.rolloutFailuresAlarm);
  });

  test('metric methods name the rollout metrics, in total and per cluster', () => {
    expect(stack.resolve(syncer.metricRolloutsStarted().toMetricConfig().metricStat)).toMatchObject({ metricName: 'RolloutsStarted', statistic: 'Sum' });
    expect(stack.resolve(syncer.metricRolloutsCompleted().toMetricConfig().metricStat)).toMatchObject({ metricName: 'RolloutsCompleted', statistic: 'Sum' });
    const perCluster = stack.resolve(syncer.metricRolloutsFailed({ cluster: EU }).toMetricConfig().metricStat);
    expect(perCluster.metricName).toBe('RolloutsFailed');
    expect(perCluster.dimensions).toContainEqual({ name: 'Cluster', value: 'eu-west-1/app-eu' });
  });

  test('the dashboard shows rollouts started, completed and failed per cluster', () => {
    const text = JSON.stringify(stack.resolve(syncer.dashboardWidgets().map((w) => w.toJson())));
    for (const title of ['Workload rollouts started, by cluster', 'Workload rollouts completed, by cluster', 'Workload rollouts failed or workloads not rolled, by cluster']) {
      expect(text).toContain(title);
    }
  });

  test('no rollout alarm with createAlarms false', () => {
    const { syncer: quiet } = synth({ ...WITH_WORKLOADS, createAlarms: false });
    expect(quiet.rolloutFailuresAlarm).toBeUndefined();
  });
});

describe('rollout props', () => {
  test('regionByRegion', () => {
    expect(rollout(synth({ ...WITH_WORKLOADS, rollout: { regionByRegion: true } }).env).waves).toBe('region-by-region');
  });
  test('pause', () => {
    expect(rollout(synth({ ...WITH_WORKLOADS, rollout: { pause: Duration.minutes(2) } }).env).pauseSeconds).toBe(120);
  });
  test('rolloutTimeout', () => {
    expect(rollout(synth({ ...WITH_WORKLOADS, rollout: { rolloutTimeout: Duration.minutes(30) } }).env).rolloutTimeoutSeconds).toBe(1800);
  });
  test('waveWait', () => {
    expect(rollout(synth({ ...WITH_WORKLOADS, rollout: { waveWait: Duration.minutes(3) } }).env).waveWaitSeconds).toBe(180);
  });
  test('maxPollTime, and the default follows the handler timeout', () => {
    expect(rollout(synth({ ...WITH_WORKLOADS, rollout: { maxPollTime: Duration.seconds(45) } }).env).pollSeconds).toBe(45);
    expect(rollout(synth({ ...WITH_WORKLOADS, timeout: Duration.minutes(15) }).env).pollSeconds).toBe(840);
    expect(rollout(synth({ ...WITH_WORKLOADS, timeout: Duration.seconds(30) }).env).pollSeconds).toBe(0);
  });
  test('the settings document lists the workloads of each target', () => {
    const { syncer } = synth({ ...WITH_WORKLOADS, parameterPrefix: '/app/prod' });
    expect(syncer._configDocument.targets[0].workloads).toEqual([{ kind: 'Deployment', name: 'web' }]);
  });
});

describe('fails if', () => {
  test.each<[string, Partial<ConfigMapSyncerProps>, string]>([
    ['rollout is set but no target names workloads', { rollout: { regionByRegion: true } },
      'rollout is only used when a target names workloads (targets[].workloads), but got {"regionByRegion":true}'],
    ['workloads is empty', { targets: [{ cluster: EU, workloads: [] }] }, 'targets[0].workloads must not be empty (omit it to roll no workload), but got []'],
    ['a workload name is not a DNS-1123 subdomain', { targets: [{ cluster: EU, workloads: [WorkloadSelection.named(WorkloadKind.DEPLOYMENT, 'Web')] }] },
      'targets[0].workloads[0].name must be a DNS-1123 subdomain: lowercase letters, digits, "-" and ".", starting and ending with a letter or digit, but got "Web"'],
    ['a workload name is empty', { targets: [{ cluster: EU, workloads: [WorkloadSelection.named(WorkloadKind.DAEMON_SET, '')] }] },
      'targets[0].workloads[0].name must be 1 to 253 characters long (0 received), but got ""'],
    ['a label selector is empty', { targets: [{ cluster: EU, workloads: [WorkloadSelection.byLabels(WorkloadKind.DEPLOYMENT, ' ')] }] },
      'targets[0].workloads[0].labelSelector must not be empty (it would select every workload of the kind), but got " "'],
    ['a label selector has characters selectors cannot have', { targets: [{ cluster: EU, workloads: [WorkloadSelection.byLabels(WorkloadKind.DEPLOYMENT, 'app=web;rm')] }] },
      'targets[0].workloads[0].labelSelector must be a Kubernetes label selector such as "app=web" or "tier in (front,back)", but got "app=web;rm"'],
    ['a workload kind is not one the syncer rolls', { targets: [{ cluster: EU, workloads: [WorkloadSelection.named('CronJob' as WorkloadKind, 'nightly')] }] },
      'targets[0].workloads[0].kind must be one of Deployment, StatefulSet, DaemonSet, but got "CronJob"'],
    ['a workload is named twice', { targets: [{ cluster: EU, workloads: [WEB, WorkloadSelection.named(WorkloadKind.DEPLOYMENT, 'web')] }] },
      'targets[0].workloads must not contain duplicates, but got ["Deployment web","Deployment web"]'],
    ['the ConfigMap name of a target with workloads is longer than 63 characters', { targets: [{ cluster: EU, configMapName: 'c'.repeat(64), workloads: [WEB] }] },
      `targets[0].configMapName must be at most 63 characters when the target names workloads (it is the name part of the rollout annotation keys), but got "${'c'.repeat(64)}"`],
    ['pause is longer than an hour', { ...WITH_WORKLOADS, rollout: { pause: Duration.hours(2) } }, 'rollout.pause must be a whole number of seconds from 0 to 3600, but got "2 hours"'],
    ['rolloutTimeout is shorter than 30 seconds', { ...WITH_WORKLOADS, rollout: { rolloutTimeout: Duration.seconds(10) } },
      'rollout.rolloutTimeout must be a whole number of seconds from 30 to 86400, but got "10 seconds"'],
    ['waveWait is longer than rolloutTimeout', { ...WITH_WORKLOADS, rollout: { rolloutTimeout: Duration.minutes(5), waveWait: Duration.minutes(6) } },
      'rollout.waveWait must not be longer than rollout.rolloutTimeout (300 seconds): a rollout fails before the wait ends, but got "6 minutes"'],
    ['maxPollTime does not leave the handler 30 seconds', { ...WITH_WORKLOADS, rollout: { maxPollTime: Duration.minutes(5) } },
      'rollout.maxPollTime must be a whole number of seconds from 0 to 270, but got "5 minutes"'],
  ])('%s', (_name, props, message) => {
    expect(() => synth(props)).toThrow(at('TestStack/Syncer', message));
  });
});

describe('the rollout Role', () => {
  test('allows get and patch on the named workloads only', () => {
    expect(rolloutRules([{ kind: 'Deployment', name: 'web' }, { kind: 'Deployment', name: 'api' }, { kind: 'DaemonSet', name: 'agent' }])).toEqual([
      { apiGroups: ['apps'], resources: ['deployments'], resourceNames: ['api', 'web'], verbs: ['get', 'patch'] },
      { apiGroups: ['apps'], resources: ['daemonsets'], resourceNames: ['agent'], verbs: ['get', 'patch'] },
    ]);
  });
  test('allows list and patch on a kind only where a label selector names its workloads (get only for the ones it names)', () => {
    expect(rolloutRules([{ kind: 'StatefulSet', labelSelector: 'app=db' }])).toEqual([
      { apiGroups: ['apps'], resources: ['statefulsets'], verbs: ['list', 'patch'] },
    ]);
    expect(rolloutRules([{ kind: 'StatefulSet', labelSelector: 'app=db' }, { kind: 'StatefulSet', name: 'cache' }])).toEqual([
      { apiGroups: ['apps'], resources: ['statefulsets'], verbs: ['get', 'list', 'patch'] },
    ]);
  });
});

test('a consumer applying AwsSolutionsChecks sees no unacknowledged finding from a syncer that rolls workloads', () => {
  const app = new App();
  const stack = newStack(app);
  const local = eks.Cluster.fromClusterAttributes(stack, 'Cluster', {
    clusterName: 'app-us', clusterEndpoint: 'https://ABC.gr7.us-east-1.eks.amazonaws.com', clusterCertificateAuthorityData: 'Y2E=',
  });
  new ConfigMapSyncer(stack, 'Syncer', {
    ...BASE,
    targets: [
      { cluster: KubernetesCluster.fromCluster(local), workloads: [WEB] },
      { cluster: EU, workloads: [WorkloadSelection.byLabels(WorkloadKind.DEPLOYMENT, 'app=web')] },
      { cluster: AP, workloads: [WEB] },
    ],
    rollout: { regionByRegion: true, waveWait: Duration.minutes(2) },
  });
  const report = new AwsSolutionsChecks().validateScope(app);
  const ours = report.violations.flatMap((v) => v.violatingResources.filter((r) => r.constructPath?.startsWith('TestStack/Syncer/')).map((r) => `${v.ruleName} ${r.constructPath}`));
  expect(ours).toEqual([]);
  void cloudwatch;
});

describe('the handler refuses malformed rollout settings at cold start, naming the variable', () => {
  const target = { cluster: { name: 'blue', region: 'us-east-1' }, namespace: 'apps', configMapName: 'app-config', createNamespace: false };
  const envWith = (rolloutJson: unknown, workloads: unknown = [{ kind: 'Deployment', name: 'web' }], configMapName = 'app-config') => ({
    [SyncEnv.PRIMARY_REGION]: 'us-east-1',
    [SyncEnv.SOURCE_PARAMETER_PATH]: '/app',
    [SyncEnv.TARGETS]: JSON.stringify([{ ...target, configMapName, workloads }]),
    [SyncEnv.ROLLOUT]: JSON.stringify(rolloutJson),
  });
  const good = { waves: 'primary-first', pauseSeconds: 30, rolloutTimeoutSeconds: 600, pollSeconds: 240 };
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { readSettings, readRollout } = require('../../lambda-src/configmap-syncer/handler');

  test.each<[string, NodeJS.ProcessEnv, string]>([
    ['unknown waves', envWith({ ...good, waves: 'all' }), 'environment variable ROLLOUT must have waves "primary-first" or "region-by-region", but got "all"'],
    ['a negative pause', envWith({ ...good, pauseSeconds: -1 }), 'environment variable ROLLOUT must have pauseSeconds as a whole number of seconds (0 or more), but got -1'],
    ['a fractional wave wait', envWith({ ...good, waveWaitSeconds: 1.5 }), 'environment variable ROLLOUT must have waveWaitSeconds as a whole number of seconds (0 or more), but got 1.5'],
  ])('%s', (_name, environment, message) => {
    expect(() => readRollout(environment)).toThrow(new Error(message));
  });

  test.each<[string, NodeJS.ProcessEnv, string]>([
    ['a kind it cannot roll', envWith(good, [{ kind: 'Job', name: 'x' }]), 'environment variable SYNC_TARGETS[0].workloads[0].kind must be one of Deployment, StatefulSet, DaemonSet, but got "Job"'],
    ['both name and selector', envWith(good, [{ kind: 'Deployment', name: 'x', labelSelector: 'a=b' }]),
      'environment variable SYNC_TARGETS[0].workloads[0] must have exactly one of name and labelSelector'],
    ['a bad name', envWith(good, [{ kind: 'Deployment', name: 'X' }]), 'environment variable SYNC_TARGETS[0].workloads[0].name must be a DNS-1123 subdomain, but got "X"'],
    ['workloads that are not an array', envWith(good, { kind: 'Deployment' }),
      'environment variable SYNC_TARGETS[0].workloads must be a JSON array of {"kind", "name"} or {"kind", "labelSelector"}'],
    ['a ConfigMap name too long for the annotation keys', envWith(good, [{ kind: 'Deployment', name: 'web' }], 'c'.repeat(64)),
      `environment variable SYNC_TARGETS[0] names workloads, so its configMapName must be at most 63 characters (it is part of an annotation key), but got "${'c'.repeat(64)}"`],
  ])('%s', (_name, environment, message) => {
    expect(() => readSettings(environment)).toThrow(new Error(message));
  });

  test('targets without workloads and no ROLLOUT read as before', () => {
    const environment = { ...envWith(good), [SyncEnv.TARGETS]: JSON.stringify([target]), [SyncEnv.ROLLOUT]: '' };
    expect(readSettings(environment).targets).toEqual([target]);
    expect(readRollout(environment)).toBeUndefined();
  });
});
