#!/usr/bin/env bash
# yarn bench:audit — runs the audit benchmark with the repository's Node,
# starting a private PostgreSQL when none is configured.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../../../../.."
source scripts/bootstrap.sh
kmp_ensure_node
source scripts/lib/postgres.sh
# Stop only a server this script started.
unset KMP_PG_STOP
kmp_postgres_start
trap kmp_postgres_stop EXIT
NODE_ENV=production node --require @backstage/cli/config/nodeTransform.cjs \
  plugins/kmp-backend/src/audit/bench/auditBench.ts
