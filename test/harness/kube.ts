import { spawn, spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as https from 'node:https';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { StsKeyring, startTokenWebhook, TokenWebhook } from './kube-webhook/webhook';
import { REPO_ROOT } from './moto';
import type { KubernetesClusterConfig } from '../../src/private/kubernetes-contract';

export { StsKeyring };
export type { ReviewRecord, TokenWebhook } from './kube-webhook/webhook';

/** Builds (or finds in its cache) the kube-apiserver-local binary and prints its path. */
export const KUBE_APISERVER_BUILD_SCRIPT = path.join(REPO_ROOT, 'test', 'harness', 'kube-apiserver', 'build.sh');
/** Set by jest's global setup to the built binary, so workers need not run the build script. */
export const KUBE_APISERVER_BIN_ENV = 'KUBE_APISERVER_LOCAL_BIN';

/** Cold start of kube-apiserver with embedded etcd is ~6 s here; allow for a loaded machine. */
const READY_TIMEOUT_MS = 90_000;
/** Pause between readiness probes. */
const READY_POLL_MS = 200;
/** Graceful shutdown of apiserver + etcd takes ~1-2 s; SIGKILL after this. */
const STOP_GRACE_MS = 15_000;
/** Characters of the apiserver's stderr kept for error messages. */
const STDERR_TAIL_CHARS = 16_384;
/** Spawn attempts: the wrapper picks free ports itself, another process may take one meanwhile. */
const SPAWN_ATTEMPTS = 3;

/**
 * Path of the kube-apiserver-local binary: from {@link KUBE_APISERVER_BIN_ENV} when global setup
 * set it, otherwise from `build.sh` (instant when cached; a cold build takes ~15 minutes).
 */
export function kubeApiserverBinary(): string {
  const fromEnv = process.env[KUBE_APISERVER_BIN_ENV];
  if (fromEnv && fs.existsSync(fromEnv)) return fromEnv;
  const result = spawnSync('bash', [KUBE_APISERVER_BUILD_SCRIPT], { cwd: REPO_ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  const bin = result.stdout?.trim().split('\n').pop();
  if (result.status !== 0 || !bin || !fs.existsSync(bin)) {
    const cause = result.error?.message ?? (result.signal ? `killed by ${result.signal}` : `exit code ${result.status}`);
    throw new Error(`could not build kube-apiserver-local (bash ${path.relative(REPO_ROOT, KUBE_APISERVER_BUILD_SCRIPT)} failed: ${cause}); it needs Go 1.26+ and the Go module proxy`);
  }
  return bin;
}

/**
 * A port on 127.0.0.1 that nothing listens on (the OS hands it out, then it is released): the
 * endpoint of an unreachable cluster, refused with ECONNREFUSED. Not a fixed low port: fetch, the
 * Kubernetes client's HTTP, refuses the Fetch standard's "bad ports" (1, 9, 25, ...) without
 * connecting.
 */
export async function closedLocalPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Access levels of {@link KubeCluster.grant}. */
export type KubeAccess = 'view' | 'edit' | readonly string[];

/** Options of {@link startKubeCluster}. */
export interface KubeClusterOptions {
  /** EKS cluster name: the `x-k8s-aws-id` the webhook requires. */
  readonly name: string;
  /** moto's base URL: tokens must be presigned for it, and the webhook asks it who signed. */
  readonly motoEndpoint: string;
  /** Region the cluster stands for (only copied into {@link KubeCluster.config}). @default 'us-east-1' */
  readonly region?: string;
  /** Secret keys the webhook verifies token signatures with; share one across clusters. @default - a new, empty keyring */
  readonly keyring?: StsKeyring;
}

/** A running kube-apiserver standing in for one EKS cluster. */
export interface KubeCluster {
  readonly name: string;
  readonly region: string;
  /** `https://127.0.0.1:<port>` */
  readonly endpoint: string;
  /** Base64 of the PEM CA bundle the serving certificate chains to (as EKS DescribeCluster gives it). */
  readonly certificateAuthorityData: string;
  /** The cluster as a handler sees it. */
  readonly config: KubernetesClusterConfig;
  /** The authentication webhook of this cluster (reviews, STS calls, clock skew). */
  readonly webhook: TokenWebhook;
  readonly keyring: StsKeyring;
  /** `system:masters` access through a static token, for arranging and inspecting state. */
  readonly admin: KubeAdmin;
  /**
   * Grants `subject` (a user name: for IAM principals the role or user ARN) access to one
   * namespace, creating the namespace if needed: a Role on configmaps with the verbs of the
   * Kubernetes `view` or `edit` role (or the verbs given), and a RoleBinding to it.
   *
   * This stands in for an EKS access entry with a namespace-scoped access policy:
   * AmazonEKSViewPolicy / AmazonEKSEditPolicy grant what the Kubernetes `view` / `edit` roles grant,
   * limited to the namespaces of the access scope. A namespace without a binding is a real 403.
   */
  grant(namespace: string, subject: string, access: KubeAccess): Promise<void>;
  /** Grants `subject` cluster-wide `verbs` on namespaces (a cluster-scoped access policy). */
  grantNamespaces(subject: string, verbs?: readonly string[]): Promise<void>;
  /** Stops the apiserver (then connections are refused) and the webhook; safe to call twice. */
  stop(): Promise<void>;
}

/** Answer of {@link KubeAdmin.request}; `body` is parsed JSON when it is JSON. */
export interface KubeResponse {
  readonly status: number;
  readonly body: any;
}

/** What a SubjectAccessReview asks about (`group` is the API group, '' for the core group). */
export interface ResourceAttributes {
  readonly namespace?: string;
  readonly verb: string;
  readonly group?: string;
  readonly resource: string;
  readonly name?: string;
}

/** How long a new RBAC grant may take to reach the apiserver's authorizer. */
const GRANT_PROPAGATION_TIMEOUT_MS = 15_000;

/** Administrative requests with the static `system:masters` token, TLS verified with the cluster CA. */
export class KubeAdmin {
  private readonly agent: https.Agent;

  constructor(private readonly endpoint: string, private readonly token: string, caPem: string) {
    this.agent = new https.Agent({ keepAlive: true, ca: caPem });
  }

  /**
   * Waits until the RBAC authorizer allows `subject` `attributes` (a SubjectAccessReview): it reads
   * Roles and bindings from its watch cache, so a request right after a grant may still be denied,
   * more often on a loaded machine. Call it after applying a Role and its binding.
   */
  async untilAllowed(subject: { readonly user?: string; readonly groups?: readonly string[] }, attributes: ResourceAttributes): Promise<void> {
    const deadline = Date.now() + GRANT_PROPAGATION_TIMEOUT_MS;
    for (;;) {
      const review = await this.request('POST', '/apis/authorization.k8s.io/v1/subjectaccessreviews', {
        apiVersion: 'authorization.k8s.io/v1',
        kind: 'SubjectAccessReview',
        spec: { user: subject.user ?? 'untilAllowed', groups: subject.groups, resourceAttributes: { group: '', ...attributes } },
      });
      if (review.status === 201 && review.body?.status?.allowed === true) return;
      if (Date.now() > deadline) {
        throw new Error(`${attributes.verb} ${attributes.resource} was not allowed to ${JSON.stringify(subject)} within `
          + `${GRANT_PROPAGATION_TIMEOUT_MS} ms of its grant (last review: HTTP ${review.status})`);
      }
      await sleep(50);
    }
  }

  request(method: string, urlPath: string, body?: unknown, contentType = 'application/json'): Promise<KubeResponse> {
    const payload = body === undefined ? undefined : Buffer.from(typeof body === 'string' ? body : JSON.stringify(body));
    return new Promise((resolve, reject) => {
      const req = https.request(`${this.endpoint}${urlPath}`, {
        method,
        agent: this.agent,
        timeout: 30_000,
        headers: {
          authorization: `Bearer ${this.token}`,
          accept: 'application/json',
          ...(payload ? { 'content-type': contentType, 'content-length': String(payload.length) } : {}),
        },
      }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.once('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let parsed: unknown = text;
          try {
            parsed = JSON.parse(text);
          } catch {
            // not JSON (e.g. /readyz answers "ok")
          }
          resolve({ status: res.statusCode ?? 0, body: parsed });
        });
      });
      req.once('timeout', () => req.destroy(new Error(`${method} ${urlPath} timed out`)));
      req.once('error', reject);
      req.end(payload);
    });
  }

  /** Server-side applies `manifest` at `urlPath` as `fieldManager`; throws on a non-2xx answer. */
  async apply(urlPath: string, manifest: object, fieldManager = 'test-admin', force = false): Promise<any> {
    const query = `fieldManager=${encodeURIComponent(fieldManager)}${force ? '&force=true' : ''}`;
    const res = await this.request('PATCH', `${urlPath}?${query}`, manifest, 'application/apply-patch+yaml');
    if (res.status >= 300) throw new Error(`admin apply ${urlPath} answered ${res.status} ${res.body?.reason ?? ''}`);
    return res.body;
  }

  async createNamespace(name: string): Promise<void> {
    await this.apply(`/api/v1/namespaces/${name}`, { apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
  }

  async namespaceExists(name: string): Promise<boolean> {
    return (await this.request('GET', `/api/v1/namespaces/${name}`)).status === 200;
  }

  /** The raw ConfigMap object, or undefined. */
  async getConfigMap(namespace: string, name: string): Promise<any> {
    const res = await this.request('GET', `/api/v1/namespaces/${namespace}/configmaps/${name}`);
    if (res.status === 404) return undefined;
    if (res.status !== 200) throw new Error(`admin get configmap ${namespace}/${name} answered ${res.status}`);
    return res.body;
  }

  /** Applies a ConfigMap's data as `fieldManager` (e.g. to play another team's controller). */
  async applyConfigMap(namespace: string, name: string, data: Record<string, string>, fieldManager: string, force = false): Promise<any> {
    return this.apply(`/api/v1/namespaces/${namespace}/configmaps/${name}`, {
      apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace }, data,
    }, fieldManager, force);
  }

  close(): void {
    this.agent.destroy();
  }
}

/**
 * Starts a real kube-apiserver (kube-apiserver-local: k8s v1.37 with embedded etcd, RBAC
 * authorization, anonymous auth off) that authenticates IAM principals through a TokenReview
 * webhook in this process (see `kube-webhook/webhook.ts`), and waits until it is ready.
 *
 * Each test file starts its own clusters (free ports; several may run at once) and stops them in
 * `afterAll`. The apiserver is spawned with a pipe on stdin and `--exit-with-stdin`, so it exits
 * even when the jest worker is killed; a normal worker exit also kills it.
 *
 * The apiserver caches successful token reviews for 10 s (a built-in, not configurable by flag);
 * the webhook's own cache is disabled. A test that makes a used token fail must allow for that.
 *
 * @example
 * const keyring = new StsKeyring();
 * const [a, b] = await Promise.all([
 *   startKubeCluster({ name: 'blue', region: 'us-east-1', motoEndpoint: moto.endpoint, keyring }),
 *   startKubeCluster({ name: 'green', region: 'eu-west-1', motoEndpoint: moto.endpoint, keyring }),
 * ]);
 * await a.grant('team-a', 'arn:aws:iam::123456789012:role/syncer', 'edit');
 * afterAll(() => Promise.all([a.stop(), b.stop()]));
 */
export async function startKubeCluster(options: KubeClusterOptions): Promise<KubeCluster> {
  const bin = kubeApiserverBinary();
  const keyring = options.keyring ?? new StsKeyring();
  const webhook = await startTokenWebhook({ clusterName: options.name, stsEndpoint: options.motoEndpoint, keyring });
  try {
    for (let attempt = 1; ; attempt++) {
      try {
        return await spawnCluster(bin, options, keyring, webhook);
      } catch (err) {
        if (attempt >= SPAWN_ATTEMPTS || !(err instanceof ApiserverExitedEarly)) throw err;
      }
    }
  } catch (err) {
    await webhook.stop();
    throw err;
  }
}

class ApiserverExitedEarly extends Error {}

async function spawnCluster(bin: string, options: KubeClusterOptions, keyring: StsKeyring, webhook: TokenWebhook): Promise<KubeCluster> {
  // Only the webhook kubeconfig lives here, until the apiserver is ready. The apiserver's state
  // (etcd, certificates; ~120 MB with etcd's preallocated WAL) goes to a temporary directory the
  // wrapper creates and removes itself when it exits, including after its parent died.
  const configDir = fs.mkdtempSync(path.join(os.tmpdir(), `kube-${options.name.replace(/[^a-z0-9-]/gi, '')}-`));
  const webhookConfig = path.join(configDir, 'authn-webhook.kubeconfig');
  // The kubeconfig kube-apiserver's webhook client reads: the webhook URL, no client credentials.
  fs.writeFileSync(webhookConfig, JSON.stringify({
    'apiVersion': 'v1',
    'kind': 'Config',
    'clusters': [{ name: 'eks-authenticator', cluster: { server: webhook.url } }],
    'users': [{ name: 'kube-apiserver', user: {} }],
    'contexts': [{ name: 'webhook', context: { cluster: 'eks-authenticator', user: 'kube-apiserver' } }],
    'current-context': 'webhook',
  }));
  const adminToken = `admin-${randomBytes(16).toString('hex')}`;
  const child = spawn(bin, [
    '--admin-token', adminToken,
    '--exit-with-stdin',
    '--',
    `--authentication-token-webhook-config-file=${webhookConfig}`,
    // 0 disables the webhook-level cache, so expiry and revocation take effect at once (apart from
    // the apiserver's fixed 10 s cache of successful reviews).
    '--authentication-token-webhook-cache-ttl=0s',
    '--authentication-token-webhook-version=v1',
  ], { cwd: configDir, stdio: ['pipe', 'pipe', 'pipe'] });

  // The wrapper prints its env lines (KUBE_URL, KUBE_CA_FILE, ..., KUBE_PID last) on stdout.
  let stdout = '';
  const envPrinted = new Promise<Record<string, string>>((resolve) => {
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
      if (/^KUBE_PID=.*\n/m.test(stdout)) resolve(parseEnvLines(stdout));
    });
  });
  let stderrTail = '';
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
    stderrTail = (stderrTail + chunk).slice(-STDERR_TAIL_CHARS);
    // For debugging a test run: KUBE_STDERR_FILE=/tmp/kube.log keeps every apiserver's whole log.
    if (process.env.KUBE_STDERR_FILE) fs.appendFileSync(process.env.KUBE_STDERR_FILE, chunk);
  });
  const describe = (what: string) => `${what}\n--- kube-apiserver (${options.name}) stderr (tail) ---\n${stderrTail || '(empty)'}`;

  const removeState = () => fs.rmSync(configDir, { recursive: true, force: true });
  // A worker that exits without afterAll must not leave the apiserver running. SIGTERM, not
  // SIGKILL: the wrapper then removes its state directory itself (as it does when stdin closes).
  const killOnExit = () => {
    child.kill('SIGTERM');
    removeState();
  };
  process.on('exit', killOnExit);
  child.once('error', (err) => {
    stderrTail += `\n(could not run ${bin}: ${err.message})`;
  });
  const exited = new Promise<void>((resolve) => {
    child.once('close', () => resolve());
    child.once('error', () => resolve());
  });
  let running = true;
  void exited.then(() => {
    running = false;
    process.removeListener('exit', killOnExit);
  });

  let admin: KubeAdmin | undefined;
  const stopApiserver = async () => {
    if (running) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
      await exited;
      clearTimeout(timer);
    }
    admin?.close();
    removeState();
  };

  try {
    const env = await waitForEnv(envPrinted, exited, describe);
    // The serving certificate (and its CA) is generated after the env is printed.
    const caPem = await waitUntilReady(env, adminToken, () => running, describe);
    admin = new KubeAdmin(env.KUBE_URL, adminToken, caPem);
    // The apiserver read the webhook kubeconfig at start-up; nothing is left behind even if this
    // process is killed later.
    removeState();
    const region = options.region ?? 'us-east-1';
    const certificateAuthorityData = Buffer.from(caPem, 'utf8').toString('base64');
    const readyAdmin: KubeAdmin = admin;
    let stopped = false;
    return {
      name: options.name,
      region,
      endpoint: env.KUBE_URL,
      certificateAuthorityData,
      config: { name: options.name, region, endpoint: env.KUBE_URL, certificateAuthorityData },
      webhook,
      keyring,
      admin: readyAdmin,
      grant: (namespace, subject, access) => grant(readyAdmin, namespace, subject, access),
      grantNamespaces: (subject, verbs) => grantNamespaces(readyAdmin, subject, verbs),
      stop: async () => {
        if (stopped) return;
        stopped = true;
        await stopApiserver();
        await webhook.stop();
      },
    };
  } catch (err) {
    await stopApiserver();
    throw err;
  }
}

