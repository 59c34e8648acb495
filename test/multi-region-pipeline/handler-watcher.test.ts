/**
 * Unit tests of the pipeline watcher: the coordinated cross-region rollback, the counting of failed
 * executions and rollbacks, and its configuration. moto does not implement RollbackStage, so the
 * CodePipeline responses are recordings in the API's wire format (recorded/*.json), replayed through
 * the real SDK deserialiser and served by aws-sdk-client-mock. Metrics are read back from the EMF
 * lines on stdout.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import {
  CodePipelineClient, GetPipelineExecutionCommand, GetPipelineStateCommand, ListActionExecutionsCommand,
  ListPipelineExecutionsCommand, RollbackStageCommand,
} from '@aws-sdk/client-codepipeline';
import type {
  GetPipelineExecutionOutput, GetPipelineStateOutput, ListActionExecutionsOutput, ListPipelineExecutionsOutput,
  RollbackStageOutput,
} from '@aws-sdk/client-codepipeline';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { HttpResponse } from '@smithy/protocol-http';
import { mockClient } from 'aws-sdk-client-mock';
import type { AwsClientStub } from 'aws-sdk-client-mock';
import { MemoryClaimStore } from './memory-claim-store';
import type { RegionalStageConfig } from '../../src/multi-region-pipeline/contract';
import { PipelineEnv } from '../../src/multi-region-pipeline/contract';
import { applyEnv } from '../harness/moto';
import { OutputCapture } from '../harness/world';

const SERVICE = 'PipelineWatcherUnderTest';
const NAMESPACE = 'Test/MultiRegionPipeline';
// Powertools reads POWERTOOLS_* when the observability module loads, so the watcher is required after.
const restoreEnv = applyEnv({
  POWERTOOLS_SERVICE_NAME: SERVICE, POWERTOOLS_METRICS_NAMESPACE: NAMESPACE, POWERTOOLS_LOG_LEVEL: 'DEBUG', POWERTOOLS_DEV: undefined,
});
// eslint-disable-next-line @typescript-eslint/no-require-imports
const watcher: typeof import('../../lambda-src/multi-region-pipeline/watcher') = require('../../lambda-src/multi-region-pipeline/watcher');
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { metrics }: typeof import('../../lambda-src/shared/observability') = require('../../lambda-src/shared/observability');
const { describeOutcome, handleWatcherEvent, readWatcherSettings } = watcher;
type WatcherSettings = import('../../lambda-src/multi-region-pipeline/watcher').WatcherSettings;
type WatcherOutcome = import('../../lambda-src/multi-region-pipeline/watcher').WatcherOutcome;
afterAll(() => restoreEnv());

const PIPELINE = 'orders-release';
const TOPIC = 'arn:aws:sns:us-east-1:123456789012:orders-release-rollbacks';
const CLAIMS_PATH = '/cdk-cross-region-config/pipeline/OrdersRelease/rollback-claims';
/** The execution that failed in the recordings. */
const FAILED = '3f7c2a91-5b8e-4d02-9c61-7e0a4b2d8f13';
/** CodePipeline's automatic rollback of the failed stage. */
const AUTOMATED_ROLLBACK = '9b41e6d0-2c7a-4f85-8e13-5a6d9c0b7e24';
/** The last successful standard execution before FAILED: the rollback target. */
const LAST_SUCCESS = 'e5b17c38-9a2f-4e6d-81c4-b3f0a9d2e657';
/** The rollback executions RollbackStage returns, in call order. */
const STARTED = [
  '0c6a2f1e-d8b3-4e97-a41c-6f2b9e5d3a70', '7e3b5d09-1f6c-4a82-b0e4-9c8d2a7f1b35', 'a8d2c4f6-3e1b-4d79-9a05-b6e7f8c9d0a1', '5f0e9d8c-7b6a-4c35-8d24-e1f0a3b2c4d5',
];
const US = 'us-east-1';
const EU = 'eu-west-1';
const AP = 'ap-southeast-2';

const sequential = (region: string): RegionalStageConfig => ({ region, stages: [`Deploy-${region}`], rollbackStages: [`Deploy-${region}`] });
const blueGreen = (region: string): RegionalStageConfig => ({
  region,
  stages: [`${region}-Candidate`, `${region}-Shift`, `${region}-Promote`],
  rollbackStages: [`${region}-Promote`, `${region}-Shift`],
});
const SEQUENTIAL: WatcherSettings = {
  pipelineName: PIPELINE,
  regions: [US, EU, AP].map(sequential),
  coordinatedRollback: true,
  notificationTopicArn: TOPIC,
  rollbackClaimsPath: CLAIMS_PATH,
};
const BLUE_GREEN: WatcherSettings = { ...SEQUENTIAL, regions: [US, EU, AP].map(blueGreen) };

// ---------------------------------------------------------------------------------------------
// Recordings

const RECORDED = path.join(__dirname, 'recorded');
const recordedText = (name: string) => fs.readFileSync(path.join(RECORDED, `${name}.json`), 'utf8');
/** A recorded EventBridge event, as a fresh object a test may change. */
const recordedEvent = (name: string): Record<string, any> => JSON.parse(recordedText(`event.${name}`));

/** Answers every request with the recorded body, so the SDK deserialises a real wire response. */
class ReplayHandler {
  body = '';
  statusCode = 200;
  async handle(): Promise<{ response: HttpResponse }> {
    return {
      response: new HttpResponse({
        statusCode: this.statusCode,
        headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-requestid': 'a3c5e7f9-1b2d-4f6a-8c0e-2d4f6a8c0e1b' },
        body: Readable.from([Buffer.from(this.body)]),
      }),
    };
  }
}
const replayHandler = new ReplayHandler();
const replayClient = new CodePipelineClient({
  region: US, credentials: { accessKeyId: 'AKIDREPLAY', secretAccessKey: 'replay' }, maxAttempts: 1, requestHandler: replayHandler as any,
});

/** The SDK's output for a recorded response (without `$metadata`). */
async function replay<O>(command: object, name: string): Promise<O> {
  replayHandler.statusCode = 200;
  replayHandler.body = recordedText(name);
  const { $metadata, ...output } = await replayClient.send(command as never) as any;
  return output as O;
}

