#!/usr/bin/env bash
# Starts the portal on its embedded defaults: frontend on :3000, backend on
# :7007, SQLite under .cache/. Sets up Node 22 and dependencies on first run.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/bootstrap.sh"
kmp_bootstrap
mkdir -p "$KMP_ROOT/.cache/sqlite"
cd "$KMP_ROOT"
exec yarn start "$@"
