import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { IConstruct } from 'constructs';
import type { DriftMetricOptions } from './metric-options';
import type { DriftResourceType } from './remediation-mode';
import { DashboardWidgetOptions } from '../core/dashboard-options';
import { ConstructWidgets, graph, listOf, rows, singleValues } from '../core/dashboard-widgets';

/** What the drift detector's dashboard section reads: a `ConfigDriftDetector` is one. */
export interface DriftDashboardSource extends IConstruct {
  readonly primaryRegion: string;
  readonly replicaRegions: string[];
  readonly resourceTypes: DriftResourceType[];
  readonly handler: lambda.IFunction;
  readonly alarms: cloudwatch.IAlarm[];
  metricHasDrift(props?: DriftMetricOptions): cloudwatch.Metric;
  metricDriftCount(props?: DriftMetricOptions): cloudwatch.Metric;
  metricItemsCompared(props?: DriftMetricOptions): cloudwatch.Metric;
  metricDeferredItems(props?: DriftMetricOptions): cloudwatch.Metric;
  metricScanFailures(props?: DriftMetricOptions): cloudwatch.Metric;
  metricRemediatedItems(props?: DriftMetricOptions): cloudwatch.Metric;
  metricRemediationFailures(props?: DriftMetricOptions): cloudwatch.Metric;
}

/**
 * The drift detector's dashboard section, built only from its `metricXxx()` methods, its handler's
 * metrics and its alarms: drift status and drifted items per replica region and resource type, what
 * the scans compared, deferred and could not read, auto-remediation, then the handler and the alarms.
 * Rows are 24 units wide. Internal; called by `ConfigDriftDetector.dashboardWidgets()` and
 * `CrossRegionConfigDashboard`.
 *
 * @param dashboardScope a construct in the dashboard's stack; defaults to the detector's stack
 */
export function driftDetectorDashboardWidgets(
  detector: DriftDashboardSource,
  options: DashboardWidgetOptions = {},
  dashboardScope?: IConstruct,
): cloudwatch.IWidget[] {
  const widgets = new ConstructWidgets(detector, options, dashboardScope);
  const regions = detector.replicaRegions;
  const perRegion = (metric: (props: DriftMetricOptions) => cloudwatch.Metric) =>
    regions.map((region) => widgets.metric(metric({ ...widgets.options(region), replicaRegion: region })));
  const perType = (metric: (props: DriftMetricOptions) => cloudwatch.Metric) =>
    detector.resourceTypes.map((type) => widgets.metric(metric({ ...widgets.options(type), resourceType: type })));
  const m = (metric: cloudwatch.Metric) => widgets.metric(metric);

  // The latest scan's status keeps the detector's own period (its scan interval), whatever the
  // dashboard's period: a shorter period would usually fall between two scans and show no data.
  const status = singleValues('Drift status of the latest scan, by replica region (1 = drift)',
    regions.map((region) => widgets.metric(detector.metricHasDrift({ label: region, replicaRegion: region }))), false);
  const byRegion = graph('Drifted items per scan, by replica region', perRegion((o) => detector.metricDriftCount(o)));
  const byType = graph('Drifted items per scan, by resource type', perType((o) => detector.metricDriftCount(o)));
  const scans = graph('Scans: items compared, deferred (grace window) and unreadable', [
    m(detector.metricItemsCompared(widgets.options('Items compared'))),
    m(detector.metricDeferredItems(widgets.options('Items deferred'))),
    m(detector.metricScanFailures(widgets.options('Scan failures'))),
  ]);
  const remediation = graph('Auto-remediation: items repaired and not repaired (only when it is on)', [
    m(detector.metricRemediatedItems(widgets.options('Items repaired'))),
    m(detector.metricRemediationFailures(widgets.options('Items not repaired'))),
  ]);
  const handler = widgets.handlerGraph('Drift detector function: invocations, errors and duration', [{ label: 'drift detector', fn: detector.handler }]);
  const alarms = widgets.alarmStatus('Drift detector alarms', detector.alarms);

  const header = widgets.header(`Configuration drift detector ${detector.node.path}`,
    `Drift of the ${listOf(detector.resourceTypes.map((t) => `${t}s`))} in ${listOf(regions)} from the primary **${detector.primaryRegion}**: `
    + 'the latest scan\'s drift status and drifted items per replica region and resource type, what the scans compared, deferred and could '
    + 'not read, and auto-remediation; then the handler\'s invocations, errors and duration.');
  return rows([header], [status, byRegion, byType], [scans, remediation, handler], [alarms]);
}
