"""Decision mode on the in-memory chain: no outcome is drawn; each party decides its own moves from its own
traits and what the chain shows, and the terminal state follows from the moves made."""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass

import pytest

from models.otto import FIBER_TYPES, AgentTraits
from sim.otto.fibers import FIBER_KINDS, FiberKind, Move, Wait
from sim.otto.fibers.decisions import PATIENCE, TRUSTED_REPUTATION, Table, risk_of, willingness
from sim.otto.fibers.tictactoe import careful_cell, winning_mark
from tests.unit.otto.chain import LocalChain, receipt_of
from tests.unit.otto.test_fibers import ADDRESSES, view_of

MAX_STEPS = 80
POPULATION = 30  # lifecycles per population and type


def traits(
    cooperativeness: float, risk_tolerance: float = 0.5, response_speed: float = 0.5, activity_level: float = 0.5
) -> AgentTraits:
    return AgentTraits(
        fiber_weights={name: 1 / len(FIBER_TYPES) for name in FIBER_TYPES},
        activity_level=activity_level,
        risk_tolerance=risk_tolerance,
        cooperativeness=cooperativeness,
        response_speed=response_speed,
    )


def random_traits(rng: random.Random, cooperativeness: tuple[float, float]) -> AgentTraits:
    return traits(rng.uniform(*cooperativeness), rng.random(), rng.random(), rng.random())


@dataclass
class Played:
    state: str
    data: dict
    moves: list[Move]
    parties: Sequence[str]

    def events(self) -> list[str]:
        return [move.event for move in self.moves]

    def by(self, event: str) -> list[int]:
        return [move.actor for move in self.moves if move.event == event]


def play(kind: FiberKind, table: Table, seed: int) -> Played:
    """Create the fiber with the terms, then let the parties decide until the fiber is final: every move
    they choose must be applied by the chain with a successful receipt."""
    rng = random.Random(seed)
    parties = table.public.addresses
    plan = kind.terms(parties, rng)
    assert plan.outcome is None, "decision mode plans no outcome"
    chain = LocalChain()
    chain.create("fiber", kind.definition(), kind.initial_data(parties, plan), list(parties))
    moves: list[Move] = []
    for _ in range(MAX_STEPS):
        view = view_of(chain, "fiber")
        decision = kind.decide(view, table, rng)
        if decision is None:
            fiber = chain.state.fibers["fiber"]
            assert kind.terminal(fiber.current_state) is not None, "nobody moves on a fiber that is not final"
            return Played(fiber.current_state, fiber.state_data, moves, parties)
        if isinstance(decision, Wait):
            assert decision.until_ordinal > chain.state.ordinal
            while chain.state.ordinal < decision.until_ordinal:
                chain.snapshot()
            continue
        fiber = chain.transition("fiber", decision.event, decision.payload, parties[decision.actor])
        assert fiber.sequence_number == view.sequence + 1, f"{decision} was dropped: {chain.state.rejections[-1:]}"
        assert receipt_of(fiber)["success"], f"{decision} failed: {receipt_of(fiber)['errorMessage']}"
        moves.append(decision)
    raise AssertionError(f"no terminal state after {MAX_STEPS} steps")


def succeeded(kind: FiberKind, state: str) -> bool:
    outcome = kind.terminal(state)
    assert outcome is not None, f"{state} is not a terminal state of {kind.name}"
    return outcome.success


def table_of(parties: int, every: AgentTraits | Sequence[AgentTraits], *, reputations=None, salt: int = 1) -> Table:
    chosen = [every] * parties if isinstance(every, AgentTraits) else list(every)
    return Table.of(ADDRESSES[:parties], chosen, reputations=reputations, salt=salt)


# What the moves made imply about the terminal state, whatever the parties' traits were.
def implied_state(name: str, played: Played) -> str:
    last = played.moves[-1]
    events = played.events()
    if name == "SimpleOrder":
        return {"cancel": "cancelled", "deliver": "delivered"}[last.event]
    if name == "TicTacToe":
        return {"claim_win": "won", "claim_draw": "drawn", "claim_timeout": "timed_out"}[last.event]
    if name == "TokenEscrow":
        return {"release": "released", "refund": "refunded"}[last.event]
    if name == "Contract":
        return {"reject": "REJECTED", "dispute": "DISPUTED", "finalize": "COMPLETED"}[last.event]
    if name == "Voting":
        choices = [m.payload["choice"] for m in played.moves if m.event == "vote"]
        assert last.event == "close"
        return "passed" if choices.count("yes") > choices.count("no") else "rejected"
    if name == "ApprovalWorkflow":
        return {"finalize": "approved", "reject": "rejected"}[last.event]
    assert name == "Auction" and last.event == "close"
    return "settled" if "bid" in events else "unsold"


# --- outcomes emerge from traits ------------------------------------------------------------------


