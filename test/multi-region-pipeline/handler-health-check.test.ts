/**
 * The health-check action against real HTTP and HTTPS servers on 127.0.0.1 (ephemeral ports),
 * with certificates made by openssl at test time, and a mocked CodePipeline for the job reporting.
 * Everything the handler logs or returns is kept for the leak scan at the end.
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
import { CodePipelineClient, PutJobFailureResultCommand, PutJobSuccessResultCommand } from '@aws-sdk/client-codepipeline';
import { mockClient } from 'aws-sdk-client-mock';
import type * as HealthCheckModule from '../../lambda-src/multi-region-pipeline/health-check';
import type * as ObservabilityModule from '../../lambda-src/shared/observability';
import type { HealthCheckActionParameters, HttpCheckConfig } from '../../src/multi-region-pipeline/contract';
import { PipelineMetric, REGION_DIMENSION } from '../../src/multi-region-pipeline/contract';
import { applyEnv } from '../harness/moto';
import { OutputCapture } from '../harness/world';

const SERVICE = 'HealthCheckTest';
const METRIC_NAMESPACE = 'Test/MultiRegionPipeline';
const REGION = 'eu-west-1';
const GREEN: HealthCheckActionParameters = { region: REGION, slot: 'green' };
/** In every response body and a response header: must never reach a log line or a result. */
const BODY_MARKER = `body-marker-${randomUUID()}`;
/** In a health-check URL's query string: must never reach a log line or a result. */
const QUERY_MARKER = `query-marker-${randomUUID()}`;
/** In a health-check URL's user info: must never reach a log line or a result. */
const USERINFO_MARKER = `userinfo${randomUUID().slice(0, 8)}`;

let hc: typeof HealthCheckModule;
let observability: typeof ObservabilityModule;
let restoreEnv: () => void;
const output = new OutputCapture();
/** Every report, summary and error the tests saw, for the leak scan. */
const results: string[] = [];
const servers: TestServer[] = [];
let certDir: string;

interface SeenRequest {
  readonly path: string;
  readonly userAgent?: string;
}

interface TestServer {
  /** `http(s)://127.0.0.1:<port>` */
  readonly origin: string;
  readonly requests: SeenRequest[];
  close(): Promise<void>;
}

type Respond = (req: http.IncomingMessage, res: http.ServerResponse, index: number) => void;

