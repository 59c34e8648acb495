export * from './secret-replicator';
export * from './metric-options';
