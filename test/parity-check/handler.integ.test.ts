/**
 * The parity check handler end to end against moto server (one primary, two checked regions)
 * through the fault-injecting proxy, with the fake CodePipeline answering the job results: a
 * missing secret blocks a region's gate by name and passes once repaired, declared per-region
 * parameter values are the expected values, an unreadable region fails closed (or open when told),
 * the grace window, the ARC Region switch step, the schedule's metrics, a check stopped at a
 * cursor and resumed, and a scan of every output line for values.
 */
import { tmpdir } from 'node:os';
import { CreateSecretCommand, DeleteSecretCommand } from '@aws-sdk/client-secrets-manager';
import { App, CfnElement, Stack } from 'aws-cdk-lib';
import { ConfigParityCheck, ParameterOverride, SecretSelection } from '../../src';
import { ParityEnv } from '../../src/parity-check/contract';
import { ConfigWorld, inParallel } from '../drift-detector/world';
import { FakeCodePipeline, startFakeCodePipeline } from '../harness/fake-codepipeline';
import { startFaultProxy } from '../harness/fault-proxy';
import { evaluateGroups } from '../harness/iam-evaluation';
import { IamRecorder } from '../harness/iam-recorder';
import { startMotoServer } from '../harness/moto';
import { OutputCapture, recordingHandlers, TestHandler } from '../harness/world';

const PRIMARY = 'us-east-1';
const EU = 'eu-west-1';
const AP = 'ap-southeast-2';
/** The `service` of the handler: the evaluated stack's own, so that the run lease's parameter path is the one its policy names. */
let SERVICE = 'ParityCheckUnderTest';
const NAMESPACE = 'Test/ConfigParity';
const SECRETS = 30;
const PARAMETERS = 40;
const OVERRIDDEN = '/app/regional/endpoint';

let moto: Awaited<ReturnType<typeof startMotoServer>>;
let proxy: Awaited<ReturnType<typeof startFaultProxy>>;
let codepipeline: FakeCodePipeline;
let world: ConfigWorld;
let recorder: IamRecorder;
let euValue: string;
let apValue: string;
let primaryValue: string;
const output = new OutputCapture();
const results: string[] = [];
const savedEnv = { ...process.env };
let createHandler: (env: NodeJS.ProcessEnv, deps?: any) => TestHandler;

const secretName = (i: number) => `app/s${String(i).padStart(3, '0')}`;
const parameterName = (i: number) => `/app/p${String(i).padStart(3, '0')}`;

function env(overrides: Record<string, string> = {}): NodeJS.ProcessEnv {
  return {
    ...process.env,
    [ParityEnv.PRIMARY_REGION]: PRIMARY,
    [ParityEnv.TARGETS]: JSON.stringify([{ region: EU }, { region: AP }]),
    [ParityEnv.SECRET_SELECTION]: JSON.stringify({ rules: [{ namePrefixes: ['app/'] }] }),
    [ParityEnv.PARAMETER_PATHS]: JSON.stringify(['/app']),
    [ParityEnv.PARAMETER_OVERRIDES]: JSON.stringify([
      { name: OVERRIDDEN, region: EU, value: euValue },
      { name: OVERRIDDEN, region: AP, value: apValue },
    ]),
    [ParityEnv.GRACE_WINDOW_SECONDS]: '0',
    ...overrides,
  };
}

function job(region: string | undefined, id = `job-${Math.random().toString(36).slice(2)}`) {
  return {
    'CodePipeline.job': {
      id,
      accountId: '123456789012',
      data: {
        actionConfiguration: { configuration: { FunctionName: 'parity', ...(region ? { UserParameters: JSON.stringify({ region }) } : {}) } },
        inputArtifacts: [],
        outputArtifacts: [],
        // The rule's event carries temporary credentials: the handler must never log or return them.
        artifactCredentials: { accessKeyId: 'AKIAEXAMPLECREDENTIAL', secretAccessKey: 'artifact-secret-Zq9', sessionToken: 'artifact-token-Zq9' },
      },
    },
  };
}

