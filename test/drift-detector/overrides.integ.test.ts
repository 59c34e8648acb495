/**
 * The drift detector handler against moto with declared per-region parameter values: a replica
 * holding its override is not drift, one holding the primary's value instead is, and APPLY
 * remediation writes the override (never the primary's value) into that region. Runs on the Lambda
 * runtime's Node major. moto gap: it keeps no parameter tiers or policies; neither is compared here.
 */
import { DeleteParameterCommand } from '@aws-sdk/client-ssm';
import { ConfigWorld } from './world';
import { DriftEnv } from '../../src/drift-detector/contract';
import { applyEnv, awsTestEnv, MotoServer, startMotoServer } from '../harness/moto';
import { OutputCapture, recordingHandlers, TestHandler } from '../harness/world';

const PRIMARY = 'us-east-1';
const EU = 'eu-west-1';
const AP = 'ap-southeast-2';
const BUCKET = 'override-drift-reports';

let moto: MotoServer;
let restoreEnv: () => void;
let world: ConfigWorld;
const output = new OutputCapture();
const results: string[] = [];
let createHandler: (env: NodeJS.ProcessEnv) => TestHandler;
let endpointPrimary: string;
let endpointEu: string;
let amiEu: string;

function env(overrides: Record<string, string> = {}): NodeJS.ProcessEnv {
  return {
    ...process.env,
    [DriftEnv.PRIMARY_REGION]: PRIMARY,
    [DriftEnv.REPLICA_TARGETS]: JSON.stringify([{ region: EU }, { region: AP }]),
    [DriftEnv.PARAMETER_PATHS]: JSON.stringify(['/ovr']),
    [DriftEnv.PARAMETER_OVERRIDES]: JSON.stringify([
      { name: '/ovr/endpoint', region: EU, value: endpointEu },
      { name: '/ovr/endpoint', region: AP, value: endpointPrimary.replace('us-east-1', AP) },
      { name: '/ovr/ami', region: EU, value: amiEu },
    ]),
    [DriftEnv.GRACE_WINDOW_SECONDS]: '0',
    [DriftEnv.REPORT_BUCKET]: BUCKET,
    ...overrides,
  };
}

const drifts = (result: any) => result.drifts.map((d: any) => `${d.name} ${d.driftType} ${d.replicaRegion}`
  + (d.autoRemediation ? ` ${d.autoRemediation.status}` : ''));

beforeAll(async () => {
  moto = await startMotoServer();
  restoreEnv = applyEnv({
    ...awsTestEnv(moto.endpoint, PRIMARY),
    POWERTOOLS_SERVICE_NAME: 'OverrideDriftTest',
    POWERTOOLS_METRICS_NAMESPACE: 'Test/ConfigurationDrift',
  });
  world = new ConfigWorld(moto.endpoint);
  await world.createBucket(PRIMARY, BUCKET);
  endpointPrimary = `https://api.us-east-1.${world.newValue('host')}.example.com`;
  endpointEu = endpointPrimary.replace('us-east-1', EU);
  amiEu = world.newValue('ami-eu');
  const flag = world.newValue('flag');
  const amiPrimary = world.newValue('ami-us');
  await world.putParameter(PRIMARY, '/ovr/endpoint', endpointPrimary);
  await world.putParameter(PRIMARY, '/ovr/ami', amiPrimary);
  await world.putParameter(PRIMARY, '/ovr/flag', flag);
  // eu-west-1 honours both overrides; ap-southeast-2 holds the primary's endpoint instead of its own
  // and (no override declared for it) the primary's AMI id.
  await world.putParameter(EU, '/ovr/endpoint', endpointEu);
  await world.putParameter(EU, '/ovr/ami', amiEu);
  await world.putParameter(EU, '/ovr/flag', flag);
  await world.putParameter(AP, '/ovr/endpoint', endpointPrimary);
  await world.putParameter(AP, '/ovr/ami', amiPrimary);
  await world.putParameter(AP, '/ovr/flag', flag);
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  createHandler = recordingHandlers(require('../../lambda-src/drift-detector/handler').createHandler, results);
  output.start();
}, 300_000);

afterAll(async () => {
  output.stop();
  await moto?.stop();
  restoreEnv?.();
});

test('an honoured override is not drift; the primary value where an override is declared is VALUE_MISMATCH', async () => {
  const result = await createHandler(env())({ action: 'manual_check' });
  expect(drifts(result)).toEqual([`/ovr/endpoint VALUE_MISMATCH ${AP}`]);
  expect(result.summary).toMatchObject({ itemsCompared: 6 });
});

test('without the declarations the same regions report the overridden values as drift', async () => {
  const { [DriftEnv.PARAMETER_OVERRIDES]: _, ...withoutOverrides } = env();
  const result = await createHandler(withoutOverrides)({ action: 'manual_check' });
  expect(drifts(result)).toEqual([`/ovr/ami VALUE_MISMATCH ${EU}`, `/ovr/endpoint VALUE_MISMATCH ${EU}`]);
});

test('DRY_RUN changes nothing; APPLY writes the override into its region, and the next scan is clean', async () => {
  const dry = await createHandler(env({ [DriftEnv.REMEDIATION_MODE]: 'DRY_RUN' }))({ action: 'manual_check' });
  expect(drifts(dry)).toEqual([`/ovr/endpoint VALUE_MISMATCH ${AP} would-repair`]);
  expect((await world.parameter(AP, '/ovr/endpoint'))?.value).toBe(endpointPrimary);

  const applied = await createHandler(env({ [DriftEnv.REMEDIATION_MODE]: 'APPLY' }))({ action: 'manual_check' });
  expect(drifts(applied)).toEqual([`/ovr/endpoint VALUE_MISMATCH ${AP} repaired`]);
  expect((await world.parameter(AP, '/ovr/endpoint'))?.value).toBe(endpointPrimary.replace('us-east-1', AP));
  // Untouched: the primary and the region that already held its override.
  expect((await world.parameter(PRIMARY, '/ovr/endpoint'))?.value).toBe(endpointPrimary);
  expect((await world.parameter(EU, '/ovr/endpoint'))?.value).toBe(endpointEu);

  const after = await createHandler(env())({ action: 'manual_check' });
  expect(drifts(after)).toEqual([]);
});

test('a deleted replica of an overridden parameter is MISSING_IN_REPLICA and APPLY recreates it with the override', async () => {
  await world.ssm(EU).send(new DeleteParameterCommand({ Name: '/ovr/ami' }));
  const applied = await createHandler(env({ [DriftEnv.REMEDIATION_MODE]: 'APPLY' }))({ action: 'manual_check' });
  expect(drifts(applied)).toEqual([`/ovr/ami MISSING_IN_REPLICA ${EU} repaired`]);
  expect((await world.parameter(EU, '/ovr/ami'))?.value).toBe(amiEu);
});

test('no parameter value, declared or read, appears in any log line, metric, result or report', async () => {
  const reports: string[] = [];
  for (const key of await world.keys(PRIMARY, BUCKET, 'drift-reports/')) reports.push(await world.objectText(PRIMARY, BUCKET, key));
  const haystacks = [...output.lines, ...results, ...reports];
  expect(haystacks.length).toBeGreaterThan(10);
  expect(world.issuedValues.filter((v) => haystacks.some((h) => h.includes(v)))).toEqual([]);
});
