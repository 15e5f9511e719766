"""What `simctl status` reports (also as JSON with --json)."""

from __future__ import annotations

from pydantic import BaseModel


class QueueStatus(BaseModel):
    name: str
    workflow_pollers: int
    activity_pollers: int
    identities: list[str]


class WorkflowCount(BaseModel):
    workflow_type: str
    running: int
    closed: int


class ScenarioProgress(BaseModel):
    scenario: str
    campaign_days_reached: int
    campaign_days: int


class StudyStatus(BaseModel):
    """A running advertising study: how far each scenario's campaigns have got, in simulated days."""

    experiment_id: str
    scenarios: list[ScenarioProgress]


class StatusReport(BaseModel):
    address: str
    server_version: str
    embedded: bool
    web_ui: str
    namespace: str
    namespace_state: str
    retention_days: float
    task_queues: list[QueueStatus]
    executions_by_status: dict[str, int]
    workflows: list[WorkflowCount]
    studies: list[StudyStatus] = []
