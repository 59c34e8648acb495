import { Duration, Token } from 'aws-cdk-lib';
import { HttpCheckConfig, REGION_PLACEHOLDER, SLOT_PLACEHOLDER } from './contract';
import { fail, validateDistinct, validateIntegerRange, validateLength, validatePattern, validateWholeDuration } from '../private/validation';

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
  /** Longest time the check can take when it fails, in seconds (every attempt times out). */
  public readonly worstCaseSeconds: number;
  private readonly config: HttpCheckConfig;

  private constructor(url: string, options: HttpHealthCheckOptions) {
    if (Token.isUnresolved(url)) fail('healthChecks url', 'must be a literal URL, not a token resolved at deploy time', url);
    validatePattern('healthChecks url', url, URL_PATTERN, 'must be an http:// or https:// URL');
    for (const placeholder of url.match(PLACEHOLDER) ?? []) {
      if (placeholder !== REGION_PLACEHOLDER && placeholder !== SLOT_PLACEHOLDER) {
        fail('healthChecks url', `may only contain the placeholders ${REGION_PLACEHOLDER} and ${SLOT_PLACEHOLDER}`, url);
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
    this.url = url;
    this.name = options.name ?? url.replace(/^https?:\/\//, '').replace(/[?#].*$/, '');
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

  /** True when the URL names the slot, so that each slot of a region is checked on its own. */
  public get namesSlot(): boolean {
    return this.url.includes(SLOT_PLACEHOLDER);
  }

  /** @internal */
  public _render(): HttpCheckConfig {
    return this.config;
  }
}
