"""OttoChain update messages: the one place their JSON shape is written down.

A message is a single-key object whose key is the chain's class name (docs/ottochain-wire.md §1.1).
Every field is always present, null or not: the chain re-encodes what it decoded before checking
signatures, so a message that left out a defaulted field would be signed over different bytes.

These builders are pure: activities sign what they return, the embedded bridge submits it, the
engine reads the same names back.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

CREATE_STATE_MACHINE: Final = "CreateStateMachine"
TRANSITION_STATE_MACHINE: Final = "TransitionStateMachine"
ARCHIVE_STATE_MACHINE: Final = "ArchiveStateMachine"

MESSAGE_KINDS: Final = (CREATE_STATE_MACHINE, TRANSITION_STATE_MACHINE, ARCHIVE_STATE_MACHINE)


def create_state_machine(
    fiber_id: str,
    definition: Mapping[str, Any],
    initial_data: Mapping[str, Any],
    *,
    parent_fiber_id: str | None = None,
) -> dict[str, Any]:
    """A new fiber; every proof on the signed update makes its signer an owner."""
    return {
        CREATE_STATE_MACHINE: {
            "fiberId": fiber_id,
            "definition": dict(definition),
            "initialData": dict(initial_data),
            "parentFiberId": parent_fiber_id,
        }
    }


def transition_state_machine(
    fiber_id: str, event: str, payload: Mapping[str, Any], target_sequence: int
) -> dict[str, Any]:
    """One event on a fiber, valid only while the fiber's sequence number equals ``target_sequence``."""
    return {
        TRANSITION_STATE_MACHINE: {
            "fiberId": fiber_id,
            "eventName": event,
            # The chain refuses a null payload (ValueIsNull); an event without data carries {}.
            "payload": dict(payload),
            "targetSequenceNumber": target_sequence,
        }
    }