/** The SDK's exception for a recorded error response. */
async function replayError(name: string): Promise<Error> {
  replayHandler.statusCode = 400;
  replayHandler.body = recordedText(name);
  try {
    await replayClient.send(new RollbackStageCommand({ pipelineName: PIPELINE, stageName: 'Deploy-eu-west-1', targetPipelineExecutionId: LAST_SUCCESS }));
  } catch (e) {
    return e as Error;
  }
  throw new Error(`recorded error ${name} did not make the SDK throw`);
}

const rec = {} as {
  executions: ListPipelineExecutionsOutput[];
  firstRelease: ListPipelineExecutionsOutput;
  actionsFailedInAp: ListActionExecutionsOutput[];
  actionsFailedInEu: ListActionExecutionsOutput;
  actionsBlueGreen: ListActionExecutionsOutput;
  failedExecution: GetPipelineExecutionOutput;
  automatedRollback: GetPipelineExecutionOutput;
  coordinatedRollbackEu: GetPipelineExecutionOutput;
  stateAfterFailure: GetPipelineStateOutput;
  stateEuRollingBack: GetPipelineStateOutput;
  stateUsRedeployed: GetPipelineStateOutput;
  stateBlueGreen: GetPipelineStateOutput;
  rollbackStage: RollbackStageOutput[];
  conflict: Error;
  unableToRollBack: Error;
};

beforeAll(async () => {
  const list = (n: string) => replay<ListPipelineExecutionsOutput>(new ListPipelineExecutionsCommand({ pipelineName: PIPELINE }), n);
  const actions = (n: string) => replay<ListActionExecutionsOutput>(new ListActionExecutionsCommand({ pipelineName: PIPELINE }), n);
  const execution = (n: string) => replay<GetPipelineExecutionOutput>(
    new GetPipelineExecutionCommand({ pipelineName: PIPELINE, pipelineExecutionId: FAILED }), n);
  const state = (n: string) => replay<GetPipelineStateOutput>(new GetPipelineStateCommand({ name: PIPELINE }), n);
  rec.executions = [await list('list-pipeline-executions.page-1'), await list('list-pipeline-executions.page-2')];
  rec.firstRelease = await list('list-pipeline-executions.first-release');
  rec.actionsFailedInAp = [
    await actions('list-action-executions.failed-in-ap-southeast-2.page-1'),
    await actions('list-action-executions.failed-in-ap-southeast-2.page-2'),
  ];
  rec.actionsFailedInEu = await actions('list-action-executions.failed-in-eu-west-1');
  rec.actionsBlueGreen = await actions('list-action-executions.blue-green-failed-in-ap-southeast-2-shift');
  rec.failedExecution = await execution('get-pipeline-execution.failed-standard');
  rec.automatedRollback = await execution('get-pipeline-execution.automated-rollback');
  rec.coordinatedRollbackEu = await execution('get-pipeline-execution.coordinated-rollback-eu-west-1');
  rec.stateAfterFailure = await state('get-pipeline-state.after-failure-in-ap-southeast-2');
  rec.stateEuRollingBack = await state('get-pipeline-state.eu-west-1-already-rolling-back');
  rec.stateUsRedeployed = await state('get-pipeline-state.us-east-1-redeployed-by-newer-execution');
  rec.stateBlueGreen = await state('get-pipeline-state.blue-green-after-failure-in-ap-southeast-2-shift');
  rec.rollbackStage = [];
  for (const n of [1, 2, 3, 4]) {
    rec.rollbackStage.push(await replay(new RollbackStageCommand({ pipelineName: PIPELINE, stageName: 's', targetPipelineExecutionId: LAST_SUCCESS }), `rollback-stage.${n}`));
  }
  rec.conflict = await replayError('rollback-stage.error-conflict');
  rec.unableToRollBack = await replayError('rollback-stage.error-unable-to-rollback');
});

// ---------------------------------------------------------------------------------------------
// A mocked CodePipeline and SNS, answering with the recordings

interface Fixture {
  readonly cp: AwsClientStub<CodePipelineClient>;
  readonly sns: AwsClientStub<SNSClient>;
  readonly deps: Parameters<typeof handleWatcherEvent>[2];
  /** Every wait the watcher asked for, in ms. */
  readonly sleeps: number[];
  readonly claims: MemoryClaimStore;
}

/** Pages a recorded listing by its nextToken, the way the API would. */
function paged<T extends { nextToken?: string }>(pages: T[]): (input: { nextToken?: string }) => T {
  return (input) => {
    const i = input.nextToken === undefined ? 0 : pages.findIndex((p) => p.nextToken === input.nextToken) + 1;
    if (i < 0 || i >= pages.length) throw new Error(`unexpected nextToken ${input.nextToken}`);
    return pages[i];
  };
}

/** The world of the recordings: execution FAILED failed in Deploy-ap-southeast-2 of the sequential pipeline. */
function fixture(options: {
  actions?: ListActionExecutionsOutput[];
  executions?: ListPipelineExecutionsOutput[];
  state?: GetPipelineStateOutput;
} = {}): Fixture {
  const codepipeline = new CodePipelineClient({ region: US });
  const snsClient = new SNSClient({ region: US });
  const cp = mockClient(codepipeline);
  const sns = mockClient(snsClient);
  cp.on(GetPipelineExecutionCommand, { pipelineExecutionId: FAILED }).resolves(rec.failedExecution);
  cp.on(GetPipelineExecutionCommand, { pipelineExecutionId: AUTOMATED_ROLLBACK }).resolves(rec.automatedRollback);
  cp.on(GetPipelineExecutionCommand, { pipelineExecutionId: STARTED[0] }).resolves(rec.coordinatedRollbackEu);
  cp.on(ListActionExecutionsCommand).callsFake(paged(options.actions ?? rec.actionsFailedInAp));
  cp.on(ListPipelineExecutionsCommand).callsFake(paged(options.executions ?? rec.executions));
  cp.on(GetPipelineStateCommand).resolves(options.state ?? rec.stateAfterFailure);
  cp.on(RollbackStageCommand)
    .resolvesOnce(rec.rollbackStage[0]).resolvesOnce(rec.rollbackStage[1]).resolvesOnce(rec.rollbackStage[2]).resolvesOnce(rec.rollbackStage[3]);
  sns.on(PublishCommand).resolves({ MessageId: '5e2a7c1b-3d9f-5b8e-a1c4-6f0d2e8b7a93' });
  const sleeps: number[] = [];
  let clock = Date.UTC(2025, 4, 1, 9, 16, 40);
  const claims = new MemoryClaimStore(async () => undefined, () => clock);
  return {
    cp,
    sns,
    sleeps,
    claims,
    deps: {
      codepipeline,
      sns: snsClient,
      claims,
      now: () => clock,
      sleep: async (ms) => {
        sleeps.push(ms);
        clock += ms;
      },
    },
  };
}

