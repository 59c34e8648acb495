import type { DriftTypeName, ResourceKindName } from '../../../src/core/comparison-contract';

/**
 * One configuration item as read in one location, reduced to what is compared. Values are held
 * only as keyed digests (HMAC-SHA256 under a key generated for the run); the primary's raw value
 * is kept in memory (`source`) only when auto-remediation needs to copy it.
 */
export interface Item {
  readonly kind: ResourceKindName;
  /** Secret name, parameter name, or `<namespace>/<name>` of a ConfigMap. */
  readonly name: string;
  /** Keyed digest of the whole value. */
  readonly digest: string;
  /** Whether a secret's value is a string or binary (remediation commands differ). */
  readonly valueKind?: 'string' | 'binary';
  /** Keyed digest per ConfigMap data key. */
  readonly keyDigests?: Readonly<Record<string, string>>;
  /** Compared metadata (type, KMS key, selected tags), never values. */
  readonly metadata: Readonly<Record<string, string>>;
  /** When the item last changed, where the service says. */
  readonly changedAt?: Date;
  /** Opaque state the remediator needs (memory only, never serialized). */
  readonly source?: unknown;
}

/** A failure to read a whole location or one item, reduced to value-free fields. */
export interface ReadFailure {
  readonly errorName: string;
  readonly httpStatus?: number;
}

/** Everything read in one location (a region, or a cluster) for one scope. */
export interface Inventory {
  readonly items: Map<string, Item>;
  /** Items that are listed but could not be read, with the reason. */
  readonly itemFailures: Map<string, ReadFailure>;
}

/** Where a scope is read: the region, and for ConfigMaps the cluster. */
export interface Location {
  readonly region: string;
  readonly cluster?: string;
}

/** One comparable set of items: e.g. the selected secrets, one parameter path, or one ConfigMap scope. */
export interface Scope {
  readonly kind: ResourceKindName;
  /** Human label for logs and scan-failure findings, e.g. `/app/prod` or `cluster-a/default`. */
  readonly label: string;
  readonly primary: Location;
  readonly replicas: readonly Location[];
  /** True when a replica read is narrowed to the primary's names (so it waits for the primary's read). */
  readonly replicaReadNeedsPrimaryNames: boolean;
  /** Reads the scope in one location; `primaryNames` narrows a replica read to what the primary has. */
  read(location: Location, role: 'primary' | 'replica', primaryNames?: ReadonlySet<string>): Promise<Inventory>;
  /** The metadata a replica of `primary` is expected to have in `location`. */
  expectedMetadata(primary: Item, location: Location): Record<string, string>;
  /**
   * The digest a replica of `primary` is expected to hold in `location` when it differs from the
   * primary's by declaration (a parameter's per-region override); `undefined` means the primary's.
   */
  expectedDigest?(primary: Item, location: Location): string | undefined;
}

/** A detail of a metadata mismatch or of a ConfigMap value mismatch; names and metadata only. */
export interface DriftDetail {
  /** `type`, `dataType`, `kmsKey`, `tag:<key>`, or `key:<ConfigMap data key>`. */
  readonly field: string;
  /** The primary's metadata value (never a configuration value); absent for value fields. */
  readonly primary?: string;
  /** The replica's metadata value (never a configuration value); absent for value fields. */
  readonly replica?: string;
  /** For ConfigMap keys: `missing`, `extra` or `changed`. */
  readonly change?: 'missing' | 'extra' | 'changed';
}

/** What auto-remediation did with one drift. */
export type RemediationStatus = 'repaired' | 'would-repair' | 'failed' | 'not-remediable' | 'skipped';

/** One drift of one item in one replica location. */
export interface Drift {
  readonly kind: ResourceKindName;
  readonly name: string;
  readonly driftType: DriftTypeName;
  readonly primaryRegion: string;
  readonly replicaRegion: string;
  readonly primaryCluster?: string;
  readonly replicaCluster?: string;
  readonly detectedAt: string;
  readonly details?: DriftDetail[];
  /** For SCAN_FAILED: what could not be read, and why. */
  readonly failure?: { readonly location: 'primary' | 'replica'; readonly region: string; readonly errorName: string; readonly httpStatus?: number };
  readonly remediation: { readonly guidance: string; readonly commands: string[] };
  autoRemediation?: { status: RemediationStatus; errorName?: string };
}

/** An item changed in the primary within the grace window: compared on a later scan. */
export interface Deferral {
  readonly kind: ResourceKindName;
  readonly name: string;
  readonly changedAt: string;
  readonly recheckAfter: string;
}
