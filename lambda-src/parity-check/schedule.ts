import { CheckOptions, ParityChecker, summarize } from './check';
import type { ParityDifference, ParityResult } from '../../src/parity-check/contract';
import { ContinuationInvoker, readContinuation } from '../shared/continuation';
import { RunLease } from '../shared/lease';
import { errorFields, logger } from '../shared/observability';
import { RunBudget } from '../shared/run-budget';
import { CarriedPass, PassOutcome, runPass } from '../shared/run-pass';

/**
 * The scheduled check of every region (`{"action":"check_all"}` and the schedule) as a pass across
 * as many invocations as it needs: regions one at a time, and within a region scope by scope (the
 * secrets, each parameter path, each ConfigMap cluster). An invocation holds the run lease, starts
 * no scope once its budget is spent and hands the rest over with the position (region, scope) and
 * the tally of the region it stopped in, so a region checked across invocations is judged on all
 * of its scopes together. Each region's `ConfigParity` is published when its last scope is compared.
 */

/** Differences of a region carried to the next invocation, for its summary; the counts are always exact. */
const MAX_CARRIED_DIFFERENCES = 200;

/** What a region's check found so far, across the invocations it took. */
export interface RegionTally {
  readonly region: string;
  /** (item, location) pairs compared. */
  readonly compared: number;
  /** Items that differ (not counting unreadable ones). */
  readonly differences: number;
  /** Unreadable regions, clusters or items (`SCAN_FAILED`). */
  readonly unreadable: number;
  /** Items within the grace window, not compared. */
  readonly deferred: number;
  /** The first `MAX_CARRIED_DIFFERENCES` differences, for the region's summary. */
  readonly listed: ParityDifference[];
}

/** Where the scheduled check resumes: the region (index in the checker's regions), its next scope, and its tally so far. */
export interface CheckAllPosition {
  readonly region: number;
  readonly scope: number;
  readonly tally?: RegionTally;
}

/** What the scheduled check carries across its invocations. */
export interface CheckAllTotals {
  /** Regions whose check completed, with their verdicts, in order. */
  readonly verdicts: Readonly<Record<string, 'PASS' | 'FAIL'>>;
  /** Regions whose check threw (they do not agree as far as anyone can tell). */
  readonly unchecked: readonly string[];
  /** (item, location) pairs compared by the pass. */
  readonly compared: number;
  /** Scopes compared by the pass (each (region, scope) once). */
  readonly scopes: number;
}

/** What one invocation of the scheduled check returns. */
export interface CheckAllSummary extends Omit<PassOutcome<CheckAllTotals>, 'pass' | 'totals'> {
  readonly action: 'check_all';
  /** The regions whose check finished in this invocation (a region checked across invocations is judged on all of its scopes). */
  readonly results: ParityResult[];
  /** Scopes compared by this invocation. */
  readonly scopes: number;
  readonly pass?: NonNullable<PassOutcome<CheckAllTotals>['pass']> & CheckAllTotals;
}

/** What `checkAllRegions` needs from the handler. */
export interface CheckAllDependencies {
  readonly checker: ParityChecker;
  readonly lease: RunLease;
  readonly invoker: ContinuationInvoker;
  readonly budget: RunBudget;
  readonly failWhenUnreadable: boolean;
  readonly checkOptions?: () => CheckOptions;
  /** Called when a region's check finished (`result`) or threw (`undefined`), to publish its metrics. */
  readonly onRegion: (result: ParityResult | undefined, tally: RegionTally) => void;
}

