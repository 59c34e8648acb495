import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';

/** Options of the pipeline's `metricXxx()` methods. */
export interface PipelineMetricOptions extends cloudwatch.MetricOptions {
  /**
   * Only this deployment region (the `Region` dimension). Not the metric's own `region`, which is
   * where CloudWatch keeps it: the pipeline's region.
   *
   * @default - all regions (the total)
   */
  readonly deploymentRegion?: string;
}

/** One region's stages in the pipeline. */
export interface RegionalStages {
  /** The region. Under the parallel strategy the replica stage is shared by its regions, joined with "+". */
  readonly region: string;
  /** Names of the pipeline stages of the region, in order. */
  readonly stageNames: string[];
  /** Names of the stages rolled back when a later region fails (coordinated rollback). */
  readonly rollbackStageNames: string[];
}
