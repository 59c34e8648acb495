export * from './parameter-replicator';
export * from './parameter-selection';
export * from './metric-options';
