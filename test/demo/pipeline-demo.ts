/**
 * The MultiRegionPipeline part of the Quick start demo: the pipeline's one handler bundle in its
 * three synthesized roles (health check, traffic switch, watcher), run as CodePipeline would run
 * them. A local HTTP server stands in for the service's slots, moto for SSM and SNS, and a fake
 * CodePipeline API (moto has none) answers the handlers' job and execution calls with canned
 * responses that tell the story of two executions: one whose bake fails in eu-west-1, and one that
 * fails in the third region after the first two were promoted.
 */
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { CreateTopicCommand, SNSClient } from '@aws-sdk/client-sns';
import { LIVE_SLOT_PARAMETER } from './demo-app';
import {
  bundleOf, cfnProperties, CfnResources, Demo, describeFunction, elapsed, invokeRecorded, logicalId, metricSum, step, synthesizedEnvironment,
} from './support';
import { PipelineEnv, PipelineMetric, REGION_DIMENSION, RegionalStageConfig } from '../../src/multi-region-pipeline/contract';
import { startFakeCodePipeline } from '../harness/fake-codepipeline';
import { EXAMPLE_ACCOUNT, EXAMPLE_REGIONS } from '../integ/integ.multi-region-pipeline';

/** Execution ids of the story: E2 succeeded, E3 failed its bake in eu-west-1 (rolled back by R1), E4 fails in the third region. */
const E2 = '22222222-0000-4000-8000-000000000002';
const E3 = '33333333-0000-4000-8000-000000000003';
const R1 = '44444444-0000-4000-8000-000000000001';
const E4 = '55555555-0000-4000-8000-000000000004';
/** The rollback executions RollbackStage starts (the fake answers every call with the same id). */
const R2 = '66666666-0000-4000-8000-000000000006';
/** Epoch seconds of the story's first action (the CodePipeline JSON protocol's timestamps). */
const STORY_START = Date.UTC(2026, 10, 28, 9, 0, 0) / 1000;

/** What the pipeline part saw, for the summary. */
export interface PipelineFacts {
  readonly pipelineName: string;
  /** CodePipeline API calls the fake answered. */
  readonly codePipelineCalls: number;
}

