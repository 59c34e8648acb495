import type { IncomingHttpHeaders } from 'node:http';
import * as https from 'node:https';
import type { KubernetesClusterConfig } from '../../../src/private/kubernetes-contract';
import { logger } from '../observability';
import { fullJitterDelayMs } from '../retry';
import { errorDetailsFromResponse, isRetryable, KubernetesApiError, networkErrorDetails } from './errors';

/** One entry of `metadata.managedFields`: who owns which fields, and how they got them. */
export interface ManagedFieldsEntry {
  /** Field manager name (the `fieldManager` of the writes). */
  readonly manager: string;
  /** `Apply` (server-side apply) or `Update` (any other write). */
  readonly operation: string;
  /** The owned fields in the `FieldsV1` format (nested `f:<name>` keys). */
  readonly fieldsV1?: unknown;
  /** When this manager last changed its fields (RFC 3339, whole seconds); the drift detector's grace window reads it. */
  readonly time?: string;
}

/** A ConfigMap as read from the cluster. Holds data values: never log it as a whole. */
export interface ConfigMapObject {
  readonly namespace: string;
  readonly name: string;
  readonly data: Record<string, string>;
  /** Keys of `binaryData`; the bytes are not kept. */
  readonly binaryDataKeys: string[];
  readonly annotations: Record<string, string>;
  readonly labels: Record<string, string>;
  readonly resourceVersion: string;
  readonly uid: string;
  readonly managedFields: ManagedFieldsEntry[];
}

/** A server-side apply of one ConfigMap: the complete set of fields this field manager owns. */
export interface ApplyConfigMapRequest {
  readonly namespace: string;
  readonly name: string;
  /** Keys this manager owns; keys it applied before and omits now are removed. */
  readonly data: Record<string, string>;
  /** Omitted means "owns no annotations": ones this manager applied before are removed. */
  readonly annotations?: Record<string, string>;
  /** Omitted means "owns no labels": ones this manager applied before are removed. */
  readonly labels?: Record<string, string>;
  /** Server-side apply field manager (at most 128 characters). */
  readonly fieldManager: string;
  /**
   * Take ownership of fields another manager owns. Without it a conflict fails the call with a
   * {@link KubernetesApiError} of reason `Conflict` naming the other managers.
   * @default false
   */
  readonly force?: boolean;
  /** Validate and compute the result without persisting it (`dryRun=All`). @default false */
  readonly dryRun?: boolean;
}

/** Where a {@link KubernetesClient} gets its bearer tokens. */
export interface TokenSource {
  /** A token that is believed valid; mints one when none is. */
  token(): Promise<string>;
  /** Drops `token` (rejected with 401) so that the next `token()` mints a fresh one. */
  invalidate(token: string): void;
}

/** How a {@link KubernetesClient} reaches its API server. */
export interface KubernetesConnection {
  /** `https://` URL of the API server. */
  readonly endpoint: string;
  /** PEM bundle the server certificate must chain to. */
  readonly caPem: string;
  /** Deadline of one HTTP attempt (ms). */
  readonly requestTimeoutMs: number;
  /** Called when a call finally fails with a network or TLS error (the endpoint may have moved). */
  readonly onConnectionError?: () => void;
}

/**
 * Retries of 429, 5xx and reset connections: 3 retries with full jitter from a 200 ms base,
 * capped at 2 s, so a struggling API server costs a call at most ~4 s of waiting on top of the
 * attempts themselves.
 */
const BACKOFF = { maxAttempts: 4, baseDelayMs: 200, maxDelayMs: 2_000 };
/** Longest `Retry-After` honoured (ms): a Lambda invocation cannot wait minutes. */
const MAX_RETRY_AFTER_MS = 10_000;
/** ConfigMaps per LIST page; each is at most 1 MiB, so a page stays within Lambda memory. */
const LIST_PAGE_SIZE = 100;
/** Largest response body read (bytes): a page of {@link LIST_PAGE_SIZE} objects of 1 MiB, with room. */
const MAX_RESPONSE_BYTES = 128 * 1024 * 1024;
/** Sockets per API server: bounded fan-out from one Lambda environment. */
const MAX_SOCKETS = 16;
const USER_AGENT = 'cdk-cross-region-config';

interface Operation {
  /** Value-free label for errors and logs, e.g. `PATCH configmaps/ns/name`. */
  readonly label: string;
  readonly method: 'GET' | 'PATCH' | 'DELETE';
  readonly path: string;
  readonly query?: Record<string, string | undefined>;
  readonly body?: Buffer;
  readonly contentType?: string;
  /** Error statuses the caller handles itself (e.g. 404 on GET). */
  readonly passStatuses?: readonly number[];
}

interface RawResponse {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
}