const names = (result: any) => result.differences.map((d: any) => `${d.kind} ${d.name} ${d.driftType}`).sort();

beforeAll(async () => {
  moto = await startMotoServer();
  proxy = await startFaultProxy({ target: moto.endpoint, seed: 18 });
  codepipeline = await startFakeCodePipeline();
  recorder = new IamRecorder(moto.endpoint);
  recorder.attach(proxy);
  SERVICE = evaluationStack().check.serviceName;
  Object.assign(process.env, {
    AWS_ENDPOINT_URL: proxy.endpoint,
    AWS_ENDPOINT_URL_CODEPIPELINE: codepipeline.endpoint,
    AWS_ACCESS_KEY_ID: 'testing',
    AWS_SECRET_ACCESS_KEY: 'testing',
    AWS_REGION: PRIMARY,
    [ParityEnv.METRIC_NAMESPACE]: NAMESPACE,
    [ParityEnv.SERVICE_NAME]: SERVICE,
  });
  delete process.env.AWS_SESSION_TOKEN;
  delete process.env.AWS_PROFILE;
  world = new ConfigWorld(moto.endpoint);
  euValue = world.newValue('eu-endpoint');
  apValue = world.newValue('ap-endpoint');
  primaryValue = world.newValue('us-endpoint');
  const secretValues = Array.from({ length: SECRETS }, (_, i) => world.newValue(`secret${i}`));
  await inParallel([...Array(SECRETS).keys()], 8, async (i) => {
    for (const region of [PRIMARY, EU, AP]) {
      if (i === 7 && region === EU) continue; // the missing secret
      await world.client(region).send(new CreateSecretCommand({ Name: secretName(i), SecretString: secretValues[i] }));
    }
  });
  const parameterValues = Array.from({ length: PARAMETERS }, (_, i) => world.newValue(`param${i}`));
  await inParallel([...Array(PARAMETERS).keys()], 8, async (i) => {
    for (const region of [PRIMARY, EU, AP]) await world.putParameter(region, parameterName(i), parameterValues[i], i % 5 === 0 ? 'SecureString' : 'String');
  });
  // Declared per-region values: eu-west-1 holds its own; ap-southeast-2 still holds the primary's.
  await world.putParameter(PRIMARY, OVERRIDDEN, primaryValue);
  await world.putParameter(EU, OVERRIDDEN, euValue);
  await world.putParameter(AP, OVERRIDDEN, primaryValue);
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const module = require('../../lambda-src/parity-check/handler');
  createHandler = recordingHandlers((e: NodeJS.ProcessEnv) => module.createHandler(e), results) as any;
  output.start();
}, 600_000);

afterAll(async () => {
  output.stop();
  await proxy?.stop();
  await codepipeline?.stop();
  await moto?.stop();
  process.env = savedEnv;
});

afterEach(() => proxy.clearRules());

