import { DeleteObjectsCommand, GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { DriftDetector, newScanId, ScanPart } from './detector';
import { ScanResult } from './report';
import { RunMetric } from '../../src/core/run-contract';
import { ClientCache } from '../shared/clients';
import { ContinuationInvoker, handOver, HopLimitReached, MAX_HOPS, nextHop, PassState, startPass } from '../shared/continuation';
import { HeldLease, LeaseResult, RunLease } from '../shared/lease';
import { errorFields, logger, metrics, MetricUnit } from '../shared/observability';
import { RunBudget } from '../shared/run-budget';

/**
 * One drift scan across as many invocations as it needs. The unit of work is a scope (the selected
 * secrets, one parameter path, one ConfigMap scope): each invocation holds the run lease, reads and
 * compares whole scopes, in order, while its budget allows, and hands the rest over with the index
 * of the first scope it did not start.
 *
 * How the report adds up: an invocation that hands over writes what it compared (its part: the
 * scopes' statuses, their drifts and deferrals, the counts) to
 * `<reportPrefix>parts/<scanId>/<hop>.json` in the report bucket and emits only the run metrics
 * (`ItemsProcessed`, `RunPartial` 1, `OldestUnprocessedItemAge`). The invocation that compares the
 * last scope reads the earlier parts, writes the one report of the scan, emits the per-scan metrics
 * (`DriftCount`, `HasDrift`, `ItemsCompared`, ...) once, and deletes the parts. So `HasDrift` is only
 * ever set or cleared by a complete scan, and an item never compared is never reported as drift.
 */

/** What a continuation of a scan carries. */
export interface ScanCursor {
  /** Index of the first scope not compared yet. */
  readonly nextScope: number;
  /** The scopes' fingerprint when the scan started: a continuation after a settings change is dropped. */
  readonly scopes: string;
  /** What started the scan (`manual_check`, `scheduled_check`). */
  readonly trigger: string;
  /** (item, replica location) pairs compared by the earlier invocations. */
  readonly compared: number;
}

/** How long a handed-over lease waits for its continuation to start: Lambda starts a queued invocation in seconds. */
export const HANDOVER_LEASE_MS = 5 * 60_000;
/** Lambda's longest timeout: no invocation runs longer. */
const MAX_INVOCATION_MS = 15 * 60_000;
/** Added to the invocation's time left for the lease of a working invocation. */
const LEASE_SLACK_MS = 30_000;

/** Keeps the parts of a scan between its invocations. */
export interface ScanPartStore {
  put(scanId: string, hop: number, part: ScanPart): Promise<void>;
  get(scanId: string, hop: number): Promise<ScanPart>;
  /** Deletes the parts of hops `0 .. hops-1`. */
  clear(scanId: string, hops: number): Promise<void>;
}

/**
 * Parts as JSON objects under `<prefix>parts/<scanId>/<hop>.json` of the report bucket. They are
 * value-free like the report (names, digest-free drift descriptions, counts).
 */
export class S3ScanPartStore implements ScanPartStore {
  constructor(
    private readonly clients: ClientCache, private readonly region: string, private readonly bucket: string, private readonly prefix: string,
  ) {}

  key(scanId: string, hop: number): string {
    return `${this.prefix}parts/${scanId}/${String(hop).padStart(3, '0')}.json`;
  }

  async put(scanId: string, hop: number, part: ScanPart): Promise<void> {
    await this.s3().send(new PutObjectCommand({ Bucket: this.bucket, Key: this.key(scanId, hop), Body: JSON.stringify(part), ContentType: 'application/json' }));
  }

  async get(scanId: string, hop: number): Promise<ScanPart> {
    const got = await this.s3().send(new GetObjectCommand({ Bucket: this.bucket, Key: this.key(scanId, hop) }));
    return JSON.parse(await got.Body!.transformToString()) as ScanPart;
  }

  async clear(scanId: string, hops: number): Promise<void> {
    if (hops === 0) return;
    // A scan has at most MAX_HOPS (100) parts; DeleteObjects takes up to 1,000 keys.
    await this.s3().send(new DeleteObjectsCommand({
      Bucket: this.bucket,
      Delete: { Objects: Array.from({ length: hops }, (_, hop) => ({ Key: this.key(scanId, hop) })), Quiet: true },
    }));
  }

  private s3(): S3Client {
    return this.clients.get(S3Client, { region: this.region });
  }
}

/** What an invocation that did not complete its scan returns (no summary: only a complete scan has one). */
export interface PartialScanResult {
  readonly action: string;
  readonly runId: string;
  readonly partial: true;
  /** (item, replica location) pairs compared by this invocation. */
  readonly processed: number;
  readonly scopesCompared: number;
  readonly scopesTotal: number;
  /** Drifts found by this invocation so far (the report of the complete scan lists them). */
  readonly driftsSoFar: number;
  readonly message: string;
  readonly pass: PassFields;
}

/** Where an invocation stands in its scan. */
export interface PassFields {
  readonly hop: number;
  readonly startedAt: string;
  /** Scopes this invocation read and compared. */
  readonly scopesCompared: number;
  readonly complete: boolean;
  /** Set when the scan could not be handed over (the error's name): the next scheduled scan starts over. */
  readonly handOverFailed?: string;
}

/** A complete scan's result, with the invocation's share. */
export type CompleteScanResult = ScanResult & { readonly partial: false; readonly processed: number; readonly pass: PassFields };

/** An invocation that did nothing because another scan holds the lease, or this continuation was delivered before. */
export interface SkippedScanResult {
  readonly action: string;
  readonly skipped: 'lease-held' | 'stale-continuation' | 'settings-changed';
  readonly message: string;
}

export type ScanInvocationResult = CompleteScanResult | PartialScanResult | SkippedScanResult;

/** What a scan invocation needs. */
export interface ScanPassDependencies {
  readonly detector: DriftDetector;
  readonly lease: RunLease;
  readonly invoker: ContinuationInvoker;
  readonly budget: RunBudget;
  readonly parts: ScanPartStore;
  /** True when the scan changes nothing (remediation OFF or DRY_RUN): it may run without the lease when the lease cannot be read. */
  readonly readOnly: boolean;
  readonly now?: () => number;
}

/**
 * Runs one invocation of a scan: `continuation` is the scan it continues, or `undefined` to start
 * one for `trigger`. Emits `ItemsProcessed`, `RunPartial` and `OldestUnprocessedItemAge` for the
 * invocation, and the per-scan metrics when it completes the scan.
 */
export async function runScanPass(
  deps: ScanPassDependencies, continuation: PassState<ScanCursor> | undefined, trigger: string,
): Promise<ScanInvocationResult> {
  const now = deps.now ?? Date.now;
  const scanId = continuation?.runId ?? newScanId(new Date(now()));
  const action = continuation?.cursor?.trigger ?? trigger;
  const leaseMs = Math.min(deps.budget.remainingMs(), MAX_INVOCATION_MS) + LEASE_SLACK_MS;
  let acquired: LeaseResult;
  try {
    acquired = await deps.lease.acquire({ owner: scanId, hop: continuation?.hop ?? 0 }, leaseMs);
  } catch (e) {
    if (continuation || !deps.readOnly) throw e;
    // Parameter Store in the primary region is failing (the parameter scopes will say so too). A scan
    // that changes nothing is still worth running: whole, in this invocation, without the lease (an
    // overlapping read-only scan only writes a report of its own).
    logger.error('the run lease could not be taken; scanning in this invocation without it', { ...errorFields(e) });
    const started = new Date(now());
    const compared = await deps.detector.compareScopes(RunBudget.unbounded(), 0);
    metrics.addMetric(RunMetric.ITEMS_PROCESSED, MetricUnit.Count, compared.part.compared);
    metrics.addMetric(RunMetric.RUN_PARTIAL, MetricUnit.Count, 0);
    metrics.addMetric(RunMetric.OLDEST_UNPROCESSED_ITEM_AGE, MetricUnit.Seconds, 0);
    const result = await deps.detector.finish(action, scanId, started, [compared.part]);
    return {
      ...result,
      partial: false,
      processed: compared.part.compared,
      pass: { hop: 0, startedAt: started.toISOString(), scopesCompared: compared.scopeCount, complete: true },
    };
  }
  if (acquired.kind === 'busy') {
    const message = acquired.reason === 'stale'
      ? 'this continuation was delivered before or its scan moved on; nothing to do'
      : 'another drift scan holds the run lease; nothing to do';
    logger.info(message, { leaseUntil: new Date(acquired.leaseUntil).toISOString(), continuation: continuation !== undefined });
    return { action, skipped: acquired.reason === 'stale' ? 'stale-continuation' : 'lease-held', message };
  }
  const held: HeldLease = acquired;
  try {
    deps.budget.stopWhen(() => now() >= held.leaseUntil - deps.budget.marginMs);
    const pass: PassState<ScanCursor> = continuation ? { ...continuation, generation: held.generation } : startPass(scanId, held.generation, now());
    if (pass.cursor && pass.cursor.scopes !== deps.detector.scopesFingerprint()) {
      // The settings changed between invocations: the parts no longer add up to one scan of one selection.
      logger.warn('the scopes changed since the scan started; it is dropped and the next scheduled scan starts over', { scanId, hop: pass.hop });
      await deps.parts.clear(scanId, pass.hop).catch(() => undefined);
      await releaseQuietly(deps.lease, held);
      return { action, skipped: 'settings-changed', message: 'the scopes changed since the scan started; nothing reported' };
    }
    const compared = await deps.detector.compareScopes(deps.budget, pass.cursor?.nextScope ?? 0);
    const processed = compared.part.compared;
    const complete = compared.next === undefined;
    metrics.addMetric(RunMetric.ITEMS_PROCESSED, MetricUnit.Count, processed);
    metrics.addMetric(RunMetric.RUN_PARTIAL, MetricUnit.Count, complete ? 0 : 1);
    metrics.addMetric(RunMetric.OLDEST_UNPROCESSED_ITEM_AGE, MetricUnit.Seconds, complete ? 0 : Math.round((now() - pass.passStartedAt) / 1000));
    const scopesCompared = (compared.next ?? compared.scopeCount) - (pass.cursor?.nextScope ?? 0);
    const passFields = { hop: pass.hop, startedAt: new Date(pass.passStartedAt).toISOString(), scopesCompared };

    if (complete) {
      const earlier: ScanPart[] = [];
      for (let hop = 0; hop < pass.hop; hop++) earlier.push(await deps.parts.get(scanId, hop));
      const result = await deps.detector.finish(action, scanId, new Date(pass.passStartedAt), [...earlier, compared.part]);
      try {
        await deps.parts.clear(scanId, pass.hop);
      } catch (e) {
        logger.warn('the parts of the scan could not be deleted', { scanId, ...errorFields(e) });
      }
      await releaseQuietly(deps.lease, held);
      return { ...result, partial: false, processed, pass: { ...passFields, complete: true } };
    }

    await deps.parts.put(scanId, pass.hop, compared.part);
    const cursor: ScanCursor = {
      nextScope: compared.next!, scopes: compared.fingerprint, trigger: action, compared: (pass.cursor?.compared ?? 0) + processed,
    };
    let handOverFailed: string | undefined;
    try {
      if (pass.hop + 1 >= MAX_HOPS) throw new HopLimitReached(pass.hop + 1);
      if (!await deps.lease.handOver(held, HANDOVER_LEASE_MS)) throw Object.assign(new Error('the run lease expired'), { name: 'LeaseExpired' });
      await handOver(deps.invoker, action, nextHop(pass, cursor, held.generation));
    } catch (e) {
      handOverFailed = errorFields(e).errorName;
      logger.error('the rest of the drift scan could not be handed over; the next scheduled scan starts over', {
        ...errorFields(e), ...(e instanceof HopLimitReached ? { reason: e.message } : {}),
      });
      await deps.parts.clear(scanId, pass.hop + 1).catch(() => undefined);
      await releaseQuietly(deps.lease, held);
    }
    const message = `Drift scan ${scanId} (${action}) invocation ${pass.hop + 1}: compared ${scopesCompared} scope(s), ${compared.next} of `
      + `${compared.scopeCount} done; ${handOverFailed ? 'the rest could not be handed over' : 'the rest continues in the next invocation'}. `
      + 'The report and the drift metrics are written when the scan completes.';
    const result: PartialScanResult = {
      action,
      runId: scanId,
      partial: true,
      processed,
      scopesCompared,
      scopesTotal: compared.scopeCount,
      driftsSoFar: compared.part.drifts.length,
      message,
      pass: { ...passFields, complete: false, ...(handOverFailed ? { handOverFailed } : {}) },
    };
    logger.info(message, { runId: scanId, processed, nextScope: compared.next, hop: pass.hop });
    return result;
  } catch (e) {
    // Let the next scheduled scan start at once rather than wait for the lease to expire.
    await releaseQuietly(deps.lease, held);
    throw e;
  }
}

/** Releases the lease; a failure only delays the next scan until the lease expires, so it is logged. */
async function releaseQuietly(lease: RunLease, held: HeldLease): Promise<void> {
  try {
    await lease.release(held);
  } catch (e) {
    logger.warn('the run lease could not be released; the next scan waits for it to expire', { ...errorFields(e) });
  }
}
