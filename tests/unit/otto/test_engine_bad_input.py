"""The engine and the JLVM against bad input (issue 13, part 0): nothing an update carries stops the chain.

Each test here failed before the fix: a RecursionError or an IntegerDomainError escaped ``combine`` (which
killed the node's snapshot loop), a spawn persisted a child no one could move, an evaluation error copied
the whole offending value into its receipt and charged no gas, or ``unique`` ran quadratic for linear gas.
"""

from __future__ import annotations

import copy
import json
import time
from typing import Any

import pytest

from localnet.ottochain import engine
from localnet.ottochain.engine import ChainState, PendingUpdate, UpdateRejected, combine, validate_message
from localnet.ottochain.jlvm import JlvmError, evaluate, evaluate_metered, strict_equals
from localnet.ottochain.limits import MAX_DEFINITION_BYTES, MAX_MESSAGE_CHARS, json_problem
from sim.otto.messages import create_state_machine, transition_state_machine
from sim.otto.signing import is_dag_address, new_keypair
from tests.unit.otto.chain import LocalChain, proof_of, receipt_of

ALICE, BOB = new_keypair().address, new_keypair().address
JSON_SAFE = 2**53 - 1


def nested(depth: int, leaf: Any = 1) -> Any:
    value = leaf
    for _ in range(depth):
        value = {"a": value}
    return value


def machine(effect: Any, guard: Any = True, initial: str = "open") -> dict[str, Any]:
    """One state, one event ``go`` with the given guard and effect."""
    return {
        "states": {initial: {"id": initial, "isFinal": False, "metadata": None}},
        "initialState": initial,
        "transitions": [
            {"from": initial, "to": initial, "eventName": "go", "guard": guard, "effect": effect, "dependencies": []}
        ],
        "metadata": {"name": "Probe"},
    }


def queue_unchecked(chain: LocalChain, message: dict[str, Any], signer: str = ALICE) -> PendingUpdate:
    """An update in the queue without DL1's checks, as an older node (or a bug) could have queued it."""
    update = PendingUpdate(message=message, proofs=(proof_of(signer),), hash=f"unchecked-{len(chain.queue)}")
    chain.queue.append(update)
    return update


# --- item 1: one update must never stop the snapshots ---------------------------------------------


def test_deeply_nested_initial_data_is_refused_at_l1_and_dropped_at_a_snapshot():
    chain = LocalChain()
    message = create_state_machine("deep", machine({}), {"x": nested(600)})
    with pytest.raises(UpdateRejected) as refused:
        chain.submit(message, [ALICE])
    assert refused.value.code == "InvalidValue" and "nested deeper than 100" in refused.value.message

    # Queued anyway (bypassing DL1): the snapshot drops it as a rejection and applies the rest.
    queue_unchecked(chain, message)
    chain.submit(create_state_machine("fine", machine({}), {"n": 1}), [ALICE])
    chain.snapshot()
    assert "deep" not in chain.state.fibers and "fine" in chain.state.fibers
    assert [r.code for r in chain.state.rejections] == ["InvalidValue"]


def test_a_guard_over_a_deeply_nested_payload_aborts_the_event_not_the_snapshot():
    chain = LocalChain()
    chain.create("f", machine({"seen": True}, guard={"var": "event.x"}), {"n": 0}, [ALICE])
    with pytest.raises(UpdateRejected, match="nested deeper"):
        chain.submit(transition_state_machine("f", "go", {"x": nested(600)}, 0), [ALICE])
    queue_unchecked(chain, transition_state_machine("f", "go", {"x": nested(600)}, 0))
    chain.snapshot()  # raised RecursionError before
    fiber = chain.state.fibers["f"]
    assert fiber.sequence_number == 0 and fiber.state_data == {"n": 0}
    assert receipt_of(fiber)["success"] is False


