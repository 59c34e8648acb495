export * from './config-drift-detector';
export * from './ignore-rule';
export * from './remediation-mode';
export * from './metric-options';
