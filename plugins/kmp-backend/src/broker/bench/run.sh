#!/usr/bin/env bash
# yarn bench:broker — direct vs KMP broker vs stock kubernetes-backend proxy
# against one testbed cluster, with the repository's Node.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../../../../.."
source scripts/bootstrap.sh
kmp_ensure_node
NODE_ENV=production exec node --require @backstage/cli/config/nodeTransform.cjs \
  plugins/kmp-backend/src/broker/bench/brokerBench.ts
