#!/usr/bin/env bash
# Creates <repo>/.venv-moto with the pinned moto server that the handler integration tests run
# against (test/harness/moto.ts). Idempotent: does nothing when the venv already has the pinned
# version. jest's global setup runs it when the venv is missing. Usage: bash .ci/setup-moto.sh
set -euo pipefail

# moto >= 5.1.12 is required; pinned exactly so every machine and CI run test the same emulator.
# test/harness/global-setup.ts reads this line to notice a bumped pin.
MOTO_VERSION='5.2.5'

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="${repo_root}/.venv-moto"
# Cheap marker for global-setup, so a jest run need not start Python to learn the version.
stamp="${venv}/moto-version"

installed_version() {
  "${venv}/bin/python" -m pip show moto 2>/dev/null | sed -n 's/^Version: //p'
}

if [[ -x "${venv}/bin/moto_server" && "$(installed_version)" == "${MOTO_VERSION}" ]]; then
  echo "${MOTO_VERSION}" > "${stamp}"
  echo "setup-moto: moto ${MOTO_VERSION} already installed in .venv-moto, nothing to do"
  exit 0
fi

if [[ ! -x "${venv}/bin/python" ]]; then
  python3 -m venv "${venv}"
fi
"${venv}/bin/python" -m pip install --quiet --disable-pip-version-check "moto[server]==${MOTO_VERSION}"

if [[ ! -x "${venv}/bin/moto_server" || "$(installed_version)" != "${MOTO_VERSION}" ]]; then
  echo "setup-moto: installing moto[server]==${MOTO_VERSION} did not produce .venv-moto/bin/moto_server" >&2
  exit 1
fi
echo "${MOTO_VERSION}" > "${stamp}"
echo "setup-moto: installed moto ${MOTO_VERSION} into .venv-moto"
