import type { RetryErrorInfo, RetryToken } from '@smithy/types';
import { BackoffOptions, DEFAULT_BACKOFF, fullJitterDelayMs, JitteredRetryStrategy } from '../retry';

/**
 * Pacing of Parameter Store writes. PutParameter has a small default throughput per account and
 * region, shared with every other writer there (CloudFormation, people, other tools), so the
 * replicator spends a budget of writes per second per replica region, shared by every write it
 * makes there, halves it while Parameter Store answers with throttling and earns it back slowly.
 */

/** Factor the rate is multiplied by on each throttling answer. */
const SLOW_DOWN = 0.5;
/** Share of the configured rate earned back per successful write after a slowdown. */
const SPEED_UP = 0.05;
/** Lowest rate the limiter falls to, in writes per second. */
const FLOOR_PER_SECOND = 0.25;

/** Injectable time, so tests and benchmarks can run without real waiting. */
export interface Clock {
  now(): number;
  sleep(ms: number): Promise<void>;
}

export const REAL_CLOCK: Clock = {
  now: () => Date.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
};

/**
 * A token bucket (burst of one second's budget) whose rate adapts: every `acquire()` waits for its
 * slot, so concurrent callers are spread out evenly; `throttled()` halves the rate, `succeeded()`
 * raises it again towards the configured one.
 */
export class AdaptiveRateLimiter {
  private rate: number;
  private tokens: number;
  private last: number;
  private queue: Promise<void> = Promise.resolve();
  /** Throttling answers seen (for the metric). */
  throttles = 0;

  constructor(private readonly perSecond: number, private readonly clock: Clock = REAL_CLOCK) {
    if (!(perSecond > 0)) throw new Error(`writes per second must be positive, but got ${perSecond}`);
    this.rate = perSecond;
    this.tokens = Math.max(1, perSecond);
    this.last = clock.now();
  }

  /** The current rate, in writes per second. */
  get currentRate(): number {
    return this.rate;
  }

  /** Waits until one write may go out. Callers are served in order. */
  acquire(): Promise<void> {
    const turn = this.queue.then(async () => {
      this.refill();
      if (this.tokens < 1) {
        await this.clock.sleep(Math.ceil(((1 - this.tokens) / this.rate) * 1000));
        this.refill();
      }
      this.tokens = Math.max(0, this.tokens - 1);
    });
    this.queue = turn.catch(() => undefined);
    return turn;
  }

  /** Parameter Store answered with throttling: slow down. */
  throttled(): void {
    this.throttles++;
    this.refill();
    this.rate = Math.max(FLOOR_PER_SECOND, this.rate * SLOW_DOWN);
    this.tokens = Math.min(this.tokens, 0);
  }

  /** A write went through: earn back some of the rate lost to throttling. */
  succeeded(): void {
    if (this.rate < this.perSecond) this.rate = Math.min(this.perSecond, this.rate + this.perSecond * SPEED_UP);
  }

  private refill(): void {
    const now = this.clock.now();
    this.tokens = Math.min(Math.max(1, this.rate), this.tokens + ((now - this.last) / 1000) * this.rate);
    this.last = now;
  }
}

/** Error names Parameter Store answers when a caller goes too fast. */
const THROTTLING_NAMES = new Set(['ThrottlingException', 'Throttling', 'TooManyUpdates', 'TooManyRequestsException']);

/** True for a throttling answer (including `TooManyUpdates`, concurrent updates of one parameter). */
export function isThrottling(error: unknown): boolean {
  return THROTTLING_NAMES.has((error as Error)?.name ?? '');
}

/**
 * The SDK retry strategy of one replica region's clients: the library's jittered backoff, which
 * also tells the region's limiter about every throttling answer (the SDK retries them itself).
 * `TooManyUpdates` is a client error to the SDK; the engine retries it (see `withWriteRetries`).
 */
export class PacedRetryStrategy extends JitteredRetryStrategy {
  constructor(private readonly onThrottle: () => void, options: BackoffOptions = DEFAULT_BACKOFF) {
    super(options);
  }

  async refreshRetryTokenForRetry(token: RetryToken, info: RetryErrorInfo): Promise<RetryToken> {
    if (info.errorType === 'THROTTLING' || isThrottling(info.error)) this.onThrottle();
    return super.refreshRetryTokenForRetry(token, info);
  }
}

/**
 * Runs one paced write: waits for the limiter, and retries throttling the SDK did not (the
 * `TooManyUpdates` answer, or throttling after the SDK's own attempts) with full-jitter backoff.
 */
export async function pacedWrite<T>(
  limiter: AdaptiveRateLimiter, write: () => Promise<T>, clock: Clock = REAL_CLOCK, options: BackoffOptions = DEFAULT_BACKOFF,
): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    await limiter.acquire();
    try {
      const result = await write();
      limiter.succeeded();
      return result;
    } catch (e) {
      if (!isThrottling(e) || attempt + 1 >= options.maxAttempts) throw e;
      limiter.throttled();
      await clock.sleep(fullJitterDelayMs(attempt + 1, options));
    }
  }
}