/** Runs one invocation of the scheduled check of every region; `event` may be a continuation of one. */
export async function checkAllRegions(deps: CheckAllDependencies, event: unknown): Promise<CheckAllSummary> {
  const { checker, budget } = deps;
  const regions = checker.regions;
  const results: ParityResult[] = [];
  let scopesHere = 0;
  const outcome = await runPass<CheckAllPosition, CheckAllTotals>({ lease: deps.lease, invoker: deps.invoker, budget }, 'check_all',
    readContinuation<CarriedPass<CheckAllPosition, CheckAllTotals>>(event), async (position, carried) => {
      const verdicts: Record<string, 'PASS' | 'FAIL'> = { ...(carried?.verdicts ?? {}) };
      const unchecked = [...(carried?.unchecked ?? [])];
      let compared = carried?.compared ?? 0;
      let scopes = carried?.scopes ?? 0;
      let processed = 0;
      const totals = (): CheckAllTotals => ({ verdicts, unchecked, compared, scopes });
      // An invocation compares at least one scope, so that a chain always moves forward.
      const startMore = () => budget.shouldStartMore() || scopesHere === 0;
      for (let r = position?.region ?? 0; r < regions.length; r++) {
        const region = regions[r];
        const resumed = position !== undefined && r === position.region ? position : undefined;
        if (!startMore()) {
          const next = { region: r, scope: resumed?.scope ?? 0, ...(resumed?.tally ? { tally: resumed.tally } : {}) };
          return { processed, next, totals: totals() };
        }
        const options = deps.checkOptions?.() ?? {};
        const asked = options.shouldContinue;
        let result: ParityResult;
        // The check asks before each scope it reads: every yes is one scope compared.
        let partScopes = 0;
        try {
          result = await checker.check(region, {
            ...options,
            shouldContinue: () => {
              const go = startMore() && (asked?.() ?? true);
              if (go) {
                scopesHere++;
                partScopes++;
              }
              return go;
            },
            ...(resumed && resumed.scope > 0 ? { cursor: { nextScope: resumed.scope } } : {}),
          });
        } catch (e) {
          logger.error('parity check failed', { targetRegion: region, ...errorFields(e) });
          unchecked.push(region);
          deps.onRegion(undefined, emptyTally(region));
          continue;
        }
        const tally = addToTally(resumed?.tally ?? emptyTally(region), result);
        scopes += partScopes;
        compared += result.compared;
        processed += result.compared;
        if (!result.complete) {
          return { processed, next: { region: r, scope: result.cursor!.nextScope, tally }, totals: totals() };
        }
        const whole = judged(result, tally, deps.failWhenUnreadable, resumed !== undefined && resumed.scope > 0);
        verdicts[region] = whole.verdict;
        results.push(whole);
        deps.onRegion(whole, tally);
      }
      return { processed, totals: totals() };
    });
  if (outcome.skipped) return { action: 'check_all', results: [], scopes: 0, partial: false, processed: 0, skipped: outcome.skipped };
  const summary: CheckAllSummary = {
    action: 'check_all',
    results,
    scopes: scopesHere,
    partial: outcome.partial,
    processed: outcome.processed,
    pass: { ...outcome.pass!, ...outcome.totals! },
  };
  logger.info(outcome.partial ? 'parity check of every region handed over' : 'parity check of every region finished', {
    regions: results.map((r) => `${r.targetRegion} ${r.verdict}`), partial: summary.partial, processed: summary.processed, pass: summary.pass,
  });
  return summary;
}

function emptyTally(region: string): RegionTally {
  return { region, compared: 0, differences: 0, unreadable: 0, deferred: 0, listed: [] };
}

function addToTally(tally: RegionTally, part: ParityResult): RegionTally {
  const unreadable = part.differences.filter((d) => d.driftType === 'SCAN_FAILED').length;
  return {
    region: tally.region,
    compared: tally.compared + part.compared,
    differences: tally.differences + part.differences.length - unreadable,
    unreadable: tally.unreadable + unreadable,
    deferred: tally.deferred + part.deferred.length,
    listed: [...tally.listed, ...part.differences].slice(0, MAX_CARRIED_DIFFERENCES),
  };
}

/**
 * The region's result over all of its scopes: a check resumed in another invocation is judged on
 * its tally (an incomplete check never passes; a complete one passes when nothing blocks).
 */
function judged(last: ParityResult, tally: RegionTally, failWhenUnreadable: boolean, resumed: boolean): ParityResult {
  if (!resumed) return last;
  const blocking = tally.differences + (failWhenUnreadable ? tally.unreadable : 0);
  const result: Omit<ParityResult, 'summary'> = {
    primaryRegion: last.primaryRegion,
    targetRegion: last.targetRegion,
    verdict: blocking === 0 ? 'PASS' : 'FAIL',
    complete: true,
    compared: tally.compared,
    deferred: last.deferred,
    differences: [...tally.listed],
  };
  return { ...result, summary: summarize(result, failWhenUnreadable) };
}
