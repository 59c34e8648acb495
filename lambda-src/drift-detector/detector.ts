import { createHash, randomBytes } from 'node:crypto';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { guidance, GuidanceContext } from './guidance';
import { Remediator, RepairTarget } from './remediation';
import {
  DriftReport, emitScanMetrics, humanSummary, locationFields, LocationStatus, REPORT_SCHEMA_VERSION, ScanResult, scanResult, ScopeStatus,
  summarizeDrifts, writeReport,
} from './report';
import type {
  ConfigMapScopeConfig, IgnoreRuleConfig, ParameterOverrideConfig, ParameterReplicaKeyConfig, RemediationModeName, ReplicaTargetConfig,
  ResourceKindName, SelectionConfig,
} from '../../src/drift-detector/contract';
import { ClientCache } from '../shared/clients';
import { compareScope, LocationRead, ScopeComparison } from '../shared/comparison/compare';
import { ConfigMapsScope } from '../shared/comparison/configmaps';
import { RunDigest } from '../shared/comparison/digest';
import { IgnoreRules } from '../shared/comparison/ignore';
import { Deferral, Drift, Location, Scope } from '../shared/comparison/model';
import { ParametersScope } from '../shared/comparison/parameters';
import { DEFAULT_SECRETS_KEY, SecretsScope } from '../shared/comparison/secrets';
import { mapWhile } from '../shared/continuation';
import { KeyedHasher } from '../shared/hmac';
import { KubernetesAccess } from '../shared/kubernetes';
import { errorFields, logger } from '../shared/observability';
import { RunBudget } from '../shared/run-budget';
import type { ConflictPolicyName } from '../shared/secrets/contract';
import { SecretReplicator } from '../shared/secrets/replicator';

/** Scopes read at once; each reads its replica locations in parallel. */
const SCOPE_CONCURRENCY = 4;

/** Settings of one detector deployment (from the environment). */
export interface DetectorSettings {
  readonly primaryRegion: string;
  readonly targets: readonly ReplicaTargetConfig[];
  readonly selection?: SelectionConfig;
  readonly comparedTagKeys: readonly string[];
  readonly parameterPaths: readonly string[];
  /** Declared per-region parameter values, expected instead of the primary's. */
  readonly parameterOverrides?: readonly ParameterOverrideConfig[];
  /** The KMS key of SecureString replicas per region, for remediation; absent when unknown. */
  readonly parameterReplicaKeys?: readonly ParameterReplicaKeyConfig[];
  readonly configMapScopes: readonly ConfigMapScopeConfig[];
  readonly ignoreRules: readonly IgnoreRuleConfig[];
  readonly graceWindowSeconds: number;
  readonly reportExtraItems: boolean;
  readonly reportBucket: string;
  readonly reportPrefix: string;
  readonly remediationMode: RemediationModeName;
  readonly provenanceKeySecretArn?: string;
  /** Value of the provenance tag `cross-region-config:deployment` remediation writes on replicas, if IAM scopes by it. */
  readonly deploymentId?: string;
  /** How secret remediation treats replicas changed in their own region: the replicator's policy. */
  readonly remediationConflictPolicy: ConflictPolicyName;
  /** Whether secret remediation copies the primary's tags: the replicator's setting. */
  readonly remediationReplicateTags: boolean;
  readonly excludedParameters: readonly string[];
  readonly accountId?: string;
}

/** What one invocation of a scan compared: whole scopes, in scope order. Value-free (serialized between invocations). */
export interface ScanPart {
  readonly scopes: ScopeStatus[];
  readonly drifts: Drift[];
  readonly deferred: Deferral[];
  /** (item, replica location) pairs compared. */
  readonly compared: number;
  /** (item, replica location) pairs skipped by ignore rules. */
  readonly ignored: number;
}

/** The outcome of `compareScopes`. */
export interface ScopesCompared {
  readonly part: ScanPart;
  /** Index of the first scope not started; undefined when every scope is done. */
  readonly next?: number;
  readonly scopeCount: number;
  /** Identifies the list of scopes, so that a continuation notices when the settings changed. */
  readonly fingerprint: string;
}

/** A scan's id: its start time and 8 random hex digits, e.g. `20261207T155000Z-0a1b2c3d`. */
export function newScanId(started: Date): string {
  return `${started.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z')}-${randomBytes(4).toString('hex')}`;
}

/** 16 hex digits of a SHA-256 of the scopes' kinds, labels and locations. */
function scopesFingerprint(scopes: readonly Scope[]): string {
  const shape = scopes.map((s) => [s.kind, s.label, s.primary, s.replicas]);
  return createHash('sha256').update(JSON.stringify(shape)).digest('hex').slice(0, 16);
}

