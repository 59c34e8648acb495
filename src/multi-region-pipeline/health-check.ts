import { Annotations, Duration, Stack, Token } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { IConstruct } from 'constructs';
import { HttpCheckConfig, REGION_PLACEHOLDER, SecretHeaderConfig, SLOT_PLACEHOLDER } from './contract';
import { describe, fail, validateDistinct, validateIntegerRange, validateLength, validatePattern, validateWholeDuration, validationError, WARNING } from '../private/validation';

/** Defaults of an HTTP check: healthy is 3 x 200 in a row within 10 attempts, 10 s apart, 5 s each. */
const DEFAULT_EXPECTED_STATUSES = [200];
const DEFAULT_CONSECUTIVE_SUCCESSES = 3;
const DEFAULT_MAX_ATTEMPTS = 10;
const DEFAULT_INTERVAL = Duration.seconds(10);
const DEFAULT_TIMEOUT = Duration.seconds(5);
/** Longest a single request may take, in seconds (a Lambda invocation is at most 15 minutes). */
const MAX_TIMEOUT_SECONDS = 60;
/** Longest pause between two requests, in seconds. */
const MAX_INTERVAL_SECONDS = 300;
/** Most requests one check may make. */
const MAX_ATTEMPTS = 100;
const URL_PATTERN = /^https?:\/\/[^\s/?#]+([/?#][^\s]*)?$/;
const PLACEHOLDER = /\{[^}]*\}/g;
/** An HTTP header name: an RFC 9110 token. */
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,256}$/;
/** Headers the HTTP client sets itself, or that would change how the request is framed. */
const RESERVED_HEADERS = new Set(['host', 'content-length', 'transfer-encoding', 'connection', 'upgrade', 'te', 'trailer', 'keep-alive', 'expect', 'user-agent']);
/** Longest header prefix, in characters. */
const MAX_PREFIX = 256;
/** Words of a query parameter name that mark it as a credential (`access_token`, `X-Amz-Signature`, `api-key`). */
const CREDENTIAL_WORDS = new Set([
  'token', 'key', 'apikey', 'password', 'passwd', 'pwd', 'pass', 'secret', 'signature', 'sig', 'credential', 'credentials',
  'auth', 'authorization', 'jwt', 'bearer', 'session', 'sessionid', 'otp',
]);

/** Options of a header whose value is read from a Secrets Manager secret. */
export interface HealthCheckHeaderFromSecretOptions {
  /**
   * The field of the secret's JSON value (SecretString) that holds the header value.
   *
   * @default - the whole SecretString
   */
  readonly jsonField?: string;

  /**
   * Text sent before the secret's value, such as `Bearer ` (printable ASCII, up to 256 characters).
   *
   * @default - none
   */
  readonly prefix?: string;
}

/**
 * A request header of a health check whose value the health-check function reads from a
 * Secrets Manager secret at run time, once per cold start: the value is never in the template,
 * the function's environment or its logs. The function may read that secret only.
 *
 * @example
 * declare const token: secretsmanager.ISecret;
 * HealthCheck.http('https://api.{region}.example.com/health', {
 *   headers: [HealthCheckHeader.fromSecret('Authorization', token, { jsonField: 'token', prefix: 'Bearer ' })],
 * });
 */
export class HealthCheckHeader {
  /**
   * A header `name` whose value is the secret's value (or one JSON field of it), after `prefix`.
   * The health-check function is granted `secretsmanager:GetSecretValue` on the secret, and
   * `kms:Decrypt` through Secrets Manager when the secret has a customer managed key.
   */
  public static fromSecret(name: string, secret: secretsmanager.ISecret, options: HealthCheckHeaderFromSecretOptions = {}): HealthCheckHeader {
    return new HealthCheckHeader(name, secret, options);
  }

  /** The header name. */
  public readonly name: string;
  /** The secret the value is read from. */
  public readonly secret: secretsmanager.ISecret;
  private readonly options: HealthCheckHeaderFromSecretOptions;

  private constructor(name: string, secret: secretsmanager.ISecret, options: HealthCheckHeaderFromSecretOptions) {
    validatePattern('healthChecks headers name', name, HEADER_NAME, 'must be an HTTP header name (letters, digits and !#$%&\'*+.^_`|~-)');
    if (RESERVED_HEADERS.has(name.toLowerCase())) {
      fail('healthChecks headers name', `must not be one the health check sets itself (${[...RESERVED_HEADERS].join(', ')})`, name);
    }
    if (options.jsonField !== undefined) validateLength('healthChecks headers jsonField', options.jsonField, 1, 256);
    if (options.prefix !== undefined) {
      validatePattern('healthChecks headers prefix', options.prefix, new RegExp(`^[\\x20-\\x7e]{1,${MAX_PREFIX}}$`),
        `must be 1 to ${MAX_PREFIX} printable ASCII characters (no line breaks)`);
    }
    this.name = name;
    this.secret = secret;
    this.options = options;
  }

