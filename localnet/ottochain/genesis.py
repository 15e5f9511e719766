"""The genesis file: `address,balance` lines (balance in 1e-8 units), as the metagraph's genesis.csv."""

from __future__ import annotations

import csv
from pathlib import Path


class GenesisError(ValueError):
    """A genesis file that cannot be used, in one line naming the file and the line."""


def read_genesis(path: Path) -> list[tuple[str, int]]:
    """Every ``(address, balance)`` row in file order; blank lines are skipped, anything else malformed refused."""
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise GenesisError(f"{path}: not a text (UTF-8) file") from None
    except OSError as err:
        raise GenesisError(f"{path}: {err.strerror or err}") from None
    rows: list[tuple[str, int]] = []
    reader = csv.reader(text.splitlines())
    while True:
        try:
            row = next(reader, None)
        except csv.Error as err:
            raise GenesisError(f"{path}, line {reader.line_num}: {err}") from None
        if row is None:
            return rows
        number = reader.line_num
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != 2:
            raise GenesisError(f"{path}, line {number}: expected address,balance, got {len(row)} column(s)")
        address, balance = row[0].strip(), row[1].strip()
        if not address:
            raise GenesisError(f"{path}, line {number}: empty address")
        if not balance.isdigit() or not balance.isascii():
            raise GenesisError(f"{path}, line {number}: balance must be a whole number of 1e-8 units, not {balance!r}")
        rows.append((address, int(balance)))
