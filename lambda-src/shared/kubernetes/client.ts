import type { CoreV1Api, KubeConfig, RequestContext, ResponseContext, V1ConfigMap } from '@kubernetes/client-node';
import type { KubernetesClusterConfig } from '../../../src/private/kubernetes-contract';
import { logger } from '../observability';
import { fullJitterDelayMs } from '../retry';
import { isNotFound, isRetryable, KubernetesApiError, retryAfterMs, toKubernetesApiError } from './errors';
import { clientNode } from './load';

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

/** Kinds of workloads whose pods the ConfigMap syncer can roll. */
export type WorkloadKind = 'Deployment' | 'StatefulSet' | 'DaemonSet';

/** The plural resource name of each workload kind (for labels and RBAC rules). */
export const WORKLOAD_RESOURCES: Record<WorkloadKind, string> = {
  Deployment: 'deployments',
  StatefulSet: 'statefulsets',
  DaemonSet: 'daemonsets',
};

/**
 * The rollout-relevant part of a Deployment, StatefulSet or DaemonSet: annotations, generations
 * and the replica counts of its status (absent counts are 0).
 */
export interface WorkloadObject {
  readonly kind: WorkloadKind;
  readonly namespace: string;
  readonly name: string;
  readonly generation: number;
  /** The version read; pass it to {@link KubernetesClient.applyWorkloadAnnotations} to apply only over it. */
  readonly resourceVersion: string;
  readonly annotations: Record<string, string>;
  readonly templateAnnotations: Record<string, string>;
  /** `status.observedGeneration`; 0 before the controller saw the object. */
  readonly observedGeneration: number;
  /** Pods wanted: `spec.replicas` (default 1), or a DaemonSet's `status.desiredNumberScheduled`. */
  readonly desired: number;
  /** Pods of the current template: `updatedReplicas` / `updatedNumberScheduled`. */
  readonly updated: number;
  /** Available pods: `availableReplicas` / `numberAvailable`. */
  readonly available: number;
  /** Pods in total, old and new: `replicas` / `currentNumberScheduled` + misscheduled. */
  readonly total: number;
  /** A StatefulSet's `currentRevision` and `updateRevision` (equal when its rollout is done). */
  readonly currentRevision?: string;
  readonly updateRevision?: string;
  readonly managedFields: ManagedFieldsEntry[];
}

/** A server-side apply of a workload's annotations (see {@link KubernetesClient.applyWorkloadAnnotations}). */
export interface ApplyWorkloadAnnotationsRequest {
  readonly kind: WorkloadKind;
  readonly namespace: string;
  readonly name: string;
  /** Annotations of the object itself (no rollout). */
  readonly annotations: Record<string, string>;
  /** Annotations of the pod template; omitted means the manager owns none there. */
  readonly templateAnnotations?: Record<string, string>;
  readonly fieldManager: string;
  /** @default false */
  readonly force?: boolean;
  /**
   * Apply only if the object is still at this version (optimistic concurrency): otherwise the call
   * fails with a 409 `Conflict` without `conflictingManagers`.
   * @default - whatever the version
   */
  readonly resourceVersion?: string;
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
/** The user of the in-memory kubeconfig: the function's IAM role, through its EKS token. */
const KUBECONFIG_USER = 'eks-iam';

/** Per-request options of the client's API methods (authentication, middleware). */
type CallOptions = NonNullable<Parameters<CoreV1Api['readNamespacedConfigMap']>[1]>;
type Middleware = NonNullable<CallOptions['middleware']>[number];
type Dispatcher = NonNullable<ReturnType<RequestContext['getDispatcher']>>;

/** The client's API for one cluster and one token: a kubeconfig in memory holding the endpoint, CA and token. */
interface TokenApi {
  readonly token: string;
  readonly kubeConfig: KubeConfig;
  readonly core: CoreV1Api;
}

/**
 * A client for one EKS cluster's API server, limited to what the ConfigMap handlers need: a thin
 * adapter over `@kubernetes/client-node` (`KubeConfig` and `CoreV1Api`). Obtain it from
 * {@link KubernetesAccess.client}; it keeps one TLS connection pool (verifying the cluster CA) and
 * the cluster's token cache across calls.
 *
 * Failures are {@link KubernetesApiError}s. 429, 5xx and reset connections are retried with
 * jittered backoff (honouring `Retry-After`); a 401 drops the token and retries once with a fresh
 * one; other 4xx are final. Nothing it logs or throws contains a ConfigMap value: the client's
 * `ApiException`, whose message quotes the response body, never leaves this module.
 *
 * @example
 * const client = await access.client({ name: 'prod', region: 'eu-west-1' });
 * await client.applyConfigMap({ namespace: 'app', name: 'settings', data: { mode: 'blue' }, fieldManager: 'config-syncer' });
 */
export class KubernetesClient {
  private api?: TokenApi;
  /** The TLS connection pool every request of this client goes through. */
  private dispatcher?: Dispatcher;
  /** Gives every attempt its deadline: the client itself has none. */
  private readonly deadline: Middleware;