  /** @internal */
  public _render(): SecretHeaderConfig {
    return {
      name: this.name,
      secretArn: this.secret.secretArn,
      ...(this.options.jsonField !== undefined ? { jsonField: this.options.jsonField } : {}),
      ...(this.options.prefix !== undefined ? { prefix: this.options.prefix } : {}),
    };
  }

  /**
   * Lets `grantee` read the secret: GetSecretValue on it alone, and Decrypt with its key only
   * through Secrets Manager.
   *
   * @internal
   */
  public _grantRead(grantee: iam.IGrantable, scope: IConstruct): void {
    const arn = this.secret.secretFullArn ?? `${this.secret.secretArn}-??????`;
    grantee.grantPrincipal.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['secretsmanager:GetSecretValue'], resources: [arn] }));
    const key = this.secret.encryptionKey;
    if (key) {
      const region = Token.isUnresolved(this.secret.env.region) ? Stack.of(scope).region : this.secret.env.region;
      grantee.grantPrincipal.addToPrincipalPolicy(new iam.PolicyStatement({
        actions: ['kms:Decrypt'],
        resources: [key.keyArn],
        conditions: { StringEquals: { 'kms:ViaService': `secretsmanager.${region}.${Stack.of(scope).urlSuffix}` } },
      }));
    }
  }
}

/** Options of an HTTP health check. */
export interface HttpHealthCheckOptions {
  /**
   * Name of the check in logs, action summaries and the gitops-config document; unique among the
   * pipeline's checks.
   *
   * @default - the URL's host and path
   */
  readonly name?: string;

  /**
   * HTTP statuses that count as healthy. Redirects are not followed: a 3xx is a status like any other.
   *
   * @default [200]
   */
  readonly expectedStatuses?: number[];

  /**
   * Healthy responses in a row needed to pass; a failure resets the count, so a flapping endpoint fails.
   *
   * @default 3
   */
  readonly consecutiveSuccesses?: number;

  /**
   * Requests in total before the check fails.
   *
   * @default 10
   */
  readonly maxAttempts?: number;

  /**
   * Pause between two requests (whole seconds, 0 to 300).
   *
   * @default Duration.seconds(10)
   */
  readonly interval?: Duration;

  /**
   * Time one request may take, connection to last byte (whole seconds, 1 to 60).
   *
   * @default Duration.seconds(5)
   */
  readonly timeout?: Duration;

  /**
   * A healthy status that took longer than this counts as a failure (whole milliseconds).
   *
   * @default - no latency limit
   */
  readonly latencyThreshold?: Duration;

  /**
   * Request headers whose values are read from Secrets Manager at run time, for endpoints that
   * need a token. Names are distinct (ignoring case).
   *
   * @default - no extra headers
   */
  readonly headers?: HealthCheckHeader[];
}

/**
 * A health check the pipeline runs after deploying a region (and, under blue-green, a slot),
 * before it moves on. URLs may contain `{region}` and, under blue-green, `{slot}` (`blue` or
 * `green`), replaced for each region and slot.
 *
 * @example
 * const check = HealthCheck.http('https://{slot}.api.{region}.example.com/health', {
 *   consecutiveSuccesses: 3,
 *   timeout: Duration.seconds(5),
 *   latencyThreshold: Duration.millis(800),
 * });
 */
export class HealthCheck {
  /**
   * Requests `url` with GET (TLS verified, no redirects followed) until `consecutiveSuccesses`
   * healthy responses in a row, or fails after `maxAttempts` requests.
   */
  public static http(url: string, options: HttpHealthCheckOptions = {}): HealthCheck {
    return new HealthCheck(url, options);
  }

  /** The URL template, with `{region}` and `{slot}` placeholders if any. */
  public readonly url: string;
  /** Name of the check. */
  public readonly name: string;
  /** Request headers whose values come from Secrets Manager. */
  public readonly headers: HealthCheckHeader[];
  /** Longest time the check can take when it fails, in seconds (every attempt times out). */
  public readonly worstCaseSeconds: number;
  private readonly config: HttpCheckConfig;