describe('a secret missing in the target region', () => {
  test('blocks the region by name; the other region is judged on its own', async () => {
    const handler = createHandler(env());
    const eu = await handler({ action: 'check', region: EU });
    expect(eu.verdict).toBe('FAIL');
    expect(names(eu)).toEqual([`secret ${secretName(7)} MISSING_IN_REPLICA`]);
    expect(eu.summary).toContain(`secret ${secretName(7)}: MISSING_IN_REPLICA`);
    expect(eu.compared).toBe(SECRETS + PARAMETERS + 1);

    const ap = await handler({ action: 'check', region: AP });
    expect(names(ap)).toEqual([`parameter ${OVERRIDDEN} VALUE_MISMATCH`]);
  });

  test('reads only the primary and the target region, with the batch APIs', async () => {
    proxy.resetStats();
    await createHandler(env())({ action: 'check', region: EU });
    const operations = Object.keys(proxy.stats().byOperation);
    expect(operations.filter((o) => o.includes(`:${AP}:`))).toEqual([]);
    expect(operations.filter((o) => o.startsWith('secretsmanager:')).map((o) => o.split(':')[2]).sort())
      .toEqual(['BatchGetSecretValue', 'BatchGetSecretValue', 'ListSecrets', 'ListSecrets']);
    expect(operations.filter((o) => o.startsWith('ssm:')).map((o) => o.split(':')[2]).sort()).toEqual(['GetParametersByPath', 'GetParametersByPath']);
  });

  test('the pipeline rule fails entry with the name in the job\'s failure, then passes after the repair', async () => {
    const handler = createHandler(env());
    const before = codepipeline.calls.length;
    const failed = await handler(job(EU, 'job-blocked'));
    expect(failed.reported).toBe('FAIL');
    const [failure] = codepipeline.calls.slice(before);
    expect(failure.operation).toBe('PutJobFailureResult');
    expect(failure.input.jobId).toBe('job-blocked');
    expect(failure.input.failureDetails.type).toBe('JobFailed');
    expect(failure.input.failureDetails.message).toContain(`secret ${secretName(7)}: MISSING_IN_REPLICA`);

    // Repair: the secret is created in eu-west-1 with the primary's value.
    const primaryValueOf7 = await world.value(PRIMARY, secretName(7));
    await world.client(EU).send(new CreateSecretCommand({ Name: secretName(7), SecretString: primaryValueOf7 as string }));
    const passed = await handler(job(EU, 'job-repaired'));
    expect(passed.reported).toBe('PASS');
    const success = codepipeline.calls[codepipeline.calls.length - 1];
    expect(success.operation).toBe('PutJobSuccessResult');
    expect(success.input.jobId).toBe('job-repaired');
    expect(success.input.executionDetails.summary).toContain(`Config parity of ${EU} with ${PRIMARY}: PASS`);
  });

  test('a rule without a region, or with a region it does not check, is a configuration error of the job', async () => {
    const handler = createHandler(env());
    await handler(job(undefined, 'job-no-region'));
    await handler(job('sa-east-1', 'job-other-region'));
    const answers = codepipeline.calls.filter((c) => ['job-no-region', 'job-other-region'].includes(c.input.jobId));
    expect(answers.map((c) => [c.operation, c.input.failureDetails.type])).toEqual([
      ['PutJobFailureResult', 'ConfigurationError'], ['PutJobFailureResult', 'ConfigurationError'],
    ]);
    expect(answers[1].input.failureDetails.message).toContain('expected one of eu-west-1, ap-southeast-2');
  });
});

describe('declared per-region parameter values', () => {
  test('a region holding its declared value agrees; one holding the primary\'s value disagrees until it holds its own', async () => {
    const handler = createHandler(env());
    expect((await handler({ action: 'check', region: EU })).verdict).toBe('PASS');
    const ap = await handler({ action: 'check', region: AP });
    expect(ap.verdict).toBe('FAIL');
    expect(names(ap)).toEqual([`parameter ${OVERRIDDEN} VALUE_MISMATCH`]);

    await world.putParameter(AP, OVERRIDDEN, apValue);
    expect((await handler({ action: 'check', region: AP })).verdict).toBe('PASS');
  });

  test('without the declaration the same regional value is a difference', async () => {
    const eu = await createHandler(env({ [ParityEnv.PARAMETER_OVERRIDES]: '' }))({ action: 'check', region: EU });
    expect(names(eu)).toEqual([`parameter ${OVERRIDDEN} VALUE_MISMATCH`]);
  });
});

describe('a region the check cannot read', () => {
  test('fails closed by default, naming what could not be read', async () => {
    proxy.addRule({ region: EU, fault: 'connection-refused' });
    const eu = await createHandler(env())({ action: 'check', region: EU });
    expect(eu.verdict).toBe('FAIL');
    expect(names(eu)).toEqual(['parameter /app SCAN_FAILED', 'secret secrets SCAN_FAILED']);
    expect(eu.summary).toContain('could not be read (fails closed)');
  });

  test('an access-denied target region fails the pipeline rule too', async () => {
    proxy.addRule({ region: EU, service: 'secretsmanager', fault: 'access-denied' });
    await createHandler(env())(job(EU, 'job-denied'));
    const answer = codepipeline.calls.find((c) => c.input.jobId === 'job-denied')!;
    expect(answer.operation).toBe('PutJobFailureResult');
    expect(answer.input.failureDetails.message).toContain('secret secrets: SCAN_FAILED (replica AccessDeniedException)');
  });

  test('passes when configured to fail open, listing what it could not read', async () => {
    proxy.addRule({ region: EU, fault: 'connection-refused' });
    const eu = await createHandler(env({ [ParityEnv.FAIL_WHEN_UNREADABLE]: 'false' }))({ action: 'check', region: EU });
    expect(eu.verdict).toBe('PASS');
    expect(eu.summary).toContain('2 could not be read (ignored: fails open)');
  });
});