@pytest.mark.parametrize("name", FIBER_KINDS)
def test_a_cooperative_population_completes_far_more_often_than_an_uncooperative_one(name):
    kind = FIBER_KINDS[name]
    rates = {}
    for label, band in (("cooperative", (0.8, 1.0)), ("uncooperative", (0.0, 0.2))):
        successes = 0
        for seed in range(POPULATION):
            rng = random.Random(f"{label}/{seed}")
            table = table_of(kind.min_parties, [random_traits(rng, band) for _ in range(kind.min_parties)], salt=seed)
            played = play(kind, table, seed)
            assert played.state == implied_state(name, played), played.events()
            successes += succeeded(kind, played.state)
        rates[label] = successes / POPULATION
    assert rates["cooperative"] >= 0.6, rates
    assert rates["cooperative"] - rates["uncooperative"] >= 0.5, rates


@pytest.mark.parametrize("name", FIBER_KINDS)
def test_wholly_cooperative_parties_always_succeed_and_wholly_uncooperative_ones_never(name):
    kind = FIBER_KINDS[name]
    willing = traits(1.0, risk_tolerance=1.0, activity_level=1.0)
    unwilling = traits(0.0, risk_tolerance=0.0, activity_level=1.0)
    for parties in sorted({kind.min_parties, kind.max_parties}):
        for seed in range(3):
            good = play(kind, table_of(parties, willing, salt=seed), seed)
            bad = play(kind, table_of(parties, unwilling, salt=seed), seed)
            assert succeeded(kind, good.state), (parties, seed, good.events())
            assert not succeeded(kind, bad.state), (parties, seed, bad.events())


def test_contract_an_uncooperative_counterparty_rejects_and_an_uncooperative_party_disputes():
    contract = FIBER_KINDS["Contract"]
    willing, unwilling = traits(1.0, risk_tolerance=1.0), traits(0.0)
    rejected = play(contract, table_of(2, [willing, unwilling]), 0)
    assert rejected.state == "REJECTED"
    assert [(m.actor, m.event) for m in rejected.moves] == [(1, "reject")]

    # A counterparty that accepts but will not deliver: the proposer's completion never meets its match.
    disputed = play(contract, table_of(2, [unwilling, willing]), 0)
    assert disputed.state == "DISPUTED" and disputed.by("dispute") == [0]
    assert disputed.by("accept") == [1]

    completed = play(contract, table_of(2, willing), 0)
    assert completed.state == "COMPLETED"
    assert sorted(completed.by("submit_completion")) == [0, 1] and len(completed.by("finalize")) == 1


def test_voting_follows_the_voters_cooperativeness():
    voting = FIBER_KINDS["Voting"]
    proposer = traits(0.5, activity_level=1.0)
    yes, no = traits(1.0, risk_tolerance=1.0, activity_level=1.0), traits(0.0, activity_level=1.0)
    passed = play(voting, table_of(4, [proposer, yes, yes, no]), 0)
    rejected = play(voting, table_of(4, [proposer, no, no, yes]), 0)
    assert (passed.state, passed.data["yesVotes"], passed.data["noVotes"]) == ("passed", 2, 1)
    assert (rejected.state, rejected.data["yesVotes"], rejected.data["noVotes"]) == ("rejected", 1, 2)
    assert passed.moves[-1].actor == 0 and passed.moves[-1].event == "close", "the proposer closes after the votes"


# --- risk tolerance -------------------------------------------------------------------------------


