import type { ClaimStore } from '../../lambda-src/multi-region-pipeline/rollback-claims';

/**
 * An in-memory ClaimStore with Parameter Store's semantics: a create of an existing name fails
 * (ParameterAlreadyExists), an overwrite replaces. The moto-backed tests prove SsmClaimStore keeps
 * them; this one lets the interleaving tests put a scheduler point before every call.
 */
export class MemoryClaimStore implements ClaimStore {
  readonly records = new Map<string, { value: string; modified: number }>();
  /** Every call in order, for assertions. */
  readonly calls: Array<{ op: 'create' | 'read' | 'overwrite' | 'deleteOlderThan'; name: string; ok?: boolean }> = [];

  constructor(
    /** Runs before each call: a scheduler point for interleaving tests. */
    private readonly before: () => Promise<void> = async () => undefined,
    /** The clock of the modification times, in ms. */
    private readonly now: () => number = Date.now,
  ) {}

  async create(name: string, value: string): Promise<boolean> {
    await this.before();
    const ok = !this.records.has(name);
    if (ok) this.records.set(name, { value, modified: this.now() });
    this.calls.push({ op: 'create', name, ok });
    return ok;
  }

  async read(name: string): Promise<string | undefined> {
    await this.before();
    this.calls.push({ op: 'read', name });
    return this.records.get(name)?.value;
  }

  async overwrite(name: string, value: string): Promise<void> {
    await this.before();
    this.calls.push({ op: 'overwrite', name });
    this.records.set(name, { value, modified: this.now() });
  }

  async deleteOlderThan(path: string, before: number): Promise<number> {
    await this.before();
    this.calls.push({ op: 'deleteOlderThan', name: path });
    let removed = 0;
    for (const [name, record] of this.records) {
      if (name.startsWith(`${path}/`) && record.modified < before) {
        this.records.delete(name);
        removed++;
      }
    }
    return removed;
  }
}
