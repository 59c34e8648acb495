import { GetParametersByPathCommand, Parameter, SSMClient } from '@aws-sdk/client-ssm';
import { ConfigurationError } from './env';
import { errorFields, logger } from './observability';
import { JitteredRetryStrategy } from './retry';
import type { SettingsDocumentReference } from '../../src/private/settings-contract';
import { SETTINGS_CHUNK_MAGIC, SETTINGS_DOCUMENT_ENV, SETTINGS_PARAMETER_ROOT } from '../../src/private/settings-contract';

/**
 * The handler side of `HandlerSettings`: a handler's configuration that outgrew Lambda's 4 KB
 * environment is read from its settings document (SSM parameters CloudFormation wrote in the same
 * deployment) on the first invocation and again at most every `SETTINGS_LIFETIME_MS`, and handed
 * to the handler as if it were environment variables.
 */

/** GetParametersByPath page size: the API maximum. */
const PAGE_SIZE = 10;

/** A settings document that is missing, incomplete, malformed or from another deployment. Value-free. */
export class SettingsDocumentError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SettingsDocumentError';
  }
}

/** The one SSM call the loader makes (an `SSMClient` satisfies it). */
export interface SettingsClient {
  send(command: GetParametersByPathCommand): Promise<{ Parameters?: Parameter[]; NextToken?: string }>;
}

/** True for the parameters this library writes as settings documents; the drift detector and the syncer skip them. */
export function isSettingsParameter(name: string): boolean {
  return name.startsWith(`${SETTINGS_PARAMETER_ROOT}/`);
}

/** The `SETTINGS_DOCUMENT` reference, or undefined when every setting is in the environment. */
export function readDocumentReference(env: NodeJS.ProcessEnv): SettingsDocumentReference | undefined {
  const raw = env[SETTINGS_DOCUMENT_ENV];
  if (raw === undefined || raw === '') return undefined;
  let ref: any;
  try {
    ref = JSON.parse(raw);
  } catch {
    throw new SettingsDocumentError(`environment variable ${SETTINGS_DOCUMENT_ENV} must be JSON {"path", "version", "chunks", "variables"}`);
  }
  if (typeof ref?.path !== 'string' || !isSettingsParameter(ref.path) || typeof ref.version !== 'string' || ref.version === ''
    || !Number.isInteger(ref.chunks) || ref.chunks < 1 || !Array.isArray(ref.variables) || ref.variables.some((v: unknown) => typeof v !== 'string')) {
    throw new SettingsDocumentError(`environment variable ${SETTINGS_DOCUMENT_ENV} must be JSON {"path" below ${SETTINGS_PARAMETER_ROOT}, "version", "chunks" (at least 1), "variables"}`);
  }
  return ref as SettingsDocumentReference;
}

/**
 * Reads the settings document `env` refers to and returns `env` with the document's variables
 * added (each as the JSON text the handler parses); returns `env` itself when there is no
 * document. Throws `SettingsDocumentError` naming the parameters that are missing, malformed or
 * carry another deployment's version.
 */
export async function loadSettings(env: NodeJS.ProcessEnv, client?: SettingsClient): Promise<NodeJS.ProcessEnv> {
  const ref = readDocumentReference(env);
  if (ref === undefined) return env;
  const ssm = client ?? new SSMClient({ region: env.AWS_REGION, retryStrategy: new JitteredRetryStrategy() });

  const found = new Map<string, string>();
  let nextToken: string | undefined;
  do {
    const page = await ssm.send(new GetParametersByPathCommand({ Path: ref.path, Recursive: false, MaxResults: PAGE_SIZE, NextToken: nextToken }));
    for (const p of page.Parameters ?? []) {
      if (p.Name !== undefined) found.set(p.Name, p.Value ?? '');
    }
    nextToken = page.NextToken;
  } while (nextToken);

  const names = Array.from({ length: ref.chunks }, (_, i) => `${ref.path}/${i}`);
  const missing = names.filter((n) => !found.has(n));
  if (missing.length > 0) {
    throw new SettingsDocumentError(`the settings document ${ref.path} lacks ${missing.length} of its ${ref.chunks} parameters (${missing.slice(0, 5).join(', ')}`
      + `${missing.length > 5 ? ', ...' : ''}): it was deleted, or this deployment has not written it; redeploy the stack if it does not appear`);
  }
  const data = names.map((name, i) => {
    const value = found.get(name)!;
    const newline = value.indexOf('\n');
    const header = (newline < 0 ? value : value.slice(0, newline)).split(' ');
    if (newline < 0 || header.length !== 3 || header[0] !== SETTINGS_CHUNK_MAGIC) {
      throw new SettingsDocumentError(`the settings document parameter ${name} does not start with "${SETTINGS_CHUNK_MAGIC} <version> <index>/<count>"; it was not written by this library`);
    }
    if (header[1] !== ref.version) {
      throw new SettingsDocumentError(`the settings document parameter ${name} carries version ${header[1].slice(0, 64)}, but this function was deployed with `
        + `version ${ref.version}: it belongs to another deployment (a stack update in progress, or a changed parameter); the invocation is retried`);
    }
    if (header[2] !== `${i}/${ref.chunks}`) {
      throw new SettingsDocumentError(`the settings document parameter ${name} says it is part ${header[2].slice(0, 32)}, but it must be part ${i}/${ref.chunks}`);
    }
    return value.slice(newline + 1);
  });

  let document: unknown;
  try {
    // The parser's own message may quote the text; it is not repeated.
    document = JSON.parse(data.join(''));
  } catch {
    throw new SettingsDocumentError(`the settings document ${ref.path} is not valid JSON`);
  }
  if (document === null || typeof document !== 'object' || Array.isArray(document)) {
    throw new SettingsDocumentError(`the settings document ${ref.path} must be a JSON object of variables`);
  }
  const variables = document as Record<string, unknown>;
  const absent = ref.variables.filter((v) => !(v in variables));
  if (absent.length > 0) {
    throw new SettingsDocumentError(`the settings document ${ref.path} lacks the variables ${absent.join(', ')}`);
  }
  const merged: NodeJS.ProcessEnv = { ...env };
  for (const name of ref.variables) merged[name] = JSON.stringify(variables[name]);
  return merged;
}

