"""Errors the CLI reports as one line on stderr with a non-zero exit code (no traceback)."""

from __future__ import annotations


class CliError(Exception):
    """Bad input or an unusable environment: exit code 2 by default."""

    def __init__(self, message: str, exit_code: int = 2) -> None:
        super().__init__(message)
        self.exit_code = exit_code


def failure_message(err: BaseException) -> str:
    """The innermost cause of a workflow or activity failure: the part that says what went wrong."""
    cause: BaseException = err
    while (inner := getattr(cause, "cause", None)) is not None:
        cause = inner
    return getattr(cause, "message", None) or str(cause)