const rollbackCalls = (f: Fixture) => f.cp.commandCalls(RollbackStageCommand).map((c) => c.args[0].input);
const rollbackTo = (stageName: string) => ({ pipelineName: PIPELINE, stageName, targetPipelineExecutionId: LAST_SUCCESS });
const published = (f: Fixture) => f.sns.commandCalls(PublishCommand).map((c) => c.args[0].input);

/** The stage-failed event of the recordings, for another stage or execution. */
function stageFailed(stage: string, executionId = FAILED): Record<string, any> {
  const event = recordedEvent('stage-failed.deploy-ap-southeast-2');
  event.detail.stage = stage;
  event.detail['execution-id'] = executionId;
  return event;
}

// ---------------------------------------------------------------------------------------------
// Captured stdout: structured logs and EMF

const output = new OutputCapture();
let from = 0;
beforeEach(() => {
  from = output.lines.length;
  output.start();
});
afterEach(() => {
  metrics.publishStoredMetrics();
  output.stop();
});

/** Flushes the stored metrics now, so the test can read them. */
function flushMetrics(): void {
  metrics.publishStoredMetrics();
}
const metricSum = (name: string, extra: Record<string, string> = {}) => output.metricSum(name, { service: SERVICE, ...extra }, from);

// ---------------------------------------------------------------------------------------------

describe('recordings', () => {
  /** Epoch-second timestamps of the wire format become Dates in the SDK's output. */
  const TIMESTAMPS = new Set(['startTime', 'lastUpdateTime', 'lastStatusChange', 'created', 'updated', 'lastChangedAt']);
  const revive = (text: string) => JSON.parse(text, (key, value) => (TIMESTAMPS.has(key) && typeof value === 'number' ? new Date(value * 1000) : value));

  test('every recorded response is in the API\'s wire shape: the SDK deserialises it without dropping a field', async () => {
    const files = fs.readdirSync(RECORDED).filter((f) => !f.startsWith('event.') && !f.includes('.error-')).map((f) => f.replace(/\.json$/, ''));
    expect(files.length).toBeGreaterThanOrEqual(18);
    const commandFor: Record<string, () => object> = {
      'list-pipeline-executions': () => new ListPipelineExecutionsCommand({ pipelineName: PIPELINE }),
      'list-action-executions': () => new ListActionExecutionsCommand({ pipelineName: PIPELINE }),
      'get-pipeline-execution': () => new GetPipelineExecutionCommand({ pipelineName: PIPELINE, pipelineExecutionId: FAILED }),
      'get-pipeline-state': () => new GetPipelineStateCommand({ name: PIPELINE }),
      'rollback-stage': () => new RollbackStageCommand({ pipelineName: PIPELINE, stageName: 's', targetPipelineExecutionId: LAST_SUCCESS }),
    };
    for (const file of files) {
      const command = commandFor[file.split('.')[0]];
      expect(command).toBeDefined();
      expect({ file, output: await replay(command(), file) }).toEqual({ file, output: revive(recordedText(file)) });
    }
  });

  test('recorded errors become the SDK\'s modelled exceptions', () => {
    expect(rec.conflict.name).toBe('ConflictException');
    expect(rec.unableToRollBack.name).toBe('UnableToRollbackStageException');
  });

  test('the recorded history has the failed execution, a later automatic rollback and an earlier manual one', () => {
    const all = rec.executions.flatMap((p) => p.pipelineExecutionSummaries ?? []);
    expect(all.map((e) => `${e.executionType} ${e.status}`)).toEqual([
      'ROLLBACK InProgress', 'STANDARD Failed', 'ROLLBACK Succeeded', 'STANDARD Failed', 'STANDARD Succeeded', 'STANDARD Succeeded',
    ]);
    expect(all[1].pipelineExecutionId).toBe(FAILED);
    expect(all[4].pipelineExecutionId).toBe(LAST_SUCCESS);
    expect(all[2].startTime!.getTime()).toBeLessThan(all[1].startTime!.getTime());
  });
});

