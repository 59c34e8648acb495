import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { IConstruct } from 'constructs';
import type { ParameterReplicatorMetricOptions } from './metric-options';
import { DashboardWidgetOptions } from '../core/dashboard-options';
import { ConstructWidgets, graph, listOf, rows } from '../core/dashboard-widgets';

/** What the parameter replicator's dashboard section reads: a `CrossRegionParameterReplicator` is one. */
export interface ParameterReplicatorDashboardSource extends IConstruct {
  readonly primaryRegion: string;
  readonly targetRegions: string[];
  readonly conflictPolicy: { readonly name: string };
  readonly handler: lambda.IFunction;
  readonly alarms: cloudwatch.IAlarm[];
  metricReplicatedParameters(props?: ParameterReplicatorMetricOptions): cloudwatch.Metric;
  metricReplicationFailures(props?: ParameterReplicatorMetricOptions): cloudwatch.Metric;
  metricConflicts(props?: ParameterReplicatorMetricOptions): cloudwatch.Metric;
  metricReplicationLatency(props?: ParameterReplicatorMetricOptions): cloudwatch.Metric;
  metricSecondsSinceFullSync(props?: ParameterReplicatorMetricOptions): cloudwatch.Metric;
  metricThrottledRequests(props?: ParameterReplicatorMetricOptions): cloudwatch.Metric;
}

/**
 * The parameter replicator's dashboard section, built only from its `metricXxx()` methods, its
 * handler's metrics and its alarms: Parameter Store writes, failures, conflicts, throttled requests,
 * replication latency and the time since the last full sync per replica region, then the handler
 * and the alarms. Rows are 24 units wide. Internal; called by
 * `CrossRegionParameterReplicator.dashboardWidgets()` and `CrossRegionConfigDashboard`.
 *
 * @param dashboardScope a construct in the dashboard's stack; defaults to the replicator's stack
 */
export function parameterReplicatorDashboardWidgets(
  replicator: ParameterReplicatorDashboardSource,
  options: DashboardWidgetOptions = {},
  dashboardScope?: IConstruct,
): cloudwatch.IWidget[] {
  const widgets = new ConstructWidgets(replicator, options, dashboardScope);
  const regions = replicator.targetRegions;
  const perRegion = (metric: (props: ParameterReplicatorMetricOptions) => cloudwatch.Metric) =>
    regions.map((region) => widgets.metric(metric({ ...widgets.options(region), replicaRegion: region })));

  const replicated = graph('Parameters written to replicas, by replica region', perRegion((o) => replicator.metricReplicatedParameters(o)));
  const failures = graph('Replica writes that failed, by replica region', perRegion((o) => replicator.metricReplicationFailures(o)));
  const conflicts = graph('Replicas changed in their own region (conflicts), by replica region', perRegion((o) => replicator.metricConflicts(o)));
  const throttled = graph('Parameter Store requests throttled, by replica region', perRegion((o) => replicator.metricThrottledRequests(o)));
  const latency = graph('Replication latency p99, by replica region', perRegion((o) => replicator.metricReplicationLatency(o)), 'Milliseconds');
  const fullSync = graph('Seconds since every selected parameter agreed (last full sync), by replica region',
    perRegion((o) => replicator.metricSecondsSinceFullSync(o)), 'Seconds');
  const handler = widgets.handlerGraph('Parameter replicator function: invocations, errors and duration', [{ label: 'replicator', fn: replicator.handler }]);
  const alarms = widgets.alarmStatus('Parameter replicator alarms', replicator.alarms);

  const header = widgets.header(`Parameter replicator ${replicator.node.path}`,
    `Parameter Store activity of the replication from **${replicator.primaryRegion}** to ${listOf(regions)}: parameters written to each `
    + `replica region, failed writes, conflicts (${replicator.conflictPolicy.name}), throttled requests, the latency from a change to its `
    + 'replica write and the time since every selected parameter last agreed in each region; '
    + 'then the handler\'s invocations, errors and duration.');
  return rows([header], [replicated, failures, conflicts], [throttled, latency, fullSync], [handler, alarms]);
}
