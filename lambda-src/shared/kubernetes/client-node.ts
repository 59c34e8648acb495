/**
 * The parts of `@kubernetes/client-node` the handlers use. Load it with {@link clientNode}
 * (./load.ts), never with a static import: the bundlers then evaluate the client's modules on
 * first use instead of at every cold start.
 */
export { ApiException, CoreV1Api, HttpMethod, IsomorphicFetchHttpLibrary, RequestContext, KubeConfig, Observable, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
