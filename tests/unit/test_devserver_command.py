"""The README, temporal/start-dev.sh and the embedded server start the same dev server."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

from localnet.temporal_dev import DevServerConfig, dev_server_args
from models import search_attributes

ROOT = Path(__file__).resolve().parents[2]
EXPECTED = dev_server_args(DevServerConfig(db_file=Path(".simctl/temporal.db")))


def command_words(text: str, start: str) -> list[str]:
    """The shell words of the (backslash-continued) command beginning with ``start``."""
    joined = re.sub(r"\\\n\s*", " ", text)
    line = next(line for line in joined.splitlines() if line.strip().startswith(start))
    return shlex.split(line, comments=True)


def test_readme_command_matches_the_embedded_server():
    words = command_words((ROOT / "README.md").read_text(), "temporal server start-dev")
    assert words[1:] == EXPECTED


def test_start_dev_script_matches_the_embedded_server():
    words = command_words((ROOT / "temporal" / "start-dev.sh").read_text(), 'exec "$temporal_cli"')
    assert words[2:] == [*EXPECTED, "$@"]


def test_every_search_attribute_is_registered_with_its_type():
    pairs = [EXPECTED[i + 1] for i, word in enumerate(EXPECTED) if word == "--search-attribute"]
    assert pairs == [f"{attribute.name}={attribute.type}" for attribute in search_attributes.ALL]
    assert "SimDay=Int" in pairs and "FiberState=Keyword" in pairs


def test_measured_server_settings_are_applied():
    assert 'history.timerProcessorMaxTimeShift="10ms"' in EXPECTED
    assert "history.shardIOConcurrency=8" in EXPECTED
    assert "journal_mode=wal" in EXPECTED
