#!/bin/sh
# Start PostgreSQL for the e2e suite: on first start (empty $PGDATA) create the cluster with
# $POSTGRES_USER as superuser (password $POSTGRES_PASSWORD, scram-sha-256 over TCP) and the
# database $POSTGRES_DB owned by it; then run the server in the foreground as PID 1, so the
# kubelet's SIGTERM is a fast shutdown.
set -eu
: "${PGDATA:?PGDATA must name the data directory}"
: "${POSTGRES_PASSWORD:?POSTGRES_PASSWORD must be set}"
user=${POSTGRES_USER:-postgres}
database=${POSTGRES_DB:-$user}

if [ ! -s "$PGDATA/PG_VERSION" ]; then
    mkdir -p "$PGDATA"
    chmod 700 "$PGDATA"
    pwfile=$(mktemp)
    printf '%s\n' "$POSTGRES_PASSWORD" > "$pwfile"
    initdb --pgdata="$PGDATA" --username="$user" --pwfile="$pwfile" --encoding=UTF8 \
        --auth-local=trust --auth-host=scram-sha-256 --no-instructions
    rm -f "$pwfile"
    echo "listen_addresses = '*'" >> "$PGDATA/postgresql.conf"
    echo "host all all all scram-sha-256" >> "$PGDATA/pg_hba.conf"
    if [ "$database" != postgres ]; then
        # Identifiers quoted; the names come from the test's own Secret.
        echo "CREATE DATABASE \"$database\" OWNER \"$user\";" |
            postgres --single -D "$PGDATA" postgres >/dev/null
    fi
fi
exec postgres -D "$PGDATA"
