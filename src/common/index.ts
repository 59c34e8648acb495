export * from './handler-options';
