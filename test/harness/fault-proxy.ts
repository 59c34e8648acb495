import { randomUUID } from 'node:crypto';
import * as http from 'node:http';
import * as net from 'node:net';

/**
 * A fault the proxy answers with instead of forwarding.
 *
 * - `throttle`: HTTP 400 with the protocol's throttling error (`ThrottlingException` for JSON
 *   protocols, `Throttling` for the query protocol), which the SDK classifies as throttling.
 * - `server-error`: HTTP 500 (`InternalServiceError` for JSON, `InternalFailure` for query).
 * - `connection-refused`: the client socket is destroyed without a response, so the SDK sees a
 *   network error (`ECONNRESET` / socket hang up). A true `ECONNREFUSED` is impossible for one
 *   region only, because every region shares the proxy's single listening endpoint.
 */
export type Fault = 'throttle' | 'server-error' | 'connection-refused' | 'access-denied' | 'ignore-write' | 'too-many-updates';
// - `too-many-updates`: HTTP 400 `TooManyUpdates` (JSON), as Parameter Store answers concurrent
//   updates of one parameter; the SDK takes it for a client error and does not retry it.
// - `access-denied`: HTTP 400 `AccessDeniedException` (JSON) / `AccessDenied` (query), as IAM answers
//   a call the role's policy does not allow (moto enforces no IAM).
// - `ignore-write`: a Secrets Manager write (CreateSecret, UpdateSecret, PutSecretValue) is answered
//   with HTTP 200 and changes nothing, as Secrets Manager answers a request that repeats an existing
//   ClientRequestToken with the same value ("the request is ignored"); the answer names the secret's
//   current version (what moto answers then), so a client sees a write that did not land.

/** Which requests a fault applies to; an omitted filter matches every request. */
export interface FaultRule {
  /** Region from the SigV4 credential scope, e.g. `eu-west-1`. */
  readonly region?: string;
  /** Signing name from the SigV4 credential scope, e.g. `secretsmanager`, `sts`. */
  readonly service?: string;
  /** API operation, e.g. `GetSecretValue`, `AssumeRole`. REST-protocol requests have none. */
  readonly operation?: string;
  readonly fault: Fault;
  /** Chance (0..1) that a matching request is faulted. @default 1 */
  readonly probability?: number;
  /** Maximum number of injections; the rule is inert afterwards. @default - unlimited */
  readonly times?: number;
  /** Substring of the request's User-Agent, e.g. `app/writer-a` (set with AWS_SDK_UA_APP_ID). @default - any client */
  readonly userAgent?: string;
}

/** A delay the proxy adds to matching requests; filters as in {@link FaultRule}. */
export interface DelayRule {
  readonly region?: string;
  readonly service?: string;
  readonly operation?: string;
  readonly userAgent?: string;
  /** Milliseconds to hold the request before forwarding it (so it lands upstream that much later). */
  readonly delayMs: number;
  /**
   * Also hold the request until this settles, e.g. until another client's request has finished,
   * which orders two writers without depending on timing. @default - the delay alone
   */
  readonly until?: Promise<unknown>;
  /** Maximum number of delayed requests. @default - unlimited */
  readonly times?: number;
}

/**
 * Stand-ins for documented Secrets Manager behaviour that moto lacks (each named by the moto
 * behaviour it corrects). All off by default, so the proxy stays transparent.
 */
export interface SecretsManagerStandIns {
  /**
   * moto keeps a "default version" that UpdateSecretVersionStage does not move, and
   * BatchGetSecretValue and GetSecretValue without VersionId/VersionStage read it: after a rotation
   * rollback they return the earlier version. With this on, GetSecretValue without either is sent
   * with VersionStage AWSCURRENT, and BatchGetSecretValue by SecretIdList is answered from one
   * GetSecretValue (VersionStage AWSCURRENT) per id, as Secrets Manager returns AWSCURRENT.
   */
  readonly awsCurrentReads?: boolean;
  /**
   * After UpdateSecretVersionStage moved AWSCURRENT, moto's next value write labels its stale
   * default version AWSPREVIOUS and leaves AWSCURRENT on the version it was moved to, so two
   * versions carry AWSCURRENT. With this on, after every value write that makes a new AWSCURRENT
   * version, AWSCURRENT is removed from any other version (moto then moves AWSPREVIOUS to it), as
   * Secrets Manager keeps exactly one AWSCURRENT.
   */
  readonly singleCurrentStage?: boolean;
}
/**
 * Stand-ins for documented Parameter Store behaviour that moto lacks. All off by default.
 */
