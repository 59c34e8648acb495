export * from './configmap-syncer';
export * from './kubernetes-permissions';
export * from './metric-options';
export * from './rollout-options';
