import {
  DeleteParametersCommand, GetParameterCommand, paginateGetParametersByPath, ParameterTier, PutParameterCommand,
} from '@aws-sdk/client-ssm';
import type { SSMClient } from '@aws-sdk/client-ssm';

/**
 * Idempotency records of the coordinated rollback: one record per failed execution and stage, so
 * that one failure rolls each stage back once, even when two invocations (a redelivered event, a
 * retry) handle it at the same time.
 *
 * A record is a chain of create-only claims, `<path>/<execution>/<stage>/<generation>`. Creating
 * generation 1 (a conditional write: Systems Manager's PutParameter without Overwrite fails with
 * ParameterAlreadyExists) makes an invocation the only one allowed to roll the stage back. The
 * holder then overwrites its own claim with the outcome (`done`), or with `released` when it could
 * not roll back, so that the next invocation may claim generation 2 and try again. A claim whose
 * holder died keeps a lease: once it has expired, the next generation may be claimed. A holder
 * never starts a RollbackStage after its own deadline, which is earlier than its lease.
 */

/** The stored state of one claim (JSON, value-free: ids, names and outcomes). */
export type ClaimRecord =
  | { readonly state: 'claimed'; readonly owner: string; readonly leaseUntil: number }
  | { readonly state: 'released'; readonly owner: string }
  | { readonly state: 'done'; readonly owner: string; readonly outcome: string; readonly rollbackExecutionId?: string };

/**
 * Where the claims are kept: create-only writes, reads, the holder's overwrite and the removal of
 * old records. Systems Manager Parameter Store in production; tests also use an in-memory one.
 */
export interface ClaimStore {
  /** Creates `name` unless it exists; false when it already exists. */
  create(name: string, value: string): Promise<boolean>;
  /** The value of `name`, or undefined when there is none. */
  read(name: string): Promise<string | undefined>;
  /** Replaces the value of `name` (only the holder of a claim does this). */
  overwrite(name: string, value: string): Promise<void>;
  /** Deletes records under `path` last written before `before` (ms since the epoch); returns how many. */
  deleteOlderThan(path: string, before: number): Promise<number>;
}

/** What claiming a stage found. */
export type ClaimResult =
  /** This invocation holds the claim and may roll the stage back. */
  | { readonly kind: 'held'; readonly claim: HeldClaim }
  /** Another invocation rolled the stage back (or decided not to): its outcome. */
  | { readonly kind: 'done'; readonly record: Extract<ClaimRecord, { state: 'done' }> }
  /** Another invocation holds a live claim. */
  | { readonly kind: 'busy'; readonly leaseUntil: number };

/** A claim this invocation holds. */
export interface HeldClaim {
  readonly name: string;
  readonly owner: string;
}

/**
 * Generations tried before giving up: each one is a holder that released the stage or died, so
 * this many in a row means something else is wrong.
 */
const MAX_GENERATIONS = 50;
/** DeleteParameters takes at most 10 names. */
const DELETE_BATCH = 10;
/** GetParametersByPath page size (the API's maximum). */
const PAGE_SIZE = 10;
/** Pages of old records looked at per clean-up, so one invocation's clean-up stays short. */
const MAX_CLEANUP_PAGES = 20;

/**
 * The name prefix of one stage's claims. Execution ids are UUIDs; a stage name may hold `@`,
 * which Parameter Store names do not allow, so `_` and `@` are written as `_5f` and `_40`.
 *
 * @example
 * claimPrefix('/cdk-cross-region-config/pipeline/orders/rollback-claims', '3f7c...', 'eu-west-1@blue');
 * // '/cdk-cross-region-config/pipeline/orders/rollback-claims/3f7c.../eu-west-1_40blue'
 */
