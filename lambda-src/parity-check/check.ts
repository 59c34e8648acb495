import type {
  ConfigMapScopeConfig, IgnoreRuleConfig, ParameterOverrideConfig, ParityCursor, ParityDifference, ParityResult, ReplicaTargetConfig, SelectionConfig,
} from '../../src/parity-check/contract';
import { MAX_SUMMARY_LENGTH } from '../../src/parity-check/contract';
import { ClientCache } from '../shared/clients';
import { compareScope, LocationRead } from '../shared/comparison/compare';
import { ConfigMapsScope } from '../shared/comparison/configmaps';
import { RunDigest } from '../shared/comparison/digest';
import { IgnoreRules } from '../shared/comparison/ignore';
import { Drift, Location, Scope } from '../shared/comparison/model';
import { ParametersScope } from '../shared/comparison/parameters';
import { SecretsScope } from '../shared/comparison/secrets';
import { KubernetesAccess } from '../shared/kubernetes';
import { errorFields, logger } from '../shared/observability';

/** Settings of one parity check deployment (from the environment). */
export interface ParitySettings {
  readonly primaryRegion: string;
  /** Every region the check may be asked about. */
  readonly targets: readonly ReplicaTargetConfig[];
  readonly selection?: SelectionConfig;
  readonly parameterPaths: readonly string[];
  readonly parameterOverrides: readonly ParameterOverrideConfig[];
  readonly configMapScopes: readonly ConfigMapScopeConfig[];
  readonly ignoreRules: readonly IgnoreRuleConfig[];
  readonly excludedParameters: readonly string[];
  readonly excludedSecretArn?: string;
  readonly graceWindowSeconds: number;
  /** A region, cluster or item that cannot be read fails the check (fail closed). */
  readonly failWhenUnreadable: boolean;
}

/** Options of one check. */
export interface CheckOptions {
  /**
   * Asked before each scope is read; `false` stops the check there and returns an incomplete
   * result with the cursor to resume from (for a caller that watches its own deadline).
   */
  readonly shouldContinue?: () => boolean;
  /** Resumes an interrupted check at this scope; the earlier scopes' findings are the caller's. */
  readonly cursor?: ParityCursor;
}

/** The region is not one the check was deployed for. */
export class UnknownRegionError extends Error {
  constructor(region: string, known: readonly string[]) {
    super(`region ${JSON.stringify(region.slice(0, 32))} is not checked by this function; expected one of ${known.join(', ')}`);
    this.name = 'UnknownRegionError';
  }
}

/**
 * Compares one target region with the primary, with the drift detector's readers and comparison
 * (lambda-src/shared/comparison): the primary and the target region only, with the same batch
 * APIs (ListSecrets + BatchGetSecretValue, GetParametersByPath, one GET per ConfigMap).
 * Value-free: the result names items and drift types.
 */
export class ParityChecker {
  private readonly ignore: IgnoreRules;

  constructor(
    private readonly settings: ParitySettings,
    private readonly clients: ClientCache,
    private readonly kubernetes: KubernetesAccess | undefined,
    private readonly now: () => Date = () => new Date(),
  ) {
    this.ignore = new IgnoreRules(settings.ignoreRules);
  }

  /** Regions this check may be asked about. */
  get regions(): string[] {
    return this.settings.targets.map((t) => t.region);
  }

  /** Checks `region` against the primary. */
  async check(region: string, options: CheckOptions = {}): Promise<ParityResult> {
    if (!this.regions.includes(region)) throw new UnknownRegionError(region, this.regions);
    const digest = new RunDigest();
    const scopes = this.scopes(region, digest);
    const differences: ParityDifference[] = [];
    const deferred: string[] = [];
    let compared = 0;
    let next = options.cursor?.nextScope ?? 0;
    for (; next < scopes.length; next++) {
      if (options.shouldContinue && !options.shouldContinue()) break;
      const scope = scopes[next];
      const { primary, replica } = await this.readScope(scope);
      const comparison = compareScope(scope, primary, [replica], {
        ignore: this.ignore,
        graceWindowMs: this.settings.graceWindowSeconds * 1000,
        reportExtraItems: false,
        now: this.now(),
      });
      compared += comparison.compared;
      deferred.push(...comparison.deferrals.map((d) => `${d.kind} ${d.name}`));
      differences.push(...comparison.drifts.map(toDifference));
    }
    const complete = next >= scopes.length;
    const blocking = differences.filter((d) => d.driftType !== 'SCAN_FAILED' || this.settings.failWhenUnreadable);
    const verdict = complete && blocking.length === 0 ? 'PASS' : 'FAIL';
    const result = {
      primaryRegion: this.settings.primaryRegion,
      targetRegion: region,
      verdict,
      complete,
      ...(complete ? {} : { cursor: { nextScope: next } }),
      compared,
      deferred,
      differences,
    } as const;
    return { ...result, summary: summarize(result, this.settings.failWhenUnreadable) };
  }

