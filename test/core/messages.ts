/**
 * The exact validation error a construct at `path` raises with `message`: `toThrow(at(path, message))`
 * compares the whole message (a string argument would only look for a substring).
 */
export function at(path: string, message: string): Error {
  return new Error(`${path}: ${message}`);
}