export function claimPrefix(path: string, failedExecutionId: string, stage: string): string {
  const safe = (text: string) => text.replace(/[^A-Za-z0-9.-]/g, (c) => `_${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
  return `${path}/${safe(failedExecutionId)}/${safe(stage)}`;
}

/**
 * Claims the rollback of `stage` for the failure of `failedExecutionId`: the first free generation,
 * or the outcome another invocation recorded, or `busy` while another holds a live claim.
 */
export async function claimStage(
  store: ClaimStore, path: string, failedExecutionId: string, stage: string, owner: string, leaseUntil: number, now: number,
): Promise<ClaimResult> {
  const prefix = claimPrefix(path, failedExecutionId, stage);
  let generation = 1;
  for (let attempt = 1; generation <= MAX_GENERATIONS && attempt <= 2 * MAX_GENERATIONS; attempt++) {
    const name = `${prefix}/${generation}`;
    const claimed: ClaimRecord = { state: 'claimed', owner, leaseUntil };
    if (await store.create(name, JSON.stringify(claimed))) return { kind: 'held', claim: { name, owner } };
    const existing = parseRecord(await store.read(name));
    // Deleted between our write and our read (an old record's clean-up): try the same generation again.
    if (existing === undefined) continue;
    if (existing.state === 'done') return { kind: 'done', record: existing };
    if (existing.state === 'claimed' && existing.leaseUntil > now) return { kind: 'busy', leaseUntil: existing.leaseUntil };
    // Released, or claimed by an invocation whose lease has run out: the next generation is free to claim.
    generation++;
  }
  throw new Error(`the rollback of stage ${stage} was claimed ${MAX_GENERATIONS} times without an outcome`);
}

/** Records the outcome of a held claim: later claims of the same stage and failure get it instead. */
export async function completeClaim(store: ClaimStore, claim: HeldClaim, outcome: string, rollbackExecutionId?: string): Promise<void> {
  const record: ClaimRecord = { state: 'done', owner: claim.owner, outcome, ...(rollbackExecutionId ? { rollbackExecutionId } : {}) };
  await store.overwrite(claim.name, JSON.stringify(record));
}

/** Gives a held claim up without an outcome, so that a retry may claim the stage at once. */
export async function releaseClaim(store: ClaimStore, claim: HeldClaim): Promise<void> {
  const record: ClaimRecord = { state: 'released', owner: claim.owner };
  await store.overwrite(claim.name, JSON.stringify(record));
}

function parseRecord(value: string | undefined): ClaimRecord | undefined {
  if (value === undefined) return undefined;
  let parsed: any;
  try {
    parsed = JSON.parse(value);
  } catch {
    throw new Error('a rollback claim is not JSON; it was not written by this function');
  }
  if (parsed?.state === 'done' && typeof parsed.outcome === 'string') return parsed;
  if (parsed?.state === 'released') return parsed;
  if (parsed?.state === 'claimed' && typeof parsed.leaseUntil === 'number') return parsed;
  throw new Error('a rollback claim has an unknown shape; it was not written by this function');
}

/**
 * Claims kept as Standard-tier Systems Manager parameters (no charge) under one path. The
 * create-only write is PutParameter without Overwrite; Parameter Store refuses a second one with
 * ParameterAlreadyExists, atomically.
 */
export class SsmClaimStore implements ClaimStore {
  constructor(private readonly ssm: SSMClient) {}

  async create(name: string, value: string): Promise<boolean> {
    try {
      await this.ssm.send(new PutParameterCommand({ Name: name, Value: value, Type: 'String', Tier: ParameterTier.STANDARD, Overwrite: false }));
      return true;
    } catch (e) {
      if ((e as Error).name === 'ParameterAlreadyExists') return false;
      throw e;
    }
  }

  async read(name: string): Promise<string | undefined> {
    try {
      const out = await this.ssm.send(new GetParameterCommand({ Name: name }));
      return out.Parameter?.Value;
    } catch (e) {
      if ((e as Error).name === 'ParameterNotFound') return undefined;
      throw e;
    }
  }

  async overwrite(name: string, value: string): Promise<void> {
    await this.ssm.send(new PutParameterCommand({ Name: name, Value: value, Type: 'String', Tier: ParameterTier.STANDARD, Overwrite: true }));
  }

  async deleteOlderThan(path: string, before: number): Promise<number> {
    const old: string[] = [];
    let pages = 0;
    for await (const page of paginateGetParametersByPath({ client: this.ssm, pageSize: PAGE_SIZE }, { Path: path, Recursive: true })) {
      for (const p of page.Parameters ?? []) {
        if (p.Name && p.LastModifiedDate && p.LastModifiedDate.getTime() < before) old.push(p.Name);
      }
      if (++pages >= MAX_CLEANUP_PAGES) break;
    }
    for (let i = 0; i < old.length; i += DELETE_BATCH) {
      await this.ssm.send(new DeleteParametersCommand({ Names: old.slice(i, i + DELETE_BATCH) }));
    }
    return old.length;
  }
}
