"""The fiber engine: OttoChain's state-machine semantics, applied snapshot by snapshot.

Pure state transitions, no I/O: the node's DL1 layer validates and queues signed updates, and at each
snapshot ``combine`` applies the queue the way ML0 does (creates first, then transitions ordered by
fiber and sequence number). Semantics follow OttoChain v0.6.0 (the ottobot-ai/ottochain repository:
its fiber validation rules and its evaluation of guards, effects and triggers in ``modules/shared-data``):

- owners are the DAG addresses of all signers of the create; a transition needs an owner's proof and a
  ``targetSequenceNumber`` equal to the fiber's; otherwise it is dropped and recorded as a rejection;
- candidates for (state, event) are tried in definition order; the first guard returning boolean
  ``true`` fires; a non-boolean or an error aborts; all false is NoGuardMatched;
- an aborted event leaves state, data and sequence unchanged and records ``lastReceipt``;
- an effect's map is shallow-merged into the data minus ``_``-prefixed keys; ``_triggers`` fire events
  on other fibers depth-first and atomically (no owner check), ``_spawn`` creates children, ``_emit``
  lands in the receipt.

No update can stop the chain: what DL1 can check without the chain (shapes, values, definitions,
limits: ``validate_message``) is refused at submission; an event whose guard or effect fails, or whose
result the chain could not store (integers beyond ±(2^53-1), nesting, size), aborts with a receipt; and
anything else an update raises drops it as an ``InternalError`` rejection, leaving the state unchanged.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import logging
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from localnet.ottochain.jlvm import (
    GasExhaustedError,
    JlvmError,
    evaluate_metered,
    validate_expression,
)
from localnet.ottochain.limits import (
    MAX_BODY_DEPTH,
    MAX_DEFINITION_BYTES,
    MAX_DEFINITION_DEPTH,
    MAX_SAFE_INTEGER,
    MAX_VALUE_DEPTH,
    clip,
    json_problem,
    short,
)
from sim.canonical import canonical_json, sha256_hex
from sim.otto.messages import CREATE_STATE_MACHINE, MESSAGE_KINDS, TRANSITION_STATE_MACHINE
from sim.otto.signing import is_dag_address

log = logging.getLogger(__name__)

ACTIVE, ARCHIVED = "Active", "Archived"
MAX_STATES, MAX_TRANSITIONS, MAX_TRANSITIONS_PER_STATE = 100, 500, 20
MAX_INITIAL_DATA_BYTES, MAX_PAYLOAD_BYTES, MAX_STATE_BYTES = 1_000_000, 100_000, 1_000_000
MAX_TRIGGER_DEPTH, GAS_LIMIT = 10, 10_000_000


class UpdateRejected(Exception):
    """An update the chain refuses; ``code`` is OttoChain's error name (e.g. NotSignedByOwner)."""

    def __init__(self, code: str, message: str) -> None:
        message = clip(message)  # it is stored (rejections) and answered: never as large as the input
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


class _Abort(Exception):
    """An event that was processed but failed: recorded in lastReceipt, nothing else changes."""


# --- state ids --------------------------------------------------------------------------------


def plain_state_id(value: Any) -> str:
    """Both wire forms of a state id, ``"X"`` and ``{"value": "X"}``, as the plain string."""
    if isinstance(value, dict) and set(value) == {"value"} and isinstance(value["value"], str):
        return value["value"]
    if isinstance(value, str):
        return value
    raise UpdateRejected("InvalidStateId", f"state id must be a string, got {short(value)}")