async function waitForEnv(
  printed: Promise<Record<string, string>>, exited: Promise<void>, describe: (what: string) => string,
): Promise<Record<string, string>> {
  let timer: NodeJS.Timeout | undefined;
  const outcome = await Promise.race([
    printed,
    exited.then(() => 'exited' as const),
    new Promise<'timeout'>((resolve) => { timer = setTimeout(() => resolve('timeout'), READY_TIMEOUT_MS); }),
  ]);
  clearTimeout(timer);
  if (outcome === 'exited') throw new ApiserverExitedEarly(describe('kube-apiserver-local exited before printing its env'));
  if (outcome === 'timeout') throw new Error(describe(`kube-apiserver-local printed no env within ${READY_TIMEOUT_MS} ms`));
  return outcome;
}

function parseEnvLines(text: string): Record<string, string> {
  return Object.fromEntries(text.split('\n').filter((line) => /^KUBE_[A-Z_]+=/.test(line)).map((line) => {
    const i = line.indexOf('=');
    return [line.slice(0, i), line.slice(i + 1)];
  }));
}

/** Polls /readyz, verifying TLS with the CA file as it is at each attempt; returns that CA. */
async function waitUntilReady(
  env: Record<string, string>, adminToken: string, isRunning: () => boolean, describe: (what: string) => string,
): Promise<string> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (!isRunning()) throw new ApiserverExitedEarly(describe('kube-apiserver-local exited before it was ready'));
    const caPem = fs.existsSync(env.KUBE_CA_FILE) ? fs.readFileSync(env.KUBE_CA_FILE, 'utf8') : '';
    if (caPem.includes('END CERTIFICATE')) {
      const probe = new KubeAdmin(env.KUBE_URL, adminToken, caPem);
      // /readyz includes the RBAC bootstrap post-start hook, so the view/edit ClusterRoles exist.
      const status = (await probe.request('GET', '/readyz').catch(() => ({ status: 0 }))).status;
      probe.close();
      if (status === 200) return caPem;
    }
    await sleep(READY_POLL_MS);
  }
  throw new Error(describe(`kube-apiserver-local was not ready within ${READY_TIMEOUT_MS} ms`));
}

