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
export type Fault = 'throttle' | 'server-error' | 'connection-refused';

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
  clearRules(): void;
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
  let totals: RequestCounts = { forwarded: 0, injected: 0 };
  let byOperation: Record<string, RequestCounts> = {};
  const observers: ExchangeObserver[] = [];

  const pickFault = (id: RequestIdentity): Fault | undefined => {
    for (const active of rules) {
      const { rule } = active;
      if (active.remaining <= 0) continue;
      if (rule.region !== undefined && rule.region !== id.region) continue;
      if (rule.service !== undefined && rule.service !== id.service) continue;
      if (rule.operation !== undefined && rule.operation !== id.operation) continue;
      // Only probabilistic rules draw, so adding a certain rule does not shift the sequence.
      const probability = rule.probability ?? 1;
      if (probability < 1 && random() >= probability) continue;
      active.remaining--;
      return rule.fault;
    }
    return undefined;
  };

  const handle = async (req: http.IncomingMessage, res: http.ServerResponse, body: Buffer) => {
    const id = identifyRequest(req.headers, req.url ?? '/', body);
    const counts = (byOperation[`${id.service}:${id.region}:${id.operation}`] ??= { forwarded: 0, injected: 0 });
    const fault = pickFault(id);
    if (fault) {
      counts.injected++;
      totals.injected++;
      injectFault(fault, id, req, res);
      return;
    }
    counts.forwarded++;
    totals.forwarded++;
    const observed: ObservedRequest = { id, method: req.method ?? 'GET', url: req.url ?? '/', headers: req.headers, body };
    const before = await Promise.all(observers.map((o) => o.before?.(observed)));
    const headers = withoutHopByHop({ ...req.headers, 'content-length': String(body.length) });
    // A fresh upstream connection per request (agent: false): moto may close idle sockets, and a
    // reused dead socket would surface as a fault nobody injected.
    const upstream = http.request(
      { hostname: target.hostname, port: target.port, path: req.url, method: req.method, headers, agent: false },
      (upRes) => {
        res.writeHead(upRes.statusCode ?? 502, upRes.statusMessage, withoutHopByHop(upRes.headers));
        if (observers.length > 0) {
          const chunks: Buffer[] = [];
          upRes.on('data', (chunk: Buffer) => chunks.push(chunk));
          upRes.once('end', () => {
            const response: ObservedResponse = { status: upRes.statusCode ?? 502, headers: upRes.headers, body: Buffer.concat(chunks) };
            observers.forEach((o, i) => o.after(observed, response, before[i]));
          });
        }
        upRes.pipe(res);
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
        if (!res.headersSent) send(res, 502, { 'content-type': 'text/plain' }, `fault proxy: observer failed: ${err.message}`);
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
    clearRules: () => { rules = []; },
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
  const throttle = fault === 'throttle';
  const requestId = randomUUID();
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
