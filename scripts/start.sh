#!/usr/bin/env bash
# Starts the portal on its embedded defaults: frontend on :3000, backend on
# :7007, SQLite under .cache/. Sets up Node 22 and dependencies on first run.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/bootstrap.sh"
kmp_bootstrap
mkdir -p "$KMP_ROOT/.cache/sqlite"
# A per-checkout key for the registry's credential encryption, made once.
key_file="$KMP_ROOT/.cache/kmp-encryption-key"
if [ -z "${KMP_ENCRYPTION_KEY:-}" ]; then
  [ -s "$key_file" ] || (umask 077 && node -e 'process.stdout.write(require("crypto").randomBytes(32).toString("base64"))' >"$key_file")
  KMP_ENCRYPTION_KEY="$(cat "$key_file")"
  export KMP_ENCRYPTION_KEY
fi
cd "$KMP_ROOT"
exec yarn start "$@"