/** Starts a server on an ephemeral port of 127.0.0.1; `tlsFiles` makes it HTTPS. */
async function serve(respond: Respond, tlsFiles?: { key: string; cert: string }): Promise<TestServer> {
  const requests: SeenRequest[] = [];
  const listener = (req: http.IncomingMessage, res: http.ServerResponse) => {
    requests.push({ path: req.url ?? '', userAgent: req.headers['user-agent'] });
    respond(req, res, requests.length - 1);
  };
  const server = tlsFiles
    ? https.createServer({ key: fs.readFileSync(tlsFiles.key), cert: fs.readFileSync(tlsFiles.cert) }, listener)
    : http.createServer(listener);
  // A failed TLS handshake is the client's doing and expected here.
  server.on('tlsClientError', () => undefined);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const handle: TestServer = {
    origin: `${tlsFiles ? 'https' : 'http'}://127.0.0.1:${port}`,
    requests,
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
  servers.push(handle);
  return handle;
}

/** Answers request i with statuses[i] (the last one repeats) and a body holding the marker. */
function statuses(...codes: number[]): Respond {
  return (_req, res, i) => reply(res, codes[Math.min(i, codes.length - 1)]);
}

function reply(res: http.ServerResponse, status: number): void {
  res.writeHead(status, { 'content-type': 'text/plain', 'x-debug': BODY_MARKER });
  res.end(status === 204 ? undefined : `stack trace with ${BODY_MARKER}`);
}

function delayed(ms: number, respond: Respond): Respond {
  return (req, res, i) => {
    setTimeout(() => respond(req, res, i), ms);
  };
}

/** A port with nothing listening on it (bound, then released). */
async function closedPort(): Promise<number> {
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

function check(url: string, overrides: Partial<HttpCheckConfig> = {}): HttpCheckConfig {
  return {
    name: 'api',
    url,
    expectedStatuses: [200],
    consecutiveSuccesses: 3,
    maxAttempts: 5,
    intervalSeconds: 0,
    timeoutSeconds: 2,
    ...overrides,
  };
}

async function run(checks: HttpCheckConfig[], params: HealthCheckActionParameters = GREEN): Promise<HealthCheckModule.HealthCheckReport> {
  const report = await hc.runHealthChecks(checks, params);
  results.push(JSON.stringify(report), hc.summarizeReport(report));
  return report;
}

function openssl(...args: string[]): void {
  execFileSync('openssl', args, { cwd: certDir, stdio: 'pipe' });
}

/** Certificates for the TLS tests: a self-signed one, and a CA with a leaf for 127.0.0.1 and one for another name. */
function makeCertificates(): void {
  try {
    execFileSync('openssl', ['version'], { stdio: 'pipe' });
  } catch {
    throw new Error('these tests need the openssl command line tool on the PATH to make test certificates');
  }
  certDir = fs.mkdtempSync(path.join(os.tmpdir(), 'health-check-certs-'));
  openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'self.key', '-out', 'self.crt', '-subj', '/CN=localhost', '-days', '1');
  openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.crt', '-subj', '/CN=health-check-test-ca', '-days', '1',
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign');
  for (const [name, san] of [['leaf', 'IP:127.0.0.1'], ['other', 'DNS:other.example']]) {
    fs.writeFileSync(path.join(certDir, `${name}.ext`), `subjectAltName=${san}\n`);
    openssl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${name}`);
    openssl('x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', `${name}.crt`,
      '-days', '1', '-extfile', `${name}.ext`);
  }
}

function certFiles(name: string): { key: string; cert: string } {
  return { key: path.join(certDir, `${name}.key`), cert: path.join(certDir, `${name}.crt`) };
}

/** Runs `body` with the test CA added to Node's default trust store (what the handler uses). */
async function trustingTestCa<T>(body: () => Promise<T>): Promise<T> {
  const original = tls.getCACertificates('default');
  tls.setDefaultCACertificates([...original, fs.readFileSync(path.join(certDir, 'ca.crt'), 'utf8')]);
  try {
    return await body();
  } finally {
    tls.setDefaultCACertificates(original);
  }
}

beforeAll(() => {
  restoreEnv = applyEnv({ POWERTOOLS_SERVICE_NAME: SERVICE, POWERTOOLS_METRICS_NAMESPACE: METRIC_NAMESPACE, POWERTOOLS_DEV: undefined });
  output.start();
  // Powertools reads POWERTOOLS_* when the module loads, so load it after setting them.
  /* eslint-disable @typescript-eslint/no-require-imports */
  observability = require('../../lambda-src/shared/observability');
  hc = require('../../lambda-src/multi-region-pipeline/health-check');
  /* eslint-enable @typescript-eslint/no-require-imports */
  makeCertificates();
});

afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

afterAll(() => {
  output.stop();
  restoreEnv();
  fs.rmSync(certDir, { recursive: true, force: true });
});

describe('resolveCheckUrl', () => {
  test('fills every {region} and {slot}', () => {
    expect(hc.resolveCheckUrl('https://{slot}.{region}.example.com/{region}/health', 'eu-west-1', 'green'))
      .toBe('https://green.eu-west-1.example.com/eu-west-1/health');
    expect(hc.resolveCheckUrl('https://api.{region}.example.com/health', 'us-east-1')).toBe('https://api.us-east-1.example.com/health');
    expect(hc.resolveCheckUrl('https://api.example.com/health', 'us-east-1', 'blue')).toBe('https://api.example.com/health');
  });

  test('fails if the URL uses {slot} but there is no slot', () => {
    expect(() => hc.resolveCheckUrl('https://{slot}.example.com/', 'us-east-1'))
      .toThrow('the URL uses {slot} but the action has no slot; {slot} is only available under blue-green deployment');
  });
});

describe('runHealthChecks against real servers', () => {
  test('passes after exactly consecutiveSuccesses healthy responses', async () => {
    const server = await serve(statuses(200));

    const report = await run([check(`${server.origin}/health`)]);

    expect(report).toMatchObject({ region: REGION, slot: 'green', passed: true });
    expect(report.checks).toEqual([{
      name: 'api',
      url: `${server.origin}/health`,
      passed: true,
      attempts: 3,
      consecutiveSuccesses: 3,
      requiredSuccesses: 3,
      latenciesMs: [expect.any(Number), expect.any(Number), expect.any(Number)],
    }]);
    expect(server.requests).toEqual(Array(3).fill({ path: '/health', userAgent: 'cdk-cross-region-config-health-check' }));
    expect(hc.summarizeReport(report)).toMatch(/^eu-west-1 green: 1 of 1 check passed: api \(3 healthy in a row, max \d+ ms\)$/);
  });

  test('fails a check whose responses are slower than latencyThresholdMs', async () => {
    const server = await serve(delayed(200, statuses(200)));

    const report = await run([check(`${server.origin}/health`, { consecutiveSuccesses: 1, maxAttempts: 2, latencyThresholdMs: 50 })]);

    expect(report.passed).toBe(false);
    expect(report.checks[0].attempts).toBe(2);
    expect(report.checks[0].lastFailure).toMatch(/^slow \(\d+ ms > 50 ms\)$/);
    expect(Math.min(...report.checks[0].latenciesMs)).toBeGreaterThanOrEqual(150);
  });

  test('passes a check whose responses are within latencyThresholdMs', async () => {
    const server = await serve(statuses(200));

    const report = await run([check(`${server.origin}/health`, { consecutiveSuccesses: 2, latencyThresholdMs: 1000 })]);

    expect(report.passed).toBe(true);
  });

  test('fails a check that keeps answering 503, after maxAttempts requests', async () => {
    const server = await serve(statuses(503));

    const report = await run([check(`${server.origin}/health`), check(`${server.origin}/other`, { name: 'web', consecutiveSuccesses: 1, expectedStatuses: [503] })]);

    expect(report.passed).toBe(false);
    expect(report.checks[0]).toMatchObject({ passed: false, attempts: 5, consecutiveSuccesses: 0, lastFailure: 'status 503' });
    expect(report.checks[1]).toMatchObject({ passed: true, attempts: 1 });
    expect(server.requests.filter((r) => r.path === '/health')).toHaveLength(5);
    expect(hc.summarizeReport(report)).toBe('eu-west-1 green: 1 of 2 checks failed: api (status 503 after 5 attempts)');
  });

  test('fails a flapping endpoint that never answers healthy consecutiveSuccesses times in a row', async () => {
    const server = await serve(statuses(200, 500, 200, 500, 200, 500, 200, 500));

    const report = await run([check(`${server.origin}/health`, { maxAttempts: 8 })]);

    expect(report.checks[0]).toMatchObject({ passed: false, attempts: 8, consecutiveSuccesses: 1, lastFailure: 'status 500' });
    expect(server.requests).toHaveLength(8);
  });

  test('passes an endpoint that recovers and then answers healthy consecutiveSuccesses times in a row', async () => {
    const server = await serve(statuses(500, 500, 200));

    const report = await run([check(`${server.origin}/health`)]);

    expect(report.checks[0]).toMatchObject({ passed: true, attempts: 5, consecutiveSuccesses: 3, lastFailure: 'status 500' });
    expect(report.passed).toBe(true);
  });

  test('fails with "connection refused" when nothing listens', async () => {
    const port = await closedPort();

    const report = await run([check(`http://127.0.0.1:${port}/health`, { maxAttempts: 3 })]);

    expect(report.checks[0]).toMatchObject({ passed: false, attempts: 3, lastFailure: 'connection refused' });
    expect(hc.summarizeReport(report)).toBe('eu-west-1 green: 1 of 1 check failed: api (connection refused after 3 attempts)');
  });

  test('verifies certificates: a self-signed one fails with a tls error and no request is served', async () => {
    const server = await serve(statuses(200), certFiles('self'));

    const report = await run([check(`${server.origin}/health`, { consecutiveSuccesses: 1, maxAttempts: 2 })]);

    expect(report.checks[0]).toMatchObject({ passed: false, attempts: 2, lastFailure: 'tls error (DEPTH_ZERO_SELF_SIGNED_CERT)' });
    expect(server.requests).toHaveLength(0);
  });

  test('trusts a certificate chaining to a CA of Node\'s default trust store', async () => {
    const server = await serve(statuses(200), certFiles('leaf'));

    const report = await trustingTestCa(() => run([check(`${server.origin}/health`, { consecutiveSuccesses: 2 })]));

    expect(report.checks[0]).toMatchObject({ passed: true, attempts: 2 });
    expect(server.requests).toHaveLength(2);
  });

  test('verifies the host name: a trusted certificate for another name fails with a tls error', async () => {
    const server = await serve(statuses(200), certFiles('other'));

    const report = await trustingTestCa(() => run([check(`${server.origin}/health`, { consecutiveSuccesses: 1, maxAttempts: 1 })]));

    expect(report.checks[0].lastFailure).toBe('tls error (ERR_TLS_CERT_ALTNAME_INVALID)');
    expect(server.requests).toHaveLength(0);
  });

  test('fails with "timeout after 1 s" when the server never answers', async () => {
    const server = await serve(() => undefined);

    const report = await run([check(`${server.origin}/health`, { timeoutSeconds: 1, consecutiveSuccesses: 1, maxAttempts: 1 })]);

    expect(report.checks[0]).toMatchObject({ passed: false, attempts: 1, lastFailure: 'timeout after 1 s' });
    expect(report.checks[0].latenciesMs[0]).toBeGreaterThanOrEqual(950);
    expect(report.checks[0].latenciesMs[0]).toBeLessThan(2000);
  });

  test('the timeout covers the body: headers on time and a stalled body time out', async () => {
    const server = await serve((_req, res) => {
      res.writeHead(200);
      res.write('first chunk');
    });

    const report = await run([check(`${server.origin}/health`, { timeoutSeconds: 1, consecutiveSuccesses: 1, maxAttempts: 1 })]);

    expect(report.checks[0].lastFailure).toBe('timeout after 1 s');
  });

  test('accepts the statuses in expectedStatuses only', async () => {
    const server = await serve(statuses(204));

    const report = await run([
      check(`${server.origin}/a`, { name: 'no-content', expectedStatuses: [200, 204], consecutiveSuccesses: 1 }),
      check(`${server.origin}/b`, { name: 'ok-only', consecutiveSuccesses: 1, maxAttempts: 1 }),
    ]);

    expect(report.checks.map((c) => [c.name, c.passed, c.lastFailure])).toEqual([['no-content', true, undefined], ['ok-only', false, 'status 204']]);
  });

  test('does not follow redirects: a 3xx is just a status', async () => {
    const server = await serve((req, res) => {
      if (req.url === '/health') res.writeHead(302, { location: '/elsewhere' }).end();
      else reply(res, 200);
    });

    const report = await run([
      check(`${server.origin}/health`, { name: 'strict', consecutiveSuccesses: 1, maxAttempts: 1 }),
      check(`${server.origin}/health`, { name: 'redirect-ok', expectedStatuses: [302], consecutiveSuccesses: 1 }),
    ]);

    expect(report.checks.map((c) => c.lastFailure)).toEqual(['status 302', undefined]);
    expect(server.requests.map((r) => r.path)).toEqual(['/health', '/health']);
  });

  test('requests the URL with {region} and {slot} filled in', async () => {
    const server = await serve(statuses(200));

    const report = await run([check(`${server.origin}/{region}/{slot}/health`, { consecutiveSuccesses: 1 })], { region: 'ap-southeast-2', slot: 'blue' });

    expect(server.requests.map((r) => r.path)).toEqual(['/ap-southeast-2/blue/health']);
    expect(report.checks[0].url).toBe(`${server.origin}/ap-southeast-2/blue/health`);
    expect(hc.summarizeReport(report)).toMatch(/^ap-southeast-2 blue: 1 of 1 check passed/);
  });

  test('reports the URL without query string, fragment or user info, but requests it whole', async () => {
    const server = await serve(statuses(200));
    const url = `http://${USERINFO_MARKER}:pw@${server.origin.slice('http://'.length)}/health?token=${QUERY_MARKER}#frag`;

    const report = await run([check(url, { consecutiveSuccesses: 1 })]);

    expect(server.requests.map((r) => r.path)).toEqual([`/health?token=${QUERY_MARKER}`]);
    expect(report.checks[0].url).toBe(`${server.origin}/health`);
  });

  test('reads at most 64 KiB of a large body, then drops the connection', async () => {
    let bodyFinished: boolean | undefined;
    const server = await serve((_req, res) => {
      res.on('close', () => { bodyFinished = res.writableFinished; });
      res.writeHead(200, { 'content-type': 'text/plain' });
      // 8 MiB if read to the end; the check must not wait for it.
      const chunk = `${BODY_MARKER}\n`.repeat(1024);
      let sent = 0;
      const pump = () => {
        while (sent < 8 * 1024 * 1024 && !res.destroyed) {
          sent += chunk.length;
          if (!res.write(chunk)) return void res.once('drain', pump);
        }
        res.end();
      };
      pump();
    });

    const report = await run([check(`${server.origin}/big`, { consecutiveSuccesses: 1, timeoutSeconds: 5 })]);

    expect(report.checks[0]).toMatchObject({ passed: true, attempts: 1 });
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(bodyFinished).toBe(false);
  });

  test('fails with "dns error" for a host name that does not resolve', async () => {
    const report = await run([check('http://health-check.invalid/health', { consecutiveSuccesses: 1, maxAttempts: 1, timeoutSeconds: 5 })]);

    expect(report.checks[0].lastFailure).toBe('dns error');
  });

  test('runs the checks of a region in parallel', async () => {
    const server = await serve(delayed(300, statuses(200)));
    const options = { consecutiveSuccesses: 2, maxAttempts: 2 };

    const report = await run([check(`${server.origin}/a`, { name: 'a', ...options }), check(`${server.origin}/b`, { name: 'b', ...options })]);

    const sequentialMs = report.checks.flatMap((c) => c.latenciesMs).reduce((a, b) => a + b, 0);
    expect(report.passed).toBe(true);
    expect(sequentialMs).toBeGreaterThanOrEqual(1100);
    expect(report.durationMs).toBeLessThan(sequentialMs * 0.75);
  });

  test('waits intervalSeconds between two requests of a check, not before the first', async () => {
    const server = await serve(statuses(200));
    const sleeps: number[] = [];

    const report = await hc.runHealthChecks([check(`${server.origin}/health`, { intervalSeconds: 7 })], GREEN, {
      sleep: async (ms) => { sleeps.push(ms); },
    });

    expect(report.passed).toBe(true);
    expect(sleeps).toEqual([7000, 7000]);
  });

  test('fails before any request if a URL uses {slot} and the action has no slot', async () => {
    const server = await serve(statuses(200));

    await expect(hc.runHealthChecks([check(`${server.origin}/health`, { name: 'x' }), check(`${server.origin}/{slot}/health`)], { region: REGION }))
      .rejects.toThrow('health check "api": the URL uses {slot} but the action has no slot');
    expect(server.requests).toHaveLength(0);
  });

  test('fails before any request if a URL is not http or https, without quoting it', async () => {
    await expect(hc.runHealthChecks([check(`ftp://host/${QUERY_MARKER}`)], GREEN)).rejects.toThrow('health check "api": the URL must start with http:// or https://, but uses "ftp:"');
    await expect(hc.runHealthChecks([check(`not a url ${QUERY_MARKER}`)], GREEN)).rejects.toThrow(/^health check "api": the URL is not valid$/);
  });
});

