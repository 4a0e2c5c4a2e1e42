#!/usr/bin/env bash
# scripts/pg.sh — a throwaway local PostgreSQL cluster for relsync's tests and demo.
#
#   scripts/pg.sh start    create (first time) and start the cluster under <project>/.pg,
#                          create the databases relsync_test and relsync_demo; idempotent
#   scripts/pg.sh stop     stop it (the data stays in .pg/data)
#   scripts/pg.sh status   say whether it runs, and where
#   scripts/pg.sh env      print `export` lines for the tests: eval "$(scripts/pg.sh env)"
#
# The server listens on 127.0.0.1 on a free port (recorded in .pg/port) and on a Unix
# socket under .pg/run; authentication is `trust` for the `postgres` superuser, so never
# expose it. initdb refuses to run as root, so as root the server runs as the `postgres`
# system user; as any other user it runs as that user.
set -euo pipefail

die() { echo "pg.sh: $*" >&2; exit 1; }

PROJECT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
PG_DIR="$PROJECT_DIR/.pg"
DATA_DIR="$PG_DIR/data"
PORT_FILE="$PG_DIR/port"
LOG_FILE="$PG_DIR/log/postgres.log"
DATABASES=(relsync_test relsync_demo)
PG_USER=postgres

# The socket path (dir + "/.s.PGSQL.NNNNN") must fit in sun_path (107 bytes).
SOCKET_DIR="$PG_DIR/run"
if (( ${#SOCKET_DIR} > 90 )); then
    SOCKET_DIR="/tmp/relsync-pg-$(printf '%s' "$PROJECT_DIR" | cksum | cut -d' ' -f1)"
fi

find_bindir() {
    local dir best="" bestver=-1 ver
    for dir in /usr/lib/postgresql/*/bin; do
        [[ -x "$dir/pg_ctl" && -x "$dir/initdb" ]] || continue
        ver="$(basename "$(dirname "$dir")")"
        [[ "$ver" =~ ^[0-9]+$ ]] || continue
        if (( ver > bestver )); then best="$dir"; bestver="$ver"; fi
    done
    if [[ -z "$best" ]] && command -v pg_ctl >/dev/null 2>&1 && command -v initdb >/dev/null 2>&1; then
        best="$(dirname "$(command -v pg_ctl)")"
    fi
    [[ -n "$best" ]] || die "no PostgreSQL server binaries (initdb, pg_ctl) under /usr/lib/postgresql/*/bin; install e.g. postgresql-15"
    BINDIR="$best"
}

# Run a command as the cluster's owner.
as_owner() {
    if (( EUID == 0 )); then
        runuser -u "$PG_USER" -- "$@"
    else
        "$@"
    fi
}

# As root, the postgres user must be able to reach the project folder: every folder on the
# path needs search (x) permission for it. Grant o+x where it is missing, and say so.
ensure_path_searchable() {
    (( EUID == 0 )) || return 0
    id "$PG_USER" >/dev/null 2>&1 || die "running as root but there is no '$PG_USER' system user to own the cluster"
    # Top-down, so each folder is checked once its parents are reachable.
    local dir="$PROJECT_DIR" chain=()
    while [[ "$dir" != "/" ]]; do
        chain=("$dir" "${chain[@]}")
        dir="$(dirname "$dir")"
    done
    for dir in "${chain[@]}"; do
        if ! runuser -u "$PG_USER" -- test -x "$dir"; then
            chmod o+x "$dir" || die "cannot grant '$PG_USER' search permission on $dir"
            echo "pg.sh: granted search permission (chmod o+x) on $dir so '$PG_USER' can reach $PG_DIR" >&2
        fi
    done
}

owned_dir() { # owned_dir DIR [MODE]: mkdir -p and hand the folder to the cluster's owner
    mkdir -p "$1"
    if (( EUID == 0 )); then chown "$PG_USER": "$1"; fi
    chmod "${2:-700}" "$1"
}

free_port() {
    if command -v python3 >/dev/null 2>&1; then
        python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()' 2>/dev/null && return 0
    fi
    local port
    for port in $(seq 54320 54420); do
        if ! port_in_use "$port"; then echo "$port"; return 0; fi
    done
    return 1
}

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

recorded_port() { [[ -s "$PORT_FILE" ]] && tr -dc '0-9' <"$PORT_FILE"; }

is_ready() { # is_ready PORT
    "$BINDIR/pg_isready" -q -h 127.0.0.1 -p "$1" -U "$PG_USER" -d postgres -t 2 >/dev/null 2>&1
}

server_running() { # pg_ctl's view of the data folder: 0 when a postmaster runs
    [[ -f "$DATA_DIR/PG_VERSION" ]] || return 1
    as_owner "$BINDIR/pg_ctl" status -D "$DATA_DIR" >/dev/null 2>&1
}

psql_admin() { # psql_admin PORT SQL
    "$BINDIR/psql" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$1" -U "$PG_USER" -d postgres -tAc "$2"
}

create_databases() { # create_databases PORT
    local db exists
    for db in "${DATABASES[@]}"; do
        exists="$(psql_admin "$1" "SELECT 1 FROM pg_database WHERE datname = '$db'")" \
            || die "cannot query databases on 127.0.0.1:$1 (see $LOG_FILE)"
        if [[ "$exists" != "1" ]]; then
            "$BINDIR/createdb" -h 127.0.0.1 -p "$1" -U "$PG_USER" "$db" 2>/dev/null \
                || [[ "$(psql_admin "$1" "SELECT 1 FROM pg_database WHERE datname = '$db'")" == "1" ]] \
                || die "cannot create database $db on 127.0.0.1:$1"
        fi
    done
}

do_init() {
    [[ -f "$DATA_DIR/PG_VERSION" ]] && return 0
    owned_dir "$DATA_DIR"
    if ! as_owner "$BINDIR/initdb" -D "$DATA_DIR" -A trust -U "$PG_USER" -E UTF8 --locale=C.UTF-8 --no-sync \
        >"$PG_DIR/initdb.log" 2>&1; then
        # Some systems lack the C.UTF-8 locale; try the plain C locale before giving up.
        rm -rf "${DATA_DIR:?}"/* 2>/dev/null || true
        as_owner "$BINDIR/initdb" -D "$DATA_DIR" -A trust -U "$PG_USER" -E UTF8 --locale=C --no-sync \
            >"$PG_DIR/initdb.log" 2>&1 || die "initdb failed; see $PG_DIR/initdb.log"
    fi
}

do_start() {
    find_bindir
    mkdir -p "$PG_DIR"
    ensure_path_searchable
    exec 9>"$PG_DIR/lock"
    flock -w 120 9 || die "another pg.sh holds $PG_DIR/lock for over 2 minutes"

    local port
    port="$(recorded_port || true)"
    if [[ -n "$port" ]] && server_running && is_ready "$port"; then
        create_databases "$port"
        echo "pg.sh: PostgreSQL already running on 127.0.0.1:$port (data: $DATA_DIR)" >&2
        return 0
    fi
    if server_running; then
        # A postmaster runs but not where .pg/port says: stop it and start afresh.
        as_owner "$BINDIR/pg_ctl" stop -D "$DATA_DIR" -m fast -w >/dev/null 2>&1 || true
    fi

    do_init
    owned_dir "$SOCKET_DIR" 755  # other local users may use the socket too
    owned_dir "$(dirname "$LOG_FILE")"
    if [[ -z "$port" ]] || port_in_use "$port"; then
        port="$(free_port)" || die "no free TCP port found on 127.0.0.1"
    fi

    if ! as_owner "$BINDIR/pg_ctl" start -D "$DATA_DIR" -l "$LOG_FILE" -w -t 60 \
        -o "-p $port -k $SOCKET_DIR -c listen_addresses=127.0.0.1 -c fsync=off" >/dev/null 2>&1 9>&-; then
        die "PostgreSQL did not start on 127.0.0.1:$port; see $LOG_FILE"
    fi
    local i
    for i in $(seq 1 60); do
        is_ready "$port" && break
        sleep 0.5
    done
    is_ready "$port" || die "PostgreSQL started but is not accepting connections on 127.0.0.1:$port; see $LOG_FILE"
    echo "$port" >"$PORT_FILE"
    create_databases "$port"
    echo "pg.sh: PostgreSQL $(basename "$(dirname "$BINDIR")") running on 127.0.0.1:$port (data: $DATA_DIR)" >&2
}

do_stop() {
    find_bindir
    if server_running; then
        as_owner "$BINDIR/pg_ctl" stop -D "$DATA_DIR" -m fast -w >/dev/null 2>&1 || die "pg_ctl stop failed; see $LOG_FILE"
        echo "pg.sh: PostgreSQL stopped" >&2
    else
        echo "pg.sh: PostgreSQL is not running" >&2
    fi
}

do_status() {
    find_bindir
    local port
    port="$(recorded_port || true)"
    if [[ -n "$port" ]] && server_running && is_ready "$port"; then
        echo "running on 127.0.0.1:$port (data: $DATA_DIR)"
    elif [[ -f "$DATA_DIR/PG_VERSION" ]]; then
        echo "stopped (data: $DATA_DIR)"; return 3
    else
        echo "not created (run: scripts/pg.sh start)"; return 3
    fi
}

do_env() {
    local port
    port="$(recorded_port || true)"
    [[ -n "$port" ]] || die "no cluster yet; run: scripts/pg.sh start"
    echo "export POSTGRES_HOSTNAME=127.0.0.1"
    echo "export POSTGRES_PORT=$port"
    echo "export POSTGRES_USER=$PG_USER"
    echo "export POSTGRES_DB=relsync_test"
    echo "export DATABASE_URL=postgresql://$PG_USER@127.0.0.1:$port/relsync_test"
}

case "${1:-}" in
    start) do_start ;;
    stop) do_stop ;;
    status) do_status ;;
    env) do_env ;;
    *) echo "usage: scripts/pg.sh start|stop|status|env" >&2; exit 64 ;;
esac
