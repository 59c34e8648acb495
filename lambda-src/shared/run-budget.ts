/**
 * The time budget of one handler invocation: whether there is still time to start another unit of
 * work. A long-running handler (a reconciliation, a scan) asks `shouldStartMore()` before each unit
 * and, once it answers false, starts nothing new, lets the units in flight finish, reports the work
 * done and hands the rest over (see `continuation.ts`).
 *
 * The answer latches: once false it stays false for the life of the budget, so the units started are
 * always a prefix of the units in the order they were offered. That is what lets a cursor name the
 * remainder with one position.
 *
 * @example
 * const budget = RunBudget.fromContext(context);
 * for (const item of items) {
 *   if (!budget.shouldStartMore()) break;
 *   await work(item);
 * }
 */
export class RunBudget {
  /**
   * A budget of a Lambda invocation: the time left is `context.getRemainingTimeInMillis()`.
   * `marginMs` (default `defaultMarginMs` of the time left now) is kept for the work in flight,
   * the summary, the metrics and the hand-over.
   */
  static fromContext(context: RemainingTime, marginMs?: number): RunBudget {
    const remaining = context.getRemainingTimeInMillis();
    return new RunBudget(() => context.getRemainingTimeInMillis(), marginMs ?? defaultMarginMs(remaining));
  }

  /** A budget that never runs out (tests, a caller without a Lambda context). */
  static unbounded(): RunBudget {
    return new RunBudget(() => Number.POSITIVE_INFINITY, 0);
  }

  private stopped = false;
  private readonly extraChecks: Array<() => boolean> = [];

  constructor(
    /** Milliseconds left before the invocation is stopped. */
    private readonly remaining: () => number,
    /** Milliseconds kept back for finishing: no unit starts with less than this left. */
    public readonly marginMs: number,
  ) {}

  /** True while there is time to start another unit of work; false from the first time it is not. */
  shouldStartMore(): boolean {
    if (this.stopped) return false;
    if (this.remaining() <= this.marginMs || this.extraChecks.some((stop) => stop())) this.stopped = true;
    return !this.stopped;
  }

  /** True once `shouldStartMore()` has answered false: the run is partial. */
  get exhausted(): boolean {
    return this.stopped;
  }

  /** Milliseconds left in the invocation. */
  remainingMs(): number {
    return this.remaining();
  }

  /** Adds a reason to stop early, e.g. a lease that is about to run out; checked by `shouldStartMore()`. */
  stopWhen(check: () => boolean): void {
    this.extraChecks.push(check);
  }
}

/** What a Lambda context offers the budget. */
export interface RemainingTime {
  getRemainingTimeInMillis(): number;
}

/** The smallest margin: one throttled AWS call may wait this long in its retries (see retry.ts). */
export const MIN_MARGIN_MS = 15_000;
/** The largest margin: a unit in flight never needs more than this to finish. */
export const MAX_MARGIN_MS = 90_000;
/** Share of the invocation kept back: 15% of a 10-minute timeout is 90 s. */
const MARGIN_SHARE = 0.15;

/**
 * The margin kept for an invocation with `remainingMs` left: 15% of it, at least 15 s and at most
 * 90 s, and never more than half of it (a short test timeout still gets work done).
 */
export function defaultMarginMs(remainingMs: number): number {
  const margin = Math.min(MAX_MARGIN_MS, Math.max(MIN_MARGIN_MS, Math.round(remainingMs * MARGIN_SHARE)));
  return Math.min(margin, Math.floor(remainingMs / 2));
}
