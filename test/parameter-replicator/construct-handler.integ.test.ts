/**
 * The construct and its handler together: the handler runs against moto with the environment the
 * construct synthesizes (only the provenance key's ARN, a deploy-time value, is filled in), every
 * AWS call it makes is recorded through the fault proxy, and each recorded call is evaluated offline
 * against the role policies the construct synthesized (test/harness/iam-evaluation.ts). moto
 * enforces no IAM: the evaluation is what shows the role allows what the handler does, and the
 * negatives show it allows nothing outside the selected paths.
 */
import { CreateSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { CfnElement, App, Duration, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { parameterEvent, ParametersWorld } from './world';
import { ConfigParityCheck, ConflictPolicy, CrossRegionParameterReplicator, ParameterOverride, ParameterSelection } from '../../src';
import { ParameterReplicatorEnv as Env } from '../../src/parameter-replicator/contract';
import { ParityEnv } from '../../src/parity-check/contract';
import { FaultProxy, startFaultProxy } from '../harness/fault-proxy';
import { evaluateRole, formatSummary, negative } from '../harness/iam-evaluation';
import { IamRecorder, MOTO_ACCOUNT } from '../harness/iam-recorder';
import { MotoServer, startMotoServer } from '../harness/moto';
import { OutputCapture } from '../harness/world';

const PRIMARY = 'us-east-1';
const EU = 'eu-west-1';
const AP = 'ap-southeast-2';
const HMAC_KEY = 'construct-handler-provenance-key-0123456789abcdef0123';

let moto: MotoServer;
let proxy: FaultProxy;
let recorder: IamRecorder;
let world: ParametersWorld;
let keyArn: string;
const output = new OutputCapture();
const savedEnv = { ...process.env };
let createHandler: (env: NodeJS.ProcessEnv) => (event: unknown) => Promise<any>;

/** The replicator under test, in `stack`. */
function replicatorIn(stack: Stack): CrossRegionParameterReplicator {
  return new CrossRegionParameterReplicator(stack, 'Replicator', {
    parameters: ParameterSelection.fromPaths(['/ch/app'], { excludedPaths: ['/ch/app/local'] }),
    replicaRegions: [EU, AP],
    overrides: [ParameterOverride.template('/ch/app/endpoint', 'https://api.{region}.example.com')],
    conflictPolicy: ConflictPolicy.PRIMARY_WINS,
    propagateDeletions: true,
    maxWritesPerSecond: 50,
    parameterPrefix: '/ch-settings/production',
  });
}

/** The construct under test, its synthesized template and role, and the handler environment it synthesizes. */
function synthesize() {
  const app = new App();
  const stack = new Stack(app, 'ConstructHandler', { env: { account: MOTO_ACCOUNT, region: PRIMARY } });
  const replicator = replicatorIn(stack);
  const template = Template.fromStack(stack).toJSON();
  const [fn] = Object.values(Template.fromStack(stack).findResources('AWS::Lambda::Function')) as any[];
  const variables: Record<string, unknown> = fn.Properties.Environment.Variables;
  // Everything the construct passes is a literal, except the provenance key's ARN (a Ref).
  const environment = Object.fromEntries(Object.entries(variables).filter(([, v]) => typeof v === 'string')) as Record<string, string>;
  expect(Object.keys(variables).filter((k) => typeof variables[k] !== 'string')).toEqual([Env.PROVENANCE_KEY_SECRET_ARN]);
  const target = { template, roleLogicalId: stack.getLogicalId(replicator.role.node.defaultChild as CfnElement), region: PRIMARY };
  // The ARN the evaluation gives the template's provenance key secret (test/harness/iam-evaluation.ts).
  const documentValue = (Object.values(template.Resources) as any[]).find((r) => r.Type === 'AWS::SSM::Parameter').Properties.Value as string;
  const provenanceKeyArn = `arn:aws:secretsmanager:${PRIMARY}:${MOTO_ACCOUNT}:secret:${stack.getLogicalId(replicator.provenanceKey.node.defaultChild as CfnElement)}-AbCdEf`;
  return { environment, target, provenanceKeyArn, documentValue };
}

const construct = synthesize();
const handlerEnv = (): NodeJS.ProcessEnv => ({ ...process.env, ...construct.environment, [Env.PROVENANCE_KEY_SECRET_ARN]: keyArn });

beforeAll(async () => {
  moto = await startMotoServer();
  proxy = await startFaultProxy({ target: moto.endpoint, seed: 23, ssmStandIns: { tierLimits: true } });
  recorder = new IamRecorder(moto.endpoint);
  recorder.attach(proxy);
  Object.assign(process.env, {
    AWS_ENDPOINT_URL: proxy.endpoint, AWS_ACCESS_KEY_ID: 'testing', AWS_SECRET_ACCESS_KEY: 'testing', AWS_REGION: PRIMARY,
  });
  delete process.env.AWS_SESSION_TOKEN;
  delete process.env.AWS_PROFILE;
  world = new ParametersWorld(moto.endpoint);
  const sm = new SecretsManagerClient({ region: PRIMARY, endpoint: moto.endpoint, credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' } });
  keyArn = (await sm.send(new CreateSecretCommand({ Name: 'ReplicatorProvenanceKey', SecretString: HMAC_KEY }))).ARN!;
  world.values.add(HMAC_KEY);
  // The settings document as CloudFormation creates it, for the handler to keep lastSyncTimestamp current.
  await world.put(PRIMARY, { Name: construct.environment[Env.CONFIG_PARAMETER_NAME], Value: construct.documentValue });
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  createHandler = require('../../lambda-src/parameter-replicator/handler').createHandler;
  output.start();
}, 60_000);

afterAll(async () => {
  output.stop();
  await proxy?.stop();
  await moto?.stop();
  process.env = savedEnv;
});

test('with the synthesized environment the handler replicates the selection, writes the override and leaves the rest alone', async () => {
  const url = world.newValue('url');
  const hosts = world.newValue('hosts');
  await world.put(PRIMARY, { Name: '/ch/app/db/url', Value: url });
  await world.put(PRIMARY, { Name: '/ch/app/hosts', Value: `${hosts},b,c`, Type: 'StringList' });
  await world.put(PRIMARY, { Name: '/ch/app/endpoint', Value: 'https://api.us-east-1.example.com' });
  await world.put(PRIMARY, { Name: '/ch/app/local/debug', Value: world.newValue('local') });
  await world.put(PRIMARY, { Name: '/ch/other/x', Value: world.newValue('other') });

  const summary = await createHandler(handlerEnv())({ action: 'reconcile' });
  expect(summary.failures).toEqual([]);
  // A reconcile in which every region agreed sets lastSyncTimestamp in the construct's settings document.
  const document = JSON.parse((await world.get(PRIMARY, construct.environment[Env.CONFIG_PARAMETER_NAME]))!.Value);
  expect(document).toMatchObject({ primaryRegion: PRIMARY, replicationRegions: [EU, AP], lastSyncTimestamp: expect.stringMatching(/^\d{4}-\d\d-\d\dT/) });
  for (const region of [EU, AP]) {
    expect((await world.get(region, '/ch/app/db/url'))?.Value).toBe(url);
    expect((await world.get(region, '/ch/app/hosts'))?.Type).toBe('StringList');
    expect((await world.get(region, '/ch/app/endpoint'))?.Value).toBe(`https://api.${region}.example.com`);
    expect(await world.get(region, '/ch/app/local/debug')).toBeUndefined();
    expect(await world.get(region, '/ch/other/x')).toBeUndefined();
  }
});

test('an update event and a deletion event (propagateDeletions) reach every replica region', async () => {
  const next = world.newValue('url-v2');
  await world.put(PRIMARY, { Name: '/ch/app/db/url', Value: next, Overwrite: true });
  await createHandler(handlerEnv())(parameterEvent('/ch/app/db/url', 'Update'));
  for (const region of [EU, AP]) expect((await world.get(region, '/ch/app/db/url'))?.Value).toBe(next);

  await world.delete(PRIMARY, '/ch/app/hosts');
  await createHandler(handlerEnv())(parameterEvent('/ch/app/hosts', 'Delete', 'StringList'));
  for (const region of [EU, AP]) expect(await world.get(region, '/ch/app/hosts')).toBeUndefined();
});

test('every call the handler made is allowed by the synthesized role; calls outside the selection are not', async () => {
  // The emulator's provenance key secret stands for the one the template deploys.
  const calls = (await recorder.calls()).map((c) => (c.resource === keyArn ? { ...c, resource: construct.provenanceKeyArn } : c));
  expect(calls.length).toBeGreaterThan(20);
  const other = (region: string, name: string) => `arn:aws:ssm:${region}:${MOTO_ACCOUNT}:parameter${name}`;
  const result = await evaluateRole('parameter replicator (construct + handler)', construct.target, calls, [
    negative('read a parameter outside the paths', 'ssm:GetParameter', other(PRIMARY, '/ch/other/x'), PRIMARY),
    negative('write the selected path in the primary region', 'ssm:PutParameter', other(PRIMARY, '/ch/app/db/url'), PRIMARY),
    negative('write outside the paths in a replica region', 'ssm:PutParameter', other(EU, '/ch/other/x'), EU),
    negative('delete outside the paths in a replica region', 'ssm:DeleteParameter', other(AP, '/ch/other/x'), AP),
    negative('write the selected path in a region that is not a replica region', 'ssm:PutParameter', other('us-west-2', '/ch/app/db/url'), 'us-west-2'),
  ]);
  output.stop();
  console.log(formatSummary(result.summary));
  output.start();
  expect(result.deniedCalls).toEqual([]);
  expect(result.allowedNegatives).toEqual([]);
  expect(result.ignoredKeys).toEqual([]);
  // Every kind of call was seen: reads in the primary, writes, tags and deletions in the replicas.
  const actions = new Set(calls.map((c) => c.action));
  const documentCalls = calls.filter((c) => c.resource.endsWith(':parameter/ch-settings/production/global/secrets/parameter-replication-config'));
  expect([...new Set(documentCalls.map((c) => c.action))].sort()).toEqual(['ssm:GetParameter', 'ssm:PutParameter']);
  for (const action of ['ssm:GetParametersByPath', 'ssm:GetParameters', 'ssm:PutParameter', 'ssm:AddTagsToResource', 'ssm:DeleteParameter', 'secretsmanager:GetSecretValue']) {
    expect({ action, seen: actions.has(action) }).toEqual({ action, seen: true });
  }
});

test('a parity check built from the replicator agrees with what it wrote: its override and excluded path are expected, a replica holding the primary\'s value is not', async () => {
  // The same replicator in another app, with a ConfigParityCheck given it (what the check inherits is in its environment).
  const stack = new Stack(new App(), 'Parity', { env: { account: MOTO_ACCOUNT, region: PRIMARY } });
  const replicator = replicatorIn(stack);
  new ConfigParityCheck(stack, 'Parity', { parameterReplicator: replicator, graceWindow: Duration.seconds(0) });
  const [fn] = Object.values(Template.fromStack(stack).findResources('AWS::Lambda::Function', {
    Properties: { Environment: { Variables: { [ParityEnv.TARGETS]: Match.anyValue() } } },
  })) as any[];
  const variables: Record<string, unknown> = fn.Properties.Environment.Variables;
  // Every variable is a literal but the replicator's settings parameter name (a Ref), filled in as CloudFormation would.
  expect(Object.keys(variables).filter((k) => typeof variables[k] !== 'string')).toEqual([ParityEnv.EXCLUDED_PARAMETERS]);
  const parityEnv = {
    ...process.env,
    ...Object.fromEntries(Object.entries(variables).filter(([, v]) => typeof v === 'string')) as Record<string, string>,
    [ParityEnv.EXCLUDED_PARAMETERS]: JSON.stringify([construct.environment[Env.CONFIG_PARAMETER_NAME]]),
  };
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const check = require('../../lambda-src/parity-check/handler').createHandler(parityEnv);

  // After the reconcile above: every replica holds the primary's value or its declared one; /ch/app/local is primary-only.
  for (const region of [EU, AP]) expect(await check({ action: 'check', region })).toMatchObject({ verdict: 'PASS', complete: true, differences: [] });

  await world.put(EU, { Name: '/ch/app/endpoint', Value: 'https://api.us-east-1.example.com', Overwrite: true });
  const eu = await check({ action: 'check', region: EU });
  expect(eu).toMatchObject({ verdict: 'FAIL', differences: [{ kind: 'parameter', name: '/ch/app/endpoint', driftType: 'VALUE_MISMATCH' }] });
  expect(await check({ action: 'check', region: AP })).toMatchObject({ verdict: 'PASS' });

  // The replicator's reconcile writes the declared value back, and the region agrees again.
  expect((await createHandler(handlerEnv())({ action: 'reconcile' })).failures).toEqual([]);
  expect((await world.get(EU, '/ch/app/endpoint'))?.Value).toBe(`https://api.${EU}.example.com`);
  expect(await check({ action: 'check', region: EU })).toMatchObject({ verdict: 'PASS', differences: [] });
});

test('no parameter value appears in any log line', () => {
  const lines = output.lines.join('\n');
  expect([...world.values].filter((v) => lines.includes(v)).length).toBe(0);
});
