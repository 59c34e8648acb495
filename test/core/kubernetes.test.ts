/**
 * Unit tests of the shared Kubernetes access code: EKS token format and signing, token caching
 * under an injected clock, endpoint resolution, and the HTTP behaviour (retries, 401 refresh,
 * error mapping) against a stub HTTPS server. The real API server is exercised by
 * kubernetes.integ.test.ts.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import * as https from 'node:https';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { inspect } from 'node:util';
import { DescribeClusterCommand, EKSClient } from '@aws-sdk/client-eks';
import { STSClient } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import { ClientCache } from '../../lambda-src/shared/clients';
import { eksToken, KubernetesAccess, KubernetesApiError } from '../../lambda-src/shared/kubernetes';
import type { KubernetesClusterConfig } from '../../src/private/kubernetes-contract';
import { closedLocalPort } from '../harness/kube';
import { verifyPresignedGet } from '../harness/kube-webhook/sigv4';
import { applyEnv } from '../harness/moto';
import { OutputCapture } from '../harness/world';

const CREDENTIALS = { accessKeyId: 'AKIDUNITTEST', secretAccessKey: 'unit-test-secret-key', sessionToken: 'unit/test+session=token' };
const SIGNING_DATE = new Date('2024-03-01T12:00:00Z');
const MINUTE = 60_000;
/** A ConfigMap value the stub server returns and echoes: it must never reach a log or an error. */
const SECRET = 'do-not-leak-7f3a9c';

/** The environment of every test: explicit credentials, no endpoint override, no profile. */
const baseEnv = {
  AWS_ACCESS_KEY_ID: CREDENTIALS.accessKeyId,
  AWS_SECRET_ACCESS_KEY: CREDENTIALS.secretAccessKey,
  AWS_SESSION_TOKEN: CREDENTIALS.sessionToken,
  AWS_ENDPOINT_URL: undefined,
  AWS_ENDPOINT_URL_STS: undefined,
  AWS_ENDPOINT_URL_EKS: undefined,
  AWS_PROFILE: undefined,
  AWS_IGNORE_CONFIGURED_ENDPOINT_URLS: undefined,
  AWS_REGION: 'us-east-1',
};

function decode(token: string): URL {
  return new URL(Buffer.from(token.slice('k8s-aws-v1.'.length), 'base64url').toString('utf8'));
}