def test_the_jlvm_turns_deep_values_into_its_own_error_with_the_gas_used():
    with pytest.raises(JlvmError) as failed:
        evaluate_metered({"var": "event"}, {"event": nested(2000)})  # the result's copy recursed, unguarded
    assert "nested too deeply" in str(failed.value)


def test_an_effect_beyond_the_json_safe_integers_aborts_with_a_receipt():
    chain = LocalChain()
    chain.create("f", machine({"n": {"+": [JSON_SAFE, 1]}}), {"n": 0}, [ALICE])
    fiber = chain.transition("f", "go", {}, ALICE)  # IntegerDomainError escaped combine before
    assert fiber.sequence_number == 0 and fiber.state_data == {"n": 0}
    receipt = receipt_of(fiber)
    assert receipt["success"] is False and "JSON-safe range" in receipt["errorMessage"]
    assert json.loads(chain.state.to_json())["ordinal"] == chain.state.ordinal  # still serialisable


def test_spawn_with_initial_data_that_is_not_an_object_aborts_the_event():
    chain = LocalChain()
    child = {"childId": "kid", "definition": machine({}), "initialData": "not a map"}
    chain.create("parent", machine({"spawned": True, "_spawn": [child]}), {}, [ALICE])
    fiber = chain.transition("parent", "go", {}, ALICE)  # dict("not a map") raised before
    assert "kid" not in chain.state.fibers and fiber.sequence_number == 0
    assert "NotMapValue" in receipt_of(fiber)["errorMessage"]


@pytest.mark.parametrize(
    ("owners", "code"),
    [([1, {"a": 2}], "InvalidOwnerAddress"), (["DAGnot-an-address"], "InvalidOwnerAddress"), ("x", "InvalidOwners")],
)
def test_spawn_with_malformed_owners_makes_no_child(owners, code):
    chain = LocalChain()
    child = {"childId": "kid", "definition": machine({}), "initialData": {}, "owners": owners}
    chain.create("parent", machine({"_spawn": [child]}), {}, [ALICE])
    fiber = chain.transition("parent", "go", {}, ALICE)
    assert "kid" not in chain.state.fibers  # before: persisted, and any move to it killed every snapshot
    assert code in receipt_of(fiber)["errorMessage"]


def test_spawn_with_address_owners_makes_a_child_they_own():
    chain = LocalChain()
    child = {"childId": "kid", "definition": machine({"moved": True}), "initialData": {"k": 1}, "owners": [BOB]}
    chain.create("parent", machine({"_spawn": [child]}), {}, [ALICE])
    chain.transition("parent", "go", {}, ALICE)
    assert chain.state.fibers["kid"].owners == [BOB] and chain.state.fibers["kid"].state_data == {"k": 1}
    assert chain.transition("kid", "go", {}, BOB).state_data == {"k": 1, "moved": True}


def test_a_stored_child_with_garbage_owners_is_refused_not_fatal():
    """A state file written before the fix may hold such a child: moving it is a rejection."""
    chain = LocalChain()
    chain.create("kid", machine({}), {}, [ALICE])
    record = json.loads(chain.state.to_json())
    record["fibers"][0]["owners"] = [1, {"a": 2}]
    chain.state = ChainState.from_json(json.dumps(record))
    chain.transition("kid", "go", {}, ALICE)  # set() of a dict raised TypeError before
    assert chain.state.rejections[-1].code == "NotSignedByOwner"


def test_an_update_that_raises_unexpectedly_is_dropped_and_the_snapshot_goes_on(monkeypatch):
    chain = LocalChain()
    chain.create("f", machine({"n": 1}), {"n": 0}, [ALICE])

    def broken(state, update):
        raise RuntimeError("a bug in the node")

    monkeypatch.setattr(engine, "_archive", broken)
    chain.submit({"ArchiveStateMachine": {"fiberId": "f", "targetSequenceNumber": 0}}, [ALICE])
    chain.submit(create_state_machine("g", machine({}), {}), [ALICE])
    ordinal = chain.state.ordinal
    chain.snapshot()
    assert chain.state.ordinal == ordinal + 1 and "g" in chain.state.fibers
    [rejection] = chain.state.rejections
    assert rejection.code == "InternalError" and "a bug in the node" in rejection.message
    assert chain.state.fibers["f"].status == "Active"


