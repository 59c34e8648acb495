import { createHmac } from 'node:crypto';

/**
 * Keyed content hashing. Values are compared and recorded only as HMAC-SHA256 under a
 * per-deployment key, never as a plain hash: a plain hash of a low-entropy secret can be
 * reversed by guessing, a keyed one cannot without the key.
 */
export class KeyedHasher {
  constructor(private readonly key: string | Uint8Array) {
    if (key.length < 32) {
      throw new Error('the provenance HMAC key must be at least 32 characters long');
    }
  }

  /** Hex HMAC of a secret value; string and binary values never collide (domain-separated). */
  contentHmac(value: SecretValue): string {
    const mac = createHmac('sha256', this.key);
    if (value.kind === 'string') {
      mac.update('s:').update(value.secretString, 'utf8');
    } else {
      mac.update('b:').update(value.secretBinary);
    }
    return mac.digest('hex');
  }

  /** Hex HMAC of value-free parts (names, ids), joined unambiguously. */
  digestHex(...parts: string[]): string {
    return createHmac('sha256', this.key).update(parts.join('\u0000')).digest('hex');
  }

  /**
   * A deterministic, value-free version id (UUID format) for the copy of one source version
   * into one target. Used as ClientRequestToken, so a duplicate event or a retry after a crash
   * re-creates the same version instead of a new one (Secrets Manager is idempotent per token).
   */
  versionToken(...parts: string[]): string {
    const hex = createHmac('sha256', this.key).update(parts.join('\u0000')).digest('hex');
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
  }
}

/** A secret's value, held in memory only. */
export type SecretValue =
  | { readonly kind: 'string'; readonly secretString: string }
  | { readonly kind: 'binary'; readonly secretBinary: Uint8Array };
