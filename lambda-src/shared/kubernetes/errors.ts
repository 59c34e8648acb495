import type { ApiException } from '@kubernetes/client-node';
import { clientNode } from './load';

/** Details of a failed Kubernetes API call, as {@link KubernetesApiError} is built from them. */
export interface KubernetesApiErrorDetails {
  /** HTTP status; 0 for a network or TLS failure. */
  readonly statusCode: number;
  /** Kubernetes `Status.reason`, or the Node.js error code of a network or TLS failure. */
  readonly reason: string;
  /** On a server-side apply conflict: the other field managers, when the Status names them. */
  readonly conflictingManagers?: string[];
  /** Field paths from `Status.details.causes` (e.g. `.data.region`); names, never values. */
  readonly fields?: string[];
  /** The causes as `<field path> <cause reason>` (e.g. `[] FieldValueTooLong`), for the message. */
  readonly causeSummaries?: string[];
}

/**
 * A Kubernetes API call that failed: an HTTP error status or a network/TLS failure.
 *
 * The message is value-free by construction: operation, object path, status and reason, plus the
 * field paths and field managers the Status names, e.g. `PATCH configmaps/team-a/app: 409 Conflict`.
 * The apiserver's own `Status.message` is never copied, because a 422 Invalid can quote the
 * rejected value.
 *
 * @example
 * try { await client.applyConfigMap(request); } catch (e) {
 *   if (e instanceof KubernetesApiError && e.reason === 'Conflict') logger.warn('owned elsewhere', { managers: e.conflictingManagers });
 * }
 */
export class KubernetesApiError extends Error {
  /** HTTP status; 0 for a network or TLS failure. */
  readonly statusCode: number;
  /**
   * Kubernetes `Status.reason` (`Forbidden`, `NotFound`, `Conflict`, `Unauthorized`,
   * `RequestEntityTooLarge`, `Invalid`, ...) or a Node.js network/TLS error code (`ECONNREFUSED`,
   * `ETIMEDOUT`, `SELF_SIGNED_CERT_IN_CHAIN`, `UNABLE_TO_VERIFY_LEAF_SIGNATURE`, ...).
   */
  readonly reason: string;
  /** On a server-side apply conflict: the other field managers, when the Status names them. */
  readonly conflictingManagers?: string[];
  /** Field paths from `Status.details.causes`; names only. */
  readonly fields?: string[];

  constructor(operation: string, details: KubernetesApiErrorDetails) {
    const status = details.statusCode ? `${details.statusCode} ${details.reason}` : details.reason;
    const extras = [
      details.conflictingManagers?.length ? `conflicting managers: ${details.conflictingManagers.join(', ')}` : undefined,
      (details.causeSummaries ?? details.fields)?.length ? `fields: ${(details.causeSummaries ?? details.fields)!.join(', ')}` : undefined,
    ].filter((x) => x !== undefined);
    super(`${operation}: ${status}${extras.length ? ` (${extras.join('; ')})` : ''}`);
    this.name = 'KubernetesApiError';
    this.statusCode = details.statusCode;
    this.reason = details.reason;
    if (details.conflictingManagers) this.conflictingManagers = details.conflictingManagers;
    if (details.fields) this.fields = details.fields;
  }
}

/** Kubernetes reasons for HTTP statuses, used when a response carries no Status object. */
const REASON_BY_STATUS: Record<number, string> = {
  400: 'BadRequest',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'NotFound',
  405: 'MethodNotAllowed',
  406: 'NotAcceptable',
  409: 'Conflict',
  410: 'Expired',
  413: 'RequestEntityTooLarge',
  415: 'UnsupportedMediaType',
  422: 'Invalid',
  429: 'TooManyRequests',
  500: 'InternalError',
  502: 'BadGateway',
  503: 'ServiceUnavailable',
  504: 'Timeout',
};

/** Longest reason or field path kept; longer ones are cut (a field path can carry a key name). */
const MAX_NAME_CHARS = 256;
/** At most this many field paths in a message. */
const MAX_FIELDS = 10;

/**
 * The value-free {@link KubernetesApiError} of a failed call through `@kubernetes/client-node`:
 * an `ApiException` (an HTTP error status) by its status and Status object, anything else (a
 * network, TLS or deadline failure, an unreadable answer) by its code. The original error is not
 * kept, not even as `cause`: an `ApiException`'s message and body quote the response, which can
 * hold a ConfigMap value.
 */
export function toKubernetesApiError(operation: string, error: unknown): KubernetesApiError {
  if (error instanceof KubernetesApiError) return error;
  if (isApiException(error)) return new KubernetesApiError(operation, errorDetailsFromResponse(error.code, error.body));
  return new KubernetesApiError(operation, networkErrorDetails(error));
}

/** True for the client's error of an HTTP error status. */
function isApiException(error: unknown): error is ApiException<unknown> {
  return error instanceof clientNode().ApiException;
}

/** True when `error` is the client's answer 404 Not Found. */
export function isNotFound(error: unknown): boolean {
  return isApiException(error) && error.code === 404;
}