describe('logs and metrics', () => {
  test('logs one line per check with name, URL without query, outcome, attempts and reason', async () => {
    const server = await serve(statuses(503));
    const from = output.lines.length;

    await run([check(`${server.origin}/health?token=${QUERY_MARKER}`, { name: 'logged', maxAttempts: 2 })]);

    const lines = output.logs(from).filter((l) => l.check === 'logged');
    expect(lines).toEqual([expect.objectContaining({
      level: 'WARN',
      message: 'health check failed',
      check: 'logged',
      url: `${server.origin}/health`,
      passed: false,
      attempts: 2,
      consecutiveSuccesses: 0,
      reason: 'status 503',
    })]);
  });

  test('emits the latency of each answered request and one passed or failed count, in total and per region', async () => {
    const server = await serve(statuses(200));
    const port = await closedPort();
    const region = 'ca-central-1';
    observability.metrics.publishStoredMetrics();
    const from = output.lines.length;

    await run([check(`${server.origin}/health`, { consecutiveSuccesses: 2 })], { region });
    await run([check(`http://127.0.0.1:${port}/`, { consecutiveSuccesses: 1, maxAttempts: 2 })], { region });
    observability.metrics.publishStoredMetrics();

    const docs = output.emf(from);
    const latencyValues = docs.filter((d) => d[REGION_DIMENSION] === region).flatMap((d) => d[PipelineMetric.HEALTH_CHECK_LATENCY] ?? []);
    expect(latencyValues).toHaveLength(2);
    expect(docs.find((d) => PipelineMetric.HEALTH_CHECK_LATENCY in d)?._aws.CloudWatchMetrics[0].Metrics)
      .toContainEqual({ Name: PipelineMetric.HEALTH_CHECK_LATENCY, Unit: 'Milliseconds' });
    const total: Record<string, string> = { service: SERVICE };
    for (const dims of [total, { ...total, [REGION_DIMENSION]: region }]) {
      expect(output.metricSum(PipelineMetric.HEALTH_CHECK_PASSED, dims, from)).toBe(1);
      expect(output.metricSum(PipelineMetric.HEALTH_CHECK_FAILED, dims, from)).toBe(1);
    }
    expect(docs.every((d) => d._aws.CloudWatchMetrics[0].Namespace === METRIC_NAMESPACE)).toBe(true);
  });
});