describe('readWatcherSettings', () => {
  const STAGES = [sequential(US), sequential(EU), sequential(AP)];
  const env = (overrides: Record<string, string | undefined> = {}): NodeJS.ProcessEnv => ({
    [PipelineEnv.PIPELINE_NAME]: PIPELINE,
    [PipelineEnv.REGIONAL_STAGES]: JSON.stringify(STAGES),
    [PipelineEnv.COORDINATED_ROLLBACK]: 'true',
    [PipelineEnv.NOTIFICATION_TOPIC_ARN]: TOPIC,
    [PipelineEnv.ROLLBACK_CLAIMS_PATH]: CLAIMS_PATH,
    ...overrides,
  });

  test('reads the pipeline, its regional stages in order, coordinated rollback and the topic', () => {
    expect(readWatcherSettings(env())).toEqual({
      pipelineName: PIPELINE, regions: STAGES, coordinatedRollback: true, notificationTopicArn: TOPIC, rollbackClaimsPath: CLAIMS_PATH,
    });
  });

  test('coordinated rollback is off and there is no topic unless configured', () => {
    const settings = readWatcherSettings(env({
      [PipelineEnv.COORDINATED_ROLLBACK]: undefined, [PipelineEnv.NOTIFICATION_TOPIC_ARN]: undefined, [PipelineEnv.ROLLBACK_CLAIMS_PATH]: undefined,
    }));
    expect(settings.coordinatedRollback).toBe(false);
    expect(settings).not.toHaveProperty('notificationTopicArn');
  });

  test('accepts a parallel wave as one entry whose region is not an AWS region, and empty rollbackStages', () => {
    const regions = [sequential(US), { region: 'replicas', stages: ['Deploy-replicas'], rollbackStages: [] }];
    expect(readWatcherSettings(env({ [PipelineEnv.REGIONAL_STAGES]: JSON.stringify(regions) })).regions).toEqual(regions);
  });

  test.each([
    ['PIPELINE_NAME is missing', { [PipelineEnv.PIPELINE_NAME]: undefined }, 'environment variable PIPELINE_NAME is required but not set'],
    ['REGIONAL_STAGES is missing', { [PipelineEnv.REGIONAL_STAGES]: '' }, 'environment variable REGIONAL_STAGES is required but not set'],
    ['REGIONAL_STAGES is not JSON', { [PipelineEnv.REGIONAL_STAGES]: '[{region: us-east-1' }, 'environment variable REGIONAL_STAGES must be JSON'],
    ['REGIONAL_STAGES is empty', { [PipelineEnv.REGIONAL_STAGES]: '[]' },
      'environment variable REGIONAL_STAGES must be a non-empty JSON array of {"region", "stages", "rollbackStages"}'],
    ['an entry has no region', { [PipelineEnv.REGIONAL_STAGES]: JSON.stringify([{ stages: ['a'], rollbackStages: [] }]) },
      'environment variable REGIONAL_STAGES[0] must have a non-empty string region'],
    ['an entry has no stages', { [PipelineEnv.REGIONAL_STAGES]: JSON.stringify([sequential(US), { region: EU, stages: [], rollbackStages: [] }]) },
      'environment variable REGIONAL_STAGES[1] must have stages: a non-empty array of stage names'],
    ['rollbackStages is missing', { [PipelineEnv.REGIONAL_STAGES]: JSON.stringify([{ region: US, stages: ['Deploy-us-east-1'] }]) },
      'environment variable REGIONAL_STAGES[0] must have rollbackStages: an array of stage names (possibly empty)'],
    ['rollbackStages names a stage of another entry', {
      [PipelineEnv.REGIONAL_STAGES]: JSON.stringify([sequential(US), { region: EU, stages: ['Deploy-eu-west-1'], rollbackStages: ['Deploy-us-east-1'] }]),
    }, 'environment variable REGIONAL_STAGES[1].rollbackStages[0] is not one of the entry\'s stages'],
    ['a stage belongs to two entries', {
      [PipelineEnv.REGIONAL_STAGES]: JSON.stringify([sequential(US), { region: EU, stages: ['Deploy-eu-west-1', 'Deploy-us-east-1'], rollbackStages: [] }]),
    }, 'environment variable REGIONAL_STAGES[1].stages[1] is also a stage of entry 0; each stage belongs to one region only'],
    ['a region has two entries', { [PipelineEnv.REGIONAL_STAGES]: JSON.stringify([sequential(US), { ...sequential(EU), region: US }]) },
      'environment variable REGIONAL_STAGES[1] repeats the region of an earlier entry; each region has one entry'],
    ['COORDINATED_ROLLBACK is not a boolean', { [PipelineEnv.COORDINATED_ROLLBACK]: 'yes' },
      'environment variable COORDINATED_ROLLBACK must be "true" or "false"'],
    ['ROLLBACK_CLAIMS_PATH is missing under coordinated rollback', { [PipelineEnv.ROLLBACK_CLAIMS_PATH]: undefined },
      'environment variable ROLLBACK_CLAIMS_PATH is required when COORDINATED_ROLLBACK is true'],
    ['ROLLBACK_CLAIMS_PATH is not a parameter path', { [PipelineEnv.ROLLBACK_CLAIMS_PATH]: 'claims/' },
      'environment variable ROLLBACK_CLAIMS_PATH must be a Parameter Store path such as /a/b (at most 512 characters)'],
    ['NOTIFICATION_TOPIC_ARN is not a topic ARN', { [PipelineEnv.NOTIFICATION_TOPIC_ARN]: 'arn:aws:sqs:us-east-1:123456789012:not-a-topic' },
      'environment variable NOTIFICATION_TOPIC_ARN must be an SNS topic ARN'],
  ])('fails if %s, naming the variable', (_what, overrides, message) => {
    expect(() => readWatcherSettings(env(overrides))).toThrow(message);
  });

  test('a malformed REGIONAL_STAGES is never quoted in the error', () => {
    const value = JSON.stringify([{ region: 'us-east-1', stages: ['Deploy-Zq9-marker'], rollbackStages: ['Other-Zq9-marker'] }]);
    let message = '';
    try {
      readWatcherSettings(env({ [PipelineEnv.REGIONAL_STAGES]: value }));
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toContain('REGIONAL_STAGES[0].rollbackStages[0]');
    expect(message).not.toContain('Zq9-marker');
  });
});

describe('coordinated rollback (sequential strategy)', () => {
  test('a failure in region 3 rolls back regions 2 and 1, and only those, to the last successful execution', async () => {
    const f = fixture();
    const outcome = await handleWatcherEvent(recordedEvent('stage-failed.deploy-ap-southeast-2'), SEQUENTIAL, f.deps);

    // The most recently promoted region first; never the failed region, which rolls itself back.
    expect(rollbackCalls(f)).toEqual([rollbackTo('Deploy-eu-west-1'), rollbackTo('Deploy-us-east-1')]);
    expect(outcome).toEqual({
      action: 'coordinated',
      pipeline: PIPELINE,
      failedExecutionId: FAILED,
      failedStage: 'Deploy-ap-southeast-2',
      failedRegion: AP,
      targetExecutionId: LAST_SUCCESS,
      rollbacks: [
        { region: EU, stage: 'Deploy-eu-west-1', outcome: 'started', rollbackExecutionId: STARTED[0] },
        { region: US, stage: 'Deploy-us-east-1', outcome: 'started', rollbackExecutionId: STARTED[1] },
      ],
    });
    // Which regions were promoted is read from the failed execution only, every page of it.
    const listed = f.cp.commandCalls(ListActionExecutionsCommand).map((c) => c.args[0].input);
    expect(listed).toHaveLength(2);
    for (const input of listed) expect(input).toMatchObject({ pipelineName: PIPELINE, filter: { pipelineExecutionId: FAILED } });
    // The target search walked past the automatic rollback, the failed execution, an older manual
    // rollback and an older failure, onto the second page.
    expect(f.cp.commandCalls(ListPipelineExecutionsCommand)).toHaveLength(2);
    expect(f.sleeps).toEqual([]);
  });

  test('publishes one value-free message with the outcome and a short ASCII subject', async () => {
    const f = fixture();
    const outcome = await handleWatcherEvent(recordedEvent('stage-failed.deploy-ap-southeast-2'), SEQUENTIAL, f.deps);

    expect(published(f)).toHaveLength(1);
    const [message] = published(f);
    expect(message.TopicArn).toBe(TOPIC);
    expect(message.Subject).toBe('Pipeline orders-release: ap-southeast-2 failed; rolled back eu-west-1, us-east-1');
    const { action, ...report } = outcome as Extract<WatcherOutcome, { action: 'coordinated' }>;
    expect(JSON.parse(message.Message!)).toEqual(report);
    // The same is logged.
    const logged = output.logs(from).find((l) => l.message === 'Coordinated rollback');
    expect(logged).toMatchObject({ level: 'INFO', failedExecutionId: FAILED, targetExecutionId: LAST_SUCCESS, rollbacks: report.rollbacks });
    expect(describeOutcome(outcome)).toBe(`execution ${FAILED} failed in Deploy-ap-southeast-2 (ap-southeast-2); `
      + `rollbacks to ${LAST_SUCCESS}: Deploy-eu-west-1=started, Deploy-us-east-1=started`);
  });

  test('a failure in region 2 rolls back only region 1', async () => {
    const f = fixture({ actions: [rec.actionsFailedInEu] });
    const outcome = await handleWatcherEvent(stageFailed('Deploy-eu-west-1'), SEQUENTIAL, f.deps);

    expect(rollbackCalls(f)).toEqual([rollbackTo('Deploy-us-east-1')]);
    expect(outcome).toMatchObject({ action: 'coordinated', failedRegion: EU, rollbacks: [{ region: US, outcome: 'started' }] });
    expect(published(f)[0].Subject).toBe('Pipeline orders-release: eu-west-1 failed; rolled back us-east-1');
  });

  test('a failure in the primary region rolls nothing back and publishes nothing', async () => {
    const f = fixture();
    const outcome = await handleWatcherEvent(stageFailed('Deploy-us-east-1'), SEQUENTIAL, f.deps);

    expect(outcome).toEqual({ action: 'coordinated', pipeline: PIPELINE, failedExecutionId: FAILED, failedStage: 'Deploy-us-east-1', failedRegion: US, rollbacks: [] });
    expect(f.cp.commandCalls(ListActionExecutionsCommand)).toHaveLength(0);
    expect(rollbackCalls(f)).toEqual([]);
    expect(published(f)).toEqual([]);
  });

  test('a failure in a rollback execution does not cascade', async () => {
    const f = fixture();
    const outcome = await handleWatcherEvent(stageFailed('Deploy-ap-southeast-2', AUTOMATED_ROLLBACK), SEQUENTIAL, f.deps);

    expect(outcome).toEqual({ action: 'ignored', reason: 'a rollback execution failed' });
    expect(f.cp.commandCalls(GetPipelineExecutionCommand).map((c) => c.args[0].input))
      .toEqual([{ pipelineName: PIPELINE, pipelineExecutionId: AUTOMATED_ROLLBACK }]);
    expect(f.cp.commandCalls(ListActionExecutionsCommand)).toHaveLength(0);
    expect(rollbackCalls(f)).toEqual([]);
    expect(published(f)).toEqual([]);
  });

  test('with coordinated rollback off, a regional failure is only observed', async () => {
    const f = fixture();
    const outcome = await handleWatcherEvent(recordedEvent('stage-failed.deploy-ap-southeast-2'), { ...SEQUENTIAL, coordinatedRollback: false }, f.deps);

    expect(outcome).toEqual({ action: 'failure-observed', executionId: FAILED, stage: 'Deploy-ap-southeast-2', region: AP, coordinated: false });
    expect(f.cp.commandCalls(ListActionExecutionsCommand)).toHaveLength(0);
    expect(rollbackCalls(f)).toEqual([]);
    expect(published(f)).toEqual([]);
  });

  test('without an earlier successful execution, every wanted rollback is no-target: none is attempted, the outcome is published and nothing throws', async () => {
    const f = fixture({ executions: [rec.firstRelease] });
    const outcome = await handleWatcherEvent(recordedEvent('stage-failed.deploy-ap-southeast-2'), SEQUENTIAL, f.deps);
    flushMetrics();

    expect(outcome).toMatchObject({
      action: 'coordinated',
      rollbacks: [{ region: EU, stage: 'Deploy-eu-west-1', outcome: 'no-target' }, { region: US, stage: 'Deploy-us-east-1', outcome: 'no-target' }],
    });
    expect(outcome).not.toHaveProperty('targetExecutionId');
    expect(rollbackCalls(f)).toEqual([]);
    expect(f.cp.commandCalls(GetPipelineStateCommand)).toHaveLength(0);
    expect(published(f)).toHaveLength(1);
    expect(published(f)[0].Subject).toBe('Pipeline orders-release: ap-southeast-2 failed; no earlier successful execution to roll back to');
    expect(metricSum('RollbackFailed')).toBe(0);
  });

  test('retries RollbackStage with growing pauses while the pipeline is busy', async () => {
    const f = fixture();
    f.cp.on(RollbackStageCommand)
      .rejectsOnce(rec.conflict).rejectsOnce(rec.conflict).resolvesOnce(rec.rollbackStage[0]).resolvesOnce(rec.rollbackStage[1]);
    const outcome = await handleWatcherEvent(recordedEvent('stage-failed.deploy-ap-southeast-2'), SEQUENTIAL, f.deps);

    expect(f.sleeps).toEqual([5_000, 10_000]);
    expect(rollbackCalls(f)).toEqual([rollbackTo('Deploy-eu-west-1'), rollbackTo('Deploy-eu-west-1'), rollbackTo('Deploy-eu-west-1'), rollbackTo('Deploy-us-east-1')]);
    expect(outcome).toMatchObject({ rollbacks: [{ region: EU, outcome: 'started', rollbackExecutionId: STARTED[0] }, { region: US, outcome: 'started' }] });
  });

  test('a rollback the pipeline stays too busy for is given up within 5 minutes, counted per region, published, and the invocation throws', async () => {
    const f = fixture();
    f.cp.on(RollbackStageCommand).rejects(rec.conflict);
    const event = recordedEvent('stage-failed.deploy-ap-southeast-2');

    await expect(handleWatcherEvent(event, SEQUENTIAL, f.deps)).rejects.toThrow(
      `coordinated rollback of pipeline ${PIPELINE} after execution ${FAILED} failed in Deploy-ap-southeast-2: could not roll back eu-west-1, us-east-1`);
    flushMetrics();

    const waited = f.sleeps.reduce((a, b) => a + b, 0);
    expect(waited).toBeLessThanOrEqual(5 * 60_000);
    expect(waited).toBeGreaterThan(4 * 60_000);
    expect(Math.max(...f.sleeps)).toBe(60_000);
    // Both stages were tried: one stage's failure does not stop the next.
    expect(new Set(rollbackCalls(f).map((c) => c.stageName))).toEqual(new Set(['Deploy-eu-west-1', 'Deploy-us-east-1']));
    expect(metricSum('RollbackFailed')).toBe(2);
    expect(metricSum('RollbackFailed', { Region: EU })).toBe(1);
    expect(metricSum('RollbackFailed', { Region: US })).toBe(1);
    expect(published(f)).toHaveLength(1);
    expect(published(f)[0].Subject).toBe('Pipeline orders-release: ap-southeast-2 failed; rollback FAILED in eu-west-1, us-east-1');
    expect(JSON.parse(published(f)[0].Message!).rollbacks).toEqual([
      { region: EU, stage: 'Deploy-eu-west-1', outcome: 'failed', errorName: 'ConflictException' },
      { region: US, stage: 'Deploy-us-east-1', outcome: 'failed', errorName: 'ConflictException' },
    ]);
    expect(output.logs(from).some((l) => l.level === 'ERROR' && l.message === 'Coordinated rollback incomplete')).toBe(true);
    // The SDK's error message (which may quote request input) appears nowhere.
    const everything = [...output.lines, ...published(f).map((m) => `${m.Subject} ${m.Message}`)];
    expect(everything.filter((l) => l.includes(rec.conflict.message))).toEqual([]);
  });

  test('a rollback RollbackStage refuses for good is not retried, and the other regions are still rolled back', async () => {
    const f = fixture();
    f.cp.on(RollbackStageCommand).rejectsOnce(rec.unableToRollBack).resolvesOnce(rec.rollbackStage[1]);

    await expect(handleWatcherEvent(recordedEvent('stage-failed.deploy-ap-southeast-2'), SEQUENTIAL, f.deps)).rejects.toThrow('could not roll back eu-west-1');
    flushMetrics();

    expect(f.sleeps).toEqual([]);
    expect(rollbackCalls(f)).toEqual([rollbackTo('Deploy-eu-west-1'), rollbackTo('Deploy-us-east-1')]);
    expect(JSON.parse(published(f)[0].Message!).rollbacks).toEqual([
      { region: EU, stage: 'Deploy-eu-west-1', outcome: 'failed', errorName: 'UnableToRollbackStageException' },
      { region: US, stage: 'Deploy-us-east-1', outcome: 'started', rollbackExecutionId: STARTED[1] },
    ]);
    expect(published(f)[0].Subject).toBe('Pipeline orders-release: ap-southeast-2 failed; rolled back us-east-1; rollback FAILED in eu-west-1');
    expect(metricSum('RollbackFailed', { Region: EU })).toBe(1);
    expect(metricSum('RollbackFailed', { Region: US })).toBe(0);
  });

  test('a redelivered event skips a stage whose rollback is already running', async () => {
    const f = fixture({ state: rec.stateEuRollingBack });
    const outcome = await handleWatcherEvent(recordedEvent('stage-failed.deploy-ap-southeast-2'), SEQUENTIAL, f.deps);

    expect(rollbackCalls(f)).toEqual([rollbackTo('Deploy-us-east-1')]);
    expect(outcome).toMatchObject({
      rollbacks: [
        { region: EU, stage: 'Deploy-eu-west-1', outcome: 'already-rolled-back', rollbackExecutionId: STARTED[0] },
        { region: US, stage: 'Deploy-us-east-1', outcome: 'started', rollbackExecutionId: STARTED[0] },
      ],
    });
    expect(published(f)[0].Subject).toBe('Pipeline orders-release: ap-southeast-2 failed; rolled back eu-west-1, us-east-1');
  });

  test('a stage a newer execution has run since is left to it, not rolled back', async () => {
    const f = fixture({ state: rec.stateUsRedeployed });
    const outcome = await handleWatcherEvent(recordedEvent('stage-failed.deploy-ap-southeast-2'), SEQUENTIAL, f.deps);

    expect(rollbackCalls(f)).toEqual([]);
    expect(outcome).toMatchObject({
      rollbacks: [{ region: EU, outcome: 'already-rolled-back' }, { region: US, stage: 'Deploy-us-east-1', outcome: 'superseded' }],
    });
    expect(published(f)[0].Subject).toBe('Pipeline orders-release: ap-southeast-2 failed; rolled back eu-west-1; us-east-1 superseded');
  });

  test('an earlier region whose stage did not run in the execution (skipped) is not rolled back', async () => {
    const actions = rec.actionsFailedInAp.map((page) => ({
      ...page,
      actionExecutionDetails: page.actionExecutionDetails!.filter((d) => d.stageName !== 'Deploy-us-east-1'),
    }));
    const f = fixture({ actions });
    const outcome = await handleWatcherEvent(recordedEvent('stage-failed.deploy-ap-southeast-2'), SEQUENTIAL, f.deps);

    expect(rollbackCalls(f)).toEqual([rollbackTo('Deploy-eu-west-1')]);
    expect(outcome).toMatchObject({ rollbacks: [{ region: EU, outcome: 'started' }] });
  });

  test('an action that failed and then succeeded on a stage retry counts as succeeded', async () => {
    const [page1, page2] = rec.actionsFailedInAp;
    const healthCheck = page2.actionExecutionDetails!.find((d) => d.stageName === 'Deploy-us-east-1' && d.actionName === 'HealthCheck')!;
    const earlierAttempt = {
      ...healthCheck,
      actionExecutionId: 'f0e1d2c3-b4a5-4968-8776-655443322110',
      status: 'Failed' as const,
      startTime: new Date(healthCheck.startTime!.getTime() - 120_000),
      lastUpdateTime: new Date(healthCheck.startTime!.getTime() - 60_000),
    };
    const f = fixture({ actions: [page1, { ...page2, actionExecutionDetails: [...page2.actionExecutionDetails!, earlierAttempt] }] });
    await handleWatcherEvent(recordedEvent('stage-failed.deploy-ap-southeast-2'), SEQUENTIAL, f.deps);

    expect(rollbackCalls(f)).toEqual([rollbackTo('Deploy-eu-west-1'), rollbackTo('Deploy-us-east-1')]);
  });

  test('an SNS client is required when a topic is configured', async () => {
    const f = fixture();
    await expect(handleWatcherEvent(recordedEvent('stage-failed.deploy-ap-southeast-2'), SEQUENTIAL, { ...f.deps, sns: undefined }))
      .rejects.toThrow('an SNS client is required when a notification topic is configured');
    expect(rollbackCalls(f)).toEqual([]);
  });

  test('without a topic nothing is published', async () => {
    const f = fixture();
    const { notificationTopicArn, ...noTopic } = SEQUENTIAL;
    await handleWatcherEvent(recordedEvent('stage-failed.deploy-ap-southeast-2'), noTopic, { ...f.deps, sns: undefined });
    expect(rollbackCalls(f)).toHaveLength(2);
    expect(published(f)).toEqual([]);
  });

  test('the subject stays ASCII and shorter than 100 characters: a long pipeline name is shortened, the outcome kept', async () => {
    const f = fixture();
    const name = `orders-release-${'x'.repeat(85)}`;
    const event = recordedEvent('stage-failed.deploy-ap-southeast-2');
    event.detail.pipeline = name;
    await handleWatcherEvent(event, { ...SEQUENTIAL, pipelineName: name }, f.deps);

    const subject = published(f)[0].Subject!;
    expect(subject.length).toBeLessThan(100);
    expect(subject).toMatch(/^Pipeline orders-release-x+\.\.\.: ap-southeast-2 failed; rolled back eu-west-1, us-east-1$/);
    expect(JSON.parse(published(f)[0].Message!).pipeline).toBe(name);
  });
});

describe('coordinated rollback (blue-green strategy)', () => {
  test('rolls back the configured rollbackStages of the earlier regions, in the configured order, most recent region first', async () => {
    const f = fixture({ actions: [rec.actionsBlueGreen], state: rec.stateBlueGreen });
    const outcome = await handleWatcherEvent(recordedEvent('stage-failed.ap-southeast-2-shift'), BLUE_GREEN, f.deps);

    expect(rollbackCalls(f)).toEqual([
      rollbackTo('eu-west-1-Promote'), rollbackTo('eu-west-1-Shift'), rollbackTo('us-east-1-Promote'), rollbackTo('us-east-1-Shift'),
    ]);
    expect(outcome).toMatchObject({
      failedStage: 'ap-southeast-2-Shift',
      failedRegion: AP,
      rollbacks: [
        { region: EU, stage: 'eu-west-1-Promote', outcome: 'started', rollbackExecutionId: STARTED[0] },
        { region: EU, stage: 'eu-west-1-Shift', outcome: 'started', rollbackExecutionId: STARTED[1] },
        { region: US, stage: 'us-east-1-Promote', outcome: 'started', rollbackExecutionId: STARTED[2] },
        { region: US, stage: 'us-east-1-Shift', outcome: 'started', rollbackExecutionId: STARTED[3] },
      ],
    });
  });

  test('the failing region, only partly through (its Candidate succeeded), is not rolled back by the coordinator', async () => {
    const f = fixture({ actions: [rec.actionsBlueGreen], state: rec.stateBlueGreen });
    await handleWatcherEvent(recordedEvent('stage-failed.ap-southeast-2-shift'), BLUE_GREEN, f.deps);

    expect(rollbackCalls(f).filter((c) => c.stageName!.startsWith(AP))).toEqual([]);
    // Candidate stages are not in rollbackStages and are never rolled back.
    expect(rollbackCalls(f).filter((c) => c.stageName!.endsWith('-Candidate'))).toEqual([]);
  });

  test('a region whose rollbackStages is empty is promoted but has nothing to roll back', async () => {
    const f = fixture({ actions: [rec.actionsBlueGreen], state: rec.stateBlueGreen });
    const settings = { ...BLUE_GREEN, regions: [{ ...blueGreen(US), rollbackStages: [] }, blueGreen(EU), blueGreen(AP)] };
    await handleWatcherEvent(recordedEvent('stage-failed.ap-southeast-2-shift'), settings, f.deps);

    expect(rollbackCalls(f)).toEqual([rollbackTo('eu-west-1-Promote'), rollbackTo('eu-west-1-Shift')]);
  });
});

describe('events the watcher does not act on', () => {
  test('ignores events of another pipeline', async () => {
    const f = fixture();
    const event = recordedEvent('stage-failed.deploy-ap-southeast-2');
    event.detail.pipeline = 'payments-release';
    expect(await handleWatcherEvent(event, SEQUENTIAL, f.deps)).toEqual({ action: 'ignored', reason: 'an event of another pipeline' });
    expect(f.cp.calls()).toHaveLength(0);
  });

  test('ignores other detail-types, non-regional stages and other states without calling CodePipeline', async () => {
    const f = fixture();
    const action = recordedEvent('stage-failed.deploy-ap-southeast-2');
    action['detail-type'] = 'CodePipeline Action Execution State Change';
    const build = stageFailed('Build');
    const succeeded = recordedEvent('stage-failed.deploy-ap-southeast-2');
    succeeded.detail.state = 'SUCCEEDED';
    const pipelineStarted = recordedEvent('pipeline-failed');
    pipelineStarted.detail.state = 'STARTED';

    expect(await handleWatcherEvent(action, SEQUENTIAL, f.deps)).toMatchObject({ action: 'ignored' });
    expect(await handleWatcherEvent(build, SEQUENTIAL, f.deps)).toEqual({ action: 'ignored', reason: 'not a regional stage' });
    expect(await handleWatcherEvent(succeeded, SEQUENTIAL, f.deps)).toEqual({ action: 'ignored', reason: 'stage execution state SUCCEEDED' });
    expect(await handleWatcherEvent(pipelineStarted, SEQUENTIAL, f.deps)).toEqual({ action: 'ignored', reason: 'pipeline execution state STARTED' });
    expect(await handleWatcherEvent({ 'detail-type': 'CodePipeline Stage Execution State Change', 'detail': {} }, SEQUENTIAL, f.deps)).toMatchObject({ action: 'ignored' });
    expect(await handleWatcherEvent(undefined, SEQUENTIAL, f.deps)).toMatchObject({ action: 'ignored' });
    const noStage = recordedEvent('stage-failed.deploy-ap-southeast-2');
    delete noStage.detail.stage;
    expect(await handleWatcherEvent(noStage, SEQUENTIAL, f.deps)).toEqual({ action: 'ignored', reason: 'CodePipeline Stage Execution State Change without stage' });
    expect(f.cp.calls()).toHaveLength(0);
  });
});

describe('describeOutcome', () => {
  test('summarises every kind of outcome on one line', () => {
    expect(describeOutcome({ action: 'ignored', reason: 'an event of another pipeline' })).toBe('ignored: an event of another pipeline');
    expect(describeOutcome({ action: 'rollback-observed', executionId: STARTED[0], stage: 'Deploy-eu-west-1', region: EU }))
      .toBe(`rollback execution ${STARTED[0]} started Deploy-eu-west-1 (eu-west-1)`);
    expect(describeOutcome({ action: 'failure-observed', executionId: FAILED, stage: 'Deploy-eu-west-1', region: EU, coordinated: false }))
      .toBe(`execution ${FAILED} failed in Deploy-eu-west-1 (eu-west-1); coordinated rollback is off`);
    expect(describeOutcome({ action: 'coordinated', pipeline: PIPELINE, failedExecutionId: FAILED, failedStage: 'Deploy-us-east-1', failedRegion: US, rollbacks: [] }))
      .toBe(`execution ${FAILED} failed in Deploy-us-east-1 (us-east-1); nothing to roll back`);
  });
});

describe('metrics', () => {
  test('a stage STARTED by a rollback execution emits RollbackPerformed in total and for its region', async () => {
    const f = fixture();
    const outcome = await handleWatcherEvent(recordedEvent('stage-started.rollback-deploy-eu-west-1'), SEQUENTIAL, f.deps);
    flushMetrics();

    expect(outcome).toEqual({ action: 'rollback-observed', executionId: STARTED[0], stage: 'Deploy-eu-west-1', region: EU, triggerType: 'ManualRollback' });
    expect(metricSum('RollbackPerformed')).toBe(1);
    expect(metricSum('RollbackPerformed', { Region: EU })).toBe(1);
    for (const doc of output.emf(from)) expect(doc._aws.CloudWatchMetrics[0].Namespace).toBe(NAMESPACE);
    expect(output.logs(from).find((l) => l.message === 'Rollback started')).toMatchObject({
      executionId: STARTED[0], stage: 'Deploy-eu-west-1', region: EU, triggerType: 'ManualRollback', rollbackTargetExecutionId: LAST_SUCCESS,
    });
  });

  test('CodePipeline\'s automatic rollback of the failed stage counts too', async () => {
    const f = fixture();
    const event = recordedEvent('stage-started.rollback-deploy-eu-west-1');
    event.detail.stage = 'Deploy-ap-southeast-2';
    event.detail['execution-id'] = AUTOMATED_ROLLBACK;
    expect(await handleWatcherEvent(event, SEQUENTIAL, f.deps)).toMatchObject({ action: 'rollback-observed', region: AP, triggerType: 'AutomatedRollback' });
    flushMetrics();
    expect(metricSum('RollbackPerformed', { Region: AP })).toBe(1);
  });

  test('a stage STARTED by a standard execution emits nothing', async () => {
    const f = fixture();
    const event = recordedEvent('stage-started.rollback-deploy-eu-west-1');
    event.detail['execution-id'] = FAILED;
    expect(await handleWatcherEvent(event, SEQUENTIAL, f.deps)).toEqual({ action: 'ignored', reason: 'a standard execution started a stage' });
    flushMetrics();
    expect(metricSum('RollbackPerformed')).toBe(0);
  });

  test('a failed pipeline execution emits PipelineExecutionFailed, without a region', async () => {
    const f = fixture();
    const outcome = await handleWatcherEvent(recordedEvent('pipeline-failed'), SEQUENTIAL, f.deps);
    flushMetrics();

    expect(outcome).toEqual({ action: 'execution-failed', executionId: FAILED });
    expect(describeOutcome(outcome)).toBe(`execution ${FAILED} failed`);
    expect(metricSum('PipelineExecutionFailed')).toBe(1);
    expect(output.emf(from).filter((d) => 'Region' in d)).toEqual([]);
    expect(output.logs(from).find((l) => l.message === 'Pipeline execution failed')).toMatchObject({ level: 'WARN', executionId: FAILED });
    expect(f.cp.calls()).toHaveLength(0);
  });
});