interface ScopeRead {
  readonly scope: Scope;
  readonly primary: LocationRead;
  readonly replicas: LocationRead[];
}

/** Scans every scope, compares, reports, and optionally remediates. One instance per execution environment. */
export class DriftDetector {
  private readonly ignore: IgnoreRules;
  private replicator?: Promise<SecretReplicator>;

  constructor(
    private readonly settings: DetectorSettings,
    private readonly clients: ClientCache,
    private readonly kubernetes: KubernetesAccess | undefined,
    private readonly now: () => Date = () => new Date(),
  ) {
    this.ignore = new IgnoreRules(settings.ignoreRules);
  }

  /** One full scan in this invocation: read, compare, remediate (when enabled), emit metrics, write the report. */
  async scan(trigger: string): Promise<ScanResult> {
    const started = this.now();
    const compared = await this.compareScopes(RunBudget.unbounded(), 0);
    return this.finish(trigger, newScanId(started), started, [compared.part]);
  }

  /**
   * Reads, compares and (when enabled) remediates the scopes from index `from` on, in order, starting
   * a scope only while `budget` allows (and always at least one, so that every invocation of a scan
   * makes progress). A scope is the unit: it is read and compared whole in one invocation. Returns
   * what was compared and the index of the first scope not started (`next`, undefined when none is left).
   */
  async compareScopes(budget: RunBudget, from: number): Promise<ScopesCompared> {
    const digest = new RunDigest();
    const keep = this.settings.remediationMode !== 'OFF';
    const scopes = this.scopes(digest, keep);
    const fingerprint = scopesFingerprint(scopes);
    if (from > scopes.length) throw new Error(`the scan resumes at scope ${from}, but there are ${scopes.length}`);
    let started = 0;
    const shouldStart = () => started++ === 0 || budget.shouldStartMore();
    const reads = await mapWhile(scopes.slice(from), SCOPE_CONCURRENCY, shouldStart, (scope) => this.readScope(scope));
    const scopeReads = reads.map((r) => (r as PromiseFulfilledResult<ScopeRead>).value);
    const comparisonNow = this.now();
    const context = this.guidanceContext(scopeReads);
    const drifts: Drift[] = [];
    const repairs: RepairTarget[] = [];
    const statuses: ScopeStatus[] = [];
    let compared = 0;
    let ignored = 0;
    const deferred: DriftReport['deferred'] = [];
    for (const read of scopeReads) {
      const comparison: ScopeComparison = compareScope(read.scope, read.primary, read.replicas, {
        ignore: this.ignore,
        graceWindowMs: this.settings.graceWindowSeconds * 1000,
        reportExtraItems: this.settings.reportExtraItems,
        now: comparisonNow,
      });
      compared += comparison.compared;
      ignored += comparison.ignored;
      deferred.push(...comparison.deferrals);
      const scopeDrifts = comparison.drifts.map((d): Drift => ({ ...d, remediation: guidance(d, context) }));
      drifts.push(...scopeDrifts);
      if (keep) repairs.push(...this.repairTargets(read, scopeDrifts));
      statuses.push({
        kind: read.scope.kind,
        label: read.scope.label,
        primary: status(read.primary),
        replicas: read.replicas.map(status),
        primaryItems: comparison.primaryItems,
      });
    }

    if (keep && repairs.length > 0) {
      await new Remediator({
        clients: this.clients,
        mode: this.settings.remediationMode,
        primaryRegion: this.settings.primaryRegion,
        targets: this.settings.targets,
        parameterReplicaKeys: this.settings.parameterReplicaKeys,
        ignore: this.ignore,
        replicator: () => this.secretReplicator(),
        kubernetes: this.kubernetes,
        now: this.now,
      }).repair(repairs);
    }
    const next = from + scopeReads.length;
    return {
      part: { scopes: statuses, drifts, deferred, compared, ignored },
      ...(next < scopes.length ? { next } : {}),
      scopeCount: scopes.length,
      fingerprint,
    };
  }

  /** Identifies the configured scopes (kinds, labels, locations): a scan resumes only over the same ones. */
  scopesFingerprint(): string {
    return scopesFingerprint(this.scopes(new RunDigest(), false));
  }