describe('parseHealthCheckParameters', () => {
  test('accepts a region with or without a slot', () => {
    expect(hc.parseHealthCheckParameters({ region: 'us-gov-west-1' })).toEqual({ region: 'us-gov-west-1' });
    expect(hc.parseHealthCheckParameters({ region: 'eu-west-1', slot: 'blue', extra: 1 })).toEqual({ region: 'eu-west-1', slot: 'blue' });
  });

  test.each([
    [['eu-west-1'], 'UserParameters must be a JSON object with "region" and an optional "slot", but got an array'],
    [{}, 'UserParameters.region must be an AWS region name such as "eu-west-1", but got nothing'],
    [{ region: 'moon-1' }, 'UserParameters.region must be an AWS region name such as "eu-west-1", but got "moon-1"'],
    [{ region: 42 }, 'UserParameters.region must be an AWS region name such as "eu-west-1", but got a number'],
    [{ region: 'eu-west-1', slot: 'purple' }, 'UserParameters.slot must be "blue", "green" or absent, but got "purple"'],
    [{ region: 'eu-west-1', slot: null }, 'UserParameters.slot must be "blue", "green" or absent, but got null'],
  ])('fails if the parameters are %j', (input, message) => {
    expect(() => hc.parseHealthCheckParameters(input)).toThrow(message);
  });
});