  /** @internal Use {@link KubernetesAccess.client}. */
  constructor(
    readonly cluster: KubernetesClusterConfig,
    private readonly connection: KubernetesConnection,
    private readonly tokens: TokenSource,
  ) {
    const base = new URL(connection.endpoint);
    if (base.protocol !== 'https:') {
      throw new Error(`the endpoint of cluster ${cluster.name} must be an https:// URL, but got ${JSON.stringify(`${base.protocol}//${base.host}`)}`);
    }
    this.deadline = {
      pre: (context: RequestContext) => {
        context.setSignal(AbortSignal.timeout(connection.requestTimeoutMs));
        return new (clientNode().Observable)(Promise.resolve(context));
      },
      post: (response: ResponseContext) => new (clientNode().Observable)(Promise.resolve(response)),
    };
  }

  /** Reads a ConfigMap; `undefined` when it (or its namespace) does not exist. */
  async getConfigMap(namespace: string, name: string): Promise<ConfigMapObject | undefined> {
    const label = `GET configmaps/${namespace}/${name}`;
    const found = await this.call(label, (core, options) => absentOn404(core.readNamespacedConfigMap({ namespace, name }, options)));
    return found && toConfigMap(label, found);
  }

  /** Lists the ConfigMaps of a namespace, page by page (`limit`/`continue`). */
  async listConfigMaps(namespace: string, options: { labelSelector?: string } = {}): Promise<ConfigMapObject[]> {
    const items: ConfigMapObject[] = [];
    let continueToken: string | undefined;
    const label = `LIST configmaps/${namespace}`;
    do {
      const page = await this.call(label, (core, callOptions) => core.listNamespacedConfigMap({
        namespace,
        limit: LIST_PAGE_SIZE,
        _continue: continueToken,
        labelSelector: options.labelSelector,
      }, callOptions));
      for (const item of page.items ?? []) items.push(toConfigMap(label, item, namespace));
      continueToken = page.metadata?._continue || undefined;
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
    const label = `PATCH configmaps/${namespace}/${name}`;
    const applied = await this.call(label, (core, options) => core.patchNamespacedConfigMap({
      namespace,
      name,
      body: manifest,
      fieldManager: request.fieldManager,
      force: request.force ? true : undefined,
      dryRun: request.dryRun ? 'All' : undefined,
    }, serverSideApply(options)));
    return toConfigMap(label, applied);
  }

  /** Deletes a ConfigMap; `false` when it did not exist. */
  async deleteConfigMap(namespace: string, name: string): Promise<boolean> {
    const deleted = await this.call(`DELETE configmaps/${namespace}/${name}`, (core, options) =>
      absentOn404(core.deleteNamespacedConfigMap({ namespace, name }, options)));
    return deleted !== undefined;
  }

  /**
   * Creates a namespace when it does not exist (server-side apply of its name only); an existing
   * namespace is left untouched. Needs `get` and, to create, `create`+`patch` on namespaces.
   */
  async ensureNamespace(name: string, fieldManager: string): Promise<void> {
    const existing = await this.call(`GET namespaces/${name}`, (core, options) => absentOn404(core.readNamespace({ name }, options)));
    if (existing) return;
    await this.call(`PATCH namespaces/${name}`, (core, options) => core.patchNamespace({
      name,
      body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name } },
      fieldManager,
    }, serverSideApply(options)));
  }

