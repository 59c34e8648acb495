export * from './core';
export * from './secret-replicator';
export * from './parameter-replicator';
export * from './drift-detector';
export * from './configmap-syncer';
export * from './multi-region-pipeline';
export * from './config-management';
export * from './dashboard';
