/**
 * An error the syncer raises itself, named for the summary (`errorName`) and with a message that
 * is value-free by construction, so both may be logged and returned.
 */
export class SyncError extends Error {
  constructor(name: string, message: string) {
    super(message);
    this.name = name;
  }
}
