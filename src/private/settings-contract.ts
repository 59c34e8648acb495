/**
 * The contract between `HandlerSettings` (src/private/handler-settings.ts) and the handlers' shared
 * settings loader (lambda-src/shared/settings.ts): how a handler's configuration that outgrows
 * Lambda's 4 KB environment is stored in SSM parameters and found again. Internal: not exported
 * from the package entry point. Handlers import it as types and constants only.
 */

/** Environment variable holding the JSON `SettingsDocumentReference`; absent when every setting is in the environment. */
export const SETTINGS_DOCUMENT_ENV = 'SETTINGS_DOCUMENT';

/**
 * Path under which every settings document of this library is written, one sub-path per function:
 * `<root>/<stack name>/<function's unique id>/<deployment version>/<chunk index>`. The drift
 * detector and the ConfigMap syncer never read parameters below it.
 */
export const SETTINGS_PARAMETER_ROOT = '/cdk-cross-region-config';

/** First line of every chunk: `<SETTINGS_CHUNK_MAGIC> <version> <index>/<count>`, then a newline and the data. */
export const SETTINGS_CHUNK_MAGIC = 'cdk-cross-region-config/settings/v1';

/**
 * Where a function's settings document is and which deployment wrote it. The handler reads every
 * parameter directly under `path` (GetParametersByPath, not recursive) once per cold start.
 */
export interface SettingsDocumentReference {
  /** Parameter path of this deployment's chunks (ends with the version). */
  readonly path: string;
  /** Deployment version: a hash of the document as CloudFormation renders it; every chunk carries it. */
  readonly version: string;
  /** Number of chunks, named `<path>/0` to `<path>/<chunks - 1>`. */
  readonly chunks: number;
  /** Environment variables the document holds (each a JSON value in the document). */
  readonly variables: string[];
}
