'use strict';
// Stands in, inside the handler bundles only, for the packages of @kubernetes/client-node that
// serve features the handlers never use (see KUBERNETES_CLIENT_UNUSED in .projenrc.ts): WebSocket
// exec/attach/port-forward, `kubectl cp`, SOCKS proxies, OIDC/Azure/GCP auth providers and
// kubeconfig YAML. The client's modules import them at load; nothing the handlers call reaches
// them. Reaching one anyway fails loudly, naming no value.
function notBundled() {
  throw new Error('this part of @kubernetes/client-node is not bundled into the handler');
}
module.exports = new Proxy(notBundled, {
  get(target, property) {
    if (property === '__esModule') return false;
    if (property === 'default') return module.exports;
    return property in target ? target[property] : notBundled;
  },
});
