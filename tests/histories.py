"""Reading what a workflow's history says it ran: regular activities and local ones alike."""

from __future__ import annotations

import json

from temporalio.api.enums.v1 import EventType
from temporalio.client import WorkflowHistory

from bench.baseline import LOCAL_ACTIVITY_MARKER


def activity_calls(history: WorkflowHistory, activity_type: str) -> int:
    """How many times the workflow scheduled ``activity_type``, as a regular or as a local activity (whose type
    is inside its marker's data; its retries inside one marker count once, like a regular activity's)."""
    calls = 0
    for event in history.events:
        if event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
            calls += event.activity_task_scheduled_event_attributes.activity_type.name == activity_type
        elif event.event_type == EventType.EVENT_TYPE_MARKER_RECORDED:
            marker = event.marker_recorded_event_attributes
            if marker.marker_name == LOCAL_ACTIVITY_MARKER:
                data = json.loads(marker.details["data"].payloads[0].data)
                calls += data.get("activity_type") == activity_type
    return calls