/** The `Retry-After` of an error response (seconds or an HTTP date), in ms from now. */
export function retryAfterMs(error: unknown): number | undefined {
  if (!isApiException(error)) return undefined;
  const headers: Record<string, string> = error.headers ?? {};
  const value = Object.entries(headers).find(([name]) => name.toLowerCase() === 'retry-after')?.[1]?.trim();
  if (!value) return undefined;
  if (/^\d+$/.test(value)) return Number(value) * 1_000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

/**
 * Reads the value-free parts of an error response: `reason`, the conflicting field managers of an
 * apply conflict (parsed from the causes' `conflict with "<manager>"` text) and the causes' field
 * paths. Everything else in the body, including `message`, is dropped.
 *
 * @param body the response body as the client hands it over: text, or already parsed
 */
export function errorDetailsFromResponse(statusCode: number, body: unknown): KubernetesApiErrorDetails {
  let status: any = body;
  if (typeof body === 'string') {
    try {
      status = JSON.parse(body);
    } catch {
      status = undefined;
    }
  }
  const reasonFromBody = status?.kind === 'Status' && typeof status.reason === 'string' && /^[A-Za-z]+$/.test(status.reason)
    ? status.reason as string
    : undefined;
  const reason = reasonFromBody ?? REASON_BY_STATUS[statusCode] ?? 'Unknown';
  const causes: any[] = Array.isArray(status?.details?.causes) ? status.details.causes : [];

  const managers = new Set<string>();
  const fields = new Set<string>();
  const summaries = new Set<string>();
  for (const cause of causes) {
    // StatusCause's type is serialised as `reason`, e.g. FieldManagerConflict, FieldValueTooLong.
    const causeReason = typeof cause?.reason === 'string' && /^[A-Za-z]+$/.test(cause.reason) ? cause.reason as string : undefined;
    if (causeReason === 'FieldManagerConflict' && typeof cause.message === 'string') {
      // e.g. `conflict with "other-manager"` (or `... with "m" using v1`, `... with subresource`).
      const match = /conflict with "([^"]+)"/.exec(cause.message);
      if (match) managers.add(match[1].slice(0, MAX_NAME_CHARS));
    }
    if (typeof cause?.field === 'string' && cause.field !== '' && fields.size < MAX_FIELDS) {
      const field = cause.field.slice(0, MAX_NAME_CHARS);
      fields.add(field);
      summaries.add(causeReason && causeReason !== 'FieldManagerConflict' ? `${field} ${causeReason}` : field);
    }
  }
  return {
    statusCode,
    reason,
    ...(managers.size > 0 ? { conflictingManagers: [...managers] } : {}),
    ...(fields.size > 0 ? { fields: [...fields], causeSummaries: [...summaries] } : {}),
  };
}

/** Node.js error codes that are worth another attempt: the connection died under the request. */
const RETRYABLE_NETWORK_CODES = new Set(['ECONNRESET', 'EPIPE']);

/** True for failures retried with backoff: 429, 5xx and a reset connection. */
export function isRetryable(error: KubernetesApiError): boolean {
  if (error.statusCode === 0) return RETRYABLE_NETWORK_CODES.has(error.reason);
  return error.statusCode === 429 || error.statusCode >= 500;
}

/**
 * The client's HTTP library (undici) names some failures with its own codes; these are given the
 * Node.js code of the same failure, so reports and metrics read the same whatever the library.
 */
const NODE_CODE_OF: Record<string, string> = {
  // The other side closed the connection under the request.
  UND_ERR_SOCKET: 'ECONNRESET',
  UND_ERR_CONNECT_TIMEOUT: 'ETIMEDOUT',
  UND_ERR_HEADERS_TIMEOUT: 'ETIMEDOUT',
  UND_ERR_BODY_TIMEOUT: 'ETIMEDOUT',
};

/**
 * A failure without an HTTP status, reduced to a code (messages may name hosts or paths, or, for
 * an unparseable answer, quote it):
 * - the attempt's deadline (an aborted fetch): `ETIMEDOUT`;
 * - a network or TLS failure (fetch's `TypeError` with the socket error as `cause`): its Node.js
 *   code, e.g. `ECONNREFUSED`, `ECONNRESET`, `SELF_SIGNED_CERT_IN_CHAIN`;
 * - an endpoint on one of the ports fetch refuses to connect to (1, 9, 25, 6000, ...): `BadPort`;
 * - a success answer that is not the JSON object asked for: `InvalidResponse`;
 * - anything else: the error's code or name.
 */
export function networkErrorDetails(error: unknown): KubernetesApiErrorDetails {
  const e = error as { name?: unknown; code?: unknown; message?: unknown; cause?: unknown } | undefined;
  if (e?.name === 'TimeoutError' || e?.name === 'AbortError') return { statusCode: 0, reason: 'ETIMEDOUT' };
  const code = codeOf(e) ?? codeOf(e?.cause) ?? codeOf((e?.cause as { errors?: unknown[] })?.errors?.[0]);
  if (code) return { statusCode: 0, reason: NODE_CODE_OF[code] ?? code };
  // The Fetch standard's "bad ports" (1, 9, 25, 6000, ...) are refused without connecting.
  if ((e?.cause as { message?: unknown })?.message === 'bad port') return { statusCode: 0, reason: 'BadPort' };
  if (e?.name === 'SyntaxError' || (typeof e?.message === 'string' && /^(The mediaType|Cannot parse content)/.test(e.message))) {
    return { statusCode: 0, reason: 'InvalidResponse' };
  }
  return { statusCode: 0, reason: typeof e?.name === 'string' && /^[A-Za-z]+$/.test(e.name) ? e.name : 'NetworkError' };
}

function codeOf(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' && /^[A-Z0-9_]+$/.test(code) ? code : undefined;
}
