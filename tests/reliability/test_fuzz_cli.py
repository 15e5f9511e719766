"""Property-based fuzzing of the CLI's config inputs (issue 13, item 4): monero config.yaml, the ads study's
options, and wallet files.

Each command runs in this process through ``simctl.app.run`` (the console script's own entry: it turns
known errors into one line), every path it is given absolute and inside a fresh directory; every case
here fails, or finishes, before any server would start. The invariants: the command returns (no
exception escapes, so no traceback) with exit 0, or exit 2 and exactly one line on stderr,
``simctl: <reason>``; and a refused command leaves its directory as it was, byte for byte (nothing
half-written).

``SIMCTL_FUZZ_EXAMPLES`` sets the examples per property (default 10).
"""

from __future__ import annotations

import contextlib
import copy
import hashlib
import io
import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from models.monero import ConfigError, MoneroConfig, parse_config
from simctl.app import run
from store.wallets import generate_pool
from tests.reliability.documents import get, paths_in

pytestmark = pytest.mark.reliability

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = int(os.environ.get("SIMCTL_FUZZ_EXAMPLES", "10"))
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
PASSPHRASE = "fuzz passphrase"
EXAMPLE_CONFIG = (ROOT / "examples" / "monero" / "config.yaml").read_text()
# Where the CLI would reach Temporal if a case got that far: nothing listens there, so nothing starts.
NOWHERE = ["--no-embedded", "--address", "127.0.0.1:1"]
UNREACHABLE = "no Temporal server answers"

scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.text(max_size=20)
    | st.sampled_from((0, -1, 2**63, 10**30, "", ".nan", "1e999", "x" * 1000))
)
values = st.recursive(
    scalars,
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=10), children, max_size=3),
    max_leaves=10,
)


@contextlib.contextmanager
def isolated() -> Iterator[Path]:
    """A fresh directory and no SIMCTL_/TEMPORAL_ settings from the test session but the passphrase."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("SIMCTL_", "TEMPORAL_", "OTEL_"))}
    clean["SIMCTL_WALLET_PASSPHRASE"] = PASSPHRASE
    with tempfile.TemporaryDirectory() as directory, mock.patch.dict(os.environ, clean, clear=True):
        yield Path(directory)


def simctl(directory: Path, *argv: str) -> tuple[int, str, str]:
    """Run the CLI in this process; an exception escaping it (a traceback for a user) fails the test."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = run(["--state-dir", str(directory / "state"), *argv])
    return code, out.getvalue(), err.getvalue()


