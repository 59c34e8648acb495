import { createHash } from 'node:crypto';
import { SyncError } from './errors';
import { SensitiveReason, sensitiveKeyReason } from './sensitive';
import { globToRegExp } from '../shared/glob';

/** Longest ConfigMap key (a DNS subdomain's length, as the apiserver validates it). */
const MAX_KEY_CHARS = 253;
/** The apiserver's limit on a ConfigMap's data: the bytes of every key and value, 1 MiB. */
export const CONFIGMAP_DATA_LIMIT_BYTES = 1_048_576;
/**
 * Room kept under {@link CONFIGMAP_DATA_LIMIT_BYTES} (4 KiB): the object also carries metadata,
 * annotations and managed fields, and keys other field managers own count against the same limit.
 */
export const DATA_MARGIN_BYTES = 4_096;
/** Most bytes of keys and values the syncer applies to one ConfigMap. */
export const MAX_DATA_BYTES = CONFIGMAP_DATA_LIMIT_BYTES - DATA_MARGIN_BYTES;

/** What decides which source keys are synced. */
export interface SelectionOptions {
  /** Key names and globs (`*`, `?`); empty selects every key. */
  readonly includeKeys: readonly string[];
  /** Refuse keys whose names or values look sensitive. */
  readonly excludeSensitiveKeys: boolean;
}

/** A key refused as sensitive: its name and why, never its value. */
export interface ExcludedKey {
  readonly key: string;
  readonly reason: SensitiveReason;
}

/** The data to apply, and what was left out. */
export interface Selection {
  /** The ConfigMap data, keys in sort order. Holds values: never log it. */
  readonly data: Record<string, string>;
  /** Keys refused as sensitive, in sort order. */
  readonly excluded: ExcludedKey[];
  /** Source keys that are not valid ConfigMap keys, in sort order. */
  readonly invalidKeys: string[];
  /** Source keys includeKeys does not select. */
  readonly notIncluded: number;
}

/**
 * True for a valid ConfigMap key: 1 to 253 of `-`, `.`, `_`, letters and digits, and neither `.`,
 * `..` nor starting with `..` (the apiserver's IsConfigMapKey).
 */
export function isConfigMapKey(key: string): boolean {
  return key.length <= MAX_KEY_CHARS && /^[-._a-zA-Z0-9]+$/.test(key) && key !== '.' && !key.startsWith('..');
}

/** A matcher for includeKeys: exact names and globs; no patterns selects every key. */
export function keyMatcher(includeKeys: readonly string[]): (key: string) => boolean {
  if (includeKeys.length === 0) return () => true;
  const patterns = includeKeys.map(globToRegExp);
  return (key) => patterns.some((p) => p.test(key));
}

/**
 * Chooses the data to apply from the source keys: valid ConfigMap keys only, then those includeKeys
 * selects, then (with excludeSensitiveKeys) none whose name or value looks sensitive.
 *
 * @example
 * const { data, excluded } = selectData(new Map([['log_level', 'info'], ['db_password', 'x']]), { includeKeys: [], excludeSensitiveKeys: true });
 * // data: { log_level: 'info' }, excluded: [{ key: 'db_password', reason: 'name' }]
 */
export function selectData(source: ReadonlyMap<string, string>, options: SelectionOptions): Selection {
  const included = keyMatcher(options.includeKeys);
  const entries: Array<[string, string]> = [];
  const excluded: ExcludedKey[] = [];
  const invalidKeys: string[] = [];
  let notIncluded = 0;
  for (const key of [...source.keys()].sort()) {
    const value = source.get(key)!;
    if (!isConfigMapKey(key)) {
      invalidKeys.push(key);
      continue;
    }
    if (!included(key)) {
      notIncluded++;
      continue;
    }
    const reason = options.excludeSensitiveKeys ? sensitiveKeyReason(key, value) : undefined;
    if (reason) excluded.push({ key, reason });
    else entries.push([key, value]);
  }
  // fromEntries defines own properties, so even a key named `__proto__` is data.
  return { data: Object.fromEntries(entries), excluded, invalidKeys, notIncluded };
}

/** Bytes the apiserver counts against the 1 MiB limit: every key and value, UTF-8. */
export function dataBytes(data: Readonly<Record<string, string>>): number {
  let bytes = 0;
  for (const [key, value] of Object.entries(data)) bytes += Buffer.byteLength(key, 'utf8') + Buffer.byteLength(value, 'utf8');
  return bytes;
}

/**
 * Fails with a value-free `ConfigMapTooLarge` error when the data cannot fit in a ConfigMap, so
 * nothing is sent to any cluster.
 */
export function checkDataSize(data: Readonly<Record<string, string>>): void {
  const bytes = dataBytes(data);
  if (bytes > MAX_DATA_BYTES) {
    throw new SyncError('ConfigMapTooLarge', `the selected keys hold ${bytes} bytes (${Object.keys(data).length} keys), over the `
      + `${MAX_DATA_BYTES} bytes a ConfigMap can take (1 MiB less ${DATA_MARGIN_BYTES} bytes for metadata); `
      + 'select fewer keys with includeKeys or split the source');
  }
}

/**
 * SHA-256 (hex) of the canonical JSON of the data: keys in sort order, as `{"k":"v",...}`. Built
 * by hand because an object's own order puts integer-like keys first. Written to the content-hash
 * annotation so controllers such as Reloader roll workloads when the data changes; never logged.
 */
export function contentHash(data: Readonly<Record<string, string>>): string {
  const canonical = `{${Object.keys(data).sort().map((k) => `${JSON.stringify(k)}:${JSON.stringify(data[k])}`).join(',')}}`;
  return createHash('sha256').update(canonical, 'utf8').digest('hex');
}
