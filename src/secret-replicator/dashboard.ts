import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { IConstruct } from 'constructs';
import type { ReplicatorMetricOptions } from './metric-options';
import { DashboardWidgetOptions } from '../core/dashboard-options';
import { ConstructWidgets, graph, listOf, rows } from '../core/dashboard-widgets';

/** What the replicator's dashboard section reads: a `CrossRegionSecretReplicator` is one. */
export interface ReplicatorDashboardSource extends IConstruct {
  readonly primaryRegion: string;
  readonly targetRegions: string[];
  readonly conflictPolicy: { readonly name: string };
  readonly handler: lambda.IFunction;
  readonly alarms: cloudwatch.IAlarm[];
  metricReplicatedSecrets(props?: ReplicatorMetricOptions): cloudwatch.Metric;
  metricReplicationFailures(props?: ReplicatorMetricOptions): cloudwatch.Metric;
  metricConflicts(props?: ReplicatorMetricOptions): cloudwatch.Metric;
  metricReplicationLatency(props?: ReplicatorMetricOptions): cloudwatch.Metric;
  metricSecondsSinceFullSync(props?: ReplicatorMetricOptions): cloudwatch.Metric;
}

/**
 * The replicator's dashboard section, built only from its `metricXxx()` methods, its handler's
 * metrics and its alarms: Secrets Manager writes, failures, conflicts, replication latency and the
 * time since the last full sync per replica region, then the handler and the alarms. Rows are 24 units wide. Internal; called by
 * `CrossRegionSecretReplicator.dashboardWidgets()` and `CrossRegionConfigDashboard`.
 *
 * @param dashboardScope a construct in the dashboard's stack; defaults to the replicator's stack
 */
export function replicatorDashboardWidgets(
  replicator: ReplicatorDashboardSource,
  options: DashboardWidgetOptions = {},
  dashboardScope?: IConstruct,
): cloudwatch.IWidget[] {
  const widgets = new ConstructWidgets(replicator, options, dashboardScope);
  const regions = replicator.targetRegions;
  const perRegion = (metric: (props: ReplicatorMetricOptions) => cloudwatch.Metric) =>
    regions.map((region) => widgets.metric(metric({ ...widgets.options(region), replicaRegion: region })));

  const replicated = graph('Secrets written to replicas, by replica region', perRegion((o) => replicator.metricReplicatedSecrets(o)));
  const failures = graph('Replica writes that failed, by replica region', perRegion((o) => replicator.metricReplicationFailures(o)));
  const conflicts = graph('Replicas changed in their own region (conflicts), by replica region', perRegion((o) => replicator.metricConflicts(o)));
  const latency = graph('Replication latency p99, by replica region', perRegion((o) => replicator.metricReplicationLatency(o)), 'Milliseconds');
  const fullSync = graph('Seconds since every selected secret agreed (last full sync), by replica region',
    perRegion((o) => replicator.metricSecondsSinceFullSync(o)), 'Seconds');
  const handler = widgets.handlerGraph('Replicator function: invocations, errors and duration', [{ label: 'replicator', fn: replicator.handler }]);
  const alarms = widgets.alarmStatus('Secret replicator alarms', replicator.alarms);

  const header = widgets.header(`Secret replicator ${replicator.node.path}`,
    `Secrets Manager activity of the replication from **${replicator.primaryRegion}** to ${listOf(regions)}: secrets written to each `
    + `replica region, failed writes, conflicts (${replicator.conflictPolicy.name}), the latency from a change to its replica write `
    + 'and the time since every selected secret last agreed in each region; '
    + 'then the handler\'s invocations, errors and duration.');
  return rows([header], [replicated, failures, conflicts], [latency, fullSync, handler], [alarms]);
}
