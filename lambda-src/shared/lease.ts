import { DeleteParametersCommand, GetParameterCommand, GetParametersByPathCommand, ParameterTier, PutParameterCommand } from '@aws-sdk/client-ssm';
import type { SSMClient } from '@aws-sdk/client-ssm';
import { RUN_LEASE_PATH_PREFIX } from '../../src/core/run-contract';

/**
 * The lease that keeps runs of one construct from overlapping: only the holder of the lease works
 * a pass, so two runs never work the same item at the same time, whatever starts them (the
 * schedule, a manual invocation, a continuation that arrives late).
 *
 * The lease is a chain of create-only records in Parameter Store, `<path>/<generation>`: creating
 * generation n+1 (PutParameter without Overwrite, which Parameter Store refuses atomically with
 * ParameterAlreadyExists) is the only way to take the lease, and it is allowed only once
 * generation n was released or its `leaseUntil` has passed. The holder alone overwrites its own
 * record: to extend it (only while it has not expired, with `CLOCK_SKEW_MS` to spare) and to
 * release it. A holder never starts work after its `leaseUntil` (see `RunBudget.stopWhen`).
 *
 * Records are JSON with ids and times only. Older generations are deleted as new ones are taken.
 *
 * @example
 * const lease = new RunLease(ssm, '/cdk-cross-region-config/runs/my-service');
 * const held = await lease.acquire(runId, 12 * 60_000);
 * if (held.kind === 'busy') return; // another run holds it until held.leaseUntil
 */
export class RunLease {
  constructor(
    private readonly ssm: SSMClient,
    /** Parameter path of the records, e.g. `/cdk-cross-region-config/runs/<service>`. */
    public readonly path: string,
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * Takes the lease for `owner` until `leaseMs` from now, or extends it when `owner` already holds
   * it (generation `generation`, as a continuation carries it). `busy` when another owner holds a
   * live lease, or won the race for the next generation.
   */
  async acquire(owner: string, leaseMs: number, generation?: number): Promise<LeaseResult> {
    const latest = await this.latest();
    const now = this.now();
    if (latest && latest.record.owner === owner && latest.generation === generation && latest.record.state === 'held'
      && latest.record.leaseUntil - CLOCK_SKEW_MS > now) {
      const leaseUntil = now + leaseMs;
      await this.write(latest.generation, { state: 'held', owner, leaseUntil }, true);
      return { kind: 'held', generation: latest.generation, owner, leaseUntil };
    }
    if (latest && latest.record.state === 'held' && latest.record.leaseUntil + CLOCK_SKEW_MS > now) {
      return { kind: 'busy', leaseUntil: latest.record.leaseUntil };
    }
    const next = (latest?.generation ?? 0) + 1;
    const leaseUntil = now + leaseMs;
    if (!await this.write(next, { state: 'held', owner, leaseUntil }, false)) {
      return { kind: 'busy', leaseUntil };
    }
    if (latest) await this.deleteBefore(next);
    return { kind: 'held', generation: next, owner, leaseUntil };
  }

  /**
   * Extends a held lease to `leaseMs` from now; false (and nothing written) when it has expired
   * or is about to, since another run may then take it.
   */
  async extend(held: HeldLease, leaseMs: number): Promise<HeldLease | undefined> {
    const now = this.now();
    if (held.leaseUntil - CLOCK_SKEW_MS <= now) return undefined;
    const leaseUntil = now + leaseMs;
    await this.write(held.generation, { state: 'held', owner: held.owner, leaseUntil }, true);
    return { ...held, leaseUntil };
  }

  /** Releases a held lease, unless it has expired (another run may hold the next generation by then). */
  async release(held: HeldLease): Promise<void> {
    if (held.leaseUntil - CLOCK_SKEW_MS <= this.now()) return;
    await this.write(held.generation, { state: 'released', owner: held.owner, leaseUntil: 0 }, true);
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

/** A lease this run holds. */
export interface HeldLease {
  readonly generation: number;
  readonly owner: string;
  /** Ms since the epoch; the holder starts no work after it. */
  readonly leaseUntil: number;
}

/** What `RunLease.acquire` found. */
export type LeaseResult = ({ readonly kind: 'held' } & HeldLease) | { readonly kind: 'busy'; readonly leaseUntil: number };

/** The stored state of one generation. */
interface LeaseRecord {
  readonly state: 'held' | 'released';
  readonly owner: string;
  readonly leaseUntil: number;
}

/** Clocks of two Lambda environments differ by far less than this (they are NTP-synchronised). */
export const CLOCK_SKEW_MS = 5_000;
/** Digits of a generation in a record name. */
const GENERATION_DIGITS = 10;

/** The lease path of a handler whose metrics `service` is `serviceName` (unique per construct). */
export function leasePath(serviceName: string): string {
  return `${RUN_LEASE_PATH_PREFIX}/${serviceName}`;
}
