import { randomBytes } from 'node:crypto';
import type { KeyedHasher } from '../hmac';

/**
 * Replica version ids that carry their own provenance.
 *
 * The replicator passes a ClientRequestToken with every value it writes, and Secrets Manager makes
 * that token the new version's VersionId, visible in DescribeSecret's `VersionIdsToStages` and
 * ListSecrets' `SecretVersionsToStages`. The token therefore records, with no extra call, which
 * primary version the replica's AWSCURRENT is a copy of and who wrote it:
 *
 *   <source version id>.<read time><nonce>.<mac>
 *
 * - source version id: the primary's VersionId when it is a plain id of at most 36 characters
 *   (a UUID, as SDKs and the console generate), else `h` and 35 hex characters of its keyed hash;
 * - read time: when the writer read the primary (milliseconds since 1970, base 36, 9 characters),
 *   which orders concurrent writers;
 * - nonce: 4 random hex characters. Every write mints a new token, so a token is never "used up":
 *   a rollback to an earlier primary version, or a repair after a newer write, always creates a
 *   new replica version instead of an idempotent no-op that would leave AWSCURRENT where it was;
 * - mac: 12 hex characters (48 bits) of HMAC-SHA256 under the deployment's provenance key over the
 *   source ARN, the source version part, the target (region and role) and the read time and nonce.
 *   Only this replicator can mint a version id that verifies, so a version id that verifies is
 *   the replicator's own write, and any other AWSCURRENT is a change made in the replica region.
 *
 * At most 36 + 1 + 13 + 1 + 12 = 63 characters: within the token's 32 to 64.
 */

/** Characters of the read time, base 36: milliseconds up to the year 5188. */
const STAMP_CHARS = 9;
/** Random hex characters per token. */
const NONCE_CHARS = 4;
/** Hex characters of the MAC. */
const MAC_CHARS = 12;
/** Longest source version id carried as it is (a UUID). */
const MAX_CLEAR_SOURCE_CHARS = 36;
/** Shortest: keeps every token at least 32 characters long (Secrets Manager's minimum). */
const MIN_CLEAR_SOURCE_CHARS = 4;
const VERSION_ID = new RegExp(`^(.+)\\.([0-9a-z]{${STAMP_CHARS}})([0-9a-f]{${NONCE_CHARS}})\\.([0-9a-f]{${MAC_CHARS}})$`);

/** The target a replica lives in. */
export interface VersionTarget {
  readonly region: string;
  readonly roleArn?: string;
}

/** What a verified replica version id says. */
export interface ReplicaVersion {
  /** The source version part: the primary's VersionId, or its keyed hash (see `sourcePart`). */
  readonly sourcePart: string;
  /** When the writer read the primary. */
  readonly readAt: Date;
}

/** Mints and verifies replica version ids under one deployment's provenance key. */
export class ReplicaVersionIds {
  constructor(private readonly hasher: KeyedHasher, private readonly nonce: () => string = randomNonce) {}

  /** How a primary version id appears in the replica version ids of its copies. */
  sourcePart(sourceVersionId: string): string {
    if (sourceVersionId.length >= MIN_CLEAR_SOURCE_CHARS && sourceVersionId.length <= MAX_CLEAR_SOURCE_CHARS
      && /^[A-Za-z0-9-]+$/.test(sourceVersionId)) {
      return sourceVersionId;
    }
    return `h${this.mac(['source-version', sourceVersionId]).slice(0, MAX_CLEAR_SOURCE_CHARS - 1)}`;
  }

  /** A new version id for a copy of `sourceVersionId` of `sourceArn` read at `readAt`. */
  mint(sourceArn: string, sourceVersionId: string, target: VersionTarget, readAt: Date): string {
    const part = this.sourcePart(sourceVersionId);
    const stamp = readAt.getTime().toString(36).padStart(STAMP_CHARS, '0').slice(-STAMP_CHARS);
    const salt = `${stamp}${this.nonce()}`;
    return `${part}.${salt}.${this.versionMac(sourceArn, part, target, salt)}`;
  }

  /** What `versionId` says, when this replicator wrote it for `sourceArn` into `target`; else `undefined`. */
  verify(versionId: string | undefined, sourceArn: string, target: VersionTarget): ReplicaVersion | undefined {
    const m = versionId === undefined ? null : VERSION_ID.exec(versionId);
    if (!m) return undefined;
    const [, part, stamp, nonce, mac] = m;
    if (this.versionMac(sourceArn, part, target, `${stamp}${nonce}`) !== mac) return undefined;
    return { sourcePart: part, readAt: new Date(parseInt(stamp, 36)) };
  }

  /**
   * Whether `versionId` has the form of a replica version id, whatever key made it: a copy made
   * under an earlier provenance key (the stack was deleted and deployed again) still has it, and
   * no version id Secrets Manager or a person generates (UUIDs) does.
   */
  hasReplicaForm(versionId: string | undefined): boolean {
    return versionId !== undefined && VERSION_ID.test(versionId);
  }

  /** Whether `versionId` is this replicator's copy of `sourceVersionId` of `sourceArn` in `target`. */
  isCopyOf(versionId: string | undefined, sourceArn: string, sourceVersionId: string, target: VersionTarget): boolean {
    return this.verify(versionId, sourceArn, target)?.sourcePart === this.sourcePart(sourceVersionId);
  }

  private versionMac(sourceArn: string, part: string, target: VersionTarget, salt: string): string {
    return this.mac(['replica-version/1', sourceArn, part, target.region, target.roleArn ?? '', salt]).slice(0, MAC_CHARS);
  }

  private mac(parts: string[]): string {
    return this.hasher.digestHex(...parts);
  }
}

function randomNonce(): string {
  return randomBytes(NONCE_CHARS / 2).toString('hex');
}
