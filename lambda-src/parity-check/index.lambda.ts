import { createHandler } from './handler';

/**
 * The ConfigParityCheck Lambda entry point. Configuration is read at cold start; SDK clients are
 * created once per region and reused across invocations.
 */
export const handler = createHandler(process.env);
