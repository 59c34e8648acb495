import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { GetParametersByPathCommand, SSMClient } from '@aws-sdk/client-ssm';
import { SyncError } from './errors';
import type { ClientCache } from '../shared/clients';
import { logger } from '../shared/observability';
import { isSettingsParameter } from '../shared/settings';

/** GetParametersByPath page size: the API maximum. */
const PAGE_SIZE = 10;

/** Where the source keys come from: a parameter path and/or a secret, in the primary region. */
export interface SourceLocation {
  readonly primaryRegion: string;
  /** Every parameter below this path, recursively (e.g. `/app/prod/config`). */
  readonly parameterPath?: string;
  /** A secret whose top-level JSON keys with string, number or boolean values are keys. */
  readonly secretArn?: string;
}

/** The source keys and values, held in memory only. Never log `entries` as a whole. */
export interface SourceKeys {
  readonly entries: ReadonlyMap<string, string>;
}

/**
 * The key of a parameter below `path`: its name relative to the path with `/` replaced by `.`
 * (`/app/prod/config/db/pool` below `/app/prod/config` is `db.pool`); `undefined` when the
 * parameter is not below the path.
 */
export function parameterKey(path: string, name: string): string | undefined {
  const prefix = path.endsWith('/') ? path : `${path}/`;
  if (!name.startsWith(prefix) || name.length === prefix.length) return undefined;
  return name.slice(prefix.length).replace(/\//g, '.');
}

/** The keys of a secret's JSON object: scalar values stringified, other values skipped by name. */
export interface SecretKeys {
  readonly entries: Array<[string, string]>;
  /** Keys whose values are objects, arrays or null. */
  readonly skipped: string[];
}

/**
 * Reads a secret string as a JSON object: string values as they are, numbers and booleans as
 * their JSON text (`3`, `true`); other values are skipped. Throws a value-free error when the
 * secret is not a JSON object (the parser's own message would quote the secret).
 */
export function secretKeys(secretString: string): SecretKeys {
  let parsed: unknown;
  try {
    parsed = JSON.parse(secretString);
  } catch {
    throw new SyncError('SecretNotJsonObject', 'the source secret is not JSON: its keys cannot be synced');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new SyncError('SecretNotJsonObject', 'the source secret is not a JSON object: its keys cannot be synced');
  }
  const entries: Array<[string, string]> = [];
  const skipped: string[] = [];
  for (const [key, value] of Object.entries(parsed)) {
    if (typeof value === 'string') entries.push([key, value]);
    else if (typeof value === 'number' || typeof value === 'boolean') entries.push([key, String(value)]);
    else skipped.push(key);
  }
  return { entries, skipped };
}

/**
 * Reads the source: the parameters below the path (GetParametersByPath, recursive, decrypted, 10
 * a page) and the secret's keys. A key the secret and a parameter both give takes the secret's
 * value. Failures propagate: a partial source must never be applied, because server-side apply
 * would prune the keys that are missing from it.
 */
export async function readSource(clients: ClientCache, location: SourceLocation): Promise<SourceKeys> {
  const [parameters, secret] = await Promise.all([
    location.parameterPath !== undefined ? readParameters(clients, location.primaryRegion, location.parameterPath) : [],
    location.secretArn !== undefined ? readSecret(clients, location.primaryRegion, location.secretArn) : undefined,
  ]);
  const entries = new Map(parameters);
  if (secret) {
    if (secret.skipped.length > 0) {
      logger.warn('secret keys skipped: their values are not strings, numbers or booleans', { keys: secret.skipped });
    }
    const overridden = secret.entries.filter(([key]) => entries.has(key)).map(([key]) => key);
    if (overridden.length > 0) logger.info('keys of the secret take precedence over parameters of the same key', { keys: overridden });
    for (const [key, value] of secret.entries) entries.set(key, value);
  }
  return { entries };
}

async function readParameters(clients: ClientCache, region: string, path: string): Promise<Array<[string, string]>> {
  const ssm = clients.get(SSMClient, { region });
  const byKey = new Map<string, { name: string; value: string }>();
  const duplicates = new Set<string>();
  let nextToken: string | undefined;
  do {
    const page = await ssm.send(new GetParametersByPathCommand({
      Path: path, Recursive: true, WithDecryption: true, MaxResults: PAGE_SIZE, NextToken: nextToken,
    }));
    for (const p of page.Parameters ?? []) {
      // This library's settings documents are configuration of its functions, never of the application.
      const key = p.Name && !isSettingsParameter(p.Name) ? parameterKey(path, p.Name) : undefined;
      if (key === undefined) continue;
      // `/a/b.c` and `/a/b/c` both map to `b.c`: keep the first name in sort order, whatever the page order.
      const existing = byKey.get(key);
      if (existing) duplicates.add(key);
      if (!existing || p.Name! < existing.name) byKey.set(key, { name: p.Name!, value: p.Value ?? '' });
    }
    nextToken = page.NextToken;
  } while (nextToken);
  if (duplicates.size > 0) {
    logger.warn('several parameters map to the same key; the first name in sort order is used', { keys: [...duplicates] });
  }
  return [...byKey].map(([key, { value }]) => [key, value]);
}

async function readSecret(clients: ClientCache, region: string, secretArn: string): Promise<SecretKeys> {
  const out = await clients.get(SecretsManagerClient, { region }).send(new GetSecretValueCommand({ SecretId: secretArn }));
  if (out.SecretString === undefined) {
    throw new SyncError('SecretNotJsonObject', 'the source secret holds binary data, not a JSON object: its keys cannot be synced');
  }
  return secretKeys(out.SecretString);
}
