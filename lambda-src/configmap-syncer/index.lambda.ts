import { createHandler } from './handler';

/**
 * The ConfigMapSyncer Lambda entry point. Configuration is read at cold start; SDK clients and
 * the clusters' Kubernetes clients (with their token caches) are created once and reused across
 * invocations.
 */
export const handler = createHandler(process.env);