  /**
   * Completes a scan from its parts (one per invocation, in order): emits the per-scan metrics once
   * (`DriftCount`, `HasDrift`, ...), logs the drifts and writes the report.
   */
  async finish(trigger: string, runId: string, started: Date, parts: readonly ScanPart[]): Promise<ScanResult> {
    const scopes = this.scopes(new RunDigest(), false);
    const drifts = parts.flatMap((p) => p.drifts);
    const deferred = parts.flatMap((p) => p.deferred);
    const compared = parts.reduce((n, p) => n + p.compared, 0);
    const ignored = parts.reduce((n, p) => n + p.ignored, 0);
    const resourceTypes = [...new Set(scopes.map((s) => s.kind))];
    const replicaRegions = [...new Set(scopes.flatMap((s) => s.replicas.map((l) => l.region)))];
    const summary = summarizeDrifts(drifts, resourceTypes, replicaRegions, { compared, ignored, deferred: deferred.length });
    const report: DriftReport = {
      schemaVersion: REPORT_SCHEMA_VERSION,
      runId,
      trigger,
      startedAt: started.toISOString(),
      finishedAt: this.now().toISOString(),
      primaryRegion: this.settings.primaryRegion,
      replicaRegions,
      resourceTypes,
      remediationMode: this.settings.remediationMode,
      graceWindowSeconds: this.settings.graceWindowSeconds,
      summary,
      scopes: parts.flatMap((p) => p.scopes),
      drifts,
      deferred,
    };
    emitScanMetrics(summary, this.settings.remediationMode);
    for (const d of drifts) {
      logger.warn('configuration drift', {
        kind: d.kind,
        name: d.name,
        driftType: d.driftType,
        replicaRegion: d.replicaRegion,
        replicaCluster: d.replicaCluster,
        fields: d.details?.map((x) => x.field),
        errorName: d.failure?.errorName,
        autoRemediation: d.autoRemediation?.status,
      });
    }
    // A report that cannot be written fails the invocation (retried, then dead-lettered); the metrics are already out.
    const location = await writeReport(this.clients, this.settings.primaryRegion, this.settings.reportBucket, this.settings.reportPrefix, report);
    const message = humanSummary(report, location);
    logger.info(message, { runId, driftCount: summary.driftCount, reportLocation: location });
    return scanResult(report, location, message, this.now().getTime() - started.getTime());
  }

  private scopes(digest: RunDigest, keep: boolean): Scope[] {
    const s = this.settings;
    const scopes: Scope[] = [];
    if (s.selection) {
      scopes.push(new SecretsScope({
        clients: this.clients,
        primaryRegion: s.primaryRegion,
        targets: s.targets,
        selection: s.selection,
        comparedTagKeys: s.comparedTagKeys,
        digest,
        keepForRemediation: keep,
        excludedArns: new Set(s.provenanceKeySecretArn ? [s.provenanceKeySecretArn] : []),
        now: this.now,
      }));
    }
    for (const path of s.parameterPaths) {
      scopes.push(new ParametersScope({
        clients: this.clients,
        primaryRegion: s.primaryRegion,
        replicaRegions: s.targets.map((t) => t.region),
        path,
        digest,
        keepForRemediation: keep,
        excludedNames: new Set(s.excludedParameters),
        overrides: s.parameterOverrides ?? [],
      }));
    }
    if (s.configMapScopes.length > 0) {
      if (!this.kubernetes) throw new Error('ConfigMap scopes need Kubernetes access');
      for (const config of s.configMapScopes) scopes.push(new ConfigMapsScope(config, this.kubernetes, digest, keep));
    }
    return scopes;
  }

  /**
   * Reads every location of a scope in parallel; a scope whose replica reads are narrowed to the
   * primary's names reads the primary first.
   */
  private async readScope(scope: Scope): Promise<ScopeRead> {
    if (!scope.replicaReadNeedsPrimaryNames) {
      const [primary, ...replicas] = await Promise.all([
        this.readLocation(scope, scope.primary, 'primary'),
        ...scope.replicas.map((l) => this.readLocation(scope, l, 'replica')),
      ]);
      return { scope, primary, replicas };
    }
    const primary = await this.readLocation(scope, scope.primary, 'primary');
    const names = 'inventory' in primary
      ? new Set([...primary.inventory.items.keys(), ...primary.inventory.itemFailures.keys()])
      : undefined;
    const replicas = await Promise.all(scope.replicas.map((l) => this.readLocation(scope, l, 'replica', names)));
    return { scope, primary, replicas };
  }