  private constructor(url: string, options: HttpHealthCheckOptions) {
    if (Token.isUnresolved(url)) fail('healthChecks url', 'must be a literal URL, not a token resolved at deploy time', url);
    // Messages show the URL without its user info and credential-like query values.
    if (!URL_PATTERN.test(url)) fail('healthChecks url', 'must be an http:// or https:// URL', redactUrl(url));
    for (const placeholder of url.match(PLACEHOLDER) ?? []) {
      if (placeholder !== REGION_PLACEHOLDER && placeholder !== SLOT_PLACEHOLDER) {
        fail('healthChecks url', `may only contain the placeholders ${REGION_PLACEHOLDER} and ${SLOT_PLACEHOLDER}`, redactUrl(url));
      }
    }
    const expectedStatuses = options.expectedStatuses ?? DEFAULT_EXPECTED_STATUSES;
    if (expectedStatuses.length === 0) fail('healthChecks expectedStatuses', 'must not be empty', expectedStatuses);
    expectedStatuses.forEach((s) => validateIntegerRange('healthChecks expectedStatuses', s, 100, 599));
    validateDistinct('healthChecks expectedStatuses', expectedStatuses.map(String));
    const consecutiveSuccesses = options.consecutiveSuccesses ?? DEFAULT_CONSECUTIVE_SUCCESSES;
    const maxAttempts = options.maxAttempts ?? Math.max(DEFAULT_MAX_ATTEMPTS, consecutiveSuccesses);
    validateIntegerRange('healthChecks consecutiveSuccesses', consecutiveSuccesses, 1, MAX_ATTEMPTS);
    validateIntegerRange('healthChecks maxAttempts', maxAttempts, consecutiveSuccesses, MAX_ATTEMPTS);
    const intervalSeconds = validateWholeDuration('healthChecks interval', options.interval ?? DEFAULT_INTERVAL, 'seconds', 0, MAX_INTERVAL_SECONDS)!;
    const timeoutSeconds = validateWholeDuration('healthChecks timeout', options.timeout ?? DEFAULT_TIMEOUT, 'seconds', 1, MAX_TIMEOUT_SECONDS)!;
    const latencyThresholdMs = options.latencyThreshold?.toMilliseconds({ integral: false });
    const latencyOutOfRange = latencyThresholdMs !== undefined
      && (!Number.isInteger(latencyThresholdMs) || latencyThresholdMs < 1 || latencyThresholdMs > timeoutSeconds * 1000);
    if (latencyOutOfRange) {
      fail('healthChecks latencyThreshold', `must be a whole number of milliseconds from 1 to the timeout (${timeoutSeconds * 1000})`, options.latencyThreshold);
    }
    const headers = options.headers ?? [];
    validateDistinct('healthChecks headers names', headers.map((h) => h.name.toLowerCase()));
    this.headers = headers;
    this.url = url;
    this.name = options.name ?? url.replace(/^https?:\/\//, '').replace(/^[^/?#]*@/, '').replace(/[?#].*$/, '');
    validateLength('healthChecks name', this.name, 1, 128);
    this.worstCaseSeconds = maxAttempts * timeoutSeconds + (maxAttempts - 1) * intervalSeconds;
    this.config = {
      name: this.name,
      url,
      expectedStatuses,
      consecutiveSuccesses,
      maxAttempts,
      intervalSeconds,
      timeoutSeconds,
      ...(latencyThresholdMs !== undefined ? { latencyThresholdMs } : {}),
    };
  }

  /** @internal */
  public _renderHeaders(): SecretHeaderConfig[] {
    return this.headers.map((h) => h._render());
  }

  /**
   * Checks the URL for what a template must not hold, naming `scope`'s path: plain `http://` and
   * user info are refused; query parameters named like credentials get a warning. Messages show the
   * URL with the user info and those parameters' values redacted.
   *
   * @internal
   */
  public _validate(scope: IConstruct, index: number): void {
    // validationError names the construct under construction (the pipeline, `scope`) and ends its validation.
    const where = `healthChecks[${index}] url`;
    const parts = splitUrl(this.url);
    if (parts.userinfo !== undefined) {
      throw validationError(`${where} must not contain user info (user:password@): it would be stored in plain text in the health-check function's `
        + 'environment and the template. Keep the credential in a Secrets Manager secret and send it with HealthCheckHeader.fromSecret(), '
        + `but got ${describe(this._redactedUrl)}`);
    }
    if (parts.scheme.toLowerCase() !== 'https') {
      throw validationError(`${where} must be an https:// URL: a check over plain http:// can be answered or altered by anyone on the path, and it `
        + `decides whether a region (or, under blue-green, its traffic) moves on, but got ${describe(this._redactedUrl)}`);
    }
    const credentialNames = parts.query.map((q) => q.name).filter(looksLikeCredential);
    if (credentialNames.length > 0) {
      Annotations.of(scope).addWarningV2(`${WARNING}healthCheckUrlCredential`,
        `healthChecks[${index}] url has query parameters named like credentials (${[...new Set(credentialNames)].join(', ')}): their values are `
        + 'stored in plain text in the health-check function\'s environment and the template. Send the credential in a header with '
        + 'HealthCheckHeader.fromSecret() instead.');
    }
  }

  /**
   * The URL as messages and the settings document may show it: user info and the values of query
   * parameters named like credentials replaced by `***`.
   *
   * @internal
   */
  public get _redactedUrl(): string {
    return redactUrl(this.url);
  }

  /** True when the URL names the slot, so that each slot of a region is checked on its own. */
  public get namesSlot(): boolean {
    return this.url.includes(SLOT_PLACEHOLDER);
  }

  /** @internal */
  public _render(): HttpCheckConfig {
    return this.headers.length > 0 ? { ...this.config, headers: this._renderHeaders() } : this.config;
  }
}

interface UrlParts {
  readonly scheme: string;
  readonly userinfo?: string;
  /** Host and port, placeholders kept. */
  readonly host: string;
  readonly path: string;
  readonly hasQuery: boolean;
  /** Query parameters in order: the raw name, its decoded form and the raw value (absent without `=`). */
  readonly query: Array<{ raw: string; name: string; value?: string }>;
  /** `#...`, when present. */
  readonly fragment?: string;
}

/** Splits an http(s) URL template by hand: `{region}` and `{slot}` are not valid in a WHATWG URL host. */
function splitUrl(url: string): UrlParts {
  const [, scheme, rest] = /^([A-Za-z][A-Za-z0-9+.-]*):\/\/(.*)$/s.exec(url) ?? [undefined, '', url];
  const authorityEnd = rest.search(/[/?#]/);
  const authority = authorityEnd < 0 ? rest : rest.slice(0, authorityEnd);
  const afterAuthority = authorityEnd < 0 ? '' : rest.slice(authorityEnd);
  const at = authority.lastIndexOf('@');
  const hashAt = afterAuthority.indexOf('#');
  const beforeFragment = hashAt < 0 ? afterAuthority : afterAuthority.slice(0, hashAt);
  const questionAt = beforeFragment.indexOf('?');
  const queryText = questionAt < 0 ? '' : beforeFragment.slice(questionAt + 1);
  return {
    scheme,
    ...(at >= 0 ? { userinfo: authority.slice(0, at) } : {}),
    host: at >= 0 ? authority.slice(at + 1) : authority,
    path: questionAt < 0 ? beforeFragment : beforeFragment.slice(0, questionAt),
    hasQuery: questionAt >= 0,
    query: queryText === '' ? [] : queryText.split('&').map((pair) => {
      const eq = pair.indexOf('=');
      const raw = eq < 0 ? pair : pair.slice(0, eq);
      return { raw, name: decodeQueryName(raw), ...(eq >= 0 ? { value: pair.slice(eq + 1) } : {}) };
    }),
    ...(hashAt >= 0 ? { fragment: afterAuthority.slice(hashAt) } : {}),
  };
}

/** `url` with its user info and the values of credential-like query parameters replaced by `***`. */
function redactUrl(url: string): string {
  const parts = splitUrl(url);
  if (parts.scheme === '') return parts.query.length > 0 || url.includes('@') ? '(a URL, not shown: it may hold a credential)' : url;
  const query = parts.query.map((q) => (q.value === undefined ? q.raw : `${q.raw}=${looksLikeCredential(q.name) ? '***' : q.value}`));
  return `${parts.scheme}://${parts.userinfo !== undefined ? '***@' : ''}${parts.host}${parts.path}`
    + `${parts.hasQuery ? `?${query.join('&')}` : ''}${parts.fragment ?? ''}`;
}

function decodeQueryName(raw: string): string {
  try {
    return decodeURIComponent(raw.replace(/\+/g, ' '));
  } catch {
    return raw;
  }
}

/** True for a query parameter name with a credential word in it: `token`, `api_key`, `X-Amz-Signature`, `client_secret`. */
function looksLikeCredential(name: string): boolean {
  const words = name
    .replace(/([a-z])([A-Z])/g, '$1 $2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1 $2')
    .split(/[^A-Za-z0-9]+/)
    .filter((w) => w !== '')
    .map((w) => w.toLowerCase());
  return words.some((w) => CREDENTIAL_WORDS.has(w)) || CREDENTIAL_WORDS.has(words.join(''));
}