export interface ParameterStoreStandIns {
  /**
   * moto accepts a PutParameter value of any length in any tier and lets an Advanced parameter be
   * overwritten as Standard. With this on, a value longer than its tier allows (Standard 4,096
   * bytes, Advanced and Intelligent-Tiering 8,192) and an overwrite asking an Advanced parameter
   * for the Standard tier are answered with Parameter Store's ValidationException.
   */
  readonly tierLimits?: boolean;
}

/** Request counts for one `${service}:${region}:${operation}` key, or for all requests. */
export interface RequestCounts {
  forwarded: number;
  injected: number;
}

export interface FaultProxyStats extends RequestCounts {
  /** Keyed by `${service}:${region}:${operation}`; unknown parts are `unknown`. */
  byOperation: Record<string, RequestCounts>;
}

/** A running fault-injecting proxy; see {@link startFaultProxy}. */
export interface FaultProxy {
  /** Base URL to configure as the SDK `endpoint`, e.g. `http://127.0.0.1:41235`. */
  readonly endpoint: string;
  readonly port: number;
  /** Adds a rule. Rules are tried in the order added; the first one that matches and wins its roll injects. */
  addRule(rule: FaultRule): void;
  /** Removes every fault rule and every delay rule. */
  clearRules(): void;
  /** Adds a delay rule; every matching delay rule applies (their delays add up). */
  addDelay(rule: DelayRule): void;
  stats(): FaultProxyStats;
  resetStats(): void;
  /** Closes the listener and every open (keep-alive) connection. */
  stop(): Promise<void>;
  /**
   * Adds an observer of every forwarded request (injected faults are not observed): `before` runs
   * before the request is forwarded (so it can look at the state the request will change), `after`
   * once the whole response has been received. The IAM recorder (test/harness/iam-recorder.ts) uses it.
   */
  observe(observer: ExchangeObserver): void;
}

/** A forwarded request, as the proxy received it. */
export interface ObservedRequest {
  readonly id: RequestIdentity;
  readonly method: string;
  readonly url: string;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: Buffer;
}

/** The response to an {@link ObservedRequest}. */
export interface ObservedResponse {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: Buffer;
}

/** See {@link FaultProxy.observe}. */
export interface ExchangeObserver {
  /** Runs before the request is forwarded; the request waits for it. Its result is passed to `after`. */
  before?(request: ObservedRequest): Promise<unknown>;
  after(request: ObservedRequest, response: ObservedResponse, before: unknown): void;
}

/** Options for {@link startFaultProxy}. */
export interface FaultProxyOptions {
  /** Base URL requests are forwarded to, normally `MotoServer.endpoint`. */
  readonly target: string;
  /** Seed for the PRNG that decides probabilistic faults, so runs repeat exactly. @default 1 */
  readonly seed?: number;
  /** Secrets Manager behaviour moto lacks, supplied by the proxy. @default - none */
  readonly standIns?: SecretsManagerStandIns;
  /** Parameter Store behaviour moto lacks, supplied by the proxy. @default - none */
  readonly ssmStandIns?: ParameterStoreStandIns;
}

/** How the proxy understands a request. */
export interface RequestIdentity {
  region: string;
  service: string;
  operation: string;
  /** `json` (X-Amz-Target), `query` (form-encoded Action) or `rest` (anything else). */
  protocol: 'json' | 'query' | 'rest';
}