def normalize_definition(definition: Any) -> dict[str, Any]:
    """The definition with every state id in the plain form, and defaulted fields filled in.

    Takes whatever JSON the update carried: anything that is not a definition is refused here.
    """
    if not isinstance(definition, Mapping):
        raise UpdateRejected("InvalidDefinition", "definition must be an object")
    states = definition.get("states")
    if not isinstance(states, Mapping) or not states:
        raise UpdateRejected("NoStatesInDefinition", "definition has no states")
    normalized_states = {}
    for key, state in states.items():
        if not isinstance(state, Mapping):
            raise UpdateRejected("InvalidDefinition", f"state {key!r} must be an object")
        state_id = plain_state_id(state.get("id", key))
        normalized_states[key] = {
            "id": state_id,
            "isFinal": bool(state.get("isFinal", False)),
            "metadata": state.get("metadata"),
        }
    listed = definition.get("transitions")
    if listed is not None and not isinstance(listed, list):
        raise UpdateRejected("InvalidDefinition", "transitions must be a list")
    transitions = []
    for transition in listed or []:
        if not isinstance(transition, Mapping):
            raise UpdateRejected("InvalidDefinition", "a transition must be an object")
        dependencies = transition.get("dependencies")
        if dependencies is not None and not (
            isinstance(dependencies, list) and all(isinstance(d, str) for d in dependencies)
        ):
            raise UpdateRejected("InvalidDefinition", "a transition's dependencies must be a list of fiber ids")
        transitions.append(
            {
                "from": plain_state_id(transition.get("from")),
                "to": plain_state_id(transition.get("to")),
                "eventName": str(transition.get("eventName", "")),
                "guard": transition.get("guard", True),
                "effect": transition.get("effect", {}),
                "dependencies": list(dependencies or []),
            }
        )
    return {
        "states": normalized_states,
        "initialState": plain_state_id(definition.get("initialState")),
        "transitions": transitions,
        "metadata": definition.get("metadata"),
    }


def validate_definition(definition: Mapping[str, Any]) -> None:
    """OttoChain's create-time rules (FiberRules): structure, limits, expression checks."""
    states = definition["states"]
    ids = {state["id"] for state in states.values()}
    if len(states) > MAX_STATES:
        raise UpdateRejected("TooManyStates", f"{len(states)} states (at most {MAX_STATES})")
    for key, state in states.items():
        if state["id"] != key:
            raise UpdateRejected("InvalidDefinition", f"state key {key!r} differs from its id {state['id']!r}")
    if definition["initialState"] not in ids:
        raise UpdateRejected("InitialStateNotFound", f"initial state {definition['initialState']!r} is not a state")
    transitions = definition["transitions"]
    if len(transitions) > MAX_TRANSITIONS:
        raise UpdateRejected("TooManyTransitions", f"{len(transitions)} transitions (at most {MAX_TRANSITIONS})")
    per_state: dict[str, int] = {}
    groups: dict[tuple[str, str], list[Mapping[str, Any]]] = {}
    seen = set()
    for transition in transitions:
        if transition["from"] not in ids:
            raise UpdateRejected("TransitionFromInvalidState", f"transition from unknown state {transition['from']!r}")
        if transition["to"] not in ids:
            raise UpdateRejected("TransitionToInvalidState", f"transition to unknown state {transition['to']!r}")
        signature = canonical_json({k: transition[k] for k in ("from", "to", "eventName", "guard")})
        if signature in seen:
            raise UpdateRejected(
                "DuplicateTransitions", f"duplicate transition {transition['from']} --{transition['eventName']}->"
            )
        seen.add(signature)
        per_state[transition["from"]] = per_state.get(transition["from"], 0) + 1
        groups.setdefault((transition["from"], transition["eventName"]), []).append(transition)
        for part in ("guard", "effect"):
            problems = validate_expression(transition[part])
            if problems:
                code = "ExpressionTooDeep" if "depth" in problems[0] else "ReservedOperatorAsFieldName"
                raise UpdateRejected(code, f"{transition['from']} --{transition['eventName']}-> {part}: {problems[0]}")
    for state, count in per_state.items():
        if count > MAX_TRANSITIONS_PER_STATE:
            raise UpdateRejected("TooManyTransitionsPerState", f"{count} transitions from {state!r}")
    for (state, event), group in groups.items():
        if len(group) > 1 and any(t["guard"] is True for t in group):
            raise UpdateRejected("AmbiguousTransitions", f"a literal true guard among several {state} --{event}->")


# --- records ----------------------------------------------------------------------------------


