#!/usr/bin/env bash
# Start a throwaway PostgreSQL server on 127.0.0.1 for the tuner's PostgreSQL-backed test.
#
#   eval "$(.ci/postgres.sh)"     # exports DEEPOBS_TEST_POSTGRES_URL for the tests
#
# Installs the Debian `postgresql` package when no server is installed (needs root, as in CI),
# initialises a cluster in a temporary folder owned by the `postgres` user (trust
# authentication, TCP on 127.0.0.1 only, a free port), starts it, creates the database
# `deepobs_test` and prints two lines on stdout: `export DEEPOBS_TEST_POSTGRES_URL=...` and
# `export DEEPOBS_TEST_POSTGRES_STOP=...` (the command that stops the server again:
# `trap 'eval "$DEEPOBS_TEST_POSTGRES_STOP"' EXIT`). Everything else goes to stderr.
set -euo pipefail

log() { echo "postgres.sh: $*" >&2; }

find_bindir() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1; }

bindir="$(find_bindir || true)"
if [ -z "$bindir" ] || [ ! -x "$bindir/initdb" ]; then
    log "no PostgreSQL server installed; installing the postgresql package"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >&2
    apt-get install -y -qq --no-install-recommends postgresql >&2
    bindir="$(find_bindir)"
fi

# initdb refuses to run as root: run the server as `postgres` when we are root.
as_owner() {
    if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

datadir="$(mktemp -d "${TMPDIR:-/tmp}/deepobs-postgres.XXXXXX")"
if [ "$(id -u)" -eq 0 ]; then chown postgres: "$datadir"; fi
port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"

as_owner "$bindir/initdb" -D "$datadir" -U postgres -A trust -E UTF8 --no-sync --no-instructions >&2
as_owner "$bindir/pg_ctl" -D "$datadir" -l "$datadir/server.log" -w -t 60 \
    -o "-c listen_addresses=127.0.0.1 -p $port -k $datadir" start >&2
as_owner "$bindir/createdb" -h 127.0.0.1 -p "$port" -U postgres deepobs_test >&2

# +psycopg2: the driver of the test extra (SQLAlchemy 2.1 maps plain postgresql:// to psycopg 3).
url="postgresql+psycopg2://postgres@127.0.0.1:$port/deepobs_test"
stop="$( [ "$(id -u)" -eq 0 ] && echo 'runuser -u postgres -- ')$bindir/pg_ctl -D $datadir -m fast stop"
log "PostgreSQL $("$bindir/postgres" --version | awk '{print $3}') is serving $url"
log "stop it with: $stop (or: eval \"\$DEEPOBS_TEST_POSTGRES_STOP\")"
echo "export DEEPOBS_TEST_POSTGRES_URL=$url"
echo "export DEEPOBS_TEST_POSTGRES_STOP='$stop'"
