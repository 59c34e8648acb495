/**
 * Health-check headers whose values come from Secrets Manager: secrets in moto server, real local
 * HTTPS and HTTP servers that answer 200 only to the right header, and the CodePipeline stand-in
 * for the job result. Every token lives only in the secret and the servers' comparisons; the test
 * scans every log line, report, summary, error and CodePipeline call for them.
 *
 * moto gap: moto enforces no IAM or KMS rules; the construct tests check the function may read the
 * one secret only.
 */
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tls from 'node:tls';
import { CreateSecretCommand, PutSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type * as HealthCheckModule from '../../lambda-src/multi-region-pipeline/health-check';
import type { HttpCheckConfig, SecretHeaderConfig } from '../../src/multi-region-pipeline/contract';
import { PipelineEnv } from '../../src/multi-region-pipeline/contract';
import { FakeCodePipeline, startFakeCodePipeline } from '../harness/fake-codepipeline';
import { applyEnv, awsTestEnv, MotoServer, startMotoServer } from '../harness/moto';
import { OutputCapture } from '../harness/world';

const REGION = 'us-east-1';
const OTHER_REGION = 'eu-west-1';
/** Every token the test makes; none may appear in anything the handler says. */
const tokens: string[] = [];
const newToken = () => {
  const token = `tok-${randomUUID()}`;
  tokens.push(token);
  return token;
};
/** Everything the handler returned or threw, for the leak scan. */
const said: string[] = [];

let moto: MotoServer;
let hc: typeof HealthCheckModule;
let handlerModule: typeof import('../../lambda-src/multi-region-pipeline/handler');
let restoreEnv: () => void;
let certDir: string;
let originalCas: string[];
const output = new OutputCapture();
const closers: Array<() => Promise<void>> = [];

const sm = (region: string) => new SecretsManagerClient({ region, endpoint: moto.endpoint, credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' } });

async function createSecret(value: string, region = REGION): Promise<string> {
  const out = await sm(region).send(new CreateSecretCommand({ Name: `health/${randomUUID()}`, SecretString: value }));
  return out.ARN!;
}

/** A server answering 200 when `header` equals `expected()`, else 401; TLS with the test certificate when `secure`. */
async function serve(header: string, expected: () => string, secure: boolean): Promise<{ origin: string; requests: number }> {
  const state = { origin: '', requests: 0 };
  const listener = (req: http.IncomingMessage, res: http.ServerResponse) => {
    state.requests++;
    res.writeHead(req.headers[header.toLowerCase()] === expected() ? 200 : 401).end('ok');
  };
  const server = secure
    ? https.createServer({ key: fs.readFileSync(path.join(certDir, 'server.key')), cert: fs.readFileSync(path.join(certDir, 'server.crt')) }, listener)
    : http.createServer(listener);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  state.origin = `${secure ? 'https' : 'http'}://127.0.0.1:${(server.address() as AddressInfo).port}`;
  closers.push(() => new Promise<void>((resolve) => {
    server.closeAllConnections();
    server.close(() => resolve());
  }));
  return state;
}

function check(url: string, headers: SecretHeaderConfig[], name = 'api'): HttpCheckConfig {
  return { name, url, expectedStatuses: [200], consecutiveSuccesses: 2, maxAttempts: 2, intervalSeconds: 0, timeoutSeconds: 2, headers };
}

/** A reader of secret values against moto that counts its GetSecretValue calls per region. */
function reader(): { values: HealthCheckModule.SecretHeaderValues; regions: string[] } {
  const regions: string[] = [];
  const values = new hc.SecretHeaderValues((region) => {
    regions.push(region);
    return sm(region);
  });
  return { values, regions };
}

async function run(checks: HttpCheckConfig[], headerValues: HealthCheckModule.SecretHeaderValues) {
  try {
    const report = await hc.runHealthChecks(checks, { region: REGION }, { headerValues });
    said.push(JSON.stringify(report), hc.summarizeReport(report));
    return report;
  } catch (e) {
    said.push(`${(e as Error).name}: ${(e as Error).message}`);
    throw e;
  }
}

beforeAll(async () => {
  moto = await startMotoServer();
  restoreEnv = applyEnv({ ...awsTestEnv(moto.endpoint, REGION), POWERTOOLS_SERVICE_NAME: 'SecretHeaderTest', POWERTOOLS_METRICS_NAMESPACE: 'Test/Pipeline', POWERTOOLS_DEV: undefined });
  output.start();
  /* eslint-disable @typescript-eslint/no-require-imports */
  hc = require('../../lambda-src/multi-region-pipeline/health-check');
  handlerModule = require('../../lambda-src/multi-region-pipeline/handler');
  /* eslint-enable @typescript-eslint/no-require-imports */
  certDir = fs.mkdtempSync(path.join(os.tmpdir(), 'secret-header-certs-'));
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'server.key', '-out', 'server.crt', '-subj', '/CN=127.0.0.1',
    '-days', '1', '-addext', 'subjectAltName=IP:127.0.0.1'], { cwd: certDir, stdio: 'pipe' });
  // The handler verifies TLS against Node's default trust store: trust the test certificate there.
  originalCas = tls.getCACertificates('default');
  tls.setDefaultCACertificates([...originalCas, fs.readFileSync(path.join(certDir, 'server.crt'), 'utf8')]);
});

afterEach(async () => {
  await Promise.all(closers.splice(0).map((c) => c()));
});

afterAll(async () => {
  tls.setDefaultCACertificates(originalCas);
  output.stop();
  restoreEnv();
  fs.rmSync(certDir, { recursive: true, force: true });
  await moto?.stop();
});

test('sends the whole SecretString after its prefix over HTTPS: the server sees exactly that, and the check passes', async () => {
  const token = newToken();
  const arn = await createSecret(token);
  const server = await serve('Authorization', () => `Bearer ${token}`, true);
  const { values } = reader();

  const report = await run([check(`${server.origin}/health`, [{ name: 'Authorization', secretArn: arn, prefix: 'Bearer ' }])], values);

  expect(report.passed).toBe(true);
  expect(server.requests).toBe(2);
});

test('takes one field of a JSON secret; reads the secret once for two checks and two runs', async () => {
  const token = newToken();
  const arn = await createSecret(JSON.stringify({ username: 'health', token }));
  const server = await serve('X-Api-Key', () => token, false);
  const { values, regions } = reader();
  const header = { name: 'X-Api-Key', secretArn: arn, jsonField: 'token' };
  const checks = [check(`${server.origin}/a`, [header], 'a'), check(`${server.origin}/b`, [header], 'b')];

  expect((await run(checks, values)).passed).toBe(true);
  expect((await run(checks, values)).passed).toBe(true);

  expect(values.reads).toBe(1);
  expect(regions).toEqual([REGION]);
  expect(server.requests).toBe(8);
});

test('reads a secret of another region in that region', async () => {
  const token = newToken();
  const arn = await createSecret(token, OTHER_REGION);
  expect(arn).toContain(`:${OTHER_REGION}:`);
  const server = await serve('Authorization', () => token, true);
  const { values, regions } = reader();

  expect((await run([check(`${server.origin}/`, [{ name: 'Authorization', secretArn: arn }])], values)).passed).toBe(true);
  expect(regions).toEqual([OTHER_REGION]);
});

test('a token rotated between runs: the refused request reads the secret again at once and is repeated, so the run passes', async () => {
  const old = newToken();
  const arn = await createSecret(old);
  let current = old;
  const server = await serve('Authorization', () => current, false);
  const { values } = reader();
  const checks = [check(`${server.origin}/`, [{ name: 'Authorization', secretArn: arn }])];
  expect((await run(checks, values)).passed).toBe(true);
  expect(server.requests).toBe(2);

  // Rotated: the server and the secret have a new token; the handler still holds the old one.
  const rotated = newToken();
  current = rotated;
  await sm(REGION).send(new PutSecretValueCommand({ SecretId: arn, SecretString: rotated }));
  const report = await run(checks, values);
  expect(report.passed).toBe(true);
  // One refused request, repeated with the new token, then the second healthy one.
  expect(server.requests).toBe(2 + 3);
  expect(report.checks[0]).toMatchObject({ attempts: 2, consecutiveSuccesses: 2 });
  expect(values.reads).toBe(2);

  // The next run uses the value read again: no further read.
  expect((await run(checks, values)).passed).toBe(true);
  expect(values.reads).toBe(2);
});

test('a token rotated in Secrets Manager between two attempts of one run: the second attempt reads it again and passes', async () => {
  const old = newToken();
  const arn = await createSecret(old);
  let current = old;
  const rotated = newToken();
  // The server switches to the new token after its first request, and the secret is rotated in moto
  // before the second attempt (the check's sleep between attempts).
  const server = await serve('Authorization', () => current, true);
  const { values } = reader();
  const checks = [{ ...check(`${server.origin}/`, [{ name: 'Authorization', secretArn: arn, prefix: 'Bearer ' }]), consecutiveSuccesses: 2, maxAttempts: 2 }];
  current = `Bearer ${old}`;
  const report = await hc.runHealthChecks(checks, { region: REGION }, {
    headerValues: values,
    sleep: async () => {
      current = `Bearer ${rotated}`;
      await sm(REGION).send(new PutSecretValueCommand({ SecretId: arn, SecretString: rotated }));
    },
  });
  said.push(JSON.stringify(report), hc.summarizeReport(report));
  expect(report.passed).toBe(true);
  expect(report.checks[0]).toMatchObject({ attempts: 2, consecutiveSuccesses: 2 });
  expect(server.requests).toBe(3);
  expect(values.reads).toBe(2);
});

test('a header the server keeps refusing: the secret is read again once a run, however many checks and attempts, and the check fails', async () => {
  const arn = await createSecret(newToken());
  const server = await serve('X-Api-Key', () => 'never-the-secret', false);
  const { values } = reader();
  const header = { name: 'X-Api-Key', secretArn: arn };
  const checks = ['a', 'b', 'c'].map((name) => ({ ...check(`${server.origin}/${name}`, [header], name), consecutiveSuccesses: 1, maxAttempts: 4 }));

  const first = await run(checks, values);
  expect(first.passed).toBe(false);
  expect(first.checks.map((c) => [c.attempts, c.lastFailure])).toEqual([[4, 'status 401'], [4, 'status 401'], [4, 'status 401']]);
  // Read once at the start and once again after the first refusal; the value did not change, so no request is repeated.
  expect(values.reads).toBe(2);
  expect(server.requests).toBe(12);

  expect((await run(checks, values)).passed).toBe(false);
  expect(values.reads).toBe(3);
});

test('a refused check without secret headers reads nothing and repeats nothing', async () => {
  const server = await serve('Authorization', () => 'never', false);
  const { values } = reader();
  const report = await run([check(`${server.origin}/`, [])], values);
  expect(report.passed).toBe(false);
  expect(report.checks[0].lastFailure).toBe('status 401');
  expect(server.requests).toBe(2);
  expect(values.reads).toBe(0);
});

test.each([
  ['the secret does not exist', async () => ({ secretArn: `arn:aws:secretsmanager:${REGION}:123456789012:secret:health/missing-AbCdEf` }),
    'health check "api": header Authorization: the secret does not exist (ResourceNotFoundException)'],
  ['the JSON field is missing', async () => ({ secretArn: await createSecret(JSON.stringify({ token: newToken() })), jsonField: 'apiKey' }),
    'health check "api": header Authorization: the secret\'s JSON value has no string field "apiKey"'],
  ['the secret is not JSON but a field is asked for', async () => ({ secretArn: await createSecret(newToken()), jsonField: 'token' }),
    'health check "api": header Authorization: the secret\'s value is not JSON, so it has no field "token"'],
  ['the value has a line break', async () => ({ secretArn: await createSecret(`${newToken()}\r\nX-Injected: yes`) }),
    'health check "api": header Authorization: the secret\'s value has characters an HTTP header cannot carry (a line break or a control character)'],
])('fails the job as a configuration error, value-free, when %s; no request is made', async (_what, header, message) => {
  const server = await serve('Authorization', () => 'never', false);
  const fake: FakeCodePipeline = await startFakeCodePipeline();
  const restore = applyEnv({ AWS_ENDPOINT_URL_CODEPIPELINE: fake.endpoint });
  try {
    const handler = handlerModule.createHandler({
      ...process.env,
      [PipelineEnv.ROLE]: 'health-check',
      [PipelineEnv.HEALTH_CHECKS]: JSON.stringify([check(`${server.origin}/`, [{ name: 'Authorization', ...(await header()) }])]),
    });
    const result = await handler({ 'CodePipeline.job': { id: 'job-1', data: { actionConfiguration: { configuration: { UserParameters: JSON.stringify({ region: REGION }) } } } } });
    said.push(JSON.stringify(result ?? null), JSON.stringify(fake.calls));

    expect(fake.calls).toEqual([{
      operation: 'PutJobFailureResult',
      input: { jobId: 'job-1', failureDetails: { type: 'ConfigurationError', message } },
    }]);
    expect(server.requests).toBe(0);
  } finally {
    restore();
    await fake.stop();
  }
});

test('the handler end to end: the health-check function reads its header from Secrets Manager and reports the job', async () => {
  const token = newToken();
  const arn = await createSecret(JSON.stringify({ token }));
  const server = await serve('Authorization', () => `Bearer ${token}`, true);
  const fake = await startFakeCodePipeline();
  const restore = applyEnv({ AWS_ENDPOINT_URL_CODEPIPELINE: fake.endpoint });
  try {
    const handler = handlerModule.createHandler({
      ...process.env,
      [PipelineEnv.ROLE]: 'health-check',
      [PipelineEnv.HEALTH_CHECKS]: JSON.stringify([check(`${server.origin}/`, [{ name: 'Authorization', secretArn: arn, jsonField: 'token', prefix: 'Bearer ' }])]),
    });
    const job = { 'CodePipeline.job': { id: 'job-2', data: { actionConfiguration: { configuration: { UserParameters: JSON.stringify({ region: REGION }) } } } } };
    said.push(JSON.stringify(await handler(job)), JSON.stringify(await handler(job)), JSON.stringify(fake.calls));
    expect(fake.calls.map((c) => c.operation)).toEqual(['PutJobSuccessResult', 'PutJobSuccessResult']);
    expect(server.requests).toBe(4);
  } finally {
    restore();
    await fake.stop();
  }
});

test('no token appears in any log line, report, summary, error or CodePipeline call', () => {
  expect(tokens.length).toBeGreaterThanOrEqual(8);
  const everything = [...output.lines, ...said].join('\n');
  expect(tokens.filter((t) => everything.includes(t))).toEqual([]);
  // The scan saw the handler's output.
  expect(output.lines.some((l) => l.includes('health check passed'))).toBe(true);
});