/** Runs the pipeline's handlers against the local slots, moto and the fake CodePipeline. */
export async function runPipeline(demo: Demo): Promise<PipelineFacts> {
  const stack = demo.pipelineStack;
  const construct = stack.pipeline;
  const resources: CfnResources = demo.pipelineResources;
  const pipelineName = construct.pipelineName;
  const pipelineArn = `arn:aws:codepipeline:${stack.region}:${EXAMPLE_ACCOUNT}:${pipelineName}`;

  const healthFn = cfnProperties(resources, construct.healthCheckFunction!);
  const switchFn = cfnProperties(resources, construct.trafficSwitchFunction!);
  const watcherFn = cfnProperties(resources, construct.watcherFunction);
  const bundle = bundleOf(demo.outdir, stack, healthFn);
  for (const fn of [switchFn, watcherFn]) {
    if (bundleOf(demo.outdir, stack, fn) !== bundle) throw new Error('expected the three pipeline functions to share one bundle');
  }
  const stages = pipelineStages(resources);
  const regional = JSON.parse(watcherFn.Environment.Variables[PipelineEnv.REGIONAL_STAGES]) as RegionalStageConfig[];

  step(`MultiRegionPipeline: ${pipelineName} as synthesized`);
  console.log(`  ${describeFunction('pipeline', healthFn, bundle, demo.outdir)}`);
  console.log(`  one bundle, three functions: ${[healthFn, switchFn, watcherFn].map((f) => `${PipelineEnv.ROLE}=${f.Environment.Variables[PipelineEnv.ROLE]}`).join(', ')}`);
  console.log(`  ${stages.length} stages: ${stages.map((s) => s.name).join(' -> ')}`);

  // The service's slots: every slot answers its health check, except ap-southeast-2's green one.
  const slots = http.createServer((req, res) => res.writeHead(req.url === '/ap-southeast-2/green/health' ? 503 : 200).end('ok'));
  await new Promise<void>((resolve) => slots.listen(0, '127.0.0.1', resolve));
  const slotsUrl = `http://127.0.0.1:${(slots.address() as AddressInfo).port}`;
  // The alarm topic's ARN is a deploy-time reference: a topic in moto stands in.
  const topicArn = (await new SNSClient({ region: stack.region, endpoint: demo.motoEndpoint, credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' } })
    .send(new CreateTopicCommand({ Name: `${stack.stackName}-PipelineAlerts-demo` }))).TopicArn!;
  demo.refs[logicalId(stack.alerts)] = topicArn;

  let codePipelineCalls = 0;
  /** Runs one invocation with a fake CodePipeline answering `responses`; returns the result and the calls it recorded. */
  const run = async (label: string, fn: any, env: Record<string, string>, responses: Record<string, unknown>, payload: unknown) => {
    const codepipeline = await startFakeCodePipeline(responses);
    const started = process.hrtime.bigint();
    try {
      const { result, error } = await invokeRecorded(demo, bundle, {
        ...demo.awsEnv, ...synthesizedEnvironment(fn, demo.refs), ...env, AWS_ENDPOINT_URL_CODEPIPELINE: codepipeline.endpoint,
      }, payload);
      codePipelineCalls += codepipeline.calls.length;
      const took = elapsed(started);
      return { result, error, calls: codepipeline.calls, took, label };
    } finally {
      await codepipeline.stop();
    }
  };
  /** CodePipeline's answers for a job of `action` in `stage` of `executionId`. */
  const jobResponses = (stage: string, action: string, executionId: string, executionType: 'STANDARD' | 'ROLLBACK') => ({
    GetJobDetails: { jobDetails: { id: 'job', data: { pipelineContext: { pipelineName, pipelineExecutionId: executionId, stage: { name: stage }, action: { name: action } } } } },
    GetPipelineExecution: { pipelineExecution: { pipelineName, pipelineExecutionId: executionId, status: 'InProgress', executionType } },
  });
  const job = (stage: string, action: string) => ({
    'CodePipeline.job': { id: `job-${stage}-${action}`, data: { actionConfiguration: { configuration: { UserParameters: userParameters(stages, stage, action) } } } },
  });

  try {
    // The health checks as synthesized; only the URL's host (example.com) is replaced by the local slots.
    const checks = JSON.parse(healthFn.Environment.Variables[PipelineEnv.HEALTH_CHECKS]) as Array<{ url: string; [k: string]: unknown }>;
    const standIn = checks.map((c) => ({ ...c, url: c.url.replace(/^https:\/\/\{slot\}\.\{region\}\.api\.example\.com/, `${slotsUrl}/{region}/{slot}`) }));
    const healthEnv = { [PipelineEnv.HEALTH_CHECKS]: JSON.stringify(standIn) };
    const c = checks[0];
    step(`Execution ${E3.slice(0, 8)}…: eu-west-1's green slot is deployed; its health check runs`);
    console.log(`  check "${c.name}" as synthesized: ${c.url}, ${c.consecutiveSuccesses} healthy in a row of at most ${c.maxAttempts}, `
      + `${c.intervalSeconds} s apart, ${c.latencyThresholdMs} ms latency limit; the slots stand in at ${standIn[0].url}`);
    const healthy = await run('HealthCheck-green', healthFn, healthEnv, jobResponses('eu-west-1-green', 'HealthCheck-green', E3, 'STANDARD'), job('eu-west-1-green', 'HealthCheck-green'));
    printJob(healthy, healthy.result && `${healthy.result.region} ${healthy.result.slot} ${healthy.result.passed ? 'passed' : 'FAILED'} `
      + `(${healthy.result.checks.map((r: any) => `${r.name}: ${r.attempts} requests, ${r.latenciesMs.join('/')} ms`).join('; ')})`);
    if (!healthy.result?.passed) throw new Error('expected the health check of eu-west-1 green to pass');

    step(`Execution ${E3.slice(0, 8)}…: traffic switch in eu-west-1 (SSM parameter ${LIVE_SLOT_PARAMETER}), then its bake fails`);
    await demo.world.putParameter('eu-west-1', LIVE_SLOT_PARAMETER, 'blue');
    const liveSlot = async () => (await demo.world.parameter('eu-west-1', LIVE_SLOT_PARAMETER))?.value;
    console.log(`  ${LIVE_SLOT_PARAMETER} in eu-west-1 is "${await liveSlot()}" (the last good version runs in blue); ${PipelineEnv.TRAFFIC_SWITCH}=${switchFn.Environment.Variables[PipelineEnv.TRAFFIC_SWITCH]}`);
    const shift = 'eu-west-1-shift-to-green';
    const toGreen = await run('SwitchTo-green', switchFn, {}, jobResponses(shift, 'SwitchTo-green', E3, 'STANDARD'), job(shift, 'SwitchTo-green'));
    printJob(toGreen, toGreen.result && switched(toGreen.result));
    console.log(`  ${LIVE_SLOT_PARAMETER} in eu-west-1 is now "${await liveSlot()}"`);
    console.log(`  the bake alarm example-service-eu-west-1-green-5xx fires: the stage fails, and its onFailure rollback runs execution ${R1.slice(0, 8)}… (type ROLLBACK), `
      + 're-running the same action');
    const toBlue = await run('SwitchTo-green in ROLLBACK', switchFn, {}, jobResponses(shift, 'SwitchTo-green', R1, 'ROLLBACK'), job(shift, 'SwitchTo-green'));
    printJob(toBlue, toBlue.result && switched(toBlue.result));
    console.log(`  ${LIVE_SLOT_PARAMETER} in eu-west-1 is "${await liveSlot()}" again: traffic is back on the last good version, without a redeploy`);
    if (await liveSlot() !== 'blue') throw new Error('expected the rollback execution to send traffic back to blue');

    const observed = await run('watcher', watcherFn, {}, {
      GetPipelineExecution: { pipelineExecution: { pipelineName, pipelineExecutionId: R1, status: 'InProgress', executionType: 'ROLLBACK', trigger: { triggerType: 'AutomatedRollback' } } },
    }, stageEvent(pipelineName, pipelineArn, R1, shift, 'STARTED'));
    printJob(observed, observed.result && `${observed.result.action} (${observed.result.stage}, ${observed.result.triggerType}); `
      + `${PipelineMetric.ROLLBACK_PERFORMED}{${REGION_DIMENSION}=eu-west-1} = ${metricSum(demo.logLines, PipelineMetric.ROLLBACK_PERFORMED, REGION_DIMENSION, 'eu-west-1')}`);

    step(`Execution ${E4.slice(0, 8)}…: us-east-1 and eu-west-1 are promoted, then ap-southeast-2's green slot fails its health check`);
    const failing = await run('HealthCheck-green', healthFn, healthEnv, jobResponses('ap-southeast-2-green', 'HealthCheck-green', E4, 'STANDARD'), job('ap-southeast-2-green', 'HealthCheck-green'));
    printJob(failing, failing.result && `${failing.result.region} ${failing.result.slot} ${failing.result.passed ? 'passed' : 'FAILED'}`);
    if (failing.result?.passed !== false) throw new Error('expected the health check of ap-southeast-2 green to fail');

    // What CodePipeline knows when the watcher asks: E4's actions, the execution history, the stages' latest executions.
    const failedStage = 'ap-southeast-2-green';
    const promotedStages = regional.slice(0, 2).flatMap((r) => r.stages);
    const details = stages.filter((s) => promotedStages.includes(s.name) || s.name === failedStage).flatMap((s, i) => s.actions.map((action) => ({
      pipelineExecutionId: E4,
      stageName: s.name,
      actionName: action,
      status: s.name === failedStage && action.startsWith('HealthCheck') ? 'Failed' : 'Succeeded',
      startTime: STORY_START + i * 60,
    })));
    const coordinated = await run('watcher', watcherFn, {}, {
      GetPipelineExecution: { pipelineExecution: { pipelineName, pipelineExecutionId: E4, status: 'Failed', executionType: 'STANDARD' } },
      ListActionExecutions: { actionExecutionDetails: details.reverse() },
      ListPipelineExecutions: {
        pipelineExecutionSummaries: [
          { pipelineExecutionId: E4, status: 'Failed', executionType: 'STANDARD' },
          { pipelineExecutionId: R1, status: 'Succeeded', executionType: 'ROLLBACK' },
          { pipelineExecutionId: E3, status: 'Failed', executionType: 'STANDARD' },
          { pipelineExecutionId: E2, status: 'Succeeded', executionType: 'STANDARD' },
        ],
      },
      GetPipelineState: {
        pipelineName,
        stageStates: stages.map((s) => ({ stageName: s.name, latestExecution: { pipelineExecutionId: E4, status: s.name === failedStage ? 'Failed' : 'Succeeded', type: 'STANDARD' } })),
      },
      RollbackStage: { pipelineExecutionId: R2 },
    }, stageEvent(pipelineName, pipelineArn, E4, failedStage, 'FAILED'));
    printJob(coordinated, coordinated.result && `${coordinated.result.action} rollback`);
    const decision = coordinated.result;
    if (decision?.action !== 'coordinated') throw new Error(`expected a coordinated rollback, but the watcher answered ${JSON.stringify(decision)}`);
    console.log(`  decision: ${decision.failedRegion} failed in ${decision.failedStage} of ${decision.failedExecutionId.slice(0, 8)}…; `
      + `roll back to the last successful execution ${decision.targetExecutionId?.slice(0, 8)}… (skipping the failed ${E3.slice(0, 8)}… and the rollback ${R1.slice(0, 8)}…)`);
    for (const r of decision.rollbacks) console.log(`    ${r.region}: ${r.stage} ${r.outcome}`);
    const rollbackCalls = coordinated.calls.filter((call) => call.operation === 'RollbackStage');
    console.log(`  the fake CodePipeline recorded ${rollbackCalls.length} RollbackStage calls, most recently promoted first: `
      + `${rollbackCalls.map((call) => call.input.stageName).join(', ')} (target ${rollbackCalls[0]?.input.targetPipelineExecutionId?.slice(0, 8)}…)`);
    const publishes = demo.proxy.stats().byOperation[`sns:${stack.region}:Publish`]?.forwarded ?? 0;
    console.log(`  the rollback report went to the alarm topic (${publishes} SNS Publish in moto); ap-southeast-2 itself is rolled back by its own stage's onFailure rollback`);
  } finally {
    await new Promise((resolve) => slots.close(resolve));
  }
  return { pipelineName, codePipelineCalls };
}

interface PipelineStage {
  readonly name: string;
  readonly actions: string[];
  readonly configurations: Record<string, any>;
}

/** The synthesized pipeline's stages and their actions, in order. */
function pipelineStages(resources: CfnResources): PipelineStage[] {
  const pipeline = Object.values(resources).find((r) => r.Type === 'AWS::CodePipeline::Pipeline')!;
  return (pipeline.Properties.Stages as any[]).map((s) => ({
    name: s.Name,
    actions: s.Actions.map((a: any) => a.Name),
    configurations: Object.fromEntries(s.Actions.map((a: any) => [a.Name, a.Configuration])),
  }));
}

/** The `UserParameters` CodePipeline sends with an action, as synthesized. */
function userParameters(stages: PipelineStage[], stage: string, action: string): string {
  const value = stages.find((s) => s.name === stage)?.configurations[action]?.UserParameters;
  if (typeof value !== 'string') throw new Error(`the synthesized pipeline has no action ${action} with UserParameters in stage ${stage}`);
  return value;
}

/** A CodePipeline stage execution state change, as EventBridge delivers it to the watcher. */
function stageEvent(pipeline: string, pipelineArn: string, executionId: string, stage: string, state: string) {
  return {
    'version': '0',
    'id': `${executionId}-${stage}-${state}`,
    'detail-type': 'CodePipeline Stage Execution State Change',
    'source': 'aws.codepipeline',
    'account': EXAMPLE_ACCOUNT,
    'time': new Date().toISOString(),
    'region': EXAMPLE_REGIONS[0],
    'resources': [pipelineArn],
    'detail': { pipeline, 'execution-id': executionId, stage, state, 'version': 1 },
  };
}

function switched(outcome: any): string {
  return `${outcome.target} in ${outcome.region}: ${outcome.previousSlot ?? 'unknown'} -> ${outcome.liveSlot}${outcome.changed ? '' : ' (unchanged)'}`;
}

/** One invocation of a pipeline function and the CodePipeline calls it made. */
interface PipelineRun {
  readonly label: string;
  readonly error?: string;
  readonly took: string;
  readonly calls: Array<{ operation: string; input: any }>;
}

function printJob(run: PipelineRun, what: string | undefined): void {
  if (run.error !== undefined) {
    console.log(`${run.label}: invocation failed in ${run.took}: "${run.error}"`);
    return;
  }
  const jobs = run.calls.filter((c) => c.operation.startsWith('PutJob'));
  const report = jobs.length > 0 ? `; reported ${jobs.map((c) => {
    if (c.operation === 'PutJobFailureResult') return `${c.operation} "${c.input.failureDetails?.message}"`;
    const variables = Object.entries(c.input.outputVariables ?? {}).map(([k, v]) => `${k}=${v}`).join(' ');
    return `${c.operation}${variables ? ` (${variables})` : ''}`;
  }).join(', ')}` : '';
  console.log(`${run.label}: ${what ?? 'done'} in ${run.took} (cold start included)${report}`);
}
