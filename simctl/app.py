"""The `simctl` command line: global options, command registration, and one-line error reporting."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from temporalio.client import WorkflowFailureError

from localnet.temporal_dev import DevServerError
from models.settings import LogLevel, SettingsError, load_settings
from simctl.errors import CliError, failure_message
from workers.client import TemporalUnreachable
from workers.tracing import configure_tracing, flush_tracing

app = typer.Typer(
    name="simctl",
    help="Durable agent-based simulations on Temporal.",
    add_completion=False,
    pretty_exceptions_enable=False,
)


@app.callback(invoke_without_command=True)
def global_options(
    ctx: typer.Context,
    address: Annotated[
        str | None, typer.Option("--address", help="Temporal frontend HOST:PORT [env TEMPORAL_ADDRESS; localhost:7233]")
    ] = None,
    namespace: Annotated[
        str | None, typer.Option("--namespace", help="Temporal namespace [env TEMPORAL_NAMESPACE]")
    ] = None,
    embedded: Annotated[
        bool | None,
        typer.Option(
            "--embedded/--no-embedded",
            help="start an embedded dev server and worker when no server answers [env SIMCTL_EMBEDDED; on]",
        ),
    ] = None,
    state_dir: Annotated[
        Path | None, typer.Option("--state-dir", help="embedded server and SQLite store live here [.simctl]")
    ] = None,
    database_url: Annotated[
        str | None, typer.Option("--database-url", help="results store, e.g. postgresql://… [SIMCTL_DATABASE_URL]")
    ] = None,
    log_level: Annotated[LogLevel | None, typer.Option("--log-level", help="debug, info, warning or error")] = None,
) -> None:
    ctx.obj = load_settings(
        temporal_address=address,
        namespace=namespace,
        embedded=embedded,
        state_dir=state_dir,
        database_url=database_url,
        log_level=log_level,
    )
    # The in-process worker's workflows and activities, and the workflows this command starts.
    configure_tracing("simctl", ctx.obj.trace_file, ctx.obj.otlp_endpoint)
    if ctx.invoked_subcommand is None:
        typer.echo(ctx.get_help())


def _register_commands() -> None:
    from simctl.commands import ads, audit, localnet, monero, otto, status, stuck, up, wallet

    app.command("up")(up.up)
    app.command("status")(status.status)
    app.command("stuck")(stuck.stuck)
    app.command("audit")(audit.audit)
    app.command("start-campaign")(ads.start_campaign)
    app.command("report")(ads.report)
    app.add_typer(wallet.app, name="wallet")
    app.add_typer(otto.app, name="otto")
    app.add_typer(localnet.app, name="localnet")
    app.add_typer(monero.app, name="monero")


_register_commands()


def run(argv: list[str]) -> int:
    """Run the CLI and return its exit code; every failure is one line on stderr."""
    try:
        return _run(argv)
    finally:
        flush_tracing()


def _run(argv: list[str]) -> int:
    command = typer.main.get_command(app)
    try:
        result = command.main(args=argv, prog_name="simctl", standalone_mode=False)
    except typer.Exit as done:
        return done.exit_code
    except typer.TyperException as err:  # usage errors: unknown command, bad option value
        return _fail(err.format_message(), getattr(err, "exit_code", 2))
    except (CliError, SettingsError, TemporalUnreachable, DevServerError) as err:
        return _fail(str(err), getattr(err, "exit_code", 2))
    except WorkflowFailureError as err:
        return _fail(f"workflow failed: {failure_message(err)}", 1)
    except OSError as err:  # a port in use, an unwritable state directory
        return _fail(str(err), 2)
    except (typer.Abort, KeyboardInterrupt):
        return _fail("interrupted", 130)
    return result if isinstance(result, int) else 0


def _fail(message: str, code: int) -> int:
    print(f"simctl: {message}", file=sys.stderr)
    return code
