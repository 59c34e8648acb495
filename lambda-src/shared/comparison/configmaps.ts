import { RunDigest } from './digest';
import { Inventory, Item, Location, ReadFailure, Scope } from './model';
import type { ConfigMapScopeConfig, KubernetesClusterConfig } from '../../../src/core/comparison-contract';
import { mapSettled } from '../concurrency';
import { KubernetesAccess, KubernetesApiError } from '../kubernetes';

/** ConfigMaps read at once per cluster. */
const READ_CONCURRENCY = 4;

/** The state auto-remediation copies: the primary ConfigMap's data (memory only). */
export interface ConfigMapSource {
  readonly data: Readonly<Record<string, string>>;
}

/**
 * Named ConfigMaps of one namespace, compared between a cluster in the primary region and clusters
 * in replica regions, key by key. Values are compared by keyed digests; a key's value is never
 * logged or reported.
 */
export class ConfigMapsScope implements Scope {
  readonly kind = 'configmap' as const;
  readonly replicaReadNeedsPrimaryNames = false;
  readonly label: string;
  readonly primary: Location;
  readonly replicas: Location[];
  private readonly clusters = new Map<string, KubernetesClusterConfig>();

  constructor(
    private readonly config: ConfigMapScopeConfig,
    private readonly access: KubernetesAccess,
    private readonly digest: RunDigest,
    private readonly keepForRemediation: boolean,
  ) {
    // Scope-level findings (a cluster unreadable) are named `<namespace>/*`; the drift names the clusters.
    this.label = `${config.namespace}/*`;
    this.primary = this.locate(config.primary);
    this.replicas = config.replicas.map((c) => this.locate(c));
  }

  /** The cluster a location stands for. */
  cluster(location: Location): KubernetesClusterConfig {
    return this.clusters.get(clusterKey(location))!;
  }

  get namespace(): string {
    return this.config.namespace;
  }

  async read(location: Location, role: 'primary' | 'replica'): Promise<Inventory> {
    const client = await this.access.client(this.cluster(location));
    const items = new Map<string, Item>();
    const itemFailures = new Map<string, ReadFailure>();
    const settled = await mapSettled(this.config.names, READ_CONCURRENCY, (name) => client.getConfigMap(this.config.namespace, name));
    settled.forEach((s, i) => {
      const name = `${this.config.namespace}/${this.config.names[i]}`;
      if (s.status === 'rejected') {
        const e = s.reason as KubernetesApiError;
        // An unreachable API server fails the whole location; a denied or broken object only itself.
        if (!(e instanceof KubernetesApiError) || e.statusCode === 0 || e.statusCode >= 500) throw s.reason;
        itemFailures.set(name, { errorName: e.reason || e.name, httpStatus: e.statusCode });
        return;
      }
      const cm = s.value;
      if (!cm) return;
      const keyDigests: Record<string, string> = {};
      for (const [key, value] of Object.entries(cm.data)) keyDigests[key] = this.digest.ofString(value);
      const changedAt = latest(cm.managedFields.map((f) => f.time));
      const source: ConfigMapSource | undefined = this.keepForRemediation && role === 'primary' ? { data: { ...cm.data } } : undefined;
      items.set(name, {
        kind: 'configmap',
        name,
        digest: '',
        keyDigests,
        metadata: {},
        ...(changedAt ? { changedAt } : {}),
        ...(source ? { source } : {}),
      });
    });
    return { items, itemFailures };
  }

  expectedMetadata(): Record<string, string> {
    return {};
  }

  private locate(cluster: KubernetesClusterConfig): Location {
    const location = { region: cluster.region, cluster: cluster.name };
    this.clusters.set(clusterKey(location), cluster);
    return location;
  }
}

function clusterKey(location: Location): string {
  return `${location.region}|${location.cluster ?? ''}`;
}

/** The latest of some ISO 8601 timestamps (managedFields times: the last write of any manager). */
function latest(times: Array<string | undefined>): Date | undefined {
  const ms = times.filter((t): t is string => t !== undefined).map((t) => Date.parse(t)).filter((t) => !Number.isNaN(t));
  return ms.length > 0 ? new Date(Math.max(...ms)) : undefined;
}