def test_risk_of_a_counterparty_falls_with_its_reputation():
    assert risk_of(None) == 0.0, "no reputation observed: no reason for suspicion"
    assert risk_of(0) == 1.0 and risk_of(TRUSTED_REPUTATION) == 0.0 and risk_of(10 * TRUSTED_REPUTATION) == 0.0
    assert risk_of(TRUSTED_REPUTATION // 2) == pytest.approx(0.5)
    averse, tolerant = traits(0.8, risk_tolerance=0.0), traits(0.8, risk_tolerance=1.0)
    assert willingness(averse, 0) == 0.0 and willingness(tolerant, 0) == pytest.approx(0.8)
    assert willingness(averse, TRUSTED_REPUTATION) == pytest.approx(0.8)


@pytest.mark.parametrize(
    ("risk_tolerance", "proposer_reputation", "accepted"),
    [(0.0, 0, False), (0.0, TRUSTED_REPUTATION, True), (0.0, None, True), (1.0, 0, True)],
)
def test_a_risk_averse_counterparty_refuses_an_unproven_proposer(risk_tolerance, proposer_reputation, accepted):
    contract = FIBER_KINDS["Contract"]
    parties = [traits(1.0), traits(1.0, risk_tolerance=risk_tolerance)]
    for seed in range(5):
        played = play(contract, table_of(2, parties, reputations=[proposer_reputation, None], salt=seed), seed)
        assert [(m.actor, m.event) for m in played.moves[:1]] == [(1, "accept" if accepted else "reject")]


def test_risk_tolerant_bidders_pay_more_than_risk_averse_ones():
    auction = FIBER_KINDS["Auction"]

    def mean_price(risk_tolerance: float) -> float:
        prices = []
        for seed in range(20):
            bidders = [traits(1.0, risk_tolerance=risk_tolerance, response_speed=s) for s in (0.2, 0.5, 0.8)]
            played = play(auction, table_of(4, [traits(1.0), *bidders], salt=seed), seed)
            if played.state == "settled":
                prices.append(played.data["price"] / played.data["reservePrice"])
        return sum(prices) / len(prices) if prices else 0.0

    assert mean_price(1.0) > mean_price(0.0) + 0.3


def test_bids_rise_stay_within_the_reserve_and_the_seller_closes_last():
    auction = FIBER_KINDS["Auction"]
    for seed in range(10):
        rng = random.Random(seed)
        played = play(auction, table_of(5, [random_traits(rng, (0.5, 1.0)) for _ in range(5)], salt=seed), seed)
        amounts = [m.payload["amount"] for m in played.moves if m.event == "bid"]
        assert amounts == sorted(set(amounts))
        assert all(a >= played.data["reservePrice"] for a in amounts)
        assert played.events()[-1] == "close" and played.events().count("close") == 1
        assert all(m.actor != 0 for m in played.moves if m.event == "bid")


# --- response speed -------------------------------------------------------------------------------


def test_think_time_follows_response_speed_within_the_types_maximum():
    for name, kind in FIBER_KINDS.items():
        for speed in (0.0, 0.3, 1.0):
            played = play(kind, table_of(kind.min_parties, traits(1.0, 1.0, speed, 1.0)), 0)
            for move in played.moves:
                if move.event in ("close", "start_clock"):  # patience: after everyone who answers
                    assert move.think_seconds == PATIENCE * kind.max_think_seconds
                else:
                    slowest = kind.max_think_seconds * (1 - speed)
                    assert slowest / 2 <= move.think_seconds <= slowest, (name, move)


def test_the_quickest_party_moves_first():
    voting = FIBER_KINDS["Voting"]
    # Think times of (1 - speed) times a half to all of the maximum: these ranges do not overlap.
    speeds = [0.75, 0.0, 0.96, 0.5, 0.9]
    voters = [traits(1.0, 1.0, speed, activity_level=1.0) for speed in speeds]
    played = play(voting, table_of(6, [traits(1.0), *voters]), 0)
    order = [played.parties.index(b["voter"]) for b in played.data["ballots"]]
    assert order == [1 + i for i in sorted(range(5), key=lambda i: -speeds[i])]


# --- TicTacToe ------------------------------------------------------------------------------------


def test_tictactoe_a_player_who_stalls_is_timed_out_by_the_other():
    game = FIBER_KINDS["TicTacToe"]
    staller, player = traits(0.0), traits(1.0, activity_level=1.0)
    never_opens = play(game, table_of(2, [staller, player]), 0)
    assert never_opens.events() == ["start_clock", "claim_timeout"]
    assert never_opens.data["timedOut"] == ADDRESSES[0] and never_opens.data["winner"] == ADDRESSES[1]
    stalls_at_once = play(game, table_of(2, [player, staller]), 0)
    assert stalls_at_once.events() == ["make_move", "claim_timeout"]
    assert stalls_at_once.data["timedOut"] == ADDRESSES[1]


def test_tictactoe_careful_players_never_lose_to_each_other():
    game = FIBER_KINDS["TicTacToe"]
    careful = traits(1.0, activity_level=1.0)
    for seed in range(3):
        played = play(game, table_of(2, careful, salt=seed), seed)
        assert played.state == "drawn" and winning_mark(played.data) is None


def test_careful_cell_completes_then_blocks_then_takes_the_centre():
    board = {f"c{i}": "" for i in range(9)}
    assert careful_cell(board, "X") == 4
    board.update(c0="X", c1="X", c3="O", c4="O")
    assert careful_cell(board, "X") == 2, "win first"
    assert careful_cell(board, "O") == 5, "O wins on its own line before blocking"
    board.update(c3="", c4="", c6="O")
    assert careful_cell(board, "O") == 2, "block X's line"


# --- what a party may consult ---------------------------------------------------------------------


@pytest.mark.parametrize("name", FIBER_KINDS)
def test_a_party_decides_from_its_own_traits_and_the_same_inputs_decide_the_same(name):
    """Another party's traits never change what a party means to do; deciding twice is deciding the same."""
    kind = FIBER_KINDS[name]
    rng = random.Random(5)
    mine = [random_traits(rng, (0.0, 1.0)) for _ in range(kind.min_parties)]
    others = [random_traits(rng, (0.0, 1.0)) for _ in range(kind.min_parties)]
    table = table_of(kind.min_parties, mine, salt=9)
    played = play(kind, table, 3)
    chain = LocalChain()
    parties = table.public.addresses
    initial = kind.initial_data(parties, kind.terms(parties, random.Random(3)))
    chain.create("fiber", kind.definition(), initial, list(parties))
    for move in played.moves:
        view = view_of(chain, "fiber")
        assert kind.decide(view, table, random.Random(1)) == kind.decide(view, table, random.Random(1))
        for index, seat in enumerate(table.seats()):
            mixed = Table.of(parties, [t if i == index else others[i] for i, t in enumerate(mine)], salt=9)
            assert kind.intent(seat, view, table.public, random.Random(2)) == kind.intent(
                mixed.seats()[index], view, mixed.public, random.Random(2)
            )
        chain.transition("fiber", move.event, move.payload, parties[move.actor])
