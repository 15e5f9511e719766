"""report.md for a monero run: the findings in prose and tables, each with how it was computed, and the config
(the run's inputs) in a section of its own. One function per section; ``render_markdown`` joins them."""

from __future__ import annotations

from models.monero import ATOMIC_UNITS_PER_XMR, MoneroConfig
from report.formatting import num, pct, table
from report.monero.charts import CHARTS
from sim.monero.findings import Findings, FitTest, Summary


def render_markdown(config: MoneroConfig, f: Findings) -> str:
    sections = [
        _title(f),
        _summary(config, f),
        _blocks(f),
        _intervals(f),
        _confirmation(f),
        _propagation(f),
        _reconciliation(f),
        _checks(f),
        _parameters(config),
        _files(),
    ]
    return "\n\n".join("\n".join(lines) for lines in sections if lines) + "\n"


def xmr(atomic: int | None) -> str:
    """Exact: atomic units as XMR with all 12 decimals."""
    if atomic is None:
        return "—"
    sign = "-" if atomic < 0 else ""
    whole, frac = divmod(abs(atomic), ATOMIC_UNITS_PER_XMR)
    return f"{sign}{whole}.{frac:012d}"


def _p(fit: FitTest | None) -> str:
    return "—" if fit is None else f"{fit.p_value:.4f}"


def _stat_row(name: str, s: Summary, digits: int = 0, scale: float = 1) -> list[str]:
    def v(x: float | None) -> str:
        return num(None if x is None else x / scale, digits)

    return [name, str(s.count), v(s.mean), v(s.median), v(s.p90), v(s.min), v(s.max)]


STAT_HEADER = ("", "n", "mean", "median", "p90", "min", "max")


def _title(f: Findings) -> list[str]:
    return [
        f"# Monero network run `{f.run_id}`",
        "",
        "Every figure below is computed from the rows this run recorded in the results store (blocks, "
        "transactions, propagation samples, balances, reconciliations). The run's config is listed under "
        "[Parameters](#parameters); where a figure equals an input by construction, the text next to it says so.",
    ]


def _summary(config: MoneroConfig, f: Findings) -> list[str]:
    b, c, r = f.blocks, f.confirmation, f.reconciliation
    phases = ", ".join(f"{count} {phase}" for phase, count in b.by_phase.items())
    fit = b.fit
    pool_line = (
        "blocks per pool: no test (one pool or no blocks)"
        if fit is None
        else f"blocks per pool against the configured shares: chi-square {fit.statistic:.3f} "
        f"({fit.degrees_of_freedom} df), p = {fit.p_value:.4f}"
    )
    everywhere = _last(f)
    interval = f.intervals
    interval_line = (
        f"block intervals ({interval.mode}): KS D = {interval.fit.statistic:.4f}, p = {interval.fit.p_value:.4f} "
        f"against {interval.expected}"
        if interval.fit is not None
        else f"block intervals ({interval.mode}): {interval.expected}; {interval.off_schedule} off schedule "
        "(equal to the input by construction)"
    )
    return [
        "## Summary",
        "",
        f"- {b.total} blocks recorded ({phases}); final height {num(f.final_height)}.",
        f"- {pool_line}.",
        f"- {interval_line}.",
        f"- {c.sent} payments sent ({c.skipped} skipped: unaffordable at the time), {c.seen_in_pool} seen in a pool, "
        f"{c.mined} mined; median {num(c.latency_blocks.median, 1)} blocks from sending to mined.",
        f"- Propagation to all {f.propagation.nodes} nodes: median {num(everywhere.median if everywhere else None)} ms "
        f"over {f.propagation.blocks_measured} blocks.",
        f"- Marketplaces: users sent {xmr(r.sent_total)} XMR, "
        + (f"{_verdict(f)}." if r.pending else f"vendors received {xmr(r.received_total)} XMR: {_verdict(f)}."),
        f"- Consistency checks over the recorded rows: {'all pass' if not f.checks else f'{len(f.checks)} FAIL'}.",
    ]


def _verdict(f: Findings) -> str:
    r = f.reconciliation
    if r.pending:
        return "not reconciled yet (a marketplace reconciles at the run's end)"
    return "reconciled to the atomic unit" if r.reconciled else "NOT reconciled"


def _last(f: Findings) -> Summary | None:
    steps = f.propagation.by_node_count
    return steps[-1].delay_ms if steps else None


def _blocks(f: Findings) -> list[str]:
    b = f.blocks
    fit = b.fit
    return [
        "## Blocks per pool",
        "",
        table(
            ("pool", "configured share (input)", "expected blocks", "mined blocks", "mined share"),
            [(p.pool, pct(p.share), num(p.expected, 2), p.observed, pct(p.observed_share)) for p in b.pools],
        ),
        "",
        "No goodness-of-fit test: fewer than two pools, or no scheduled block."
        if fit is None
        else f"Pearson chi-square goodness of fit: statistic {fit.statistic:.4f}, {fit.degrees_of_freedom} degrees "
        f"of freedom, p = {_p(fit)} over {fit.samples} scheduled blocks.",
        "",
        b.note,
        "",
        "![blocks per pool](blocks_per_pool.png)",
    ]


def _intervals(f: Findings) -> list[str]:
    i = f.intervals
    lines = [
        "## Block intervals",
        "",
        f"Expected: {i.expected}.",
        "",
        table(
            STAT_HEADER,
            [
                _stat_row("simulated (s)", i.sim, 1),
                _stat_row("wall clock (s)", i.wall, 3, scale=1000),
            ],
        ),
        "",
    ]
    if i.fit is not None:
        lines += [
            f"Kolmogorov-Smirnov against the expected exponential: D = {i.fit.statistic:.4f}, p = {_p(i.fit)} "
            f"over {i.fit.samples} intervals.",
            "",
        ]
    elif i.off_schedule is not None:
        lines += [f"Intervals that are not block_time: {i.off_schedule}.", ""]
    return [*lines, i.note, "", "![block intervals](block_intervals.png)"]


