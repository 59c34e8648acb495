import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { IConstruct } from 'constructs';
import type { ConfigMapSyncMetricOptions } from './metric-options';
import { DashboardWidgetOptions } from '../core/dashboard-options';
import { ConstructWidgets, graph, rows, singleValues } from '../core/dashboard-widgets';
import { KubernetesCluster } from '../core/kubernetes-cluster';

/** What the ConfigMap syncer's dashboard section reads: a `ConfigMapSyncer` is one. */
export interface SyncerDashboardSource extends IConstruct {
  readonly primaryRegion: string;
  readonly targetClusters: KubernetesCluster[];
  readonly handler: lambda.IFunction;
  readonly alarms: cloudwatch.IAlarm[];
  /** True when a target names workloads: the section then shows the rollouts. */
  readonly rollsWorkloads?: boolean;
  metricSyncSuccess(props?: ConfigMapSyncMetricOptions): cloudwatch.Metric;
  metricSyncFailure(props?: ConfigMapSyncMetricOptions): cloudwatch.Metric;
  metricKeysExcluded(props?: ConfigMapSyncMetricOptions): cloudwatch.Metric;
  metricRunPartial(props?: cloudwatch.MetricOptions): cloudwatch.Metric;
  metricRolloutsStarted?(props?: ConfigMapSyncMetricOptions): cloudwatch.Metric;
  metricRolloutsCompleted?(props?: ConfigMapSyncMetricOptions): cloudwatch.Metric;
  metricRolloutsFailed?(props?: ConfigMapSyncMetricOptions): cloudwatch.Metric;
}

/**
 * The ConfigMap syncer's dashboard section, built only from its `metricXxx()` methods, its
 * handler's metrics and its alarms: the sync status of each target cluster over the time range,
 * ConfigMaps synced, failures and sensitive keys refused per cluster, then the handler, the syncs
 * handed over and the alarms. Rows are 24 units wide. Internal; called by `ConfigMapSyncer.dashboardWidgets()` and
 * `CrossRegionConfigDashboard`.
 *
 * @param dashboardScope a construct in the dashboard's stack; defaults to the syncer's stack
 */
export function syncerDashboardWidgets(
  syncer: SyncerDashboardSource,
  options: DashboardWidgetOptions = {},
  dashboardScope?: IConstruct,
): cloudwatch.IWidget[] {
  const widgets = new ConstructWidgets(syncer, options, dashboardScope);
  const clusters = syncerTargetClusters(syncer);
  const perCluster = (metric: (props: ConfigMapSyncMetricOptions) => cloudwatch.Metric, what?: string) =>
    clusters.map((cluster) => widgets.metric(metric({ ...widgets.options(clusterLabel(cluster, what)), cluster })));

  const status = singleValues('Sync status in the time range, by cluster', clusters.flatMap((cluster) => [
    widgets.metric(syncer.metricSyncSuccess({ ...widgets.options(clusterLabel(cluster, 'synced')), cluster })),
    widgets.metric(syncer.metricSyncFailure({ ...widgets.options(clusterLabel(cluster, 'failed')), cluster })),
  ]), true);
  const synced = graph('ConfigMaps synced, by cluster', perCluster((o) => syncer.metricSyncSuccess(o)));
  const failed = graph('ConfigMaps that could not be synced, by cluster', perCluster((o) => syncer.metricSyncFailure(o)));
  const excluded = graph('Sensitive-looking keys refused per sync, by cluster', perCluster((o) => syncer.metricKeysExcluded(o)));
  const handler = widgets.handlerGraph('ConfigMap syncer function: invocations, errors and duration', [{ label: 'syncer', fn: syncer.handler }]);
  // The full-pass age alarm's metric and statistic: 0 in a period when a sync of every target completed.
  const runs = graph('Syncs handed over (1) or completed (0): Minimum', [
    widgets.metric(syncer.metricRunPartial({ ...widgets.options('sync of every target'), statistic: cloudwatch.Stats.MINIMUM })),
  ]);
  const alarms = widgets.alarmStatus('ConfigMap syncer alarms', syncer.alarms);

  const header = widgets.header(`ConfigMap syncer ${syncer.node.path}`,
    `ConfigMap sync from **${syncer.primaryRegion}** to ${clusters.length} cluster(s), each shown as \`<region>/<cluster name>\`: the sync `
    + 'status of each cluster in the time range, ConfigMaps synced and not synced, and sensitive-looking keys refused; then the handler\'s '
    + 'invocations, errors and duration, and whether syncs of every target complete or hand over.');
  const rollouts = syncer.rollsWorkloads && syncer.metricRolloutsStarted && syncer.metricRolloutsCompleted && syncer.metricRolloutsFailed
    ? [
      graph('Workload rollouts started, by cluster', perCluster((o) => syncer.metricRolloutsStarted!(o))),
      graph('Workload rollouts completed, by cluster', perCluster((o) => syncer.metricRolloutsCompleted!(o))),
      graph('Workload rollouts failed or workloads not rolled, by cluster', perCluster((o) => syncer.metricRolloutsFailed!(o))),
    ]
    : undefined;
  return rollouts
    ? rows([header], [status], [synced, failed, excluded], rollouts, [handler, runs, alarms])
    : rows([header], [status], [synced, failed, excluded], [handler, runs, alarms]);
}

/**
 * The distinct target clusters of `syncer`, in the order of its targets, each as the syncer's
 * metric methods accept it (`ConfigMapSyncer.targetClusters`).
 */
export function syncerTargetClusters(syncer: SyncerDashboardSource): KubernetesCluster[] {
  return syncer.targetClusters;
}

/** `<region>/<cluster name>`, with `what` after it. */
function clusterLabel(cluster: KubernetesCluster, what?: string): string {
  const name = `${cluster.region}/${cluster.clusterName}`;
  return what ? `${name} ${what}` : name;
}
