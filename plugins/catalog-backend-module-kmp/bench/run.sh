#!/usr/bin/env bash
# yarn bench:registry — runs the registry → catalog benchmark with the repository's Node.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../../.."
source scripts/bootstrap.sh
kmp_ensure_node
NODE_ENV=production exec node --require @backstage/cli/config/nodeTransform.cjs \
  plugins/catalog-backend-module-kmp/bench/registryBench.ts
