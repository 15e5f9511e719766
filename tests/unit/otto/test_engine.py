"""The embedded node's fiber engine: owners, sequence numbers, guards, receipts, triggers."""

from __future__ import annotations

import pytest

from localnet.ottochain.engine import UpdateRejected
from sim.otto.messages import create_state_machine, transition_state_machine
from tests.unit.otto.chain import LocalChain, receipt_of

ALICE, BOB, MALLORY = "DAGalice", "DAGbob", "DAGmallory"

SIGNED_BY_OWNER_A = {"in": [{"var": "state.a"}, {"map": [{"var": "proofs"}, {"var": "address"}]}]}

DEMO = {
    "states": {
        "open": {"id": "open", "isFinal": False},
        "done": {"id": {"value": "done"}, "isFinal": True},
    },
    "initialState": {"value": "open"},
    "transitions": [
        {
            "from": "open",
            "to": "open",
            "eventName": "add",
            "guard": {"<": [{"var": "state.total"}, 10]},
            "effect": {"total": {"+": [{"var": "state.total"}, {"var": "event.n"}]}, "_hidden": 1},
            "dependencies": [],
        },
        {
            "from": "open",
            "to": "done",
            "eventName": "close",
            "guard": SIGNED_BY_OWNER_A,
            "effect": {"closedBy": {"var": "proofs.0.address"}},
            "dependencies": [],
        },
        {"from": "open", "to": "open", "eventName": "weird", "guard": 1, "effect": {}, "dependencies": []},
    ],
    "metadata": {"name": "Demo"},
}


def make(chain: LocalChain, fiber_id: str = "f1", signers=(ALICE, BOB)):
    return chain.create(fiber_id, DEMO, {"total": 0, "a": ALICE}, list(signers))


def test_create_makes_every_signer_an_owner_and_stores_plain_ids():
    chain = LocalChain()
    fiber = make(chain)
    assert fiber.owners == [ALICE, BOB]
    assert fiber.current_state == "open" and fiber.sequence_number == 0 and fiber.status == "Active"
    assert fiber.definition["states"]["done"]["id"] == "done"
    assert fiber.to_wire()["currentState"] == "open"


def test_transition_merges_effect_and_drops_underscore_keys():
    chain = LocalChain()
    make(chain)
    fiber = chain.transition("f1", "add", {"n": 4}, BOB)
    assert fiber.state_data == {"total": 4, "a": ALICE}
    assert fiber.sequence_number == 1
    receipt = receipt_of(fiber)
    assert receipt["success"] is True and receipt["sequenceNumber"] == 1 and receipt["toState"] == "open"


def test_non_owner_is_rejected_without_trace():
    chain = LocalChain()
    make(chain)
    fiber = chain.transition("f1", "add", {"n": 4}, MALLORY)
    assert fiber.sequence_number == 0 and fiber.state_data["total"] == 0 and fiber.last_receipt is None
    [rejection] = chain.state.rejections
    assert rejection.code == "NotSignedByOwner"


def test_sequence_number_must_match():
    chain = LocalChain()
    make(chain)
    chain.transition("f1", "add", {"n": 1}, ALICE, target=5)  # passes L1, dropped at consensus
    assert chain.state.rejections[-1].code == "SequenceNumberMismatch"
    chain.transition("f1", "add", {"n": 1}, ALICE)
    with pytest.raises(UpdateRejected, match="SequenceNumberMismatch"):
        chain.submit(transition_state_machine("f1", "add", {"n": 1}, 0), [ALICE])


def test_failed_guard_keeps_state_and_records_a_receipt():
    chain = LocalChain()
    make(chain)
    chain.transition("f1", "add", {"n": 12}, ALICE)
    fiber = chain.transition("f1", "add", {"n": 1}, ALICE)
    assert fiber.state_data["total"] == 12 and fiber.sequence_number == 1
    assert receipt_of(fiber)["success"] is False
    assert receipt_of(fiber)["sequenceNumber"] == 1
    assert "NoGuardMatched" in receipt_of(fiber)["errorMessage"]