describe('grace window', () => {
  test('an item changed in the primary within the window does not fail the check and is counted', async () => {
    const name = 'app/fresh';
    await world.client(PRIMARY).send(new CreateSecretCommand({ Name: name, SecretString: world.newValue('fresh') }));
    try {
      const within = await createHandler(env({ [ParityEnv.GRACE_WINDOW_SECONDS]: '600' }))({ action: 'check', region: EU });
      expect(within.verdict).toBe('PASS');
      expect(within.deferred).toContain(`secret ${name}`);
      const after = await createHandler(env())({ action: 'check', region: EU });
      expect(names(after)).toEqual([`secret ${name} MISSING_IN_REPLICA`]);
    } finally {
      await world.client(PRIMARY).send(new DeleteSecretCommand({ SecretId: name, ForceDeleteWithoutRecovery: true }));
    }
  });
});

describe('ARC Region switch custom action step', () => {
  const step = (stepName: string) => ({ InvokedBy: 'ARC', PlanArn: 'arn:aws:arc-region-switch::123456789012:plan/p', ExecutionId: 'e1', StepName: stepName });

  test('fails the step (the function errors) with the summary when the region disagrees, and succeeds when it agrees', async () => {
    await world.client(AP).send(new DeleteSecretCommand({ SecretId: secretName(3), ForceDeleteWithoutRecovery: true }));
    const handler = createHandler(env());
    await expect(handler(step(`ConfigParity-${AP}`))).rejects.toThrow(`secret ${secretName(3)}: MISSING_IN_REPLICA`);
    await expect(handler(step(`ConfigParity-${AP}`))).rejects.toMatchObject({ name: 'ConfigParityError' });
    expect((await handler(step(`ConfigParity-${EU}`))).verdict).toBe('PASS');
    const repaired = (await world.value(PRIMARY, secretName(3))) as string;
    await world.client(AP).send(new CreateSecretCommand({ Name: secretName(3), SecretString: repaired }));
    expect((await handler(step(`ConfigParity-${AP}`))).verdict).toBe('PASS');
  });

  test('a step name without a checked region is a configuration error', async () => {
    await expect(createHandler(env())(step('CheckSomething'))).rejects.toMatchObject({ name: 'ConfigurationError' });
  });
});

describe('the schedule: failover readiness', () => {
  test('checks every region and publishes ConfigParity per region and in total', async () => {
    await world.putParameter(AP, parameterName(4), world.newValue('local-edit'));
    try {
      const from = output.lines.length;
      const all = await createHandler(env())({ 'detail-type': 'Scheduled Event', 'source': 'aws.events' });
      expect(all.results.map((r: any) => `${r.targetRegion} ${r.verdict}`)).toEqual([`${EU} PASS`, `${AP} FAIL`]);
      const dims = (region?: string) => ({ service: SERVICE, ...(region ? { TargetRegion: region } : {}) });
      expect(output.metricSum('ConfigParity', dims(EU), from)).toBe(1);
      expect(output.metricSum('ConfigParity', dims(AP), from)).toBe(0);
      expect(output.metricSum('ParityDifferences', dims(AP), from)).toBe(1);
      expect(output.metricSum('ConfigParity', dims(), from)).toBe(1);
      for (const doc of output.emf(from)) expect(doc._aws.CloudWatchMetrics[0].Namespace).toBe(NAMESPACE);
    } finally {
      await world.putParameter(AP, parameterName(4), (await world.parameter(PRIMARY, parameterName(4)))!.value!);
    }
  });
});

