import { createHash } from 'node:crypto';
import { DescribeClusterCommand, EKSClient } from '@aws-sdk/client-eks';
import { STSClient } from '@aws-sdk/client-sts';
import type { KubernetesClusterConfig } from '../../../src/private/kubernetes-contract';
import type { ClientCache } from '../clients';
import { logger } from '../observability';
import { KubernetesClient, TokenSource } from './client';
import { clientNode } from './load';
import { EksToken, eksToken } from './token';

/** Options of {@link KubernetesAccess}. */
export interface KubernetesAccessOptions {
  /** Clock for token signing and expiry; injectable for tests. @default - the system clock */
  readonly now?: () => Date;
  /** Deadline of one HTTP attempt against an API server (ms). @default 10000 */
  readonly requestTimeoutMs?: number;
  /**
   * How long a minted token is reused (ms). EKS accepts a token for 15 minutes after it was
   * signed; a minute less leaves room for clock skew and a slow request.
   * @default 840000 (14 minutes)
   */
  readonly tokenLifetimeMs?: number;
}

/** 10 s: an EKS API server answers in well under a second; a longer stall is a dead connection. */
const DEFAULT_REQUEST_TIMEOUT_MS = 10_000;
/** 14 minutes, one under the 15 minutes EKS accepts a presigned GetCallerIdentity URL for. */
const DEFAULT_TOKEN_LIFETIME_MS = 14 * 60_000;
/** The 15 minutes after X-Amz-Date for which STS, and so EKS, accepts a token. */
const TOKEN_VALIDITY_MS = 15 * 60_000;
/** A token is not used within this margin (ms) of its signing credentials' expiry. */
const CREDENTIALS_EXPIRY_MARGIN_MS = 60_000;

interface ResolvedConnection {
  readonly endpoint: string;
  readonly caPem: string;
  /** True when the endpoint or CA came from eks:DescribeCluster (and may go stale). */
  readonly described: boolean;
}

/**
 * Agentless access to EKS API servers from a Lambda function: IAM authentication with EKS tokens
 * (see {@link eksToken}), endpoint and CA from the cluster config or `eks:DescribeCluster`, and one
 * {@link KubernetesClient} (over `@kubernetes/client-node`) per cluster for the life of the
 * execution environment.
 *
 * The function's IAM role needs `eks:DescribeCluster` when a cluster config has no endpoint or CA,
 * and an EKS access entry with a namespace-scoped access policy (AmazonEKSViewPolicy for reads,
 * AmazonEKSEditPolicy for writes) in each namespace it touches. No kubeconfig file, no kubectl, no
 * aws-auth ConfigMap: the client's kubeconfig is built in memory.
 *
 * @example
 * const access = new KubernetesAccess(new ClientCache(process.env.AWS_REGION!));
 * const client = await access.client({ name: 'prod', region: 'eu-west-1' });
 * const settings = await client.getConfigMap('app', 'settings');
 */
export class KubernetesAccess {
  private readonly now: () => Date;
  private readonly requestTimeoutMs: number;
  private readonly tokenLifetimeMs: number;
  private readonly tokenSources = new Map<string, ClusterTokens>();
  private readonly described = new Map<string, Promise<{ endpoint?: string; ca?: string }>>();
  private readonly kubeClients = new Map<string, KubernetesClient>();

  constructor(private readonly clients: ClientCache, options: KubernetesAccessOptions = {}) {
    this.now = options.now ?? (() => new Date());
    this.requestTimeoutMs = options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
    this.tokenLifetimeMs = options.tokenLifetimeMs ?? DEFAULT_TOKEN_LIFETIME_MS;
    if (!(this.requestTimeoutMs > 0)) {
      throw new Error(`requestTimeoutMs must be positive, but got ${this.requestTimeoutMs}`);
    }
    if (!(this.tokenLifetimeMs > 0 && this.tokenLifetimeMs < TOKEN_VALIDITY_MS)) {
      throw new Error(`tokenLifetimeMs must be more than 0 and less than ${TOKEN_VALIDITY_MS} (15 minutes), but got ${this.tokenLifetimeMs}`);
    }
    // A handler that will talk to clusters creates its access at cold start: load the Kubernetes
    // client now, in Lambda's init phase (which runs with a full vCPU), rather than in the first
    // invocation. A handler that never creates one never loads the client.
    clientNode();
  }

  /**
   * The client of a cluster, created on first use and reused. Resolves the endpoint and CA with
   * `eks:DescribeCluster` when the config lacks either (once per cluster, cached).
   */
  async client(cluster: KubernetesClusterConfig): Promise<KubernetesClient> {
    if (!cluster?.name || !cluster.region) {
      throw new Error(`a cluster config needs a name and a region, but got ${JSON.stringify({ name: cluster?.name, region: cluster?.region })}`);
    }
    const connection = await this.resolve(cluster);
    const key = `${clusterKey(cluster)}|${connection.endpoint}|${sha256(connection.caPem)}`;
    let client = this.kubeClients.get(key);
    if (!client) {
      client = new KubernetesClient(cluster, {
        endpoint: connection.endpoint,
        caPem: connection.caPem,
        requestTimeoutMs: this.requestTimeoutMs,
        // A described endpoint may be stale (cluster re-created): describe again next time.
        onConnectionError: connection.described ? () => this.forgetConnection(cluster, key) : undefined,
      }, this.tokens(cluster));
      this.kubeClients.set(key, client);
    }
    return client;
  }

