import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { IConstruct } from 'constructs';
import type { DeploymentStrategyKind } from './deployment-strategy';
import type { PipelineMetricOptions, RegionalStages } from './metric-options';
import { DashboardWidgetOptions } from '../core/dashboard-options';
import { ConstructWidgets, graph, rows, singleValues } from '../core/dashboard-widgets';

/** What the pipeline's dashboard section and alarms read: a `MultiRegionPipeline` is one. */
export interface PipelineDashboardSource extends IConstruct {
  readonly pipelineName: string;
  readonly regions: string[];
  readonly strategyKind: DeploymentStrategyKind;
  readonly regionalStages: RegionalStages[];
  readonly coordinatedRollback: boolean;
  readonly healthCheckFunction?: lambda.IFunction;
  readonly trafficSwitchFunction?: lambda.IFunction;
  readonly watcherFunction: lambda.IFunction;
  readonly alarms: cloudwatch.IAlarm[];
  metricPipelineExecutionFailed(props?: PipelineMetricOptions): cloudwatch.Metric;
  metricRollbackPerformed(props?: PipelineMetricOptions): cloudwatch.Metric;
  metricRollbackFailed(props?: PipelineMetricOptions): cloudwatch.Metric;
  metricHealthCheckFailed(props?: PipelineMetricOptions): cloudwatch.Metric;
  metricHealthCheckPassed(props?: PipelineMetricOptions): cloudwatch.Metric;
  metricHealthCheckLatency(props?: PipelineMetricOptions): cloudwatch.Metric;
  metricTrafficSwitched(props?: PipelineMetricOptions): cloudwatch.Metric;
  metricTrafficSwitchFailed(props?: PipelineMetricOptions): cloudwatch.Metric;
}

/**
 * The pipeline's dashboard section, built only from its `metricXxx()` methods, its functions'
 * metrics and its alarms: failed executions and rollbacks (per region), health checks and their
 * latency per region, blue-green traffic switches per region, then the functions and the alarms.
 * Rows are 24 units wide. Internal; called by `MultiRegionPipeline.dashboardWidgets()` and
 * `CrossRegionConfigDashboard`.
 *
 * @param dashboardScope a construct in the dashboard's stack; defaults to the pipeline's stack
 */
export function pipelineDashboardWidgets(
  pipeline: PipelineDashboardSource,
  options: DashboardWidgetOptions = {},
  dashboardScope?: IConstruct,
): cloudwatch.IWidget[] {
  const widgets = new ConstructWidgets(pipeline, options, dashboardScope);
  // Rollbacks are counted per regional stage: under the parallel strategy the replica regions share one, named "a+b".
  const stageRegions = pipeline.regionalStages.map((s) => s.region);
  const per = (regions: string[], metric: (props: PipelineMetricOptions) => cloudwatch.Metric, what: string) =>
    regions.map((region) => widgets.metric(metric({ ...widgets.options(`${region} ${what}`), deploymentRegion: region })));
  const m = (metric: cloudwatch.Metric) => widgets.metric(metric);
  const healthChecks = pipeline.healthCheckFunction !== undefined;
  const blueGreen = pipeline.trafficSwitchFunction !== undefined;

  const totals = singleValues('Pipeline in the time range', [
    m(pipeline.metricPipelineExecutionFailed(widgets.options('Failed executions'))),
    m(pipeline.metricRollbackPerformed(widgets.options('Stage rollbacks'))),
    ...(pipeline.coordinatedRollback ? [m(pipeline.metricRollbackFailed(widgets.options('Rollbacks not started')))] : []),
    ...(healthChecks ? [m(pipeline.metricHealthCheckFailed(widgets.options('Failed health checks')))] : []),
    ...(blueGreen ? [m(pipeline.metricTrafficSwitchFailed(widgets.options('Failed traffic switches')))] : []),
  ], true);
  const rollbacks = graph('Failed executions and stage rollbacks, by region', [
    m(pipeline.metricPipelineExecutionFailed(widgets.options('Failed executions'))),
    ...per(stageRegions, (o) => pipeline.metricRollbackPerformed(o), 'rollbacks'),
    ...(pipeline.coordinatedRollback ? per(stageRegions, (o) => pipeline.metricRollbackFailed(o), 'rollbacks not started') : []),
  ]);
  const checks = healthChecks ? graph('Health checks passed and failed, by region', [
    ...per(pipeline.regions, (o) => pipeline.metricHealthCheckPassed(o), 'passed'),
    ...per(pipeline.regions, (o) => pipeline.metricHealthCheckFailed(o), 'failed'),
  ]) : undefined;
  const latency = healthChecks
    ? graph('Health-check latency p90, by region', per(pipeline.regions, (o) => pipeline.metricHealthCheckLatency(o), 'latency p90'), 'Milliseconds')
    : undefined;
  const switches = blueGreen ? graph('Traffic switches, by region', [
    ...per(pipeline.regions, (o) => pipeline.metricTrafficSwitched(o), 'switched'),
    ...per(pipeline.regions, (o) => pipeline.metricTrafficSwitchFailed(o), 'failed'),
  ]) : undefined;
  const functions: Array<{ label: string; fn: lambda.IFunction }> = [
    { label: 'watcher', fn: pipeline.watcherFunction },
    ...(pipeline.healthCheckFunction ? [{ label: 'health check', fn: pipeline.healthCheckFunction }] : []),
    ...(pipeline.trafficSwitchFunction ? [{ label: 'traffic switch', fn: pipeline.trafficSwitchFunction }] : []),
  ];
  const handlers = widgets.handlerGraph('Pipeline functions: invocations, errors and duration', functions);
  const alarms = widgets.alarmStatus('Pipeline alarms', pipeline.alarms);

  const header = widgets.header(`Multi-region pipeline ${pipeline.pipelineName} (${pipeline.node.path})`,
    `Deployments to ${pipeline.regions.join(' → ')} (${pipeline.strategyKind} strategy): failed executions `
    + `and stage rollbacks per region${healthChecks ? ', health checks and their latency per region' : ''}`
    + `${blueGreen ? ', traffic switches per region' : ''}; then the functions' invocations, errors and duration.`);
  return rows([header], [totals, rollbacks], [checks, latency], [switches, handlers], [alarms]);
}
