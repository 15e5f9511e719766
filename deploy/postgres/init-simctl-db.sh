#!/bin/sh
# First start of the PostgreSQL volume only (docker-entrypoint-initdb.d): simctl's results store gets its own
# role and database, apart from Temporal's `temporal` and `temporal_visibility` (created by temporal-schema).
set -eu
: "${SIMCTL_DB_PASSWORD:?set SIMCTL_DB_PASSWORD (see .env.example)}"
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres \
    --set=password="$SIMCTL_DB_PASSWORD" <<'SQL'
CREATE ROLE simctl LOGIN PASSWORD :'password';
CREATE DATABASE simctl OWNER simctl;
SQL
