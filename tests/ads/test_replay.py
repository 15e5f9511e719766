"""The saved ads histories replay with the current workflow code, and a changed workflow fails to.

The histories in tests/ads/histories/ come from tests/ads/record_histories.py (a tiny study: one buyer,
two sellers, one campaign, three days, every scenario). ``simctl audit`` replays real histories the same
way, so a change here that fails is a change that would break the audit of every study already run:
version it with ``workflow.patched()`` or a new workflow type (docs/architecture.md, "Replay safety").
"""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from temporalio import workflow
from temporalio.client import WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Replayer, UnsandboxedWorkflowRunner

# The workflows below are defined in this module, which the sandbox therefore re-imports: the project's
# modules come through as they do in the workflow modules, so one World class is shared.
with workflow.unsafe.imports_passed_through():
    from models.ads import CampaignSpec, CampaignSummary, ExperimentCarry, ExperimentSpec, ExperimentSummary
    from workflows.ads import campaign as campaign_module
    from workflows.ads.campaign import CampaignWorkflow
    from workflows.ads.experiment import ExperimentWorkflow

HISTORIES = Path(__file__).parent / "histories"


def saved() -> dict[str, WorkflowHistory]:
    files = sorted(HISTORIES.glob("*.json"))
    return {path.stem: WorkflowHistory.from_json(path.stem, json.loads(path.read_text())) for path in files}


def workflow_type(history: WorkflowHistory) -> str:
    return history.events[0].workflow_execution_started_event_attributes.workflow_type.name


def scenario(history: WorkflowHistory) -> str:
    """A campaign history's scenario, from its recorded input (a CampaignSpec)."""
    [payload] = history.events[0].workflow_execution_started_event_attributes.input.payloads
    return str(json.loads(payload.data)["scenario"])


def named(workflow_name: str, scenarios: str = "ABC") -> list[str]:
    """The saved histories of one workflow type (campaigns: of these scenarios only)."""
    return sorted(
        name
        for name, history in saved().items()
        if workflow_type(history) == workflow_name
        and (workflow_name != "CampaignWorkflow" or scenario(history) in scenarios)
    )


async def replay_failures(workflows: list[type], **options: Any) -> dict[str, Exception]:
    replayer = Replayer(workflows=workflows, data_converter=pydantic_data_converter, **options)
    failures = {}
    for name, history in saved().items():
        result = await replayer.replay_workflow(history, raise_on_replay_failure=False)
        if result.replay_failure is not None:
            failures[name] = result.replay_failure
    return failures


def test_the_saved_study_has_an_experiment_and_a_campaign_in_every_scenario():
    assert named("ExperimentWorkflow")
    assert {scenario(saved()[name]) for name in named("CampaignWorkflow")} == {"A", "B", "C"}
    assert len(named("ExperimentWorkflow")) + len(named("CampaignWorkflow")) == len(saved()), "no other types"


def patches(history: WorkflowHistory) -> set[str]:
    """The workflow.patched() ids a history recorded (its core_patch markers)."""
    found = set()
    for event in history.events:
        details = event.marker_recorded_event_attributes.details
        if "patch-data" in details:
            found.add(json.loads(details["patch-data"].payloads[0].data)["id"])
    return found


def test_the_saved_histories_cover_the_world_fidelity_branch_in_every_scenario():
    """The v4 histories took the ``ads-world-fidelity`` branch, so the replay below checks it; older ones did not."""
    covered = {
        scenario(saved()[name]) for name in named("CampaignWorkflow") if "ads-world-fidelity" in patches(saved()[name])
    }
    assert covered == {"A", "B", "C"}
    assert not any(
        "ads-world-fidelity" in patches(saved()[name]) for name in named("CampaignWorkflow") if name.startswith("v3-")
    )


async def test_saved_ads_histories_replay_with_the_current_code():
    assert await replay_failures([ExperimentWorkflow, CampaignWorkflow]) == {}


# --- the replayer really checks: the same histories against deliberately changed code ------------------


@workflow.defn(name="CampaignWorkflow")
class CampaignWorkflowThatWaitsFirst(CampaignWorkflow):
    """An unversioned change: the campaign now waits before its first day (one more command up front)."""

    @workflow.run
    async def run(self, spec: CampaignSpec) -> CampaignSummary:
        await workflow.sleep(timedelta(seconds=1))
        return await super().run(spec)


@workflow.defn(name="ExperimentWorkflow")
class ExperimentWorkflowInReverse(ExperimentWorkflow):
    """An unversioned change: the scenarios' campaigns start in the opposite order (other child ids)."""

    @workflow.run
    async def run(self, spec: ExperimentSpec, carry: ExperimentCarry | None = None) -> ExperimentSummary:
        spec = ExperimentSpec.model_validate(spec)
        return await super().run(spec.model_copy(update={"scenarios": tuple(reversed(spec.scenarios))}), carry)


async def test_a_changed_campaign_workflow_fails_every_campaign_history_as_nondeterministic():
    failures = await replay_failures([ExperimentWorkflow, CampaignWorkflowThatWaitsFirst])
    assert sorted(failures) == named("CampaignWorkflow")
    assert all(isinstance(error, workflow.NondeterminismError) for error in failures.values()), failures


async def test_a_changed_experiment_workflow_fails_its_history_as_nondeterministic():
    failures = await replay_failures([ExperimentWorkflowInReverse, CampaignWorkflow])
    assert sorted(failures) == named("ExperimentWorkflow")
    assert all(isinstance(error, workflow.NondeterminismError) for error in failures.values()), failures


async def test_a_changed_sim_rule_fails_the_histories_it_decides(monkeypatch: pytest.MonkeyPatch):
    """A policy change in sim/ without workflow.patched(): buyers stop looking for deals. B and C negotiated
    in their recorded days, so their histories no longer replay; A never negotiates, so it still does."""
    monkeypatch.setattr(campaign_module, "needs_deals", lambda state, day: False)
    # Unsandboxed, so the workflow runs the module patched above rather than a fresh sandboxed import.
    failures = await replay_failures(
        [ExperimentWorkflow, CampaignWorkflow], workflow_runner=UnsandboxedWorkflowRunner()
    )
    assert sorted(failures) == named("CampaignWorkflow", scenarios="BC")
    assert all(isinstance(error, workflow.NondeterminismError) for error in failures.values()), failures
