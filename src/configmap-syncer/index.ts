export * from './configmap-syncer';
