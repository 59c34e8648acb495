import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type { PipelineMetricOptions } from './metric-options';
import { AlarmSet, AT_LEAST_ONCE } from '../core/alarms';

/** What the pipeline's alarms read: a `MultiRegionPipeline` is one. */
export interface PipelineAlarmSource {
  readonly pipelineName: string;
  metricPipelineExecutionFailed(props?: PipelineMetricOptions): cloudwatch.Metric;
  metricRollbackPerformed(props?: PipelineMetricOptions): cloudwatch.Metric;
  metricHealthCheckFailed(props?: PipelineMetricOptions): cloudwatch.Metric;
  metricTrafficSwitchFailed(props?: PipelineMetricOptions): cloudwatch.Metric;
  metricRollbackFailed(props?: PipelineMetricOptions): cloudwatch.Metric;
}

/** Which optional parts the pipeline has, and so which alarms it needs. */
export interface PipelineAlarmOptions {
  readonly healthChecks: boolean;
  readonly trafficSwitch: boolean;
  readonly coordinatedRollback: boolean;
}

/** The pipeline's own alarms (the functions' Errors, Throttles and DeadLetter alarms are separate). */
export interface PipelineAlarms {
  readonly pipelineFailedAlarm?: cloudwatch.Alarm;
  readonly rollbackPerformedAlarm?: cloudwatch.Alarm;
  readonly healthCheckFailedAlarm?: cloudwatch.Alarm;
  readonly trafficSwitchFailedAlarm?: cloudwatch.Alarm;
  readonly rollbackFailedAlarm?: cloudwatch.Alarm;
}

/**
 * Each alarm fires on the first occurrence in a 5-minute period (1 of 1 datapoints, `>= 1`): every
 * one of these events needs a person to look at it. Missing data means nothing happened.
 */
export function createPipelineAlarms(alarms: AlarmSet, pipeline: PipelineAlarmSource, options: PipelineAlarmOptions): PipelineAlarms {
  const atLeastOnce = {
    threshold: 1, // events per 5-minute period
    ...AT_LEAST_ONCE,
  };
  const name = pipeline.pipelineName;
  return {
    pipelineFailedAlarm: alarms.add({
      id: 'PipelineFailedAlarm',
      metric: pipeline.metricPipelineExecutionFailed(),
      ...atLeastOnce,
      description: `An execution of the pipeline ${name} failed. Open the pipeline's execution history for the failed stage and action; `
        + 'regional stages roll back by themselves, and the RollbackPerformed alarm says when they did.',
    }),
    rollbackPerformedAlarm: alarms.add({
      id: 'RollbackPerformedAlarm',
      metric: pipeline.metricRollbackPerformed(),
      ...atLeastOnce,
      description: `A regional stage of the pipeline ${name} rolled back to the last successful execution (automatic, coordinated or manual). `
        + 'The region now runs the previous version; find the cause in the failed execution before pushing a fix.',
    }),
    healthCheckFailedAlarm: options.healthChecks ? alarms.add({
      id: 'HealthCheckFailedAlarm',
      metric: pipeline.metricHealthCheckFailed(),
      ...atLeastOnce,
      description: `A health check of the pipeline ${name} failed after a deployment; the action's summary names the check and the reason `
        + '(status, slow, timeout, connection refused, TLS error). The stage fails and rolls back.',
    }) : undefined,
    trafficSwitchFailedAlarm: options.trafficSwitch ? alarms.add({
      id: 'TrafficSwitchFailedAlarm',
      metric: pipeline.metricTrafficSwitchFailed(),
      ...atLeastOnce,
      description: `A blue-green traffic switch of the pipeline ${name} failed; traffic stays where it was. Check the weighted records or `
        + 'the live-slot parameter named in the action summary, and the switch function\'s permissions.',
    }) : undefined,
    rollbackFailedAlarm: options.coordinatedRollback ? alarms.add({
      id: 'RollbackFailedAlarm',
      metric: pipeline.metricRollbackFailed(),
      ...atLeastOnce,
      description: `A coordinated cross-region rollback of the pipeline ${name} could not be started, so a region may still run the failed `
        + 'version. Roll the stage named in the watcher log back by hand (aws codepipeline rollback-stage).',
    }) : undefined,
  };
}
