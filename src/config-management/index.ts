export * from './cross-region-config-management';
