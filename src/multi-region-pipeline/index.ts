export * from './multi-region-pipeline';
export * from './pipeline-source';
export * from './deployment-strategy';
export * from './health-check';
export * from './metric-options';
