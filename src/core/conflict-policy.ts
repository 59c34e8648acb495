/**
 * What the replicator does when a replica was changed in its own region since the last copy
 * (its current version is not the one the replicator wrote).
 *
 * @example
 * declare const selection: SecretSelection;
 * new CrossRegionSecretReplicator(this, 'Replicator', {
 *   secrets: selection,
 *   replicaRegions: ['eu-west-1'],
 *   conflictPolicy: ConflictPolicy.SKIP_AND_ALARM,
 * });
 */
export class ConflictPolicy {
  /**
   * The primary is the source of truth: overwrite the changed replica and count the conflict in the
   * `Conflicts` metric. Replicas converge on every run.
   */
  public static readonly PRIMARY_WINS = new ConflictPolicy('PRIMARY_WINS');

  /**
   * Leave the changed replica as it is, count the conflict in the `Conflicts` metric and raise the
   * conflicts alarm, so an operator decides which value wins.
   */
  public static readonly SKIP_AND_ALARM = new ConflictPolicy('SKIP_AND_ALARM');

  /**
   * @param name wire name passed to the handler (`PRIMARY_WINS` or `SKIP_AND_ALARM`)
   */
  private constructor(public readonly name: string) {}

  /** The wire name. */
  public toString(): string {
    return this.name;
  }
}
