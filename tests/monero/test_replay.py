"""The saved monero histories replay with the current workflow code (no monerod needed: replay runs no activity).

tests/monero/record_histories.py recorded them from one small run: ``v1-*`` by the code before host queues
(everything on the shared monero queue), ``v2-*`` by the code with them (the run claims a host, then its process
activities go to that host's queue), so both branches of ``workflow.patched("monero-host-queue")`` are covered;
``v3-*`` by the code that also watches the run's processes (``workflow.patched("monero-relaunch-node")``);
``v4-*`` by the code that makes a window's payments while the round's block propagates
(``workflow.patched("monero-pay-while-propagating")``); ``v5-*`` by the code that writes a payment's and a
block's rows as local activities (``workflow.patched("monero-local-records")``); ``v6-*`` by the code whose
mining activity also awaits the block's propagation (``workflow.patched("monero-mine-and-propagate")``) and whose
relay also watches the sender's node's pool (``workflow.patched("monero-relay-observes")``).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from temporalio.client import WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Replayer

from workers.registry import MONERO_WORKFLOWS

HISTORIES = Path(__file__).parent / "histories"
KINDS = ("network", "funding", "payment", "round", "marketplace", "reconcile")


def load(tag: str, kind: str) -> WorkflowHistory:
    path = HISTORIES / f"{tag}-{kind}.json"
    return WorkflowHistory.from_json(path.stem, json.loads(path.read_text()))


def scheduled(history: WorkflowHistory) -> list[tuple[str, str]]:
    """(activity type, task queue) of every activity the history scheduled."""
    return [
        (
            e.activity_task_scheduled_event_attributes.activity_type.name,
            e.activity_task_scheduled_event_attributes.task_queue.name,
        )
        for e in history.events
        if e.HasField("activity_task_scheduled_event_attributes")
    ]


@pytest.mark.parametrize("tag", ["v1", "v2", "v3", "v4", "v5", "v6"])
@pytest.mark.parametrize("kind", KINDS)
async def test_saved_monero_histories_replay_with_the_current_code(tag: str, kind: str):
    replayer = Replayer(workflows=MONERO_WORKFLOWS, data_converter=pydantic_data_converter)
    await replayer.replay_workflow(load(tag, kind))


def test_the_saved_runs_took_both_branches_of_the_host_queue_patch():
    before, after = scheduled(load("v1", "network")), scheduled(load("v2", "network"))
    assert "monero.claim_host" not in {name for name, _ in before}
    assert {queue for _, queue in before} == {"simctl-monero"}
    assert after[0] == ("monero.claim_host", "simctl-monero")
    host_queues = {queue for name, queue in after if name in ("monero.plan_processes", "monero.stop_processes")}
    assert len(host_queues) == 1 and next(iter(host_queues)).startswith("simctl-monero@")
    # A child took the queue from its input.
    assert {queue for name, queue in scheduled(load("v2", "payment")) if name == "monero.build_transfer"} == host_queues


def test_the_saved_runs_took_both_branches_of_the_relaunch_patch():
    """v2 ran no watcher; v3 ran it once, on the run's host queue."""
    assert "monero.supervise_nodes" not in {name for name, _ in scheduled(load("v2", "network"))}
    after = scheduled(load("v3", "network"))
    watched = [queue for name, queue in after if name == "monero.supervise_nodes"]
    assert len(watched) == 1 and watched[0].startswith("simctl-monero@")


def child_spans(history: WorkflowHistory) -> dict[str, tuple[int, int]]:
    """Each child workflow's id: (event id of its start, event id of its completion)."""
    started: dict[int, str] = {}
    spans: dict[str, tuple[int, int]] = {}
    for e in history.events:
        if e.HasField("start_child_workflow_execution_initiated_event_attributes"):
            started[e.event_id] = e.start_child_workflow_execution_initiated_event_attributes.workflow_id
        elif e.HasField("child_workflow_execution_completed_event_attributes"):
            initiated = e.child_workflow_execution_completed_event_attributes.initiated_event_id
            spans[started[initiated]] = (initiated, e.event_id)
    return spans


def payments_started_during_a_round(history: WorkflowHistory) -> list[str]:
    spans = child_spans(history)
    rounds = [span for child, span in spans.items() if "/block/run-" in child]
    return sorted(
        child
        for child, (start, _) in spans.items()
        if "/pay/" in child and any(first < start < last for first, last in rounds)
    )


def test_the_saved_runs_took_both_branches_of_the_pay_while_propagating_patch():
    """v3 made a window's payments after the round had propagated everywhere; v4 while it propagates."""
    assert payments_started_during_a_round(load("v3", "network")) == []
    assert payments_started_during_a_round(load("v4", "network")) != []


def local_activities(history: WorkflowHistory) -> list[str]:
    """The activity types of the local activities a history recorded (as markers)."""
    names = []
    for e in history.events:
        if e.HasField("marker_recorded_event_attributes") and e.marker_recorded_event_attributes.marker_name == (
            "core_local_activity"
        ):
            data = json.loads(e.marker_recorded_event_attributes.details["data"].payloads[0].data)
            names.append(data["activity_type"])
    return names


@pytest.mark.parametrize(("kind", "record"), [("payment", "monero.record_payment"), ("round", "monero.record_block")])
def test_the_saved_runs_took_both_branches_of_the_local_records_patch(kind: str, record: str):
    """v4 scheduled the store write as an activity; v5 ran it as a local activity."""
    assert record in {name for name, _ in scheduled(load("v4", kind))}
    assert local_activities(load("v4", kind)) == []
    assert record not in {name for name, _ in scheduled(load("v5", kind))}
    assert local_activities(load("v5", kind)) == [record]


def test_the_saved_runs_took_both_branches_of_the_fewer_activities_patches():
    """v5 awaited the block and watched the pool in activities of their own; v6 in the mining and relay ones."""
    assert [name for name, _ in scheduled(load("v5", "round"))] == ["monero.generate_blocks", "monero.await_block"]
    assert [name for name, _ in scheduled(load("v6", "round"))] == ["monero.generate_blocks"]
    before = [name for name, _ in scheduled(load("v5", "payment"))]
    assert before == ["monero.build_transfer", "monero.relay_transfer", "monero.observe_in_pool"]
    assert [name for name, _ in scheduled(load("v6", "payment"))] == ["monero.build_transfer", "monero.relay_transfer"]