def test_non_boolean_guard_aborts():
    chain = LocalChain()
    make(chain)
    fiber = chain.transition("f1", "weird", {}, ALICE)
    assert fiber.sequence_number == 0
    assert "not a boolean" in receipt_of(fiber)["errorMessage"]


def test_guard_can_check_the_signer():
    chain = LocalChain()
    make(chain)
    assert chain.transition("f1", "close", {}, BOB).current_state == "open"
    fiber = chain.transition("f1", "close", {}, ALICE)
    assert fiber.current_state == "done" and fiber.state_data["closedBy"] == ALICE


def test_unknown_event_is_rejected_at_consensus():
    chain = LocalChain()
    make(chain)
    chain.transition("f1", "fly", {}, ALICE)
    assert chain.state.rejections[-1].code == "NoTransitionForEvent"


def test_triggers_fire_atomically_on_other_fibers():
    chain = LocalChain()
    target_def = {
        "states": {"idle": {"id": "idle"}},
        "initialState": "idle",
        "transitions": [
            {
                "from": "idle",
                "to": "idle",
                "eventName": "ping",
                "guard": {"==": [1, 1]},
                "effect": {"pings": {"+": [{"var": "state.pings"}, 1]}},
                "dependencies": [],
            }
        ],
    }
    source_def = {
        "states": {"a": {"id": "a"}, "b": {"id": "b"}},
        "initialState": "a",
        "transitions": [
            {
                "from": "a",
                "to": "b",
                "eventName": "go",
                "guard": {"==": [1, 1]},
                "effect": {
                    "_triggers": [{"targetMachineId": {"var": "event.target"}, "eventName": "ping", "payload": {}}]
                },
                "dependencies": [],
            }
        ],
    }
    chain.create("target", target_def, {"pings": 0}, [BOB])
    chain.create("source", source_def, {}, [ALICE])
    chain.transition("source", "go", {"target": "target"}, ALICE)
    assert chain.state.fibers["target"].state_data["pings"] == 1
    assert chain.state.fibers["target"].sequence_number == 1
    assert chain.state.fibers["source"].current_state == "b"

    # A trigger that fails aborts the whole event: the source does not move either.
    chain.create("source2", source_def, {}, [ALICE])
    chain.transition("source2", "go", {"target": "nowhere"}, ALICE)
    assert chain.state.fibers["source2"].current_state == "a"
    assert receipt_of(chain.state.fibers["source2"])["success"] is False


@pytest.mark.parametrize(
    ("mutate", "code"),
    [
        (lambda d: d.update(initialState="nowhere"), "InitialStateNotFound"),
        (lambda d: d["transitions"][0].update(to="nowhere"), "TransitionToInvalidState"),
        (lambda d: d["transitions"][0].update(effect={"count": 1, "total": 2}), "ReservedOperatorAsFieldName"),
        (lambda d: d["transitions"].append(dict(d["transitions"][0], guard=True)), "AmbiguousTransitions"),
    ],
)
def test_invalid_definitions_are_refused_at_l1(mutate, code):
    import copy

    definition = copy.deepcopy(DEMO)
    mutate(definition)
    with pytest.raises(UpdateRejected) as raised:
        LocalChain().submit(create_state_machine("x", definition, {}), [ALICE])
    assert raised.value.code == code


def test_applied_log_has_each_sequence_once():
    chain = LocalChain()
    make(chain)
    for n in range(3):
        chain.transition("f1", "add", {"n": n}, ALICE)
    seen = [(a.fiber_id, a.sequence_number) for a in chain.state.applied]
    assert seen == [("f1", 1), ("f1", 2), ("f1", 3)]


def test_state_survives_a_json_round_trip():
    from localnet.ottochain.engine import ChainState

    chain = LocalChain()
    make(chain)
    chain.transition("f1", "add", {"n": 2}, ALICE)
    restored = ChainState.from_json(chain.state.to_json())
    assert restored.fibers["f1"].to_wire() == chain.state.fibers["f1"].to_wire()
    assert restored.ordinal == chain.state.ordinal