  private async readLocation(scope: Scope, location: Location, role: 'primary' | 'replica', names?: ReadonlySet<string>): Promise<LocationRead> {
    try {
      return { location, inventory: await scope.read(location, role, names) };
    } catch (e) {
      const fields = errorFields(e);
      // A Kubernetes error's reason (ECONNREFUSED, Unauthorized) says more than its class name.
      const reason = (e as { reason?: unknown })?.reason;
      const errorName = typeof reason === 'string' && reason !== '' ? reason : fields.errorName;
      const httpStatus = fields.httpStatus ?? ((e as { statusCode?: number }).statusCode || undefined);
      logger.error('scan failed', { kind: scope.kind, scope: scope.label, role, region: location.region, cluster: location.cluster, ...fields, errorName });
      return { location, failure: { errorName, ...(httpStatus ? { httpStatus } : {}) } };
    }
  }

  private repairTargets(read: ScopeRead, drifts: Drift[]): RepairTarget[] {
    const byPair = new Map<string, RepairTarget>();
    const primaryItems = 'inventory' in read.primary ? read.primary.inventory.items : undefined;
    for (const drift of drifts) {
      const replicaRead = read.replicas.find((r) => r.location.region === drift.replicaRegion && r.location.cluster === drift.replicaCluster);
      if (!replicaRead) continue;
      const key = `${drift.name}|${drift.replicaRegion}|${drift.replicaCluster ?? ''}`;
      let target = byPair.get(key);
      if (!target) {
        target = {
          scope: read.scope,
          location: replicaRead.location,
          primary: primaryItems?.get(drift.name),
          replica: 'inventory' in replicaRead ? replicaRead.inventory.items.get(drift.name) : undefined,
          drifts: [],
        };
        byPair.set(key, target);
      }
      target.drifts.push(drift);
    }
    return [...byPair.values()];
  }

  private guidanceContext(reads: readonly ScopeRead[]): GuidanceContext {
    const parameterTypes = new Map<string, string>();
    const parameterDataTypes = new Map<string, string>();
    const binarySecrets = new Set<string>();
    const configMapKeys = new Map<string, string[]>();
    for (const read of reads) {
      if (!('inventory' in read.primary)) continue;
      for (const item of read.primary.inventory.items.values()) {
        if (item.kind === 'parameter') {
          parameterTypes.set(item.name, item.metadata.type);
          parameterDataTypes.set(item.name, item.metadata.dataType);
        } else if (item.kind === 'secret' && item.valueKind === 'binary') {
          binarySecrets.add(item.name);
        } else if (item.kind === 'configmap') {
          configMapKeys.set(item.name, Object.keys(item.keyDigests ?? {}));
        }
      }
    }
    return {
      account: this.settings.accountId,
      replicaKeys: new Map(this.settings.targets.map((t) => [t.region, t.kmsKeyId ?? DEFAULT_SECRETS_KEY])),
      parameterReplicaKeys: new Map((this.settings.parameterReplicaKeys ?? []).map((k) => [k.region, k.kmsKeyId])),
      parameterTypes,
      parameterDataTypes,
      overriddenParameters: new Set((this.settings.parameterOverrides ?? []).map((o) => `${o.region}\u0000${o.name}`)),
      binarySecrets,
      ignoredConfigMapKeys: (name, region) => (configMapKeys.get(name) ?? []).filter((key) => this.ignore.ignoresKey('configmap', name, key, region)),
    };
  }

  /** The replication engine the secret replicator runs, keyed like the replicator's provenance tags. */
  private secretReplicator(): Promise<SecretReplicator> {
    const s = this.settings;
    if (!s.selection || !s.provenanceKeySecretArn) return Promise.reject(new Error('secret remediation needs the provenance key'));
    this.replicator ??= this.clients.get(SecretsManagerClient, { region: s.primaryRegion })
      .send(new GetSecretValueCommand({ SecretId: s.provenanceKeySecretArn }))
      .then((key) => new SecretReplicator({
        primaryRegion: s.primaryRegion,
        targets: s.targets,
        selection: s.selection!,
        conflictPolicy: s.remediationConflictPolicy,
        replicateTags: s.remediationReplicateTags,
        propagateDeletions: false,
        deletionRecoveryWindowDays: 7,
        provenanceKeySecretArn: s.provenanceKeySecretArn!,
        ...(s.deploymentId ? { deploymentId: s.deploymentId } : {}),
      }, this.clients, new KeyedHasher(key.SecretString ?? ''), this.now, false))
      .catch((e) => {
        this.replicator = undefined;
        throw e;
      });
    return this.replicator;
  }
}

function status(read: LocationRead): LocationStatus {
  return 'failure' in read
    ? { ...locationFields(read.location), status: 'failed', errorName: read.failure.errorName }
    : { ...locationFields(read.location), status: 'read' };
}

export type { ResourceKindName };
