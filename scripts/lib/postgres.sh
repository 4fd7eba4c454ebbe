# shellcheck shell=bash
# Starts a private, throw-away PostgreSQL server from Debian's packages for the
# test run and exports the connection string Backstage's TestDatabases reads.
# Sourced by test.sh; kmp_postgres_stop is registered as an exit trap there.

kmp_postgres_bindir() {
  local dir
  for dir in /usr/lib/postgresql/*/bin; do
    [ -x "$dir/postgres" ] && echo "$dir"
  done | sort -V | tail -n 1
}

kmp_postgres_start() {
  if env | grep -q '^BACKSTAGE_TEST_DATABASE_POSTGRES[0-9]*_CONNECTION_STRING='; then
    kmp_log "using the PostgreSQL named by BACKSTAGE_TEST_DATABASE_POSTGRES*_CONNECTION_STRING"
    return 0
  fi
  local bindir version port run_as=()
  bindir="$(kmp_postgres_bindir)"
  if [ -z "$bindir" ]; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
      kmp_log "installing PostgreSQL from Debian's packages"
      { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql; } >&2 ||
        kmp_die "could not install the postgresql package; install it and re-run."
      bindir="$(kmp_postgres_bindir)"
    else
      kmp_die "PostgreSQL is needed for the store tests: install Debian's 'postgresql' package (or set BACKSTAGE_TEST_DATABASE_POSTGRES15_CONNECTION_STRING)."
    fi
  fi
  version="$(basename "$(dirname "$bindir")")"
  KMP_PG_DIR="$(mktemp -d /tmp/kmp-pg.XXXXXX)"
  if [ "$(id -u)" = 0 ]; then
    # PostgreSQL refuses to run as root.
    id postgres >/dev/null 2>&1 || useradd --system --no-create-home postgres
    chown postgres "$KMP_PG_DIR"
    run_as=(runuser -u postgres --)
  fi
  port="$(node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')"
  "${run_as[@]}" "$bindir/initdb" -D "$KMP_PG_DIR/data" -U postgres --auth=trust -E UTF8 >"$KMP_PG_DIR/initdb.log" 2>&1 ||
    kmp_die "initdb failed; see $KMP_PG_DIR/initdb.log"
  "${run_as[@]}" "$bindir/pg_ctl" -D "$KMP_PG_DIR/data" -l "$KMP_PG_DIR/server.log" -w -t 60 \
    -o "-p $port -k $KMP_PG_DIR -c listen_addresses=127.0.0.1 -c max_connections=300 -c fsync=on" start >/dev/null ||
    kmp_die "PostgreSQL did not start; see $KMP_PG_DIR/server.log"
  KMP_PG_STOP="${run_as[*]} $bindir/pg_ctl -D $KMP_PG_DIR/data -m fast stop"
  export "BACKSTAGE_TEST_DATABASE_POSTGRES${version}_CONNECTION_STRING=postgresql://postgres@127.0.0.1:$port/postgres"
  kmp_log "PostgreSQL $version ready on 127.0.0.1:$port"
}

kmp_postgres_stop() {
  if [ -n "${KMP_PG_STOP:-}" ]; then
    $KMP_PG_STOP >/dev/null 2>&1 || true
    rm -rf "$KMP_PG_DIR"
    KMP_PG_STOP=""
  fi
}