@dataclass
class Fiber:
    fiber_id: str
    definition: dict[str, Any]
    current_state: str
    state_data: dict[str, Any]
    owners: list[str]
    creation_ordinal: int
    sequence_number: int = 0
    status: str = ACTIVE
    previous_update_ordinal: int | None = None
    latest_update_ordinal: int | None = None
    last_receipt: dict[str, Any] | None = None
    parent_fiber_id: str | None = None
    child_fiber_ids: list[str] = field(default_factory=list)

    def to_wire(self) -> dict[str, Any]:
        """The record as ML0 serves it (plain state ids, ``Active`` status, nulls kept)."""
        return {
            "fiberId": self.fiber_id,
            "creationOrdinal": self.creation_ordinal,
            "previousUpdateOrdinal": self.previous_update_ordinal,
            "latestUpdateOrdinal": self.latest_update_ordinal,
            "definition": self.definition,
            "currentState": self.current_state,
            "stateData": self.state_data,
            "stateDataHash": sha256_hex(canonical_json(self.state_data)),
            "sequenceNumber": self.sequence_number,
            "owners": list(self.owners),
            "status": self.status,
            "lastReceipt": self.last_receipt,
            "parentFiberId": self.parent_fiber_id,
            "childFiberIds": list(self.child_fiber_ids),
        }

    @classmethod
    def from_wire(cls, record: Mapping[str, Any]) -> Fiber:
        return cls(
            fiber_id=record["fiberId"],
            definition=record["definition"],
            current_state=plain_state_id(record["currentState"]),
            state_data=record["stateData"],
            owners=list(record["owners"]),
            creation_ordinal=record["creationOrdinal"],
            sequence_number=record["sequenceNumber"],
            status=record["status"],
            previous_update_ordinal=record.get("previousUpdateOrdinal"),
            latest_update_ordinal=record.get("latestUpdateOrdinal"),
            last_receipt=record.get("lastReceipt"),
            parent_fiber_id=record.get("parentFiberId"),
            child_fiber_ids=list(record.get("childFiberIds") or []),
        )


@dataclass(frozen=True)
class Proof:
    address: str
    id: str
    signature: str


@dataclass(frozen=True)
class PendingUpdate:
    """A signed update DL1 accepted: the message, its signers, and its hash."""

    message: dict[str, Any]
    proofs: tuple[Proof, ...]
    hash: str

    @property
    def kind(self) -> str:
        return next(iter(self.message))

    @property
    def body(self) -> dict[str, Any]:
        return self.message[self.kind]

    @property
    def signers(self) -> list[str]:
        return [proof.address for proof in self.proofs]


@dataclass
class Rejection:
    """An update dropped at consensus: the shape of ML0's `transaction.rejected` notification."""

    ordinal: int
    update_type: str
    fiber_id: str | None
    target_sequence_number: int | None
    code: str
    message: str
    signers: list[str]
    update_hash: str

    def to_wire(self) -> dict[str, Any]:
        return {
            "event": "transaction.rejected",
            "ordinal": self.ordinal,
            "rejection": {
                "updateType": self.update_type,
                "fiberId": self.fiber_id,
                "targetSequenceNumber": self.target_sequence_number,
                "errors": [{"code": self.code, "message": self.message}],
                "signers": self.signers,
                "updateHash": self.update_hash,
            },
        }


@dataclass
class Applied:
    """One event that changed a fiber (for audits: no (fiber, sequence) may appear twice)."""

    ordinal: int
    fiber_id: str
    sequence_number: int
    event: str
    update_hash: str | None


@dataclass
class ChainState:
    ordinal: int = 0
    last_snapshot_hash: str = "0" * 64
    fibers: dict[str, Fiber] = field(default_factory=dict)
    balances: dict[str, int] = field(default_factory=dict)
    rejections: list[Rejection] = field(default_factory=list)
    applied: list[Applied] = field(default_factory=list)
    latest_logs: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    # What changed since the state file last saved it: the file writes only these (see persist.py).
    dirty_fibers: dict[str, None] = field(default_factory=dict, repr=False, compare=False)  # ordered: creation order
    dirty_balances: set[str] = field(default_factory=set, repr=False, compare=False)
    # One object per distinct definition, shared by every fiber that has it: a definition is tens of KiB
    # as Python objects and a population creates the same few thousands of times. Never mutated.
    definitions: dict[str, dict[str, Any]] = field(default_factory=dict, repr=False, compare=False)

    def shared_definition(self, definition: dict[str, Any]) -> dict[str, Any]:
        key = json.dumps(definition, sort_keys=True, separators=(",", ":"))
        return self.definitions.setdefault(key, definition)

    def to_json(self) -> str:
        return json.dumps(
            {
                "ordinal": self.ordinal,
                "lastSnapshotHash": self.last_snapshot_hash,
                "fibers": [fiber.to_wire() for fiber in self.fibers.values()],
                "balances": self.balances,
                "rejections": [asdict(r) for r in self.rejections],
                "applied": [asdict(a) for a in self.applied],
            }
        )

    @classmethod
    def from_json(cls, text: str) -> ChainState:
        data = json.loads(text)
        return cls(
            ordinal=data["ordinal"],
            last_snapshot_hash=data["lastSnapshotHash"],
            fibers={record["fiberId"]: Fiber.from_wire(record) for record in data["fibers"]},
            balances={address: int(amount) for address, amount in data["balances"].items()},
            rejections=[Rejection(**r) for r in data.get("rejections", [])],
            applied=[Applied(**a) for a in data.get("applied", [])],
        )