  /** The scopes compared for `region`: secrets, each parameter path, each ConfigMap scope with a cluster there. */
  private scopes(region: string, digest: RunDigest): Scope[] {
    const s = this.settings;
    const scopes: Scope[] = [];
    if (s.selection) {
      scopes.push(new SecretsScope({
        clients: this.clients,
        primaryRegion: s.primaryRegion,
        targets: s.targets.filter((t) => t.region === region),
        selection: s.selection,
        comparedTagKeys: [],
        digest,
        keepForRemediation: false,
        excludedArns: new Set(s.excludedSecretArn ? [s.excludedSecretArn] : []),
        now: this.now,
      }));
    }
    for (const path of s.parameterPaths) {
      scopes.push(new ParametersScope({
        clients: this.clients,
        primaryRegion: s.primaryRegion,
        replicaRegions: [region],
        path,
        digest,
        keepForRemediation: false,
        excludedNames: new Set(s.excludedParameters),
        // The shared comparison expects each declared per-region value instead of the primary's.
        overrides: s.parameterOverrides,
      }));
    }
    for (const config of s.configMapScopes) {
      // One scope per cluster of the target region: each is compared with the primary cluster.
      for (const cluster of config.replicas.filter((c) => c.region === region)) {
        if (!this.kubernetes) throw new Error('ConfigMap scopes need Kubernetes access');
        scopes.push(new ConfigMapsScope({ ...config, replicas: [cluster] }, this.kubernetes, digest, false));
      }
    }
    return scopes;
  }

  /** Reads the primary and the target location of a scope (in parallel, unless the target read is narrowed to the primary's names). */
  private async readScope(scope: Scope): Promise<{ primary: LocationRead; replica: LocationRead }> {
    const target = scope.replicas[0];
    if (!scope.replicaReadNeedsPrimaryNames) {
      const [primary, replica] = await Promise.all([this.read(scope, scope.primary, 'primary'), this.read(scope, target, 'replica')]);
      return { primary, replica };
    }
    const primary = await this.read(scope, scope.primary, 'primary');
    if ('failure' in primary) return { primary, replica: { location: target, failure: { errorName: 'NotReadPrimaryUnreadable' } } };
    const names = new Set([...primary.inventory.items.keys(), ...primary.inventory.itemFailures.keys()]);
    return { primary, replica: await this.read(scope, target, 'replica', names) };
  }

  private async read(scope: Scope, location: Location, role: 'primary' | 'replica', names?: ReadonlySet<string>): Promise<LocationRead> {
    try {
      return { location, inventory: await scope.read(location, role, names) };
    } catch (e) {
      const fields = errorFields(e);
      const reason = (e as { reason?: unknown })?.reason;
      const errorName = typeof reason === 'string' && reason !== '' ? reason : fields.errorName;
      logger.error('parity check could not read', { kind: scope.kind, scope: scope.label, role, region: location.region, cluster: location.cluster, ...fields, errorName });
      return { location, failure: { errorName, ...(fields.httpStatus ? { httpStatus: fields.httpStatus } : {}) } };
    }
  }
}

function toDifference(d: Omit<Drift, 'remediation'>): ParityDifference {
  const fields = d.details?.map((x) => x.field);
  return {
    kind: d.kind,
    name: d.name,
    driftType: d.driftType,
    ...(d.replicaCluster !== undefined ? { cluster: d.replicaCluster } : {}),
    ...(fields?.length ? { fields } : {}),
    ...(d.failure ? { unreadable: { location: d.failure.location, errorName: d.failure.errorName } } : {}),
  };
}

/** One line: the verdict, then each difference by kind, name and drift type, within `MAX_SUMMARY_LENGTH`. */
export function summarize(result: Omit<ParityResult, 'summary'>, failWhenUnreadable: boolean): string {
  const head = `Config parity of ${result.targetRegion} with ${result.primaryRegion}: ${result.verdict}`;
  const parts: string[] = [];
  if (!result.complete) parts.push(`check stopped before it finished (resume at scope ${result.cursor?.nextScope})`);
  const counted = result.differences.filter((d) => d.driftType !== 'SCAN_FAILED').length;
  const unreadable = result.differences.length - counted;
  if (counted > 0) parts.push(`${counted} item(s) differ`);
  if (unreadable > 0) parts.push(`${unreadable} could not be read${failWhenUnreadable ? ' (fails closed)' : ' (ignored: fails open)'}`);
  if (parts.length === 0) parts.push(`${result.compared} item(s) agree`);
  if (result.deferred.length > 0) parts.push(`${result.deferred.length} changed within the grace window, not compared`);
  let text = `${head} - ${parts.join('; ')}`;
  const items = result.differences.map((d) => {
    const where = d.cluster ? ` in cluster ${d.cluster}` : '';
    const what = d.unreadable ? `${d.driftType} (${d.unreadable.location} ${d.unreadable.errorName})` : d.driftType;
    return `${d.kind} ${d.name}${where}: ${what}${d.fields ? ` [${d.fields.join(', ')}]` : ''}`;
  });
  for (let i = 0; i < items.length; i++) {
    const rest = items.length - i - 1;
    const line = `; ${items[i]}`;
    const tail = rest > 0 ? ` ... and ${rest} more` : '';
    if (text.length + line.length + tail.length > MAX_SUMMARY_LENGTH) {
      text += ` ... and ${items.length - i} more`;
      break;
    }
    text += line;
  }
  return text;
}
