"""Audit of a real study (chain, store vs history, replay) under tampering; reproducible reports."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import delete, insert, update
from sqlalchemy.ext.asyncio import AsyncEngine

from report import load_study, write_report
from report.formatting import dollars, usd
from sim.ads.findings import compute_findings
from sim.hashchain import make_entry
from simctl.commands.audit import run_audit
from store import ledger
from store.engine import open_store
from store.tables import LedgerHeadRow, LedgerRow
from tests.ads.conftest import SMALL


@pytest.fixture
async def audited(study, tmp_path, settings_for, temporal_address):
    """A small study in its own SQLite store, and settings that point the audit at it."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'audited.db'}"
    async with open_store(url) as engine:
        spec, _ = await study(engine, seed=9, **SMALL)
        chains = [c for c in await ledger.chain_ids(engine) if c.startswith(f"ads/{spec.id}/C/")]
    settings = settings_for(temporal_address=temporal_address, database_url=url, embedded=False)
    return settings, url, spec, chains


async def audit(settings, spec):
    return await run_audit(settings, chain=None, experiment=spec.id, with_history=True)


async def longest(engine: AsyncEngine, chains: list[str]) -> str:
    sizes = [(len((await ledger.read_chain(engine, chain))[0]), chain) for chain in chains]
    return max(sizes)[1]


async def test_untouched_study_passes_all_three_checks(audited):
    settings, _, spec, chains = audited
    report = await audit(settings, spec)
    assert report.ok
    assert report.verdicts and all(v.ok for v in report.verdicts)
    assert report.history.histories == 12 and report.history.chains_checked >= len(chains) > 0
    assert not report.history.mismatches and not report.history.replay_failures


@pytest.mark.parametrize("tampering", ["modify", "delete", "insert", "reorder", "rewrite"])
async def test_tampering_with_one_row_is_caught_and_named(audited, tampering: str):
    settings, url, spec, chains = audited
    async with open_store(url) as engine:
        chain = await longest(engine, chains)
        entries, row_ids, _ = await ledger.read_chain(engine, chain)
        assert len(entries) >= 3
        async with engine.begin() as connection:
            if tampering == "modify":
                await connection.execute(
                    update(LedgerRow).where(LedgerRow.id == row_ids[1]).values(payload_json='{"type":"deal"}')
                )
            elif tampering == "delete":
                await connection.execute(delete(LedgerRow).where(LedgerRow.id == row_ids[1]))
            elif tampering == "insert":
                forged = make_entry(
                    chain_id=chain,
                    seq=len(entries),
                    prev_hash=entries[-1].entry_hash,
                    payload={"type": "delivery", "paid": 1},
                    author="mallory",
                    sim_time=0,
                    idempotency_key="forged",
                )
                await connection.execute(insert(LedgerRow).values(**forged.model_dump()))
                # A careful forger also moves the head: the chain alone then looks intact.
                await connection.execute(
                    update(LedgerHeadRow)
                    .where(LedgerHeadRow.chain_id == chain)
                    .values(length=len(entries) + 1, head_hash=forged.entry_hash)
                )
            elif tampering == "reorder":
                await connection.execute(update(LedgerRow).where(LedgerRow.id == row_ids[0]).values(seq=-1))
                await connection.execute(update(LedgerRow).where(LedgerRow.id == row_ids[1]).values(seq=0))
                await connection.execute(update(LedgerRow).where(LedgerRow.id == row_ids[0]).values(seq=1))
            else:  # rewrite: change the last entry and recompute its hash and the head, so (a) alone passes
                last = entries[-1]
                forged = make_entry(
                    chain_id=chain,
                    seq=last.seq,
                    prev_hash=last.prev_hash,
                    payload={"type": "delivery", "paid": 10**9},
                    author=last.author,
                    sim_time=last.sim_time,
                    idempotency_key=last.idempotency_key,
                )
                await connection.execute(
                    update(LedgerRow).where(LedgerRow.id == row_ids[-1]).values(**forged.model_dump())
                )
                await connection.execute(
                    update(LedgerHeadRow).where(LedgerHeadRow.chain_id == chain).values(head_hash=forged.entry_hash)
                )

    report = await audit(settings, spec)
    assert not report.ok
    broken = [v for v in report.verdicts if not v.ok]
    named_by_history = [m for m in report.history.mismatches if m.chain_id == chain]
    if tampering in ("modify", "delete", "reorder"):
        assert [v.chain_id for v in broken] == [chain]
        assert broken[0].broken.kind == {"modify": "modified", "delete": "deleted", "reorder": "reordered"}[tampering]
    if tampering in ("insert", "rewrite"):
        assert not broken, "a careful forger fools the chain check alone"
        assert named_by_history, "…but not the comparison with history"
        assert ("inserted" if tampering == "insert" else "modified") in named_by_history[0].detail
    assert not report.history.replay_failures, "histories themselves are untouched and replay"