# --- L1 validation (DL1, at submission) -------------------------------------------------------


def checked_definition(definition: Any) -> dict[str, Any]:
    """A definition DL1 accepts, normalised: bounded nesting and size, then OttoChain's create rules."""
    problem = json_problem(definition, where="definition", max_depth=MAX_DEFINITION_DEPTH)
    if problem is not None:
        raise UpdateRejected("InvalidDefinition", problem)
    size = len(canonical_json(definition))
    if size > MAX_DEFINITION_BYTES:
        raise UpdateRejected(
            "ValueTooLarge", f"definition size ({size} bytes) exceeds maximum ({MAX_DEFINITION_BYTES} bytes)"
        )
    normalized = normalize_definition(definition)
    validate_definition(normalized)
    return normalized


def check_value(value: Any, field_name: str, max_bytes: int) -> None:
    """Data the chain will store or evaluate: hashable as canonical JSON, nested at most MAX_VALUE_DEPTH, sized."""
    problem = json_problem(value, where=field_name, max_depth=MAX_VALUE_DEPTH)
    if problem is not None:
        raise UpdateRejected("InvalidValue", problem)
    size = len(canonical_json(value))
    if size > max_bytes:
        raise UpdateRejected("ValueTooLarge", f"{field_name} size ({size} bytes) exceeds maximum ({max_bytes} bytes)")


def validate_message(message: Any) -> None:
    """What DL1 checks without looking at the chain: the message's shape, its values, the definition.

    Everything refused here is refused before it is queued (a 400), so no snapshot ever meets it.
    """
    if not isinstance(message, Mapping) or len(message) != 1 or next(iter(message)) not in MESSAGE_KINDS:
        shown = short(sorted(message, key=str)) if isinstance(message, Mapping) else short(message)
        raise UpdateRejected("InvalidUpdate", f"unknown update {shown}")
    kind = next(iter(message))
    body = message[kind]
    if not isinstance(body, Mapping) or not isinstance(body.get("fiberId"), str):
        raise UpdateRejected("InvalidUpdate", "fiberId is required")
    if kind == CREATE_STATE_MACHINE:
        checked_definition(body.get("definition"))
        initial = body.get("initialData")
        if not isinstance(initial, Mapping):
            raise UpdateRejected("NotMapValue", "initialData must be an object")
        check_value(initial, "initialData", MAX_INITIAL_DATA_BYTES)
        if not isinstance(body.get("parentFiberId"), str | None):
            raise UpdateRejected("InvalidUpdate", "parentFiberId must be a fiber id or null")
    else:
        target = body.get("targetSequenceNumber")
        if not isinstance(target, int) or isinstance(target, bool) or not 0 <= target <= MAX_SAFE_INTEGER:
            raise UpdateRejected("InvalidUpdate", "targetSequenceNumber must be an integer from 0 to 2^53-1")
    if kind == TRANSITION_STATE_MACHINE:
        if body.get("payload") is None:
            raise UpdateRejected("ValueIsNull", "payload must not be null")
        check_value(body["payload"], "payload", MAX_PAYLOAD_BYTES)
        if not isinstance(body.get("eventName"), str) or not body["eventName"]:
            raise UpdateRejected("InvalidUpdate", "eventName is required")
    # Last, everything else the message holds (ids, names, extra fields): it is all hashed.
    problem = json_problem(message, where="update", max_depth=MAX_BODY_DEPTH)
    if problem is not None:
        raise UpdateRejected("InvalidUpdate", problem)


def validate_against_chain(state: ChainState, update: PendingUpdate, pending_creates: Iterable[str] = ()) -> None:
    """The rest of DL1's checks, for a message ``validate_message`` passed: unknown ids, stale sequence numbers."""
    body = update.body
    fiber_id = body["fiberId"]
    if update.kind == CREATE_STATE_MACHINE:
        if fiber_id in state.fibers or fiber_id in pending_creates:
            raise UpdateRejected("CidAlreadyExists", f"Resource with ID {fiber_id} already exists")
        parent = body.get("parentFiberId")
        if parent is not None and parent not in state.fibers:
            raise UpdateRejected("ParentFiberNotFound", f"parent fiber {parent} not found")
        return
    fiber = state.fibers.get(fiber_id)
    if fiber is None:
        raise UpdateRejected("CidNotFound", f"Resource with ID {fiber_id} not found")
    target = body["targetSequenceNumber"]
    if target < fiber.sequence_number:
        raise UpdateRejected(
            "SequenceNumberMismatch",
            f"Sequence number mismatch for fiber {fiber_id}: "
            f"update targets {target} but fiber is at {fiber.sequence_number}",
        )


