#!/bin/sh
# The temporal-schema job (temporalio/admin-tools): Temporal's persistence and visibility databases on
# PostgreSQL, created if missing and brought to the image's schema version. Safe to run on every `up`.
set -eu
: "${POSTGRES_SEEDS:?}" "${POSTGRES_USER:?}" "${SQL_PASSWORD:?}"
PORT="${DB_PORT:-5432}"
SCHEMA=/etc/temporal/schema/postgresql/v12

sql() { temporal-sql-tool --plugin postgres12 --ep "$POSTGRES_SEEDS" -p "$PORT" -u "$POSTGRES_USER" "$@"; }

for db in temporal temporal_visibility; do
    sql --db "$db" create || true   # already there on a later `up`
done
sql --db temporal setup-schema -v 0.0 || true
sql --db temporal update-schema -d "$SCHEMA/temporal/versioned"
sql --db temporal_visibility setup-schema -v 0.0 || true
sql --db temporal_visibility update-schema -d "$SCHEMA/visibility/versioned"
echo "temporal-schema: persistence and visibility schemas are current"