async def test_same_seed_gives_identical_report_json(study, tmp_path: Path):
    reports = []
    for name in ("first", "second"):
        async with open_store(f"sqlite+aiosqlite:///{tmp_path / name}.db") as engine:
            spec, _ = await study(engine, seed=21, **SMALL)
            loaded_spec, world, rows = await load_study(engine, spec.id)
        findings = compute_findings(loaded_spec, world, rows)
        write_report(tmp_path / name, spec.id, loaded_spec, world, rows, findings)
        reports.append((tmp_path / name / "report.json").read_bytes())
    assert reports[0] == reports[1]
    assert b'"take_rate"' in reports[0]
    _report_md_agrees_with_report_json(tmp_path / "first")


def _table_row(markdown: str, name: str) -> list[str]:
    """The cells of the markdown table row whose first cell is ``name``."""
    line = next(line for line in markdown.splitlines() if line.startswith(f"| {name} |"))
    return [cell.strip() for cell in line.strip("|").split(" | ")]


def _report_md_agrees_with_report_json(out: Path) -> None:
    """The cost-of-trading, degradation, Findings and Conclusion sections print what report.json holds."""
    document = json.loads((out / "report.json").read_text())
    markdown = (out / "report.md").read_text()
    for section in ("## Findings", "## Total cost of trading", "## Day 1 versus the last day", "## Conclusion"):
        assert section in markdown
    findings, statements = document["findings"], document["statements"]

    costs = findings["trading_costs"]
    assert [c["scenario"] for c in costs] == ["A", "B", "C"]
    totals = _table_row(markdown, "**Total cost of trading beyond media**")[1:4]
    assert totals == [f"**{dollars(c['total_usd'])}**" for c in costs]
    assert _table_row(markdown, "Exchange fee")[1:4] == [usd(c["exchange_fee_micros"]) for c in costs]
    assert _table_row(markdown, "LLM tokens (prompt + completion)")[1:4] == ["not run with an LLM"] * 3
    by_scenario = {c["scenario"]: c for c in costs}
    overpaid = {d["scenario"]: d["overpayment_micros"] for d in findings["discrepancy"]}
    fees = {t["scenario"]: t["exchange_fee_micros"] for t in findings["totals"]}
    for scenario, c in by_scenario.items():
        # Two queries over the same deliveries agree: the fee, and (without a fee) the spend on unserved impressions.
        assert c["exchange_fee_micros"] == fees[scenario]
        if not c["exchange_fee_micros"]:
            assert c["unserved_spend_micros"] == overpaid[scenario]
        money = (c["exchange_fee_micros"] + c["unserved_spend_micros"] + c["above_agreed_micros"]) / 1e6
        assert c["total_usd"] == pytest.approx(money + c["ledger_cost_usd"], abs=1e-5)
        assert c["llm"] is None
    assert by_scenario["A"]["exchange_fee_micros"] > 0 == by_scenario["B"]["exchange_fee_micros"]
    assert by_scenario["C"]["ledger_cost_usd"] > 0 and by_scenario["C"]["ledger_relied_on"]
    assert by_scenario["B"]["negotiations"] > 0 and by_scenario["A"]["negotiations"] == 0

    shown = [d for d in findings["degradation"] if d["first_day"] is not None]
    assert {d["scenario"] for d in shown} == {"A", "B", "C"}
    for d in shown:
        change = "—" if d["change_pp"] is None else f"{d['change_pp']:+.1f} pp"
        assert f"| {d['first_day']} ({d['first_n']:,}) |" in markdown and f"| {change} |" in markdown

    assert len(statements["findings"]) >= 5
    for statement in statements["findings"]:
        assert statement["text"] in markdown and f"`{statement['source']}`" in markdown
    assert any(s["by_construction"] and "exchange_fee" in s["by_construction"] for s in statements["findings"])
    assert statements["conclusion"], "a three-scenario study has comparisons to state"
    for line in statements["conclusion"]:
        assert f"- {line}" in markdown