def listing(directory: Path) -> dict[str, str]:
    """Every file under ``directory`` with a digest of its bytes."""
    return {
        str(path.relative_to(directory)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(directory.rglob("*"))
        if path.is_file()
    }


def refused(code: int, err: str) -> str:
    """Exit 2 and one line on stderr; returns the line."""
    lines = err.splitlines()
    assert code == 2 and len(lines) == 1 and lines[0].startswith("simctl: "), f"exit {code}, stderr {err!r}"
    assert "Traceback" not in err
    return lines[0]


@st.composite
def mutated(draw: st.DrawFn, document: Any) -> Any:
    """``document`` with one to three fields dropped, replaced by any value, or added."""
    document = copy.deepcopy(document)
    for _ in range(draw(st.integers(1, 3))):
        targets = paths_in(document)
        if not targets:
            return draw(values)
        path = draw(st.sampled_from(targets))
        parent = get(document, path[:-1])
        kind = draw(st.sampled_from(("drop", "replace", "add")))
        if kind == "drop":
            del parent[path[-1]]
        elif kind == "replace":
            parent[path[-1]] = draw(values)
        elif isinstance(parent, dict):
            parent[draw(st.text(max_size=10))] = draw(values)
    return document


@st.composite
def broken_text(draw: st.DrawFn, text: str) -> bytes:
    """Bytes a file might hold after damage: cut short, a byte changed, not UTF-8, or any text at all."""
    data = text.encode()
    kind = draw(st.sampled_from(("truncated", "byte", "binary", "text")))
    if kind == "truncated":
        return data[: draw(st.integers(0, len(data) - 1))]
    if kind == "byte":
        at = draw(st.integers(0, len(data) - 1))
        return data[:at] + bytes([draw(st.integers(0, 255))]) + data[at + 1 :]
    if kind == "binary":
        return draw(st.binary(min_size=1, max_size=200))
    return draw(st.text(max_size=200)).encode("utf-8", "surrogatepass")


# --- monero config.yaml ---------------------------------------------------------------------------

example_document = yaml.safe_load(EXAMPLE_CONFIG)
config_files = mutated(example_document).map(lambda doc: yaml.safe_dump(doc).encode()) | broken_text(EXAMPLE_CONFIG)


@settings(FUZZ, max_examples=EXAMPLES * 5)
@given(data=config_files)
def test_parse_config_answers_a_config_or_a_config_error(data: bytes):
    """Pure and cheap, so many more examples: any text is a config or one ConfigError naming the source."""
    try:
        parsed = parse_config(data.decode("utf-8", "replace"), "config.yaml")
    except ConfigError as err:
        assert str(err).startswith("config.yaml") and "\n" not in str(err)
    else:
        assert isinstance(parsed, MoneroConfig)


@FUZZ
@given(data=config_files)
def test_shadow_config_writes_everything_or_nothing(data: bytes):
    with isolated() as directory:
        (directory / "config.yaml").write_bytes(data)
        before = listing(directory)
        config, out_dir = str(directory / "config.yaml"), str(directory / "out")
        code, out, err = simctl(directory, "monero", "shadow-config", "--config", config, "--out", out_dir)
        if code == 0:
            assert (directory / "out" / "shadow.yaml").is_file(), out
            return
        refused(code, err)
        assert listing(directory) == before


def test_a_config_that_is_not_utf8_is_one_line(tmp_path: Path):
    """Regression: bytes that are not UTF-8 escaped as a UnicodeDecodeError traceback."""
    with isolated() as directory:
        (directory / "config.yaml").write_bytes(b"simulation:\n  seed: \xff\xfe\n")
        config, out_dir = str(directory / "config.yaml"), str(directory / "out")
        code, _, err = simctl(directory, "monero", "shadow-config", "--config", config, "--out", out_dir)
        assert "not UTF-8" in refused(code, err)
        assert not (directory / "out").exists()


# --- ads experiment options -----------------------------------------------------------------------

numbers = st.integers(-(10**6), 0).map(str) | st.sampled_from(("", "x", "1.5", "nan", "-inf", "1e3", "0x10"))
probabilities = (
    st.floats(min_value=1.000001, max_value=1e30).map(repr)
    | st.floats(max_value=-1e-9, min_value=-1e30).map(repr)
    | st.sampled_from(("nan", "inf", "-inf", "", "x", "1,5"))
)
bad_options = st.one_of(
    st.tuples(st.sampled_from(("--days", "--buyers", "--sellers", "--campaigns-per-buyer")), numbers),
    st.tuples(st.just("--days"), st.integers(366, 10**30).map(str)),
    st.tuples(st.just("--seed"), st.sampled_from(("x", "1.5", "", "nan"))),
    st.tuples(
        st.sampled_from(("--hallucination-rate", "--context-survival", "--restart-probability", "--exchange-fee")),
        probabilities,
    ),
    st.tuples(
        st.just("--acceleration"),
        st.floats(max_value=-1e-9, min_value=-1e30).map(repr) | st.sampled_from(("nan", "inf", "x")),
    ),
    st.tuples(st.just("--scenarios"), st.text(max_size=12).filter(lambda s: s.strip().upper() not in ("A", "B", "C"))),
    st.tuples(st.just("--scenarios"), st.sampled_from(("A,A", "A,B,C,D", ",", "A;B"))),
    st.tuples(st.just("--auction"), st.text(max_size=10).filter(lambda s: s not in ("first", "second"))),
    st.tuples(st.just("--id"), st.text(max_size=10).map(lambda s: s + '"')),
    st.tuples(st.just("--llm-url"), st.sampled_from(("notaurl", "ftp://x", "http://", "127.0.0.1:8000", " "))),
    st.tuples(st.just("--llm-budget"), st.integers(max_value=-1).map(str)),
)


@FUZZ
@given(options=st.lists(bad_options, min_size=1, max_size=3))
def test_start_campaign_refuses_bad_options_before_anything_starts(options: list[tuple[str, str]]):
    argv = [part for option in options for part in option]
    with isolated() as directory:
        code, _, err = simctl(directory, *NOWHERE, "start-campaign", *argv)
        line = refused(code, err)
        assert UNREACHABLE not in line, f"{argv} got as far as connecting: {line}"
        assert listing(directory) == {}


# --- wallet files ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def wallet_bytes(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    path = tmp_path_factory.mktemp("wallet") / "wallets.json"
    generate_pool(path, PASSPHRASE, count=3, seed=1)
    return path.read_bytes()


def wallet_damage(original: bytes) -> st.SearchStrategy[bytes]:
    document = json.loads(original)
    as_json = mutated(document).map(lambda doc: json.dumps(doc).encode())
    return as_json | broken_text(original.decode())


@FUZZ
@given(data=st.data())
def test_a_damaged_wallet_file_is_one_line_and_nothing_is_written(wallet_bytes: bytes, data: st.DataObject):
    damaged = data.draw(wallet_damage(wallet_bytes))
    export = data.draw(st.booleans())
    with isolated() as directory:
        command = ["export-genesis", "--output", str(directory / "genesis.csv")] if export else ["list"]
        wallet = directory / "wallets.json"
        wallet.write_bytes(damaged)
        wallet.chmod(0o600)
        before = listing(directory)
        flag = "--wallets" if command[0] == "list" else "--input"
        code, _, err = simctl(directory, "wallet", *command, flag, str(wallet))
        if code == 0:
            return  # the damage missed what the command reads (e.g. a profile field)
        refused(code, err)
        assert listing(directory) == before


def test_a_wallet_key_with_a_control_character_is_one_line(wallet_bytes: bytes):
    """Regression: a key holding U+001E (a line boundary to str.splitlines) made a two-line error."""
    document = json.loads(wallet_bytes)
    document["agents"][0]["traits"] = {"fiber_weights": {"\x1e": "x"}}
    with isolated() as directory:
        wallet = directory / "wallets.json"
        wallet.write_text(json.dumps(document))
        wallet.chmod(0o600)
        code, _, err = simctl(directory, "wallet", "list", "--wallets", str(wallet))
        assert "is not a wallet file" in refused(code, err)


def test_the_undamaged_wallet_file_still_opens(wallet_bytes: bytes):
    """The other side of the property: the commands fuzzed above do work on the file as written."""
    with isolated() as directory:
        wallet = directory / "wallets.json"
        wallet.write_bytes(wallet_bytes)
        wallet.chmod(0o600)
        genesis = directory / "g.csv"
        code, _, err = simctl(directory, "wallet", "export-genesis", "--input", str(wallet), "--output", str(genesis))
        assert code == 0, err
        assert len(genesis.read_text().splitlines()) == 3
