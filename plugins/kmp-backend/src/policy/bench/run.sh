#!/usr/bin/env bash
# yarn bench:policy — throughput of the in-process policy evaluator against
# bare cel-js, and p99 latency of POST /api/kmp/policies/evaluate, with the
# repository's Node. TypeScript runs through Backstage's own Node transform
# (@backstage/cli/config/nodeTransform.cjs, SWC), as `backstage-cli package
# start` does.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../../../../.."
source scripts/bootstrap.sh
kmp_ensure_node
NODE_ENV=production exec node --require @backstage/cli/config/nodeTransform.cjs \
  plugins/kmp-backend/src/policy/bench/policyBench.ts "$@"
