import { createHandler } from './handler';

/**
 * The CrossRegionParameterReplicator Lambda entry point. Configuration is read at cold start (or
 * from the settings document on the first invocation); SDK clients are created once per region and
 * reused across invocations.
 */
export const handler = createHandler(process.env);