def validate_at_l1(state: ChainState, update: PendingUpdate, pending_creates: Iterable[str] = ()) -> None:
    """What DL1 checks against its view of the chain: structure, values, unknown ids, stale sequence numbers.

    Ownership, status and event names are ML0's business: such updates pass here and are dropped at
    consensus, exactly as on a real network.
    """
    validate_message(update.message)
    validate_against_chain(state, update, pending_creates)


# --- consensus (ML0, at each snapshot) --------------------------------------------------------


def combine(state: ChainState, updates: list[PendingUpdate]) -> ChainState:
    """Apply one snapshot's updates and advance the ordinal; rejected updates leave no trace in state."""
    state.ordinal += 1
    state.last_snapshot_hash = sha256_hex(
        canonical_json(
            {"previous": state.last_snapshot_hash, "ordinal": state.ordinal, "updates": [u.hash for u in updates]}
        )
    )
    state.latest_logs = {}
    creates = [u for u in updates if _kind(u) == CREATE_STATE_MACHINE]
    others = sorted((u for u in updates if _kind(u) != CREATE_STATE_MACHINE), key=_order)
    for update in [*creates, *others]:
        try:
            kind = _kind(update)
            if kind == CREATE_STATE_MACHINE:
                _create(state, update)
            elif kind == TRANSITION_STATE_MACHINE:
                _transition(state, update)
            else:
                _archive(state, update)
            continue
        except UpdateRejected as rejected:
            code, message = rejected.code, rejected.message
        except Exception as err:  # a fault of this node, not of the update: drop it, keep the chain going
            log.exception("update %s raised at snapshot %d; it is dropped", update.hash, state.ordinal)
            code, message = "InternalError", clip(f"{type(err).__name__}: {err}")
        body = update.message.get(_kind(update)) if isinstance(update.message, Mapping) else None
        body = body if isinstance(body, Mapping) else {}
        fiber_id, target = body.get("fiberId"), body.get("targetSequenceNumber")
        state.rejections.append(
            Rejection(
                ordinal=state.ordinal,
                update_type=_kind(update),
                fiber_id=fiber_id if isinstance(fiber_id, str) else None,
                target_sequence_number=target if isinstance(target, int) and not isinstance(target, bool) else None,
                code=code,
                message=message,
                signers=[proof.id for proof in update.proofs],
                update_hash=update.hash,
            )
        )
    return state


def _kind(update: PendingUpdate) -> str:
    """The update's message name, or "" for a message that has none (DL1 never queues one)."""
    message = update.message
    return next(iter(message), "") if isinstance(message, Mapping) else ""


def _order(update: PendingUpdate) -> tuple[str, int]:
    """ML0's order for non-creates: by fiber, then target sequence number (odd values first, harmlessly)."""
    body = update.message.get(_kind(update)) if isinstance(update.message, Mapping) else None
    body = body if isinstance(body, Mapping) else {}
    fiber_id, target = body.get("fiberId"), body.get("targetSequenceNumber")
    return (
        fiber_id if isinstance(fiber_id, str) else "",
        target if isinstance(target, int) and not isinstance(target, bool) else -1,
    )


def _create(state: ChainState, update: PendingUpdate) -> None:
    validate_at_l1(state, update)
    body = update.body
    if not update.proofs:
        raise UpdateRejected("NoProofsProvided", "a create needs at least one signature")
    definition = state.shared_definition(normalize_definition(body["definition"]))
    owners = list(dict.fromkeys(update.signers))
    fiber = Fiber(
        fiber_id=body["fiberId"],
        definition=definition,
        current_state=definition["initialState"],
        state_data=copy.deepcopy(dict(body["initialData"])),
        owners=owners,
        creation_ordinal=state.ordinal,
        parent_fiber_id=body.get("parentFiberId"),
    )
    state.fibers[fiber.fiber_id] = fiber
    state.dirty_fibers[fiber.fiber_id] = None
    if fiber.parent_fiber_id:
        state.fibers[fiber.parent_fiber_id].child_fiber_ids.append(fiber.fiber_id)
        state.dirty_fibers[fiber.parent_fiber_id] = None


