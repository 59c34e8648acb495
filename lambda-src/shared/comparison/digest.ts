import { createHmac, randomBytes } from 'node:crypto';
import type { SecretValue } from '../hmac';

/** Length of the per-run key, in bytes. */
const RUN_KEY_BYTES = 32;
/**
 * Bytes of the HMAC kept per value: 128 bits make an accidental collision between two different
 * values negligible (about 2^-64 even across billions of comparisons) at half the memory.
 */
const DIGEST_BYTES = 16;

/**
 * Keyed digests for one scan. The key is random and lives only for the run, so the digests cannot
 * be compared across runs or reversed by guessing: they are only good for "same or different now".
 */
export class RunDigest {
  private readonly key = randomBytes(RUN_KEY_BYTES);

  /** Digest of a secret value; string and binary values never collide (domain-separated). */
  ofSecret(value: SecretValue): string {
    const mac = createHmac('sha256', this.key);
    if (value.kind === 'string') mac.update('s:').update(value.secretString, 'utf8');
    else mac.update('b:').update(value.secretBinary);
    return mac.digest().subarray(0, DIGEST_BYTES).toString('base64url');
  }

  /** Digest of a string value. */
  ofString(value: string): string {
    return createHmac('sha256', this.key).update('s:').update(value, 'utf8').digest().subarray(0, DIGEST_BYTES).toString('base64url');
  }
}
