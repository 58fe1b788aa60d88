# Shared by scripts/test and scripts/bench (sourced, not run): logging, and a
# throwaway PostgreSQL cluster. `start_postgres` finds PostgreSQL's server
# binaries (installing Debian's `postgresql` package when they are missing),
# starts a cluster in a temporary directory on a free loopback port with the
# server options in $PG_SERVER_OPTIONS, and sets $PG_URL; the cluster is
# stopped and removed when the calling script exits.

log() { printf '\n==> %s\n' "$*" >&2; }
ci() { [ "${CI:-}" = "true" ]; }

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else return 1; fi
}

find_pg_bindir() {
  local dir
  if [ -n "${PG_BINDIR:-}" ] && [ -x "$PG_BINDIR/initdb" ]; then echo "$PG_BINDIR"; return 0; fi
  for dir in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
    if [ -x "$dir/initdb" ] && [ -x "$dir/pg_ctl" ]; then echo "$dir"; return 0; fi
  done
  if command -v pg_config >/dev/null && [ -x "$(pg_config --bindir)/initdb" ]; then
    pg_config --bindir; return 0
  fi
  return 1
}

# Installs Debian packages by name (apt-get update first, as a fresh machine needs).
apt_install() {
  command -v apt-get >/dev/null || return 1
  as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q &&
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$@"
}

install_postgres() {
  log "PostgreSQL server binaries not found: installing Debian's postgresql package"
  apt_install postgresql
}

free_port() {
  local port
  for _ in $(seq 1 50); do
    port=$((20000 + RANDOM % 40000))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then echo "$port"; return 0; fi
  done
  return 1
}

PG_DIR=""
PG_BIN=""
PG_USER=""
stop_postgres() {
  if [ -n "$PG_DIR" ] && [ -d "$PG_DIR" ]; then
    run_pg "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m immediate stop >/dev/null 2>&1 || true
    rm -rf "$PG_DIR"
  fi
}
trap stop_postgres EXIT

# PostgreSQL refuses to run as root; as root, run it as the package's user.
run_pg() {
  if [ -n "$PG_USER" ]; then runuser -u "$PG_USER" -- "$@"; else "$@"; fi
}

start_postgres() {
  PG_BIN=$(find_pg_bindir) || { install_postgres && PG_BIN=$(find_pg_bindir); } || return 1
  if [ "$(id -u)" -eq 0 ]; then
    PG_USER=postgres
    id "$PG_USER" >/dev/null 2>&1 || PG_USER=nobody
  fi
  PG_DIR=$(mktemp -d "${TMPDIR:-/tmp}/perch-test-pg.XXXXXX")
  chmod 755 "$PG_DIR"
  [ -z "$PG_USER" ] || chown "$PG_USER" "$PG_DIR"
  run_pg "$PG_BIN/initdb" -D "$PG_DIR/data" -U perch -A trust -E UTF8 --locale=C --no-sync >"$PG_DIR/initdb.log" 2>&1 ||
    { cat "$PG_DIR/initdb.log" >&2; return 1; }
  local port attempt
  for attempt in 1 2 3 4 5; do
    port=$(free_port) || return 1
    if run_pg "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/server.log" -w -t 60 \
        -o "-p $port -c listen_addresses=127.0.0.1 -k $PG_DIR $PG_SERVER_OPTIONS" \
        start >/dev/null; then
      PG_URL="postgres://perch@127.0.0.1:$port/postgres"
      log "PostgreSQL $("$PG_BIN/postgres" --version | awk '{print $3}') running on 127.0.0.1:$port"
      return 0
    fi
    log "PostgreSQL did not start on port $port (attempt $attempt)"
  done
  cat "$PG_DIR/server.log" >&2 || true
  return 1
}
