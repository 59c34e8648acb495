export * from './configmap-syncer';
export * from './metric-options';
export * from './rollout-options';
