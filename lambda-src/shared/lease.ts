import { DeleteParametersCommand, GetParameterCommand, GetParametersByPathCommand, ParameterTier, PutParameterCommand } from '@aws-sdk/client-ssm';
import type { SSMClient } from '@aws-sdk/client-ssm';
import { RUN_LEASE_PATH_PREFIX } from '../../src/core/run-contract';

/**
 * The lease that keeps runs of one construct from overlapping: only the holder of the lease works
 * a pass, so two runs never work the same item at the same time, whatever starts them (the
 * schedule, a manual invocation, a continuation Lambda delivers twice or late).
 *
 * The lease is a chain of create-only records in Parameter Store, `<path>/<generation>`: creating
 * generation n+1 (PutParameter without Overwrite, which Parameter Store refuses atomically with
 * ParameterAlreadyExists) is the only way to hold the lease, and every invocation that works
 * creates one. It may when generation n was released or its `leaseUntil` has passed, or when
 * generation n handed the pass over to exactly this invocation (the same pass, the next hop). So
 * of two copies of one continuation only one creates the next generation (the other, even when
 * both read the record before either wrote, is told it is stale), and a copy that arrives after its
 * pass moved on is refused, as is a continuation of a pass whose hand-over expired and whose lease
 * another run took since (whether or not that run has finished). The holder alone overwrites its
 * own record, to hand over and to release, and only while it has not expired (with
 * `CLOCK_SKEW_MS` to spare); it starts no work after its `leaseUntil` (see `RunBudget.stopWhen`).
 *
 * Records are JSON with ids, hop numbers and times only. Older generations are deleted as new ones
 * are taken.
 *
 * @example
 * const lease = new RunLease(ssm, leasePath(serviceName));
 * const held = await lease.acquire({ owner: pass.runId, hop: pass.hop }, 12 * 60_000);
 * if (held.kind === 'busy') return; // another run holds it, or this continuation is stale
 * // ... work ...
 * await lease.handOver(held, HANDOVER_LEASE_MS); // then send the continuation of hop + 1
 */
export class RunLease {
  constructor(
    private readonly ssm: SSMClient,
    /** Parameter path of the records, e.g. `/cdk-cross-region-config/runs/<service>`. */
    public readonly path: string,
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * Takes the lease for hop `claim.hop` of the pass `claim.owner` until `leaseMs` from now.
   * `busy` when another run holds a live lease, this hop's continuation was already taken (a
   * duplicate delivery) or the pass has moved past it.
   */
  async acquire(claim: LeaseClaim, leaseMs: number): Promise<LeaseResult> {
    const latest = await this.latest();
    const now = this.now();
    if (latest) {
      const r = latest.record;
      const live = r.state !== 'released' && r.leaseUntil + CLOCK_SKEW_MS > now;
      const handedToThis = r.state === 'handed-over' && r.owner === claim.owner && r.nextHop === claim.hop && r.leaseUntil - CLOCK_SKEW_MS > now;
      if (isStale(claim, r)) return { kind: 'busy', reason: 'stale', leaseUntil: r.leaseUntil };
      if (live && !handedToThis) return { kind: 'busy', reason: 'held', leaseUntil: r.leaseUntil };
    }
    const generation = (latest?.generation ?? 0) + 1;
    const leaseUntil = now + leaseMs;
    if (!await this.write(generation, { state: 'held', owner: claim.owner, hop: claim.hop, leaseUntil }, false)) {
      // Another invocation took this generation first. When it is a copy of this very continuation
      // (Lambda delivered it twice, to two environments at once), this one is the duplicate.
      const winner = await this.read(generation);
      return winner && isStale(claim, winner)
        ? { kind: 'busy', reason: 'stale', leaseUntil: winner.leaseUntil }
        : { kind: 'busy', reason: 'held', leaseUntil: winner?.leaseUntil ?? leaseUntil };
    }
    if (latest) await this.deleteBefore(generation);
    return { kind: 'held', generation, owner: claim.owner, hop: claim.hop, leaseUntil };
  }

  /**
   * Marks the pass handed over to its next hop, which may take the lease within `leaseMs`; false
   * (and nothing written) when the lease has expired or is about to, since another run may hold it.
   */
  async handOver(held: HeldLease, leaseMs: number): Promise<boolean> {
    const now = this.now();
    if (held.leaseUntil - CLOCK_SKEW_MS <= now) return false;
    await this.write(held.generation, {
      state: 'handed-over', owner: held.owner, hop: held.hop, nextHop: held.hop + 1, leaseUntil: now + leaseMs,
    }, true);
    return true;
  }