const UNKNOWN = 'unknown';
/** Headers that describe one connection and must not be copied to the next hop (RFC 9110 7.6.1). */
const HOP_BY_HOP = ['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'te', 'trailer', 'upgrade'];
/** Longer than any test, so the server never closes an idle socket the SDK is about to reuse. */
const KEEP_ALIVE_TIMEOUT_MS = 120_000;

/**
 * Starts an HTTP proxy on a free loopback port that forwards to `target` and injects faults by rule.
 *
 * Request bodies are buffered (test requests are small) so a query-protocol `Action` can be read
 * before deciding; responses stream through unchanged.
 *
 * @example
 * const proxy = await startFaultProxy({ target: moto.endpoint, seed: 42 });
 * proxy.addRule({ region: 'eu-west-1', operation: 'GetSecretValue', fault: 'throttle', times: 2 });
 * const client = new SecretsManagerClient({ region: 'eu-west-1', endpoint: proxy.endpoint });
 */
export async function startFaultProxy(options: FaultProxyOptions): Promise<FaultProxy> {
  const target = new URL(options.target);
  const random = mulberry32(options.seed ?? 1);
  let rules: Array<{ rule: FaultRule; remaining: number }> = [];
  let delays: Array<{ rule: DelayRule; remaining: number }> = [];
  const standIns = options.standIns ?? {};
  let totals: RequestCounts = { forwarded: 0, injected: 0 };
  let byOperation: Record<string, RequestCounts> = {};
  const observers: ExchangeObserver[] = [];

  const pickFault = (id: RequestIdentity, userAgent: string): Fault | undefined => {
    for (const active of rules) {
      const { rule } = active;
      if (active.remaining <= 0) continue;
      if (!matches(rule, id, userAgent)) continue;
      // Only probabilistic rules draw, so adding a certain rule does not shift the sequence.
      const probability = rule.probability ?? 1;
      if (probability < 1 && random() >= probability) continue;
      active.remaining--;
      return rule.fault;
    }
    return undefined;
  };

  const delayFor = (id: RequestIdentity, userAgent: string): { ms: number; gates: Array<Promise<unknown>> } => {
    let ms = 0;
    const gates: Array<Promise<unknown>> = [];
    for (const active of delays) {
      if (active.remaining <= 0 || !matches(active.rule, id, userAgent)) continue;
      active.remaining--;
      ms += active.rule.delayMs;
      if (active.rule.until) gates.push(active.rule.until.catch(() => undefined));
    }
    return { ms, gates };
  };

  const upstreamJson = (req: http.IncomingMessage, operation: string, input: unknown) =>
    callUpstreamJson(target, req.headers, `secretsmanager.${operation}`, input);

  /** Answers the request itself when a stand-in or an `ignore-write` fault covers it; false otherwise. */
  const answerLocally = async (
    id: RequestIdentity, req: http.IncomingMessage, res: http.ServerResponse, body: Buffer, fault: Fault | undefined,
  ): Promise<boolean> => {
    if (options.ssmStandIns?.tierLimits && id.service === 'ssm' && id.operation === 'PutParameter' && fault === undefined) {
      return refuseBeyondTier(target, req, res, parseJson(body));
    }
    if (id.service !== 'secretsmanager' || id.protocol !== 'json') return false;
    if (fault === 'ignore-write' && WRITE_OPERATIONS.has(id.operation)) {
      const input = parseJson(body);
      const described = await upstreamJson(req, 'DescribeSecret', { SecretId: input.SecretId ?? input.Name });
      if (described.status !== 200) {
        sendRaw(res, described);
        return true;
      }
      const d = described.json;
      send(res, 200, { 'content-type': 'application/x-amz-json-1.1' },
        JSON.stringify({ ARN: d.ARN, Name: d.Name, VersionId: currentOf(d.VersionIdsToStages) }));
      return true;
    }
    if (standIns.awsCurrentReads && id.operation === 'BatchGetSecretValue') {
      const input = parseJson(body);
      if (!Array.isArray(input.SecretIdList)) return false;
      const SecretValues: unknown[] = [];
      const Errors: unknown[] = [];
      for (const secretId of input.SecretIdList as string[]) {
        const got = await upstreamJson(req, 'GetSecretValue', { SecretId: secretId, VersionStage: 'AWSCURRENT' });
        if (got.status === 200) SecretValues.push(got.json);
        else Errors.push({ SecretId: secretId, ErrorCode: got.json.__type?.split('#').pop() ?? 'Error', Message: got.json.message ?? got.json.Message });
      }
      send(res, 200, { 'content-type': 'application/x-amz-json-1.1' }, JSON.stringify({ SecretValues, Errors }));
      return true;
    }
    return false;
  };

  /** The request body to forward: with AWSCURRENT named where the stand-in asks for it. */
  const rewriteBody = (id: RequestIdentity, body: Buffer): Buffer => {
    if (!standIns.awsCurrentReads || id.service !== 'secretsmanager' || id.operation !== 'GetSecretValue') return body;
    const input = parseJson(body);
    if (input.VersionId !== undefined || input.VersionStage !== undefined) return body;
    return Buffer.from(JSON.stringify({ ...input, VersionStage: 'AWSCURRENT' }));
  };

  /** After a forwarded value write: keep exactly one AWSCURRENT (the stand-in for moto's double label). */
  const afterWrite = async (id: RequestIdentity, req: http.IncomingMessage, requestBody: Buffer, status: number, responseBody: Buffer) => {
    if (!standIns.singleCurrentStage || id.service !== 'secretsmanager' || status !== 200 || !WRITE_OPERATIONS.has(id.operation)) return;
    const input = parseJson(requestBody);
    const stages: unknown = input.VersionStages;
    if (Array.isArray(stages) && !stages.includes('AWSCURRENT')) return;
    const newVersion = parseJson(responseBody).VersionId;
    if (typeof newVersion !== 'string') return;
    const described = await upstreamJson(req, 'DescribeSecret', { SecretId: input.SecretId ?? input.Name });
    const byVersion: Record<string, string[]> = described.json.VersionIdsToStages ?? {};
    // A later write already superseded this one: its own fix-up decides.
    if (!byVersion[newVersion]?.includes('AWSCURRENT')) return;
    for (const [version, labels] of Object.entries(byVersion)) {
      if (version !== newVersion && labels.includes('AWSCURRENT')) {
        await upstreamJson(req, 'UpdateSecretVersionStage', { SecretId: described.json.ARN, VersionStage: 'AWSCURRENT', RemoveFromVersionId: version });
      }
    }
  };

  const handle = async (req: http.IncomingMessage, res: http.ServerResponse, originalBody: Buffer) => {
    const id = identifyRequest(req.headers, req.url ?? '/', originalBody);
    const userAgent = String(req.headers['user-agent'] ?? '') + ' ' + String(req.headers['x-amz-user-agent'] ?? '');
    const counts = (byOperation[`${id.service}:${id.region}:${id.operation}`] ??= { forwarded: 0, injected: 0 });
    const fault = pickFault(id, userAgent);
    if (fault && fault !== 'ignore-write') {
      counts.injected++;
      totals.injected++;
      injectFault(fault, id, req, res);
      return;
    }
    const delay = delayFor(id, userAgent);
    if (delay.ms > 0) await new Promise((r) => setTimeout(r, delay.ms));
    await Promise.all(delay.gates);
    if (await answerLocally(id, req, res, originalBody, fault)) {
      if (fault) {
        counts.injected++;
        totals.injected++;
      } else {
        counts.forwarded++;
        totals.forwarded++;
      }
      return;
    }
    counts.forwarded++;
    totals.forwarded++;
    const body = rewriteBody(id, originalBody);
    const needsAfter = Boolean(standIns.singleCurrentStage) && WRITE_OPERATIONS.has(id.operation);
    const observed: ObservedRequest = { id, method: req.method ?? 'GET', url: req.url ?? '/', headers: req.headers, body };
    const before = await Promise.all(observers.map((o) => o.before?.(observed)));
    const headers = withoutHopByHop({ ...req.headers, 'content-length': String(body.length) });
    // A fresh upstream connection per request (agent: false): moto may close idle sockets, and a
    // reused dead socket would surface as a fault nobody injected.
    const upstream = http.request(
      { hostname: target.hostname, port: target.port, path: req.url, method: req.method, headers, agent: false },
      (upRes) => {
        const notify = (responseBody: Buffer) => {
          const response: ObservedResponse = { status: upRes.statusCode ?? 502, headers: upRes.headers, body: responseBody };
          observers.forEach((o, i) => o.after(observed, response, before[i]));
        };
        if (!needsAfter) {
          res.writeHead(upRes.statusCode ?? 502, upRes.statusMessage, withoutHopByHop(upRes.headers));
          if (observers.length > 0) {
            const seen: Buffer[] = [];
            upRes.on('data', (chunk: Buffer) => seen.push(chunk));
            upRes.once('end', () => notify(Buffer.concat(seen)));
          }
          upRes.pipe(res);
          return;
        }
        // Hold the answer until the stand-in has fixed the labels, so the client never sees two AWSCURRENT.
        const chunks: Buffer[] = [];
        upRes.on('data', (c: Buffer) => chunks.push(c));
        upRes.once('end', () => {
          const responseBody = Buffer.concat(chunks);
          if (observers.length > 0) notify(responseBody);
          afterWrite(id, req, body, upRes.statusCode ?? 502, responseBody).catch(() => undefined).finally(() => {
            res.writeHead(upRes.statusCode ?? 502, upRes.statusMessage, { ...withoutHopByHop(upRes.headers), 'content-length': String(responseBody.length) });
            res.end(responseBody);
          });
        });
      },
    );
    upstream.once('error', (err) => {
      if (res.headersSent) {
        res.destroy(err);
        return;
      }
      send(res, 502, { 'content-type': 'text/plain' }, `fault proxy: forwarding to ${target.origin} failed: ${err.message}`);
    });
    upstream.end(body);
  };

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.once('end', () => {
      handle(req, res, Buffer.concat(chunks)).catch((err: Error) => {
        if (!res.headersSent) send(res, 502, { 'content-type': 'text/plain' }, `fault proxy: ${err.message}`);
        else res.destroy(err);
      });
    });
  });
  server.keepAliveTimeout = KEEP_ALIVE_TIMEOUT_MS;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as net.AddressInfo).port;

  return {
    endpoint: `http://127.0.0.1:${port}`,
    port,
    addRule: (rule) => {
      const probability = rule.probability ?? 1;
      if (!(probability >= 0 && probability <= 1)) {
        throw new Error(`probability must be between 0 and 1, but got ${rule.probability}`);
      }
      const times = rule.times ?? Infinity;
      if (!(times >= 0)) throw new Error(`times must be 0 or more, but got ${rule.times}`);
      rules.push({ rule, remaining: times });
    },
    clearRules: () => {
      rules = [];
      delays = [];
    },
    addDelay: (rule) => {
      if (!(rule.delayMs >= 0)) throw new Error(`delayMs must be 0 or more, but got ${rule.delayMs}`);
      const times = rule.times ?? Infinity;
      if (!(times >= 0)) throw new Error(`times must be 0 or more, but got ${rule.times}`);
      delays.push({ rule, remaining: times });
    },
    observe: (observer) => { observers.push(observer); },
    stats: () => structuredClone({ ...totals, byOperation }),
    resetStats: () => {
      totals = { forwarded: 0, injected: 0 };
      byOperation = {};
    },
    stop: () => new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    }),
  };
}

