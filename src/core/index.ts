export * from './dashboard-options';
export * from './handler-options';
export * from './kubernetes-cluster';
export * from './secret-selection';
export * from './replica-kms-key';
export * from './conflict-policy';
export * from './secret-replicator-ref';
export * from './parameter-override';
