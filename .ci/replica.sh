#!/usr/bin/env bash
# Start a streaming replica (hot standby) of the local PostgreSQL, for the read-replica tests, and
# print its URL on stdout (everything else goes to stderr). Idempotent: a standby already answering on
# the port is reused; a stopped one is rebuilt from a fresh base backup (WAL it missed may be gone).
#
#   SIYU_TEST_REPLICA_URL="$(.ci/replica.sh)"
#
# Needs: root (the server runs as the postgres OS user), a primary on 127.0.0.1:$PRIMARY_PORT with
# wal_level=replica, max_wal_senders > 0 and a superuser/REPLICATION role "postgres". The script adds
# `host replication all 127.0.0.1/32 trust` to the primary's pg_hba.conf (first, so it wins) if it
# is missing, and reloads the primary.
set -euo pipefail

PRIMARY_PORT="${SIYU_PRIMARY_PORT:-5432}"
PORT="${SIYU_REPLICA_PORT:-5433}"
DIR="${SIYU_REPLICA_DIR:-/var/lib/postgresql/siyu-replica}"
PGBIN="${PGBIN:-/usr/lib/postgresql/$(ls /usr/lib/postgresql | sort -V | tail -1)/bin}"
URL="postgresql://postgres@127.0.0.1:${PORT}/postgres"
HBA_LINE="host replication all 127.0.0.1/32 trust"

log() { echo "replica.sh: $*" >&2; }
as_postgres() { runuser -u postgres -- "$@"; }
primary() { psql -h 127.0.0.1 -p "$PRIMARY_PORT" -U postgres -d postgres -Atqc "$1"; }

if pg_isready -h 127.0.0.1 -p "$PORT" -q; then
  if [ "$(psql -h 127.0.0.1 -p "$PORT" -U postgres -d postgres -Atqc 'select pg_is_in_recovery()')" = "t" ]; then
    log "standby already running on port $PORT"
    echo "$URL"
    exit 0
  fi
  log "port $PORT answers but is not a standby: refusing to touch it"
  exit 1
fi

# 1. Let replication connections in from 127.0.0.1 (once), then reload the primary.
hba="$(primary 'show hba_file')"
if ! grep -qxF "$HBA_LINE" "$hba"; then
  log "adding '$HBA_LINE' to $hba"
  sed -i "1i $HBA_LINE" "$hba"
fi
primary 'select pg_reload_conf()' >/dev/null

# 2. A fresh base backup, streaming the WAL written meanwhile; -R writes standby.signal and the
#    connection back to the primary.
if [ -f "$DIR/postmaster.pid" ]; then
  as_postgres "$PGBIN/pg_ctl" -D "$DIR" -m immediate stop >/dev/null 2>&1 || true
fi
rm -rf "$DIR"
install -d -o postgres -g postgres -m 700 "$DIR"
log "base backup of 127.0.0.1:$PRIMARY_PORT into $DIR"
as_postgres "$PGBIN/pg_basebackup" -h 127.0.0.1 -p "$PRIMARY_PORT" -U postgres -D "$DIR" -R -X stream -c fast

# 3. Its own configuration (Debian keeps the primary's in /etc, so the backup has none). A hot
#    standby refuses to start with fewer connections, workers or locks than its primary.
setting() { primary "show $1"; }
as_postgres tee "$DIR/postgresql.conf" >/dev/null <<CONF
listen_addresses = '127.0.0.1'
port = $PORT
hot_standby = on
hot_standby_feedback = on
max_connections = $(setting max_connections)
max_worker_processes = $(setting max_worker_processes)
max_wal_senders = $(setting max_wal_senders)
max_prepared_transactions = $(setting max_prepared_transactions)
max_locks_per_transaction = $(setting max_locks_per_transaction)
wal_level = replica
fsync = off  # a throwaway test standby
unix_socket_directories = '/var/run/postgresql'
CONF
as_postgres tee "$DIR/pg_hba.conf" >/dev/null <<HBA
local all all trust
host all all 127.0.0.1/32 trust
HBA
as_postgres tee "$DIR/pg_ident.conf" </dev/null >/dev/null

log "starting the standby on port $PORT"
as_postgres "$PGBIN/pg_ctl" -D "$DIR" -l "$DIR/server.log" -w -t 60 start >&2

if [ "$(psql -h 127.0.0.1 -p "$PORT" -U postgres -d postgres -Atqc 'select pg_is_in_recovery()')" != "t" ]; then
  log "the server on port $PORT is not in recovery; see $DIR/server.log"
  exit 1
fi
for _ in $(seq 1 60); do
  [ "$(primary "select count(*) from pg_stat_replication where state = 'streaming'")" -gt 0 ] && break
  sleep 0.5
done
log "streaming: $(primary "select count(*) from pg_stat_replication where state = 'streaming'") standby(s)"
echo "$URL"
