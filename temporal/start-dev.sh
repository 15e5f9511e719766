#!/usr/bin/env bash
# The Temporal dev server as simctl embeds it, for the three-terminal workflow (see README.md).
# Run from the project root; extra flags (e.g. --headless) are passed through.
# Keep in step with localnet/temporal_dev.py: tests/unit/test_devserver_command.py compares them.
set -euo pipefail
temporal_cli=temporal
if ! command -v temporal >/dev/null && [ -x .venv/bin/temporal ]; then temporal_cli=.venv/bin/temporal; fi
mkdir -p .simctl
exec "$temporal_cli" server start-dev --ip 127.0.0.1 --port 7233 \
  --db-filename .simctl/temporal.db \
  --sqlite-pragma journal_mode=wal --sqlite-pragma synchronous=normal \
  --dynamic-config-value 'history.timerProcessorMaxTimeShift="10ms"' \
  --dynamic-config-value history.shardIOConcurrency=8 \
  --search-attribute Experiment=Keyword --search-attribute Scenario=Keyword \
  --search-attribute Campaign=Keyword --search-attribute SimDay=Int \
  --search-attribute FiberType=Keyword --search-attribute FiberState=Keyword \
  --search-attribute FiberStateSince=Datetime \
  --search-attribute Initiator=Keyword --search-attribute Counterparty=Keyword \
  --search-attribute Agent=Keyword --search-attribute Generation=Int \
  --search-attribute Pool=Keyword --search-attribute Height=Int \
  --log-level warn "$@"