describe('eksToken', () => {
  let restore: () => void;
  beforeEach(() => {
    restore = applyEnv(baseEnv);
  });
  afterEach(() => restore());

  function sts(region: string): STSClient {
    return new STSClient({ region, credentials: CREDENTIALS });
  }

  test('is k8s-aws-v1. and the unpadded base64url of a presigned GetCallerIdentity URL for the regional STS endpoint', async () => {
    const { token, signedAt } = await eksToken({ sts: sts('eu-west-1'), clusterName: 'orders', signingDate: SIGNING_DATE });

    expect(token).toMatch(/^k8s-aws-v1\.[A-Za-z0-9_-]+$/);
    expect(signedAt).toEqual(SIGNING_DATE);
    const url = decode(token);
    expect(url.origin).toBe('https://sts.eu-west-1.amazonaws.com');
    expect(url.pathname).toBe('/');
    const q = Object.fromEntries(url.searchParams);
    expect(q).toMatchObject({
      'Action': 'GetCallerIdentity',
      'Version': '2011-06-15',
      'X-Amz-Algorithm': 'AWS4-HMAC-SHA256',
      'X-Amz-Credential': 'AKIDUNITTEST/20240301/eu-west-1/sts/aws4_request',
      'X-Amz-Date': '20240301T120000Z',
      'X-Amz-Expires': '60',
      'X-Amz-SignedHeaders': 'host;x-k8s-aws-id',
      'X-Amz-Security-Token': CREDENTIALS.sessionToken,
    });
    expect(q['X-Amz-Signature']).toMatch(/^[0-9a-f]{64}$/);
  });

  test('never pads, whatever the length of the URL', async () => {
    for (const name of ['a', 'ab', 'abc', 'abcd', 'cluster-with-a-longer-name']) {
      const { token } = await eksToken({ sts: sts('us-west-2'), clusterName: name });
      expect(token).not.toContain('=');
      expect(decode(token).searchParams.get('Action')).toBe('GetCallerIdentity');
    }
  });

  test('signs the cluster name: the signature verifies for that name only', async () => {
    const { token } = await eksToken({ sts: sts('eu-west-1'), clusterName: 'orders', signingDate: SIGNING_DATE });
    const url = decode(token);

    // An independent SigV4 implementation, given what STS gets: the URL and the verifier's header.
    expect(verifyPresignedGet(url, CREDENTIALS.secretAccessKey, { 'x-k8s-aws-id': 'orders' })).toBe(true);
    expect(verifyPresignedGet(url, CREDENTIALS.secretAccessKey, { 'x-k8s-aws-id': 'payments' })).toBe(false);
    expect(verifyPresignedGet(url, 'another-secret', { 'x-k8s-aws-id': 'orders' })).toBe(false);
    url.searchParams.set('X-Amz-Date', '20240301T120500Z');
    expect(verifyPresignedGet(url, CREDENTIALS.secretAccessKey, { 'x-k8s-aws-id': 'orders' })).toBe(false);
  });

  test('presigns for AWS_ENDPOINT_URL, and AWS_ENDPOINT_URL_STS over it', async () => {
    restore = applyEnv({ ...baseEnv, AWS_ENDPOINT_URL: 'http://127.0.0.1:4566' });
    const local = decode((await eksToken({ sts: sts('eu-west-1'), clusterName: 'orders' })).token);
    restore();
    restore = applyEnv({ ...baseEnv, AWS_ENDPOINT_URL: 'http://127.0.0.1:4566', AWS_ENDPOINT_URL_STS: 'https://sts.internal.example:8443' });
    const specific = decode((await eksToken({ sts: sts('eu-west-1'), clusterName: 'orders' })).token);

    expect(local.origin).toBe('http://127.0.0.1:4566');
    expect(local.searchParams.get('X-Amz-Credential')).toMatch(/\/eu-west-1\/sts\/aws4_request$/);
    expect(specific.origin).toBe('https://sts.internal.example:8443');
  });

  test('uses the partition of the region for the STS host', async () => {
    const { token } = await eksToken({ sts: sts('cn-north-1'), clusterName: 'orders' });
    expect(decode(token).host).toBe('sts.cn-north-1.amazonaws.com.cn');
  });

  test('signs with the credentials of the STS client the ClientCache gives for the region', async () => {
    restore = applyEnv({ ...baseEnv, AWS_ACCESS_KEY_ID: 'AKIDFROMENV', AWS_SESSION_TOKEN: undefined });
    const client = new ClientCache('us-east-1').get(STSClient, { region: 'ap-southeast-2' });

    const url = decode((await eksToken({ sts: client, clusterName: 'orders' })).token);

    expect(url.searchParams.get('X-Amz-Credential')).toMatch(/^AKIDFROMENV\/\d{8}\/ap-southeast-2\/sts\/aws4_request$/);
    expect(url.searchParams.has('X-Amz-Security-Token')).toBe(false);
  });
});

// ---------------------------------------------------------------------------------------------
// A stub API server over HTTPS with a throwaway self-signed certificate (made with openssl).

interface Recorded {
  readonly method: string;
  readonly url: URL;
  readonly authorization: string;
  readonly contentType?: string;
  readonly body: string;
}

type Responder = (req: IncomingMessage, res: ServerResponse, body: string) => void;

class StubApiServer {
  readonly requests: Recorded[] = [];
  /** Answers for the next requests, in order; afterwards `fallback`. */
  readonly queue: Responder[] = [];
  endpoint = '';
  caData = '';
  /** TLS connections accepted since the start. */
  connections = 0;
  private server!: https.Server;
  fallback: Responder = (_req, res) => json(res, 200, configMap('default', 'cm', { key: SECRET }));