/** RBAC object names cannot hold an ARN's `/` or `:`; name grants by a hash of what they grant. */
function grantName(...parts: string[]): string {
  return `grant-${createHash('sha256').update(parts.join('\u0000')).digest('hex').slice(0, 12)}`;
}

/**
 * The ConfigMap verbs of the built-in `view` and `edit` ClusterRoles, which EKS's AmazonEKSViewPolicy
 * and AmazonEKSEditPolicy mirror. Those ClusterRoles are aggregated by kube-controller-manager,
 * which this harness does not run, so their rules would be empty: grants spell the verbs out.
 */
const ACCESS_VERBS: Record<'view' | 'edit', readonly string[]> = {
  view: ['get', 'list', 'watch'],
  edit: ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete', 'deletecollection'],
};

async function grant(admin: KubeAdmin, namespace: string, subject: string, access: KubeAccess): Promise<void> {
  await admin.createNamespace(namespace);
  const verbs = typeof access === 'string' ? ACCESS_VERBS[access as 'view' | 'edit'] : access;
  const name = grantName(namespace, subject, verbs.join(','));
  const rbac = '/apis/rbac.authorization.k8s.io/v1';
  await admin.apply(`${rbac}/namespaces/${namespace}/roles/${name}`, {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'Role',
    metadata: { name, namespace },
    rules: [{ apiGroups: [''], resources: ['configmaps'], verbs: [...verbs] }],
  });
  await admin.apply(`${rbac}/namespaces/${namespace}/rolebindings/${name}`, {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'RoleBinding',
    metadata: { name, namespace },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name },
    subjects: [{ kind: 'User', apiGroup: 'rbac.authorization.k8s.io', name: subject }],
  });
  if (verbs.length > 0) await admin.untilAllowed({ user: subject }, { namespace, verb: verbs[0], resource: 'configmaps' });
}

async function grantNamespaces(admin: KubeAdmin, subject: string, verbs: readonly string[] = ['get', 'list', 'create', 'patch']): Promise<void> {
  const name = grantName('namespaces', subject, verbs.join(','));
  const rbac = '/apis/rbac.authorization.k8s.io/v1';
  await admin.apply(`${rbac}/clusterroles/${name}`, {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'ClusterRole',
    metadata: { name },
    rules: [{ apiGroups: [''], resources: ['namespaces'], verbs: [...verbs] }],
  });
  await admin.apply(`${rbac}/clusterrolebindings/${name}`, {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'ClusterRoleBinding',
    metadata: { name },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name },
    subjects: [{ kind: 'User', apiGroup: 'rbac.authorization.k8s.io', name: subject }],
  });
  if (verbs.length > 0) await admin.untilAllowed({ user: subject }, { verb: verbs[0], resource: 'namespaces' });
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