  /** Reads a Deployment, StatefulSet or DaemonSet; `undefined` when it does not exist. */
  async getWorkload(kind: WorkloadKind, namespace: string, name: string): Promise<WorkloadObject | undefined> {
    const label = `GET ${WORKLOAD_RESOURCES[kind]}/${namespace}/${name}`;
    const found = await this.call(label, (_core, options) => absentOn404(this.send(options, 'GET', workloadPath(kind, namespace, name))));
    return found && toWorkload(label, kind, found, namespace);
  }

  /** Lists the workloads of one kind in a namespace that match `labelSelector`, page by page. */
  async listWorkloads(kind: WorkloadKind, namespace: string, labelSelector: string): Promise<WorkloadObject[]> {
    const items: WorkloadObject[] = [];
    let continueToken: string | undefined;
    const label = `LIST ${WORKLOAD_RESOURCES[kind]}/${namespace}`;
    do {
      const query = { labelSelector, limit: String(LIST_PAGE_SIZE), continue: continueToken };
      const page: { items?: any[]; metadata?: { continue?: string } } = await this.call(label, (_core, options) =>
        this.send(options, 'GET', workloadPath(kind, namespace), query));
      for (const item of page.items ?? []) items.push(toWorkload(label, kind, item, namespace));
      continueToken = page.metadata?.continue || undefined;
    } while (continueToken);
    return items;
  }

  /**
   * Server-side applies annotations of a workload as `fieldManager`: `annotations` on the object
   * and, when given, `templateAnnotations` on its pod template (a change there starts a rolling
   * update). The manager owns exactly these fields: ones it applied before and omits now are
   * removed, every other manager's fields are left alone.
   */
  async applyWorkloadAnnotations(request: ApplyWorkloadAnnotationsRequest): Promise<WorkloadObject> {
    const { kind, namespace, name } = request;
    const manifest = {
      apiVersion: 'apps/v1',
      kind,
      metadata: {
        name, namespace, annotations: request.annotations, ...(request.resourceVersion ? { resourceVersion: request.resourceVersion } : {}),
      },
      ...(request.templateAnnotations ? { spec: { template: { metadata: { annotations: request.templateAnnotations } } } } : {}),
    };
    const label = `PATCH ${WORKLOAD_RESOURCES[kind]}/${namespace}/${name}`;
    const query = { fieldManager: request.fieldManager, force: request.force ? 'true' : undefined };
    const applied = await this.call(label, (_core, options) => this.send(options, 'PATCH', workloadPath(kind, namespace, name), query, manifest));
    return toWorkload(label, kind, applied, namespace);
  }

  /**
   * One request to a path the generated `CoreV1Api` has no method for (the `apps/v1` workloads; the
   * generated `AppsV1Api` would add ~185 KB to every bundle with the client): the same
   * authentication, connection pool and deadline as the generated calls, and the same
   * `ApiException` on an error status. `body` is sent as a server-side apply patch.
   */
  private async send(
    options: CallOptions, method: 'GET' | 'PATCH', path: string, query: Record<string, string | undefined> = {}, body?: unknown,
  ): Promise<any> {
    const { ApiException, HttpMethod, IsomorphicFetchHttpLibrary, RequestContext } = clientNode();
    const context = new RequestContext(`${this.connection.endpoint.replace(/\/+$/, '')}${path}`, method === 'GET' ? HttpMethod.GET : HttpMethod.PATCH);
    for (const [name, value] of Object.entries(query)) if (value !== undefined) context.setQueryParam(name, value);
    context.setHeaderParam('Accept', 'application/json');
    if (body !== undefined) {
      context.setHeaderParam('Content-Type', clientNode().PatchStrategy.ServerSideApply);
      context.setBody(JSON.stringify(body));
    }
    await options.authMethods?.default?.applySecurityAuthentication(context);
    let prepared = context;
    for (const middleware of options.middleware ?? []) {
      const next: any = middleware.pre(prepared);
      prepared = await (typeof next?.toPromise === 'function' ? next.toPromise() : next);
    }
    const response = await new IsomorphicFetchHttpLibrary().send(prepared).toPromise();
    const text = await response.body.text();
    if (response.httpStatusCode < 200 || response.httpStatusCode > 299) {
      throw new ApiException(response.httpStatusCode, 'HTTP error', text, response.headers);
    }
    try {
      return JSON.parse(text);
    } catch {
      return undefined;
    }
  }