/**
 * A client for one EKS cluster's API server, limited to what the ConfigMap handlers need. Obtain
 * it from {@link KubernetesAccess.client}; it shares one keep-alive TLS agent (verifying the
 * cluster CA) and the cluster's token cache across calls.
 *
 * Failures are {@link KubernetesApiError}s. 429, 5xx and reset connections are retried with
 * jittered backoff (honouring `Retry-After`); a 401 drops the token and retries once with a fresh
 * one; other 4xx are final. Nothing it logs or throws contains a ConfigMap value.
 *
 * @example
 * const client = await access.client({ name: 'prod', region: 'eu-west-1' });
 * await client.applyConfigMap({ namespace: 'app', name: 'settings', data: { mode: 'blue' }, fieldManager: 'config-syncer' });
 */
export class KubernetesClient {
  private readonly agent: https.Agent;
  private readonly base: URL;

  /** @internal Use {@link KubernetesAccess.client}. */
  constructor(
    readonly cluster: KubernetesClusterConfig,
    private readonly connection: KubernetesConnection,
    private readonly tokens: TokenSource,
  ) {
    this.base = new URL(connection.endpoint);
    if (this.base.protocol !== 'https:') {
      throw new Error(`the endpoint of cluster ${cluster.name} must be an https:// URL, but got ${JSON.stringify(`${this.base.protocol}//${this.base.host}`)}`);
    }
    // `ca` replaces the default trust store, so the server must chain to the cluster CA; the host
    // name is checked against the certificate as usual. Verification is never turned off.
    this.agent = new https.Agent({ keepAlive: true, maxSockets: MAX_SOCKETS, ca: connection.caPem });
  }

  /** Reads a ConfigMap; `undefined` when it (or its namespace) does not exist. */
  async getConfigMap(namespace: string, name: string): Promise<ConfigMapObject | undefined> {
    const res = await this.call({
      label: `GET configmaps/${namespace}/${name}`,
      method: 'GET',
      path: configMapPath(namespace, name),
      passStatuses: [404],
    });
    return res.status === 404 ? undefined : toConfigMap(parseJson(res.body));
  }

  /** Lists the ConfigMaps of a namespace, page by page (`limit`/`continue`). */
  async listConfigMaps(namespace: string, options: { labelSelector?: string } = {}): Promise<ConfigMapObject[]> {
    const items: ConfigMapObject[] = [];
    let continueToken: string | undefined;
    do {
      const res = await this.call({
        label: `LIST configmaps/${namespace}`,
        method: 'GET',
        path: `/api/v1/namespaces/${encodeURIComponent(namespace)}/configmaps`,
        query: { limit: String(LIST_PAGE_SIZE), continue: continueToken, labelSelector: options.labelSelector },
      });
      const page = parseJson(res.body);
      for (const item of page.items ?? []) items.push(toConfigMap(item, namespace));
      continueToken = page.metadata?.continue || undefined;
    } while (continueToken);
    return items;
  }

  /**
   * Server-side applies a ConfigMap (`PATCH` with `application/apply-patch+yaml`; JSON is YAML).
   * The result holds exactly the fields every manager applied: keys this manager applied earlier
   * and omits now are removed, keys owned by other managers are kept, and a key another manager
   * owns with a different value is a `Conflict` unless `force` is set.
   */
  async applyConfigMap(request: ApplyConfigMapRequest): Promise<ConfigMapObject> {
    const { namespace, name } = request;
    const manifest = {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: {
        name,
        namespace,
        ...(request.annotations ? { annotations: request.annotations } : {}),
        ...(request.labels ? { labels: request.labels } : {}),
      },
      data: request.data,
    };
    const res = await this.call({
      label: `PATCH configmaps/${namespace}/${name}`,
      method: 'PATCH',
      path: configMapPath(namespace, name),
      query: {
        fieldManager: request.fieldManager,
        force: request.force ? 'true' : undefined,
        dryRun: request.dryRun ? 'All' : undefined,
      },
      body: Buffer.from(JSON.stringify(manifest), 'utf8'),
      contentType: 'application/apply-patch+yaml',
    });
    return toConfigMap(parseJson(res.body));
  }

  /** Deletes a ConfigMap; `false` when it did not exist. */
  async deleteConfigMap(namespace: string, name: string): Promise<boolean> {
    const res = await this.call({
      label: `DELETE configmaps/${namespace}/${name}`,
      method: 'DELETE',
      path: configMapPath(namespace, name),
      passStatuses: [404],
    });
    return res.status !== 404;
  }

  /**
   * Creates a namespace when it does not exist (server-side apply of its name only); an existing
   * namespace is left untouched. Needs `get` and, to create, `create`+`patch` on namespaces.
   */
  async ensureNamespace(name: string, fieldManager: string): Promise<void> {
    const path = `/api/v1/namespaces/${encodeURIComponent(name)}`;
    const existing = await this.call({ label: `GET namespaces/${name}`, method: 'GET', path, passStatuses: [404] });
    if (existing.status !== 404) return;
    await this.call({
      label: `PATCH namespaces/${name}`,
      method: 'PATCH',
      path,
      query: { fieldManager },
      body: Buffer.from(JSON.stringify({ apiVersion: 'v1', kind: 'Namespace', metadata: { name } }), 'utf8'),
      contentType: 'application/apply-patch+yaml',
    });
  }

  /** Closes the kept-alive connections. The client may still be used; it reconnects. */
  close(): void {
    this.agent.destroy();
  }

  private async call(op: Operation): Promise<RawResponse> {
    let refreshedToken = false;
    let retries = 0;
    for (;;) {
      const token = await this.tokens.token();
      let error: KubernetesApiError;
      let retryAfterMs: number | undefined;
      try {
        const res = await this.send(op, token);
        if (res.status < 300 || op.passStatuses?.includes(res.status)) return res;
        error = new KubernetesApiError(op.label, errorDetailsFromResponse(res.status, res.body));
        retryAfterMs = parseRetryAfterMs(res.headers['retry-after']);
      } catch (e) {
        error = new KubernetesApiError(op.label, networkErrorDetails(e));
      }

      if (error.statusCode === 401) {
        // Expired or revoked token (or credentials): mint a fresh one and try once more.
        this.tokens.invalidate(token);
        if (refreshedToken) throw error;
        refreshedToken = true;
        logger.info('kubernetes token rejected, retrying with a fresh one', this.logFields(op));
        continue;
      }
      if (!isRetryable(error) || retries + 1 >= BACKOFF.maxAttempts) {
        if (error.statusCode === 0) this.connection.onConnectionError?.();
        throw error;
      }
      retries++;
      const delayMs = Math.min(MAX_RETRY_AFTER_MS, Math.max(retryAfterMs ?? 0, fullJitterDelayMs(retries, BACKOFF)));
      logger.warn('kubernetes request retried', { ...this.logFields(op), statusCode: error.statusCode, reason: error.reason, retry: retries, delayMs });
      await new Promise((resolve) => setTimeout(resolve, delayMs));
    }
  }

  /** One HTTP attempt; rejects only on network/TLS failures and the deadline. */
  private send(op: Operation, token: string): Promise<RawResponse> {
    const url = new URL(this.base.href);
    url.pathname = this.base.pathname.replace(/\/+$/, '') + op.path;
    for (const [key, value] of Object.entries(op.query ?? {})) {
      if (value !== undefined) url.searchParams.set(key, value);
    }
    const headers: Record<string, string> = {
      'authorization': `Bearer ${token}`,
      'accept': 'application/json',
      'user-agent': USER_AGENT,
    };
    if (op.body) {
      headers['content-type'] = op.contentType ?? 'application/json';
      headers['content-length'] = String(op.body.length);
    }

    return new Promise<RawResponse>((resolve, reject) => {
      const req = https.request(url, { method: op.method, agent: this.agent, headers }, (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > MAX_RESPONSE_BYTES) {
            req.destroy(Object.assign(new Error('response too large'), { code: 'ERESPONSETOOLARGE' }));
            return;
          }
          chunks.push(chunk);
        });
        res.once('end', () => {
          clearTimeout(deadline);
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) });
        });
        res.once('error', (e) => {
          clearTimeout(deadline);
          reject(e);
        });
      });
      const deadline = setTimeout(() => {
        req.destroy(Object.assign(new Error('request timed out'), { code: 'ETIMEDOUT' }));
      }, this.connection.requestTimeoutMs);
      req.once('error', (e) => {
        clearTimeout(deadline);
        reject(e);
      });
      req.end(op.body);
    });
  }

  private logFields(op: Operation): Record<string, string> {
    return { cluster: this.cluster.name, region: this.cluster.region, operation: op.label };
  }
}