  /** Drops the cluster's cached token, described endpoint and clients (closing their connections). */
  invalidate(cluster: KubernetesClusterConfig): void {
    const prefix = `${clusterKey(cluster)}|`;
    this.tokenSources.get(clusterKey(cluster))?.clear();
    this.described.delete(clusterKey(cluster));
    for (const [key, client] of this.kubeClients) {
      if (key.startsWith(prefix)) {
        client.close();
        this.kubeClients.delete(key);
      }
    }
  }

  /** Closes every kept-alive connection (tests; a Lambda environment simply freezes). */
  close(): void {
    for (const client of this.kubeClients.values()) client.close();
    this.kubeClients.clear();
  }

  private tokens(cluster: KubernetesClusterConfig): ClusterTokens {
    const key = clusterKey(cluster);
    let source = this.tokenSources.get(key);
    if (!source) {
      const sts = this.clients.get(STSClient, { region: cluster.region });
      source = new ClusterTokens(
        () => eksToken({ sts, clusterName: cluster.name, signingDate: this.now() }),
        this.now,
        this.tokenLifetimeMs,
        { cluster: cluster.name, region: cluster.region },
      );
      this.tokenSources.set(key, source);
    }
    return source;
  }

  private async resolve(cluster: KubernetesClusterConfig): Promise<ResolvedConnection> {
    let endpoint = cluster.endpoint;
    let ca = cluster.certificateAuthorityData;
    const described = !endpoint || !ca;
    if (described) {
      const key = clusterKey(cluster);
      let pending = this.described.get(key);
      if (!pending) {
        pending = this.describe(cluster);
        this.described.set(key, pending);
        pending.catch(() => this.described.delete(key));
      }
      const found = await pending;
      endpoint ??= found.endpoint;
      ca ??= found.ca;
    }
    if (!endpoint) throw new Error(`cluster ${cluster.name} in ${cluster.region} has no API server endpoint`);
    if (!ca) throw new Error(`cluster ${cluster.name} in ${cluster.region} has no certificate authority data`);
    return { endpoint, caPem: decodeCa(ca, cluster), described };
  }

  private async describe(cluster: KubernetesClusterConfig): Promise<{ endpoint?: string; ca?: string }> {
    const eks = this.clients.get(EKSClient, { region: cluster.region });
    const out = await eks.send(new DescribeClusterCommand({ name: cluster.name }));
    logger.debug('described EKS cluster', { cluster: cluster.name, region: cluster.region });
    return { endpoint: out.cluster?.endpoint, ca: out.cluster?.certificateAuthority?.data };
  }

  private forgetConnection(cluster: KubernetesClusterConfig, clientKey: string): void {
    this.described.delete(clusterKey(cluster));
    this.kubeClients.delete(clientKey);
  }
}

/** The token of one cluster: minted on demand, reused until it nears expiry or is rejected. */
class ClusterTokens implements TokenSource {
  private current?: { readonly minted: Promise<EksToken>; readonly mintedAtMs: number; value?: EksToken };

  constructor(
    private readonly mint: () => Promise<EksToken>,
    private readonly now: () => Date,
    private readonly lifetimeMs: number,
    private readonly logFields: Record<string, string>,
  ) {}

  async token(): Promise<string> {
    const nowMs = this.now().getTime();
    if (!this.current || !this.usable(this.current, nowMs)) {
      const entry: NonNullable<typeof this.current> = { minted: this.mint(), mintedAtMs: nowMs };
      this.current = entry;
      entry.minted.then(
        (value) => { entry.value = value; },
        () => { if (this.current === entry) this.current = undefined; },
      );
      logger.debug('minted EKS token', this.logFields);
    }
    return (await this.current.minted).token;
  }

  invalidate(token: string): void {
    if (this.current?.value?.token === token) this.current = undefined;
  }

  clear(): void {
    this.current = undefined;
  }

  private usable(entry: NonNullable<typeof this.current>, nowMs: number): boolean {
    if (nowMs - entry.mintedAtMs >= this.lifetimeMs) return false;
    const credentialsExpireAt = entry.value?.credentialsExpireAt?.getTime();
    return credentialsExpireAt === undefined || nowMs < credentialsExpireAt - CREDENTIALS_EXPIRY_MARGIN_MS;
  }
}

function clusterKey(cluster: KubernetesClusterConfig): string {
  return `${cluster.region}|${cluster.name}`;
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** The PEM bundle in `certificateAuthorityData` (base64 of PEM, as EKS returns it). */
function decodeCa(data: string, cluster: KubernetesClusterConfig): string {
  const pem = Buffer.from(data, 'base64').toString('utf8');
  if (!pem.includes('-----BEGIN CERTIFICATE-----')) {
    throw new Error(`the certificate authority data of cluster ${cluster.name} in ${cluster.region} is not base64 of a PEM certificate bundle`);
  }
  return pem;
}