/**
 * Reads region and service from the SigV4 credential scope (`Authorization` header or presigned
 * `X-Amz-Credential` parameter) and the operation from `X-Amz-Target` (JSON protocols) or `Action`
 * (query protocol, form body or query string).
 */
export function identifyRequest(headers: http.IncomingHttpHeaders, url: string, body: Buffer): RequestIdentity {
  const query = new URL(url, 'http://proxy.invalid').searchParams;
  const scope = /Credential=[^/,\s]+\/\d{8}\/([^/]+)\/([^/]+)\/aws4_request/.exec(headers.authorization ?? '')
    ?? /^[^/]+\/\d{8}\/([^/]+)\/([^/]+)\/aws4_request$/.exec(query.get('X-Amz-Credential') ?? '');
  const region = scope?.[1] ?? UNKNOWN;
  const service = scope?.[2] ?? UNKNOWN;

  const amzTarget = headers['x-amz-target'];
  if (typeof amzTarget === 'string') {
    // `secretsmanager.CreateSecret`, `AWSSecurityTokenServiceV20110615.GetCallerIdentity`
    return { region, service, operation: amzTarget.slice(amzTarget.lastIndexOf('.') + 1), protocol: 'json' };
  }
  const form = (headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded')
    ? new URLSearchParams(body.toString('utf8'))
    : undefined;
  const action = form?.get('Action') ?? query.get('Action');
  if (action) return { region, service, operation: action, protocol: 'query' };
  return { region, service, operation: UNKNOWN, protocol: 'rest' };
}

/** Answers with `fault` in the wire format of the request's protocol. */
function injectFault(fault: Fault, id: RequestIdentity, req: http.IncomingMessage, res: http.ServerResponse): void {
  if (fault === 'connection-refused') {
    req.socket.destroy();
    return;
  }
  const requestId = randomUUID();
  if (fault === 'access-denied') {
    if (id.protocol === 'query') {
      const xml = `<ErrorResponse><Error><Type>Sender</Type><Code>AccessDenied</Code><Message>injected: not authorized</Message></Error><RequestId>${requestId}</RequestId></ErrorResponse>`;
      send(res, 403, { 'content-type': 'text/xml', 'x-amzn-requestid': requestId }, xml);
      return;
    }
    const requestType = req.headers['content-type'] ?? '';
    const contentType = requestType.startsWith('application/x-amz-json-') ? requestType : 'application/x-amz-json-1.1';
    send(res, 400, { 'content-type': contentType, 'x-amzn-requestid': requestId, 'x-amzn-errortype': 'AccessDeniedException' },
      JSON.stringify({ __type: 'AccessDeniedException', message: 'injected: not authorized' }));
    return;
  }
  if (fault === 'too-many-updates') {
    send(res, 400, { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-requestid': requestId, 'x-amzn-errortype': 'TooManyUpdates' },
      JSON.stringify({ __type: 'TooManyUpdates', message: 'There are concurrent updates for a resource that supports one update at a time.' }));
    return;
  }
  const throttle = fault === 'throttle';
  if (id.protocol === 'query') {
    const [type, code, message] = throttle ? ['Sender', 'Throttling', 'Rate exceeded'] : ['Receiver', 'InternalFailure', 'injected'];
    const xml = `<ErrorResponse><Error><Type>${type}</Type><Code>${code}</Code><Message>${message}</Message></Error><RequestId>${requestId}</RequestId></ErrorResponse>`;
    send(res, throttle ? 400 : 500, { 'content-type': 'text/xml', 'x-amzn-requestid': requestId }, xml);
    return;
  }
  const [code, message] = throttle ? ['ThrottlingException', 'Rate exceeded'] : ['InternalServiceError', 'injected'];
  // Echo the request's JSON protocol version (1.0 or 1.1); REST-JSON clients read x-amzn-errortype.
  const requestType = req.headers['content-type'] ?? '';
  const contentType = requestType.startsWith('application/x-amz-json-') ? requestType : 'application/x-amz-json-1.1';
  send(res, throttle ? 400 : 500, { 'content-type': contentType, 'x-amzn-requestid': requestId, 'x-amzn-errortype': code },
    JSON.stringify({ __type: code, message }));
}

/** Secrets Manager operations that write a secret value (and take a ClientRequestToken). */
const WRITE_OPERATIONS = new Set(['CreateSecret', 'UpdateSecret', 'PutSecretValue']);

type Filter = { region?: string; service?: string; operation?: string; userAgent?: string };

function matches(rule: Filter, id: RequestIdentity, userAgent: string): boolean {
  return (rule.region === undefined || rule.region === id.region)
    && (rule.service === undefined || rule.service === id.service)
    && (rule.operation === undefined || rule.operation === id.operation)
    && (rule.userAgent === undefined || userAgent.includes(rule.userAgent));
}

function parseJson(body: Buffer): Record<string, any> {
  try {
    const parsed = JSON.parse(body.toString('utf8') || '{}');
    return parsed !== null && typeof parsed === 'object' ? parsed : {};
  } catch {
    return {};
  }
}

function currentOf(stages: Record<string, string[]> | undefined): string | undefined {
  return Object.entries(stages ?? {}).find(([, labels]) => labels.includes('AWSCURRENT'))?.[0];
}

interface UpstreamAnswer {
  status: number;
  headers: http.IncomingHttpHeaders;
  raw: Buffer;
  json: Record<string, any>;
}

/** One JSON-protocol call to the target, signed as the client's request was (moto reads the region from it). */
function callUpstreamJson(target: URL, clientHeaders: http.IncomingHttpHeaders, amzTarget: string, input: unknown): Promise<UpstreamAnswer> {
  const body = Buffer.from(JSON.stringify(input));
  const headers: http.OutgoingHttpHeaders = {
    'authorization': clientHeaders.authorization,
    'x-amz-date': clientHeaders['x-amz-date'],
    'x-amz-target': amzTarget,
    'content-type': 'application/x-amz-json-1.1',
    'content-length': String(body.length),
  };
  return new Promise((resolve, reject) => {
    const upstream = http.request({ hostname: target.hostname, port: target.port, path: '/', method: 'POST', headers, agent: false }, (upRes) => {
      const chunks: Buffer[] = [];
      upRes.on('data', (c: Buffer) => chunks.push(c));
      upRes.once('end', () => {
        const raw = Buffer.concat(chunks);
        resolve({ status: upRes.statusCode ?? 502, headers: upRes.headers, raw, json: parseJson(raw) });
      });
      upRes.once('error', reject);
    });
    upstream.once('error', reject);
    upstream.end(body);
  });
}

/** Parameter Store's tier rules for one PutParameter (see `ParameterStoreStandIns.tierLimits`); true when it answered. */
async function refuseBeyondTier(target: URL, req: http.IncomingMessage, res: http.ServerResponse, input: Record<string, any>): Promise<boolean> {
  const refuse = (message: string) => {
    send(res, 400, { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-errortype': 'ValidationException' },
      JSON.stringify({ __type: 'ValidationException', message }));
    return true;
  };
  const bytes = Buffer.byteLength(String(input.Value ?? ''), 'utf8');
  const tier = input.Tier ?? 'Standard';
  if (tier === 'Standard' && bytes > 4096) {
    return refuse('Standard tier parameters support a maximum parameter value of 4096 characters. To create a larger parameter value, upgrade the parameter to use the advanced-parameter tier.');
  }
  if (bytes > 8192) return refuse('Advanced tier parameters support a maximum parameter value of 8192 characters.');
  if (tier === 'Standard' && input.Overwrite) {
    const history = await callUpstreamJson(target, req.headers, 'AmazonSSM.GetParameterHistory', { Name: input.Name, MaxResults: 50 });
    const versions: Array<{ Tier?: string }> = history.json.Parameters ?? [];
    if (history.status === 200 && versions.at(-1)?.Tier === 'Advanced') {
      return refuse('This parameter uses the advanced-parameter tier. You can\'t downgrade a parameter from the advanced-parameter tier to the standard-parameter tier.');
    }
  }
  return false;
}

function sendRaw(res: http.ServerResponse, answer: UpstreamAnswer): void {
  res.writeHead(answer.status, { ...withoutHopByHop(answer.headers), 'content-length': String(answer.raw.length) }).end(answer.raw);
}

function send(res: http.ServerResponse, status: number, headers: http.OutgoingHttpHeaders, body: string): void {
  res.writeHead(status, { ...headers, 'content-length': Buffer.byteLength(body) }).end(body);
}

function withoutHopByHop(headers: http.IncomingHttpHeaders): http.OutgoingHttpHeaders {
  const copy: http.OutgoingHttpHeaders = { ...headers };
  for (const name of HOP_BY_HOP) delete copy[name];
  return copy;
}

/** mulberry32: a tiny, well-distributed 32-bit PRNG; returns numbers in [0, 1). */
function mulberry32(seed: number): () => number {
  /* eslint-disable no-bitwise -- the algorithm is defined in 32-bit integer arithmetic */
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = Math.imul(state ^ (state >>> 15), state | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
  /* eslint-enable no-bitwise */
}
