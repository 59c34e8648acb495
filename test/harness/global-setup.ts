import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { KUBE_APISERVER_BIN_ENV, kubeApiserverBinary } from './kube';
import { MOTO_SERVER_BIN, REPO_ROOT } from './moto';

const SETUP_SCRIPT = path.join(REPO_ROOT, '.ci', 'setup-moto.sh');
/** Written by the script after a successful install; holds the installed moto version. */
const VERSION_STAMP = path.join(REPO_ROOT, '.venv-moto', 'moto-version');

/**
 * jest globalSetup: makes sure the moto emulator is installed and the kube-apiserver-local binary
 * is built, so a fresh clone just works.
 *
 * Runs `bash .ci/setup-moto.sh` (about a minute, once) when `.venv-moto/bin/moto_server` is missing
 * or the version the script last installed differs from the version it pins. It starts no server:
 * each integration test file starts its own with `startMotoServer()`, isolated per jest worker.
 */
export default async function globalSetup(): Promise<void> {
  locateKubeApiserver();
  if (isInstalled()) return;
  const result = spawnSync('bash', [SETUP_SCRIPT], { cwd: REPO_ROOT, stdio: 'inherit' });
  if (result.status !== 0) {
    const cause = result.error?.message ?? (result.signal ? `killed by ${result.signal}` : `exit code ${result.status}`);
    throw new Error(
      `could not install the moto emulator into .venv-moto (bash .ci/setup-moto.sh failed: ${cause}). ` +
      'Handler integration tests need Python 3 with the venv module and access to PyPI; ' +
      'fix that, then run `bash .ci/setup-moto.sh` from the repository root to see the full error.',
    );
  }
}

function isInstalled(): boolean {
  if (!fs.existsSync(MOTO_SERVER_BIN)) return false;
  const pinned = /^MOTO_VERSION='([^']+)'/m.exec(fs.readFileSync(SETUP_SCRIPT, 'utf8'))?.[1];
  const installed = fs.existsSync(VERSION_STAMP) ? fs.readFileSync(VERSION_STAMP, 'utf8').trim() : undefined;
  return pinned !== undefined && installed === pinned;
}

/**
 * Builds kube-apiserver-local with `build.sh` (~15 minutes cold, once per machine; instant when
 * cached under ~/.cache/kube-apiserver-local) and hands its path to the workers in
 * KUBE_APISERVER_LOCAL_BIN. Only the Kubernetes integration tests need it, so a failure (no Go
 * toolchain, no module proxy) is reported but fails nothing else; those tests then fail naming it.
 */
function locateKubeApiserver(): void {
  try {
    process.env[KUBE_APISERVER_BIN_ENV] = kubeApiserverBinary();
  } catch (e) {
    process.stderr.write(`global setup: ${(e as Error).message}; the Kubernetes integration tests will fail\n`);
  }
}