describe('a check stopped at a cursor', () => {
  test('never passes while incomplete, and resumes where it stopped', async () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { ParityChecker, readSettings } = { ...require('../../lambda-src/parity-check/check'), ...require('../../lambda-src/parity-check/handler') };
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { ClientCache } = require('../../lambda-src/shared/clients');
    const checker = new ParityChecker(readSettings(env()), new ClientCache(PRIMARY), undefined);
    let allowed = 1;
    const first = await checker.check(EU, { shouldContinue: () => allowed-- > 0 });
    expect(first).toMatchObject({ complete: false, verdict: 'FAIL', cursor: { nextScope: 1 } });
    expect(first.compared).toBe(SECRETS);
    const rest = await checker.check(EU, { cursor: first.cursor });
    expect(rest).toMatchObject({ complete: true, verdict: 'PASS', compared: PARAMETERS + 1 });
  });
});

/** The construct whose synthesized role policy the recorded calls are evaluated against. */
function evaluationStack(): { app: App; stack: Stack; check: ConfigParityCheck } {
  const app = new App();
  const stack = new Stack(app, 'IamEvaluation', { env: { account: '123456789012', region: PRIMARY } });
  const check = new ConfigParityCheck(stack, 'Parity', {
    regions: [EU, AP],
    secrets: SecretSelection.byNamePrefix('app/'),
    parameterPaths: ['/app'],
    parameterOverrides: [ParameterOverride.forRegion(OVERRIDDEN, EU, 'eu'), ParameterOverride.forRegion(OVERRIDDEN, AP, 'ap')],
  });
  return { app, stack, check };
}

describe('IAM', () => {
  test('every call the handler made is allowed by the synthesized role policy of the same configuration', async () => {
    const calls = await recorder.calls();
    expect(calls.length).toBeGreaterThan(20);
    await recorder.writeJsonLines(`${process.env.IAM_RECORDING_DIR ?? tmpdir()}/iam-calls-parity-check.jsonl`);
    const { app, stack, check } = evaluationStack();
    const { summary, failures } = await evaluateGroups([{
      role: 'parity check',
      calls,
      target: {
        template: app.synth().getStackByName(stack.stackName).template,
        roleLogicalId: stack.getLogicalId(check.role.node.defaultChild as CfnElement),
        region: PRIMARY,
      },
      // The check never writes, and reads nothing outside its selection and paths.
      negatives: [
        ['secretsmanager:PutSecretValue', `arn:aws:secretsmanager:${EU}:123456789012:secret:app/s001-AbCdEf`],
        ['secretsmanager:CreateSecret', `arn:aws:secretsmanager:${AP}:123456789012:secret:app/s001-AbCdEf`],
        ['secretsmanager:GetSecretValue', `arn:aws:secretsmanager:${EU}:123456789012:secret:other/s001-AbCdEf`],
        ['ssm:PutParameter', `arn:aws:ssm:${EU}:123456789012:parameter/app/p001`],
        ['ssm:GetParametersByPath', `arn:aws:ssm:${EU}:123456789012:parameter/other`],
        ['ssm:GetParameter', 'arn:aws:ssm:sa-east-1:123456789012:parameter/app/p001'],
      ].map(([action, resource]) => ({ action, resource, context: {}, describe: `${action} on ${resource}` })),
    }]);
    output.stop();
    console.log([...summary, ...failures.map((f) => `  ${f}`)].join('\n'));
    output.start();
    expect(failures).toEqual([]);
  }, 300_000);
});

describe('no value leaks', () => {
  test('no secret or parameter value, and no job credential, appears in any log line, metric, result or job answer', () => {
    const haystacks = [...output.lines, ...results, ...codepipeline.calls.map((c) => JSON.stringify(c.input))];
    expect(haystacks.length).toBeGreaterThan(20);
    const leaks = [...world.issuedValues, 'artifact-secret-Zq9', 'artifact-token-Zq9'].filter((v) => haystacks.some((h) => h.includes(v)));
    expect(leaks).toEqual([]);
  });
});