  /** Closes the kept-alive connections. The client may still be used; it reconnects. */
  close(): void {
    const dispatcher = this.dispatcher;
    this.dispatcher = undefined;
    dispatcher?.destroy().catch(() => undefined);
  }

  /**
   * One API call with the retry policy above. `label` names the operation and object, never a
   * value; it is the start of every error message.
   */
  private async call<T>(label: string, send: (core: CoreV1Api, options: CallOptions) => Promise<T>): Promise<T> {
    let refreshedToken = false;
    let retries = 0;
    for (;;) {
      const api = this.apiFor(await this.tokens.token());
      let error: KubernetesApiError;
      let retryAfter: number | undefined;
      try {
        return await send(api.core, this.options(api));
      } catch (e) {
        // From here on only the value-free KubernetesApiError is kept: the client's errors can
        // carry the response body.
        error = toKubernetesApiError(label, e);
        retryAfter = retryAfterMs(e);
      }

      if (error.statusCode === 401) {
        // Expired or revoked token (or credentials): mint a fresh one and try once more.
        this.tokens.invalidate(api.token);
        if (refreshedToken) throw error;
        refreshedToken = true;
        logger.info('kubernetes token rejected, retrying with a fresh one', this.logFields(label));
        continue;
      }
      if (!isRetryable(error) || retries + 1 >= BACKOFF.maxAttempts) {
        if (error.statusCode === 0) this.connection.onConnectionError?.();
        throw error;
      }
      retries++;
      const delayMs = Math.min(MAX_RETRY_AFTER_MS, Math.max(retryAfter ?? 0, fullJitterDelayMs(retries, BACKOFF)));
      logger.warn('kubernetes request retried', { ...this.logFields(label), statusCode: error.statusCode, reason: error.reason, retry: retries, delayMs });
      await new Promise((resolve) => setTimeout(resolve, delayMs));
    }
  }

  /** The API for `token`: a kubeconfig built in memory from the endpoint, the cluster CA and the token. */
  private apiFor(token: string): TokenApi {
    if (this.api?.token !== token) {
      const { CoreV1Api, KubeConfig } = clientNode();
      const kubeConfig = new KubeConfig();
      kubeConfig.loadFromClusterAndUser(
        {
          name: this.cluster.name,
          server: this.connection.endpoint,
          caData: Buffer.from(this.connection.caPem, 'utf8').toString('base64'),
          // Verification is never turned off: the server must chain to the cluster CA.
          skipTLSVerify: false,
        },
        { name: KUBECONFIG_USER, token },
      );
      this.api = { token, kubeConfig, core: kubeConfig.makeApiClient(CoreV1Api) };
    }
    return this.api;
  }

  /**
   * Per-request options: the kubeconfig's authentication (bearer token, TLS with the cluster CA)
   * through one kept connection pool, and the attempt's deadline.
   */
  private options(api: TokenApi): CallOptions {
    return {
      authMethods: {
        default: {
          getName: () => api.kubeConfig.getName(),
          applySecurityAuthentication: async (context: RequestContext) => {
            await api.kubeConfig.applySecurityAuthentication(context);
            // The kubeconfig makes a new TLS dispatcher for every request; keep the first, so that
            // requests reuse its connections instead of each making (and leaving open) their own.
            this.dispatcher ??= context.getDispatcher();
            if (this.dispatcher) context.setDispatcher(this.dispatcher);
          },
        },
      },
      middleware: [this.deadline],
      middlewareMergeStrategy: 'append',
    };
  }