  async start(certDir: string): Promise<void> {
    const key = fs.readFileSync(path.join(certDir, 'key.pem'));
    const cert = fs.readFileSync(path.join(certDir, 'cert.pem'));
    this.caData = cert.toString('base64');
    this.server = https.createServer({ key, cert }, (req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        this.requests.push({
          method: req.method!,
          url: new URL(req.url!, this.endpoint),
          authorization: String(req.headers.authorization ?? ''),
          contentType: req.headers['content-type'],
          body,
        });
        (this.queue.shift() ?? this.fallback)(req, res, body);
      });
    });
    this.server.on('secureConnection', () => this.connections++);
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', () => resolve()));
    this.endpoint = `https://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  reset(): void {
    this.requests.length = 0;
    this.queue.length = 0;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** The token of the n-th recorded request. */
  token(n: number): string {
    return this.requests[n].authorization.replace(/^Bearer /, '');
  }
}

function json(res: ServerResponse, code: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(code, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}

function statusReply(code: number, reason: string, extra: object = {}): Responder {
  return (_req, res) => json(res, code, { kind: 'Status', apiVersion: 'v1', status: 'Failure', message: `echoes ${SECRET}`, reason, code, ...extra });
}

function configMap(namespace: string, name: string, data: Record<string, string>) {
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { namespace, name, uid: 'uid-1', resourceVersion: '7', managedFields: [{ manager: 'm', operation: 'Apply', fieldsV1: { 'f:data': {} } }] },
    data,
  };
}

describe('KubernetesAccess', () => {
  const stub = new StubApiServer();
  const output = new OutputCapture();
  const certDir = fs.mkdtempSync(path.join(os.tmpdir(), 'kube-unit-'));
  let restore: () => void;
  let cluster: KubernetesClusterConfig;
  const accesses: KubernetesAccess[] = [];
  /** Errors raised by the code under test, for the leak check. */
  const raised: string[] = [];

  beforeAll(async () => {
    const made = spawnSync('openssl', [
      'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=127.0.0.1',
      '-addext', 'subjectAltName=IP:127.0.0.1',
      '-keyout', path.join(certDir, 'key.pem'), '-out', path.join(certDir, 'cert.pem'),
    ], { encoding: 'utf8' });
    if (made.status !== 0) throw new Error(`openssl could not make a test certificate: ${made.stderr}`);
    await stub.start(certDir);
    cluster = { name: 'orders', region: 'eu-west-1', endpoint: stub.endpoint, certificateAuthorityData: stub.caData };
  });
  beforeEach(() => {
    restore = applyEnv(baseEnv);
    stub.reset();
    output.start();
  });
  afterEach(() => {
    output.stop();
    restore();
    const leaks = [...output.lines, ...raised].filter((line) => line.includes(SECRET));
    output.lines.length = 0;
    raised.length = 0;
    // Nothing the code under test logged or raised may contain a ConfigMap value.
    expect(leaks).toEqual([]);
  });
  afterAll(async () => {
    accesses.forEach((a) => a.close());
    await stub.stop();
    fs.rmSync(certDir, { recursive: true, force: true });
  });

  function access(options: ConstructorParameters<typeof KubernetesAccess>[1] = {}, clients = new ClientCache('us-east-1')): KubernetesAccess {
    const a = new KubernetesAccess(clients, options);
    accesses.push(a);
    return a;
  }

  async function apiError(promise: Promise<unknown>): Promise<KubernetesApiError> {
    const error = await promise.then(() => undefined, (e) => e);
    if (error === undefined) throw new Error('expected the call to fail');
    // inspect() is how a logger or an uncaught error prints it, with its stack and any cause.
    raised.push(String(error), JSON.stringify(error), inspect(error));
    expect(error).toBeInstanceOf(KubernetesApiError);
    // The client's ApiException, which quotes the response body, is not kept as the cause.
    expect((error as Error).cause).toBeUndefined();
    return error as KubernetesApiError;
  }

  describe('tokens', () => {
    test('reuses a token for 14 minutes, then mints one signed at the injected clock time', async () => {
      let now = SIGNING_DATE.getTime();
      const client = await access({ now: () => new Date(now) }).client(cluster);

      await client.getConfigMap('default', 'cm');
      now += 13 * MINUTE + 59_000;
      await client.getConfigMap('default', 'cm');
      now += 1_000;
      await client.getConfigMap('default', 'cm');

      expect(stub.token(0)).toMatch(/^k8s-aws-v1\./);
      expect(stub.token(1)).toBe(stub.token(0));
      expect(stub.token(2)).not.toBe(stub.token(0));
      expect(decode(stub.token(0)).searchParams.get('X-Amz-Date')).toBe('20240301T120000Z');
      expect(decode(stub.token(2)).searchParams.get('X-Amz-Date')).toBe('20240301T121400Z');
      expect(decode(stub.token(0)).searchParams.get('X-Amz-Credential')).toMatch(/\/eu-west-1\/sts\//);
    });

    test('honours a shorter tokenLifetimeMs and refuses one of 15 minutes or more', async () => {
      let now = SIGNING_DATE.getTime();
      const client = await access({ now: () => new Date(now), tokenLifetimeMs: 5 * MINUTE }).client(cluster);
      await client.getConfigMap('default', 'cm');
      now += 5 * MINUTE;
      await client.getConfigMap('default', 'cm');

      expect(stub.token(1)).not.toBe(stub.token(0));
      expect(() => new KubernetesAccess(new ClientCache('us-east-1'), { tokenLifetimeMs: 15 * MINUTE }))
        .toThrow('tokenLifetimeMs must be more than 0 and less than 900000 (15 minutes), but got 900000');
    });

    test('keeps one token per cluster name and region', async () => {
      const a = access({ now: () => SIGNING_DATE });
      await (await a.client(cluster)).getConfigMap('default', 'cm');
      await (await a.client({ ...cluster, name: 'payments' })).getConfigMap('default', 'cm');
      await (await a.client({ ...cluster, region: 'us-west-2' })).getConfigMap('default', 'cm');

      expect(new Set([stub.token(0), stub.token(1), stub.token(2)]).size).toBe(3);
      expect(decode(stub.token(2)).host).toBe('sts.us-west-2.amazonaws.com');
    });

    test('mints a new token a minute before the signing credentials expire', async () => {
      let now = SIGNING_DATE.getTime();
      const clients = new ClientCache('us-east-1');
      const sts = clients.get(STSClient, { region: cluster.region });
      (sts.config as any).credentials = async () => ({ ...CREDENTIALS, expiration: new Date(SIGNING_DATE.getTime() + 5 * MINUTE) });
      const client = await access({ now: () => new Date(now) }, clients).client(cluster);

      await client.getConfigMap('default', 'cm');
      now += 3 * MINUTE + 59_000;
      await client.getConfigMap('default', 'cm');
      now += 1_000;
      await client.getConfigMap('default', 'cm');

      expect(stub.token(1)).toBe(stub.token(0));
      expect(stub.token(2)).not.toBe(stub.token(0));
    });

    test('on 401 drops the token and retries once with a fresh one', async () => {
      let now = SIGNING_DATE.getTime();
      const client = await access({ now: () => new Date(now) }).client(cluster);
      stub.queue.push((req, res, body) => {
        now += 1_000; // the fresh token must differ from the rejected one
        statusReply(401, 'Unauthorized')(req, res, body);
      });

      expect((await client.getConfigMap('default', 'cm'))?.name).toBe('cm');

      expect(stub.requests).toHaveLength(2);
      expect(stub.token(1)).not.toBe(stub.token(0));
    });

    test('fails with Unauthorized after the one retry, and mints again on the next call', async () => {
      let now = SIGNING_DATE.getTime();
      const client = await access({ now: () => new Date(now) }).client(cluster);
      stub.queue.push(statusReply(401, 'Unauthorized'), statusReply(401, 'Unauthorized'));

      const error = await apiError(client.listConfigMaps('default'));
      now += 1_000;
      await client.listConfigMaps('default');

      expect(error).toMatchObject({ name: 'KubernetesApiError', statusCode: 401, reason: 'Unauthorized', message: 'LIST configmaps/default: 401 Unauthorized' });
      expect(stub.requests).toHaveLength(3);
      expect(stub.token(2)).not.toBe(stub.token(1));
    });
  });

  describe('requests', () => {
    test('retries 429 and 5xx, honouring Retry-After', async () => {
      const client = await access().client(cluster);
      stub.queue.push(
        (_req, res) => json(res, 429, { kind: 'Status', reason: 'TooManyRequests', code: 429 }, { 'retry-after': '1' }),
        statusReply(503, 'ServiceUnavailable'),
        statusReply(500, 'InternalError'),
      );
      const started = Date.now();

      expect((await client.getConfigMap('default', 'cm'))?.data).toEqual({ key: SECRET });

      expect(stub.requests).toHaveLength(4);
      expect(Date.now() - started).toBeGreaterThanOrEqual(1_000);
    });

    test('gives up after 4 attempts', async () => {
      const client = await access().client(cluster);
      stub.fallback = statusReply(503, 'ServiceUnavailable');
      try {
        const error = await apiError(client.deleteConfigMap('default', 'cm'));
        expect(error).toMatchObject({ statusCode: 503, reason: 'ServiceUnavailable', message: 'DELETE configmaps/default/cm: 503 ServiceUnavailable' });
        expect(stub.requests).toHaveLength(4);
      } finally {
        stub.fallback = (_req, res) => json(res, 200, configMap('default', 'cm', { key: SECRET }));
      }
    });

    test.each([
      [400, 'BadRequest'], [403, 'Forbidden'], [409, 'Conflict'], [413, 'RequestEntityTooLarge'], [422, 'Invalid'],
    ])('does not retry %d %s', async (code, reason) => {
      const client = await access().client(cluster);
      stub.queue.push(statusReply(code, reason));

      const error = await apiError(client.applyConfigMap({ namespace: 'default', name: 'cm', data: { key: SECRET }, fieldManager: 'm' }));

      expect(error).toMatchObject({ statusCode: code, reason });
      expect(stub.requests).toHaveLength(1);
    });

    test('reuses kept-alive TLS connections for the requests of a cluster, across token renewals', async () => {
      let now = SIGNING_DATE.getTime();
      const client = await access({ now: () => new Date(now) }).client(cluster);
      const before = stub.connections;

      for (let i = 0; i < 8; i++) await client.getConfigMap('default', 'cm');
      now += 15 * MINUTE;
      for (let i = 0; i < 2; i++) await client.listConfigMaps('default');

      expect(stub.token(9)).not.toBe(stub.token(0));
      // One connection pool per cluster: the 10 sequential requests share a connection or two
      // (undici may open a second one while the first is being released), not one each.
      expect(stub.connections - before).toBeLessThanOrEqual(3);
    });

    test('retries a connection reset under the request', async () => {
      const client = await access().client(cluster);
      stub.queue.push((req) => req.socket.destroy());

      expect(await client.listConfigMaps('default')).toHaveLength(0);
      expect(stub.requests).toHaveLength(2);
    });

    test('fails with ETIMEDOUT when the server does not answer in time, without retrying', async () => {
      const client = await access({ requestTimeoutMs: 200 }).client(cluster);
      const held: ServerResponse[] = [];
      stub.queue.push((_req, res) => held.push(res));

      const error = await apiError(client.getConfigMap('default', 'cm'));
      held.forEach((res) => res.destroy());

      expect(error).toMatchObject({ statusCode: 0, reason: 'ETIMEDOUT', message: 'GET configmaps/default/cm: ETIMEDOUT' });
      expect(stub.requests).toHaveLength(1);
    });

    test('reports field paths and cause reasons, never the Status message', async () => {
      const client = await access().client(cluster);
      stub.queue.push(statusReply(422, 'Invalid', {
        details: { causes: [{ reason: 'FieldValueInvalid', message: `Invalid value: "${SECRET}"`, field: 'metadata.labels' }, { reason: 'FieldValueTooLong', field: '[]' }] },
      }));

      const error = await apiError(client.applyConfigMap({ namespace: 'default', name: 'cm', data: { key: SECRET }, labels: { l: SECRET }, fieldManager: 'm' }));

      expect(error.message).toBe('PATCH configmaps/default/cm: 422 Invalid (fields: metadata.labels FieldValueInvalid, [] FieldValueTooLong)');
      expect(error.fields).toEqual(['metadata.labels', '[]']);
    });

    test('names the other field managers of an apply conflict', async () => {
      const client = await access().client(cluster);
      stub.queue.push(statusReply(409, 'Conflict', {
        details: {
          causes: [
            { reason: 'FieldManagerConflict', message: 'conflict with "helm"', field: '.data.a' },
            { reason: 'FieldManagerConflict', message: 'conflict with "argocd" using v1', field: '.data.b' },
          ],
        },
      }));

      const error = await apiError(client.applyConfigMap({ namespace: 'default', name: 'cm', data: { a: SECRET }, fieldManager: 'm' }));

      expect(error).toMatchObject({ reason: 'Conflict', conflictingManagers: ['helm', 'argocd'], fields: ['.data.a', '.data.b'] });
      expect(error.message).toBe('PATCH configmaps/default/cm: 409 Conflict (conflicting managers: helm, argocd; fields: .data.a, .data.b)');
    });

    test('uses the HTTP status when the body is not a Status', async () => {
      const client = await access().client(cluster);
      stub.queue.push((_req, res) => res.writeHead(403).end(`<html>${SECRET}</html>`));

      expect(await apiError(client.getConfigMap('default', 'cm'))).toMatchObject({ statusCode: 403, reason: 'Forbidden' });
    });

    test.each([
      ['application/json', `{"data": "${SECRET}`],
      ['text/html', `<html>${SECRET}</html>`],
    ])('fails with InvalidResponse, quoting nothing, when a 200 answer is %s that is not a ConfigMap', async (contentType, body) => {
      const client = await access().client(cluster);
      stub.queue.push((_req, res) => res.writeHead(200, { 'content-type': contentType }).end(body));

      const error = await apiError(client.getConfigMap('default', 'cm'));

      expect(error).toMatchObject({ statusCode: 0, reason: 'InvalidResponse', message: 'GET configmaps/default/cm: InvalidResponse' });
      expect(stub.requests).toHaveLength(1);
    });

    test('server-side applies with the field manager, force and dry run', async () => {
      const client = await access().client(cluster);
      stub.fallback = (_req, res, body) => json(res, 200, { ...JSON.parse(body), metadata: { ...JSON.parse(body).metadata, uid: 'u', resourceVersion: '1' } });
      try {
        const applied = await client.applyConfigMap({
          namespace: 'team-a', name: 'settings', data: { key: SECRET }, labels: { app: 'x' }, fieldManager: 'syncer', force: true, dryRun: true,
        });
        await client.applyConfigMap({ namespace: 'team-a', name: 'settings', data: {}, fieldManager: 'syncer' });

        const [first, second] = stub.requests;
        expect(first.method).toBe('PATCH');
        expect(first.url.pathname).toBe('/api/v1/namespaces/team-a/configmaps/settings');
        expect(Object.fromEntries(first.url.searchParams)).toEqual({ fieldManager: 'syncer', force: 'true', dryRun: 'All' });
        expect(first.contentType).toBe('application/apply-patch+yaml');
        expect(JSON.parse(first.body)).toEqual({
          apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'settings', namespace: 'team-a', labels: { app: 'x' } }, data: { key: SECRET },
        });
        expect(Object.fromEntries(second.url.searchParams)).toEqual({ fieldManager: 'syncer' });
        expect(JSON.parse(second.body)).toEqual({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'settings', namespace: 'team-a' }, data: {} });
        expect(applied).toMatchObject({ namespace: 'team-a', name: 'settings', data: { key: SECRET }, labels: { app: 'x' }, annotations: {}, uid: 'u' });
      } finally {
        stub.fallback = (_req, res) => json(res, 200, configMap('default', 'cm', { key: SECRET }));
      }
    });

    test('lists page by page with limit, continue and the label selector', async () => {
      const client = await access().client(cluster);
      stub.queue.push(
        (_req, res) => json(res, 200, { kind: 'ConfigMapList', metadata: { continue: 'page-2' }, items: [configMap('ns', 'a', {})] }),
        (_req, res) => json(res, 200, { kind: 'ConfigMapList', metadata: {}, items: [{ ...configMap('ns', 'b', {}), binaryData: { bin: 'AAE=' } }] }),
      );

      const items = await client.listConfigMaps('ns', { labelSelector: 'app=x,tier!=db' });

      expect(items.map((i) => [i.name, i.binaryDataKeys])).toEqual([['a', []], ['b', ['bin']]]);
      expect(stub.requests.map((r) => Object.fromEntries(r.url.searchParams))).toEqual([
        { limit: '100', labelSelector: 'app=x,tier!=db' },
        { limit: '100', labelSelector: 'app=x,tier!=db', continue: 'page-2' },
      ]);
    });

    test('returns undefined and false for a missing ConfigMap', async () => {
      const client = await access().client(cluster);
      stub.queue.push(statusReply(404, 'NotFound'), statusReply(404, 'NotFound'));

      expect(await client.getConfigMap('default', 'gone')).toBeUndefined();
      expect(await client.deleteConfigMap('default', 'gone')).toBe(false);
    });

    test('creates a missing namespace with server-side apply, and only reads an existing one', async () => {
      const client = await access().client(cluster);
      stub.queue.push(statusReply(404, 'NotFound'), (_req, res) => json(res, 201, { kind: 'Namespace' }), (_req, res) => json(res, 200, { kind: 'Namespace' }));

      await client.ensureNamespace('team-b', 'syncer');
      await client.ensureNamespace('team-b', 'syncer');

      expect(stub.requests.map((r) => `${r.method} ${r.url.pathname}${r.url.search}`)).toEqual([
        'GET /api/v1/namespaces/team-b',
        'PATCH /api/v1/namespaces/team-b?fieldManager=syncer',
        'GET /api/v1/namespaces/team-b',
      ]);
      expect(JSON.parse(stub.requests[1].body)).toEqual({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'team-b' } });
    });
  });

  describe('endpoint resolution', () => {
    const eks = mockClient(EKSClient);
    beforeEach(() => eks.reset());
    afterAll(() => eks.restore());

    test('describes the cluster once when the config has no endpoint or CA', async () => {
      eks.on(DescribeClusterCommand, { name: 'orders' }).resolves({
        cluster: { endpoint: stub.endpoint, certificateAuthority: { data: stub.caData } },
      });
      const a = access();
      const bare = { name: 'orders', region: 'eu-west-1' };

      const [c1, c2] = await Promise.all([a.client(bare), a.client(bare)]);
      await c1.getConfigMap('default', 'cm');

      expect(c2).toBe(c1);
      expect(eks.commandCalls(DescribeClusterCommand)).toHaveLength(1);
      expect(await eks.call(0).thisValue.config.region()).toBe('eu-west-1');
      expect(stub.requests).toHaveLength(1);
    });

    test('describes again after invalidate() and after a connection failure', async () => {
      eks.on(DescribeClusterCommand).resolves({ cluster: { endpoint: `https://127.0.0.1:${await closedLocalPort()}`, certificateAuthority: { data: stub.caData } } });
      const a = access();
      const bare = { name: 'orders', region: 'eu-west-1' };

      await a.client(bare);
      a.invalidate(bare);
      const client = await a.client(bare);
      expect((await apiError(client.getConfigMap('default', 'cm'))).reason).toBe('ECONNREFUSED');
      await a.client(bare);

      expect(eks.commandCalls(DescribeClusterCommand)).toHaveLength(3);
    });

    test('does not cache a failed DescribeCluster', async () => {
      eks.on(DescribeClusterCommand).rejectsOnce(Object.assign(new Error('throttled'), { name: 'ThrottlingException' }))
        .resolves({ cluster: { endpoint: stub.endpoint, certificateAuthority: { data: stub.caData } } });
      const a = access();

      await expect(a.client({ name: 'orders', region: 'eu-west-1' })).rejects.toThrow('throttled');
      await a.client({ name: 'orders', region: 'eu-west-1' });

      expect(eks.commandCalls(DescribeClusterCommand)).toHaveLength(2);
    });

    test('uses a configured endpoint and CA without DescribeCluster', async () => {
      await access().client(cluster);
      expect(eks.commandCalls(DescribeClusterCommand)).toHaveLength(0);
    });

    test('fails with BadPort, without connecting, for a port that fetch refuses', async () => {
      const client = await access().client({ ...cluster, endpoint: 'https://127.0.0.1:6000' });
      expect(await apiError(client.getConfigMap('default', 'cm'))).toMatchObject({ statusCode: 0, reason: 'BadPort', message: 'GET configmaps/default/cm: BadPort' });
    });

    test('fails for an http endpoint and for CA data that is not base64 PEM', async () => {
      await expect(access().client({ ...cluster, endpoint: stub.endpoint.replace('https:', 'http:') }))
        .rejects.toThrow(`the endpoint of cluster orders must be an https:// URL, but got "http://${new URL(stub.endpoint).host}"`);
      await expect(access().client({ ...cluster, certificateAuthorityData: Buffer.from('not a certificate').toString('base64') }))
        .rejects.toThrow('the certificate authority data of cluster orders in eu-west-1 is not base64 of a PEM certificate bundle');
    });
  });
});
