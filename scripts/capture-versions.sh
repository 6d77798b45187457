#!/usr/bin/env bash
# Regenerates tests/fixtures/versions/ from the real servers in .tools/servers (installed by
# `source scripts/setup.sh test`). Options: see `scripts/capture-versions.sh --help`.
set -euo pipefail
cd "$(dirname "$0")/.."
exec python3 scripts/capture_versions.py "$@"