  private logFields(label: string): Record<string, string> {
    return { cluster: this.cluster.name, region: this.cluster.region, operation: label };
  }
}

/** `options` with the request body sent as a server-side apply patch. */
function serverSideApply(options: CallOptions): CallOptions {
  const { PatchStrategy, setHeaderOptions } = clientNode();
  return setHeaderOptions('Content-Type', PatchStrategy.ServerSideApply, options);
}

/** The result of `request`, or `undefined` when the API server answers 404 Not Found. */
async function absentOn404<T>(request: Promise<T>): Promise<T | undefined> {
  try {
    return await request;
  } catch (e) {
    if (isNotFound(e)) return undefined;
    throw e;
  }
}

/** Managed-field times as the API server writes them: RFC 3339 in whole seconds (the client parses them to Dates). */
function rfc3339(time: Date | string): string {
  return time instanceof Date ? time.toISOString().replace(/\.\d{3}Z$/, 'Z') : String(time);
}

/** A success answer that is not the object asked for (the client passes text through as is). */
function invalidResponse(label: string): KubernetesApiError {
  return new KubernetesApiError(label, { statusCode: 0, reason: 'InvalidResponse' });
}

function toConfigMap(label: string, raw: V1ConfigMap, fallbackNamespace?: string): ConfigMapObject {
  const metadata = raw?.metadata;
  if (!metadata?.name) throw invalidResponse(label);
  return {
    namespace: metadata.namespace ?? fallbackNamespace ?? '',
    name: metadata.name,
    data: { ...(raw.data ?? {}) },
    binaryDataKeys: Object.keys(raw.binaryData ?? {}),
    annotations: { ...(metadata.annotations ?? {}) },
    labels: { ...(metadata.labels ?? {}) },
    resourceVersion: metadata.resourceVersion ?? '',
    uid: metadata.uid ?? '',
    managedFields: (metadata.managedFields ?? []).map((entry) => ({
      manager: entry.manager ?? '',
      operation: entry.operation ?? '',
      ...(entry.fieldsV1 !== undefined ? { fieldsV1: entry.fieldsV1 } : {}),
      ...(entry.time ? { time: rfc3339(entry.time) } : {}),
    })),
  };
}

/** The API path of a workload kind in a namespace, or of one workload. */
function workloadPath(kind: WorkloadKind, namespace: string, name?: string): string {
  const base = `/apis/apps/v1/namespaces/${encodeURIComponent(namespace)}/${WORKLOAD_RESOURCES[kind]}`;
  return name === undefined ? base : `${base}/${encodeURIComponent(name)}`;
}

function toWorkload(label: string, kind: WorkloadKind, raw: any, fallbackNamespace: string): WorkloadObject {
  const metadata = raw?.metadata;
  if (!metadata?.name) throw invalidResponse(label);
  const status = raw.status ?? {};
  const daemon = kind === 'DaemonSet';
  return {
    kind,
    namespace: metadata.namespace ?? fallbackNamespace,
    name: metadata.name,
    generation: Number(metadata.generation ?? 0),
    resourceVersion: metadata.resourceVersion ?? '',
    annotations: { ...(metadata.annotations ?? {}) },
    templateAnnotations: { ...(raw.spec?.template?.metadata?.annotations ?? {}) },
    observedGeneration: Number(status.observedGeneration ?? 0),
    desired: Number(daemon ? status.desiredNumberScheduled ?? 0 : raw.spec?.replicas ?? 1),
    updated: Number((daemon ? status.updatedNumberScheduled : status.updatedReplicas) ?? 0),
    available: Number((daemon ? status.numberAvailable : status.availableReplicas) ?? 0),
    total: Number(daemon ? (status.currentNumberScheduled ?? 0) + (status.numberMisscheduled ?? 0) : status.replicas ?? 0),
    ...(kind === 'StatefulSet' ? { currentRevision: status.currentRevision ?? '', updateRevision: status.updateRevision ?? '' } : {}),
    managedFields: (metadata.managedFields ?? []).map((entry: any) => ({
      manager: entry.manager ?? '',
      operation: entry.operation ?? '',
      ...(entry.fieldsV1 !== undefined ? { fieldsV1: entry.fieldsV1 } : {}),
      ...(entry.time ? { time: rfc3339(entry.time) } : {}),
    })),
  };
}
