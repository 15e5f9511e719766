#!/usr/bin/env bash
# `make compose-smoke`: docker-compose.yml for real, on a machine with a Docker daemon. Brings the stack up
# with two workers under a throwaway project name and fresh secrets, runs an otto fiber and a small ads
# study through it, audits the study, checks Prometheus scrapes both workers, and tears everything down
# (volumes included). Needs ports 3000, 5432, 7233, 8080, 9090 and 9200 free on 127.0.0.1.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! docker info >/dev/null 2>&1; then
    echo "compose-smoke: no Docker daemon answers (docker info failed); nothing was started" >&2
    exit 2
fi

project="simctl-smoke-$$"
env_file=$(mktemp)
compose() { docker compose --project-name "$project" --env-file "$env_file" "$@"; }
cleanup() { compose down --volumes --remove-orphans >/dev/null 2>&1 || true; rm -f "$env_file"; }
trap cleanup EXIT

secret() { python3 -c 'import secrets; print(secrets.token_hex(16))'; }
cat > "$env_file" <<EOF
POSTGRES_PASSWORD=$(secret)
SIMCTL_DB_PASSWORD=$(secret)
SIMCTL_WALLET_PASSPHRASE=$(secret)
GRAFANA_ADMIN_PASSWORD=$(secret)
PUBLISH_HOST=127.0.0.1
EOF

echo "== up: build the image, start the stack with two workers"
compose up --detach --build --scale worker=2
compose run --rm -T simctl status   # waits for the namespace job and the node, like every `run`

echo "== an otto fiber"
compose run --rm -T simctl otto fiber --type TicTacToe --outcome win --timeout 5m

echo "== a small ads study, then its audit"
experiment=$(compose run --rm -T simctl start-campaign --days 2 --buyers 1 --sellers 2 --campaigns-per-buyer 1 \
    --seed 7 --wait | tail -n 1)
compose run --rm -T simctl audit --experiment "$experiment"

echo "== Prometheus scrapes both workers"
query='count(up%7Bjob%3D%22simctl-workers%22%7D%3D%3D1)'   # count(up{job="simctl-workers"}==1)
for _ in $(seq 1 30); do
    if compose exec -T prometheus wget -qO- "http://127.0.0.1:9090/api/v1/query?query=$query" | grep -q '"2"\]'; then
        echo "compose-smoke: passed"
        exit 0
    fi
    sleep 2
done
echo "compose-smoke: Prometheus does not see two healthy workers" >&2
exit 1