describe('failureReason', () => {
  test('maps Node error codes to value-free categories', () => {
    const reason = (code: unknown) => hc.failureReason(Object.assign(new Error('connect to 10.0.0.1 failed'), { code }));
    expect(reason('ECONNREFUSED')).toBe('connection refused');
    expect(reason('ENOTFOUND')).toBe('dns error');
    expect(reason('EAI_AGAIN')).toBe('dns error');
    expect(reason('CERT_HAS_EXPIRED')).toBe('tls error (CERT_HAS_EXPIRED)');
    expect(reason('ERR_SSL_WRONG_VERSION_NUMBER')).toBe('tls error (ERR_SSL_WRONG_VERSION_NUMBER)');
    expect(reason('ECONNRESET')).toBe('network error (ECONNRESET)');
    expect(reason('not a code: 10.0.0.1')).toBe('network error (unknown)');
    expect(hc.failureReason(undefined)).toBe('network error (unknown)');
  });
});

describe('summarizeReport', () => {
  const result = (name: string, passed: boolean, extra: Partial<HealthCheckModule.CheckResult> = {}): HealthCheckModule.CheckResult => ({
    name,
    url: 'https://x/',
    passed,
    attempts: 3,
    consecutiveSuccesses: passed ? 3 : 0,
    requiredSuccesses: 3,
    latenciesMs: [10, 30, 20],
    ...extra,
  });

  test('names the region, the slot and each passed check', () => {
    expect(hc.summarizeReport({ region: 'us-east-1', passed: true, checks: [result('api', true), result('web', true)], durationMs: 60 }))
      .toBe('us-east-1: 2 of 2 checks passed: api (3 healthy in a row, max 30 ms), web (3 healthy in a row, max 30 ms)');
  });

  test('names each failed check with its reason and attempts', () => {
    const checks = [
      result('api', false, { lastFailure: 'timeout after 5 s', attempts: 1 }),
      result('web', true),
      result('admin', false, { lastFailure: 'tls error (CERT_HAS_EXPIRED)', attempts: 4 }),
      result('short', false, { attempts: 2, consecutiveSuccesses: 2 }),
    ];
    expect(hc.summarizeReport({ region: 'eu-west-1', slot: 'green', passed: false, checks, durationMs: 5000 })).toBe(
      'eu-west-1 green: 3 of 4 checks failed: api (timeout after 5 s after 1 attempt), admin (tls error (CERT_HAS_EXPIRED) after 4 attempts), '
      + 'short (2 of 3 healthy in a row after 2 attempts)');
  });
});

