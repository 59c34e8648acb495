export * from './handler-options';
export * from './kubernetes-cluster';
