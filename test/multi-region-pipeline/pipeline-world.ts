/**
 * The pipeline of the watcher's concurrency tests: blue-green over three regions, and a failure in
 * the last region's traffic shift after the first two were promoted.
 */
import type { WatcherSettings } from '../../lambda-src/multi-region-pipeline/watcher';
import type { RegionalStageConfig } from '../../src/multi-region-pipeline/contract';
import { PipelineModel } from '../harness/fake-codepipeline';

export const PIPELINE = 'orders-release';
export const REGIONS = ['us-east-1', 'eu-west-1', 'ap-southeast-2'];
const blueGreen = (region: string): RegionalStageConfig => ({
  region, stages: [`${region}-green`, `${region}-shift-to-green`, `${region}-blue`], rollbackStages: [`${region}-blue`, `${region}-green`],
});
export const SETTINGS: WatcherSettings = {
  pipelineName: PIPELINE,
  regions: REGIONS.map(blueGreen),
  coordinatedRollback: true,
  rollbackClaimsPath: '/cdk-cross-region-config/pipeline/OrdersRelease/rollback-claims',
};
export const ALL_STAGES = SETTINGS.regions.flatMap((r) => r.stages);
/** The stages the coordinator rolls back when ap-southeast-2 fails: both earlier regions, most recent first. */
export const ROLLBACK_STAGES = ['eu-west-1-blue', 'eu-west-1-green', 'us-east-1-blue', 'us-east-1-green'];
export const LAST_SUCCESS = 'e5b17c38-9a2f-4e6d-81c4-b3f0a9d2e657';
export const FAILED = '3f7c2a91-5b8e-4d02-9c61-7e0a4b2d8f13';
export const NEWER = '7d4e1f20-8b3c-4a59-9e06-1c2d3e4f5a6b';
export const FAILED_STAGE = 'ap-southeast-2-shift-to-green';
export const EVENT = {
  'version': '0',
  'id': 'a1b2c3d4-0000-4000-8000-000000000001',
  'detail-type': 'CodePipeline Stage Execution State Change',
  'source': 'aws.codepipeline',
  'account': '111111111111',
  'time': '2025-05-01T09:16:40Z',
  'region': 'us-east-1',
  'resources': [`arn:aws:codepipeline:us-east-1:111111111111:${PIPELINE}`],
  'detail': { 'pipeline': PIPELINE, 'execution-id': FAILED, 'stage': FAILED_STAGE, 'state': 'FAILED', 'version': 3 },
};

/**
 * The pipeline after the failure: LAST_SUCCESS deployed everywhere; FAILED promoted us-east-1 and
 * eu-west-1, then failed in ap-southeast-2's traffic shift, whose automatic rollback is running.
 */
export function failedWorld(): PipelineModel {
  const model = new PipelineModel(PIPELINE, ALL_STAGES);
  model.succeed(LAST_SUCCESS);
  model.startExecution(FAILED);
  for (const stage of ALL_STAGES.slice(0, 7)) {
    model.runStage(FAILED, stage, 'InProgress');
    model.runStage(FAILED, stage, stage === FAILED_STAGE ? 'Failed' : 'Succeeded');
  }
  model.finishExecution(FAILED, 'Failed');
  const automatic = model.startExecution('9b41e6d0-2c7a-4f85-8e13-5a6d9c0b7e24', 'ROLLBACK', LAST_SUCCESS);
  model.runStage(automatic, FAILED_STAGE, 'InProgress');
  return model;
}