def _archive(state: ChainState, update: PendingUpdate) -> None:
    fiber = _owned_fiber(state, update)
    fiber.status = ARCHIVED
    state.dirty_fibers[fiber.fiber_id] = None
    fiber.previous_update_ordinal, fiber.latest_update_ordinal = fiber.latest_update_ordinal, state.ordinal


def _owned_fiber(state: ChainState, update: PendingUpdate) -> Fiber:
    body = update.body
    fiber_id = body.get("fiberId")
    fiber = state.fibers.get(fiber_id) if isinstance(fiber_id, str) else None
    if fiber is None:
        raise UpdateRejected("CidNotFound", f"Resource with ID {body.get('fiberId')} not found")
    if fiber.status != ACTIVE:
        raise UpdateRejected("FiberNotActive", f"fiber {fiber.fiber_id} is {fiber.status}")
    signers = set(update.signers)
    # Owners are addresses; anything else a state file may hold never matches a signer.
    if not any(isinstance(owner, str) and owner in signers for owner in fiber.owners):
        raise UpdateRejected("NotSignedByOwner", "Update not signed by any fiber owner")
    if body.get("targetSequenceNumber") != fiber.sequence_number:
        raise UpdateRejected(
            "SequenceNumberMismatch",
            f"Sequence number mismatch for fiber {fiber.fiber_id}: update targets "
            f"{body.get('targetSequenceNumber')} but fiber is at {fiber.sequence_number}",
        )
    return fiber


def _transition(state: ChainState, update: PendingUpdate) -> None:
    fiber = _owned_fiber(state, update)
    body = update.body
    event = body["eventName"]
    if not _candidates(fiber, event):
        raise UpdateRejected(
            "NoTransitionForEvent", f"No transition from state {fiber.current_state} for event {event}"
        )

    run = _EventRun(state, proofs=update.proofs, update_hash=update.hash)
    try:
        run.fire(fiber.fiber_id, event, body["payload"], source=None, depth=0)
    except _Abort as abort:
        # Nothing of the run is kept; only the receipt of the failed event.
        fiber.last_receipt = _receipt(
            fiber.fiber_id,
            fiber.sequence_number,
            event,
            state.ordinal,
            fiber.current_state,
            fiber.current_state,
            gas=run.gas,
            triggers=0,
            error=clip(str(abort)),
        )
        state.latest_logs.setdefault(fiber.fiber_id, []).append({"EventReceipt": fiber.last_receipt})
        state.dirty_fibers[fiber.fiber_id] = None
        return
    run.commit()


def _candidates(fiber: Fiber, event: str) -> list[dict[str, Any]]:
    return [t for t in fiber.definition["transitions"] if t["from"] == fiber.current_state and t["eventName"] == event]


def _receipt(
    fiber_id: str,
    sequence: int,
    event: str,
    ordinal: int,
    from_state: str,
    to_state: str,
    *,
    gas: int,
    triggers: int,
    error: str | None = None,
    source: str | None = None,
    emitted: list[Any] | None = None,
) -> dict[str, Any]:
    """An EventReceipt: a success carries the new sequence number, a failure the unchanged one."""
    return {
        "fiberId": fiber_id,
        "sequenceNumber": sequence,
        "eventName": event,
        "ordinal": ordinal,
        "fromState": from_state,
        "toState": to_state,
        "success": error is None,
        "gasUsed": gas,
        "triggersFired": triggers,
        "errorMessage": error,
        "sourceFiberId": source,
        "emittedEvents": emitted or [],
    }


