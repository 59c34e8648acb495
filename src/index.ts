export * from './common';
export * from './secret-replicator';
export * from './drift-detector';
