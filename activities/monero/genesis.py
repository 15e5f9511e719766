"""A genesis snapshot: a regtest chain pre-mined on an offline node to a deterministic bank wallet.

The snapshot holds the node's chain (``chain/``, the ``fake`` directory monerod keeps in regtest), the bank
wallet's files (``wallets/bank``, ``wallets/bank.keys``) and ``genesis.json`` (height, the bank's address and its
mnemonic). The bank is restored with ``restore_deterministic_wallet`` from a mnemonic made when the snapshot is
made, so the coinbase outputs belong to a wallet anyone holding genesis.json can rebuild. Runs start their nodes
from copies of ``chain/`` (monerod ``--keep-fakechain``) and their bank from copies of the wallet files: pre-mining
happens once, not per run.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import httpx

from activities.monero.rpc import DaemonClient, WalletClient
from localnet.monero import processes
from localnet.ports import free_ports
from store.files import write_atomically

BANK = "bank"
CHAIN = "chain"
WALLETS = "wallets"
MANIFEST = "genesis.json"


def manifest(snapshot: Path) -> dict | None:
    try:
        return json.loads((snapshot / MANIFEST).read_text())
    except (OSError, ValueError):
        return None


async def wait_until(probe: Callable, *, timeout: float, tick: Callable[[], None] = lambda: None, every: float = 0.1):
    """Call ``probe()`` until it returns without raising; its last error if ``timeout`` passes first."""
    deadline = time.monotonic() + timeout
    while True:
        tick()
        try:
            return await probe()
        except Exception:
            if time.monotonic() > deadline:
                raise
        await asyncio.sleep(every)


async def build_snapshot(
    target: Path, *, blocks: int = 100, difficulty: int = 1, tick: Callable[[], None] = lambda: None
) -> dict:
    """Pre-mine ``blocks`` blocks to a fresh deterministic bank wallet and save the snapshot in ``target``.

    Idempotent: a complete snapshot (its manifest written last) is returned as it is.
    """
    existing = manifest(target)
    if existing is not None:
        return existing
    target.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=".genesis-", dir=target.parent))
    rpc_port, p2p_port, wallet_port = free_ports(3)
    node = processes.NodeProcess(
        name="genesis",
        data_dir=work / "node",
        rpc_port=rpc_port,
        p2p_port=p2p_port,
        difficulty=difficulty,
        offline=True,
    )
    wallet = processes.WalletProcess(
        name="genesis-wallet",
        wallet_dir=work / WALLETS,
        ringdb_dir=work / "ringdb",
        rpc_port=wallet_port,
        daemon=f"127.0.0.1:{node.rpc_port}",
        log_file=work / "wallet-rpc.log",
    )
    node.data_dir.mkdir(parents=True)
    wallet.wallet_dir.mkdir(parents=True)
    started: list[processes.Launched] = []
    try:
        started.append(
            processes.launch(work, node.name, node.argv(), marker=str(node.data_dir), log=work / "monerod.out")
        )
        started.append(
            processes.launch(work, wallet.name, wallet.argv(), marker=str(wallet.wallet_dir), log=work / "wallet.out")
        )
        async with httpx.AsyncClient(timeout=30) as http:
            daemon, bank = DaemonClient(http, node.url), WalletClient(http, wallet.url)
            await wait_until(daemon.height, timeout=60, tick=tick)
            await wait_until(bank.version, timeout=60, tick=tick)
            # The mnemonic is made now, and the bank restored from it: the wallet is reproducible from genesis.json.
            await bank.create_wallet("seed")
            mnemonic = await bank.mnemonic()
            await bank.close_wallet()
            await bank.restore(BANK, mnemonic)
            address = (await bank.addresses()).address
            done = 1
            while done < blocks + 1:
                step = min(20, blocks + 1 - done)
                await daemon.generate_blocks(step, address)
                done += step
                tick()
            height = (await daemon.height()).height
            await bank.refresh()
            await bank.store()
            await bank.close_wallet()
    finally:
        for launched in reversed(started):
            processes.stop(launched.pid, launched.marker)
    target.mkdir(parents=True, exist_ok=True)
    processes.copy_sparse(node.data_dir / "fake", target / CHAIN)
    (target / WALLETS).mkdir(exist_ok=True)
    for name in (BANK, f"{BANK}.keys"):
        shutil.copy2(work / WALLETS / name, target / WALLETS / name)
    record = {"height": height, "bank_address": address, "mnemonic": mnemonic, "blocks": blocks}
    write_atomically(target / MANIFEST, json.dumps(record, indent=1).encode())
    shutil.rmtree(work, ignore_errors=True)
    return record


def copy_chain(snapshot: Path, data_dir: Path) -> bool:
    """Give a new node the snapshot's chain; False when its data dir already holds one (a restart)."""
    if (data_dir / "fake" / "lmdb" / "data.mdb").exists():
        return False
    data_dir.mkdir(parents=True, exist_ok=True)
    partial = data_dir / ".fake-copy"
    shutil.rmtree(partial, ignore_errors=True)
    processes.copy_sparse(snapshot / CHAIN, partial)
    partial.rename(data_dir / "fake")
    return True


def copy_bank(snapshot: Path, wallet_dir: Path) -> bool:
    if (wallet_dir / f"{BANK}.keys").exists():
        return False
    wallet_dir.mkdir(parents=True, exist_ok=True)
    for name in (BANK, f"{BANK}.keys"):
        shutil.copy2(snapshot / WALLETS / name, wallet_dir / f".{name}.part")
    for name in (BANK, f"{BANK}.keys"):
        (wallet_dir / f".{name}.part").rename(wallet_dir / name)
    return True
