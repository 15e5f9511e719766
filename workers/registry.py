"""Task queues and what runs on each: the one place that lists every workflow and activity."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from sqlalchemy.ext.asyncio import AsyncEngine

from activities.ledger import LedgerActivities
from models.settings import Settings
from models.task_queues import TaskQueue


@dataclass(frozen=True)
class WorkerResources:
    """Long-lived clients that activities share within one worker process."""

    settings: Settings
    engine: AsyncEngine


@dataclass(frozen=True)
class QueueSpec:
    queue: TaskQueue
    workflows: Sequence[type] = ()
    activities: Callable[[WorkerResources], Sequence[Callable]] = field(default=lambda _: ())


def platform_activities(resources: WorkerResources) -> Sequence[Callable]:
    return [LedgerActivities(resources.engine).append]


QUEUES: tuple[QueueSpec, ...] = (
    QueueSpec(TaskQueue.PLATFORM, workflows=(), activities=platform_activities),
)


def workflow_types() -> list[str]:
    """Registered workflow type names, for status and visibility queries."""
    return sorted(
        getattr(workflow_class, "__temporal_workflow_definition").name
        for spec in QUEUES
        for workflow_class in spec.workflows
    )
