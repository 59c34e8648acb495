export * from './cross-region-config-dashboard';