function configMapPath(namespace: string, name: string): string {
  return `/api/v1/namespaces/${encodeURIComponent(namespace)}/configmaps/${encodeURIComponent(name)}`;
}

function parseJson(body: Buffer): any {
  try {
    return JSON.parse(body.toString('utf8'));
  } catch {
    // Never quote the body: it may be a ConfigMap.
    throw new Error('the API server answered with a body that is not JSON');
  }
}

/** `Retry-After` in seconds or as an HTTP date, in ms from now. */
function parseRetryAfterMs(header: string | string[] | undefined): number | undefined {
  const value = Array.isArray(header) ? header[0] : header;
  if (!value) return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1_000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

function toConfigMap(raw: any, fallbackNamespace?: string): ConfigMapObject {
  const metadata = raw?.metadata ?? {};
  return {
    namespace: metadata.namespace ?? fallbackNamespace ?? '',
    name: metadata.name ?? '',
    data: { ...(raw?.data ?? {}) },
    binaryDataKeys: Object.keys(raw?.binaryData ?? {}),
    annotations: { ...(metadata.annotations ?? {}) },
    labels: { ...(metadata.labels ?? {}) },
    resourceVersion: metadata.resourceVersion ?? '',
    uid: metadata.uid ?? '',
    managedFields: (metadata.managedFields ?? []).map((entry: any) => ({
      manager: entry.manager ?? '',
      operation: entry.operation ?? '',
      ...(entry.fieldsV1 !== undefined ? { fieldsV1: entry.fieldsV1 } : {}),
      ...(typeof entry.time === 'string' ? { time: entry.time } : {}),
    })),
  };
}
