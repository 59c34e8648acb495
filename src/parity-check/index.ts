export * from './config-parity-check';
