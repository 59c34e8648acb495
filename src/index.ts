export * from './common';
export * from './secret-replicator';
