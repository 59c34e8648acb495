export * from '../core/ignore-rule';
