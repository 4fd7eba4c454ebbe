#!/usr/bin/env bash
# Starts the portal on its embedded defaults: frontend on :3000, backend on
# :7007, SQLite under .cache/, and a demo fleet of three real Kubernetes
# control planes (kube-testbed) registered in KMP. Sets up Node 22,
# dependencies and the control-plane binary on first run.
# KMP_DEMO_FLEET=0 starts the portal without the fleet.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/bootstrap.sh"
kmp_bootstrap
mkdir -p "$KMP_ROOT/.cache/sqlite"
cd "$KMP_ROOT"

# A per-checkout key for the registry's credential encryption, made once.
key_file="$KMP_ROOT/.cache/kmp-encryption-key"
if [ -z "${KMP_ENCRYPTION_KEY:-}" ]; then
  [ -s "$key_file" ] || (umask 077 && node -e 'process.stdout.write(require("crypto").randomBytes(32).toString("base64"))' >"$key_file")
  KMP_ENCRYPTION_KEY="$(cat "$key_file")"
  export KMP_ENCRYPTION_KEY
fi

configs=(--config app-config.yaml)
if [ "${KMP_DEMO_FLEET:-1}" != 0 ]; then
  fleet_dir="$KMP_ROOT/.cache/demo-fleet"
  fleet_log="$KMP_ROOT/.cache/demo-fleet.log"
  mkdir -p "$fleet_dir"
  kmp_log "starting the demo fleet (kube-testbed; the first run builds it, which takes minutes)"
  yarn workspace @kmp/kube-testbed testbed start \
    --clusters payments-prod-eu1,payments-dev-eu1,retail-store-0042 \
    --dir "$fleet_dir" --fixtures --minimal-crds --token >"$fleet_log" 2>&1 &
  fleet_pid=$!
  trap 'kill "$fleet_pid" 2>/dev/null; wait "$fleet_pid" 2>/dev/null' EXIT
  until grep -q 'Ctrl-C to stop' "$fleet_log" 2>/dev/null; do
    kill -0 "$fleet_pid" 2>/dev/null || kmp_die "the demo fleet did not start; see $fleet_log"
    sleep 1
  done
  node packages/backend/demo/demoFleetConfig.js "$fleet_dir" "$KMP_ROOT/.cache/app-config.demo-fleet.yaml"
  configs+=(--config .cache/app-config.demo-fleet.yaml)
fi

yarn start "${configs[@]}" "$@"
