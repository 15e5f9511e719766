"""Pydantic models: every value that crosses a workflow, activity, CLI or HTTP boundary."""
