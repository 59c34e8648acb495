// Part of the test harness: a jest transformer for the ES-module-only packages in node_modules
// (@kubernetes/client-node and the few of its dependencies that ship no CommonJS build).
//
// Jest runs tests as CommonJS, and on Node 22 (the Lambda runtime) it cannot require() an ES
// module. The handlers get these packages bundled by esbuild; the tests get each file rewritten
// to CommonJS by the same esbuild, one file at a time, and cached by jest like any transform.
// Which packages are rewritten is set by transformIgnorePatterns in .projenrc.ts.
const { createHash } = require('node:crypto');
const esbuild = require('esbuild');

/** The Node major the handlers run on (Lambda nodejs22.x). */
const TARGET = 'node22';

module.exports = {
  process(sourceText, sourcePath) {
    const { code, map } = esbuild.transformSync(sourceText, {
      format: 'cjs',
      loader: sourcePath.endsWith('.json') ? 'json' : 'js',
      platform: 'node',
      target: TARGET,
      sourcefile: sourcePath,
      sourcemap: 'external',
    });
    return { code, map };
  },
  getCacheKey(sourceText, sourcePath) {
    return createHash('sha256').update(`${esbuild.version}\0${TARGET}\0${sourcePath}\0${sourceText}`).digest('hex');
  },
};
