import type * as ClientNode from './client-node';

let loaded: typeof ClientNode | undefined;

/**
 * `@kubernetes/client-node`, evaluated on first use. Its modules (the generated API, about 700
 * model classes, undici) take about as long to load as everything else in a handler bundle
 * together: a drift detector that scans no ConfigMaps never loads them, and a handler that does
 * loads them when it creates its {@link KubernetesAccess} at cold start.
 *
 * esbuild turns a `require()` of an ES module into a lazily evaluated one (a static `import` would
 * be evaluated when the bundle loads), and still tree-shakes it to the names ./client-node.ts
 * re-exports.
 */
export function clientNode(): typeof ClientNode {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  loaded ??= require('./client-node') as typeof ClientNode;
  return loaded;
}
