export * from './conflict-policy';
export * from './secret-selection';
export * from './secret-replicator';
