import { createHandler } from './handler';

/**
 * The MultiRegionPipeline Lambda entry point, shared by its three functions (health check, traffic
 * switch, pipeline watcher); `PIPELINE_FUNCTION_ROLE` says which one this is. Configuration is read
 * at cold start; SDK clients are created once and reused across invocations.
 */
export const handler = createHandler(process.env);