def test_malformed_queue_entries_do_not_break_the_ordering():
    state = ChainState()
    odd = [
        PendingUpdate(message={"TransitionStateMachine": "x"}, proofs=(), hash="a"),
        PendingUpdate(message={}, proofs=(), hash="b"),
        PendingUpdate(
            message={"ArchiveStateMachine": {"fiberId": 5, "targetSequenceNumber": "x"}}, proofs=(), hash="c"
        ),
    ]
    combine(state, odd)  # sorting these raised before
    assert state.ordinal == 1 and len(state.rejections) == 3


# --- item 5: what DL1 refuses without looking at the chain ----------------------------------------


@pytest.mark.parametrize(
    ("message", "code", "words"),
    [
        (create_state_machine("f", machine({}), {"n": JSON_SAFE + 1}), "InvalidValue", "JSON-safe range"),
        (create_state_machine("f", machine({}), {"n": -JSON_SAFE - 1}), "InvalidValue", "JSON-safe range"),
        (transition_state_machine("f", "go", {}, JSON_SAFE + 1), "InvalidUpdate", "2^53-1"),
        (transition_state_machine("f", "go", {"x": float("nan")}, 0), "InvalidValue", "not a JSON number"),
        (transition_state_machine("f", "go", {"x": "\ud800"}, 0), "InvalidValue", "surrogate"),
        (transition_state_machine("f", "go\udc00", {}, 0), "InvalidUpdate", "surrogate"),
        (
            {
                "TransitionStateMachine": {
                    **transition_state_machine("f", "go", {}, 0)["TransitionStateMachine"],
                    "x": 2**60,
                }
            },
            "InvalidUpdate",
            "JSON-safe range",
        ),
        ({"TransitionStateMachine": {"fiberId": "f"}, "Extra": {}}, "InvalidUpdate", "unknown update"),
    ],
)
def test_values_the_chain_could_not_hash_are_refused(message, code, words):
    with pytest.raises(UpdateRejected) as refused:
        validate_message(message)
    assert refused.value.code == code and words in refused.value.message


@pytest.mark.parametrize("dependencies", [5, "abc", {"a": 1}, [1, 2]])
def test_dependencies_must_be_a_list_of_fiber_ids(dependencies):
    definition = machine({})
    definition["transitions"][0]["dependencies"] = dependencies
    with pytest.raises(UpdateRejected) as refused:
        validate_message(create_state_machine("f", definition, {}))
    assert refused.value.code == "InvalidDefinition" and "dependencies" in refused.value.message


def test_transitions_must_be_a_list():
    definition = dict(machine({}), transitions=5)
    with pytest.raises(UpdateRejected, match="transitions must be a list"):
        validate_message(create_state_machine("f", definition, {}))


def test_a_definition_has_a_size_limit_named_in_the_refusal():
    definition = machine({})
    definition["metadata"] = {"name": "Big", "padding": "x" * MAX_DEFINITION_BYTES}
    with pytest.raises(UpdateRejected) as refused:
        validate_message(create_state_machine("f", definition, {}))
    assert refused.value.code == "ValueTooLarge" and f"maximum ({MAX_DEFINITION_BYTES} bytes)" in refused.value.message


def test_json_problem_walks_any_depth_without_recursion():
    assert json_problem(nested(100_000), max_depth=10_000) is not None
    assert json_problem({"a": [1, 2.5, "x", None, True]}) is None


def test_dag_address_form_includes_the_parity_digit():
    address = new_keypair().address
    wrong_parity = address[:3] + str((int(address[3]) + 1) % 9) + address[4:]
    assert is_dag_address(address) and not is_dag_address(wrong_parity)
    assert not is_dag_address("DAGalice") and not is_dag_address(5)


