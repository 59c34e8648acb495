import type { RetryErrorInfo, RetryStrategyV2, RetryToken } from '@smithy/types';

/** How a failed AWS call is retried. */
export interface BackoffOptions {
  /** Attempts in total, including the first one. */
  readonly maxAttempts: number;
  /** Scale of the exponential backoff (ms). */
  readonly baseDelayMs: number;
  /** Cap on one wait (ms). */
  readonly maxDelayMs: number;
  /** Source of randomness in [0, 1); injectable for tests. */
  readonly random?: () => number;
}

/**
 * Defaults sized for a Lambda that talks to several regions: 8 attempts with full jitter from a
 * 100 ms base, capped at 5 s, keeps a 30% throttling rate from failing a call (0.3^8 < 1e-4) while
 * staying far below a 10-minute function timeout (worst case ~ 15 s of waiting per call).
 */
export const DEFAULT_BACKOFF: BackoffOptions = { maxAttempts: 8, baseDelayMs: 100, maxDelayMs: 5_000 };

/**
 * "Full jitter" exponential backoff: a uniform wait in [0, min(cap, base * 2^retry)).
 * Spreads retries from many concurrent callers instead of synchronising them.
 */
export function fullJitterDelayMs(retry: number, options: BackoffOptions): number {
  const ceiling = Math.min(options.maxDelayMs, options.baseDelayMs * 2 ** retry);
  return Math.floor((options.random ?? Math.random)() * ceiling);
}

class Token implements RetryToken {
  constructor(private readonly count: number, private readonly delayMs: number) {}
  getRetryCount(): number {
    return this.count;
  }
  getRetryDelay(): number {
    return this.delayMs;
  }
}

/**
 * An SDK v3 retry strategy: retries throttling, transient (network) and server errors with
 * full-jitter exponential backoff, and never client errors.
 *
 * Unlike the SDK's standard strategy it has no shared retry-token bucket, so a burst of
 * throttling across many parallel calls cannot exhaust retries for the whole client: each call
 * gets its own attempts. Throttling is the expected steady state when fanning out to regions.
 */
export class JitteredRetryStrategy implements RetryStrategyV2 {
  /** Retries performed since creation, by error type (for metrics and tests). */
  public readonly retries: Record<string, number> = {};

  constructor(private readonly options: BackoffOptions = DEFAULT_BACKOFF) {}

  async acquireInitialRetryToken(_scope: string): Promise<RetryToken> {
    return new Token(0, 0);
  }

  async refreshRetryTokenForRetry(token: RetryToken, info: RetryErrorInfo): Promise<RetryToken> {
    const next = token.getRetryCount() + 1;
    if (info.errorType === 'CLIENT_ERROR' || next >= this.options.maxAttempts) {
      throw info.error ?? new Error(`retry refused for ${info.errorType}`);
    }
    this.retries[info.errorType] = (this.retries[info.errorType] ?? 0) + 1;
    const hinted = info.retryAfterHint ? info.retryAfterHint.getTime() - Date.now() : 0;
    return new Token(next, Math.max(hinted, fullJitterDelayMs(next, this.options)));
  }

  recordSuccess(_token: RetryToken): void {}
}
