"""`simctl monero report` on a real short run: report.json's figures against the store's rows, valid PNGs, and an
unknown run id refused in one line with nothing written."""

from __future__ import annotations

import json
import struct
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from report.monero import CHARTS
from store import monero as monero_store
from store.tables import MoneroBalanceRow, MoneroBlockRow, MoneroPropagationRow, MoneroTransactionRow
from tests.cli.helpers import environment, simctl
from tests.monero.configs import small_config

# The session's genesis (pre-mined once) may be built within this test's time on a loaded machine.
pytestmark = [pytest.mark.monerod, pytest.mark.timeout(900)]

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def png_size(content: bytes) -> tuple[int, int]:
    assert content.startswith(PNG_SIGNATURE)
    length, kind = struct.unpack(">I4s", content[8:16])
    assert kind == b"IHDR" and length == 13
    width, height = struct.unpack(">II", content[16:24])
    assert content.endswith(b"IEND\xaeB`\x82"), "a PNG ends with its IEND chunk"
    return width, height


async def test_the_report_of_a_real_run_agrees_with_the_store(
    monero_network,
    monero_engine: AsyncEngine,
    tmp_path: Path,
):
    run = await monero_network(small_config(blocks=10, frequency=0.25), rounds_per_run=6)
    run_id = run.summary.run_id
    env = environment(SIMCTL_DATABASE_URL=f"sqlite+aiosqlite:///{monero_engine.url.database}")

    # An unknown run: one line, exit 2, nothing written.
    missing = tmp_path / "missing"
    result = simctl("monero", "report", "no-such-run", "--out", str(missing), env=env)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "no monero run 'no-such-run'" in result.stderr, result.stderr
    assert run_id in result.stderr, "the known runs are named"
    assert not missing.exists()

    out = tmp_path / "report"
    result = simctl("monero", "report", run_id, "--out", str(out), env=env)
    assert result.returncode == 0, result.stderr
    assert {p.name for p in out.iterdir()} == {"report.md", "report.json", *CHARTS}, "no temporary file left"
    for chart in CHARTS:
        assert png_size((out / chart).read_bytes()) == (1000, 550)
    document = json.loads((out / "report.json").read_text())
    f = document["findings"]
    assert document["checks"] == [] == f["checks"]
    assert document["parameters"]["simulation"]["seed"] == run.spec.config.simulation.seed

    blocks = await monero_store.rows(monero_engine, MoneroBlockRow, run_id)
    scheduled = [b for b in blocks if b["phase"] == "run"]
    # Blocks per pool sum to the scheduled block count, pool by pool as recorded.
    assert f["blocks"]["total"] == len(blocks)
    assert f["blocks"]["scheduled"] == len(scheduled) == 10 == run.summary.rounds
    observed = {p["pool"]: p["observed"] for p in f["blocks"]["pools"]}
    assert sum(observed.values()) == 10
    assert observed == {pool: sum(1 for b in scheduled if b["pool"] == pool) for pool in observed}
    assert {k: v for k, v in observed.items() if v} == {k: v for k, v in run.summary.blocks_by_pool.items() if v}
    shares = run.spec.config.pool_shares()
    chi = sum((observed[pool] - 10 * share) ** 2 / (10 * share) for pool, share in shares.items())
    fit = f["blocks"]["fit"]
    assert fit["statistic"] == pytest.approx(chi, abs=1e-6) and fit["degrees_of_freedom"] == 2
    assert 0 < fit["p_value"] <= 1
    assert f["intervals"]["sim_intervals_s"] == [120] * 10 and f["intervals"]["off_schedule"] == 0

    transactions = await monero_store.rows(monero_engine, MoneroTransactionRow, run_id)
    payments = [t for t in transactions if t["kind"] == "payment" and t["status"] != "skipped"]
    c = f["confirmation"]
    assert c["sent"] == len(payments) == run.summary.payments_sent > 0
    assert c["mined"] == c["sent"] and c["unmined"] == []
    # Sent, in pool, mined at height: every payment was seen in its node's pool before a block held it.
    assert c["seen_in_pool"] == c["sent"]
    assert all(t["in_pool_at_ms"] is not None and t["status"] == "mined" for t in payments)
    latencies = sorted(t["mined_height"] - t["sent_height"] + 1 for t in payments)
    assert sum(c["latency_blocks_histogram"].values()) == len(payments)
    assert c["latency_blocks"]["min"] == latencies[0] >= 1 and c["latency_blocks"]["max"] == latencies[-1]

    samples = await monero_store.rows(monero_engine, MoneroPropagationRow, run_id)
    p = f["propagation"]
    assert p["nodes"] == 3 and p["blocks_measured"] == len({s["height"] for s in samples})
    assert [step["nodes"] for step in p["by_node_count"]] == [1, 2, 3]
    # The last node to have a block is its slowest; the first, its fastest.
    assert p["by_node_count"][-1]["delay_ms"]["max"] == max(s["delay_ms"] for s in samples)
    assert p["by_node_count"][0]["delay_ms"]["min"] == min(s["delay_ms"] for s in samples)
    assert all(step["blocks"] == p["blocks_measured"] for step in p["by_node_count"])

    # Reconciliation sums, to the atomic unit: the users' rows, the vendors' wallets, the marketplaces' balances.
    r = f["reconciliation"]
    assert r["reconciled"] is True
    assert r["sent_total"] == sum(t["amount"] for t in payments) == r["received_total"]
    assert r["received_total"] == sum(v.received for rec in run.summary.reconciliations for v in rec.vendors)
    balances = await monero_store.rows(monero_engine, MoneroBalanceRow, run_id)
    for market in r["marketplaces"]:
        start = next(b["balance"] for b in balances if b["wallet"] == market["marketplace"] and b["phase"] == "start")
        end = next(b["balance"] for b in balances if b["wallet"] == market["marketplace"] and b["phase"] == "end")
        assert market["balance_change"] == end - start == market["received"]
        assert market["sent"] == sum(t["amount"] for t in payments if t["marketplace"] == market["marketplace"])
    # And every user's wallet fell by exactly what it sent plus its fees.
    assert {u["user"] for u in r["users"]} == {f"user_{i}" for i in range(4)}
    assert all(u["difference"] == 0 and u["balance_change"] == -(u["sent"] + u["fees"]) for u in r["users"])

    text = (out / "report.md").read_text()
    assert f"# Monero network run `{run_id}`" in text
    assert "configured share (input)" in text and "by construction" in text
    for chart in CHARTS:
        assert f"({chart})" in text
