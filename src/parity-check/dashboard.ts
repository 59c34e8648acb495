import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { IConstruct } from 'constructs';
import { DashboardWidgetOptions } from '../core/dashboard-options';
import { ConstructWidgets, graph, listOf, rows, singleValues } from '../core/dashboard-widgets';

/** Options of the parity metrics the section reads (a `ParityMetricOptions`). */
interface RegionMetricOptions extends cloudwatch.MetricOptions {
  readonly targetRegion?: string;
}

/** What the parity check's dashboard section reads: a `ConfigParityCheck` is one. */
export interface ParityDashboardSource extends IConstruct {
  readonly primaryRegion: string;
  readonly checkedRegions: string[];
  readonly handler: lambda.IFunction;
  readonly alarms: cloudwatch.IAlarm[];
  metricConfigParity(props?: RegionMetricOptions): cloudwatch.Metric;
  metricParityDifferences(props?: RegionMetricOptions): cloudwatch.Metric;
  metricParityUnreadable(props?: RegionMetricOptions): cloudwatch.Metric;
  metricRunPartial(props?: cloudwatch.MetricOptions): cloudwatch.Metric;
}

/**
 * The parity check's dashboard section, built only from its `metricXxx()` methods, its handler's
 * metrics and its alarms: the latest verdict per checked region, the items that differ and what
 * could not be read, the handler, the scheduled checks handed over, and the alarms. Rows are 24 units wide. Internal; called by
 * `ConfigParityCheck.dashboardWidgets()` and `CrossRegionConfigDashboard`.
 *
 * @param dashboardScope a construct in the dashboard's stack; defaults to the check's stack
 */
export function parityCheckDashboardWidgets(
  check: ParityDashboardSource, options: DashboardWidgetOptions = {}, dashboardScope?: IConstruct,
): cloudwatch.IWidget[] {
  const widgets = new ConstructWidgets(check, options, dashboardScope);
  const regions = check.checkedRegions;
  // The verdict keeps the check's own period (its schedule), whatever the dashboard's period.
  const status = singleValues('Config parity by region (1 = agrees with the primary)',
    regions.map((region) => widgets.metric(check.metricConfigParity({ label: region, targetRegion: region }))), false);
  const differences = graph('Items that differ from the primary, by region',
    regions.map((region) => widgets.metric(check.metricParityDifferences({ ...widgets.options(region), targetRegion: region }))));
  const unreadable = graph('Parts the check could not read, by region',
    regions.map((region) => widgets.metric(check.metricParityUnreadable({ ...widgets.options(region), targetRegion: region }))));
  const handler = widgets.handlerGraph('Config parity check function: invocations, errors and duration', [{ label: 'parity check', fn: check.handler }]);
  // The full-pass age alarm's metric and statistic: 0 in a period when a scheduled check of every region completed.
  const runs = graph('Scheduled checks handed over (1) or completed (0): Minimum', [
    widgets.metric(check.metricRunPartial({ ...widgets.options('check of every region'), statistic: cloudwatch.Stats.MINIMUM })),
  ]);
  const alarms = widgets.alarmStatus('Config parity alarms', check.alarms);
  const header = widgets.header(`Config parity check ${check.node.path}`,
    `Whether ${listOf(regions)} agree with the primary **${check.primaryRegion}** (deployment gate and failover readiness): the latest `
    + 'verdict per region, the items that differ and what could not be read; then the handler\'s invocations, errors and duration, '
    + 'and whether scheduled checks of every region complete or hand over.');
  return rows([header], [status, differences, unreadable], [handler, runs, alarms]);
}
