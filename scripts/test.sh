#!/usr/bin/env bash
# Runs everything: type check, lint, formatting, and the unit and integration
# tests of every package against SQLite and a real PostgreSQL. Sets up what it
# needs (Node 22, dependencies, PostgreSQL) on a fresh machine.
# The last line is the plain summary "N passed, N failed".
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/bootstrap.sh"
source "$KMP_ROOT/scripts/lib/postgres.sh"

results_dir="$KMP_ROOT/.cache/test-results"
mkdir -p "$results_dir"
passed=0
failed=0
timings=()

phase() {
  local name="$1" start end
  shift
  kmp_log "── $name"
  start=$(date +%s)
  if "$@"; then
    passed=$((passed + 1))
    status=ok
  else
    failed=$((failed + 1))
    status=FAILED
  fi
  end=$(date +%s)
  timings+=("$(printf '%-12s %4ss  %s' "$name" "$((end - start))" "$status")")
}

count_jest() {
  # Adds jest's per-test counts to the totals (the suite phase itself is not counted twice).
  local file="$1" counts
  [ -f "$file" ] || return 0
  counts="$(node -e '
    const r = require(process.argv[1]);
    const broken = r.testResults.filter(t => t.status === "failed" && t.assertionResults.length === 0).length;
    console.log(r.numPassedTests, r.numFailedTests + broken);
  ' "$file")"
  passed=$((passed + ${counts% *}))
  failed=$((failed + ${counts#* }))
}

run_jest() {
  rm -f "$results_dir/jest.json"
  (cd "$KMP_ROOT" && CI=true yarn backstage-cli repo test --json --outputFile="$results_dir/jest.json" "$@")
}

trap kmp_postgres_stop EXIT
# There is no container engine here: TestDatabases uses the PostgreSQL started below.
export BACKSTAGE_TEST_DISABLE_DOCKER=1
total_start=$(date +%s)

phase bootstrap kmp_bootstrap
[ "$failed" = 0 ] || { echo "0 passed, 1 failed"; exit 1; }
phase postgres kmp_postgres_start
# Builds (or finds in ~/.cache/kmp) the Kubernetes control plane the
# integration tests start; a cold build takes minutes, a warm one none.
phase testbed bash -c "cd '$KMP_ROOT' && yarn workspace @kmp/kube-testbed testbed build"
# The portal's end-to-end tests (packages/e2e) run the production build of
# the app, served by the backend; rebuilt only when its sources changed.
phase app-build bash -c "cd '$KMP_ROOT' && node packages/e2e/bin/ensure-app-build"
phase typecheck bash -c "cd '$KMP_ROOT' && yarn tsc"
phase lint bash -c "cd '$KMP_ROOT' && yarn backstage-cli repo lint"
phase prettier bash -c "cd '$KMP_ROOT' && yarn prettier --check --loglevel warn ."

# The suite phase is reported by its tests, not as a check of its own.
suite_start=$(date +%s)
kmp_log "── tests"
run_jest "$@"
jest_status=$?
count_jest "$results_dir/jest.json"
if [ "$jest_status" != 0 ] && [ ! -s "$results_dir/jest.json" ]; then
  failed=$((failed + 1))
fi
timings+=("$(printf '%-12s %4ss  %s' tests "$(($(date +%s) - suite_start))" "exit $jest_status")")

kmp_postgres_stop
echo
kmp_log "phase timings (total $(($(date +%s) - total_start))s):"
printf '  %s\n' "${timings[@]}" >&2
echo "$passed passed, $failed failed"
[ "$failed" = 0 ] && [ "$jest_status" = 0 ]