# --- item 6: gas tracks the cost, and receipts stay small -------------------------------------------


def test_an_evaluation_error_keeps_a_short_message_and_charges_its_gas():
    chain = LocalChain()
    items = ["x" * 1000 for _ in range(700)]
    # `and` evaluates every argument: the map runs (and costs), then `<` fails on the 700-element array.
    guard = {"and": [{"map": [{"var": "state.items"}, {"var": ""}]}, {"<": [{"var": "state.items"}, 1]}]}
    chain.create("f", machine({}, guard=guard), {"items": items}, [ALICE])
    receipt = receipt_of(chain.transition("f", "go", {}, ALICE))
    assert receipt["success"] is False
    assert len(receipt["errorMessage"]) <= MAX_MESSAGE_CHARS  # was the whole array: 2.5 MB
    assert receipt["gasUsed"] >= 700  # was 0: a failed guard was free


def test_a_failed_evaluation_reports_the_gas_it_used():
    with pytest.raises(JlvmError) as failed:
        evaluate_metered({"and": [{"map": [{"var": "xs"}, {"+": [{"var": ""}, 1]}]}, {"/": [1, 0]}]}, {"xs": [1] * 50})
    assert failed.value.gas_used > 50


def test_unique_over_shared_values_is_linear():
    data = {"state": {"items": list(range(4000))}}
    aliased = {"map": [{"var": "state.items"}, {"var": "state.items"}]}  # 4000 times the same 4000-array
    started = time.perf_counter()
    result, gas = evaluate_metered({"unique": [aliased]}, data)
    elapsed = time.perf_counter() - started
    assert result == [list(range(4000))]
    assert elapsed < 0.5  # 2.4 s before: every copy was hashed in full
    assert gas < 100_000


def test_in_and_strict_equality_over_shared_values_are_linear():
    data = {"xs": list(range(30))}
    doubling = {"reduce": [{"var": "xs"}, [{"var": "accumulator"}, {"var": "accumulator"}], 0]}  # 2^30 leaves
    started = time.perf_counter()
    assert evaluate({"===": [doubling, doubling]}, data) is True
    assert evaluate({"in": [doubling, [doubling]]}, data) is True
    assert evaluate({"length": {"unique": [[doubling, doubling]]}}, data) == 1
    assert time.perf_counter() - started < 0.5


def test_writing_out_a_shared_result_costs_gas_by_its_size():
    data = {"xs": list(range(40))}
    doubling = {"reduce": [{"var": "xs"}, [{"var": "accumulator"}, {"var": "accumulator"}], 0]}
    with pytest.raises(JlvmError, match="gas exhausted"):
        evaluate(doubling, data, gas_limit=100_000)


def test_strict_equality_keeps_its_types():
    assert strict_equals([1, {"a": [True]}], [1, {"a": [True]}])
    assert not strict_equals([1], [1.0]) and not strict_equals([True], [1]) and not strict_equals({"a": 1}, {"b": 1})
    assert evaluate({"unique": [[1, 1.5, True, 1, "1", [1], [1], {"a": 1}, {"a": 1}, None]]}, {}) == [
        1,
        1.5,
        True,
        "1",
        [1],
        {"a": 1},
        None,
    ]
    assert evaluate({"intersect": [[[1], {"a": 2}], [{"a": 2}, [1], 3]]}, {}) is True
    assert evaluate({"intersect": [[[1.5]], [[1]]]}, {}) is False


def test_state_survives_a_round_trip_after_the_fixes():
    chain = LocalChain()
    chain.create("f", machine({"n": {"+": [{"var": "state.n"}, 1]}}), {"n": 0}, [ALICE])
    chain.transition("f", "go", {}, ALICE)
    restored = ChainState.from_json(chain.state.to_json())
    assert restored.fibers["f"].state_data == {"n": 1}
    assert copy.deepcopy(restored.fibers["f"].to_wire()) == chain.state.fibers["f"].to_wire()
