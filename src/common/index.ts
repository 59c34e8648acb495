export * from './dashboard-options';
export * from './handler-options';
export * from './kubernetes-cluster';