def _confirmation(f: Findings) -> list[str]:
    c = f.confirmation
    histogram = ", ".join(f"{k}: {v}" for k, v in c.latency_blocks_histogram.items()) or "—"
    return [
        "## Transaction confirmation latency",
        "",
        f"{c.payments} payments decided: {c.sent} sent, {c.skipped} skipped; {c.seen_in_pool} seen in the sender's "
        f"node's pool; {c.mined} mined" + (f"; never mined: {', '.join(c.unmined)}" if c.unmined else "") + ".",
        "",
        table(
            STAT_HEADER,
            [
                _stat_row("blocks, sent to mined", c.latency_blocks, 2),
                _stat_row("simulated s, sent to mined", c.latency_sim_s, 1),
                _stat_row("wall s, sent to in pool", c.to_pool_wall_ms, 3, scale=1000),
                _stat_row("wall s, sent to mined", c.latency_wall_ms, 3, scale=1000),
                _stat_row("confirmations at the end", c.confirmations_at_end),
            ],
        ),
        "",
        f"Blocks from sending to mined, payments per value: {histogram}.",
        "",
        c.note,
        "",
        "![confirmation latency](confirmation_latency.png)",
    ]


def _propagation(f: Findings) -> list[str]:
    p = f.propagation
    return [
        "## Block propagation",
        "",
        f"{p.blocks_measured} blocks measured on {p.nodes} nodes. Delay until the block is on k nodes:",
        "",
        table(
            ("k nodes", "blocks", "mean ms", "median ms", "p90 ms", "min ms", "max ms"),
            [[str(s.nodes), *_stat_row("", s.delay_ms)[1:]] for s in p.by_node_count],
        ),
        "",
        "By node:",
        "",
        table(("node", *STAT_HEADER[1:]), [[n.node, *_stat_row("", n.delay_ms)[1:]] for n in p.by_node]),
        "",
        p.note,
        "",
        "![propagation](propagation.png)",
    ]


def _reconciliation(f: Findings) -> list[str]:
    r = f.reconciliation
    return [
        "## Balances reconciliation",
        "",
        "Per marketplace, in XMR to the atomic unit: what the users' transaction rows say they sent, what the "
        "marketplace's reconciliation expected per vendor, what its wallet received (mined transfers only), and its "
        "wallet's balance change from the start of the run to the end.",
        "",
        table(
            (
                "marketplace",
                "payments",
                "sent",
                "expected",
                "received",
                "received - sent",
                "balance change",
                "missing",
                "unexpected",
                "ok",
            ),
            [
                (
                    m.marketplace,
                    m.payments,
                    xmr(m.sent),
                    xmr(m.expected),
                    xmr(m.received),
                    xmr(m.difference),
                    xmr(m.balance_change),
                    num(m.missing),
                    num(m.unexpected),
                    "yes" if m.ok else "not yet" if not m.reconciled else "NO",
                )
                for m in r.marketplaces
            ],
        ),
        "",
        f"Total: sent {xmr(r.sent_total)}, "
        + (f"{_verdict(f)}." if r.pending else f"received {xmr(r.received_total)}: {_verdict(f)}."),
        "",
        "Per user: a user only pays after its funding, so its balance falls by what it sent plus fees "
        "(difference = balance change + sent + fees; 0 when they agree).",
        "",
        table(
            ("user", "payments", "sent", "fees", "balance change", "difference"),
            [(u.user, u.payments, xmr(u.sent), xmr(u.fees), xmr(u.balance_change), xmr(u.difference)) for u in r.users],
        ),
        "",
        "![reconciliation](reconciliation.png)",
    ]


def _checks(f: Findings) -> list[str]:
    if not f.checks:
        return [
            "## Consistency checks",
            "",
            "All pass: heights without gaps, blocks per pool and payments as in the run's summary, every mined "
            "transaction in a recorded block, every sent payment mined, the marketplaces reconciled.",
        ]
    return ["## Consistency checks", "", *(f"- FAIL: {problem}" for problem in f.checks)]


def _parameters(config: MoneroConfig) -> list[str]:
    s, n = config.simulation, config.network
    agents = n.agents
    return [
        "## Parameters",
        "",
        "The run's config (inputs, not findings):",
        "",
        table(
            ("key", "value"),
            [
                ("simulation.duration", f"{s.duration:g} s"),
                ("simulation.seed", s.seed),
                ("simulation.block_mode", s.block_mode),
                ("simulation.acceleration", f"{s.acceleration:g}"),
                ("simulation.amount", f"{s.amount.min_xmr:g}–{s.amount.max_xmr:g} XMR"),
                ("network.consensus.block_time", f"{n.consensus.block_time:g} s"),
                ("network.consensus.difficulty", n.consensus.difficulty),
                ("network.nodes", f"{n.node_count} ({n.nodes.placement})"),
                ("regular_users", f"{agents.regular_users.count}"),
                ("transaction_frequency", f"{agents.regular_users.config.transaction_frequency:g} per minute"),
                ("wallet_initial_balance", f"{agents.regular_users.config.wallet_initial_balance:g} XMR"),
                ("marketplaces", f"{agents.marketplaces.count} × {agents.marketplaces.config.wallet_count} vendors"),
                (
                    "mining_pools",
                    ", ".join(f"{pool.id} {pool.hashrate_share:g}" for pool in agents.mining_pools),
                ),
            ],
        ),
    ]


def _files() -> list[str]:
    return ["## Files", "", "report.json (findings, parameters, checks), report.md, " + ", ".join(CHARTS) + "."]