class _EventRun:
    """One external event and every trigger it fires, applied to copies and committed together."""

    def __init__(self, state: ChainState, *, proofs: tuple[Proof, ...], update_hash: str) -> None:
        self.state = state
        self.proofs = proofs
        self.update_hash = update_hash
        self.gas = 0
        self.working: dict[str, Fiber] = {}
        self.created: dict[str, Fiber] = {}
        self.receipts: list[tuple[str, dict[str, Any]]] = []
        self.active_path: list[tuple[str, str]] = []

    def fiber(self, fiber_id: str) -> Fiber:
        if fiber_id not in self.working:
            source = self.created.get(fiber_id) or self.state.fibers.get(fiber_id)
            if source is None:
                raise _Abort(f"trigger target {short(fiber_id)} not found")
            # A working copy: the run replaces state data and receipts and appends to these lists, but
            # never changes a value in place, so the definition and the data are shared, not copied.
            self.working[fiber_id] = dataclasses.replace(
                source, owners=list(source.owners), child_fiber_ids=list(source.child_fiber_ids)
            )
        return self.working[fiber_id]

    def fire(self, fiber_id: str, event: str, payload: Any, *, source: str | None, depth: int) -> None:
        if depth > MAX_TRIGGER_DEPTH:
            raise _Abort(f"trigger depth exceeds {MAX_TRIGGER_DEPTH}")
        if (fiber_id, event) in self.active_path:
            raise _Abort(f"trigger cycle through {fiber_id} {event}")
        fiber = self.fiber(fiber_id)
        if fiber.status != ACTIVE:
            raise _Abort(f"fiber {fiber_id} is {fiber.status}")
        candidates = _candidates(fiber, event)
        if not candidates:
            raise _Abort(f"No transition from state {fiber.current_state} for event {event}")
        context = self._context(fiber, event, payload)
        chosen = None
        for transition in candidates:
            verdict = self._evaluate(transition["guard"], context, "guard")
            if verdict is True:
                chosen = transition
                break
            if verdict is not False:
                raise _Abort(f"EvaluationError: guard returned {short(verdict)}, not a boolean")
        if chosen is None:
            raise _Abort(f"NoGuardMatched: no guard for {fiber.current_state} --{event}-> passed")

        result = self._evaluate(chosen["effect"], context, "effect")
        updates = _effect_updates(result)
        triggers = updates.pop("_triggers", None) or []
        emitted = updates.pop("_emit", None) or []
        if "_oracleCall" in updates:
            raise _Abort("oracle calls are not supported by this node")
        spawns = chosen["effect"].get("_spawn") if isinstance(chosen["effect"], dict) else None
        if spawns is not None and not isinstance(spawns, list):
            raise _Abort("_spawn must be a list of child specifications")
        new_data = {**fiber.state_data, **{k: v for k, v in updates.items() if not k.startswith("_")}}
        # The chain must be able to hash what it stores: an effect that overflows the JSON-safe integers
        # or nests too deep fails here, as an evaluation error, instead of at the next hash.
        try:
            check_value(new_data, "state data", MAX_STATE_BYTES)
            emitted = [e for e in emitted if isinstance(e, Mapping)] if isinstance(emitted, list) else []
            check_value(emitted, "_emit", MAX_STATE_BYTES)
        except UpdateRejected as rejected:
            raise _Abort(f"EvaluationError: effect result: {rejected}") from None

        from_state = fiber.current_state
        fiber.state_data = new_data
        fiber.current_state = chosen["to"]
        fiber.sequence_number += 1
        fiber.previous_update_ordinal, fiber.latest_update_ordinal = fiber.latest_update_ordinal, self.state.ordinal
        for child in spawns or []:
            self._spawn(fiber, child)

        self.active_path.append((fiber_id, event))
        fired = 0
        for trigger in triggers if isinstance(triggers, list) else []:
            if not isinstance(trigger, Mapping) or not isinstance(trigger.get("targetMachineId"), str):
                continue  # malformed entries are skipped, as on the chain
            self.fire(
                trigger["targetMachineId"],
                str(trigger.get("eventName")),
                trigger.get("payload") or {},
                source=fiber_id,
                depth=depth + 1,
            )
            fired += 1
        self.active_path.pop()

        receipt = _receipt(
            fiber_id,
            fiber.sequence_number,
            event,
            self.state.ordinal,
            from_state,
            fiber.current_state,
            gas=self.gas,
            triggers=fired,
            source=source,
            emitted=emitted,
        )
        fiber.last_receipt = receipt
        self.receipts.append((fiber_id, receipt))

    def _spawn(self, parent: Fiber, spec: Any) -> None:
        """A child, checked as a create would be: its definition, its data, and owners that are addresses."""
        if not isinstance(spec, Mapping) or not isinstance(spec.get("childId"), str):
            raise _Abort("a _spawn entry needs a literal childId")
        child_id = spec["childId"]
        if child_id in self.state.fibers or child_id in self.created:
            raise _Abort(f"spawned fiber {short(child_id)} already exists")
        initial = spec.get("initialData")
        initial = {} if initial is None else initial
        requested = spec.get("owners")
        try:
            definition = self.state.shared_definition(checked_definition(spec.get("definition")))
            if not isinstance(initial, Mapping):
                raise UpdateRejected("NotMapValue", "initialData must be an object")
            check_value(initial, "initialData", MAX_INITIAL_DATA_BYTES)
            if requested is not None and not isinstance(requested, list):
                raise UpdateRejected("InvalidOwnersExpression", f"expected a list of addresses, got {short(requested)}")
            for owner in requested or []:
                if not is_dag_address(owner):
                    raise UpdateRejected("InvalidOwnerAddress", f"{short(owner)} is not a DAG address")
            if requested == []:
                raise UpdateRejected("InvalidOwnersExpression", "a child needs at least one owner")
        except UpdateRejected as rejected:
            raise _Abort(f"spawn of {short(child_id)}: {rejected}") from None
        child = Fiber(
            fiber_id=child_id,
            definition=definition,
            current_state=definition["initialState"],
            state_data=copy.deepcopy(dict(initial)),
            owners=list(dict.fromkeys(requested or parent.owners)),
            creation_ordinal=self.state.ordinal,
            parent_fiber_id=parent.fiber_id,
        )
        self.created[child_id] = child
        parent.child_fiber_ids.append(child_id)

    def _evaluate(self, expression: Any, context: dict[str, Any], what: str) -> Any:
        """The expression's value; a failure aborts the event, charged the gas it used until it failed."""
        try:
            result, used = evaluate_metered(expression, context, gas_limit=GAS_LIMIT - self.gas)
        except GasExhaustedError:
            self.gas = GAS_LIMIT
            raise _Abort(f"EvaluationError: {what} ran out of gas") from None
        except JlvmError as err:
            self.gas = min(GAS_LIMIT, self.gas + err.gas_used)
            raise _Abort(clip(f"EvaluationError: {what}: {err}")) from None
        self.gas += used
        return result

    def _context(self, fiber: Fiber, event: str, payload: Any) -> dict[str, Any]:
        dependencies = {
            dep
            for t in fiber.definition["transitions"]
            if t["from"] == fiber.current_state
            for dep in t["dependencies"]
        }
        machines = {}
        for dep in dependencies:
            other = self.working.get(dep) or self.state.fibers.get(dep)
            if other is not None:
                machines[dep] = {
                    "state": other.state_data,
                    "currentStateId": other.current_state,
                    "sequenceNumber": other.sequence_number,
                }
        parent = self.state.fibers.get(fiber.parent_fiber_id) if fiber.parent_fiber_id else None
        return {
            "state": fiber.state_data,
            "event": payload,
            "eventName": event,
            "machineId": fiber.fiber_id,
            "currentStateId": fiber.current_state,
            "sequenceNumber": fiber.sequence_number,
            "$ordinal": self.state.ordinal,
            "$lastSnapshotHash": self.state.last_snapshot_hash,
            "$epochProgress": 0,
            "proofs": [{"address": p.address, "id": p.id, "signature": p.signature} for p in self.proofs],
            "machines": machines,
            "scripts": {},
            "parent": None
            if parent is None
            else {
                "machineId": parent.fiber_id,
                "state": parent.state_data,
                "currentStateId": parent.current_state,
                "sequenceNumber": parent.sequence_number,
            },
            "children": {
                child_id: {
                    "state": self.state.fibers[child_id].state_data,
                    "currentStateId": self.state.fibers[child_id].current_state,
                    "sequenceNumber": self.state.fibers[child_id].sequence_number,
                }
                for child_id in fiber.child_fiber_ids
                if child_id in self.state.fibers
            },
        }

    def commit(self) -> None:
        self.state.fibers.update(self.created)
        self.state.fibers.update(self.working)
        self.state.dirty_fibers.update(dict.fromkeys([*self.created, *self.working]))
        for fiber_id, receipt in self.receipts:
            self.state.latest_logs.setdefault(fiber_id, []).append({"EventReceipt": receipt})
            self.state.applied.append(
                Applied(
                    ordinal=self.state.ordinal,
                    fiber_id=fiber_id,
                    sequence_number=receipt["sequenceNumber"],
                    event=receipt["eventName"],
                    update_hash=self.update_hash if receipt["sourceFiberId"] is None else None,
                )
            )


def _effect_updates(result: Any) -> dict[str, Any]:
    """An effect yields a map, or an array of [key, value] pairs; anything else aborts."""
    if isinstance(result, dict):
        return dict(result)
    if isinstance(result, list) and all(isinstance(p, list) and len(p) == 2 and isinstance(p[0], str) for p in result):
        return dict(result)
    raise _Abort(f"EvaluationError: effect must produce a map, got {short(result)}")
