export * from './configmap-syncer';
export * from './metric-options';
