#!/usr/bin/env bash
# Creates <repo>/.cache/cfn-lint-venv with the pinned cfn-lint that test/rules/cfn-lint.test.ts runs
# over every template the tests synthesize. Idempotent: does nothing when the venv already has the
# pinned version. Called by .ci/bootstrap; the test runs it too when the venv is missing.
# Usage: bash .ci/setup-cfn-lint.sh
set -euo pipefail

# Pinned exactly so every machine and CI run apply the same rules and resource specifications.
# test/rules/cfn-lint.test.ts reads this line to notice a bumped pin.
CFN_LINT_VERSION='1.58.0'

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="${repo_root}/.cache/cfn-lint-venv"

installed_version() {
  "${venv}/bin/cfn-lint" --version 2>/dev/null | sed -n 's/^cfn-lint //p'
}

if [[ -x "${venv}/bin/cfn-lint" && "$(installed_version)" == "${CFN_LINT_VERSION}" ]]; then
  echo "setup-cfn-lint: cfn-lint ${CFN_LINT_VERSION} already installed in .cache/cfn-lint-venv, nothing to do"
  exit 0
fi

if [[ ! -x "${venv}/bin/python" ]]; then
  mkdir -p "$(dirname "${venv}")"
  python3 -m venv "${venv}"
fi
"${venv}/bin/python" -m pip install --quiet --disable-pip-version-check "cfn-lint==${CFN_LINT_VERSION}"

if [[ "$(installed_version)" != "${CFN_LINT_VERSION}" ]]; then
  echo "setup-cfn-lint: installing cfn-lint==${CFN_LINT_VERSION} did not produce .cache/cfn-lint-venv/bin/cfn-lint ${CFN_LINT_VERSION}" >&2
  exit 1
fi
echo "setup-cfn-lint: installed cfn-lint ${CFN_LINT_VERSION} into .cache/cfn-lint-venv"
