#!/usr/bin/env bash
# Start or stop a throw-away PostgreSQL server on 127.0.0.1 for the tests.
#   source .ci/pg.sh start   -> exports DATABASE_URL_PG (postgresql+asyncpg://...)
#   .ci/pg.sh stop
# Installs Debian's postgresql package when the machine has no server.
set -u
PG_PORT=${PG_PORT:-54329}
PG_DIR=${PG_DIR:-/tmp/hackathon-bot-pg}

pg_bin() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1; }

as_pg() {
  if [ "$(id -u)" = 0 ]; then su postgres -s /bin/bash -c "$*"; else bash -c "$*"; fi
}

pg_start() {
  if [ -z "$(pg_bin)" ] || [ ! -x "$(pg_bin)/postgres" ]; then
    echo "installing PostgreSQL (Debian package)..."
    apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
  fi
  local bin; bin=$(pg_bin)
  if [ -f "$PG_DIR/data/postmaster.pid" ]; then as_pg "$bin/pg_ctl -D $PG_DIR/data -m immediate stop" >/dev/null 2>&1 || true; fi
  rm -rf "$PG_DIR"; mkdir -p "$PG_DIR"
  [ "$(id -u)" = 0 ] && chown postgres "$PG_DIR"
  as_pg "$bin/initdb -D $PG_DIR/data -U postgres -A trust --no-sync" >/dev/null
  as_pg "$bin/pg_ctl -D $PG_DIR/data -l $PG_DIR/log -w -o \"-p $PG_PORT -k $PG_DIR -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200\" start" >/dev/null
  as_pg "$bin/psql -h 127.0.0.1 -p $PG_PORT -U postgres -qc \"CREATE USER bot PASSWORD 'bot' SUPERUSER\"" >/dev/null
  as_pg "$bin/createdb -h 127.0.0.1 -p $PG_PORT -U postgres -O bot bot" >/dev/null
  export DATABASE_URL_PG="postgresql+asyncpg://bot:bot@127.0.0.1:$PG_PORT/bot"
  echo "PostgreSQL on 127.0.0.1:$PG_PORT ($DATABASE_URL_PG)"
}

pg_stop() {
  local bin; bin=$(pg_bin)
  [ -n "$bin" ] && [ -f "$PG_DIR/data/postmaster.pid" ] && as_pg "$bin/pg_ctl -D $PG_DIR/data -m fast stop" >/dev/null 2>&1
  rm -rf "$PG_DIR"
}

case "${1:-}" in
  start) pg_start ;;
  stop) pg_stop ;;
  *) echo "usage: $0 start|stop" >&2 ;;
esac
