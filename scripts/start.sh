#!/usr/bin/env bash
# Starts the portal on its embedded defaults: frontend on :3000, backend on
# :7007, SQLite under .cache/, and a demo fleet of three real Kubernetes
# control planes (kube-testbed) registered in KMP. Sets up Node 22,
# dependencies and the control-plane binary on first run.
# KMP_DEMO_FLEET=0 starts the portal without the fleet.
# The demo identity provider (packages/demo-idp, http://localhost:7010) signs
# in the demo users alice, oscar, petra and eddie (password = username, demo
# only); KMP_DEMO_IDP=0 leaves guest sign-in only.
# The demo GitOps repositories (a local Git server on 127.0.0.1:7020, one
# repository per environment group) receive golden-path, portal and policy
# publications; KMP_DEMO_GITOPS=0 leaves GitOps unconfigured.
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

# Background services of the demo, stopped when this script exits.
service_pids=()
stop_services() {
  local pid
  for pid in "${service_pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${service_pids[@]}"; do wait "$pid" 2>/dev/null || true; done
}
trap stop_services EXIT

if [ "${KMP_DEMO_IDP:-1}" != 0 ]; then
  idp_port="${KMP_DEMO_IDP_PORT:-7010}"
  idp_log="$KMP_ROOT/.cache/demo-idp.log"
  idp_config="$KMP_ROOT/.cache/app-config.demo-idp.yaml"
  rm -f "$idp_config"
  kmp_log "starting the demo identity provider on http://localhost:$idp_port"
  # Writes the Backstage auth config (oidc client secret, session secret,
  # both new on every start) for this provider into .cache/.
  yarn workspace @kmp/demo-idp start --port "$idp_port" \
    --backstage-config "$idp_config" >"$idp_log" 2>&1 &
  service_pids+=($!)
  until grep -q 'ready, Ctrl-C to stop' "$idp_log" 2>/dev/null; do
    kill -0 "${service_pids[-1]}" 2>/dev/null || kmp_die "the demo identity provider did not start; see $idp_log"
    sleep 0.5
  done
  configs+=(--config .cache/app-config.demo-idp.yaml)
fi

if [ "${KMP_DEMO_FLEET:-1}" != 0 ]; then
  fleet_dir="$KMP_ROOT/.cache/demo-fleet"
  fleet_log="$KMP_ROOT/.cache/demo-fleet.log"
  mkdir -p "$fleet_dir"
  kmp_log "starting the demo fleet (kube-testbed; the first run builds it, which takes minutes)"
  yarn workspace @kmp/kube-testbed testbed start \
    --clusters payments-prod-eu1,payments-dev-eu1,retail-store-0042 \
    --dir "$fleet_dir" --fixtures --minimal-crds --token >"$fleet_log" 2>&1 &
  fleet_pid=$!
  service_pids+=("$fleet_pid")
  until grep -q 'Ctrl-C to stop' "$fleet_log" 2>/dev/null; do
    kill -0 "$fleet_pid" 2>/dev/null || kmp_die "the demo fleet did not start; see $fleet_log"
    sleep 1
  done
  # The platform's persona RBAC and the team-payments tenant namespace, as
  # a platform team would onboard them (re-running converges).
  node packages/backend/demo/onboardDemoFleet.js "$fleet_dir" ||
    kmp_die "onboarding the demo fleet failed (see the error above)"
  node packages/backend/demo/demoFleetConfig.js "$fleet_dir" "$KMP_ROOT/.cache/app-config.demo-fleet.yaml"
  configs+=(--config .cache/app-config.demo-fleet.yaml)
fi

if [ "${KMP_DEMO_GITOPS:-1}" != 0 ]; then
  gitops_port="${KMP_DEMO_GITOPS_PORT:-7020}"
  gitops_log="$KMP_ROOT/.cache/demo-gitops.log"
  gitops_config="$KMP_ROOT/.cache/app-config.demo-gitops.yaml"
  rm -f "$gitops_config"
  kmp_log "starting the demo GitOps repositories on http://127.0.0.1:$gitops_port"
  # One repository per environment group under .cache/demo-gitops (kept
  # across restarts); the password is new on every start.
  node packages/backend/demo/demoGitops.js "$KMP_ROOT/.cache/demo-gitops" \
    "$gitops_config" --port "$gitops_port" >"$gitops_log" 2>&1 &
  service_pids+=($!)
  until grep -q 'demo GitOps ready' "$gitops_log" 2>/dev/null; do
    kill -0 "${service_pids[-1]}" 2>/dev/null || kmp_die "the demo GitOps repositories did not start; see $gitops_log"
    sleep 0.5
  done
  configs+=(--config .cache/app-config.demo-gitops.yaml)
fi

yarn start "${configs[@]}" "$@"
