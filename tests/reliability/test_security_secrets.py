"""No secret leaves the wallet file (issue 13, item 5): histories, logs and files scanned after a real run.

An otto run on the session's dev server and an embedded node: a fiber lifecycle between two agents of
the wallet pool, their identities registered, and an attestation issued, every move signed by the worker
with keys it reads from the encrypted pool; and a tiny ads study (its histories are scanned too). Then,
for the exact secrets the test knows (each pool agent's private key and the wallet passphrase), raw, hex
in either case and base64 at every alignment, three places are searched:

- every workflow history in the namespace (all of them: what earlier tests of the session ran too),
  as JSON and with every base64 payload decoded;
- every log record emitted during the run (the worker, activities, clients, httpx), at DEBUG;
- every file under the session's temporary directory: the dev server's log, the wallet files, stores,
  trace and event files other tests wrote.

Monero wallets here have no secrets to leak: monero-wallet-rpc runs with ``--disable-rpc-login`` and empty
wallet passwords (localnet/monero/processes.py, activities/monero/rpc.py); a 25-word mnemonic in any
history is searched for by its shape. Wallet files themselves are 0600 and hold no key in plaintext.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
import logging
import os
import re
import stat
import time
import uuid
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from temporalio.client import Client

from activities.otto.identity import IdentityActivities
from activities.otto.keyring import Keyring
from models.otto import AttestationSpec, FiberSpec, IdentitySpec, OttoEndpoints, Party
from sim.otto.fibers import FIBER_KINDS
from store.wallets import WalletError, WalletStore, generate_pool
from tests.ads.conftest import SMALL, ads_http, sqlite_engine, study
from tests.otto.conftest import PASSPHRASE, Pool, endpoints, http, node, otto_worker, pool
from workflows.otto.fiber import FiberWorkflow
from workflows.otto.identity import AttestationWorkflow, IdentityWorkflow

__all__ = ["ads_http", "endpoints", "http", "node", "otto_worker", "pool", "sqlite_engine", "study"]

pytestmark = pytest.mark.reliability

MAX_SCANNED_FILE = 64 * 1024 * 1024
# A Monero mnemonic: 25 lowercase words, space-separated (English word list: 3 to 12 letters).
MNEMONIC = re.compile(rb"\b(?:[a-z]{3,12} ){24}[a-z]{3,12}\b")


def base64_forms(data: bytes) -> set[bytes]:
    """``data`` as it shows inside any base64 text: encoded at each of the three alignments, edges dropped."""
    forms = set()
    for pad in range(3):
        encoded = base64.b64encode(b"\0" * pad + data)
        # The first characters mix in the padding bytes, the last ones what follows: keep the stable middle.
        start = (pad * 4 + 2) // 3
        stable = encoded[start : len(encoded) - 4]
        if len(stable) >= 12:
            forms.add(stable)
    return forms


def forms_of(secret: str) -> set[bytes]:
    """How ``secret`` could appear in bytes: as is, upper case, base64 of its text, base64 of its bytes if hex."""
    text = secret.encode()
    found = {text, secret.upper().encode(), *base64_forms(text)}
    with_quotes = json.dumps(secret).encode()
    found |= base64_forms(with_quotes)
    if re.fullmatch("[0-9a-fA-F]{64}", secret):
        raw = bytes.fromhex(secret)
        found |= {raw, *base64_forms(raw)}
    return found


class Secrets:
    def __init__(self, named: dict[str, str]) -> None:
        self.forms = {name: forms_of(value) for name, value in named.items()}

    def found_in(self, data: bytes) -> list[str]:
        return [name for name, forms in self.forms.items() if any(form in data for form in forms)]


def decoded_strings(value: Any) -> Iterator[bytes]:
    """Every string in a JSON document, and what each that is base64 decodes to (payloads are base64 JSON)."""
    if isinstance(value, dict):
        for child in value.values():
            yield from decoded_strings(child)
    elif isinstance(value, list):
        for child in value:
            yield from decoded_strings(child)
    elif isinstance(value, str):
        yield value.encode()
        if len(value) >= 16:
            try:
                decoded = base64.b64decode(value, validate=True)
            except (binascii.Error, ValueError):
                return
            yield decoded


class Captured(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))  # exc_info included: a traceback could carry a local's value


@pytest.fixture
def captured_logs() -> Iterator[Captured]:
    handler = Captured()
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        yield handler
    finally:
        root.removeHandler(handler)
        root.setLevel(level)


async def otto_run(client: Client, task_queue: str, pool: Pool, endpoints: OttoEndpoints, otto_worker, http) -> None:
    """A fiber lifecycle, two identities and an attestation, each signed with keys from the pool."""
    kind = FIBER_KINDS["SimpleOrder"]
    parties = pool.take(kind.min_parties, offset=8)
    spec = FiberSpec(
        fiber_type=kind.name,
        parties=parties,
        outcome=kind.outcomes[0].name,
        seed=3,
        endpoints=endpoints,
        wallets=str(pool.path),
        timeout_seconds=120,
    )
    identity = IdentityActivities(http, Keyring(PASSPHRASE))
    worker = otto_worker(
        IdentityWorkflow,
        AttestationWorkflow,
        extra_activities=identity.all(),
    )
    async with worker:
        result = await client.execute_workflow(
            FiberWorkflow.run, spec, id=f"secrets-fiber-{uuid.uuid4().hex[:8]}", task_queue=task_queue
        )
        assert result.outcome == spec.outcome, result
        identities = {}
        for party in parties:
            identities[party.agent_id] = await client.execute_workflow(
                IdentityWorkflow.run,
                IdentitySpec(
                    endpoints=endpoints,
                    wallets=str(pool.path),
                    agent_id=party.agent_id,
                    address=party.address,
                    display_name=party.agent_id,
                    platform="discord",
                    platform_user_id=f"user-{party.agent_id}",
                ),
                id=f"secrets-identity-{uuid.uuid4().hex[:8]}",
                task_queue=task_queue,
            )
        issuer, subject = parties[0], parties[1]
        attestation = await client.execute_workflow(
            AttestationWorkflow.run,
            AttestationSpec(
                endpoints=endpoints,
                wallets=str(pool.path),
                kind="vouch",
                issuer=Party(agent_id=issuer.agent_id, address=issuer.address),
                subject=Party(agent_id=subject.agent_id, address=subject.address),
                subject_identity=identities[subject.agent_id].fiber_id,
                claim="kept every promise",
            ),
            id=f"secrets-attest-{uuid.uuid4().hex[:8]}",
            task_queue=task_queue,
        )
        assert attestation.issued, attestation


async def histories(client: Client) -> list[tuple[str, bytes, list[bytes]]]:
    """(workflow id, history JSON, decoded strings) of every workflow run in the namespace."""
    found = []
    async for execution in client.list_workflows():
        history = await client.get_workflow_handle(execution.id, run_id=execution.run_id).fetch_history()
        text = history.to_json()
        found.append((execution.id, text.encode(), list(decoded_strings(json.loads(text)))))
    return found


def files_under(root: Path) -> Iterable[Path]:
    for path in root.rglob("*"):
        try:
            if path.is_file() and not path.is_symlink() and path.stat().st_size <= MAX_SCANNED_FILE:
                yield path
        except OSError:
            continue  # a file another test removes while we walk


async def test_no_secret_in_histories_logs_or_files(
    client: Client,
    task_queue: str,
    pool: Pool,
    endpoints: OttoEndpoints,
    otto_worker,
    http: httpx.AsyncClient,
    captured_logs: Captured,
    tmp_path_factory: pytest.TempPathFactory,
    study,
    sqlite_engine,
):
    await otto_run(client, task_queue, pool, endpoints, otto_worker, http)
    ads, _ = await study(sqlite_engine, seed=3, scenarios=("A", "C"), **{**SMALL, "days": 2})
    secrets = Secrets({**{f"private key of {a}": k for a, k in pool.private_keys.items()}, "passphrase": PASSPHRASE})

    # Visibility lags behind a workflow's close: wait until this run's workflows are listed.
    deadline = time.monotonic() + 60
    while True:
        runs = await histories(client)
        listed = {workflow_id for workflow_id, _, _ in runs}
        if ads.id in listed and any(w.startswith("secrets-attest-") for w in listed):
            break
        assert time.monotonic() < deadline, "this run's workflows were never listed"
        await asyncio.sleep(1)
    leaks = []
    for workflow_id, text, strings in runs:
        for name in secrets.found_in(text) + [n for s in strings for n in secrets.found_in(s)]:
            leaks.append(f"history {workflow_id}: {name}")
        if any(MNEMONIC.search(s) for s in strings):
            leaks.append(f"history {workflow_id}: a 25-word mnemonic")

    logs = "\n".join(captured_logs.lines).encode()
    assert captured_logs.lines, "no log records were captured: the scan would be empty"
    leaks += [f"log: {name}" for name in secrets.found_in(logs)]

    scanned = 0
    for path in files_under(tmp_path_factory.getbasetemp()):
        try:
            data = path.read_bytes()
        except OSError:
            continue
        scanned += 1
        leaks += [f"file {path.name}: {name}" for name in secrets.found_in(data)]
    assert scanned > 0
    assert not leaks, "\n".join(sorted(set(leaks)))


def test_the_scan_finds_what_it_looks_for():
    """The scanner is not blind: a key in a payload (base64 JSON, any offset), upper case, or raw, is found."""
    key = "3f" * 32
    secrets = Secrets({"key": key})
    for prefix in ("", "x", "xy"):
        payload = base64.b64encode(json.dumps({"pad": prefix, "privateKey": key}).encode())
        assert secrets.found_in(payload) == ["key"]
    assert secrets.found_in(f"... {key.upper()} ...".encode()) == ["key"]
    assert secrets.found_in(b"\x00" + bytes.fromhex(key) + b"\x00") == ["key"]
    assert secrets.found_in(b"nothing here " + base64.b64encode(os.urandom(64))) == []


def test_wallet_files_are_private_and_encrypted(tmp_path: Path, pool: Pool):
    path = tmp_path / "wallets.json"
    store = generate_pool(path, "another passphrase", count=4, seed=2)
    keys = {agent.id: store.private_key(agent.id) for agent in store.agents}
    for wallet, passphrase, named in ((path, "another passphrase", keys), (pool.path, PASSPHRASE, pool.private_keys)):
        assert stat.S_IMODE(wallet.stat().st_mode) == 0o600, oct(wallet.stat().st_mode)
        data = wallet.read_bytes()
        assert Secrets({**named, "passphrase": passphrase}).found_in(data) == []
        # Encrypted, not merely encoded: the keys come back with the passphrase, and only with it.
        with pytest.raises(WalletError, match="wrong passphrase"):
            WalletStore.open(wallet, passphrase + "!")
        reopened = WalletStore.open(wallet, passphrase)
        assert {agent.id: reopened.private_key(agent.id) for agent in reopened.agents} == named
