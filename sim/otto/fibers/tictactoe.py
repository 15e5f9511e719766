"""TicTacToe: two players alternate marks on a 3x3 board; the chain checks every result claimed.

The board is nine keys ``c0``..``c8`` ("" empty, "X", "O"), so a move is a plain key write. A move
never ends the game by itself: the winner claims the win (the guard checks their line), either player
claims a draw on a full board without a line, and a player who stops moving loses once the other
claims the timeout after the per-move deadline. Every move restarts the clock. Before the first move
there is no clock (the chain exposes no creation ordinal to the definition), so the second player may
start it: a first player who never moves can be timed out as well.

Decision mode: the player to move stalls (leaves the clock to run out) with a chance that grows as
its cooperativeness falls, (1 - cooperativeness)^2 at each move, and otherwise plays: carefully (win,
block, centre, corner) as often as its activity level says, anywhere free the rest of the time. The
waiting player starts the clock if the first move does not come within its patience, and claims the
timeout once the deadline has passed; a line's owner claims the win, and either claims a full board's draw.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from typing import Any

from sim.otto.fibers.base import FiberKind, FiberView, Move, Outcome, Plan, Wait
from sim.otto.fibers.decisions import PATIENCE, Intent, Public, Seat
from sim.otto.fibers.expressions import (
    ORDINAL,
    Expr,
    all_of,
    any_of,
    eq,
    gt,
    if_,
    increment,
    machine,
    not_,
    plus,
    signed_by,
    transition,
    var,
    when,
)

PLAYER_X, PLAYER_O = 0, 1
MARKS = ("X", "O")
CELLS = tuple(f"c{i}" for i in range(9))
LINES = ((0, 1, 2), (3, 4, 5), (6, 7, 8), (0, 3, 6), (1, 4, 7), (2, 5, 8), (0, 4, 8), (2, 4, 6))

_X_TO_MOVE = eq(var("state.turn"), "X")
_MOVER = if_(_X_TO_MOVE, var("state.playerX"), var("state.playerO"))
_WAITER = if_(_X_TO_MOVE, var("state.playerO"), var("state.playerX"))


def _line_of(mark: Expr) -> Expr:
    return any_of(*(all_of(*(eq(var(f"state.c{i}"), mark) for i in line)) for line in LINES))


_ANY_LINE = any_of(_line_of("X"), _line_of("O"))


def _move(cell: int) -> dict[str, Any]:
    # Once a line stands the game is decided: no more moves, only the claim.
    guard = all_of(eq(var("event.cell"), cell), eq(var(f"state.c{cell}"), ""), signed_by(_MOVER), not_(_ANY_LINE))
    effect = {
        f"c{cell}": var("state.turn"),
        "turn": if_(_X_TO_MOVE, "O", "X"),
        "moveCount": increment("state.moveCount"),
        "deadline": plus(ORDINAL, var("state.moveTimeout")),
    }
    return transition("playing", "playing", "make_move", guard, effect)


def _win(mark: str) -> dict[str, Any]:
    player = f"state.player{mark}"
    return transition(
        "playing",
        "won",
        "claim_win",
        all_of(signed_by(player), _line_of(mark)),
        {"winner": var(player), "winnerMark": mark, "endedAt": ORDINAL},
    )


DEFINITION = machine(
    "TicTacToe",
    initial="playing",
    states=("playing",),
    finals=("won", "drawn", "timed_out"),
    transitions=(
        *(_move(cell) for cell in range(9)),
        _win("X"),
        _win("O"),
        transition(
            "playing",
            "drawn",
            "claim_draw",
            all_of(
                any_of(signed_by("state.playerX"), signed_by("state.playerO")),
                eq(var("state.moveCount"), 9),
                not_(_ANY_LINE),
            ),
            {"endedAt": ORDINAL},
        ),
        transition(
            "playing",
            "playing",
            "start_clock",
            all_of(signed_by(_WAITER), eq(var("state.moveCount"), 0), eq(var("state.deadline"), None)),
            {"deadline": plus(ORDINAL, var("state.moveTimeout"))},
        ),
        transition(
            "playing",
            "timed_out",
            "claim_timeout",
            # No deadline until the clock starts; `>` would read a null deadline as 0.
            all_of(signed_by(_WAITER), when(not_(eq(var("state.deadline"), None)), gt(ORDINAL, var("state.deadline")))),
            {"winner": _WAITER, "timedOut": _MOVER, "endedAt": ORDINAL},
        ),
    ),
)


def winning_mark(board: Mapping[str, Any]) -> str | None:
    """The mark with three in a row on ``board`` (keys c0..c8), if any."""
    for a, b, c in LINES:
        if board[f"c{a}"] and board[f"c{a}"] == board[f"c{b}"] == board[f"c{c}"]:
            return str(board[f"c{a}"])
    return None


def _random_game(rng: random.Random) -> tuple[list[int], str | None]:
    """Random alternating play until a line or a full board: the cells played and the winning mark."""
    cells = list(range(9))
    rng.shuffle(cells)
    board = dict.fromkeys(CELLS, "")
    for n, cell in enumerate(cells):
        board[f"c{cell}"] = MARKS[n % 2]
        winner = winning_mark(board)
        if winner:
            return cells[: n + 1], winner
    return cells, None


def careful_cell(board: Mapping[str, Any], mark: str) -> int:
    """A sound cell for ``mark``: complete a line, else block one, else the centre, a corner, an edge."""
    free = [i for i in range(9) if board[f"c{i}"] == ""]
    other = MARKS[1 - MARKS.index(mark)]
    for wanted in (mark, other):
        for line in LINES:
            marks = [board[f"c{i}"] for i in line]
            if marks.count(wanted) == 2 and marks.count("") == 1:
                return line[marks.index("")]
    for cell in (4, 0, 2, 6, 8, 1, 3, 5, 7):
        if cell in free:
            return cell
    raise ValueError("no free cell")


class TicTacToe(FiberKind):
    name = "TicTacToe"
    outcomes = (Outcome("win", "won", True), Outcome("draw", "drawn", True), Outcome("timeout", "timed_out", False))
    state_machine = DEFINITION
    max_think_seconds = 60.0

    def initial_data(self, parties: Sequence[str], plan: Plan) -> dict[str, Any]:
        return {
            "playerX": parties[PLAYER_X],
            "playerO": parties[PLAYER_O],
            **dict.fromkeys(CELLS, ""),
            "turn": "X",
            "moveCount": 0,
            "moveTimeout": plan.params["move_timeout"],
            "deadline": None,
        }

    def plan(self, outcome: str, parties: Sequence[str], rng: random.Random) -> Plan:
        self.outcome(outcome)
        params = _terms(rng)
        if outcome == "timeout":
            # Four moves or fewer can hold no line; the player to move after them stalls (with no
            # moves at all, X never opens).
            cells = list(range(9))
            rng.shuffle(cells)
            params["moves"] = cells[: rng.randint(0, 4)]
            return Plan(outcome, params)
        wanted = rng.choice(MARKS) if outcome == "win" else None
        for _ in range(10_000):
            moves, winner = _random_game(rng)
            if winner == wanted:
                break
        else:  # pragma: no cover - random play reaches every result within a few dozen games
            raise RuntimeError(f"no {outcome} game found")
        params["moves"] = moves
        if outcome == "win":
            params["winner"] = wanted
        else:
            params["claimer"] = rng.choice((PLAYER_X, PLAYER_O))
        return Plan(outcome, params)

    def next_move(self, view: FiberView, parties: Sequence[str], plan: Plan, rng: random.Random) -> Move | Wait | None:
        if view.state != "playing":
            return None
        p, data = plan.params, view.data
        to_move = PLAYER_X if data["turn"] == "X" else PLAYER_O
        played = data["moveCount"]
        if played < len(p["moves"]):
            return Move(to_move, "make_move", {"cell": p["moves"][played]})
        if plan.outcome == "win":
            return Move(MARKS.index(p["winner"]), "claim_win", {})
        if plan.outcome == "draw":
            return Move(p["claimer"], "claim_draw", {})
        deadline = data["deadline"]
        if deadline is None:
            return Move(1 - to_move, "start_clock", {})
        if view.ordinal <= deadline:
            return Wait(until_ordinal=deadline + 1)
        return Move(1 - to_move, "claim_timeout", {})

    def terms(self, parties: Sequence[str], rng: random.Random) -> Plan:
        return Plan(None, _terms(rng))

    def intent(self, me: Seat, view: FiberView, public: Public, rng: random.Random) -> Intent | Wait | None:
        if view.state != "playing" or me.index not in (PLAYER_X, PLAYER_O):
            return None
        data, mark = view.data, MARKS[me.index]
        played = data["moveCount"]
        line = winning_mark(data)
        if line is not None:
            return Intent("claim_win", {}, me.think(self.max_think_seconds, "claim")) if line == mark else None
        if played == 9:
            return Intent("claim_draw", {}, me.think(self.max_think_seconds, "claim"))
        if data["turn"] == mark:
            if me.chance(f"stall/{played}", (1.0 - me.traits.cooperativeness) ** 2):
                return None  # stalls: the clock runs out on it
            if me.chance(f"care/{played}", me.traits.activity_level):
                cell = careful_cell(data, mark)
            else:
                cell = rng.choice([i for i in range(9) if data[f"c{i}"] == ""])
            return Intent("make_move", {"cell": cell}, me.think(self.max_think_seconds, f"move/{played}"))
        deadline = data["deadline"]
        if deadline is None:  # no first move yet: start the clock once patience runs out
            return Intent("start_clock", {}, PATIENCE * self.max_think_seconds)
        if view.ordinal <= deadline:
            return Wait(until_ordinal=deadline + 1)
        return Intent("claim_timeout", {}, me.think(self.max_think_seconds, f"timeout/{played}"))


def _terms(rng: random.Random) -> dict[str, Any]:
    return {"move_timeout": rng.randint(2, 5)}
