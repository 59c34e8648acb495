import { ERRORFILE_ENV } from 'aws-cdk-lib/cx-api';

/**
 * Reads a value that aws-cdk-lib may refuse with one of its validation errors, and returns
 * `undefined` instead. Constructing such an error writes its code to the file the CDK CLI names in
 * `CDK_ERROR_FILE`, even when the error is caught; the CLI then reports an error after a successful
 * synth. The variable is set aside for the (synchronous) read and restored afterwards.
 */
export function readQuietly<T>(read: () => T): T | undefined {
  const errorFile = process.env[ERRORFILE_ENV];
  delete process.env[ERRORFILE_ENV];
  try {
    return read();
  } catch {
    return undefined;
  } finally {
    if (errorFile !== undefined) process.env[ERRORFILE_ENV] = errorFile;
  }
}