/**
 * How long (ms) settings read from a document are used before the next invocation reads the
 * document again: a deploy-time value CloudFormation rewrites in place (a replaced cluster's
 * endpoint or CA, a replaced secret's ARN) reaches warm execution environments within this time.
 */
export const SETTINGS_LIFETIME_MS = 5 * 60_000;

/** Options of `withSettings()`. */
export interface WithSettingsOptions<R> {
  /** @default - an SSMClient for AWS_REGION */
  readonly client?: SettingsClient;
  /**
   * Answers an event when the settings could not be loaded (e.g. a CodePipeline job reports its
   * failure); the error is logged first. @default - the error is thrown
   */
  readonly onLoadFailure?: (event: unknown, error: Error) => Promise<R>;
  /** How long settings read from the document are used before it is read again. @default SETTINGS_LIFETIME_MS */
  readonly lifetimeMs?: number;
  /** The clock, in ms (tests pass their own). @default Date.now */
  readonly now?: () => number;
}

interface LoadedSettings<R> {
  readonly handler: (event: unknown, context?: any) => Promise<R>;
  /** The document's variables as read, to rebuild the handler only when one changed. */
  readonly variables: string;
  readonly loadedAt: number;
}

/** The fields logged for a failure to load settings: our messages name no value, so they are kept whole. */
function loadFailureFields(e: unknown): Record<string, unknown> {
  const error = e as Error;
  // Our messages name parameters, variables and fields only (never values); any other error,
  // e.g. an SDK error or a parser's, which may quote what it read, is reduced to its name.
  return e instanceof SettingsDocumentError || e instanceof ConfigurationError
    ? { errorName: error.name, errorMessage: error.message }
    : { ...errorFields(error) };
}

/**
 * Builds a handler from its complete configuration. Without a settings document `build(env)` runs
 * now (a bad variable fails the cold start, as before). With one, the document is read on the
 * first invocation; a failure to read it or to build from it is logged (value-free, a
 * `ConfigurationError`'s message whole), fails that invocation (so Lambda or the caller retries)
 * and is tried again on the next. The first invocation after `lifetimeMs` reads the document again
 * and rebuilds the handler when a variable changed (a deploy-time value rewritten in place); while
 * that read or build fails, the settings read before are kept and a warning is logged.
 */
export function withSettings<R>(
  env: NodeJS.ProcessEnv,
  build: (env: NodeJS.ProcessEnv) => (event: unknown, context?: any) => Promise<R>,
  options: WithSettingsOptions<R> = {},
): (event: unknown, context?: any) => Promise<R> {
  const ref = readDocumentReference(env);
  if (ref === undefined) return build(env);
  const lifetimeMs = options.lifetimeMs ?? SETTINGS_LIFETIME_MS;
  const now = options.now ?? Date.now;
  let current: LoadedSettings<R> | undefined;
  let pending: Promise<LoadedSettings<R>> | undefined;
  const load = async (): Promise<LoadedSettings<R>> => {
    const loadedAt = now();
    const complete = await loadSettings(env, options.client);
    const variables = JSON.stringify(ref.variables.map((name) => complete[name]));
    if (current !== undefined && current.variables === variables) return { ...current, loadedAt };
    return { handler: build(complete), variables, loadedAt };
  };
  // The Lambda context (time left, request id) is passed through to the handler.
  return async (event: unknown, context?: any) => {
    if (current === undefined) {
      try {
        current = await (pending ??= load());
      } catch (e) {
        logger.error('handler settings could not be loaded', loadFailureFields(e));
        if (options.onLoadFailure) return await options.onLoadFailure(event, e as Error);
        throw e;
      } finally {
        pending = undefined;
      }
    } else if (now() - current.loadedAt >= lifetimeMs) {
      try {
        current = await (pending ??= load());
      } catch (e) {
        // The settings read before stay in use; the document is read again after another lifetime.
        current = { ...current, loadedAt: now() };
        logger.warn('handler settings could not be read again; the ones read before stay in use', loadFailureFields(e));
      } finally {
        pending = undefined;
      }
    }
    return current.handler(event, context);
  };
}
