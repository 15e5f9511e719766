"""`python -m workers.main`: poll every task queue (or those named) until SIGTERM or SIGINT; with the monero
queue, also this host's own queue (``simctl-monero@<host id>``) for the process activities of the runs it claims.

Connects to TEMPORAL_ADDRESS (default localhost:7233); it never starts a server of its own.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys

from models.settings import Settings, SettingsError, load_settings
from workers.client import TemporalUnreachable
from workers.service import quiet_libraries, stop_on_signals
from workers.stack import open_stack
from workers.tracing import configure_tracing, shutdown_tracing

log = logging.getLogger("workers.main")


def configure_logging(level: str) -> None:
    logging.basicConfig(
        level=level.upper(), format="%(asctime)s %(levelname)-7s %(name)s: %(message)s", stream=sys.stderr
    )
    quiet_libraries()


async def serve(settings: Settings) -> None:
    stop = stop_on_signals()
    async with open_stack(
        settings,
        worker="always",
        metrics_port=settings.metrics_port or None,
        metrics_host=settings.metrics_host,
        queues=settings.task_queues,
    ) as stack:
        log.info(
            "connected to %s, namespace %s; metrics at %s",
            settings.temporal_address,
            settings.namespace,
            stack.metrics.url if stack.metrics else "(off)",
        )
        await stop.wait()
        log.info("shutting down: finishing in-flight tasks")
    log.info("worker stopped")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m workers.main", description=__doc__)
    parser.add_argument("--metrics-port", type=int, help="port of /metrics (0 = off; default 9464)")
    parser.add_argument(
        "--metrics-host", help="address /metrics listens on (default 127.0.0.1; 0.0.0.0 for a scraper elsewhere)"
    )
    parser.add_argument(
        "--queues",
        dest="task_queues",
        metavar="Q1,Q2",
        help="serve only these task queues, e.g. otto,ads (default: all; env SIMCTL_TASK_QUEUES)",
    )
    parser.add_argument(
        "--host-id",
        help="this machine's name in its own task queue, simctl-monero@HOST_ID, where a monero run's process "
        "activities go (default: the host name; env SIMCTL_HOST_ID)",
    )
    parser.add_argument(
        "--role",
        dest="worker_role",
        choices=["all", "workflows", "activities"],
        help="run only the workflows or only the activities of the queues, so each half can have processes "
        "of its own (default: all; env SIMCTL_WORKER_ROLE)",
    )
    parser.add_argument("--log-level", choices=["debug", "info", "warning", "error"])
    args = parser.parse_args(argv)
    try:
        # The worker never embeds a server: that is `simctl up`'s job.
        settings = load_settings(**vars(args), embedded=False)
    except SettingsError as err:
        print(f"workers.main: {err}", file=sys.stderr)
        return 2
    configure_logging(settings.log_level)
    configure_tracing("simctl-worker", settings.trace_file, settings.otlp_endpoint)
    try:
        asyncio.run(serve(settings))
    except TemporalUnreachable as err:
        print(f"workers.main: {err}", file=sys.stderr)
        return 2
    except OSError as err:
        print(f"workers.main: {err}", file=sys.stderr)
        return 2
    finally:
        shutdown_tracing()
    return 0


if __name__ == "__main__":
    sys.exit(main())