  /** Releases a held lease, unless it has expired (another run may hold the next generation by then). */
  async release(held: HeldLease): Promise<void> {
    if (held.leaseUntil - CLOCK_SKEW_MS <= this.now()) return;
    await this.write(held.generation, { state: 'released', owner: held.owner, hop: held.hop, leaseUntil: 0 }, true);
  }

  private name(generation: number): string {
    // Zero-padded so that the names sort by generation.
    return `${this.path}/${String(generation).padStart(GENERATION_DIGITS, '0')}`;
  }

  private async write(generation: number, record: LeaseRecord, overwrite: boolean): Promise<boolean> {
    try {
      await this.ssm.send(new PutParameterCommand({
        Name: this.name(generation), Value: JSON.stringify(record), Type: 'String', Tier: ParameterTier.STANDARD, Overwrite: overwrite,
      }));
      return true;
    } catch (e) {
      if (!overwrite && (e as Error).name === 'ParameterAlreadyExists') return false;
      throw e;
    }
  }

  /** The newest generation, read back with GetParameter (strongly consistent) after the listing found it. */
  private async latest(): Promise<{ generation: number; record: LeaseRecord } | undefined> {
    const generations = await this.generations();
    if (generations.length === 0) return undefined;
    let generation = Math.max(...generations);
    // A listing may miss a record created a moment ago: look one generation further until none is there.
    for (;;) {
      const ahead = await this.read(generation + 1);
      if (!ahead) break;
      generation++;
    }
    const record = await this.read(generation);
    return record ? { generation, record } : undefined;
  }

  private async read(generation: number): Promise<LeaseRecord | undefined> {
    try {
      const got = await this.ssm.send(new GetParameterCommand({ Name: this.name(generation) }));
      return JSON.parse(got.Parameter?.Value ?? '{}') as LeaseRecord;
    } catch (e) {
      if ((e as Error).name === 'ParameterNotFound') return undefined;
      throw e;
    }
  }

  private async generations(): Promise<number[]> {
    const out: number[] = [];
    let nextToken: string | undefined;
    do {
      const page = await this.ssm.send(new GetParametersByPathCommand({ Path: this.path, NextToken: nextToken }));
      for (const p of page.Parameters ?? []) {
        const generation = Number(p.Name!.slice(this.path.length + 1));
        if (Number.isInteger(generation)) out.push(generation);
      }
      nextToken = page.NextToken;
    } while (nextToken);
    return out;
  }

  /** Deletes generations older than `generation - 1` (the previous one stays, for the record). */
  private async deleteBefore(generation: number): Promise<void> {
    const old = (await this.generations()).filter((g) => g < generation - 1).map((g) => this.name(g));
    // DeleteParameters takes at most 10 names.
    for (let i = 0; i < old.length; i += 10) {
      await this.ssm.send(new DeleteParametersCommand({ Names: old.slice(i, i + 10) }));
    }
  }
}

/** Who asks for the lease: a pass and its hop (0 for a pass that starts). */
export interface LeaseClaim {
  readonly owner: string;
  readonly hop: number;
}

/** A lease this run holds. */
export interface HeldLease {
  readonly generation: number;
  readonly owner: string;
  readonly hop: number;
  /** Ms since the epoch; the holder starts no work after it. */
  readonly leaseUntil: number;
}

/** What `RunLease.acquire` found. */
export type LeaseResult =
  | ({ readonly kind: 'held' } & HeldLease)
  /** `held`: another run holds a live lease; `stale`: this hop of the pass was taken already, or the pass moved on. */
  | { readonly kind: 'busy'; readonly reason: 'held' | 'stale'; readonly leaseUntil: number };

/** The stored state of one generation. */
interface LeaseRecord {
  readonly state: 'held' | 'handed-over' | 'released';
  readonly owner: string;
  readonly hop: number;
  /** For `handed-over`: the hop that may take the lease next. */
  readonly nextHop?: number;
  readonly leaseUntil: number;
}

/**
 * True when `claim` may never hold the lease while `latest` is the newest record: its hop of the
 * pass was taken already (or the pass moved past it), or it continues a pass (hop 1 or later) after
 * another run took the lease (the pass's hand-over expired and a new pass replaced it, which may
 * since have finished). Only the record its own pass handed over admits a continuation.
 */
function isStale(claim: LeaseClaim, latest: LeaseRecord): boolean {
  if (latest.owner === claim.owner) return claim.hop <= latest.hop;
  return claim.hop > 0;
}

/** Clocks of two Lambda environments differ by far less than this (they are NTP-synchronised). */
export const CLOCK_SKEW_MS = 5_000;
/** Digits of a generation in a record name. */
const GENERATION_DIGITS = 10;

/** The lease path of a handler whose metrics `service` is `serviceName` (unique per construct). */
export function leasePath(serviceName: string): string {
  return `${RUN_LEASE_PATH_PREFIX}/${serviceName}`;
}