describe('handleHealthCheckJob', () => {
  const codepipeline = mockClient(CodePipelineClient);
  const client = new CodePipelineClient({ region: 'us-east-1', credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' } });

  function jobEvent(userParameters: unknown, id: string | null = 'job-1') {
    return {
      'CodePipeline.job': {
        ...(id !== null ? { id } : {}),
        accountId: '123456789012',
        data: {
          actionConfiguration: {
            configuration: {
              FunctionName: 'health-check',
              UserParameters: typeof userParameters === 'string' ? userParameters : JSON.stringify(userParameters),
            },
          },
        },
      },
    };
  }

  async function handle(event: unknown, checks: HttpCheckConfig[], options?: HealthCheckModule.HealthCheckOptions) {
    try {
      const report = await hc.handleHealthCheckJob(event, { codepipeline: client, checks, options });
      results.push(JSON.stringify(report ?? null));
      return report;
    } catch (e) {
      results.push(String(e));
      throw e;
    }
  }

  beforeEach(() => {
    codepipeline.reset();
    codepipeline.on(PutJobSuccessResultCommand).resolves({}).on(PutJobFailureResultCommand).resolves({});
  });

  afterAll(() => codepipeline.restore());

  test('reports a passed run as success with the summary and output variables', async () => {
    const server = await serve(statuses(200));

    const report = await handle(jobEvent({ region: REGION, slot: 'green' }), [check(`${server.origin}/{slot}`, { consecutiveSuccesses: 2 })]);

    expect(report?.passed).toBe(true);
    expect(server.requests.map((r) => r.path)).toEqual(['/green', '/green']);
    expect(codepipeline.commandCalls(PutJobFailureResultCommand)).toHaveLength(0);
    const calls = codepipeline.commandCalls(PutJobSuccessResultCommand);
    expect(calls.map((c) => c.args[0].input)).toEqual([{
      jobId: 'job-1',
      executionDetails: { summary: hc.summarizeReport(report!), percentComplete: 100 },
      outputVariables: { HealthyChecks: '1', Region: REGION },
    }]);
  });

  test('reports a failed run as JobFailed with the summary', async () => {
    const server = await serve(statuses(503));

    const report = await handle(jobEvent({ region: REGION }), [check(`${server.origin}/health`, { consecutiveSuccesses: 1, maxAttempts: 2 })]);

    expect(report?.passed).toBe(false);
    expect(codepipeline.commandCalls(PutJobSuccessResultCommand)).toHaveLength(0);
    expect(codepipeline.commandCalls(PutJobFailureResultCommand).map((c) => c.args[0].input)).toEqual([{
      jobId: 'job-1',
      failureDetails: { type: 'JobFailed', message: 'eu-west-1: 1 of 1 check failed: api (status 503 after 2 attempts)' },
    }]);
  });

  test.each([
    ['a region that is not a region', { region: 'primary' }, 'UserParameters.region must be an AWS region name such as "eu-west-1", but got "primary"'],
    ['an unknown slot', { region: REGION, slot: 'red' }, 'UserParameters.slot must be "blue", "green" or absent, but got "red"'],
    ['parameters that are not JSON', '{region', 'the action UserParameters are not JSON; they must be the JSON the MultiRegionPipeline construct wrote'],
    ['{slot} in a URL and no slot', { region: REGION }, 'health check "api": the URL uses {slot} but the action has no slot'],
  ])('reports %s as a ConfigurationError without any request', async (_what, userParameters, message) => {
    const server = await serve(statuses(200));

    const report = await handle(jobEvent(userParameters), [check(`${server.origin}/{slot}/health`)]);

    expect(report).toBeUndefined();
    expect(server.requests).toHaveLength(0);
    expect(codepipeline.commandCalls(PutJobSuccessResultCommand)).toHaveLength(0);
    const failures = codepipeline.commandCalls(PutJobFailureResultCommand).map((c) => c.args[0].input);
    expect(failures).toEqual([{ jobId: 'job-1', failureDetails: { type: 'ConfigurationError', message: expect.stringContaining(message) } }]);
  });

  test('reports a function without checks as a ConfigurationError', async () => {
    await handle(jobEvent({ region: REGION }), []);

    expect(codepipeline.commandCalls(PutJobFailureResultCommand)[0].args[0].input.failureDetails)
      .toEqual({ type: 'ConfigurationError', message: 'the function has no health checks configured' });
  });

  test('reports an unexpected error while checking as JobFailed with its name only', async () => {
    const clock = () => {
      throw new TypeError('clock broke at 10.0.0.1');
    };

    await expect(handle(jobEvent({ region: REGION }), [check('http://127.0.0.1:1/')], { now: clock })).resolves.toBeUndefined();

    expect(codepipeline.commandCalls(PutJobFailureResultCommand)[0].args[0].input.failureDetails)
      .toEqual({ type: 'JobFailed', message: 'health checks could not run (TypeError)' });
  });

  test('throws for an event without a job id, reporting nothing', async () => {
    await expect(handle(jobEvent({ region: REGION }, null), [check('http://127.0.0.1:1/')]))
      .rejects.toThrow('the event is not a CodePipeline job: "CodePipeline.job".id is missing, so there is no job to report to');
    expect(codepipeline.calls()).toHaveLength(0);
  });

  test('lets a failure to report the result propagate, so Lambda retries', async () => {
    const server = await serve(statuses(200));
    codepipeline.on(PutJobSuccessResultCommand).rejects(Object.assign(new Error('throttled'), { name: 'ThrottlingException' }));

    await expect(handle(jobEvent({ region: REGION }), [check(`${server.origin}/health`, { consecutiveSuccesses: 1 })]))
      .rejects.toThrow('throttled');
  });
});

test('no response body, response header, query string or user info appears in any log line, metric or result', () => {
  const everything = [...output.lines, ...results];
  expect(results.length).toBeGreaterThan(20);
  expect(everything.some((l) => l.includes('health check passed'))).toBe(true);
  for (const marker of [BODY_MARKER, QUERY_MARKER, USERINFO_MARKER]) {
    const leaks = everything.filter((l) => l.includes(marker)).length;
    if (leaks > 0) throw new Error(`${leaks} captured lines contain a marker (lines not shown)`);
  }
});
