/**
 * The blue-green traffic switch against moto: weighted Route 53 records and SSM parameters are
 * real (one moto server, every region), CodePipeline is mocked with aws-sdk-client-mock because
 * moto has no job or rollback APIs. Runs on the Lambda runtime's Node major.
 */
import { tmpdir } from 'node:os';
import {
  CodePipelineClient, GetJobDetailsCommand, GetPipelineExecutionCommand, PutJobFailureResultCommand, PutJobSuccessResultCommand,
} from '@aws-sdk/client-codepipeline';
import {
  ChangeResourceRecordSetsCommand, CreateHostedZoneCommand, ListResourceRecordSetsCommand, ResourceRecordSet, Route53Client,
} from '@aws-sdk/client-route-53';
import { GetParameterCommand, PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { App, CfnElement, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as cdkRoute53 from 'aws-cdk-lib/aws-route53';
import { mockClient } from 'aws-sdk-client-mock';
import type * as TrafficSwitchModule from '../../lambda-src/multi-region-pipeline/traffic-switch';
import type { ClientCache as ClientCacheType } from '../../lambda-src/shared/clients';
import { TrafficSwitch } from '../../src';
import type {
  Route53WeightedSwitchConfig, SlotName, SsmParameterSwitchConfig, TrafficSwitchConfig,
} from '../../src/multi-region-pipeline/contract';
import { PipelineMetric, REGION_DIMENSION } from '../../src/multi-region-pipeline/contract';
import { FaultProxy, startFaultProxy } from '../harness/fault-proxy';
import { EvaluationGroup, evaluateGroups } from '../harness/iam-evaluation';
import { IamRecorder, RecordedCall } from '../harness/iam-recorder';
import { applyEnv, awsTestEnv, MotoServer, startMotoServer } from '../harness/moto';
import { OutputCapture } from '../harness/world';

const REGION = 'eu-west-1';
const OTHER_REGION = 'ap-southeast-2';
const SERVICE = 'TrafficSwitchTest';
const METRIC_NAMESPACE = 'Test/MultiRegionPipeline';
const PIPELINE = 'app-pipeline';
const EXECUTION_ID = '11111111-2222-3333-4444-555555555555';
/** Record values the tests create; the switch must never log or report them (names only). */
const RECORD_VALUE_PREFIX = '192.0.2.';
const ALIAS_TARGET_ZONE = 'Z32O12XQLNTSW2';

let moto: MotoServer;
/** Between the switch and moto, so every call it makes is recorded for the IAM evaluation. */
let proxy: FaultProxy;
let recorder: IamRecorder;
let restoreEnv: () => void;
let route53: Route53Client;
let zoneId: string;
let ts: typeof TrafficSwitchModule;
let clients: ClientCacheType;
let observability: typeof import('../../lambda-src/shared/observability');
const output = new OutputCapture();
const codepipeline = mockClient(CodePipelineClient);
/** Every result and error the switch produced, for the leak scan. */
const results: string[] = [];

const ssm = (region: string) => new SSMClient({ region, endpoint: moto.endpoint, credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' } });

function weighted(overrides: Partial<Route53WeightedSwitchConfig> = {}): Route53WeightedSwitchConfig {
  return {
    type: 'route53-weighted',
    hostedZoneId: zoneId,
    recordName: 'api.{region}.example.com',
    recordType: 'A',
    setIdentifiers: { blue: 'blue', green: 'green' },
    liveWeight: 100,
    ...overrides,
  };
}

const PARAMETER: SsmParameterSwitchConfig = { type: 'ssm-parameter', parameterName: '/app/{region}/live-slot' };

/** A weighted A pair: blue 192.0.2.1 and green 192.0.2.2 (TTL 60), with the given weights. */
async function createPair(name: string, blueWeight: number, greenWeight: number, extra: Partial<ResourceRecordSet> = {}): Promise<void> {
  const record = (id: string, weight: number, value: string): ResourceRecordSet => ({
    Name: name, Type: 'A', SetIdentifier: id, Weight: weight, TTL: 60, ResourceRecords: [{ Value: value }], ...extra,
  });
  await createRecords(record('blue', blueWeight, `${RECORD_VALUE_PREFIX}1`), record('green', greenWeight, `${RECORD_VALUE_PREFIX}2`));
}

async function createRecords(...records: ResourceRecordSet[]): Promise<void> {
  await route53.send(new ChangeResourceRecordSetsCommand({
    HostedZoneId: zoneId,
    ChangeBatch: { Changes: records.map((r) => ({ Action: 'CREATE' as const, ResourceRecordSet: r })) },
  }));
}

/** The records at `name` (any type), keyed by set identifier. */
async function recordsAt(name: string): Promise<Record<string, ResourceRecordSet>> {
  const fqdn = name.endsWith('.') ? name : `${name}.`;
  const out = await route53.send(new ListResourceRecordSetsCommand({ HostedZoneId: zoneId }));
  return Object.fromEntries((out.ResourceRecordSets ?? []).filter((r) => r.Name === fqdn).map((r) => [r.SetIdentifier ?? '', r]));
}

const weights = async (name: string) => {
  const r = await recordsAt(name);
  return { blue: r.blue?.Weight, green: r.green?.Weight };
};

async function parameter(region: string, name: string): Promise<{ value?: string; version?: number; type?: string }> {
  try {
    const p = (await ssm(region).send(new GetParameterCommand({ Name: name }))).Parameter;
    return { value: p?.Value, version: p?.Version, type: p?.Type };
  } catch (e) {
    if ((e as Error).name === 'ParameterNotFound') return {};
    throw e;
  }
}

/** `switchTraffic`, recording what it returned or threw. */
async function switchTo(config: TrafficSwitchConfig, region: string, slot: SlotName) {
  try {
    const outcome = await ts.switchTraffic(config, region, slot, clients);
    results.push(String(JSON.stringify(outcome)));
    return outcome;
  } catch (e) {
    results.push(String(e));
    throw e;
  }
}

/** A Lambda invoke action's event as CodePipeline sends it. */
function job(userParameters: unknown, id = 'job-1') {
  return {
    'CodePipeline.job': {
      id,
      accountId: '123456789012',
      data: {
        actionConfiguration: {
          configuration: { FunctionName: 'traffic-switch', UserParameters: typeof userParameters === 'string' ? userParameters : JSON.stringify(userParameters) },
        },
        inputArtifacts: [],
        outputArtifacts: [],
      },
    },
  };
}

/** CodePipeline as the job sees it: this job runs in an execution of `executionType`. */
function pipelineRuns(executionType: 'STANDARD' | 'ROLLBACK' | undefined) {
  codepipeline.on(GetJobDetailsCommand).resolves({
    jobDetails: {
      id: 'job-1',
      data: {
        pipelineContext: {
          pipelineName: PIPELINE,
          stage: { name: `Deploy-${REGION}` },
          action: { name: 'SwitchTraffic' },
          pipelineExecutionId: EXECUTION_ID,
        },
      },
    },
  });
  codepipeline.on(GetPipelineExecutionCommand, { pipelineName: PIPELINE, pipelineExecutionId: EXECUTION_ID }).resolves({
    pipelineExecution: { pipelineName: PIPELINE, pipelineExecutionId: EXECUTION_ID, status: 'InProgress', ...(executionType ? { executionType } : {}) },
  });
  codepipeline.on(PutJobSuccessResultCommand).resolves({});
  codepipeline.on(PutJobFailureResultCommand).resolves({});
}

async function runJob(event: unknown, config: TrafficSwitchConfig) {
  try {
    const outcome = await ts.handleTrafficSwitchJob(event, { codepipeline: new CodePipelineClient({ region: REGION }), clients, config });
    results.push(String(JSON.stringify(outcome)));
    return outcome;
  } catch (e) {
    results.push(String(e));
    throw e;
  } finally {
    observability.metrics.publishStoredMetrics();
  }
}

const successInput = () => codepipeline.commandCalls(PutJobSuccessResultCommand).map((c) => c.args[0].input);
const failureInput = () => codepipeline.commandCalls(PutJobFailureResultCommand).map((c) => c.args[0].input);

beforeAll(async () => {
  moto = await startMotoServer();
  proxy = await startFaultProxy({ target: moto.endpoint });
  recorder = new IamRecorder(moto.endpoint);
  recorder.attach(proxy);
  restoreEnv = applyEnv({
    ...awsTestEnv(proxy.endpoint, REGION),
    POWERTOOLS_SERVICE_NAME: SERVICE,
    POWERTOOLS_METRICS_NAMESPACE: METRIC_NAMESPACE,
  });
  route53 = new Route53Client({ region: 'us-east-1', endpoint: moto.endpoint, credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' } });
  // Powertools reads POWERTOOLS_* when the module loads, so the handler code is required only now.
  /* eslint-disable @typescript-eslint/no-require-imports */
  ts = require('../../lambda-src/multi-region-pipeline/traffic-switch');
  observability = require('../../lambda-src/shared/observability');
  const { ClientCache } = require('../../lambda-src/shared/clients');
  /* eslint-enable @typescript-eslint/no-require-imports */
  clients = new ClientCache(REGION);
  output.start();
}, 60_000);

beforeEach(async () => {
  await moto.reset();
  codepipeline.reset();
  zoneId = (await route53.send(new CreateHostedZoneCommand({ Name: 'example.com', CallerReference: `zone-${Date.now()}` }))).HostedZone!.Id!;
});

afterAll(async () => {
  output.stop();
  codepipeline.restore();
  await proxy?.stop();
  await moto?.stop();
  restoreEnv?.();
});

describe('route53-weighted', () => {
  test('moves the region to green in one batch, keeping values, TTL and health check of both records', async () => {
    await createPair('api.eu-west-1.example.com', 100, 0, { HealthCheckId: 'c5d7ac3a-0000-4000-8000-000000000001' });

    const outcome = await switchTo(weighted(), REGION, 'green');

    expect(outcome).toEqual({ region: REGION, liveSlot: 'green', previousSlot: 'blue', changed: true, target: 'route53 api.eu-west-1.example.com. A' });
    const after = await recordsAt('api.eu-west-1.example.com');
    expect(after.blue).toEqual({
      Name: 'api.eu-west-1.example.com.',
      Type: 'A',
      SetIdentifier: 'blue',
      Weight: 0,
      TTL: 60,
      ResourceRecords: [{ Value: '192.0.2.1' }],
      HealthCheckId: 'c5d7ac3a-0000-4000-8000-000000000001',
    });
    expect(after.green).toEqual({
      Name: 'api.eu-west-1.example.com.',
      Type: 'A',
      SetIdentifier: 'green',
      Weight: 100,
      TTL: 60,
      ResourceRecords: [{ Value: '192.0.2.2' }],
      HealthCheckId: 'c5d7ac3a-0000-4000-8000-000000000001',
    });
  });

  test('switching to the live slot again writes nothing and reports changed false', async () => {
    await createPair('api.eu-west-1.example.com', 100, 0);
    await switchTo(weighted(), REGION, 'green');
    const send = jest.spyOn(Route53Client.prototype, 'send');
    try {
      const again = await switchTo(weighted(), REGION, 'green');

      expect(again).toEqual({ region: REGION, liveSlot: 'green', previousSlot: 'green', changed: false, target: 'route53 api.eu-west-1.example.com. A' });
      const commands = send.mock.calls.map(([command]) => command.constructor.name);
      expect(commands).toEqual(['ListResourceRecordSetsCommand']);
    } finally {
      send.mockRestore();
    }
    expect(await weights('api.eu-west-1.example.com')).toEqual({ blue: 0, green: 100 });
  });

  test('switching back to blue reports green as the previous slot', async () => {
    await createPair('api.eu-west-1.example.com', 100, 0);
    await switchTo(weighted(), REGION, 'green');

    const back = await switchTo(weighted(), REGION, 'blue');

    expect(back).toMatchObject({ liveSlot: 'blue', previousSlot: 'green', changed: true });
    expect(await weights('api.eu-west-1.example.com')).toEqual({ blue: 100, green: 0 });
  });

  test('substitutes {region}, so the pair of another region stays untouched', async () => {
    await createPair('api.eu-west-1.example.com', 100, 0);
    await createPair('api.ap-southeast-2.example.com', 100, 0);

    const outcome = await switchTo(weighted(), OTHER_REGION, 'green');

    expect(outcome.target).toBe('route53 api.ap-southeast-2.example.com. A');
    expect(await weights('api.ap-southeast-2.example.com')).toEqual({ blue: 0, green: 100 });
    expect(await weights('api.eu-west-1.example.com')).toEqual({ blue: 100, green: 0 });
  });

  test('keeps the AliasTarget of an alias pair and accepts a trailing dot and upper case in the configured name', async () => {
    const alias = (id: string, weight: number): ResourceRecordSet => ({
      Name: 'www.eu-west-1.example.com',
      Type: 'A',
      SetIdentifier: `app-${id}`,
      Weight: weight,
      AliasTarget: { HostedZoneId: ALIAS_TARGET_ZONE, DNSName: `lb-${id}.eu-west-1.elb.amazonaws.com`, EvaluateTargetHealth: true },
    });
    await createRecords(alias('blue', 1), alias('green', 0));
    const config = weighted({ recordName: 'WWW.{region}.Example.com.', setIdentifiers: { blue: 'app-blue', green: 'app-green' }, liveWeight: 10 });

    const outcome = await switchTo(config, REGION, 'green');

    expect(outcome).toMatchObject({ liveSlot: 'green', previousSlot: 'blue', changed: true, target: 'route53 www.eu-west-1.example.com. A' });
    const after = await recordsAt('www.eu-west-1.example.com');
    expect(after['app-green']).toEqual({ ...alias('green', 10), Name: 'www.eu-west-1.example.com.' });
    expect(after['app-blue']).toEqual({ ...alias('blue', 0), Name: 'www.eu-west-1.example.com.' });
  });

  test('switches a CNAME pair without touching an A pair of the same name', async () => {
    const cname = (id: string, weight: number): ResourceRecordSet => ({
      Name: 'app.eu-west-1.example.com',
      Type: 'CNAME',
      SetIdentifier: id,
      Weight: weight,
      TTL: 30,
      ResourceRecords: [{ Value: `${id}.eu-west-1.example.net` }],
    });
    await createRecords(cname('blue', 100), cname('green', 0));
    await route53.send(new ChangeResourceRecordSetsCommand({
      HostedZoneId: zoneId,
      ChangeBatch: {
        Changes: [{
          Action: 'CREATE',
          ResourceRecordSet: { Name: 'app.eu-west-1.example.com', Type: 'TXT', SetIdentifier: 'blue', Weight: 100, TTL: 30, ResourceRecords: [{ Value: '"v=1"' }] },
        }],
      },
    }));

    const outcome = await switchTo(weighted({ recordName: 'app.{region}.example.com', recordType: 'CNAME' }), REGION, 'green');

    expect(outcome).toMatchObject({ liveSlot: 'green', previousSlot: 'blue', target: 'route53 app.eu-west-1.example.com. CNAME' });
    const out = await route53.send(new ListResourceRecordSetsCommand({ HostedZoneId: zoneId }));
    const at = (type: string, id: string) => out.ResourceRecordSets!.find((r) => r.Type === type && r.SetIdentifier === id);
    expect(at('CNAME', 'green')).toMatchObject({ Weight: 100, TTL: 30, ResourceRecords: [{ Value: 'green.eu-west-1.example.net' }] });
    expect(at('CNAME', 'blue')).toMatchObject({ Weight: 0, TTL: 30, ResourceRecords: [{ Value: 'blue.eu-west-1.example.net' }] });
    expect(at('TXT', 'blue')).toMatchObject({ Weight: 100 });
  });

  test('when both records carry weight the previous slot is unknown, and the switch makes one of them live', async () => {
    await createPair('api.eu-west-1.example.com', 50, 50);

    const outcome = await switchTo(weighted(), REGION, 'blue');

    expect(outcome).toEqual({ region: REGION, liveSlot: 'blue', changed: true, target: 'route53 api.eu-west-1.example.com. A' });
    expect(await weights('api.eu-west-1.example.com')).toEqual({ blue: 100, green: 0 });
  });

  test('fails naming the record, its type and the missing set identifier, and changes nothing', async () => {
    await createPair('api.eu-west-1.example.com', 100, 0);

    await expect(switchTo(weighted({ setIdentifiers: { blue: 'blue', green: 'candidate' } }), REGION, 'green')).rejects.toThrow(
      `route53 api.eu-west-1.example.com. A in hosted zone ${zoneId} has no record with set identifier "candidate" (the green slot)`,
    );
    await expect(switchTo(weighted(), OTHER_REGION, 'green')).rejects.toThrow(
      'route53 api.ap-southeast-2.example.com. A in hosted zone',
    );
    expect(await weights('api.eu-west-1.example.com')).toEqual({ blue: 100, green: 0 });
  });

  test('fails when a record of the pair is not weighted', async () => {
    const failover = (id: string, role: 'PRIMARY' | 'SECONDARY', value: string): ResourceRecordSet => ({
      Name: 'api.eu-west-1.example.com', Type: 'A', SetIdentifier: id, Failover: role, TTL: 60, ResourceRecords: [{ Value: value }],
    });
    await createRecords(failover('blue', 'PRIMARY', '192.0.2.1'), failover('green', 'SECONDARY', '192.0.2.2'));

    await expect(switchTo(weighted(), REGION, 'green')).rejects.toThrow(
      'route53 api.eu-west-1.example.com. A with set identifier "blue" (the blue slot) is not a weighted record',
    );
  });

  test('waitForChange returns once GetChange reports the change INSYNC', async () => {
    const change = await route53.send(new ChangeResourceRecordSetsCommand({
      HostedZoneId: zoneId,
      ChangeBatch: { Changes: [{ Action: 'CREATE', ResourceRecordSet: { Name: 'x.example.com', Type: 'A', TTL: 60, ResourceRecords: [{ Value: '192.0.2.9' }] } }] },
    }));
    const sleep = jest.fn(async () => {});

    await ts.waitForChange(clients.get(Route53Client, { region: 'us-east-1' }), change.ChangeInfo!.Id, 'route53 x.example.com. A', { sleep });

    expect(sleep).not.toHaveBeenCalled();
  });
});

describe('ssm-parameter', () => {
  beforeEach(async () => {
    for (const region of [REGION, OTHER_REGION]) {
      await ssm(region).send(new PutParameterCommand({ Name: `/app/${region}/live-slot`, Type: 'String', Value: 'blue' }));
    }
  });

  test('writes the slot to the parameter in its own region and leaves the other region alone', async () => {
    const outcome = await switchTo(PARAMETER, OTHER_REGION, 'green');

    expect(outcome).toEqual({ region: OTHER_REGION, liveSlot: 'green', previousSlot: 'blue', changed: true, target: 'ssm /app/ap-southeast-2/live-slot' });
    expect(await parameter(OTHER_REGION, '/app/ap-southeast-2/live-slot')).toMatchObject({ value: 'green', type: 'String', version: 2 });
    expect(await parameter(REGION, '/app/eu-west-1/live-slot')).toMatchObject({ value: 'blue', version: 1 });
    // Written in its own region only: no parameter of that name appeared in the function's region.
    expect(await parameter(REGION, '/app/ap-southeast-2/live-slot')).toEqual({});
  });

  test('leaves a parameter that holds the slot already as it is', async () => {
    const outcome = await switchTo(PARAMETER, REGION, 'blue');

    expect(outcome).toEqual({ region: REGION, liveSlot: 'blue', previousSlot: 'blue', changed: false, target: 'ssm /app/eu-west-1/live-slot' });
    expect(await parameter(REGION, '/app/eu-west-1/live-slot')).toMatchObject({ value: 'blue', version: 1 });
  });

  test('creates a missing parameter as a String; the previous slot is then unknown', async () => {
    const config: SsmParameterSwitchConfig = { type: 'ssm-parameter', parameterName: '/new/{region}/live-slot' };

    const outcome = await switchTo(config, REGION, 'green');

    expect(outcome).toEqual({ region: REGION, liveSlot: 'green', changed: true, target: 'ssm /new/eu-west-1/live-slot' });
    expect(await parameter(REGION, '/new/eu-west-1/live-slot')).toEqual({ value: 'green', type: 'String', version: 1 });
  });

  test('overwrites a value that is no slot name without reporting it as the previous slot', async () => {
    await ssm(REGION).send(new PutParameterCommand({ Name: '/app/eu-west-1/live-slot', Type: 'String', Value: 'purple', Overwrite: true }));

    const outcome = await switchTo(PARAMETER, REGION, 'green');

    expect(outcome).toEqual({ region: REGION, liveSlot: 'green', changed: true, target: 'ssm /app/eu-west-1/live-slot' });
    expect((await parameter(REGION, '/app/eu-west-1/live-slot')).value).toBe('green');
  });
});

describe('handleTrafficSwitchJob', () => {
  test('in a ROLLBACK execution sends traffic to blue even though the action asks for green', async () => {
    await createPair('api.eu-west-1.example.com', 0, 100);
    pipelineRuns('ROLLBACK');
    const mark = output.lines.length;

    const outcome = await runJob(job({ region: REGION, slot: 'green' }), weighted());

    expect(outcome).toMatchObject({ liveSlot: 'blue', previousSlot: 'green', changed: true });
    expect(await weights('api.eu-west-1.example.com')).toEqual({ blue: 100, green: 0 });
    expect(successInput()).toEqual([{
      jobId: 'job-1',
      executionDetails: { summary: expect.stringContaining('rollback'), percentComplete: 100 },
      outputVariables: { LiveSlot: 'blue', PreviousSlot: 'green' },
    }]);
    expect(failureInput()).toEqual([]);
    const log = output.logs(mark).find((l) => l.message === 'traffic switched');
    expect(log).toMatchObject({
      region: REGION,
      requestedSlot: 'green',
      targetSlot: 'blue',
      executionType: 'ROLLBACK',
      changed: true,
      target: 'route53 api.eu-west-1.example.com. A',
    });
    expect(output.metricSum(PipelineMetric.TRAFFIC_SWITCHED, { service: SERVICE }, mark)).toBe(1);
    expect(output.metricSum(PipelineMetric.TRAFFIC_SWITCHED, { service: SERVICE, [REGION_DIMENSION]: REGION }, mark)).toBe(1);
    expect(output.metricSum(PipelineMetric.TRAFFIC_SWITCH_FAILED, { service: SERVICE }, mark)).toBe(0);
  });

  test('in a STANDARD execution sends traffic to the slot the action asks for', async () => {
    await createPair('api.eu-west-1.example.com', 100, 0);
    pipelineRuns('STANDARD');

    const outcome = await runJob(job({ region: REGION, slot: 'green' }), weighted());

    expect(outcome).toMatchObject({ liveSlot: 'green', previousSlot: 'blue', changed: true });
    expect(await weights('api.eu-west-1.example.com')).toEqual({ blue: 0, green: 100 });
    expect(successInput()[0].outputVariables).toEqual({ LiveSlot: 'green', PreviousSlot: 'blue' });
    const getExecution = codepipeline.commandCalls(GetPipelineExecutionCommand);
    expect(getExecution.map((c) => c.args[0].input)).toEqual([{ pipelineName: PIPELINE, pipelineExecutionId: EXECUTION_ID }]);
  });

  test('reports PreviousSlot unknown when the parameter did not exist', async () => {
    pipelineRuns('STANDARD');
    const config: SsmParameterSwitchConfig = { type: 'ssm-parameter', parameterName: '/fresh/{region}/live-slot' };

    await runJob(job({ region: OTHER_REGION, slot: 'green' }), config);

    expect(successInput()[0].outputVariables).toEqual({ LiveSlot: 'green', PreviousSlot: 'unknown' });
    expect((await parameter(OTHER_REGION, '/fresh/ap-southeast-2/live-slot')).value).toBe('green');
  });

  test('a Route 53 failure fails the job with the error name and target, and counts TrafficSwitchFailed', async () => {
    pipelineRuns('STANDARD');
    const mark = output.lines.length;

    const outcome = await runJob(job({ region: REGION, slot: 'green' }), weighted({ hostedZoneId: 'ZNOSUCHZONE000' }));

    expect(outcome).toBeUndefined();
    expect(successInput()).toEqual([]);
    expect(failureInput()).toEqual([{
      jobId: 'job-1',
      failureDetails: { type: 'JobFailed', message: 'switching eu-west-1 to green failed (route53 api.eu-west-1.example.com. A): NoSuchHostedZone (HTTP 404)' },
    }]);
    expect(output.logs(mark).find((l) => l.message === 'traffic switch failed')).toMatchObject({
      region: REGION, requestedSlot: 'green', targetSlot: 'green', executionType: 'STANDARD', errorName: 'NoSuchHostedZone',
    });
    expect(output.metricSum(PipelineMetric.TRAFFIC_SWITCH_FAILED, { service: SERVICE }, mark)).toBe(1);
    expect(output.metricSum(PipelineMetric.TRAFFIC_SWITCH_FAILED, { service: SERVICE, [REGION_DIMENSION]: REGION }, mark)).toBe(1);
    expect(output.metricSum(PipelineMetric.TRAFFIC_SWITCHED, { service: SERVICE }, mark)).toBe(0);
  });

  test('a missing set identifier fails the job with the message naming the record', async () => {
    await createPair('api.eu-west-1.example.com', 100, 0);
    pipelineRuns('STANDARD');

    await runJob(job({ region: REGION, slot: 'green' }), weighted({ setIdentifiers: { blue: 'blue', green: 'candidate' } }));

    expect(failureInput()[0].failureDetails).toEqual({
      type: 'JobFailed',
      message: expect.stringContaining('has no record with set identifier "candidate" (the green slot)'),
    });
  });

  test.each([
    [{ region: 'Europe', slot: 'green' }, 'field "region" must be an AWS region'],
    [{ region: REGION, slot: 'purple' }, 'field "slot" must be "blue" or "green"'],
    [{ slot: 'green' }, 'field "region"'],
    [['eu-west-1', 'green'], 'must be a JSON object'],
    ['not json', 'are not JSON'],
  ])('bad parameters %j fail the job as a ConfigurationError without touching traffic', async (params, message) => {
    await createPair('api.eu-west-1.example.com', 100, 0);
    pipelineRuns('STANDARD');
    const mark = output.lines.length;

    const outcome = await runJob(job(params), weighted());

    expect(outcome).toBeUndefined();
    expect(failureInput()).toEqual([{ jobId: 'job-1', failureDetails: { type: 'ConfigurationError', message: expect.stringContaining(message) } }]);
    expect(codepipeline.commandCalls(GetJobDetailsCommand)).toHaveLength(0);
    expect(await weights('api.eu-west-1.example.com')).toEqual({ blue: 100, green: 0 });
    expect(output.metricSum(PipelineMetric.TRAFFIC_SWITCH_FAILED, { service: SERVICE }, mark)).toBe(1);
  });

  test('an event without a job id throws and reports nothing', async () => {
    pipelineRuns('STANDARD');

    await expect(runJob({ 'CodePipeline.job': { data: {} } }, weighted())).rejects.toThrow('"CodePipeline.job".id is missing');
    expect(successInput()).toEqual([]);
    expect(failureInput()).toEqual([]);
  });

  test('a PutJobSuccessResult failure propagates, after the switch was made', async () => {
    await createPair('api.eu-west-1.example.com', 100, 0);
    pipelineRuns('STANDARD');
    codepipeline.on(PutJobSuccessResultCommand).rejects(Object.assign(new Error('job is not in progress'), { name: 'InvalidJobStateException' }));

    await expect(runJob(job({ region: REGION, slot: 'green' }), weighted())).rejects.toThrow('job is not in progress');
    expect(failureInput()).toEqual([]);
    expect(await weights('api.eu-west-1.example.com')).toEqual({ blue: 0, green: 100 });
  });
});

/**
 * The switch configuration each test ran with, as the pipeline deploys it: its role gets the
 * statements of `TrafficSwitch._grant`, which MultiRegionPipeline applies to the switch function's
 * role for the pipeline's regions (test/iam/iam-evaluation.test.ts evaluates the whole pipeline).
 * Each test creates its own hosted zone, so the zone is the one the test's calls name.
 */
function deployedConfigurations(calls: RecordedCall[]): EvaluationGroup[] {
  const byGroup = new Map<string, RecordedCall[]>();
  for (const call of calls) {
    const zone = /hostedzone\/([^/]+)$/.exec(call.resource)?.[1] ?? '';
    const key = JSON.stringify([call.test ?? '', call.action.startsWith('ssm:') ? 'ssm' : 'route53', call.action.startsWith('route53:') ? zone : '']);
    byGroup.set(key, [...(byGroup.get(key) ?? []), call]);
  }
  const groups: EvaluationGroup[] = [];
  for (const [key, own] of byGroup) {
    const [test, service, recordedZone] = JSON.parse(key) as [string, string, string];
    const zone = recordedZone || /hostedzone\/([^/]+)$/.exec(calls.find((c) => c.test === test && c.resource.includes(':hostedzone/'))?.resource ?? '')?.[1] || 'ZUNUSED';
    const app = new App();
    const stack = new Stack(app, 'IamEvaluation', { env: { account: '123456789012', region: 'us-east-1' } });
    const role = new iam.Role(stack, 'SwitchRole', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
    const hostedZone = cdkRoute53.HostedZone.fromHostedZoneAttributes(stack, 'Zone', { hostedZoneId: zone, zoneName: 'example.com' });
    const route53Options = test.includes('keeps the AliasTarget') ? { recordName: 'WWW.{region}.Example.com.' }
      : test.includes('switches a CNAME pair') ? { recordName: 'app.{region}.example.com', recordType: cdkRoute53.RecordType.CNAME }
        : { recordName: 'api.{region}.example.com' };
    const parameterName = test.includes('creates a missing parameter') ? '/new/{region}/live-slot'
      : test.includes('reports PreviousSlot unknown') ? '/fresh/{region}/live-slot'
        : PARAMETER.parameterName;
    const trafficSwitch = service === 'ssm'
      ? TrafficSwitch.ssmParameter({ parameterName })
      : TrafficSwitch.route53WeightedRecords({ hostedZone, ...route53Options });
    (trafficSwitch as any)._grant(role, ['us-east-1', REGION, OTHER_REGION], '123456789012', 'aws');
    groups.push({
      role: `traffic switch (${service}) ${test}`,
      calls: own,
      target: { template: app.synth().getStackByName(stack.stackName).template, roleLogicalId: stack.getLogicalId(role.node.defaultChild as CfnElement), region: 'us-east-1' },
    });
  }
  return groups;
}

test('every call the switch made is allowed by the role policies of its configuration', async () => {
  const calls = await recorder.calls();
  expect(calls.filter((c) => c.action === 'route53:ChangeResourceRecordSets').length).toBeGreaterThan(5);
  await recorder.writeJsonLines(`${process.env.IAM_RECORDING_DIR ?? tmpdir()}/iam-calls-traffic-switch.jsonl`);
  const { summary, failures } = await evaluateGroups(deployedConfigurations(calls));
  output.stop();
  console.log([summary[summary.length - 1], ...failures.map((f) => `  ${f}`)].join('\n'));
  output.start();
  expect(failures).toEqual([]);
}, 120_000);

test('no record value appears in any log line, metric, result or error', () => {
  // Sanity: the scan sees the switch's logs and results.
  expect(output.logs().some((l) => l.message === 'traffic switched')).toBe(true);
  expect(results.length).toBeGreaterThan(20);
  const leaks = [...output.lines, ...results].filter((line) => line.includes(RECORD_VALUE_PREFIX) || line.includes('elb.amazonaws.com') || line.includes('example.net'));
  expect(leaks).toEqual([]);
});
