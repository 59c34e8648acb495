import type { SecretValue } from '../hmac';

/** A secret's value from GetSecretValue/BatchGetSecretValue fields; `undefined` when neither is set. */
export function toValue(secretString: string | undefined, secretBinary: Uint8Array | undefined): SecretValue | undefined {
  if (secretString !== undefined) return { kind: 'string', secretString };
  if (secretBinary !== undefined) return { kind: 'binary', secretBinary };
  return undefined;
}

/** The CreateSecret/PutSecretValue fields that carry `value`. */
export function valueFields(value: SecretValue): { SecretString?: string; SecretBinary?: Uint8Array } {
  return value.kind === 'string' ? { SecretString: value.secretString } : { SecretBinary: value.secretBinary };
}

/** Secrets Manager's tag list as a key-to-value map (a tag without a value maps to `''`). */
export function tagMap(tags: Array<{ Key?: string; Value?: string }> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const t of tags ?? []) if (t.Key !== undefined) out[t.Key] = t.Value ?? '';
  return out;
}

/** The version id that carries the AWSCURRENT staging label, if any. */
export function currentVersion(stages: Record<string, string[]> | undefined): string | undefined {
  return Object.entries(stages ?? {}).find(([, s]) => s.includes('AWSCURRENT'))?.[0];
}
