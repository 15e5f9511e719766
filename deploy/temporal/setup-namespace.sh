#!/bin/sh
# The temporal-namespace job (temporalio/admin-tools), once the server is healthy: the namespace simctl uses,
# keeping closed workflows 30 days (`simctl audit` replays them), and the custom search attributes simctl's
# workflows upsert and `simctl stuck`/the Web UI filter on. Safe to run on every `up`.
set -eu
ADDRESS="${TEMPORAL_ADDRESS:-temporal:7233}"
NAMESPACE="${SIMCTL_NAMESPACE:-default}"
RETENTION="${TEMPORAL_RETENTION:-30d}"

# BEGIN search attributes: name=type, one a line; equal to models/search_attributes.py (tests/deploy checks)
SEARCH_ATTRIBUTES="
Experiment=Keyword
Scenario=Keyword
Campaign=Keyword
SimDay=Int
FiberType=Keyword
FiberState=Keyword
FiberStateSince=Datetime
Initiator=Keyword
Counterparty=Keyword
Agent=Keyword
Generation=Int
Pool=Keyword
Height=Int
"
# END search attributes

tries=0
until temporal operator cluster health --address "$ADDRESS" >/dev/null 2>&1; do
    tries=$((tries + 1))
    [ "$tries" -lt 60 ] || { echo "temporal-namespace: no healthy server at $ADDRESS" >&2; exit 1; }
    sleep 2
done

if temporal operator namespace describe --address "$ADDRESS" -n "$NAMESPACE" >/dev/null 2>&1; then
    temporal operator namespace update --address "$ADDRESS" -n "$NAMESPACE" --retention "$RETENTION"
else
    temporal operator namespace create --address "$ADDRESS" -n "$NAMESPACE" --retention "$RETENTION"
fi

existing=$(temporal operator search-attribute list --address "$ADDRESS" -n "$NAMESPACE")
for attribute in $SEARCH_ATTRIBUTES; do
    name=${attribute%%=*}
    type=${attribute#*=}
    if printf '%s\n' "$existing" | grep -qw "$name"; then
        continue
    fi
    temporal operator search-attribute create --address "$ADDRESS" -n "$NAMESPACE" --name "$name" --type "$type"
done
echo "temporal-namespace: $NAMESPACE keeps closed workflows $RETENTION; search attributes registered"
